//! The ops a dense network needs, behind one small trait, so the same model code runs on the
//! CPU reference ([`Cpu`]) and, later, on WebGPU. Buffers are the backend's own type; the
//! model reads back only what callers ask for (predictions for metrics, losses).

pub mod cpu;
pub mod gemm;

pub use cpu::Cpu;

use crate::error::Result;
use crate::ops::activations::Activation;
use crate::ops::losses::Loss;
use crate::ops::optimizers::{Optimizer, StepInfo};
use crate::ops::regularizers::Regularizer;

/// The operations of dense-network training. All matrices are row-major.
pub trait Backend: Clone + Send + 'static {
    /// A device buffer of `f32`s.
    type Buf: Clone + Send;

    /// A short name shown to users ("cpu", "webgpu (adapter name)").
    fn name(&self) -> String;
    /// A buffer holding `data`.
    fn upload(&self, data: &[f32]) -> Self::Buf;
    /// A buffer of `len` zeros.
    fn zeros(&self, len: usize) -> Self::Buf;
    /// The buffer's values on the host.
    fn read(&self, buf: &Self::Buf) -> Vec<f32>;
    /// Number of values in the buffer.
    fn len(&self, buf: &Self::Buf) -> usize;

    /// `c = op(a) * op(b) + beta * c` with op(a) m x k and op(b) k x n.
    #[allow(clippy::too_many_arguments)]
    fn matmul(
        &self,
        m: usize,
        n: usize,
        k: usize,
        a: &Self::Buf,
        trans_a: bool,
        b: &Self::Buf,
        trans_b: bool,
        beta: f32,
        c: &mut Self::Buf,
    );
    /// Adds `bias` (length `cols`) to every row of `x`.
    fn bias_add(&self, cols: usize, bias: &Self::Buf, x: &mut Self::Buf);
    /// `y = act(z)` (softmax over rows of `cols`).
    fn activation_forward(&self, act: Activation, cols: usize, z: &Self::Buf, y: &mut Self::Buf);
    /// `dz = dy * act'(z)` given `y = act(z)`.
    fn activation_backward(
        &self,
        act: Activation,
        cols: usize,
        z: &Self::Buf,
        y: &Self::Buf,
        dy: &Self::Buf,
        dz: &mut Self::Buf,
    );
    /// `out[j] = sum_i x[i, j]` (bias gradients).
    fn column_sums(&self, rows: usize, cols: usize, x: &Self::Buf, out: &mut Self::Buf);
    /// Keras's batch loss (sum_over_batch_size) of `n` samples; its gradient into `grad`.
    fn loss(
        &self,
        loss: &Loss,
        n: usize,
        y_true: &Self::Buf,
        y_pred: &Self::Buf,
        sample_weight: Option<&Self::Buf>,
        grad: Option<&mut Self::Buf>,
    ) -> Result<f32>;
    /// Inverted dropout: `mask[i]` is 0 or 1/(1-rate) from a counter-based hash of
    /// (`seed`, `counter`, i), so the same seed and step give the same mask on every backend;
    /// `y = x * mask`.
    fn dropout(
        &self,
        rate: f32,
        seed: u64,
        counter: u64,
        x: &Self::Buf,
        y: &mut Self::Buf,
        mask: &mut Self::Buf,
    );
    /// `out = a * b` elementwise.
    fn multiply(&self, a: &Self::Buf, b: &Self::Buf, out: &mut Self::Buf);
    /// Rows `idx` of `src` (rows of `cols`) into `dst`.
    fn gather_rows(&self, src: &Self::Buf, cols: usize, idx: &[usize], dst: &mut Self::Buf);
    /// The regularization penalty of `w`; adds its gradient to `grad` when given.
    fn regularize(&self, reg: &Regularizer, w: &Self::Buf, grad: Option<&mut Self::Buf>) -> f32;
    /// One optimizer step over all variables: clipping, weight decay, update.
    fn apply_gradients(
        &self,
        opt: &Optimizer,
        step: &StepInfo,
        params: &mut [Self::Buf],
        grads: &mut [Self::Buf],
        slots: &mut [Vec<Self::Buf>],
    );
}

/// A counter-based uniform in [0, 1): SplitMix64 finaliser over the mixed inputs. Cheap to
/// compute independently per element on any device.
pub fn hash_uniform(seed: u64, counter: u64, index: u64) -> f32 {
    let mut z = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(counter.wrapping_mul(0xD1B5_4A32_D192_ED03))
        .wrapping_add(index.wrapping_mul(0x94D0_49BB_1331_11EB));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 40) as f32 / (1u64 << 24) as f32
}
