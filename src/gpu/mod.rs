//! The WebGPU path: wgpu with the WGSL kernels of `shaders/`, natively (Vulkan, Metal, DX12)
//! and in the browser (WebGPU) from the same code.
//!
//! Shape: [`Gpu`] owns the device, one bind group layout and every pipeline (built once, on
//! first use, and reused). [`kernels`] has one launcher per shader family: it turns typed
//! arguments into the per-model records a dispatch reads. [`group`] trains a *group* of K
//! models at once, GPU-resident: data uploaded once per fit, an epoch recorded into one
//! command buffer, and only the epoch's predictions and penalties read back, asynchronously.
//! A single model is a group of one.
//!
//! Everything that waits for the GPU is `async`; native callers block with
//! [`crate::runtime::block_on`].

pub mod group;
pub mod kernels;
pub mod records;

use crate::error::{Error, Result};
use crate::runtime::oneshot;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Where training runs: `--device cpu|webgpu|auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    /// The CPU path (always available).
    #[default]
    Cpu,
    /// WebGPU / wgpu; an error when no adapter is there.
    Webgpu,
    /// A hardware GPU when there is one, else the CPU, saying why.
    Auto,
}

impl Device {
    /// Parses `"cpu"`, `"webgpu"` (or `"gpu"`), `"auto"`.
    pub fn parse(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "cpu" => Ok(Device::Cpu),
            "webgpu" | "gpu" | "wgpu" => Ok(Device::Webgpu),
            "auto" => Ok(Device::Auto),
            _ => Err(Error::invalid("device", s, "one of cpu, webgpu, auto")),
        }
    }

    /// The name as the CLI and JSON write it.
    pub fn name(self) -> &'static str {
        match self {
            Device::Cpu => "cpu",
            Device::Webgpu => "webgpu",
            Device::Auto => "auto",
        }
    }
}

/// The outcome of resolving a [`Device`]: the GPU to use, or the CPU and why.
#[derive(Clone)]
pub enum Resolved {
    Gpu(Gpu),
    Cpu { reason: Option<String> },
}

impl Resolved {
    /// What the user is told: `"webgpu (llvmpipe, vulkan)"` or `"cpu"`.
    pub fn label(&self) -> String {
        match self {
            Resolved::Gpu(g) => g.label(),
            Resolved::Cpu { .. } => "cpu".into(),
        }
    }
}

/// The kernels, by shader file and entry point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// A matrix product in the variant that suits the adapter: [`Kernel::MatmulTiled`] on a
    /// GPU, [`Kernel::MatmulDirect`] on an adapter that runs shaders on the CPU.
    Matmul,
    /// Tiles staged in workgroup memory (what a GPU wants).
    MatmulTiled,
    /// Each invocation reads its operands from the arena, with no workgroup memory and no
    /// barriers (what SwiftShader and llvmpipe want: they emulate barriers at a high price).
    MatmulDirect,
    GatherRows,
    LogRows,
    SoftmaxRows,
    SoftmaxBackward,
    LossGrad,
    BiasGrad,
    Penalty,
    GradSqNorm,
    ClipGrads,
    Sgd,
    Adam,
    Rmsprop,
    Adagrad,
    Adadelta,
    Adamax,
    Nadam,
}

const COMMON: &str = include_str!("../../shaders/common.wgsl");
const MATMUL: &str = include_str!("../../shaders/matmul.wgsl");
const GATHER: &str = include_str!("../../shaders/gather.wgsl");
const ACTIVATION: &str = include_str!("../../shaders/activation.wgsl");
const LOSS: &str = include_str!("../../shaders/loss.wgsl");
const REDUCE: &str = include_str!("../../shaders/reduce.wgsl");
const OPTIMIZER: &str = include_str!("../../shaders/optimizer.wgsl");
/// Every shader file, by name (the record test reads them).
#[cfg(test)]
const SHADERS: [(&str, &str); 7] = [
    ("common.wgsl", COMMON),
    ("matmul.wgsl", MATMUL),
    ("gather.wgsl", GATHER),
    ("activation.wgsl", ACTIVATION),
    ("loss.wgsl", LOSS),
    ("reduce.wgsl", REDUCE),
    ("optimizer.wgsl", OPTIMIZER),
];

impl Kernel {
    /// (shader family, source, entry point)
    fn source(self) -> (&'static str, &'static str, &'static str) {
        use Kernel::*;
        match self {
            Matmul | MatmulTiled => ("matmul", MATMUL, "matmul"),
            MatmulDirect => ("matmul", MATMUL, "matmul_direct"),
            GatherRows => ("gather", GATHER, "gather_rows"),
            LogRows => ("gather", GATHER, "log_rows"),
            SoftmaxRows => ("activation", ACTIVATION, "softmax_rows"),
            SoftmaxBackward => ("activation", ACTIVATION, "softmax_backward"),
            LossGrad => ("loss", LOSS, "loss_grad"),
            BiasGrad => ("reduce", REDUCE, "bias_grad"),
            Penalty => ("reduce", REDUCE, "penalty"),
            GradSqNorm => ("reduce", REDUCE, "grad_sq_norm"),
            ClipGrads => ("reduce", REDUCE, "clip_grads"),
            Sgd => ("optimizer", OPTIMIZER, "sgd"),
            Adam => ("optimizer", OPTIMIZER, "adam"),
            Rmsprop => ("optimizer", OPTIMIZER, "rmsprop"),
            Adagrad => ("optimizer", OPTIMIZER, "adagrad"),
            Adadelta => ("optimizer", OPTIMIZER, "adadelta"),
            Adamax => ("optimizer", OPTIMIZER, "adamax"),
            Nadam => ("optimizer", OPTIMIZER, "nadam"),
        }
    }
}

/// A wgpu device with tunelab's pipelines. Cheap to clone (shared).
#[derive(Clone)]
pub struct Gpu {
    inner: Arc<Inner>,
}

struct Inner {
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    limits: wgpu::Limits,
    layout: wgpu::BindGroupLayout,
    pipeline_layout: wgpu::PipelineLayout,
    modules: Mutex<HashMap<&'static str, wgpu::ShaderModule>>,
    pipelines: Mutex<HashMap<Kernel, wgpu::ComputePipeline>>,
    lost: Arc<Mutex<Option<String>>>,
    /// Test hook: report the device as lost at the next check.
    fail_next: AtomicBool,
    /// The adapter came from a forced fallback request (a software adapter).
    fallback: bool,
    /// The most models one group has held (how much batching happened).
    largest_group: AtomicUsize,
}

/// Bytes between consecutive launch tables and step records (WebGPU's storage offset alignment).
pub const ALIGN: u64 = 256;

/// GPU buffers the engine holds now, in this process (or this browser worker).
static LIVE_BUFFERS: AtomicUsize = AtomicUsize::new(0);

/// How many GPU buffers the engine holds right now: flat across a long search when every
/// trial gives its buffers back (the reliability benchmark watches it).
pub fn live_buffers() -> usize {
    LIVE_BUFFERS.load(Ordering::SeqCst)
}

/// A wgpu buffer the engine counts while it lives (see [`live_buffers`]).
pub struct Buffer(wgpu::Buffer);

impl Buffer {
    fn new(device: &wgpu::Device, desc: &wgpu::BufferDescriptor<'_>) -> Buffer {
        LIVE_BUFFERS.fetch_add(1, Ordering::SeqCst);
        Buffer(device.create_buffer(desc))
    }
}

impl std::ops::Deref for Buffer {
    type Target = wgpu::Buffer;
    fn deref(&self) -> &wgpu::Buffer {
        &self.0
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        LIVE_BUFFERS.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Gpu {
    /// Opens the first adapter wgpu offers (high performance preferred).
    // In the browser wgpu's handles are neither Send nor Sync, and there is one thread.
    #[allow(clippy::arc_with_non_send_sync)]
    pub async fn new_async() -> Result<Gpu> {
        #[cfg(target_arch = "wasm32")]
        let backends = wgpu::Backends::BROWSER_WEBGPU;
        #[cfg(not(target_arch = "wasm32"))]
        let backends = wgpu::Backends::PRIMARY;
        let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
        desc.backends = backends;
        let instance = wgpu::Instance::new(desc);
        let request = |fallback: bool| {
            instance.request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                force_fallback_adapter: fallback,
                ..Default::default()
            })
        };
        // A browser without a GPU may offer only its software (fallback) adapter.
        let (adapter, fallback) = match request(false).await {
            Ok(a) => (a, false),
            Err(first) => (
                request(true)
                    .await
                    .map_err(|_| Error::Device(format!("no WebGPU adapter: {first}")))?,
                true,
            ),
        };
        let info = adapter.get_info();
        let alimits = adapter.limits();
        // WebGPU's default limits (every adapter offers them), with the largest buffers the
        // adapter allows: a group of models lives in one arena buffer.
        let limits = wgpu::Limits {
            max_storage_buffer_binding_size: alimits.max_storage_buffer_binding_size,
            max_buffer_size: alimits.max_buffer_size,
            ..Default::default()
        };
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("tunelab"),
                required_features: wgpu::Features::empty(),
                required_limits: limits.clone(),
                ..Default::default()
            })
            .await
            .map_err(|e| Error::Device(format!("could not open the GPU device: {e}")))?;
        let lost: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
        let flag = lost.clone();
        device.set_device_lost_callback(move |reason, msg| {
            if let Ok(mut l) = flag.lock() {
                *l = Some(format!("{reason:?}: {msg}"));
            }
        });
        let storage = |binding: u32, read_only: bool, dynamic: bool| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Storage { read_only },
                has_dynamic_offset: dynamic,
                min_binding_size: None,
            },
            count: None,
        };
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("tunelab"),
            entries: &[
                storage(0, false, false),
                storage(1, true, false),
                storage(2, true, false),
                storage(3, true, false),
                storage(4, true, true),
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("tunelab"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        Ok(Gpu {
            inner: Arc::new(Inner {
                device,
                queue,
                info,
                limits,
                layout,
                pipeline_layout,
                modules: Mutex::new(HashMap::new()),
                pipelines: Mutex::new(HashMap::new()),
                lost,
                fail_next: AtomicBool::new(false),
                fallback,
                largest_group: AtomicUsize::new(0),
            }),
        })
    }

    /// [`Gpu::new_async`], blocking (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new() -> Result<Gpu> {
        crate::runtime::block_on(Self::new_async())
    }

    /// The process-wide GPU, opened on first use (native). Errors say why there is none.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn shared() -> Result<Gpu> {
        static SHARED: std::sync::OnceLock<Result<Gpu>> = std::sync::OnceLock::new();
        SHARED.get_or_init(Gpu::new).clone()
    }

    /// The page's GPU, once [`Gpu::init_shared`] has opened it (browser).
    #[cfg(target_arch = "wasm32")]
    pub fn shared() -> Result<Gpu> {
        SHARED.with(|s| {
            s.borrow().clone().unwrap_or_else(|| {
                Err(Error::Device(
                    "WebGPU is not initialised yet: await initGpu() first".into(),
                ))
            })
        })
    }

    /// Opens the page's GPU (browser); later [`Gpu::shared`] calls return it.
    #[cfg(target_arch = "wasm32")]
    pub async fn init_shared() -> Result<Gpu> {
        if let Some(r) = SHARED.with(|s| s.borrow().clone()) {
            return r;
        }
        let r = Gpu::new_async().await;
        SHARED.with(|s| *s.borrow_mut() = Some(r.clone()));
        r
    }

    /// The adapter's name, backend and type.
    pub fn info(&self) -> &wgpu::AdapterInfo {
        &self.inner.info
    }

    /// Whether the adapter is a software rasteriser (llvmpipe, SwiftShader, WARP).
    pub fn is_software(&self) -> bool {
        self.inner.fallback || self.inner.info.device_type == wgpu::DeviceType::Cpu
    }

    /// `"webgpu (NVIDIA H100, vulkan)"`.
    pub fn label(&self) -> String {
        let name = match (self.inner.info.name.as_str(), self.inner.fallback) {
            ("", true) => "the browser's software adapter",
            ("", false) => "the browser's adapter",
            (n, _) => n,
        };
        format!("webgpu ({name}, {})", self.inner.info.backend.to_str())
    }

    /// The largest buffer one binding may cover, in bytes.
    pub fn max_binding(&self) -> u64 {
        (self.inner.limits.max_storage_buffer_binding_size).min(self.inner.limits.max_buffer_size)
    }

    pub(crate) fn device(&self) -> &wgpu::Device {
        &self.inner.device
    }

    pub(crate) fn queue(&self) -> &wgpu::Queue {
        &self.inner.queue
    }

    pub(crate) fn layout(&self) -> &wgpu::BindGroupLayout {
        &self.inner.layout
    }

    /// The most models a group on this GPU has trained at once.
    pub fn largest_group(&self) -> usize {
        self.inner.largest_group.load(Ordering::SeqCst)
    }

    pub(crate) fn note_group(&self, k: usize) {
        self.inner.largest_group.fetch_max(k, Ordering::SeqCst);
    }

    /// Test hook: the next [`Gpu::check`] reports the device lost, as when a driver resets.
    pub fn simulate_loss(&self) {
        self.inner.fail_next.store(true, Ordering::SeqCst);
    }

    /// An error when the device was lost.
    pub fn check(&self) -> Result<()> {
        if self.inner.fail_next.swap(false, Ordering::SeqCst) {
            return Err(Error::Device("the GPU device was lost (simulated)".into()));
        }
        if let Some(m) = self.inner.lost.lock().ok().and_then(|l| l.clone()) {
            return Err(Error::Device(format!("the GPU device was lost ({m})")));
        }
        Ok(())
    }

    /// The compute pipeline of `kernel`, compiled on first use.
    pub(crate) fn pipeline(&self, kernel: Kernel) -> wgpu::ComputePipeline {
        let mut pipes = self
            .inner
            .pipelines
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let kernel = match kernel {
            Kernel::Matmul if self.is_software() => Kernel::MatmulDirect,
            Kernel::Matmul => Kernel::MatmulTiled,
            k => k,
        };
        if let Some(p) = pipes.get(&kernel) {
            return p.clone();
        }
        let (family, src, entry) = kernel.source();
        let module = {
            let mut mods = self.inner.modules.lock().unwrap_or_else(|e| e.into_inner());
            mods.entry(family)
                .or_insert_with(|| {
                    let code = format!("{}\n{COMMON}\n{src}", records::wgsl_prelude());
                    self.inner
                        .device
                        .create_shader_module(wgpu::ShaderModuleDescriptor {
                            label: Some(family),
                            source: wgpu::ShaderSource::Wgsl(code.into()),
                        })
                })
                .clone()
        };
        let p = self
            .inner
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout: Some(&self.inner.pipeline_layout),
                module: &module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            });
        pipes.insert(kernel, p.clone());
        p
    }

    /// A storage buffer of `bytes` (at least 4), copyable both ways.
    pub(crate) fn buffer(&self, label: &str, bytes: u64) -> Buffer {
        Buffer::new(
            &self.inner.device,
            &wgpu::BufferDescriptor {
                label: Some(label),
                size: bytes.max(16).div_ceil(4) * 4,
                usage: wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_DST
                    | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            },
        )
    }

    /// Reads `regions` (offset, length in f32s) of `buf`, in one copy and one map.
    pub async fn read(&self, buf: &wgpu::Buffer, regions: &[(u64, u64)]) -> Result<Vec<Vec<f32>>> {
        self.check()?;
        let total: u64 = regions.iter().map(|r| r.1).sum();
        if total == 0 {
            return Ok(regions.iter().map(|_| Vec::new()).collect());
        }
        let staging = Buffer::new(
            &self.inner.device,
            &wgpu::BufferDescriptor {
                label: Some("readback"),
                size: total * 4,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            },
        );
        let mut enc = self
            .inner
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        let mut at = 0;
        for &(off, len) in regions {
            if len > 0 {
                enc.copy_buffer_to_buffer(buf, off * 4, &staging, at * 4, len * 4);
            }
            at += len;
        }
        self.inner.queue.submit([enc.finish()]);
        let (tx, rx) = oneshot();
        staging.map_async(wgpu::MapMode::Read, .., move |r| tx.send(r));
        #[cfg(not(target_arch = "wasm32"))]
        {
            let _ = self.inner.device.poll(wgpu::PollType::wait_indefinitely());
        }
        let mapped = rx.await;
        match mapped {
            Some(Ok(())) => {}
            _ => {
                self.check()?;
                return Err(Error::Device(
                    "reading results back from the GPU failed".into(),
                ));
            }
        }
        let out = {
            let view = staging
                .get_mapped_range(..)
                .map_err(|e| Error::Device(format!("mapping the readback buffer failed: {e}")))?;
            let all: Vec<f32> = view
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            let mut out = Vec::with_capacity(regions.len());
            let mut at = 0usize;
            for &(_, len) in regions {
                out.push(all[at..at + len as usize].to_vec());
                at += len as usize;
            }
            out
        };
        staging.unmap();
        self.check()?;
        Ok(out)
    }

    /// Uploads `data` at float offset `at` of `buf`.
    pub(crate) fn write_f32(&self, buf: &wgpu::Buffer, at: u64, data: &[f32]) {
        if !data.is_empty() {
            self.inner.queue.write_buffer(buf, at * 4, &le_bytes(data));
        }
    }

    /// Uploads `data` at byte offset `at` of `buf`.
    pub(crate) fn write_u32(&self, buf: &wgpu::Buffer, at_bytes: u64, data: &[u32]) {
        if !data.is_empty() {
            self.inner
                .queue
                .write_buffer(buf, at_bytes, &le_bytes(data));
        }
    }
}

#[cfg(target_arch = "wasm32")]
thread_local! {
    static SHARED: std::cell::RefCell<Option<Result<Gpu>>> = const { std::cell::RefCell::new(None) };
}

/// 32-bit words as the little-endian bytes WebGPU buffers hold: the words' own memory on a
/// little-endian machine (every target tunelab builds for; a data set is uploaded without a
/// copy), a converted copy elsewhere.
#[cfg(target_endian = "little")]
fn le_bytes<T: bytemuck::Pod>(words: &[T]) -> std::borrow::Cow<'_, [u8]> {
    std::borrow::Cow::Borrowed(bytemuck::cast_slice(words))
}

#[cfg(target_endian = "big")]
fn le_bytes<T: bytemuck::Pod>(words: &[T]) -> std::borrow::Cow<'_, [u8]> {
    let bytes: &[u8] = bytemuck::cast_slice(words);
    std::borrow::Cow::Owned(
        bytes
            .chunks_exact(4)
            .flat_map(|w| [w[3], w[2], w[1], w[0]])
            .collect(),
    )
}

/// Opens the browser's GPU before `resolve` needs it (a no-op natively, where opening blocks).
pub async fn prepare(device: Device) {
    #[cfg(target_arch = "wasm32")]
    if device != Device::Cpu {
        let _ = Gpu::init_shared().await;
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = device;
}

/// Resolves a device choice. `Auto` prefers a hardware GPU; a software adapter (llvmpipe,
/// SwiftShader) is slower than the CPU path, so `Auto` takes the CPU then and says so.
pub fn resolve(device: Device) -> Result<Resolved> {
    match device {
        Device::Cpu => Ok(Resolved::Cpu { reason: None }),
        Device::Webgpu => Ok(Resolved::Gpu(Gpu::shared()?)),
        Device::Auto if !hardware_possible() => Ok(Resolved::Cpu {
            reason: Some(format!(
                "this machine has no GPU device ({} absent); the CPU path",
                GPU_NODES.join(", ")
            )),
        }),
        Device::Auto => match Gpu::shared() {
            Ok(g) if g.is_software() => Ok(Resolved::Cpu {
                reason: Some(format!(
                    "the only GPU adapter is a software one ({}); the CPU path is faster",
                    g.info().name
                )),
            }),
            Ok(g) => Ok(Resolved::Gpu(g)),
            Err(e) => Ok(Resolved::Cpu {
                reason: Some(e.to_string()),
            }),
        },
    }
}

/// Device nodes through which a Linux process reaches a hardware GPU: Mesa's DRM render
/// nodes, NVIDIA's driver, WSL's GPU paravirtualisation, and the Arm/Qualcomm drivers.
#[cfg(all(target_os = "linux", not(target_arch = "wasm32")))]
const GPU_NODES: &[&str] = &[
    "/dev/dri",
    "/dev/nvidia0",
    "/dev/dxg",
    "/dev/mali0",
    "/dev/kgsl-3d0",
];
#[cfg(not(all(target_os = "linux", not(target_arch = "wasm32"))))]
const GPU_NODES: &[&str] = &[];

/// Whether a hardware GPU adapter can exist here. On Linux without any GPU device node only a
/// software adapter could answer, so `auto` takes the CPU without loading the Vulkan drivers
/// (a probe that costs ~0.1 s, more than a small search). Elsewhere: always true (probe).
pub fn hardware_possible() -> bool {
    GPU_NODES.is_empty() || GPU_NODES.iter().any(|p| std::path::Path::new(p).exists())
}
