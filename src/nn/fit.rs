//! `fit`: Keras's training loop, written once. The host loop here owns the batch stream
//! (shuffles, their replay for `initial_epoch`, a stream that runs on across epochs with
//! `steps_per_epoch`), the callbacks and their order, validation (`validation_freq`,
//! `validation_steps`), metrics, progress output and History. Under it an [`Engine`] turns
//! batches into losses and predictions: the CPU engine (`cpu_fit.rs`) trains one model one
//! batch at a time on its backend; the GPU engine (`gpu_fit.rs`) trains a group of models a
//! whole epoch per submission, and the host replays that epoch's batches to the callbacks
//! afterwards (Keras's `steps_per_execution`).

use super::cpu_fit::CpuEngine;
use super::gpu_fit::GpuEngine;
use super::model::{MetricSet, Sequential};
use super::progress::{epoch_line, print_line, progress};
use crate::backend::Backend;
use crate::data::{self, Dataset};
use crate::error::{Error, Result};
#[cfg(target_arch = "wasm32")]
use crate::gpu::Device;
use crate::gpu::Gpu;
use crate::nn::callbacks::Callback;
use crate::nn::history::{History, Logs};
use crate::tensor::Tensor;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::borrow::Cow;
use std::collections::HashMap;
use web_time::Instant;

/// How much `fit` / `evaluate` print: 0 silent, 1 progress bar, 2 one line per epoch.
pub type Verbose = u8;

/// Held-out data for validation, optionally weighted.
#[derive(Debug, Clone)]
pub struct ValidationData {
    pub x: Tensor,
    pub y: Tensor,
    pub sample_weight: Option<Vec<f32>>,
}

/// `fit`'s arguments, with Keras's defaults (`FitArgs::default()`).
#[derive(Debug, Clone)]
pub struct FitArgs {
    /// Samples per gradient step (Keras default 32).
    pub batch_size: Option<usize>,
    /// Index of the final epoch (training runs `initial_epoch..epochs`).
    pub epochs: usize,
    pub verbose: Verbose,
    /// Fraction in [0, 1) of the *last* samples held out for validation, before shuffling.
    pub validation_split: f32,
    /// Overrides `validation_split`.
    pub validation_data: Option<ValidationData>,
    pub shuffle: bool,
    /// Class id -> weight, multiplied into the sample weights during training.
    pub class_weight: Option<HashMap<usize, f32>>,
    pub sample_weight: Option<Vec<f32>>,
    pub initial_epoch: usize,
    /// Batches per epoch; the batch stream then runs on across epochs (Keras's behaviour).
    pub steps_per_epoch: Option<usize>,
    pub validation_steps: Option<usize>,
    pub validation_batch_size: Option<usize>,
    /// Validate every this many epochs.
    pub validation_freq: usize,
    /// Seed for shuffling (the model's seed when `None`).
    pub seed: Option<u64>,
}

impl Default for FitArgs {
    fn default() -> Self {
        FitArgs {
            batch_size: None,
            epochs: 1,
            verbose: 1,
            validation_split: 0.0,
            validation_data: None,
            shuffle: true,
            class_weight: None,
            sample_weight: None,
            initial_epoch: 0,
            steps_per_epoch: None,
            validation_steps: None,
            validation_batch_size: None,
            validation_freq: 1,
            seed: None,
        }
    }
}

/// fit's checked inputs: training data, validation data, combined sample weights.
pub(super) struct FitInputs<'a> {
    /// The training inputs; after `standardized`, as the first weighted layer sees them.
    pub(super) x: Cow<'a, Tensor>,
    pub(super) y: &'a Tensor,
    pub(super) val: Option<Cow<'a, ValidationData>>,
    pub(super) weights: Option<Vec<f32>>,
}

impl<B: Backend> Sequential<B> {
    /// Trains for `epochs - initial_epoch` epochs (Keras's `fit`), on the model's device
    /// (see [`Sequential::set_device`]). On the GPU the whole fit is GPU-resident and batch
    /// callbacks see each epoch's batches after the epoch ran (Keras's `steps_per_execution`).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn fit(
        &mut self,
        x: &Tensor,
        y: &Tensor,
        args: &FitArgs,
        callbacks: &mut [&mut dyn Callback],
    ) -> Result<History> {
        crate::runtime::block_on(self.fit_async(x, y, args, callbacks))
    }

    /// [`Sequential::fit`] in the browser: the CPU path (a GPU device needs [`Sequential::fit_async`]).
    #[cfg(target_arch = "wasm32")]
    pub fn fit(
        &mut self,
        x: &Tensor,
        y: &Tensor,
        args: &FitArgs,
        callbacks: &mut [&mut dyn Callback],
    ) -> Result<History> {
        if self.device == Device::Webgpu {
            return Err(Error::invalid(
                "device",
                "webgpu",
                "cpu or auto for the blocking fit in the browser; use fit_async for WebGPU",
            ));
        }
        let mut split = None;
        let inp = self.fit_inputs(x, y, args, &mut split)?;
        let inp = self.standardized(inp);
        self.resolved = "cpu".into();
        crate::runtime::run_ready(self.fit_cpu(&inp, args, callbacks, false))
            .unwrap_or_else(|| Err(Error::state("the CPU fit awaited something")))
    }

    /// `fit`, awaiting the GPU instead of blocking (the browser's way).
    pub async fn fit_async(
        &mut self,
        x: &Tensor,
        y: &Tensor,
        args: &FitArgs,
        callbacks: &mut [&mut dyn Callback],
    ) -> Result<History> {
        crate::gpu::prepare(self.device).await;
        let mut split = None;
        let inp = self.fit_inputs(x, y, args, &mut split)?;
        let inp = self.standardized(inp);
        if let Some(gpu) = self.gpu_for(inp.y.cols())? {
            self.resolved = gpu.label();
            let mut out = fit_gpu(&gpu, &mut [&mut *self], &inp, args, &mut [callbacks]).await?;
            return out.pop().ok_or_else(|| Error::state("no history"));
        }
        self.resolved = "cpu".into();
        self.fit_cpu(&inp, args, callbacks, true).await
    }

    /// Trains several compiled models on the same data at once: on the GPU as one group (one
    /// dispatch covers every model), else one after the other. Each model's history is what
    /// training it alone would give. `callbacks[i]` belong to `models[i]`.
    pub async fn fit_group_async(
        models: &mut [&mut Sequential<B>],
        x: &Tensor,
        y: &Tensor,
        args: &FitArgs,
        callbacks: &mut [&mut [&mut dyn Callback]],
    ) -> Result<Vec<History>> {
        if callbacks.len() != models.len() {
            return Err(Error::invalid(
                "callbacks",
                format!("{} lists", callbacks.len()),
                format!("one list per model ({})", models.len()),
            ));
        }
        for m in models.iter() {
            crate::gpu::prepare(m.device).await;
        }
        let mut split = None;
        let mut gpu = None;
        let mut all_gpu = !models.is_empty();
        for m in models.iter_mut() {
            let mut s = None;
            let inp = m.fit_inputs(x, y, args, &mut s)?;
            match m.gpu_for(inp.y.cols())? {
                Some(g) => gpu = Some(g),
                None => all_gpu = false,
            }
        }
        // One group trains on one input: every model must standardize it the same way.
        let stats = |m: &Sequential<B>| {
            m.normalization()
                .map(|(_, n)| (n.mean.clone(), n.variance.clone()))
        };
        let first = models.first().map(|m| stats(m));
        if models.iter().any(|m| Some(stats(m)) != first) {
            all_gpu = false;
        }
        if let (true, Some(g)) = (all_gpu, gpu) {
            let inp = models[0].fit_inputs(x, y, args, &mut split)?;
            let inp = models[0].standardized(inp);
            for m in models.iter_mut() {
                m.resolved = g.label();
            }
            return fit_gpu(&g, models, &inp, args, callbacks).await;
        }
        let mut out = Vec::new();
        for (m, cb) in models.iter_mut().zip(callbacks.iter_mut()) {
            out.push(m.fit_async(x, y, args, cb).await?);
        }
        Ok(out)
    }

    /// [`Sequential::fit_group_async`], blocking.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn fit_group(
        models: &mut [&mut Sequential<B>],
        x: &Tensor,
        y: &Tensor,
        args: &FitArgs,
        callbacks: &mut [&mut [&mut dyn Callback]],
    ) -> Result<Vec<History>> {
        crate::runtime::block_on(Self::fit_group_async(models, x, y, args, callbacks))
    }

    /// [`Sequential::fit_group_async`] in the browser's blocking form: one model after the
    /// other on the CPU.
    #[cfg(target_arch = "wasm32")]
    pub fn fit_group(
        models: &mut [&mut Sequential<B>],
        x: &Tensor,
        y: &Tensor,
        args: &FitArgs,
        callbacks: &mut [&mut [&mut dyn Callback]],
    ) -> Result<Vec<History>> {
        models
            .iter_mut()
            .zip(callbacks.iter_mut())
            .map(|(m, cb)| m.fit(x, y, args, cb))
            .collect()
    }

    /// Checks fit's arguments and data; splits off validation data (kept in `split`); adapts
    /// an unadapted Normalization layer on the training rows.
    fn fit_inputs<'a>(
        &mut self,
        x: &'a Tensor,
        y: &'a Tensor,
        args: &'a FitArgs,
        split: &'a mut Option<(Dataset, ValidationData)>,
    ) -> Result<FitInputs<'a>> {
        self.compiled()?;
        let bs = args.batch_size.unwrap_or(32);
        if bs == 0 {
            return Err(Error::invalid("batch_size", 0, "an integer >= 1"));
        }
        if args.validation_batch_size == Some(0) {
            return Err(Error::invalid(
                "validation_batch_size",
                0,
                "an integer >= 1",
            ));
        }
        if !(0.0..1.0).contains(&args.validation_split) {
            return Err(Error::invalid(
                "validation_split",
                args.validation_split,
                "a float in [0, 1)",
            ));
        }
        if args.validation_freq == 0 {
            return Err(Error::invalid("validation_freq", 0, "an integer >= 1"));
        }
        if args.steps_per_epoch == Some(0) {
            return Err(Error::invalid(
                "steps_per_epoch",
                0,
                "an integer >= 1 or None",
            ));
        }
        if args.initial_epoch > args.epochs {
            return Err(Error::invalid(
                "initial_epoch",
                args.initial_epoch,
                format!("an epoch index <= epochs ({})", args.epochs),
            ));
        }
        // Validation data: given, or the last fraction of x/y (and of sample_weight) before
        // shuffling. Borrowed where possible: a fit never copies the caller's arrays.
        let (x, y, sw, val): (&Tensor, &Tensor, Option<&[f32]>, Option<&ValidationData>) =
            if let Some(v) = &args.validation_data {
                (x, y, args.sample_weight.as_deref(), Some(v))
            } else if args.validation_split > 0.0 {
                let ds = Dataset::new(x.clone(), y.clone())?;
                let (train, valid) = data::split_validation(&ds, args.validation_split)?;
                let n_train = train.x.rows();
                Self::check_weights(args.sample_weight.as_deref(), x.rows(), "sample_weight")?;
                let val_w = args.sample_weight.as_ref().map(|w| w[n_train..].to_vec());
                *split = Some((
                    train,
                    ValidationData {
                        x: valid.x,
                        y: valid.y,
                        sample_weight: val_w,
                    },
                ));
                let (train, v) = split.as_ref().ok_or_else(|| Error::state("split"))?;
                let sw = args.sample_weight.as_deref().map(|w| &w[..n_train]);
                (&train.x, &train.y, sw, Some(v))
            } else {
                (x, y, args.sample_weight.as_deref(), None)
            };
        self.check_xy(x, y, "training")?;
        if let Some(v) = val {
            self.check_xy(&v.x, &v.y, "validation")?;
            Self::check_weights(
                v.sample_weight.as_deref(),
                v.x.rows(),
                "validation sample_weight",
            )?;
        }
        let weights = Self::combined_weights(y, sw, args.class_weight.as_ref())?;
        // A Normalization layer without statistics adapts on the training rows; `standardized`
        // then applies it to the inputs that are trained on.
        self.adapt_normalization(x)?;
        Ok(FitInputs {
            x: Cow::Borrowed(x),
            y,
            val: val.map(Cow::Borrowed),
            weights,
        })
    }

    /// `inp` with the training and validation inputs standardized by the model's Normalization
    /// layer (copies; without one, nothing is copied).
    fn standardized<'a>(&self, inp: FitInputs<'a>) -> FitInputs<'a> {
        let x = match inp.x {
            Cow::Borrowed(x) => self.normalized(x),
            Cow::Owned(x) => Cow::Owned(self.normalized(&x).into_owned()),
        };
        let val = inp.val.map(|v| match self.normalized(&v.x) {
            Cow::Borrowed(_) => v,
            Cow::Owned(nx) => Cow::Owned(ValidationData {
                x: nx,
                y: v.y.clone(),
                sample_weight: v.sample_weight.clone(),
            }),
        });
        FitInputs { x, val, ..inp }
    }

    /// One model on the CPU engine; with `yielding`, the host's event loop runs after every
    /// epoch (the browser stays responsive and can repaint progress).
    async fn fit_cpu(
        &mut self,
        inp: &FitInputs<'_>,
        args: &FitArgs,
        callbacks: &mut [&mut dyn Callback],
        yielding: bool,
    ) -> Result<History> {
        let mut engine = CpuEngine::new(self, inp, args);
        let mut out = train(
            &mut engine,
            &mut [&mut *self],
            inp,
            args,
            &mut [callbacks],
            yielding,
        )
        .await?;
        out.pop().ok_or_else(|| Error::state("no history"))
    }
}

/// `models` trained together on the GPU engine (see [`Sequential::fit_group_async`]).
async fn fit_gpu<B: Backend>(
    gpu: &Gpu,
    models: &mut [&mut Sequential<B>],
    inp: &FitInputs<'_>,
    args: &FitArgs,
    callbacks: &mut [&mut [&mut dyn Callback]],
) -> Result<Vec<History>> {
    let watched: Vec<bool> = callbacks.iter().map(|c| !c.is_empty()).collect();
    let mut engine = GpuEngine::new(gpu, models, inp, args, watched)?;
    train(&mut engine, models, inp, args, callbacks, false).await
}

/// What the engine runs in one epoch, for the GPU engine to plan it in one submission.
pub(super) struct EpochPlan<'p> {
    /// `batches[m][s]`: the row ids of training step `s` of model `m`.
    pub(super) batches: &'p [Vec<Vec<usize>>],
    /// Models still training (a model whose callbacks stopped it sits out later epochs).
    pub(super) active: &'p [bool],
    /// Whether this epoch ends with validation.
    pub(super) validate: bool,
    /// Whether this is the fit's last epoch.
    pub(super) last: bool,
}

/// Where the training steps of a fit run. `mi` is the model's index in the fit's models.
pub(super) trait Engine<B: Backend> {
    /// Before the epoch's batches reach the host loop: the GPU engine trains the whole epoch
    /// of every active model here.
    async fn run_epoch(
        &mut self,
        _models: &mut [&mut Sequential<B>],
        _plan: &EpochPlan<'_>,
    ) -> Result<()> {
        Ok(())
    }

    /// The loss (regularization penalty included) and the predictions of one training batch
    /// (`ids`, with targets `y` and sample weights `w`); the CPU engine takes its optimizer
    /// step here.
    fn batch(
        &mut self,
        m: &mut Sequential<B>,
        mi: usize,
        step: usize,
        ids: &[usize],
        y: &Tensor,
        w: Option<&[f32]>,
    ) -> Result<(f32, Cow<'_, [f32]>)>;

    /// Validation loss and metrics after the epoch's training, keys prefixed with `val_`.
    fn validate(&mut self, m: &mut Sequential<B>, mi: usize, v: &ValidationData) -> Result<Logs>;

    /// After `on_epoch_end`, when a callback replaced the model's weights or optimizer state.
    fn weights_replaced(&mut self, _m: &Sequential<B>, _mi: usize) -> Result<()> {
        Ok(())
    }

    /// After the last epoch: each model's final weights and optimizer state back in it.
    async fn finish(&mut self, _models: &mut [&mut Sequential<B>]) -> Result<()> {
        Ok(())
    }
}

/// One model's batch stream: its shuffled order of the training rows, drawn `batch_size`
/// rows at a time; reshuffled whenever it runs out.
struct BatchStream {
    rng: StdRng,
    order: Vec<usize>,
    cursor: usize,
    batch_size: usize,
    shuffle: bool,
    /// Each epoch starts a fresh pass (no `steps_per_epoch`); else the stream runs on.
    per_epoch: bool,
}

impl BatchStream {
    fn new(seed: u64, n: usize, args: &FitArgs) -> Self {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5EED);
        let mut order: Vec<usize> = (0..n).collect();
        let per_epoch = args.steps_per_epoch.is_none();
        if args.shuffle && per_epoch {
            // Replay the shuffles of the epochs before initial_epoch, so that resuming at
            // epoch k sees the same batches as an uninterrupted run from epoch 0.
            for _ in 0..args.initial_epoch {
                order.shuffle(&mut rng);
            }
        }
        BatchStream {
            rng,
            order,
            cursor: n, // forces a (re)shuffle before the first batch
            batch_size: args.batch_size.unwrap_or(32),
            shuffle: args.shuffle,
            per_epoch,
        }
    }

    /// The row ids of an epoch's `steps` batches.
    fn epoch(&mut self, steps: usize) -> Vec<Vec<usize>> {
        let n = self.order.len();
        if self.per_epoch {
            self.cursor = n;
        }
        let mut batches = Vec::with_capacity(steps);
        for _ in 0..steps {
            if self.cursor >= n {
                if self.shuffle {
                    self.order.shuffle(&mut self.rng);
                }
                self.cursor = 0;
            }
            let end = (self.cursor + self.batch_size).min(n);
            batches.push(self.order[self.cursor..end].to_vec());
            self.cursor = end;
        }
        batches
    }
}

/// One model's part of the host loop.
struct Run {
    stream: BatchStream,
    metrics: MetricSet,
    history: History,
    last_logs: Logs,
    active: bool,
}

/// The host training loop (Keras's `fit`) for `models` on `engine`; `callbacks[i]` belong to
/// `models[i]`. Per epoch: every active model's `on_epoch_begin`; the batches drawn; the
/// engine's epoch; then model by model its batches (`on_train_batch_begin`, the engine's
/// loss and predictions, metrics, `on_train_batch_end`, progress; a stop ends the epoch's
/// batches), validation, `on_epoch_end`, the epoch's line and History. With `yielding`, the
/// host's event loop runs after every epoch.
async fn train<B: Backend, E: Engine<B>>(
    engine: &mut E,
    models: &mut [&mut Sequential<B>],
    inp: &FitInputs<'_>,
    args: &FitArgs,
    callbacks: &mut [&mut [&mut dyn Callback]],
    yielding: bool,
) -> Result<Vec<History>> {
    let (x, y) = (&*inp.x, inp.y);
    let n = x.rows();
    let steps = args
        .steps_per_epoch
        .unwrap_or(n.div_ceil(args.batch_size.unwrap_or(32)));
    let mut runs = Vec::with_capacity(models.len());
    for m in models.iter_mut() {
        runs.push(Run {
            stream: BatchStream::new(args.seed.unwrap_or(m.seed), n, args),
            metrics: m.metric_set(y, m.output_width()?)?,
            history: History::default(),
            last_logs: Logs::default(),
            active: true,
        });
        m.stop = false;
    }
    for (m, cbs) in models.iter_mut().zip(callbacks.iter_mut()) {
        for cb in cbs.iter_mut() {
            cb.on_train_begin(&mut **m)?;
        }
    }
    for epoch in args.initial_epoch..args.epochs {
        if runs.iter().all(|r| !r.active) {
            break;
        }
        let started = Instant::now();
        for ((m, cbs), run) in models.iter_mut().zip(callbacks.iter_mut()).zip(&mut runs) {
            if run.active {
                for cb in cbs.iter_mut() {
                    cb.on_epoch_begin(epoch, &mut **m)?;
                }
                run.metrics.reset();
            }
        }
        let batches: Vec<Vec<Vec<usize>>> =
            runs.iter_mut().map(|r| r.stream.epoch(steps)).collect();
        let active: Vec<bool> = runs.iter().map(|r| r.active).collect();
        let validate = inp.val.is_some() && (epoch + 1) % args.validation_freq == 0;
        let plan = EpochPlan {
            batches: &batches,
            active: &active,
            validate,
            last: epoch + 1 == args.epochs,
        };
        engine.run_epoch(models, &plan).await?;
        for (mi, ((m, cbs), run)) in models
            .iter_mut()
            .zip(callbacks.iter_mut())
            .zip(&mut runs)
            .enumerate()
        {
            if !run.active {
                continue;
            }
            if args.verbose == 1 {
                print_line(&format!("Epoch {}/{}", epoch + 1, args.epochs));
            }
            let mut logs = Logs::default();
            for (step, ids) in batches[mi].iter().enumerate() {
                for cb in cbs.iter_mut() {
                    cb.on_train_batch_begin(step, &mut **m)?;
                }
                let yb = y.gather_rows(ids);
                let wb: Option<Vec<f32>> = inp
                    .weights
                    .as_ref()
                    .map(|w| ids.iter().map(|&i| w[i]).collect());
                let (loss, yp) = engine.batch(m, mi, step, ids, &yb, wb.as_deref())?;
                run.metrics
                    .update(loss, yb.data(), &yp, ids.len(), wb.as_deref())?;
                logs = run.metrics.logs("");
                for cb in cbs.iter_mut() {
                    cb.on_train_batch_end(step, &logs, &mut **m)?;
                }
                if args.verbose == 1 {
                    progress(step + 1, steps, started, &logs, false);
                }
                if m.stop {
                    break;
                }
            }
            if let (true, Some(v)) = (validate, inp.val.as_deref()) {
                for (key, value) in engine.validate(m, mi, v)?.iter() {
                    logs.set(key, value);
                }
            }
            let version = m.weights_version;
            for cb in cbs.iter_mut() {
                cb.on_epoch_end(epoch, &mut logs, &mut **m)?;
            }
            if m.weights_version != version {
                engine.weights_replaced(m, mi)?;
            }
            match args.verbose {
                1 => progress(steps, steps, started, &logs, true),
                2 => {
                    print_line(&format!("Epoch {}/{}", epoch + 1, args.epochs));
                    epoch_line(steps, started, &logs)
                }
                _ => {}
            }
            run.history.record(epoch, &logs);
            run.last_logs = logs;
            if m.stop {
                run.active = false;
            }
        }
        if yielding && runs.iter().any(|r| r.active) {
            crate::runtime::yield_now().await;
        }
    }
    engine.finish(models).await?;
    let mut out = Vec::with_capacity(runs.len());
    for ((m, cbs), run) in models.iter_mut().zip(callbacks.iter_mut()).zip(runs) {
        for cb in cbs.iter_mut() {
            cb.on_train_end(&mut **m, &run.last_logs)?;
        }
        out.push(run.history);
    }
    Ok(out)
}
