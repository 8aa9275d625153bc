//! What the GPU test files share: the one way to get the adapter. Without one a GPU test skips,
//! saying so, unless `TUNELAB_REQUIRE_GPU` is set (scripts/test.sh sets it once the Vulkan driver
//! is installed): then a missing adapter fails the test instead of letting it pass unrun.

use tunelab::gpu::Gpu;

/// The process-wide GPU, or `None` when there is none and none is required.
pub fn gpu() -> Option<Gpu> {
    adapter_or_skip(Gpu::shared(), required())
}

/// Whether the test command says the GPU tests must run (`TUNELAB_REQUIRE_GPU`).
pub fn required() -> bool {
    std::env::var_os("TUNELAB_REQUIRE_GPU").is_some()
}

/// The rule behind [`gpu`]: an adapter is used, a missing one skips, or fails when required.
pub fn adapter_or_skip<T, E: std::fmt::Display>(found: Result<T, E>, required: bool) -> Option<T> {
    match found {
        Ok(g) => Some(g),
        Err(e) if required => panic!(
            "TUNELAB_REQUIRE_GPU is set but there is no WebGPU adapter ({e}); install \
             mesa-vulkan-drivers (lavapipe) or run on a machine with a GPU"
        ),
        Err(e) => {
            eprintln!(
                "\n*** SKIPPED: no WebGPU adapter here ({e}); install mesa-vulkan-drivers ***\n"
            );
            None
        }
    }
}
