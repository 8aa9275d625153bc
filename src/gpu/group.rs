//! GPU-resident training of a group of K dense networks that share a data set: one arena
//! buffer holds every model's weights, gradients, optimizer slots, activations and logs; each
//! dispatch covers all K models (workgroup_id.z), so K small models cost about as many
//! dispatches as one. Models may differ in depth, widths, activations, dropout, regularizers,
//! loss and optimizer; a model missing a layer simply has no record in that launch.
//!
//! The host side decides everything per step (batch rows, the per-model shuffled row ids,
//! learning rates and bias corrections, dropout counters) and writes it once per epoch; the
//! epoch is then recorded into one compute pass and submitted once. What comes back per epoch:
//! each model's predictions for every training batch (so metrics and callbacks see exactly what
//! the CPU path sees) and the regularization penalties.

use super::kernels::{self, Dim, Drop, Epilogue, Launch, Matmul, Operand, Table};
use super::{Buffer, Gpu, Kernel, ALIGN};
use crate::error::{Error, Result};
use crate::ops::activations::Activation;
use crate::ops::losses::Loss;
use crate::ops::optimizers::{Optimizer, StepInfo};
use crate::ops::regularizers::Regularizer;

/// A Dense layer as the GPU runs it (with the Dropout that follows it folded in).
#[derive(Debug, Clone, PartialEq)]
pub struct DenseSpec {
    pub units: usize,
    pub act: Activation,
    pub bias: bool,
    pub kernel_reg: Option<Regularizer>,
    pub bias_reg: Option<Regularizer>,
    pub dropout: Option<Drop>,
}

/// One model of a group.
#[derive(Debug, Clone, PartialEq)]
pub struct Net {
    pub in_w: usize,
    pub target_cols: usize,
    pub input_dropout: Option<Drop>,
    pub dense: Vec<DenseSpec>,
    pub loss: Loss,
    pub optimizer: Optimizer,
}

impl Net {
    pub fn out_w(&self) -> usize {
        self.dense.last().map_or(self.in_w, |d| d.units)
    }
    fn has_reg(&self) -> bool {
        self.dense
            .iter()
            .any(|d| d.kernel_reg.is_some() || d.bias_reg.is_some())
    }
    fn clipnorm(&self) -> Option<(f32, bool)> {
        self.optimizer
            .clipnorm
            .map(|c| (c, false))
            .or(self.optimizer.global_clipnorm.map(|c| (c, true)))
    }
    /// The width of layer `li`'s input.
    fn in_width(&self, li: usize) -> usize {
        if li == 0 {
            self.in_w
        } else {
            self.dense[li - 1].units
        }
    }

    /// Parameter count (Keras order: kernel then bias, layer by layer).
    pub fn param_count(&self) -> usize {
        let mut w = self.in_w;
        let mut n = 0;
        for d in &self.dense {
            n += w * d.units + if d.bias { d.units } else { 0 };
            w = d.units;
        }
        n
    }
}

/// Where one model's tensors are in the arena (all in f32 units).
#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub params: usize,
    pub grads: usize,
    pub slots: [usize; 3],
    pub count: usize,
    /// Per layer: kernel offset *relative to params*, bias offset (relative) if any.
    pub kernel_rel: Vec<usize>,
    pub bias_rel: Vec<Option<usize>>,
    pub x: usize,
    pub z: Vec<usize>,
    pub y: Vec<usize>,
    pub dz: Vec<usize>,
    pub yt: usize,
    pub wt: Option<usize>,
    pub train_log: usize,
    pub val_log: usize,
    pub penalty_log: usize,
    pub norms: usize,
    /// Index buffer offset of this model's epoch row ids.
    pub index: usize,
}

impl Layout {
    /// Where layer `li`'s input is: the gathered batch, or the layer below's output.
    fn input(&self, li: usize) -> usize {
        if li == 0 {
            self.x
        } else {
            self.y[li - 1]
        }
    }
}

/// The most Dense layers of any model in the group.
fn depth(nets: &[Net]) -> usize {
    nets.iter().map(|n| n.dense.len()).max().unwrap_or(0)
}

/// Bytes between consecutive step records for `k` models (8 header words, 16 per model).
fn step_stride(k: usize) -> u64 {
    (((super::records::S_HEAD + super::records::S_MODEL * k) * 4) as u64).div_ceil(ALIGN) * ALIGN
}

/// Sizes the group is built for.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// Largest batch (training or evaluation).
    pub max_rows: usize,
    /// Rows one epoch's training log holds (steps x batch size).
    pub train_rows: usize,
    /// Rows of the validation / evaluation log.
    pub val_rows: usize,
    /// Training steps per epoch (the penalty log has one more slot, for after the epoch).
    pub steps: usize,
}

/// The shared data buffer: offsets of each array (f32 units).
#[derive(Debug, Clone, Copy, Default)]
pub struct DataLayout {
    pub x: usize,
    pub y: usize,
    pub w: Option<usize>,
    pub val_x: usize,
    pub val_y: usize,
}

/// The scalars of one step for one model.
#[derive(Debug, Clone, Copy)]
pub struct ModelStep {
    pub active: bool,
    pub counter: u64,
    pub hinge_binary: bool,
    pub info: StepInfo,
}

/// One step: its rows, where its batch starts in the index run / log, and the models' scalars.
#[derive(Debug, Clone)]
pub struct StepRecord {
    pub rows: usize,
    pub cursor: usize,
    pub training: bool,
    pub log_step: usize,
    pub models: Vec<ModelStep>,
}

/// Which program a recorded step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Forward, loss gradient, backward, update (and the prediction log).
    Train,
    /// Forward only, into the validation log.
    Eval,
    /// The regularization penalty of the current weights (into the penalty log).
    Penalty,
}

/// The buffers every launch binds.
struct Buffers<'a> {
    arena: &'a wgpu::Buffer,
    data: &'a wgpu::Buffer,
    index: &'a wgpu::Buffer,
    table: &'a wgpu::Buffer,
    steps: &'a wgpu::Buffer,
    table_bytes: u64,
    step_stride: u64,
}

impl Buffers<'_> {
    fn bind(&self, gpu: &Gpu, l: Launch) -> Bound {
        fn whole(binding: u32, buffer: &wgpu::Buffer) -> wgpu::BindGroupEntry<'_> {
            wgpu::BindGroupEntry {
                binding,
                resource: buffer.as_entire_binding(),
            }
        }
        fn part(
            binding: u32,
            buffer: &wgpu::Buffer,
            offset: u64,
            size: u64,
        ) -> wgpu::BindGroupEntry<'_> {
            wgpu::BindGroupEntry {
                binding,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer,
                    offset,
                    size: std::num::NonZeroU64::new(size),
                }),
            }
        }
        let bind_group = gpu.device().create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: gpu.layout(),
            entries: &[
                whole(0, self.arena),
                whole(1, self.data),
                whole(2, self.index),
                part(3, self.table, l.table_offset, self.table_bytes),
                part(4, self.steps, 0, self.step_stride),
            ],
        });
        Bound {
            launch: l,
            bind_group,
            pipeline: gpu.pipeline(l.kernel),
        }
    }
}

/// Runs `launches` once over a given arena and returns the arena afterwards: the kernels one
/// at a time, for tests against the CPU reference.
pub async fn run_launches(
    gpu: &Gpu,
    arena: &[f32],
    data: &[f32],
    index: &[u32],
    table: &Table,
    launches: &[Launch],
    step: &StepRecord,
) -> Result<Vec<f32>> {
    let k = table.models;
    let arena_buf = gpu.buffer("arena", arena.len() as u64 * 4);
    gpu.write_f32(&arena_buf, 0, arena);
    let data_buf = gpu.buffer("data", data.len() as u64 * 4);
    gpu.write_f32(&data_buf, 0, data);
    let index_buf = gpu.buffer("index", index.len() as u64 * 4);
    gpu.write_u32(&index_buf, 0, index);
    let table_buf = gpu.buffer("table", table.words.len() as u64 * 4);
    gpu.write_u32(&table_buf, 0, &table.words);
    let step_stride = step_stride(k);
    let steps = gpu.buffer("steps", step_stride);
    let bufs = Buffers {
        arena: &arena_buf,
        data: &data_buf,
        index: &index_buf,
        table: &table_buf,
        steps: &steps,
        table_bytes: table.launch_bytes(),
        step_stride,
    };
    gpu.write_u32(&steps, 0, &step_words(step, step_stride));
    let bound: Vec<Bound> = launches.iter().map(|l| bufs.bind(gpu, *l)).collect();
    let mut enc = gpu
        .device()
        .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
    {
        let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: None,
            timestamp_writes: None,
        });
        for b in &bound {
            let g = b.launch.groups;
            pass.set_pipeline(&b.pipeline);
            pass.set_bind_group(0, &b.bind_group, &[0]);
            pass.dispatch_workgroups(g[0], g[1], g[2]);
        }
    }
    gpu.queue().submit([enc.finish()]);
    let mut out = gpu.read(&arena_buf, &[(0, arena.len() as u64)]).await?;
    Ok(out.pop().unwrap_or_default())
}

/// One step record as the shaders read it.
fn step_words(s: &StepRecord, stride: u64) -> Vec<u32> {
    use super::records::{GpuRecord, ModelStepWords, StepHead, S_HEAD, S_MODEL};
    let mut w = vec![0u32; (stride / 4) as usize];
    let head = StepHead {
        rows: s.rows as u32,
        cursor: s.cursor as u32,
        training: s.training as u32,
        log_step: s.log_step as u32,
    };
    let mut put = |at: usize, words: Vec<u32>| {
        for (i, v) in words.into_iter().enumerate() {
            if let Some(slot) = w.get_mut(at + i) {
                *slot = v;
            }
        }
    };
    put(0, head.words());
    for (m, ms) in s.models.iter().enumerate() {
        let model = ModelStepWords {
            active: ms.active as u32,
            counter_lo: ms.counter as u32,
            counter_hi: (ms.counter >> 32) as u32,
            hinge_binary: ms.hinge_binary as u32,
            lr: ms.info.lr,
            b1p: ms.info.beta_1_power,
            b2p: ms.info.beta_2_power,
            ut: ms.info.u_t,
            ut1: ms.info.u_t_1,
            uprod: ms.info.u_product_t,
        };
        put(S_HEAD + S_MODEL * m, model.words());
    }
    w
}

/// A launch with its bind group and pipeline.
struct Bound {
    launch: Launch,
    bind_group: wgpu::BindGroup,
    pipeline: wgpu::ComputePipeline,
}

/// A group of models on the GPU, ready to train.
pub struct Group {
    gpu: Gpu,
    pub nets: Vec<Net>,
    pub layouts: Vec<Layout>,
    pub sizes: Sizes,
    arena: Buffer,
    data: Buffer,
    index: Buffer,
    steps: Buffer,
    step_stride: u64,
    max_steps: usize,
    train: Vec<Bound>,
    eval: Vec<Bound>,
    penalty: Vec<Bound>,
    /// Offset of the identity row-id run in the index buffer.
    pub identity: usize,
}

fn reg_words(r: &Option<Regularizer>) -> (f32, f32) {
    r.as_ref().map_or((0.0, 0.0), |r| (r.l1, r.l2))
}

impl Group {
    /// Lays out the arena, uploads the data set and builds every launch.
    /// `data` is the data set's parts, in the order `dl` lays them out one after another
    /// (each is uploaded from where it is, not concatenated first); `max_steps` bounds the
    /// step records of one epoch (training + validation + 1).
    pub fn new(
        gpu: &Gpu,
        nets: Vec<Net>,
        data: &[&[f32]],
        dl: DataLayout,
        sizes: Sizes,
        identity_len: usize,
        max_steps: usize,
    ) -> Result<Group> {
        let k = nets.len();
        if k == 0 {
            return Err(Error::invalid("models", 0, "at least one model"));
        }
        gpu.note_group(k);
        let b = sizes.max_rows;
        let mut at = 0usize;
        let mut alloc = |n: usize| {
            let o = at;
            // keep every tensor 16-byte aligned
            at += n.div_ceil(4) * 4;
            o
        };
        let mut layouts = Vec::with_capacity(k);
        let mut index_at = identity_len;
        for net in &nets {
            let count = net.param_count();
            let mut l = Layout {
                params: alloc(count),
                grads: alloc(count),
                count,
                ..Default::default()
            };
            let nslots = net.optimizer.kind.slots();
            for s in 0..3 {
                l.slots[s] = if s < nslots { alloc(count) } else { l.params };
            }
            let mut rel = 0;
            let mut w = net.in_w;
            for d in &net.dense {
                l.kernel_rel.push(rel);
                rel += w * d.units;
                l.bias_rel.push(d.bias.then_some(rel));
                if d.bias {
                    rel += d.units;
                }
                w = d.units;
            }
            l.x = alloc(b * net.in_w);
            for d in &net.dense {
                l.z.push(alloc(b * d.units));
                l.y.push(alloc(b * d.units));
                l.dz.push(alloc(b * d.units));
            }
            l.yt = alloc(b * net.target_cols);
            l.wt = dl.w.map(|_| alloc(b));
            l.train_log = alloc(sizes.train_rows * net.out_w());
            l.val_log = alloc(sizes.val_rows * net.out_w());
            l.penalty_log = alloc((sizes.steps + 1) * 2 * net.dense.len());
            l.norms = alloc(2 * net.dense.len());
            l.index = index_at;
            index_at += sizes.train_rows;
            layouts.push(l);
        }
        let arena_bytes = (at as u64) * 4;
        let data_len: usize = data.iter().map(|p| p.len()).sum();
        if arena_bytes > gpu.max_binding() || (data_len as u64) * 4 > gpu.max_binding() {
            return Err(Error::Device(format!(
                "the group needs a {} MiB buffer; this GPU allows {} MiB per buffer",
                arena_bytes.max(data_len as u64 * 4) >> 20,
                gpu.max_binding() >> 20
            )));
        }
        if b > 65535 {
            return Err(Error::invalid(
                "batch_size",
                b,
                "at most 65535 on the GPU path",
            ));
        }
        let arena = gpu.buffer("arena", arena_bytes);
        let data_buf = gpu.buffer("data", (data_len as u64) * 4);
        let mut off = 0;
        for part in data {
            gpu.write_f32(&data_buf, off as u64, part);
            off += part.len();
        }
        let index = gpu.buffer("index", (index_at as u64) * 4);
        let ident: Vec<u32> = (0..identity_len as u32).collect();
        gpu.write_u32(&index, 0, &ident);
        let step_stride = step_stride(k);
        let steps = gpu.buffer("steps", step_stride * max_steps.max(1) as u64);

        // Launches.
        let mut table = Table::new(k);
        let train = Self::train_program(&mut table, &nets, &layouts, &dl, b);
        let eval = Self::eval_program(&mut table, &nets, &layouts, &dl, b);
        let penalty = Self::penalty_program(&mut table, &nets, &layouts);
        let table_buf = gpu.buffer("table", (table.words.len() as u64) * 4);
        gpu.write_u32(&table_buf, 0, &table.words);
        let bufs = Buffers {
            arena: &arena,
            data: &data_buf,
            index: &index,
            table: &table_buf,
            steps: &steps,
            table_bytes: table.launch_bytes(),
            step_stride,
        };
        let bind = |launches: Vec<Launch>| -> Vec<Bound> {
            launches.into_iter().map(|l| bufs.bind(gpu, l)).collect()
        };
        let (train, eval, penalty) = (bind(train), bind(eval), bind(penalty));
        Ok(Group {
            gpu: gpu.clone(),
            nets,
            layouts,
            sizes,
            arena,
            data: data_buf,
            index,
            steps,
            step_stride,
            max_steps: max_steps.max(1),
            train,
            eval,
            penalty,
            identity: 0,
        })
    }

    fn forward(t: &mut Table, nets: &[Net], ls: &[Layout], b: usize, out: &mut Vec<Launch>) {
        let depth = depth(nets);
        let rows = Dim::Rows { max: b };
        for li in 0..depth {
            let parts: Vec<Option<Matmul>> = nets
                .iter()
                .zip(ls)
                .map(|(n, l)| {
                    let d = n.dense.get(li)?;
                    let in_w = n.in_width(li);
                    let input = l.input(li);
                    let softmax = d.act == Activation::Softmax;
                    Some(Matmul {
                        m: rows,
                        n: d.units,
                        k: Dim::Fixed(in_w),
                        a: Operand::plain(input, in_w),
                        b: Operand::plain(l.params + l.kernel_rel[li], d.units),
                        c_off: l.y[li],
                        epilogue: Epilogue::Forward {
                            bias: l.bias_rel[li].map(|r| l.params + r),
                            act: if softmax { Activation::Linear } else { d.act },
                            z_off: Some(l.z[li]),
                            dropout: if softmax { None } else { d.dropout },
                        },
                    })
                })
                .collect();
            out.push(kernels::matmul(t, &parts));
            let sm: Vec<Option<(usize, usize, usize)>> = nets
                .iter()
                .zip(ls)
                .map(|(n, l)| {
                    let d = n.dense.get(li)?;
                    (d.act == Activation::Softmax).then_some((d.units, l.z[li], l.y[li]))
                })
                .collect();
            if sm.iter().any(|s| s.is_some()) {
                out.push(kernels::softmax(t, false, &sm, b));
            }
        }
    }

    fn gathers(
        t: &mut Table,
        nets: &[Net],
        ls: &[Layout],
        dl: &DataLayout,
        b: usize,
        train: bool,
        out: &mut Vec<Launch>,
    ) {
        // x, and while training the targets and sample weights, in one dispatch.
        let parts: Vec<_> = nets
            .iter()
            .zip(ls)
            .map(|(n, l)| {
                let targets = train.then_some(kernels::Segment {
                    cols: n.target_cols,
                    src_off: dl.y,
                    dst_off: l.yt,
                });
                let weights = dl.w.filter(|_| train).map(|w| kernels::Segment {
                    cols: 1,
                    src_off: w,
                    dst_off: l.wt.unwrap_or(0),
                });
                Some(kernels::Gather {
                    cols: n.in_w,
                    src_off: if train { dl.x } else { dl.val_x },
                    dst_off: l.x,
                    idx_off: if train { l.index } else { 0 },
                    dropout: if train { n.input_dropout } else { None },
                    also: [targets, weights],
                })
            })
            .collect();
        out.push(kernels::gather_rows(t, &parts, b));
    }

    fn layer_tensors(
        n: &Net,
        l: &Layout,
        li: usize,
        grads: bool,
    ) -> (kernels::Tensor, kernels::Tensor) {
        let base = if grads { l.grads } else { l.params };
        let d = &n.dense[li];
        let in_w = n.in_width(li);
        let (kl1, kl2) = reg_words(&d.kernel_reg);
        let (bl1, bl2) = reg_words(&d.bias_reg);
        let kt = kernels::Tensor {
            off: base + l.kernel_rel[li],
            len: in_w * d.units,
            l1: kl1,
            l2: kl2,
        };
        let bt = match l.bias_rel[li] {
            Some(r) => kernels::Tensor {
                off: base + r,
                len: d.units,
                l1: bl1,
                l2: bl2,
            },
            None => kernels::Tensor::default(),
        };
        (kt, bt)
    }

    fn penalty_launches(t: &mut Table, nets: &[Net], ls: &[Layout], out: &mut Vec<Launch>) {
        let depth = depth(nets);
        for li in 0..depth {
            let parts: Vec<_> = nets
                .iter()
                .zip(ls)
                .map(|(n, l)| {
                    if li >= n.dense.len() || !n.has_reg() {
                        return None;
                    }
                    let (kt, bt) = Self::layer_tensors(n, l, li, false);
                    Some(kernels::LayerReduce {
                        kernel: kt,
                        bias: bt,
                        out_off: l.penalty_log,
                        layer: li,
                        per_step: 2 * n.dense.len(),
                    })
                })
                .collect();
            if parts.iter().any(|p| p.is_some()) {
                out.push(kernels::reduce_layer(t, false, &parts));
            }
        }
    }

    fn train_program(
        t: &mut Table,
        nets: &[Net],
        ls: &[Layout],
        dl: &DataLayout,
        b: usize,
    ) -> Vec<Launch> {
        let mut out = Vec::new();
        let rows = Dim::Rows { max: b };
        Self::gathers(t, nets, ls, dl, b, true, &mut out);
        Self::forward(t, nets, ls, b, &mut out);
        Self::penalty_launches(t, nets, ls, &mut out);
        let lg: Vec<_> = nets
            .iter()
            .zip(ls)
            .map(|(n, l)| {
                let last = n.dense.len().checked_sub(1)?;
                Some(kernels::LossGrad {
                    cols: n.out_w(),
                    yp_off: l.y[last],
                    z_off: l.z[last],
                    yt_off: l.yt,
                    target_cols: n.target_cols,
                    w_off: l.wt,
                    dz_off: l.dz[last],
                    loss: n.loss.clone(),
                    act: n.dense[last].act,
                    // The step's predictions go to the epoch log here, not in a dispatch of
                    // their own.
                    log_off: Some(l.train_log),
                })
            })
            .collect();
        out.push(kernels::loss_grad(t, &lg, b));
        let depth = depth(nets);
        for li in (0..depth).rev() {
            let dw: Vec<_> = nets
                .iter()
                .zip(ls)
                .map(|(n, l)| {
                    let d = n.dense.get(li)?;
                    let in_w = n.in_width(li);
                    let input = l.input(li);
                    let (l1, l2) = reg_words(&d.kernel_reg);
                    Some(Matmul {
                        m: Dim::Fixed(in_w),
                        n: d.units,
                        k: rows,
                        a: Operand::transposed(input, in_w),
                        b: Operand::plain(l.dz[li], d.units),
                        c_off: l.grads + l.kernel_rel[li],
                        epilogue: Epilogue::KernelGrad {
                            w_off: l.params + l.kernel_rel[li],
                            l1,
                            l2,
                        },
                    })
                })
                .collect();
            out.push(kernels::matmul(t, &dw));
            let bg: Vec<_> = nets
                .iter()
                .zip(ls)
                .map(|(n, l)| {
                    let d = n.dense.get(li)?;
                    let r = l.bias_rel[li]?;
                    let (l1, l2) = reg_words(&d.bias_reg);
                    Some((d.units, l.dz[li], l.grads + r, l.params + r, l1, l2))
                })
                .collect();
            if bg.iter().any(|p| p.is_some()) {
                out.push(kernels::bias_grad(t, &bg));
            }
            if li == 0 {
                continue;
            }
            let dx: Vec<_> = nets
                .iter()
                .zip(ls)
                .map(|(n, l)| {
                    let d = n.dense.get(li)?;
                    let below = &n.dense[li - 1];
                    let in_w = below.units;
                    Some(Matmul {
                        m: rows,
                        n: in_w,
                        k: Dim::Fixed(d.units),
                        a: Operand::plain(l.dz[li], d.units),
                        b: Operand::transposed(l.params + l.kernel_rel[li], d.units),
                        c_off: l.dz[li - 1],
                        epilogue: Epilogue::InputGrad {
                            dropout: below.dropout,
                            below: (below.act != Activation::Softmax)
                                .then_some((below.act, l.z[li - 1])),
                        },
                    })
                })
                .collect();
            out.push(kernels::matmul(t, &dx));
            let sb: Vec<_> = nets
                .iter()
                .zip(ls)
                .map(|(n, l)| {
                    n.dense.get(li)?;
                    let below = &n.dense[li - 1];
                    (below.act == Activation::Softmax).then_some((
                        below.units,
                        l.y[li - 1],
                        l.dz[li - 1],
                    ))
                })
                .collect();
            if sb.iter().any(|s| s.is_some()) {
                out.push(kernels::softmax(t, true, &sb, b));
            }
        }
        // Gradient clipping by norm: all norms first, then the scaling.
        if nets.iter().any(|n| n.clipnorm().is_some()) {
            for squares_pass in [true, false] {
                for li in 0..depth {
                    if squares_pass {
                        let parts: Vec<_> = nets
                            .iter()
                            .zip(ls)
                            .map(|(n, l)| {
                                n.clipnorm()?;
                                n.dense.get(li)?;
                                let (kt, bt) = Self::layer_tensors(n, l, li, true);
                                Some(kernels::LayerReduce {
                                    kernel: kt,
                                    bias: bt,
                                    out_off: l.norms,
                                    layer: li,
                                    per_step: 0,
                                })
                            })
                            .collect();
                        out.push(kernels::reduce_layer(t, true, &parts));
                    } else {
                        let parts: Vec<_> = nets
                            .iter()
                            .zip(ls)
                            .map(|(n, l)| {
                                let (c, global) = n.clipnorm()?;
                                n.dense.get(li)?;
                                let (kt, bt) = Self::layer_tensors(n, l, li, true);
                                Some(kernels::Clip {
                                    kernel: kt,
                                    bias: bt,
                                    norms_off: l.norms,
                                    tensors: 2 * n.dense.len(),
                                    global,
                                    layer: li,
                                    c,
                                })
                            })
                            .collect();
                        out.push(kernels::clip_grads(t, &parts));
                    }
                }
            }
        }
        let ups: Vec<_> = nets
            .iter()
            .zip(ls)
            .map(|(n, l)| {
                Some(kernels::Update {
                    count: l.count,
                    params_off: l.params,
                    grads_off: l.grads,
                    slots: l.slots,
                    optimizer: n.optimizer.clone(),
                })
            })
            .collect();
        let mut kinds: Vec<Kernel> = nets
            .iter()
            .map(|n| kernels::optimizer_kernel(n.optimizer.kind))
            .collect();
        kinds.dedup();
        kinds.sort_by_key(|k| *k as u32);
        kinds.dedup();
        for kind in kinds {
            out.push(kernels::update(t, kind, &ups));
        }
        out
    }

    fn eval_program(
        t: &mut Table,
        nets: &[Net],
        ls: &[Layout],
        dl: &DataLayout,
        b: usize,
    ) -> Vec<Launch> {
        let mut out = Vec::new();
        Self::gathers(t, nets, ls, dl, b, false, &mut out);
        Self::forward(t, nets, ls, b, &mut out);
        let logs: Vec<_> = nets
            .iter()
            .zip(ls)
            .map(|(n, l)| Some((n.out_w(), *l.y.last()?, l.val_log)))
            .collect();
        out.push(kernels::log_rows(t, &logs, b));
        out
    }

    fn penalty_program(t: &mut Table, nets: &[Net], ls: &[Layout]) -> Vec<Launch> {
        let mut out = Vec::new();
        Self::penalty_launches(t, nets, ls, &mut out);
        out
    }

    /// Whether any model has a regularizer (the penalty log is worth reading).
    pub fn has_penalty(&self, m: usize) -> bool {
        self.nets[m].has_reg()
    }

    /// Uploads model `m`'s parameters (flat, Keras order) and optimizer slots.
    pub fn set_params(&self, m: usize, params: &[f32], slots: &[Vec<f32>]) -> Result<()> {
        let l = &self.layouts[m];
        if params.len() != l.count {
            return Err(Error::shape("GPU parameters", &[l.count], &[params.len()]));
        }
        self.gpu.write_f32(&self.arena, l.params as u64, params);
        for (s, v) in slots
            .iter()
            .enumerate()
            .take(self.nets[m].optimizer.kind.slots())
        {
            if v.len() != l.count {
                return Err(Error::shape("GPU optimizer slot", &[l.count], &[v.len()]));
            }
            self.gpu.write_f32(&self.arena, l.slots[s] as u64, v);
        }
        Ok(())
    }

    /// Model `m`'s batch row ids for this epoch (at most `train_rows`).
    pub fn set_epoch_rows(&self, m: usize, rows: &[u32]) -> Result<()> {
        if rows.len() > self.sizes.train_rows {
            return Err(Error::state("more epoch rows than the group was sized for"));
        }
        self.gpu
            .write_u32(&self.index, (self.layouts[m].index as u64) * 4, rows);
        Ok(())
    }

    /// Writes the step records of the next submission.
    pub fn set_steps(&self, steps: &[StepRecord]) -> Result<()> {
        if steps.len() > self.max_steps {
            return Err(Error::state("more steps than the group was sized for"));
        }
        let mut words = Vec::with_capacity((self.step_stride / 4) as usize * steps.len());
        for st in steps {
            words.extend(step_words(st, self.step_stride));
        }
        self.gpu.write_u32(&self.steps, 0, &words);
        Ok(())
    }

    /// Records `(phase, step record index)` pairs into one compute pass and submits it.
    pub fn run(&self, plan: &[(Phase, usize)]) -> Result<()> {
        self.gpu.check()?;
        let dev = self.gpu.device();
        let mut enc = dev.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("epoch"),
                timestamp_writes: None,
            });
            for &(phase, s) in plan {
                let prog = match phase {
                    Phase::Train => &self.train,
                    Phase::Eval => &self.eval,
                    Phase::Penalty => &self.penalty,
                };
                let offset = (s as u64 * self.step_stride) as u32;
                for b in prog {
                    let g = b.launch.groups;
                    pass.set_pipeline(&b.pipeline);
                    pass.set_bind_group(0, &b.bind_group, &[offset]);
                    pass.dispatch_workgroups(g[0], g[1], g[2]);
                }
            }
        }
        self.gpu.queue().submit([enc.finish()]);
        Ok(())
    }

    /// Reads arena regions (offset, length).
    pub async fn read(&self, regions: &[(usize, usize)]) -> Result<Vec<Vec<f32>>> {
        let r: Vec<(u64, u64)> = regions.iter().map(|&(o, l)| (o as u64, l as u64)).collect();
        self.gpu.read(&self.arena, &r).await
    }

    /// The GPU this group runs on.
    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    /// Keeps the data buffer alive with the group.
    pub fn data_buffer(&self) -> &wgpu::Buffer {
        &self.data
    }

    /// Number of dispatches one training step records.
    pub fn dispatches_per_step(&self) -> usize {
        self.train.len()
    }
}
