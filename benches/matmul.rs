//! Single-threaded SGEMM throughput: tunelab's `sgemm` beside the `matrixmultiply` crate.
//!
//! Run with `cargo bench --bench matmul` (or `benches/matmul.sh`, which also runs the NumPy
//! peer and prints the ratios). Each shape is warmed up, then timed in several samples of
//! enough calls to last ~20 ms; the best sample counts, because on a shared machine the
//! slower ones measure the neighbours, not the code. Output: one row per shape with GFLOP/s
//! (2*m*n*k flops per call).

use std::hint::black_box;
use std::time::{Duration, Instant};
use tunelab::backend::gemm::sgemm;

/// One benchmark case: C (m x n) = op(A) (m x k) * op(B) (k x n).
struct Case {
    label: &'static str,
    m: usize,
    n: usize,
    k: usize,
    trans_a: bool,
    trans_b: bool,
}

const fn case(label: &'static str, m: usize, n: usize, k: usize, ta: bool, tb: bool) -> Case {
    Case {
        label,
        m,
        n,
        k,
        trans_a: ta,
        trans_b: tb,
    }
}

/// Square sizes, then a small and a larger MLP layer as training uses them: forward
/// `X * W`, weight gradient `X^T * dY`, input gradient `dY * W^T`. Labels are shared with
/// `benches/peers/numpy_matmul.py` so `matmul.sh` can join the two tables.
const CASES: &[Case] = &[
    case("256", 256, 256, 256, false, false),
    case("512", 512, 512, 512, false, false),
    case("1024", 1024, 1024, 1024, false, false),
    case("32x64*64x128", 32, 128, 64, false, false),
    case("T(32x64)*32x128", 64, 128, 32, true, false),
    case("32x128*T(64x128)", 32, 64, 128, false, true),
    case("128x784*784x256", 128, 256, 784, false, false),
    case("T(128x784)*128x256", 784, 256, 128, true, false),
    case("128x256*T(784x256)", 128, 784, 256, false, true),
];

/// Deterministic values in [-1, 1).
fn fill(len: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

/// Best GFLOP/s of `f` over several timed samples, after a warm-up.
fn measure(flops: f64, mut f: impl FnMut()) -> f64 {
    let warm = Instant::now();
    let mut calls = 0u32;
    while calls < 3 || warm.elapsed() < Duration::from_millis(100) {
        f();
        calls += 1;
    }
    let per_call = warm.elapsed().as_secs_f64() / calls as f64;
    let batch = ((0.02 / per_call) as u32).max(1);
    let mut best = f64::INFINITY;
    for _ in 0..15 {
        let t = Instant::now();
        for _ in 0..batch {
            f();
        }
        best = best.min(t.elapsed().as_secs_f64() / batch as f64);
    }
    flops / best / 1e9
}

fn main() {
    println!(
        "{:<20} {:>14} {:>16}",
        "size", "tunelab_GFLOPs", "matrixmult_GFLOPs"
    );
    for cs in CASES {
        let (m, n, k) = (cs.m, cs.n, cs.k);
        let a = fill(m * k, 1);
        let b = fill(k * n, 2);
        let mut c = vec![0.0f32; m * n];
        let flops = 2.0 * (m * n * k) as f64;

        let ours = measure(flops, || {
            sgemm(
                m,
                n,
                k,
                1.0,
                black_box(&a),
                cs.trans_a,
                black_box(&b),
                cs.trans_b,
                0.0,
                black_box(&mut c),
            )
        });

        // matrixmultiply takes strides, so a stored transpose is swapped strides.
        let (rsa, csa) = if cs.trans_a { (1, m) } else { (k, 1) };
        let (rsb, csb) = if cs.trans_b { (1, k) } else { (n, 1) };
        let theirs = measure(flops, || {
            // SAFETY: a, b, c hold m*k, k*n, m*n values and the strides describe exactly
            // those layouts, so every element matrixmultiply touches is in bounds.
            unsafe {
                matrixmultiply::sgemm(
                    m,
                    k,
                    n,
                    1.0,
                    black_box(a.as_ptr()),
                    rsa as isize,
                    csa as isize,
                    black_box(b.as_ptr()),
                    rsb as isize,
                    csb as isize,
                    0.0,
                    black_box(c.as_mut_ptr()),
                    n as isize,
                    1,
                )
            }
        });
        println!("{:<20} {:>14.1} {:>16.1}", cs.label, ours, theirs);
    }
}
