//! Whole-fit parity of the WebGPU path against the CPU reference: the same model, data and
//! seed trained on both must give the same per-epoch losses and metrics (within 1e-3
//! relative: f32 sums in another order, over many steps) for every optimizer, and the same
//! final weights. Runs natively on whatever adapter wgpu finds (Mesa's lavapipe in CI);
//! without one every test prints why and returns.

use tunelab::data;
use tunelab::gpu::{Device, Gpu};
use tunelab::nn::*;
use tunelab::Tensor;

fn gpu() -> Option<Gpu> {
    match Gpu::shared() {
        Ok(g) => Some(g),
        Err(e) => {
            eprintln!("\n*** SKIPPED: no WebGPU adapter here ({e}); install mesa-vulkan-drivers ***\n");
            None
        }
    }
}

fn close(a: f32, b: f32, rel: f32) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-3)
}

fn assert_histories(cpu: &History, gpu: &History, rel: f32, what: &str) {
    let mut keys = cpu.keys();
    keys.sort();
    let mut gk = gpu.keys();
    gk.sort();
    assert_eq!(keys, gk, "{what}: history keys");
    for k in keys {
        let (a, b) = (cpu.get(&k).unwrap(), gpu.get(&k).unwrap());
        assert_eq!(a.len(), b.len(), "{what}: {k} length");
        // Accuracy-like metrics count samples: one prediction that flips between float
        // roundings moves them by 1/n, so they get an absolute allowance of 0.5%.
        let counted = k.contains("accuracy") || k.contains("precision") || k.contains("recall");
        for (e, (x, y)) in a.iter().zip(b).enumerate() {
            let ok = if counted { (x - y).abs() <= 0.005 } else { close(*x, *y, rel) };
            assert!(ok, "{what}: {k} epoch {e}: cpu {x} vs gpu {y}\ncpu {a:?}\ngpu {b:?}");
        }
    }
}

fn model(opt: Optimizer, loss: &str, layers: Vec<Layer>, metrics: &[&str]) -> Sequential {
    let mut m = Sequential::new().seed(11);
    for l in layers {
        m.add(l);
    }
    m.compile(opt, Loss::from_name(loss).unwrap(), metrics).unwrap();
    m
}

fn digits() -> (Tensor, Tensor) {
    let ds = data::builtin("digits", 0.0, 0).unwrap();
    let y = data::one_hot(&ds.y, Some(10)).unwrap();
    (ds.x.slice_rows(0, 600), y.slice_rows(0, 600))
}

fn both(mk: &dyn Fn() -> Sequential, x: &Tensor, y: &Tensor, args: &FitArgs) -> (History, History, Sequential, Sequential) {
    let mut c = mk();
    let hc = c.fit(x, y, args, &mut []).unwrap();
    let mut g = mk();
    g.set_device(Device::Webgpu);
    let hg = g.fit(x, y, args, &mut []).unwrap();
    assert!(g.device().starts_with("webgpu"), "{}", g.device());
    (hc, hg, c, g)
}

#[test]
fn every_optimizer_matches_the_cpu_fit() {
    if gpu().is_none() {
        return;
    }
    let (x, y) = digits();
    let args = FitArgs {
        epochs: 3,
        batch_size: Some(50),
        verbose: 0,
        validation_split: 0.2,
        ..Default::default()
    };
    for name in ["sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "adamax", "nadam"] {
        let mk = || {
            model(
                Optimizer::from_name(name).unwrap().learning_rate(0.01),
                "categorical_crossentropy",
                vec![
                    Dense::new(33).activation(Activation::Relu).into(),
                    Dense::new(10).activation(Activation::Softmax).into(),
                ],
                &["accuracy"],
            )
        };
        let (hc, hg, c, g) = both(&mk, &x, &y, &args);
        assert_histories(&hc, &hg, 2e-3, name);
        for (a, b) in c.get_weights().unwrap().iter().zip(g.get_weights().unwrap()) {
            for (p, q) in a.data().iter().zip(b.data()) {
                assert!((p - q).abs() < 2e-3, "{name}: weight {p} vs {q}");
            }
        }
    }
}
