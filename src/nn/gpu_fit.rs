//! The GPU engine of `fit` (see `fit.rs`): maps Sequential models onto a [`Group`] and trains
//! a whole epoch of every model in one submission. The host loop keeps the batch stream,
//! callbacks, metrics and History; this engine computes the optimizer's per-step scalars on
//! the host and leaves every per-sample computation to the GPU. Per epoch there is one
//! submission and one read back (the epoch's predictions and penalties, and the weights when
//! callbacks may look at them). Also `predict` / `evaluate`'s forward passes on the GPU.

use super::fit::{Engine, EpochPlan, FitArgs, FitInputs, ValidationData};
use super::model::Sequential;
use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::gpu::group::{DataLayout, DenseSpec, Group, ModelStep, Net, Phase, Sizes, StepRecord};
use crate::gpu::kernels::Drop;
use crate::gpu::Gpu;
use crate::nn::history::Logs;
use crate::nn::layers::Layer;
use crate::ops::activations::Activation;
use crate::ops::losses::LossKind;
use crate::tensor::Tensor;
use std::borrow::Cow;

impl<B: Backend> Sequential<B> {
    /// The model as the GPU runs it, or why it cannot (the caller falls back to the CPU).
    pub(super) fn gpu_net(&self, target_cols: usize) -> std::result::Result<Net, String> {
        let b = self.built.as_ref().ok_or("the model is not built")?;
        let c = self.compiled.as_ref().ok_or("the model is not compiled")?;
        let in_w: usize = b.input_shape.iter().product();
        let mut dense: Vec<DenseSpec> = Vec::new();
        let mut input_dropout = None;
        for (i, layer) in self.layers.iter().enumerate() {
            match layer {
                // The input arrives standardized (see `Sequential::normalized`).
                Layer::Flatten { .. } | Layer::Normalization(_) => {}
                Layer::Dense(d) => dense.push(DenseSpec {
                    units: d.units,
                    act: d.activation,
                    bias: d.use_bias,
                    kernel_reg: d.kernel_regularizer,
                    bias_reg: d.bias_regularizer,
                    dropout: None,
                }),
                Layer::Dropout(d) => {
                    if d.rate == 0.0 {
                        continue;
                    }
                    let drop = Drop {
                        rate: d.rate,
                        seed: d.seed.unwrap_or(self.seed) ^ ((i as u64 + 1) << 48),
                    };
                    match dense.last_mut() {
                        None if input_dropout.is_none() => input_dropout = Some(drop),
                        Some(last) if last.dropout.is_none() && last.act != Activation::Softmax => {
                            last.dropout = Some(drop)
                        }
                        _ => {
                            return Err(format!(
                                "layer {i} (Dropout) follows another Dropout or a softmax; the GPU path runs one Dropout after each Dense layer"
                            ))
                        }
                    }
                }
                Layer::Activation { activation, .. } => match dense.last_mut() {
                    Some(last) if last.act == Activation::Linear && last.dropout.is_none() => {
                        last.act = *activation
                    }
                    _ => {
                        return Err(format!(
                            "layer {i} (Activation) does not directly follow a linear Dense layer"
                        ))
                    }
                },
            }
        }
        match dense.last() {
            None => return Err("the model has no Dense layer".into()),
            Some(d) if d.dropout.is_some() => {
                return Err("a Dropout layer after the output layer".into())
            }
            _ => {}
        }
        if dense.iter().any(|d| d.units > 65535 * 32) || in_w > u32::MAX as usize / 4 {
            return Err("a layer too wide for one dispatch".into());
        }
        Ok(Net {
            in_w,
            target_cols,
            input_dropout,
            dense,
            loss: c.loss.clone(),
            optimizer: c.optimizer.clone(),
        })
    }

    /// The weights and optimizer slots, flat in Keras order.
    pub(super) fn flat_state(&self) -> Result<(Vec<f32>, Vec<Vec<f32>>)> {
        let b = self.built()?;
        let c = self.compiled()?;
        let mut params = Vec::new();
        for p in &b.params {
            params.extend(self.backend.read(p));
        }
        let nslots = c.optimizer.kind.slots();
        let mut slots = vec![Vec::with_capacity(params.len()); nslots];
        for (i, p) in b.params.iter().enumerate() {
            let len = self.backend.len(p);
            for (s, slot) in slots.iter_mut().enumerate() {
                match &c.opt_state {
                    Some(st) => slot.extend(self.backend.read(&st[i][s])),
                    None => slot.extend(std::iter::repeat_n(c.optimizer.slot_init(s), len)),
                }
            }
        }
        Ok((params, slots))
    }

    /// Takes flat weights and slots back from the GPU.
    pub(super) fn set_flat_state(&mut self, params: &[f32], slots: &[Vec<f32>]) -> Result<()> {
        let backend = self.backend.clone();
        let b = self
            .built
            .as_mut()
            .ok_or_else(|| Error::state("model not built"))?;
        let mut at = 0;
        let mut state = Vec::with_capacity(b.params.len());
        for p in b.params.iter_mut() {
            let len = backend.len(p);
            *p = backend.upload(&params[at..at + len]);
            state.push(
                slots
                    .iter()
                    .map(|s| backend.upload(&s[at..at + len]))
                    .collect::<Vec<_>>(),
            );
            at += len;
        }
        let c = self
            .compiled
            .as_mut()
            .ok_or_else(|| Error::state("model not compiled"))?;
        c.opt_state = Some(state);
        self.scratch = None;
        Ok(())
    }
}

/// The GPU engine: the fit's models as one [`Group`].
pub(super) struct GpuEngine<'a> {
    group: Group,
    inp: &'a FitInputs<'a>,
    steps: usize,
    validation_batch_size: usize,
    val_rows: usize,
    val_steps: usize,
    /// Per model: whether it has callbacks (which may look at its weights after each epoch).
    watched: Vec<bool>,
    /// Per model: the optimizer's step count and Nadam product once this epoch's steps are
    /// applied.
    after_epoch: Vec<(u64, f32)>,
    /// Per model, read back after the epoch: training predictions, validation predictions,
    /// penalties (one per step and variable).
    pred: Vec<Vec<f32>>,
    val_pred: Vec<Vec<f32>>,
    penalties: Vec<Vec<f32>>,
    /// The first row of each training step's batch in the epoch's predictions.
    step_rows: Vec<usize>,
    /// Whether the last epoch's read brought back every model's final state.
    state_read: bool,
}

impl<'a> GpuEngine<'a> {
    /// Uploads the data set once and every model's weights and optimizer state.
    pub(super) fn new<B: Backend>(
        gpu: &Gpu,
        models: &[&mut Sequential<B>],
        inp: &'a FitInputs<'a>,
        args: &FitArgs,
        watched: Vec<bool>,
    ) -> Result<Self> {
        let (x, y, val) = (&*inp.x, inp.y, inp.val.as_deref());
        let k = models.len();
        let bs = args.batch_size.unwrap_or(32);
        let n = x.rows();
        let steps = args.steps_per_epoch.unwrap_or(n.div_ceil(bs));
        let vbs = args.validation_batch_size.unwrap_or(bs);
        let (val_rows, val_steps) = match val {
            Some(v) => {
                let nv = v.x.rows();
                let vs = nv
                    .div_ceil(vbs)
                    .min(args.validation_steps.unwrap_or(usize::MAX));
                ((vs * vbs).min(nv), vs)
            }
            None => (0, 0),
        };
        let mut nets = Vec::with_capacity(k);
        for m in models.iter() {
            let net = m.gpu_net(y.cols()).map_err(|why| {
                Error::invalid("device", "webgpu", format!("cpu for this model: {why}"))
            })?;
            if net.in_w != x.cols() {
                return Err(Error::shape(
                    "training x (per sample)",
                    &[net.in_w],
                    &[x.cols()],
                ));
            }
            if net.loss.kind == LossKind::SparseCategoricalCrossentropy {
                // The CPU path refuses a bad class id at its batch; the GPU path checks them all
                // before it starts.
                let classes = net.out_w();
                if let Some((i, v)) =
                    y.data().iter().enumerate().find(|(_, v)| {
                        !(**v >= 0.0 && v.fract() == 0.0 && (**v as usize) < classes)
                    })
                {
                    return Err(Error::data(format!(
                        "sparse_categorical_crossentropy target {v} (sample {i}) is not a class id in [0, {classes})"
                    )));
                }
            }
            nets.push(net);
        }
        // The data set, once: x, y, the combined sample weights, the validation inputs, one
        // after another in one GPU buffer (uploaded from where they are).
        let mut data: Vec<&[f32]> = vec![x.data(), y.data()];
        let mut dl = DataLayout {
            x: 0,
            y: x.len(),
            ..Default::default()
        };
        let mut end = x.len() + y.len();
        if let Some(w) = &inp.weights {
            dl.w = Some(end);
            data.push(w);
            end += w.len();
        }
        dl.val_x = end;
        if let Some(v) = val {
            data.push(&v.x.data()[..val_rows * v.x.cols()]);
        }
        let sizes = Sizes {
            max_rows: bs.max(if val.is_some() { vbs } else { 0 }),
            train_rows: steps * bs,
            val_rows,
            steps,
        };
        let group = Group::new(gpu, nets, &data, dl, sizes, val_rows, steps + val_steps + 1)?;
        for (i, m) in models.iter().enumerate() {
            let (p, s) = m.flat_state()?;
            group.set_params(i, &p, &s)?;
        }
        Ok(GpuEngine {
            group,
            inp,
            steps,
            validation_batch_size: vbs,
            val_rows,
            val_steps,
            watched,
            after_epoch: vec![(0, 1.0); k],
            pred: vec![Vec::new(); k],
            val_pred: vec![Vec::new(); k],
            penalties: vec![Vec::new(); k],
            step_rows: Vec::new(),
            state_read: false,
        })
    }

    /// Model `mi`'s regularization penalty at training step `s` (`steps`: after the epoch).
    fn penalty_at(&self, mi: usize, s: usize) -> f32 {
        let pen = &self.penalties[mi];
        let per_step = 2 * self.group.nets[mi].dense.len();
        if pen.is_empty() {
            0.0
        } else {
            pen[s * per_step..(s + 1) * per_step].iter().sum()
        }
    }
}

impl<B: Backend> Engine<B> for GpuEngine<'_> {
    async fn run_epoch(
        &mut self,
        models: &mut [&mut Sequential<B>],
        plan: &EpochPlan<'_>,
    ) -> Result<()> {
        let (group, y, steps, k) = (&self.group, self.inp.y, self.steps, models.len());
        for (mi, batches) in plan.batches.iter().enumerate() {
            let ids: Vec<u32> = batches.iter().flatten().map(|&i| i as u32).collect();
            group.set_epoch_rows(mi, &ids)?;
        }
        // Every model's batches have the same sizes (one n, one batch size).
        let rows_per_step: Vec<usize> = plan
            .batches
            .first()
            .map(|b| b.iter().map(|ids| ids.len()).collect())
            .unwrap_or_default();
        // Step records: training steps, validation batches, then the post-epoch penalty.
        let mut records = Vec::with_capacity(steps + self.val_steps + 1);
        let mut infos: Vec<Vec<ModelStep>> = vec![Vec::with_capacity(k); steps];
        for (mi, m) in models.iter_mut().enumerate() {
            let c = m.compiled()?;
            let (mut iter, lr, mut up) = (c.iterations, c.learning_rate, c.u_product);
            let hinge = c.loss.kind == LossKind::Hinge;
            for (s, info) in infos.iter_mut().enumerate() {
                let si = c.optimizer.step_info(iter, lr, up);
                let binary = hinge
                    && plan.batches[mi][s]
                        .iter()
                        .all(|&r| y.row(r).iter().all(|&v| v == 0.0 || v == 1.0));
                info.push(ModelStep {
                    active: plan.active[mi],
                    counter: iter,
                    hinge_binary: binary,
                    info: si,
                });
                up = si.u_product_t;
                iter += 1;
            }
            self.after_epoch[mi] = (iter, up);
        }
        self.step_rows.clear();
        let mut cursor = 0;
        for (s, models_s) in infos.into_iter().enumerate() {
            records.push(StepRecord {
                rows: rows_per_step[s],
                cursor,
                training: true,
                log_step: s,
                models: models_s,
            });
            self.step_rows.push(cursor);
            cursor += rows_per_step[s];
        }
        let idle: Vec<ModelStep> = plan
            .active
            .iter()
            .zip(models.iter())
            .map(|(&active, m)| {
                let c = m.compiled.as_ref();
                ModelStep {
                    active,
                    counter: 0,
                    hinge_binary: false,
                    info: c
                        .map(|c| c.optimizer.step_info(0, c.learning_rate, 1.0))
                        .unwrap_or(crate::ops::optimizers::StepInfo {
                            lr: 0.0,
                            t: 1.0,
                            beta_1_power: 0.0,
                            beta_2_power: 0.0,
                            u_t: 0.0,
                            u_t_1: 0.0,
                            u_product_t: 0.0,
                        }),
                }
            })
            .collect();
        let mut phases: Vec<(Phase, usize)> = (0..steps).map(|s| (Phase::Train, s)).collect();
        if plan.validate {
            for vs in 0..self.val_steps {
                let start = vs * self.validation_batch_size;
                records.push(StepRecord {
                    rows: (self.val_rows - start).min(self.validation_batch_size),
                    cursor: start,
                    training: false,
                    log_step: 0,
                    models: idle.clone(),
                });
                phases.push((Phase::Eval, records.len() - 1));
            }
        }
        let any_penalty = (0..k).any(|m| group.has_penalty(m));
        if any_penalty {
            records.push(StepRecord {
                rows: 0,
                cursor: 0,
                training: false,
                log_step: steps,
                models: idle.clone(),
            });
            phases.push((Phase::Penalty, records.len() - 1));
        }
        group.set_steps(&records)?;
        group.run(&phases)?;

        // One read back: predictions, validation predictions, penalties, and the weights
        // of models whose callbacks may look at them.
        let mut regions = Vec::new();
        for (mi, l) in group.layouts.iter().enumerate() {
            let out_w = group.nets[mi].out_w();
            let active = plan.active[mi];
            regions.push((l.train_log, if active { cursor * out_w } else { 0 }));
            regions.push((
                l.val_log,
                if active && plan.validate {
                    self.val_rows * out_w
                } else {
                    0
                },
            ));
            let pen = if group.has_penalty(mi) && active {
                (steps + 1) * 2 * group.nets[mi].dense.len()
            } else {
                0
            };
            regions.push((l.penalty_log, pen));
            // The weights come back every epoch for models whose callbacks may look at them,
            // and in the last epoch for every model: the fit's final state, without a read
            // of its own (a read is a round trip to the GPU, several ms in a browser).
            let sync = (active && self.watched[mi]) || plan.last;
            let nslots = group.nets[mi].optimizer.kind.slots();
            regions.push((l.params, if sync { l.count } else { 0 }));
            for s in 0..3 {
                regions.push((l.slots[s], if sync && s < nslots { l.count } else { 0 }));
            }
        }
        let mut back = group.read(&regions).await?.into_iter();
        self.state_read = plan.last;
        for (mi, m) in models.iter_mut().enumerate() {
            self.pred[mi] = back.next().unwrap_or_default();
            self.val_pred[mi] = back.next().unwrap_or_default();
            self.penalties[mi] = back.next().unwrap_or_default();
            let params = back.next().unwrap_or_default();
            let slots: Vec<Vec<f32>> = (0..3).map(|_| back.next().unwrap_or_default()).collect();
            if plan.active[mi] {
                let c = m
                    .compiled
                    .as_mut()
                    .ok_or_else(|| Error::state("model not compiled"))?;
                (c.iterations, c.u_product) = self.after_epoch[mi];
            }
            if !params.is_empty() {
                let nslots = self.group.nets[mi].optimizer.kind.slots();
                m.set_flat_state(&params, &slots[..nslots])?;
            }
        }
        Ok(())
    }

    fn batch(
        &mut self,
        m: &mut Sequential<B>,
        mi: usize,
        step: usize,
        ids: &[usize],
        y: &Tensor,
        w: Option<&[f32]>,
    ) -> Result<(f32, Cow<'_, [f32]>)> {
        let (rows, out_w) = (ids.len(), self.group.nets[mi].out_w());
        let at = self.step_rows.get(step).copied().unwrap_or(0);
        let yp = self.pred[mi]
            .get(at * out_w..(at + rows) * out_w)
            .ok_or_else(|| Error::state("fewer predictions read back than trained"))?;
        let loss =
            m.compiled()?.loss.batch(y.data(), yp, rows, w, None)? + self.penalty_at(mi, step);
        Ok((loss, Cow::Borrowed(yp)))
    }

    fn validate(&mut self, m: &mut Sequential<B>, mi: usize, v: &ValidationData) -> Result<Logs> {
        let out_w = self.group.nets[mi].out_w();
        let vbs = self.validation_batch_size;
        let loss_fn = &m.compiled()?.loss;
        let mut vm = m.metric_set(&v.y, out_w)?;
        let post = self.penalty_at(mi, self.steps);
        let vpred = &self.val_pred[mi];
        for vs in 0..self.val_steps {
            let start = vs * vbs;
            let end = (start + vbs).min(self.val_rows);
            let rows = end - start;
            let yt = v.y.slice_rows(start, end);
            let wb = v.sample_weight.as_ref().map(|w| &w[start..end]);
            let yp = &vpred[start * out_w..end * out_w];
            let loss = loss_fn.batch(yt.data(), yp, rows, wb, None)? + post;
            vm.update(loss, yt.data(), yp, rows, wb)?;
        }
        Ok(vm.logs("val_"))
    }

    fn weights_replaced(&mut self, m: &Sequential<B>, mi: usize) -> Result<()> {
        let (p, s) = m.flat_state()?;
        self.group.set_params(mi, &p, &s)
    }

    async fn finish(&mut self, models: &mut [&mut Sequential<B>]) -> Result<()> {
        // The final weights and optimizer state, back into each model (unless the last
        // epoch's read brought them: the loop ended early, or ran no epoch).
        if self.state_read {
            return Ok(());
        }
        let group = &self.group;
        let mut regions = Vec::new();
        for (mi, l) in group.layouts.iter().enumerate() {
            let nslots = group.nets[mi].optimizer.kind.slots();
            regions.push((l.params, l.count));
            for s in 0..3 {
                regions.push((l.slots[s], if s < nslots { l.count } else { 0 }));
            }
        }
        let mut back = group.read(&regions).await?.into_iter();
        for (mi, m) in models.iter_mut().enumerate() {
            let params = back.next().unwrap_or_default();
            let slots: Vec<Vec<f32>> = (0..3).map(|_| back.next().unwrap_or_default()).collect();
            let nslots = group.nets[mi].optimizer.kind.slots();
            m.set_flat_state(&params, &slots[..nslots])?;
        }
        Ok(())
    }
}

/// The model's outputs for `x` computed on the GPU, in batches of `bs` (predict, evaluate).
pub(super) async fn predict_rows<B: Backend>(
    gpu: &Gpu,
    m: &Sequential<B>,
    x: &Tensor,
    bs: usize,
    target_cols: usize,
) -> Result<Vec<f32>> {
    let net = m
        .gpu_net(target_cols)
        .map_err(|why| Error::invalid("device", "webgpu", format!("cpu for this model: {why}")))?;
    let out_w = net.out_w();
    let n = x.rows();
    let bs = bs.min(n).max(1);
    let steps = n.div_ceil(bs);
    let sizes = Sizes {
        max_rows: bs,
        train_rows: 0,
        val_rows: n,
        steps: 0,
    };
    let group = Group::new(
        gpu,
        vec![net],
        &[x.data()],
        DataLayout::default(),
        sizes,
        n,
        steps,
    )?;
    let (p, s) = m.flat_state()?;
    group.set_params(0, &p, &s)?;
    let c = m.compiled()?;
    let idle = ModelStep {
        active: true,
        counter: 0,
        hinge_binary: false,
        info: c.optimizer.step_info(0, c.learning_rate, 1.0),
    };
    let records: Vec<StepRecord> = (0..steps)
        .map(|s| StepRecord {
            rows: (n - s * bs).min(bs),
            cursor: s * bs,
            training: false,
            log_step: 0,
            models: vec![idle],
        })
        .collect();
    group.set_steps(&records)?;
    let plan: Vec<(Phase, usize)> = (0..steps).map(|s| (Phase::Eval, s)).collect();
    group.run(&plan)?;
    let l = &group.layouts[0];
    let mut back = group.read(&[(l.val_log, n * out_w)]).await?;
    back.pop()
        .ok_or_else(|| Error::state("no predictions read back"))
}
