//! The CPU engine of `fit` (see `fit.rs`): one model, one optimizer step per batch, on the
//! model's [`Backend`]. Here are the per-batch buffers, the forward pass (also `evaluate` and
//! `predict` on the CPU), the backward pass with the regularizers' gradients, and the
//! optimizer step.

use super::fit::{Engine, FitArgs, FitInputs, ValidationData};
use super::model::{Sequential, MAX_BATCH_VALUES};
use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::nn::history::Logs;
use crate::nn::layers::Layer;
use crate::ops::activations::Activation;
use crate::tensor::Tensor;
use std::borrow::Cow;

/// Per-batch buffers of the forward and backward pass, reused while the batch size holds.
pub(super) struct Scratch<B: Backend> {
    pub(super) rows: usize,
    /// acts[i] is the input of layer i; acts[L] the model's output.
    pub(super) acts: Vec<B::Buf>,
    /// Pre-activations of Dense layers.
    pub(super) pre: Vec<B::Buf>,
    pub(super) masks: Vec<B::Buf>,
    /// dacts[i] is the loss gradient with respect to acts[i] (allocated where needed).
    pub(super) dacts: Vec<B::Buf>,
    /// Gradients with respect to Dense pre-activations.
    pub(super) dz: Vec<B::Buf>,
    pub(super) grads: Vec<B::Buf>,
}

/// The CPU engine: one model, one optimizer step per batch on the model's backend.
pub(super) struct CpuEngine<B: Backend> {
    /// The training inputs, uploaded once.
    x: B::Buf,
    in_w: usize,
    validation_batch_size: usize,
    validation_steps: Option<usize>,
}

impl<B: Backend> CpuEngine<B> {
    pub(super) fn new(m: &Sequential<B>, inp: &FitInputs<'_>, args: &FitArgs) -> Self {
        CpuEngine {
            x: m.backend.upload(inp.x.data()),
            in_w: inp.x.cols(),
            validation_batch_size: args
                .validation_batch_size
                .unwrap_or(args.batch_size.unwrap_or(32)),
            validation_steps: args.validation_steps,
        }
    }
}

impl<B: Backend> Engine<B> for CpuEngine<B> {
    fn batch(
        &mut self,
        m: &mut Sequential<B>,
        _mi: usize,
        _step: usize,
        ids: &[usize],
        y: &Tensor,
        w: Option<&[f32]>,
    ) -> Result<(f32, Cow<'_, [f32]>)> {
        let rows = ids.len();
        let mut s = m.scratch(rows)?;
        m.backend
            .gather_rows(&self.x, self.in_w, ids, &mut s.acts[0]);
        let y_dev = m.backend.upload(y.data());
        let w_dev = w.map(|w| m.backend.upload(w));
        let result = m.train_step(&mut s, rows, &y_dev, w_dev.as_ref());
        let yp = s.acts.last().map(|a| m.backend.read(a)).unwrap_or_default();
        m.scratch = Some(s);
        Ok((result?, Cow::Owned(yp)))
    }

    fn validate(&mut self, m: &mut Sequential<B>, _mi: usize, v: &ValidationData) -> Result<Logs> {
        m.evaluate_logs(
            &v.x,
            &v.y,
            self.validation_batch_size,
            v.sample_weight.as_deref(),
            self.validation_steps,
            "val_",
            None,
            &mut [],
            0,
        )
    }
}

impl<B: Backend> Sequential<B> {
    pub(super) fn scratch(&mut self, rows: usize) -> Result<Scratch<B>> {
        if let Some(s) = self.scratch.take() {
            if s.rows == rows {
                return Ok(s);
            }
        }
        let b = self.built()?;
        let in_w: usize = b.input_shape.iter().product();
        let per_row = b.widths.iter().fold(in_w, |a, &w| a.saturating_add(w));
        if rows.saturating_mul(per_row) > MAX_BATCH_VALUES {
            return Err(Error::invalid(
                "batch_size",
                rows,
                format!(
                    "at most {} rows per batch for this model ({per_row} activations a row; {MAX_BATCH_VALUES} in all)",
                    MAX_BATCH_VALUES / per_row.max(1)
                ),
            ));
        }
        let mut acts = vec![self.backend.zeros(rows * in_w)];
        let mut pre = Vec::new();
        let mut masks = Vec::new();
        for (layer, &w) in self.layers.iter().zip(&b.widths) {
            acts.push(self.backend.zeros(rows * w));
            pre.push(match layer {
                Layer::Dense(_) => self.backend.zeros(rows * w),
                _ => self.backend.zeros(0),
            });
            masks.push(match layer {
                Layer::Dropout(_) => self.backend.zeros(rows * w),
                _ => self.backend.zeros(0),
            });
        }
        let grads = b
            .params
            .iter()
            .map(|p| self.backend.zeros(self.backend.len(p)))
            .collect();
        let first_param_layer = b.slots.iter().position(|s| s.is_some()).unwrap_or(0);
        let mut dacts = Vec::new();
        for i in 0..=self.layers.len() {
            let w = if i == 0 { in_w } else { b.widths[i - 1] };
            dacts.push(if i > first_param_layer {
                self.backend.zeros(rows * w)
            } else {
                self.backend.zeros(0)
            });
        }
        let dz = pre.clone();
        Ok(Scratch {
            rows,
            acts,
            pre,
            masks,
            dacts,
            dz,
            grads,
        })
    }

    /// Runs the layers on `s.acts[0]` (already filled with `rows` samples).
    pub(super) fn forward(
        &self,
        s: &mut Scratch<B>,
        rows: usize,
        training: bool,
        step: u64,
    ) -> Result<()> {
        let b = self.built()?;
        let mut in_w: usize = b.input_shape.iter().product();
        for (i, layer) in self.layers.iter().enumerate() {
            let out_w = b.widths[i];
            let (head, tail) = s.acts.split_at_mut(i + 1);
            let (x, y) = (&head[i], &mut tail[0]);
            match layer {
                Layer::Dense(d) => {
                    let (k, bias) =
                        b.slots[i].ok_or_else(|| Error::state("dense layer without weights"))?;
                    let z = &mut s.pre[i];
                    self.backend
                        .matmul(rows, out_w, in_w, x, false, &b.params[k], false, 0.0, z);
                    if let Some(bi) = bias {
                        self.backend.bias_add(out_w, &b.params[bi], z);
                    }
                    self.backend.activation_forward(d.activation, out_w, z, y);
                }
                Layer::Dropout(d) if training && d.rate > 0.0 => {
                    let seed = d.seed.unwrap_or(self.seed) ^ ((i as u64 + 1) << 48);
                    self.backend
                        .dropout(d.rate, seed, step, x, y, &mut s.masks[i]);
                }
                Layer::Activation { activation, .. } => {
                    self.backend.activation_forward(*activation, out_w, x, y);
                }
                _ => self
                    .backend
                    .activation_forward(Activation::Linear, out_w, x, y),
            }
            in_w = out_w;
        }
        Ok(())
    }

    /// Gradients of the loss into `s.grads`, starting from the gradient at the output that the
    /// caller left in `s.dacts[L]`; adds the regularization penalties' gradients and returns
    /// the penalty. Uses only the scratch buffers: no allocation per batch.
    pub(super) fn backward(&self, s: &mut Scratch<B>, rows: usize, training: bool) -> Result<f32> {
        let b = self.built()?;
        let first_param_layer = b.slots.iter().position(|s| s.is_some()).unwrap_or(0);
        let mut penalty = 0.0;
        for i in (0..self.layers.len()).rev() {
            let out_w = b.widths[i];
            let in_w: usize = if i == 0 {
                b.input_shape.iter().product()
            } else {
                b.widths[i - 1]
            };
            let need_dx = i > first_param_layer;
            let (lo, hi) = s.dacts.split_at_mut(i + 1);
            let (dx, dy) = (&mut lo[i], &hi[0]);
            let mut pass_through = false;
            match &self.layers[i] {
                Layer::Dense(d) => {
                    let (k, bias) =
                        b.slots[i].ok_or_else(|| Error::state("dense layer without weights"))?;
                    let dz = &mut s.dz[i];
                    self.backend.activation_backward(
                        d.activation,
                        out_w,
                        &s.pre[i],
                        &s.acts[i + 1],
                        dy,
                        dz,
                    );
                    self.backend.matmul(
                        in_w,
                        out_w,
                        rows,
                        &s.acts[i],
                        true,
                        dz,
                        false,
                        0.0,
                        &mut s.grads[k],
                    );
                    if let Some(r) = &d.kernel_regularizer {
                        penalty += self
                            .backend
                            .regularize(r, &b.params[k], Some(&mut s.grads[k]));
                    }
                    if let Some(bi) = bias {
                        self.backend.column_sums(rows, out_w, dz, &mut s.grads[bi]);
                        if let Some(r) = &d.bias_regularizer {
                            penalty +=
                                self.backend
                                    .regularize(r, &b.params[bi], Some(&mut s.grads[bi]));
                        }
                    }
                    if need_dx {
                        self.backend.matmul(
                            rows,
                            in_w,
                            out_w,
                            dz,
                            false,
                            &b.params[k],
                            true,
                            0.0,
                            dx,
                        );
                    }
                }
                Layer::Dropout(d) if need_dx && training && d.rate > 0.0 => {
                    self.backend.multiply(dy, &s.masks[i], dx);
                }
                Layer::Activation { activation, .. } if need_dx => {
                    self.backend.activation_backward(
                        *activation,
                        out_w,
                        &s.acts[i],
                        &s.acts[i + 1],
                        dy,
                        dx,
                    );
                }
                _ => pass_through = need_dx,
            }
            if pass_through {
                // Flatten and inactive dropout: the gradient goes through unchanged.
                s.dacts.swap(i, i + 1);
            }
            if !need_dx {
                break;
            }
        }
        Ok(penalty)
    }

    /// The regularization penalty of the current weights (added to every reported loss).
    pub(super) fn penalty(&self) -> Result<f32> {
        let b = self.built()?;
        let mut p = 0.0;
        for (layer, slot) in self.layers.iter().zip(&b.slots) {
            if let (Layer::Dense(d), Some((k, bias))) = (layer, slot) {
                if let Some(r) = &d.kernel_regularizer {
                    p += self.backend.regularize(r, &b.params[*k], None);
                }
                if let (Some(r), Some(bi)) = (&d.bias_regularizer, bias) {
                    p += self.backend.regularize(r, &b.params[*bi], None);
                }
            }
        }
        Ok(p)
    }

    /// One optimizer step on a prepared batch in `s.acts[0]`; returns (loss incl. penalty, y_pred).
    pub(super) fn train_step(
        &mut self,
        s: &mut Scratch<B>,
        rows: usize,
        y_true: &B::Buf,
        w: Option<&B::Buf>,
    ) -> Result<f32> {
        let step = self.compiled()?.iterations;
        self.forward(s, rows, true, step)?;
        let out = s.acts.len() - 1;
        let c = self.compiled()?;
        let loss = self.backend.loss(
            &c.loss,
            rows,
            y_true,
            &s.acts[out],
            w,
            Some(&mut s.dacts[out]),
        )?;
        let penalty = self.backward(s, rows, true)?;
        let backend = self.backend.clone();
        let b = self
            .built
            .as_mut()
            .ok_or_else(|| Error::state("model not built"))?;
        let c = self
            .compiled
            .as_mut()
            .ok_or_else(|| Error::state("model not compiled"))?;
        let opt_state = c.opt_state.get_or_insert_with(|| {
            b.params
                .iter()
                .map(|p| {
                    (0..c.optimizer.kind.slots())
                        .map(|k| backend.upload(&vec![c.optimizer.slot_init(k); backend.len(p)]))
                        .collect()
                })
                .collect()
        });
        let info = c
            .optimizer
            .step_info(c.iterations, c.learning_rate, c.u_product);
        backend.apply_gradients(&c.optimizer, &info, &mut b.params, &mut s.grads, opt_state);
        c.u_product = info.u_product_t;
        c.iterations += 1;
        Ok(loss + penalty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::layers::{activation, flatten, Dense, Dropout};
    use crate::ops::losses::Loss;
    use crate::ops::optimizers::Optimizer;
    use crate::ops::regularizers::Regularizer;

    /// Loss (with penalties) of the model on one batch in training mode at a fixed step, so
    /// dropout draws the same mask every time.
    fn batch_loss(m: &mut Sequential, x: &Tensor, y: &Tensor) -> (f32, Vec<Vec<f32>>) {
        let rows = x.rows();
        let mut s = m.scratch(rows).unwrap();
        s.acts[0] = x.data().to_vec();
        m.forward(&mut s, rows, true, 3).unwrap();
        let out = s.acts.len() - 1;
        let loss = m.compiled().unwrap().loss.clone();
        let l = loss
            .batch(y.data(), &s.acts[out], rows, None, Some(&mut s.dacts[out]))
            .unwrap();
        let pen = m.backward(&mut s, rows, true).unwrap();
        (l + pen, s.grads.clone())
    }

    /// Finite differences over every weight of a model that uses every layer type.
    #[test]
    fn layer_gradients_match_finite_differences() {
        let mut m = Sequential::new().seed(5);
        m.add(flatten());
        m.add(
            Dense::new(5)
                .activation(Activation::Tanh)
                .kernel_regularizer(Regularizer::l1_l2(0.01, 0.02))
                .bias_regularizer(Regularizer::l2(0.05))
                .bias_initializer(crate::nn::initializers::Initializer::RandomNormal {
                    stddev: 0.3,
                }),
        );
        m.add(Dropout::new(0.3).seed(11));
        m.add(Dense::new(4).use_bias(false));
        m.add(activation(Activation::Elu));
        m.add(Dense::new(3).activation(Activation::Softmax));
        m.compile(
            Optimizer::from_name("sgd").unwrap(),
            Loss::from_name("categorical_crossentropy").unwrap(),
            &[],
        )
        .unwrap();
        let x = Tensor::new(
            vec![4, 2, 3],
            (0..24).map(|i| ((i * 7 % 11) as f32 - 5.0) / 4.0).collect(),
        )
        .unwrap();
        let y = Tensor::new(
            vec![4, 3],
            vec![1., 0., 0., 0., 1., 0., 0., 0., 1., 0., 1., 0.],
        )
        .unwrap();
        m.build(&[2, 3]).unwrap();
        let (_, grads) = batch_loss(&mut m, &x, &y);
        let weights = m.get_weights().unwrap();
        assert_eq!(weights.len(), 5, "kernel+bias, kernel, kernel+bias");
        let h = 1e-2f32;
        for (p, w) in weights.iter().enumerate() {
            for (j, &wj) in w.data().iter().enumerate() {
                let mut wp = weights.clone();
                wp[p].data_mut()[j] += h;
                m.set_weights(&wp).unwrap();
                let lp = batch_loss(&mut m, &x, &y).0 as f64;
                wp[p].data_mut()[j] -= 2.0 * h;
                m.set_weights(&wp).unwrap();
                let lm = batch_loss(&mut m, &x, &y).0 as f64;
                let fd = (lp - lm) / (2.0 * h as f64);
                let g = grads[p][j] as f64;
                // l1 has a kink at 0: skip weights sitting on it
                if p == 0 && wj.abs() < 2.0 * h {
                    continue;
                }
                assert!(
                    (fd - g).abs() <= 2e-3 + 2e-2 * fd.abs(),
                    "param {p}[{j}]: analytic {g} vs finite difference {fd}"
                );
            }
        }
    }
}
