//! The WebGPU path beside the CPU path, in one run on one machine:
//! 1. matmul GFLOP/s per size (the tiled kernel, timed over 50 back-to-back dispatches);
//! 2. training samples/s, Adam + categorical crossentropy, after a warm-up epoch:
//!    64-128-64-10 on the built-in digits (batch 32), 784-256-128-10 on random
//!    MNIST-shaped data (batch 128), GPU vs CPU;
//! 3. a Hyperband first bracket of small MLPs (27 configurations, 1 epoch each on digits):
//!    configurations trained per second, batched into one group vs one at a time.
//!
//! Run: `cargo bench --bench gpu`. It uses the adapter wgpu picks (`WGPU_ADAPTER_NAME` can
//! choose); the report names it. Without an adapter it says so and exits.

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use std::time::Instant;
    use tunelab::gpu::group::{run_launches, ModelStep, StepRecord};
    use tunelab::gpu::kernels::{self, Dim, Epilogue, Matmul, Operand, Table};
    use tunelab::gpu::{Device, Gpu};
    use tunelab::nn::{Activation, Callback, Dense, FitArgs, Loss, Optimizer, Sequential};
    use tunelab::ops::optimizers::{Optimizer as Opt, OptimizerKind};
    use tunelab::runtime::block_on;
    use tunelab::{data, Tensor};

    fn step(rows: usize) -> StepRecord {
        StepRecord {
            rows,
            cursor: 0,
            training: false,
            log_step: 0,
            models: vec![ModelStep {
                active: true,
                counter: 0,
                hinge_binary: false,
                info: Opt::new(OptimizerKind::Sgd).step_info(0, 0.01, 1.0),
            }],
        }
    }

    fn matmul_gflops(gpu: &Gpu, n: usize) -> f64 {
        let mut rng = StdRng::seed_from_u64(n as u64);
        let mut arena: Vec<f32> = (0..2 * n * n)
            .map(|_| rng.random_range(-1.0f32..1.0))
            .collect();
        arena.extend(std::iter::repeat_n(0.0, n * n));
        let mut t = Table::new(1);
        let l = kernels::matmul(
            &mut t,
            &[Some(Matmul {
                m: Dim::Rows { max: n },
                n,
                k: Dim::Fixed(n),
                a: Operand::plain(0, n),
                b: Operand::plain(n * n, n),
                c_off: 2 * n * n,
                epilogue: Epilogue::KernelGrad {
                    w_off: 0,
                    l1: 0.0,
                    l2: 0.0,
                },
            })],
        );
        let time = |reps: usize| {
            let launches = vec![l; reps];
            let t0 = Instant::now();
            block_on(run_launches(
                gpu,
                &arena,
                &[0.0],
                &[0],
                &t,
                &launches,
                &step(n),
            ))
            .unwrap();
            t0.elapsed().as_secs_f64()
        };
        time(1); // pipelines, warm-up
        let mut best = f64::MAX;
        for _ in 0..3 {
            let one = time(1);
            let many = time(51);
            best = best.min((many - one) / 50.0);
        }
        2.0 * (n * n * n) as f64 / best / 1e9
    }

    fn model(widths: &[usize], device: Device, seed: u64) -> Sequential {
        let mut m = Sequential::new().seed(seed);
        for (i, &w) in widths.iter().enumerate() {
            let act = if i + 1 == widths.len() {
                Activation::Softmax
            } else {
                Activation::Relu
            };
            m.add(Dense::new(w).activation(act));
        }
        m.compile(
            Optimizer::from_name("adam").unwrap(),
            Loss::from_name("categorical_crossentropy").unwrap(),
            &["accuracy"],
        )
        .unwrap();
        m.set_device(device);
        m
    }

    fn samples_per_sec(
        widths: &[usize],
        device: Device,
        x: &Tensor,
        y: &Tensor,
        batch: usize,
    ) -> f64 {
        let mut m = model(widths, device, 1);
        let args = |epochs| FitArgs {
            epochs,
            batch_size: Some(batch),
            verbose: 0,
            ..Default::default()
        };
        m.fit(x, y, &args(1), &mut []).unwrap();
        let mut best = 0.0f64;
        for _ in 0..3 {
            let t = Instant::now();
            m.fit(x, y, &args(2), &mut []).unwrap();
            best = best.max(2.0 * x.rows() as f64 / t.elapsed().as_secs_f64());
        }
        best
    }

    /// 27 small MLPs as Hyperband's first bracket would draw them: 1-2 hidden layers of 8-128.
    fn bracket(device: Device) -> Vec<Sequential> {
        let mut rng = StdRng::seed_from_u64(27);
        (0..27)
            .map(|i| {
                let layers = rng.random_range(1..=2);
                let mut widths: Vec<usize> =
                    (0..layers).map(|_| 8 * rng.random_range(1..=16)).collect();
                widths.push(10);
                model(&widths, device, i)
            })
            .collect()
    }

    fn configs_per_sec(device: Device, batched: bool, x: &Tensor, y: &Tensor) -> f64 {
        let args = FitArgs {
            epochs: 1,
            batch_size: Some(32),
            verbose: 0,
            validation_split: 0.2,
            ..Default::default()
        };
        let mut best = 0.0f64;
        for _ in 0..2 {
            let mut models = bracket(device);
            let t = Instant::now();
            if batched {
                let mut refs: Vec<&mut Sequential> = models.iter_mut().collect();
                let mut cbs: Vec<&mut [&mut dyn Callback]> =
                    (0..refs.len()).map(|_| &mut [][..]).collect();
                Sequential::fit_group(&mut refs, x, y, &args, &mut cbs).unwrap();
            } else {
                for m in &mut models {
                    m.fit(x, y, &args, &mut []).unwrap();
                }
            }
            best = best.max(27.0 / t.elapsed().as_secs_f64());
        }
        best
    }

    pub fn main() {
        let gpu = match Gpu::shared() {
            Ok(g) => g,
            Err(e) => {
                println!("no GPU adapter: {e}");
                return;
            }
        };
        let info = gpu.info();
        println!(
            "adapter: {} ({:?}, {}), driver {} {}",
            info.name,
            info.device_type,
            info.backend.to_str(),
            info.driver,
            info.driver_info
        );
        println!("\nmatmul (square, f32)");
        for n in [128, 256, 512, 1024] {
            println!("  {n:5}  {:8.1} GFLOP/s", matmul_gflops(&gpu, n));
        }

        let digits = data::builtin("digits", 0.0, 0).unwrap();
        let dy = data::one_hot(&digits.y, Some(10)).unwrap();
        let n = 8192;
        let mut rng = StdRng::seed_from_u64(3);
        let mx = Tensor::new(
            vec![n, 784],
            (0..n * 784).map(|_| rng.random::<f32>()).collect(),
        )
        .unwrap();
        let labels = Tensor::new(
            vec![n, 1],
            (0..n).map(|_| rng.random_range(0..10) as f32).collect(),
        )
        .unwrap();
        let my = data::one_hot(&labels, Some(10)).unwrap();
        println!("\ntraining samples/s (Adam, categorical crossentropy)");
        for (name, widths, x, y, batch) in [
            (
                "64-128-64-10, batch 32",
                &[128usize, 64, 10][..],
                &digits.x,
                &dy,
                32,
            ),
            (
                "784-256-128-10, batch 128",
                &[256, 128, 10][..],
                &mx,
                &my,
                128,
            ),
        ] {
            let g = samples_per_sec(widths, Device::Webgpu, x, y, batch);
            let c = samples_per_sec(widths, Device::Cpu, x, y, batch);
            println!(
                "  {name:26} gpu {g:10.0}   cpu {c:10.0}   gpu/cpu {:.2}x",
                g / c
            );
        }

        println!("\nHyperband first bracket: 27 small MLPs, 1 epoch on digits, configurations/s");
        let batched = configs_per_sec(Device::Webgpu, true, &digits.x, &dy);
        let alone = configs_per_sec(Device::Webgpu, false, &digits.x, &dy);
        let cpu = configs_per_sec(Device::Cpu, false, &digits.x, &dy);
        println!("  gpu, one group of 27    {batched:8.2}");
        println!("  gpu, one at a time      {alone:8.2}");
        println!("  cpu, one at a time      {cpu:8.2}");
        println!("  batched / one at a time {:.1}x", batched / alone);
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    native::main();
}

#[cfg(target_arch = "wasm32")]
fn main() {}
