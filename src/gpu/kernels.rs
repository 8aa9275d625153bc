//! One launcher per shader family: typed arguments in, a [`Launch`] out (the kernel, its
//! per-model records appended to the launch table, and the workgroup counts). A launch covers
//! every model of a group; a model without a part in it passes `None`.
//!
//! Each launcher fills the typed record of its kernel (`super::records`), whose field numbers
//! and codes the shaders take from the generated prelude.

use super::records::{
    self, BiasGradRec, ClipRec, GatherRec, GpuRecord, LogRowsRec, LossRec, MatmulRec, ReduceRec,
    SoftmaxBackRec, SoftmaxRec, UpdateRec,
};
use super::{Kernel, ALIGN};
use crate::ops::activations::Activation;
use crate::ops::losses::Loss;
use crate::ops::optimizers::{Optimizer, OptimizerKind};

pub use super::records::{activation_code, NONE, REC};
/// "The rows of this step" (NONE in the shaders), for a dimension.
pub const ROWS: u32 = NONE;

/// One dispatch: the kernel, where its records start in the table (bytes), and the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Launch {
    pub kernel: Kernel,
    pub table_offset: u64,
    pub groups: [u32; 3],
}

/// The launch table being built: `models` records per launch, each launch 256-byte aligned.
#[derive(Debug, Clone)]
pub struct Table {
    pub models: usize,
    pub words: Vec<u32>,
}

/// A record under construction.
#[derive(Debug, Clone, Copy)]
pub struct Record(pub [u32; REC]);

impl Record {
    pub fn new() -> Self {
        let mut r = [0u32; REC];
        r[records::REC_ENABLED] = 1;
        Record(r)
    }
    /// A typed record's words, enabled.
    pub fn of<R: GpuRecord>(rec: &R) -> Self {
        let mut r = Self::new();
        for (i, w) in rec
            .words()
            .into_iter()
            .enumerate()
            .take(records::REC_ENABLED)
        {
            r.0[i] = w;
        }
        r
    }
    pub fn u(mut self, i: usize, v: u32) -> Self {
        self.0[i] = v;
        self
    }
    pub fn f(mut self, i: usize, v: f32) -> Self {
        self.0[i] = v.to_bits();
        self
    }
}

impl Default for Record {
    fn default() -> Self {
        Self::new()
    }
}

impl Table {
    pub fn new(models: usize) -> Self {
        Table {
            models,
            words: Vec::new(),
        }
    }

    /// Bytes one launch's records take (what a bind group covers).
    pub fn launch_bytes(&self) -> u64 {
        (self.models * REC * 4) as u64
    }

    fn push(&mut self, kernel: Kernel, records: Vec<Option<Record>>, groups: [u32; 3]) -> Launch {
        let align_words = (ALIGN / 4) as usize;
        let start = self.words.len().div_ceil(align_words) * align_words;
        self.words.resize(start, 0);
        for r in records {
            match r {
                Some(r) => self.words.extend_from_slice(&r.0),
                None => self.words.extend_from_slice(&[0u32; REC]),
            }
        }
        Launch {
            kernel,
            table_offset: (start * 4) as u64,
            groups: [groups[0].max(1), groups[1].max(1), self.models as u32],
        }
    }
}

fn ceil(a: usize, b: usize) -> u32 {
    a.div_ceil(b).max(1) as u32
}

/// A dimension: fixed, or the step's row count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    Fixed(usize),
    /// The step's rows; at most `max` (for the grid).
    Rows {
        max: usize,
    },
}

impl Dim {
    fn word(self) -> u32 {
        match self {
            Dim::Fixed(v) => v as u32,
            Dim::Rows { .. } => ROWS,
        }
    }
    fn max(self) -> usize {
        match self {
            Dim::Fixed(v) => v,
            Dim::Rows { max } => max,
        }
    }
}

/// A matrix operand in the arena: element (i, p) is at `off + i * rs + p * cs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operand {
    pub off: usize,
    pub rs: usize,
    pub cs: usize,
}

impl Operand {
    /// A row-major matrix with `cols` columns, used as is.
    pub fn plain(off: usize, cols: usize) -> Self {
        Operand {
            off,
            rs: cols,
            cs: 1,
        }
    }
    /// A row-major matrix with `cols` columns, used transposed.
    pub fn transposed(off: usize, cols: usize) -> Self {
        Operand {
            off,
            rs: 1,
            cs: cols,
        }
    }
}

/// Dropout inside an epilogue or gather: rate and the layer's seed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Drop {
    pub rate: f32,
    pub seed: u64,
}

/// What a matmul does with each result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Epilogue {
    /// z = acc + bias -> z_off; y = dropout(act(z)) -> c.
    Forward {
        bias: Option<usize>,
        act: Activation,
        z_off: Option<usize>,
        dropout: Option<Drop>,
    },
    /// acc + the regularizer's gradient of the weights at `w_off`.
    KernelGrad { w_off: usize, l1: f32, l2: f32 },
    /// acc * dropout mask * act'(z) of the layer below.
    InputGrad {
        dropout: Option<Drop>,
        below: Option<(Activation, usize)>,
    },
}

/// One model's part of a matmul: C (m x n) = op(A) (m x k) * op(B) (k x n), then the epilogue.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Matmul {
    pub m: Dim,
    pub n: usize,
    pub k: Dim,
    pub a: Operand,
    pub b: Operand,
    pub c_off: usize,
    pub epilogue: Epilogue,
}

/// A dropout's words: rate, seed low and high (rate 0: none).
fn drop_words(d: Option<Drop>) -> (f32, u32, u32) {
    match d {
        Some(d) => (d.rate, d.seed as u32, (d.seed >> 32) as u32),
        None => (0.0, 0, 0),
    }
}

/// matmul.wgsl
pub fn matmul(t: &mut Table, parts: &[Option<Matmul>]) -> Launch {
    let mut mmax = 1;
    let mut nmax = 1;
    let recs = parts
        .iter()
        .map(|p| {
            p.map(|p| {
                mmax = mmax.max(p.m.max());
                nmax = nmax.max(p.n);
                let mut r = MatmulRec {
                    m: p.m.word(),
                    n: p.n as u32,
                    k: p.k.word(),
                    a_off: p.a.off as u32,
                    a_rs: p.a.rs as u32,
                    a_cs: p.a.cs as u32,
                    b_off: p.b.off as u32,
                    b_rs: p.b.rs as u32,
                    b_cs: p.b.cs as u32,
                    c_off: p.c_off as u32,
                    bias_off: NONE,
                    z_off: NONE,
                    ..Default::default()
                };
                match p.epilogue {
                    Epilogue::Forward {
                        bias,
                        act,
                        z_off,
                        dropout,
                    } => {
                        r.mode = records::MM_FORWARD;
                        r.act = activation_code(act);
                        if let Some(b) = bias {
                            r.bias_off = b as u32;
                        }
                        if let Some(z) = z_off {
                            r.z_off = z as u32;
                        }
                        (r.drop_rate, r.drop_seed_lo, r.drop_seed_hi) = drop_words(dropout);
                    }
                    Epilogue::KernelGrad { w_off, l1, l2 } => {
                        r.mode = records::MM_KERNEL_GRAD;
                        (r.l1, r.l2, r.w_off) = (l1, l2, w_off as u32);
                    }
                    Epilogue::InputGrad { dropout, below } => {
                        r.mode = records::MM_INPUT_GRAD;
                        if let Some((act, z)) = below {
                            r.act = activation_code(act);
                            r.z_off = z as u32;
                        }
                        (r.drop_rate, r.drop_seed_lo, r.drop_seed_hi) = drop_words(dropout);
                    }
                }
                Record::of(&r)
            })
        })
        .collect();
    t.push(Kernel::Matmul, recs, [ceil(nmax, 32), ceil(mmax, 32), 1])
}

/// gather.wgsl `gather_rows`: `rows` (the step's) rows of `cols` from the data buffer at
/// `src_off`, picked by the index buffer at `idx_off` + the step's cursor, into `dst_off`; the
/// same rows of up to two more arrays (`also`: the targets, the sample weights) in the same
/// dispatch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gather {
    pub cols: usize,
    pub src_off: usize,
    pub dst_off: usize,
    pub idx_off: usize,
    pub dropout: Option<Drop>,
    pub also: [Option<Segment>; 2],
}

/// Another array gathered with the same rows: `cols` from `src_off` (data) to `dst_off` (arena).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    pub cols: usize,
    pub src_off: usize,
    pub dst_off: usize,
}

pub fn gather_rows(t: &mut Table, parts: &[Option<Gather>], max_rows: usize) -> Launch {
    let mut cmax = 1;
    let recs = parts
        .iter()
        .map(|p| {
            p.map(|p| {
                let (drop_rate, drop_seed_lo, drop_seed_hi) = drop_words(p.dropout);
                let seg = |s: Option<Segment>| {
                    s.map_or((0, 0, 0), |s| {
                        (s.cols as u32, s.src_off as u32, s.dst_off as u32)
                    })
                };
                let (b_cols, b_src_off, b_dst_off) = seg(p.also[0]);
                let (c_cols, c_src_off, c_dst_off) = seg(p.also[1]);
                cmax = cmax.max(p.cols + (b_cols + c_cols) as usize);
                Record::of(&GatherRec {
                    cols: p.cols as u32,
                    src_off: p.src_off as u32,
                    dst_off: p.dst_off as u32,
                    idx_off: p.idx_off as u32,
                    b_cols,
                    b_src_off,
                    b_dst_off,
                    c_cols,
                    c_src_off,
                    c_dst_off,
                    drop_rate,
                    drop_seed_lo,
                    drop_seed_hi,
                })
            })
        })
        .collect();
    t.push(
        Kernel::GatherRows,
        recs,
        [ceil(cmax, 64), max_rows.max(1) as u32, 1],
    )
}

/// gather.wgsl `log_rows`: the step's rows of `cols` at `src_off` to `dst_off` + cursor rows.
pub fn log_rows(t: &mut Table, parts: &[Option<(usize, usize, usize)>], max_rows: usize) -> Launch {
    let mut cmax = 1;
    let recs = parts
        .iter()
        .map(|p| {
            p.map(|(cols, src, dst)| {
                cmax = cmax.max(cols);
                Record::of(&LogRowsRec {
                    cols: cols as u32,
                    src_off: src as u32,
                    dst_off: dst as u32,
                })
            })
        })
        .collect();
    t.push(
        Kernel::LogRows,
        recs,
        [ceil(cmax, 64), max_rows.max(1) as u32, 1],
    )
}

/// activation.wgsl `softmax_rows` (cols, z_off, y_off) and `softmax_backward` (cols, y_off,
/// g_off): one invocation per row.
pub fn softmax(
    t: &mut Table,
    backward: bool,
    parts: &[Option<(usize, usize, usize)>],
    max_rows: usize,
) -> Launch {
    let recs = parts
        .iter()
        .map(|p| {
            p.map(|(cols, a, b)| {
                let (cols, a, b) = (cols as u32, a as u32, b as u32);
                if backward {
                    Record::of(&SoftmaxBackRec {
                        cols,
                        y_off: a,
                        g_off: b,
                    })
                } else {
                    Record::of(&SoftmaxRec {
                        cols,
                        z_off: a,
                        y_off: b,
                    })
                }
            })
        })
        .collect();
    let kernel = if backward {
        Kernel::SoftmaxBackward
    } else {
        Kernel::SoftmaxRows
    };
    t.push(kernel, recs, [ceil(max_rows, 64), 1, 1])
}

/// loss.wgsl: one model's loss gradient at the output.
#[derive(Debug, Clone, PartialEq)]
pub struct LossGrad {
    pub cols: usize,
    pub yp_off: usize,
    pub z_off: usize,
    pub yt_off: usize,
    pub target_cols: usize,
    pub w_off: Option<usize>,
    pub dz_off: usize,
    pub loss: Loss,
    pub act: Activation,
    /// Where the row's predictions are also logged (the epoch log, at the step's cursor).
    pub log_off: Option<usize>,
}

pub fn loss_grad(t: &mut Table, parts: &[Option<LossGrad>], max_rows: usize) -> Launch {
    let recs = parts
        .iter()
        .map(|p| {
            p.as_ref().map(|p| {
                Record::of(&LossRec {
                    cols: p.cols as u32,
                    yp_off: p.yp_off as u32,
                    z_off: p.z_off as u32,
                    yt_off: p.yt_off as u32,
                    target_cols: p.target_cols as u32,
                    w_off: p.w_off.map_or(NONE, |w| w as u32),
                    dz_off: p.dz_off as u32,
                    kind: records::loss_code(p.loss.kind),
                    from_logits: p.loss.from_logits as u32,
                    label_smoothing: p.loss.label_smoothing,
                    delta: p.loss.delta,
                    act: activation_code(p.act),
                    log_off: p.log_off.map_or(NONE, |o| o as u32),
                })
            })
        })
        .collect();
    t.push(Kernel::LossGrad, recs, [ceil(max_rows, 64), 1, 1])
}

/// One model's bias gradient: (cols, dz_off, out_off, b_off, l1, l2).
pub type BiasGrad = (usize, usize, usize, usize, f32, f32);

/// reduce.wgsl `bias_grad`.
pub fn bias_grad(t: &mut Table, parts: &[Option<BiasGrad>]) -> Launch {
    let mut cmax = 1;
    let recs = parts
        .iter()
        .map(|p| {
            p.map(|(cols, dz, out, b, l1, l2)| {
                cmax = cmax.max(cols);
                Record::of(&BiasGradRec {
                    cols: cols as u32,
                    dz_off: dz as u32,
                    out_off: out as u32,
                    b_off: b as u32,
                    l1,
                    l2,
                })
            })
        })
        .collect();
    t.push(Kernel::BiasGrad, recs, [ceil(cmax, 64), 1, 1])
}

/// A tensor in a reduction: offset, length, l1, l2.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Tensor {
    pub off: usize,
    pub len: usize,
    pub l1: f32,
    pub l2: f32,
}

/// A layer's two tensors (kernel, bias) reduced into `out_off + 2 * layer + t`
/// (penalty: plus the step's log slot * `per_step`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerReduce {
    pub kernel: Tensor,
    pub bias: Tensor,
    pub out_off: usize,
    pub layer: usize,
    pub per_step: usize,
}

/// reduce.wgsl `penalty` (squares = false) or `grad_sq_norm` (squares = true).
pub fn reduce_layer(t: &mut Table, squares: bool, parts: &[Option<LayerReduce>]) -> Launch {
    let recs = parts
        .iter()
        .map(|p| {
            p.map(|p| {
                Record::of(&ReduceRec {
                    kernel_off: p.kernel.off as u32,
                    kernel_len: p.kernel.len as u32,
                    kernel_l1: p.kernel.l1,
                    kernel_l2: p.kernel.l2,
                    bias_off: p.bias.off as u32,
                    bias_len: p.bias.len as u32,
                    bias_l1: p.bias.l1,
                    bias_l2: p.bias.l2,
                    out_off: p.out_off as u32,
                    layer: p.layer as u32,
                    per_step: p.per_step as u32,
                })
            })
        })
        .collect();
    let kernel = if squares {
        Kernel::GradSqNorm
    } else {
        Kernel::Penalty
    };
    t.push(kernel, recs, [2, 1, 1])
}

/// reduce.wgsl `clip_grads`: scale one layer's gradients (kernel at `kernel.off`, bias at
/// `bias.off`) by clipnorm (per tensor) or global_clipnorm (per model).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clip {
    pub kernel: Tensor,
    pub bias: Tensor,
    pub norms_off: usize,
    pub tensors: usize,
    pub global: bool,
    pub layer: usize,
    pub c: f32,
}

pub fn clip_grads(t: &mut Table, parts: &[Option<Clip>]) -> Launch {
    let mut lmax = 1;
    let recs = parts
        .iter()
        .map(|p| {
            p.map(|p| {
                lmax = lmax.max(p.kernel.len).max(p.bias.len);
                Record::of(&ClipRec {
                    kernel_off: p.kernel.off as u32,
                    kernel_len: p.kernel.len as u32,
                    bias_off: p.bias.off as u32,
                    bias_len: p.bias.len as u32,
                    norms_off: p.norms_off as u32,
                    tensors: p.tensors as u32,
                    mode: if p.global {
                        records::CLIP_GLOBAL
                    } else {
                        records::CLIP_PER_TENSOR
                    },
                    layer: p.layer as u32,
                    c: p.c,
                })
            })
        })
        .collect();
    t.push(Kernel::ClipGrads, recs, [ceil(lmax, 64), 2, 1])
}

/// One model's optimizer update over its `count` parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub count: usize,
    pub params_off: usize,
    pub grads_off: usize,
    pub slots: [usize; 3],
    pub optimizer: Optimizer,
}

/// The optimizer kernel for `kind`.
pub fn optimizer_kernel(kind: OptimizerKind) -> Kernel {
    use OptimizerKind::*;
    match kind {
        Sgd => Kernel::Sgd,
        Adam | Adamw => Kernel::Adam,
        Rmsprop => Kernel::Rmsprop,
        Adagrad => Kernel::Adagrad,
        Adadelta => Kernel::Adadelta,
        Adamax => Kernel::Adamax,
        Nadam => Kernel::Nadam,
    }
}

/// optimizer.wgsl: one launch of `kernel` for the models whose optimizer uses it.
pub fn update(t: &mut Table, kernel: Kernel, parts: &[Option<Update>]) -> Launch {
    let mut nmax = 1;
    let recs = parts
        .iter()
        .map(|p| {
            p.as_ref()
                .filter(|p| optimizer_kernel(p.optimizer.kind) == kernel)
                .map(|p| {
                    nmax = nmax.max(p.count);
                    let o = &p.optimizer;
                    let flag = |on: bool, f: u32| if on { f } else { 0 };
                    Record::of(&UpdateRec {
                        count: p.count as u32,
                        params_off: p.params_off as u32,
                        grads_off: p.grads_off as u32,
                        slot0: p.slots[0] as u32,
                        slot1: p.slots[1] as u32,
                        slot2: p.slots[2] as u32,
                        flags: flag(o.nesterov, records::OPT_NESTEROV)
                            | flag(o.amsgrad, records::OPT_AMSGRAD)
                            | flag(o.centered, records::OPT_CENTERED),
                        momentum: o.momentum,
                        beta_1: o.beta_1,
                        beta_2: o.beta_2,
                        epsilon: o.epsilon,
                        rho: o.rho,
                        weight_decay: o.weight_decay.unwrap_or(0.0),
                        clipvalue: o.clipvalue.unwrap_or(0.0),
                    })
                })
        })
        .collect();
    let groups = nmax.div_ceil(64);
    let (gx, gy) = if groups > 65535 {
        (65535, groups.div_ceil(65535))
    } else {
        (groups, 1)
    };
    t.push(kernel, recs, [gx as u32, gy as u32, 1])
}
