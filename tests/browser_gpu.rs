//! The WebGPU kernels in a real browser: headless Chromium (software WebGPU adapter on a
//! GPU-less machine, see webdriver.json) runs a whole fit through the browser's WebGPU, with
//! dropout, a regularizer and validation, and it must match the CPU path run in the same page.
//! Run by scripts/test.sh with wasm-bindgen-test-runner and chromedriver.
#![cfg(target_arch = "wasm32")]

use tunelab::data;
use tunelab::gpu::{Device, Gpu};
use tunelab::nn::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn model() -> Sequential {
    let mut m = Sequential::new().seed(5);
    m.add(
        Dense::new(37)
            .activation(Activation::Relu)
            .kernel_regularizer(Regularizer::l2(0.001)),
    );
    m.add(Dropout::new(0.2));
    m.add(Dense::new(10).activation(Activation::Softmax));
    m.compile(
        Optimizer::from_name("adam").unwrap().learning_rate(0.01),
        Loss::from_name("categorical_crossentropy").unwrap(),
        &["accuracy"],
    )
    .unwrap();
    m
}

#[wasm_bindgen_test]
async fn webgpu_fit_matches_cpu_in_the_browser() {
    let gpu = Gpu::init_shared()
        .await
        .expect("a WebGPU adapter in headless Chromium");
    web_sys_log(&format!("adapter: {}", gpu.label()));
    let ds = data::builtin("digits", 0.0, 0).unwrap();
    let x = ds.x.slice_rows(0, 300);
    let y = data::one_hot(&ds.y, Some(10)).unwrap().slice_rows(0, 300);
    let args = FitArgs {
        epochs: 3,
        batch_size: Some(33),
        verbose: 0,
        validation_split: 0.2,
        ..Default::default()
    };
    let mut c = model();
    let hc = c.fit_async(&x, &y, &args, &mut []).await.unwrap();
    let mut g = model();
    g.set_device(Device::Webgpu);
    let hg = g.fit_async(&x, &y, &args, &mut []).await.unwrap();
    assert!(g.device().starts_with("webgpu"), "{}", g.device());
    for key in ["loss", "val_loss"] {
        for (a, b) in hc.get(key).unwrap().iter().zip(hg.get(key).unwrap()) {
            assert!(
                (a - b).abs() <= 2e-3 * a.abs().max(1e-3),
                "{key}: cpu {a} vs webgpu {b}"
            );
        }
    }
    for (a, b) in hc
        .get("accuracy")
        .unwrap()
        .iter()
        .zip(hg.get("accuracy").unwrap())
    {
        assert!((a - b).abs() <= 0.005, "accuracy: cpu {a} vs webgpu {b}");
    }
}

fn web_sys_log(s: &str) {
    wasm_bindgen_test::console_log!("{s}");
}
