//! The CPU reference backend: plain `Vec<f32>` buffers, the blocked SIMD matmul of
//! [`super::gemm`], and scalar loops for everything else. Other backends are tested against it.

use super::{gemm, hash_uniform, Backend};
use crate::error::Result;
use crate::ops::activations::Activation;
use crate::ops::losses::Loss;
use crate::ops::optimizers::{Optimizer, StepInfo};
use crate::ops::regularizers::Regularizer;

/// The CPU backend (single-threaded; the browser runs one per Web Worker).
#[derive(Debug, Clone, Copy, Default)]
pub struct Cpu;

impl Backend for Cpu {
    type Buf = Vec<f32>;

    fn name(&self) -> String {
        "cpu".to_string()
    }
    fn upload(&self, data: &[f32]) -> Vec<f32> {
        data.to_vec()
    }
    fn zeros(&self, len: usize) -> Vec<f32> {
        vec![0.0; len]
    }
    fn read(&self, buf: &Vec<f32>) -> Vec<f32> {
        buf.clone()
    }
    fn len(&self, buf: &Vec<f32>) -> usize {
        buf.len()
    }
    fn matmul(
        &self,
        m: usize,
        n: usize,
        k: usize,
        a: &Vec<f32>,
        trans_a: bool,
        b: &Vec<f32>,
        trans_b: bool,
        beta: f32,
        c: &mut Vec<f32>,
    ) {
        gemm::sgemm(m, n, k, 1.0, a, trans_a, b, trans_b, beta, c);
    }
    fn bias_add(&self, cols: usize, bias: &Vec<f32>, x: &mut Vec<f32>) {
        for row in x.chunks_mut(cols.max(1)) {
            for (v, b) in row.iter_mut().zip(bias) {
                *v += b;
            }
        }
    }
    fn activation_forward(&self, act: Activation, cols: usize, z: &Vec<f32>, y: &mut Vec<f32>) {
        act.forward(z, y, cols);
    }
    fn activation_backward(
        &self,
        act: Activation,
        cols: usize,
        z: &Vec<f32>,
        y: &Vec<f32>,
        dy: &Vec<f32>,
        dz: &mut Vec<f32>,
    ) {
        act.backward(z, y, dy, dz, cols);
    }
    fn column_sums(&self, rows: usize, cols: usize, x: &Vec<f32>, out: &mut Vec<f32>) {
        out.iter_mut().for_each(|v| *v = 0.0);
        for row in x.chunks(cols.max(1)).take(rows) {
            for (o, v) in out.iter_mut().zip(row) {
                *o += v;
            }
        }
    }
    fn loss(
        &self,
        loss: &Loss,
        n: usize,
        y_true: &Vec<f32>,
        y_pred: &Vec<f32>,
        sample_weight: Option<&Vec<f32>>,
        grad: Option<&mut Vec<f32>>,
    ) -> Result<f32> {
        loss.batch(
            y_true,
            y_pred,
            n,
            sample_weight.map(|w| w.as_slice()),
            grad.map(|g| g.as_mut_slice()),
        )
    }
    fn dropout(
        &self,
        rate: f32,
        seed: u64,
        counter: u64,
        x: &Vec<f32>,
        y: &mut Vec<f32>,
        mask: &mut Vec<f32>,
    ) {
        let keep = 1.0 / (1.0 - rate);
        for (i, ((m, o), &v)) in mask.iter_mut().zip(y.iter_mut()).zip(x).enumerate() {
            *m = if hash_uniform(seed, counter, i as u64) >= rate {
                keep
            } else {
                0.0
            };
            *o = v * *m;
        }
    }
    fn multiply(&self, a: &Vec<f32>, b: &Vec<f32>, out: &mut Vec<f32>) {
        for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
            *o = x * y;
        }
    }
    fn gather_rows(&self, src: &Vec<f32>, cols: usize, idx: &[usize], dst: &mut Vec<f32>) {
        for (d, &i) in dst.chunks_mut(cols.max(1)).zip(idx) {
            d.copy_from_slice(&src[i * cols..(i + 1) * cols]);
        }
    }
    fn regularize(&self, reg: &Regularizer, w: &Vec<f32>, grad: Option<&mut Vec<f32>>) -> f32 {
        if let Some(g) = grad {
            reg.add_grad(w, g);
        }
        reg.penalty(w)
    }
    fn apply_gradients(
        &self,
        opt: &Optimizer,
        step: &StepInfo,
        params: &mut [Vec<f32>],
        grads: &mut [Vec<f32>],
        slots: &mut [Vec<Vec<f32>>],
    ) {
        opt.clip(grads);
        for ((w, g), s) in params.iter_mut().zip(grads.iter()).zip(slots.iter_mut()) {
            opt.update(step, w, g, s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropout_keeps_about_one_minus_rate_and_scales() {
        let cpu = Cpu;
        let x = vec![1.0; 10_000];
        let mut y = vec![0.0; 10_000];
        let mut m = vec![0.0; 10_000];
        cpu.dropout(0.3, 7, 0, &x, &mut y, &mut m);
        let kept = m.iter().filter(|&&v| v > 0.0).count() as f32 / 10_000.0;
        assert!((kept - 0.7).abs() < 0.02, "{kept}");
        assert!(y.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.7).abs() < 1e-6));
        let mut m2 = vec![0.0; 10_000];
        cpu.dropout(0.3, 7, 0, &x, &mut y, &mut m2);
        assert_eq!(m, m2, "same seed and counter give the same mask");
        cpu.dropout(0.3, 7, 1, &x, &mut y, &mut m2);
        assert_ne!(m, m2, "the next step draws a new mask");
    }

    #[test]
    fn column_sums_and_gather() {
        let cpu = Cpu;
        let x = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut out = vec![0.0; 2];
        cpu.column_sums(3, 2, &x, &mut out);
        assert_eq!(out, vec![9.0, 12.0]);
        let mut g = vec![0.0; 4];
        cpu.gather_rows(&x, 2, &[2, 0], &mut g);
        assert_eq!(g, vec![5.0, 6.0, 1.0, 2.0]);
    }
}
