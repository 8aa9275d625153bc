//! MLP training throughput (samples per second, single-threaded CPU backend), Adam,
//! categorical crossentropy, one warm-up epoch then timed epochs:
//! - 64-128-64-10 on the built-in digits, batch 32;
//! - 784-256-128-10 on random MNIST-shaped data, batch 128.
//!
//! Run: `cargo bench --bench mlp` (or `bash benches/mlp.sh` for the Keras side by side).

use std::time::Instant;
use tunelab::nn::{Activation, Dense, FitArgs, Loss, Optimizer, Sequential};
use tunelab::{data, Tensor};

fn model(widths: &[usize]) -> Sequential {
    let mut m = Sequential::new().seed(1);
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
    m
}

/// Best samples/s over `reps` timed epochs after one warm-up epoch.
fn samples_per_sec(m: &mut Sequential, x: &Tensor, y: &Tensor, batch: usize, reps: usize) -> f64 {
    let args = FitArgs {
        epochs: 1,
        batch_size: Some(batch),
        verbose: 0,
        ..Default::default()
    };
    m.fit(x, y, &args, &mut []).unwrap();
    let mut best = 0.0f64;
    for _ in 0..reps {
        let t = Instant::now();
        m.fit(x, y, &args, &mut []).unwrap();
        best = best.max(x.rows() as f64 / t.elapsed().as_secs_f64());
    }
    best
}

fn main() {
    let digits = data::builtin("digits", 0.0, 0).unwrap();
    let y = data::one_hot(&digits.y, Some(10)).unwrap();
    let mut m = model(&[128, 64, 10]);
    let a = samples_per_sec(&mut m, &digits.x, &y, 32, 5);

    let n = 8192;
    let mut state = 12345u64;
    let mut rnd = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 40) as f32 / (1u64 << 24) as f32
    };
    let x = Tensor::new(vec![n, 784], (0..n * 784).map(|_| rnd()).collect()).unwrap();
    let labels = Tensor::new(
        vec![n, 1],
        (0..n).map(|_| (rnd() * 10.0).floor().min(9.0)).collect(),
    )
    .unwrap();
    let y = data::one_hot(&labels, Some(10)).unwrap();
    let mut m = model(&[256, 128, 10]);
    let b = samples_per_sec(&mut m, &x, &y, 128, 3);

    println!("model               data               batch  tunelab samples/s");
    println!("64-128-64-10        digits (1797)         32  {a:>17.0}");
    println!("784-256-128-10      random (8192)        128  {b:>17.0}");
}
