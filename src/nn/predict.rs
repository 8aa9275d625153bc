//! `evaluate`, `predict` and the on-batch variants (`train_on_batch`, `test_on_batch`,
//! `predict_on_batch`): forward passes on the model's device, loss and metrics on the host.

use super::fit::Verbose;
use super::gpu_fit;
use super::model::Sequential;
use super::progress::{epoch_line, progress};
use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::nn::callbacks::Callback;
use crate::nn::history::Logs;
use crate::tensor::Tensor;
use std::collections::HashMap;
use web_time::Instant;

/// `evaluate`'s and `predict`'s arguments besides the data, with Keras's names and defaults
/// (`verbose` 0 here: the Rust API prints nothing unless asked).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EvalArgs {
    /// Rows per batch (Keras default 32).
    pub batch_size: Option<usize>,
    /// At most this many batches (the first `steps * batch_size` rows); all when `None`.
    pub steps: Option<usize>,
    /// 0 silent, 1 progress bar, 2 one line at the end.
    pub verbose: Verbose,
    /// `evaluate` only: the loss and metrics as a dict.
    pub return_dict: bool,
}

impl EvalArgs {
    /// The batch size, and the number of rows of `n` that `steps` batches cover.
    fn rows(&self, n: usize) -> Result<(usize, usize)> {
        let bs = self.batch_size.unwrap_or(32);
        if bs == 0 {
            return Err(Error::invalid("batch_size", 0, "an integer >= 1"));
        }
        match self.steps {
            Some(0) => Err(Error::invalid("steps", 0, "an integer >= 1 or None")),
            Some(s) => Ok((bs, n.min(s.saturating_mul(bs)))),
            None => Ok((bs, n)),
        }
    }
}

/// What `evaluate`, `train_on_batch` and `test_on_batch` return, shaped as Keras returns it:
/// a scalar loss when there are no metrics, else a list (loss first), or a dict when
/// `return_dict` is set.
#[derive(Debug, Clone, PartialEq)]
pub enum Evaluation {
    Scalar(f32),
    List(Vec<f32>),
    Dict(Logs),
}

impl Evaluation {
    fn shape(logs: Logs, return_dict: bool) -> Self {
        if return_dict {
            Evaluation::Dict(logs)
        } else if logs.0.len() == 1 {
            Evaluation::Scalar(logs.0[0].1)
        } else {
            Evaluation::List(logs.0.iter().map(|(_, v)| *v).collect())
        }
    }
    /// The loss value.
    pub fn loss(&self) -> f32 {
        match self {
            Evaluation::Scalar(v) => *v,
            Evaluation::List(v) => v.first().copied().unwrap_or(f32::NAN),
            Evaluation::Dict(l) => l.get("loss").unwrap_or(f32::NAN),
        }
    }
}

impl<B: Backend> Sequential<B> {
    /// Loss and metrics over `x`, `y` in batches, keys prefixed with `prefix`; `callbacks` get
    /// the test hooks and `verbose` prints Keras's progress (evaluate's, not fit's validation).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn evaluate_logs(
        &mut self,
        x: &Tensor,
        y: &Tensor,
        bs: usize,
        sw: Option<&[f32]>,
        steps: Option<usize>,
        prefix: &str,
        preds: Option<&[f32]>,
        callbacks: &mut [&mut dyn Callback],
        verbose: Verbose,
    ) -> Result<Logs> {
        if bs == 0 {
            return Err(Error::invalid("batch_size", 0, "an integer >= 1"));
        }
        self.check_xy(x, y, "evaluation")?;
        Self::check_weights(sw, x.rows(), "sample_weight")?;
        let out_w = self.output_width()?;
        let mut metrics = self.metric_set(y, out_w)?;
        let penalty = self.penalty()?;
        let n = x.rows();
        let max_steps = steps.unwrap_or(usize::MAX);
        let total = n.div_ceil(bs).min(max_steps);
        let loss_fn = self.compiled()?.loss.clone();
        let started = Instant::now();
        for cb in callbacks.iter_mut() {
            cb.on_test_begin(self)?;
        }
        let mut logs = metrics.logs(prefix);
        for (step, start) in (0..n).step_by(bs).enumerate() {
            if step >= max_steps {
                break;
            }
            for cb in callbacks.iter_mut() {
                cb.on_test_batch_begin(step, self)?;
            }
            let end = (start + bs).min(n);
            let rows = end - start;
            let yp = match preds {
                Some(p) => p[start * out_w..end * out_w].to_vec(),
                None => {
                    let mut s = self.scratch(rows)?;
                    s.acts[0] = self.backend.upload(x.slice_rows(start, end).data());
                    let fwd = self.forward(&mut s, rows, false, 0);
                    let out = s.acts.len() - 1;
                    let yp = self.backend.read(&s.acts[out]);
                    self.scratch = Some(s);
                    fwd?;
                    yp
                }
            };
            let yt = y.slice_rows(start, end);
            let wb = sw.map(|w| &w[start..end]);
            let loss = loss_fn.batch(yt.data(), &yp, rows, wb, None)? + penalty;
            metrics.update(loss, yt.data(), &yp, rows, wb)?;
            logs = metrics.logs(prefix);
            for cb in callbacks.iter_mut() {
                cb.on_test_batch_end(step, &logs, self)?;
            }
            if verbose == 1 && step + 1 < total {
                progress(step + 1, total, started, &logs, false);
            }
        }
        match verbose {
            0 => {}
            1 => progress(total, total, started, &logs, true),
            _ => epoch_line(total, started, &logs),
        }
        for cb in callbacks.iter_mut() {
            cb.on_test_end(self, &logs)?;
        }
        Ok(logs)
    }

    /// Keras's `evaluate`: loss and metrics in test mode (forward passes on the model's device).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn evaluate(
        &mut self,
        x: &Tensor,
        y: &Tensor,
        batch_size: Option<usize>,
        sample_weight: Option<&[f32]>,
        return_dict: bool,
    ) -> Result<Evaluation> {
        crate::runtime::block_on(self.evaluate_async(x, y, batch_size, sample_weight, return_dict))
    }

    /// Keras's `evaluate` in the browser's blocking form: on the CPU.
    #[cfg(target_arch = "wasm32")]
    pub fn evaluate(
        &mut self,
        x: &Tensor,
        y: &Tensor,
        batch_size: Option<usize>,
        sample_weight: Option<&[f32]>,
        return_dict: bool,
    ) -> Result<Evaluation> {
        self.compiled()?;
        let x = self.normalized(x);
        let logs = self.evaluate_logs(
            &x,
            y,
            batch_size.unwrap_or(32),
            sample_weight,
            None,
            "",
            None,
            &mut [],
            0,
        )?;
        Ok(Evaluation::shape(logs, return_dict))
    }

    /// `evaluate`, awaiting the GPU when the model's device is one.
    pub async fn evaluate_async(
        &mut self,
        x: &Tensor,
        y: &Tensor,
        batch_size: Option<usize>,
        sample_weight: Option<&[f32]>,
        return_dict: bool,
    ) -> Result<Evaluation> {
        let args = EvalArgs {
            batch_size,
            return_dict,
            ..Default::default()
        };
        self.evaluate_with_async(x, y, sample_weight, &args, &mut [])
            .await
    }

    /// Keras's `evaluate` with all its arguments: `steps` (the first `steps` batches only),
    /// `verbose` and `callbacks` (their `on_test_*` hooks).
    pub async fn evaluate_with_async(
        &mut self,
        x: &Tensor,
        y: &Tensor,
        sample_weight: Option<&[f32]>,
        args: &EvalArgs,
        callbacks: &mut [&mut dyn Callback],
    ) -> Result<Evaluation> {
        self.compiled()?;
        let (bs, rows) = args.rows(x.rows())?;
        self.check_xy(x, y, "evaluation")?;
        Self::check_weights(sample_weight, x.rows(), "sample_weight")?;
        let (x, y) = if rows < x.rows() {
            (
                std::borrow::Cow::Owned(x.slice_rows(0, rows)),
                std::borrow::Cow::Owned(y.slice_rows(0, rows)),
            )
        } else {
            (std::borrow::Cow::Borrowed(x), std::borrow::Cow::Borrowed(y))
        };
        let x = match self.normalized(&x) {
            std::borrow::Cow::Owned(n) => std::borrow::Cow::Owned(n),
            std::borrow::Cow::Borrowed(_) => x,
        };
        let sw = sample_weight.map(|w| &w[..rows]);
        crate::gpu::prepare(self.device).await;
        let preds = match self.gpu_for(y.cols())? {
            Some(gpu) => {
                self.resolved = gpu.label();
                Some(gpu_fit::predict_rows(&gpu, self, &x, bs, y.cols()).await?)
            }
            None => None,
        };
        let logs = self.evaluate_logs(
            &x,
            &y,
            bs,
            sw,
            None,
            "",
            preds.as_deref(),
            callbacks,
            args.verbose,
        )?;
        Ok(Evaluation::shape(logs, args.return_dict))
    }

    fn check_predict(&mut self, x: &Tensor, bs: usize) -> Result<()> {
        if bs == 0 {
            return Err(Error::invalid("batch_size", 0, "an integer >= 1"));
        }
        if x.rows() == 0 || x.is_empty() {
            return Err(Error::data(
                "predict x is empty: at least one sample is needed",
            ));
        }
        x.check_finite("predict x")?;
        self.ensure_built(x)
    }

    /// Keras's `predict`: outputs for `x`, computed in batches on the model's device.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn predict(&mut self, x: &Tensor, batch_size: Option<usize>) -> Result<Tensor> {
        crate::runtime::block_on(self.predict_async(x, batch_size))
    }

    /// Keras's `predict` in the browser's blocking form: on the CPU.
    #[cfg(target_arch = "wasm32")]
    pub fn predict(&mut self, x: &Tensor, batch_size: Option<usize>) -> Result<Tensor> {
        let bs = batch_size.unwrap_or(32);
        self.check_predict(x, bs)?;
        let x = self.normalized(x);
        self.predict_cpu(&x, bs)
    }

    /// `predict`, awaiting the GPU when the model's device is one.
    pub async fn predict_async(&mut self, x: &Tensor, batch_size: Option<usize>) -> Result<Tensor> {
        let args = EvalArgs {
            batch_size,
            ..Default::default()
        };
        self.predict_with_async(x, &args, &mut []).await
    }

    /// Keras's `predict` with all its arguments: `steps` (outputs for the first `steps`
    /// batches only), `verbose` and `callbacks` (their `on_predict_*` hooks; on the GPU every
    /// batch is computed first and the hooks follow, as fit's batch hooks do there).
    pub async fn predict_with_async(
        &mut self,
        x: &Tensor,
        args: &EvalArgs,
        callbacks: &mut [&mut dyn Callback],
    ) -> Result<Tensor> {
        let (bs, rows) = args.rows(x.rows())?;
        self.check_predict(x, bs)?;
        let x = if rows < x.rows() {
            std::borrow::Cow::Owned(x.slice_rows(0, rows))
        } else {
            std::borrow::Cow::Borrowed(x)
        };
        let x = match self.normalized(&x) {
            std::borrow::Cow::Owned(n) => std::borrow::Cow::Owned(n),
            std::borrow::Cow::Borrowed(_) => x,
        };
        let out_w = self.output_width()?;
        crate::gpu::prepare(self.device).await;
        let preds = match self.gpu_for(out_w)? {
            Some(gpu) => {
                self.resolved = gpu.label();
                Some(gpu_fit::predict_rows(&gpu, self, &x, bs, out_w).await?)
            }
            None => None,
        };
        self.predict_batches(&x, bs, preds, callbacks, args.verbose)
    }

    #[cfg(target_arch = "wasm32")]
    fn predict_cpu(&mut self, x: &Tensor, bs: usize) -> Result<Tensor> {
        self.predict_batches(x, bs, None, &mut [], 0)
    }

    /// `predict`'s batches (computed here on the CPU, or given as `preds`), with the predict
    /// hooks and progress.
    fn predict_batches(
        &mut self,
        x: &Tensor,
        bs: usize,
        preds: Option<Vec<f32>>,
        callbacks: &mut [&mut dyn Callback],
        verbose: Verbose,
    ) -> Result<Tensor> {
        let out_w = self.output_width()?;
        let n = x.rows();
        let total = n.div_ceil(bs);
        let started = Instant::now();
        let mut out = Vec::with_capacity(n * out_w);
        for cb in callbacks.iter_mut() {
            cb.on_predict_begin(self)?;
        }
        for (step, start) in (0..n).step_by(bs).enumerate() {
            for cb in callbacks.iter_mut() {
                cb.on_predict_batch_begin(step, self)?;
            }
            let end = (start + bs).min(n);
            match &preds {
                Some(p) => out.extend_from_slice(&p[start * out_w..end * out_w]),
                None => {
                    let rows = end - start;
                    let mut s = self.scratch(rows)?;
                    s.acts[0] = self.backend.upload(x.slice_rows(start, end).data());
                    let fwd = self.forward(&mut s, rows, false, 0);
                    let last = s.acts.len() - 1;
                    out.extend(self.backend.read(&s.acts[last]));
                    self.scratch = Some(s);
                    fwd?;
                }
            }
            for cb in callbacks.iter_mut() {
                cb.on_predict_batch_end(step, self)?;
            }
            if verbose == 1 && step + 1 < total {
                progress(step + 1, total, started, &Logs::default(), false);
            }
        }
        match verbose {
            0 => {}
            1 => progress(total, total, started, &Logs::default(), true),
            _ => epoch_line(total, started, &Logs::default()),
        }
        for cb in callbacks.iter_mut() {
            cb.on_predict_end(self)?;
        }
        Tensor::new(vec![n, out_w], out)
    }

    /// Keras's `predict_on_batch`.
    pub fn predict_on_batch(&mut self, x: &Tensor) -> Result<Tensor> {
        let n = x.rows().max(1);
        self.predict(x, Some(n))
    }

    /// Keras's `train_on_batch`: one gradient step on exactly this batch.
    pub fn train_on_batch(
        &mut self,
        x: &Tensor,
        y: &Tensor,
        sample_weight: Option<&[f32]>,
        class_weight: Option<&HashMap<usize, f32>>,
        return_dict: bool,
    ) -> Result<Evaluation> {
        self.compiled()?;
        self.check_xy(x, y, "train_on_batch")?;
        let w = Self::combined_weights(y, sample_weight, class_weight)?;
        let x = self.normalized(x);
        let rows = x.rows();
        let mut metrics = self.metric_set(y, self.output_width()?)?;
        let mut s = self.scratch(rows)?;
        s.acts[0] = self.backend.upload(x.data());
        let y_dev = self.backend.upload(y.data());
        let w_dev = w.as_ref().map(|w| self.backend.upload(w));
        let r = self.train_step(&mut s, rows, &y_dev, w_dev.as_ref());
        let yp = s
            .acts
            .last()
            .map(|a| self.backend.read(a))
            .unwrap_or_default();
        self.scratch = Some(s);
        let loss = r?;
        metrics.update(loss, y.data(), &yp, rows, w.as_deref())?;
        Ok(Evaluation::shape(metrics.logs(""), return_dict))
    }

    /// Keras's `test_on_batch`.
    pub fn test_on_batch(
        &mut self,
        x: &Tensor,
        y: &Tensor,
        sample_weight: Option<&[f32]>,
        return_dict: bool,
    ) -> Result<Evaluation> {
        self.compiled()?;
        let rows = x.rows().max(1);
        let x = self.normalized(x);
        let logs = self.evaluate_logs(&x, y, rows, sample_weight, None, "", None, &mut [], 0)?;
        Ok(Evaluation::shape(logs, return_dict))
    }
}
