//! `Sequential`: Keras's model for a stack of layers, with compile / fit / evaluate / predict,
//! the on-batch variants, summary, and weights in Keras's order. Generic over the
//! [`Backend`]; the CPU reference is the default.

use crate::backend::{Backend, Cpu};
use crate::data::{self, Dataset};
use crate::error::{Error, Result};
use crate::gpu::{Device, Gpu, Resolved};
use crate::nn::callbacks::{Callback, ModelAccess, TrainingState};
use crate::nn::history::{History, Logs};
use crate::nn::layers::Layer;
use crate::nn::metrics::{get_metric, Metric};
use crate::ops::activations::Activation;
use crate::ops::losses::Loss;
use crate::ops::optimizers::Optimizer;
use crate::tensor::Tensor;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::collections::HashMap;
use std::io::Write;
use web_time::Instant;

#[path = "gpu_fit.rs"]
mod gpu_fit;

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

/// The largest kernel one Dense layer may have (256 Mi weights, 1 GiB of f32): beyond it a
/// typo in `units` would exhaust memory instead of giving an error.
pub const MAX_LAYER_PARAMS: usize = 1 << 28;

/// The most weights a whole model may have, checked before any is allocated: 256 Mi natively;
/// 32 Mi in wasm32, whose 4 GiB memory must also hold the gradients and the optimizer's slots
/// (running out there aborts the page's engine instead of returning an error).
pub const MAX_MODEL_PARAMS: usize = if cfg!(target_arch = "wasm32") {
    1 << 25
} else {
    1 << 28
};

/// The most activation values one batch may need (rows x the widths of every layer), checked
/// before the training buffers are allocated; the same budget as [`MAX_MODEL_PARAMS`].
pub const MAX_BATCH_VALUES: usize = MAX_MODEL_PARAMS;

/// Weights and shapes once the input width is known.
struct Built<B: Backend> {
    /// Per-sample input shape.
    input_shape: Vec<usize>,
    /// Output width of each layer.
    widths: Vec<usize>,
    /// Names shown in the summary (Keras's auto names: dense, dense_1, ...).
    names: Vec<String>,
    /// Parameters in get_weights order.
    params: Vec<B::Buf>,
    shapes: Vec<Vec<usize>>,
    /// For each layer, (kernel index, bias index) into `params` for Dense layers.
    slots: Vec<Option<(usize, Option<usize>)>>,
}

/// Optimizer, loss, metric names, and the state they accumulate.
struct Compiled<B: Backend> {
    optimizer: Optimizer,
    loss: Loss,
    metrics: Vec<String>,
    weighted_metrics: Vec<String>,
    custom: Vec<Box<dyn Metric>>,
    opt_state: Option<Vec<Vec<B::Buf>>>,
    iterations: u64,
    learning_rate: f32,
    u_product: f32,
}

/// Metric objects for one pass over data (training or evaluation).
struct MetricSet {
    plain: Vec<Box<dyn Metric>>,
    weighted: Vec<Box<dyn Metric>>,
    names: Vec<String>,
    loss_sum: f64,
    loss_count: f64,
}

impl MetricSet {
    fn reset(&mut self) {
        self.plain.iter_mut().for_each(|m| m.reset_state());
        self.weighted.iter_mut().for_each(|m| m.reset_state());
        self.loss_sum = 0.0;
        self.loss_count = 0.0;
    }
    fn update(
        &mut self,
        loss: f32,
        yt: &[f32],
        yp: &[f32],
        n: usize,
        w: Option<&[f32]>,
    ) -> Result<()> {
        self.loss_sum += loss as f64 * n as f64;
        self.loss_count += n as f64;
        for m in &mut self.plain {
            m.update_state(yt, yp, n, None)?;
        }
        for m in &mut self.weighted {
            m.update_state(yt, yp, n, w)?;
        }
        Ok(())
    }
    fn logs(&self, prefix: &str) -> Logs {
        let mut l = Logs::default();
        let loss = if self.loss_count > 0.0 {
            (self.loss_sum / self.loss_count) as f32
        } else {
            0.0
        };
        l.set(format!("{prefix}loss"), loss);
        for (m, name) in self.plain.iter().chain(&self.weighted).zip(&self.names) {
            l.set(format!("{prefix}{name}"), m.result());
        }
        l
    }
}

/// fit's checked inputs: training data, validation data, combined sample weights.
struct FitInputs<'a> {
    x: &'a Tensor,
    y: &'a Tensor,
    val: Option<&'a ValidationData>,
    weights: Option<Vec<f32>>,
}

/// Per-batch buffers of the forward and backward pass, reused while the batch size holds.
struct Scratch<B: Backend> {
    rows: usize,
    /// acts[i] is the input of layer i; acts[L] the model's output.
    acts: Vec<B::Buf>,
    /// Pre-activations of Dense layers.
    pre: Vec<B::Buf>,
    masks: Vec<B::Buf>,
    /// dacts[i] is the loss gradient with respect to acts[i] (allocated where needed).
    dacts: Vec<B::Buf>,
    /// Gradients with respect to Dense pre-activations.
    dz: Vec<B::Buf>,
    grads: Vec<B::Buf>,
}

/// A linear stack of layers, as `keras.Sequential`.
///
/// ```
/// use tunelab::nn::{Sequential, Dense, Activation, Optimizer, Loss, FitArgs};
/// use tunelab::Tensor;
/// let mut model = Sequential::new();
/// model.add(Dense::new(8).activation(Activation::Relu));
/// model.add(Dense::new(1));
/// model.compile(Optimizer::from_name("adam").unwrap(), Loss::from_name("mse").unwrap(), &[]).unwrap();
/// let x = Tensor::new(vec![4, 2], vec![0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0]).unwrap();
/// let y = Tensor::new(vec![4, 1], vec![1.0, 1.0, 0.0, 0.0]).unwrap();
/// let history = model.fit(&x, &y, &FitArgs { epochs: 2, verbose: 0, ..Default::default() }, &mut []).unwrap();
/// assert_eq!(history.get("loss").unwrap().len(), 2);
/// ```
pub struct Sequential<B: Backend = Cpu> {
    backend: B,
    layers: Vec<Layer>,
    input_shape: Option<Vec<usize>>,
    built: Option<Built<B>>,
    compiled: Option<Compiled<B>>,
    seed: u64,
    stop: bool,
    name: String,
    scratch: Option<Scratch<B>>,
    device: Device,
    /// Where the last fit ran ("cpu", "webgpu (adapter, backend)"), and why not on the GPU.
    resolved: String,
    device_note: Option<String>,
    /// Bumped whenever weights or optimizer state are replaced from outside a fit step.
    weights_version: u64,
}

impl Default for Sequential<Cpu> {
    fn default() -> Self {
        Self::new()
    }
}

impl Sequential<Cpu> {
    /// An empty model on the CPU backend.
    pub fn new() -> Self {
        Self::with_backend(Cpu)
    }
}

impl<B: Backend> Sequential<B> {
    /// An empty model on `backend`.
    pub fn with_backend(backend: B) -> Self {
        Sequential {
            backend,
            layers: Vec::new(),
            input_shape: None,
            built: None,
            compiled: None,
            seed: 0,
            stop: false,
            name: "sequential".to_string(),
            scratch: None,
            device: Device::Cpu,
            resolved: "cpu".to_string(),
            device_note: None,
            weights_version: 0,
        }
    }

    /// Seeds weight initialisation, dropout and shuffling.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Changes the seed; a built model draws its weights again from the new seed.
    pub fn set_seed(&mut self, seed: u64) -> Result<()> {
        self.seed = seed;
        if let Some(shape) = self.built.as_ref().map(|b| b.input_shape.clone()) {
            self.built = None;
            self.scratch = None;
            self.build(&shape)?;
        }
        Ok(())
    }

    /// The optimizer's state (see [`TrainingState`]); `None` before the first step.
    pub fn training_state(&self) -> Option<TrainingState> {
        let c = self.compiled.as_ref()?;
        let slots = c.opt_state.as_ref()?;
        Some(TrainingState {
            iterations: c.iterations,
            learning_rate: c.learning_rate,
            u_product: c.u_product,
            slots: slots
                .iter()
                .map(|v| v.iter().map(|b| self.backend.read(b)).collect())
                .collect(),
        })
    }

    /// Restores [`Sequential::training_state`] into a built, compiled model of the same shape.
    pub fn set_training_state(&mut self, state: &TrainingState) -> Result<()> {
        let b = self.built()?;
        let sizes: Vec<usize> = b.params.iter().map(|p| self.backend.len(p)).collect();
        let c = self.compiled()?;
        let per = c.optimizer.kind.slots();
        if state.slots.len() != sizes.len()
            || state
                .slots
                .iter()
                .zip(&sizes)
                .any(|(s, &n)| s.len() != per || s.iter().any(|v| v.len() != n))
        {
            return Err(Error::invalid(
                "training state",
                "slots of another shape",
                format!("{per} slots per variable, shaped like the weights"),
            ));
        }
        let slots = state
            .slots
            .iter()
            .map(|v| v.iter().map(|x| self.backend.upload(x)).collect())
            .collect();
        let c = self
            .compiled
            .as_mut()
            .ok_or_else(|| Error::state("model not compiled"))?;
        c.iterations = state.iterations;
        c.learning_rate = state.learning_rate;
        c.u_product = state.u_product;
        c.opt_state = Some(slots);
        self.weights_version += 1;
        Ok(())
    }

    /// Declares the per-sample input shape (otherwise taken from the first data seen).
    pub fn input_shape(mut self, shape: &[usize]) -> Self {
        self.input_shape = Some(shape.to_vec());
        self
    }

    /// Where the last fit ran: `"cpu"` or `"webgpu (adapter, backend)"`.
    pub fn device(&self) -> String {
        self.resolved.clone()
    }

    /// Why the last fit ran on the CPU although the device was `auto` (no adapter, only a
    /// software adapter, or a layer stack the GPU path does not run).
    pub fn device_note(&self) -> Option<&str> {
        self.device_note.as_deref()
    }

    /// Chooses where `fit` trains: [`Device::Cpu`] (the default), [`Device::Webgpu`], or
    /// [`Device::Auto`] (a hardware GPU when there is one, else the CPU, saying why).
    pub fn set_device(&mut self, device: Device) {
        self.device = device;
    }

    /// The input shape the model was built for, if it is built.
    pub fn built_input_shape(&self) -> Option<Vec<usize>> {
        self.built.as_ref().map(|b| b.input_shape.clone())
    }

    /// The device setting.
    pub fn device_setting(&self) -> Device {
        self.device
    }

    /// The GPU for a model whose targets have `target_cols` columns, or `None` for the CPU
    /// (the reason kept in `device_note`).
    fn gpu_for(&mut self, target_cols: usize) -> Result<Option<Gpu>> {
        self.device_note = None;
        if self.device == Device::Cpu {
            return Ok(None);
        }
        let plan = self.gpu_net(target_cols);
        let resolved = crate::gpu::resolve(self.device);
        match (self.device, resolved, plan) {
            (Device::Webgpu, Err(e), _) => Err(e),
            (Device::Webgpu, _, Err(why)) => Err(Error::invalid(
                "device",
                "webgpu",
                format!("cpu or auto for this model: {why}"),
            )),
            (_, Ok(Resolved::Gpu(g)), Ok(_)) => Ok(Some(g)),
            (_, Ok(Resolved::Cpu { reason }), _) => {
                self.device_note = reason;
                Ok(None)
            }
            (_, Err(e), _) => {
                self.device_note = Some(e.to_string());
                Ok(None)
            }
            (_, _, Err(why)) => {
                self.device_note = Some(why);
                Ok(None)
            }
        }
    }

    /// Appends a layer. Adding after the model was built drops its weights, as a rebuild.
    pub fn add(&mut self, layer: impl Into<Layer>) {
        self.layers.push(layer.into());
        self.built = None;
        self.scratch = None;
        if let Some(c) = &mut self.compiled {
            c.opt_state = None;
        }
    }

    /// The layers.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The declared or inferred per-sample input shape.
    pub fn get_input_shape(&self) -> Option<&[usize]> {
        self.built
            .as_ref()
            .map(|b| b.input_shape.as_slice())
            .or(self.input_shape.as_deref())
    }

    /// Configures training: optimizer, loss and metric names (`"accuracy"`, `"mae"`, ...).
    pub fn compile(&mut self, optimizer: Optimizer, loss: Loss, metrics: &[&str]) -> Result<()> {
        self.compile_full(optimizer, loss, metrics, &[], Vec::new())
    }

    /// `compile` with `weighted_metrics` and user-defined metric objects as well.
    pub fn compile_full(
        &mut self,
        optimizer: Optimizer,
        loss: Loss,
        metrics: &[&str],
        weighted_metrics: &[&str],
        custom: Vec<Box<dyn Metric>>,
    ) -> Result<()> {
        optimizer.validate()?;
        loss.validate()?;
        // Resolve names now so a typo fails at compile time; shapes only pick the accuracy flavour.
        for m in metrics.iter().chain(weighted_metrics) {
            get_metric(m, &[1, 2], &[1, 2])?;
        }
        self.compiled = Some(Compiled {
            learning_rate: optimizer.learning_rate,
            optimizer,
            loss,
            metrics: metrics.iter().map(|s| s.to_string()).collect(),
            weighted_metrics: weighted_metrics.iter().map(|s| s.to_string()).collect(),
            custom,
            opt_state: None,
            iterations: 0,
            u_product: 1.0,
        });
        Ok(())
    }

    /// The compiled optimizer.
    pub fn optimizer(&self) -> Option<&Optimizer> {
        self.compiled.as_ref().map(|c| &c.optimizer)
    }

    /// The compiled loss.
    pub fn loss(&self) -> Option<&Loss> {
        self.compiled.as_ref().map(|c| &c.loss)
    }

    /// Metric names given to compile (unweighted, then weighted).
    pub fn metric_names(&self) -> (Vec<String>, Vec<String>) {
        self.compiled
            .as_ref()
            .map(|c| (c.metrics.clone(), c.weighted_metrics.clone()))
            .unwrap_or_default()
    }

    /// Number of optimizer steps taken.
    pub fn iterations(&self) -> u64 {
        self.compiled.as_ref().map_or(0, |c| c.iterations)
    }

    /// Creates the weights for a per-sample input shape (no-op when already built for it).
    pub fn build(&mut self, input_shape: &[usize]) -> Result<()> {
        if let Some(b) = &self.built {
            if b.input_shape == input_shape {
                return Ok(());
            }
            return Err(Error::shape("model input", &b.input_shape, input_shape));
        }
        if let Some(s) = &self.input_shape {
            if s.as_slice() != input_shape {
                return Err(Error::shape(
                    "model input (declared input_shape)",
                    s,
                    input_shape,
                ));
            }
        }
        if self.layers.is_empty() {
            return Err(Error::state(
                "the model has no layers; add at least one Dense layer",
            ));
        }
        if input_shape.is_empty() || input_shape.contains(&0) {
            return Err(Error::invalid(
                "input_shape",
                format!("{input_shape:?}"),
                "a non-empty per-sample shape of positive sizes",
            ));
        }
        let mut w: usize = input_shape.iter().fold(1usize, |a, &d| a.saturating_mul(d));
        if w > MAX_BATCH_VALUES {
            return Err(Error::invalid(
                "input_shape",
                format!("{input_shape:?}"),
                format!("at most {MAX_BATCH_VALUES} values per sample"),
            ));
        }
        // Every weight the layers ask for, counted before anything is allocated.
        let mut total: usize = 0;
        for (i, layer) in self.layers.iter().enumerate() {
            if let Layer::Dense(d) = layer {
                if w.saturating_mul(d.units) > MAX_LAYER_PARAMS {
                    return Err(Error::invalid(
                        format!("layers[{i}].units"),
                        d.units,
                        format!(
                            "at most {} units for {w} inputs (a kernel of at most {MAX_LAYER_PARAMS} weights)",
                            MAX_LAYER_PARAMS / w.max(1)
                        ),
                    ));
                }
                total = total
                    .saturating_add(w.saturating_mul(d.units))
                    .saturating_add(d.units);
                w = d.units;
            }
        }
        if total > MAX_MODEL_PARAMS {
            return Err(Error::invalid(
                "model",
                format!("{} layers with {total} weights", self.layers.len()),
                format!("at most {MAX_MODEL_PARAMS} weights in all (fewer or narrower layers)"),
            ));
        }
        let mut rng = StdRng::seed_from_u64(self.seed);
        let mut rank = input_shape.len();
        let mut width: usize = input_shape.iter().product();
        let mut widths = Vec::new();
        let mut names = Vec::new();
        let mut counts: HashMap<&str, usize> = HashMap::new();
        let mut params = Vec::new();
        let mut shapes = Vec::new();
        let mut slots = Vec::new();
        for (i, layer) in self.layers.iter().enumerate() {
            layer.validate(i)?;
            let base = match layer {
                Layer::Dense(_) => "dense",
                Layer::Dropout(_) => "dropout",
                Layer::Flatten { .. } => "flatten",
                Layer::Activation { .. } => "activation",
            };
            let c = counts.entry(base).or_insert(0);
            names.push(match layer.given_name() {
                Some(n) => n.to_string(),
                None if *c == 0 => base.to_string(),
                None => format!("{base}_{c}"),
            });
            *c += 1;
            match layer {
                Layer::Dense(d) => {
                    if rank > 1 {
                        return Err(Error::invalid(
                            format!("layers[{i}] (Dense) input"),
                            format!("per-sample shape {input_shape:?}"),
                            "a flat input: add a Flatten layer before the first Dense layer",
                        ));
                    }
                    let k = d
                        .kernel_initializer
                        .sample(width * d.units, width, d.units, &mut rng);
                    slots.push(Some((params.len(), d.use_bias.then_some(params.len() + 1))));
                    params.push(self.backend.upload(&k));
                    shapes.push(vec![width, d.units]);
                    if d.use_bias {
                        let b = d.bias_initializer.sample(d.units, width, d.units, &mut rng);
                        params.push(self.backend.upload(&b));
                        shapes.push(vec![d.units]);
                    }
                    width = d.units;
                }
                Layer::Flatten { .. } => {
                    rank = 1;
                    slots.push(None);
                }
                _ => slots.push(None),
            }
            widths.push(width);
        }
        self.built = Some(Built {
            input_shape: input_shape.to_vec(),
            widths,
            names,
            params,
            shapes,
            slots,
        });
        self.scratch = None;
        if let Some(c) = &mut self.compiled {
            c.opt_state = None;
        }
        Ok(())
    }

    /// Whether weights exist.
    pub fn is_built(&self) -> bool {
        self.built.is_some()
    }

    fn built(&self) -> Result<&Built<B>> {
        self.built.as_ref().ok_or_else(|| {
            Error::state("the model is not built yet: call build(input_shape) or fit/predict first")
        })
    }

    /// Output width of the model.
    pub fn output_width(&self) -> Result<usize> {
        let b = self.built()?;
        b.widths
            .last()
            .copied()
            .ok_or_else(|| Error::state("the model has no layers"))
    }

    /// The weights in Keras's order: each Dense layer's kernel (in x out), then its bias.
    pub fn get_weights(&self) -> Result<Vec<Tensor>> {
        let b = self.built()?;
        b.params
            .iter()
            .zip(&b.shapes)
            .map(|(p, s)| Tensor::new(s.clone(), self.backend.read(p)))
            .collect()
    }

    /// Replaces the weights; count and shapes must match `get_weights`.
    pub fn set_weights(&mut self, weights: &[Tensor]) -> Result<()> {
        self.replace_weights(weights, true)
    }

    /// Sets weights that training produced (a resume point, an executor's epoch report): as
    /// [`Sequential::set_weights`] but a diverged model's non-finite values are kept, as they
    /// would be in the model that trained them (its trial then fails on its NaN objective).
    pub fn restore_weights(&mut self, weights: &[Tensor]) -> Result<()> {
        self.replace_weights(weights, false)
    }

    fn replace_weights(&mut self, weights: &[Tensor], check_finite: bool) -> Result<()> {
        let backend = self.backend.clone();
        let b = self.built.as_mut().ok_or_else(|| {
            Error::state("the model is not built yet: call build(input_shape) before set_weights")
        })?;
        if weights.len() != b.params.len() {
            return Err(Error::invalid(
                "weights",
                format!("{} arrays", weights.len()),
                format!(
                    "exactly {} arrays (kernel then bias, layer by layer)",
                    b.params.len()
                ),
            ));
        }
        for (i, (w, s)) in weights.iter().zip(&b.shapes).enumerate() {
            if w.shape() != s.as_slice() {
                return Err(Error::shape(format!("weights[{i}]"), s, w.shape()));
            }
            if check_finite {
                w.check_finite(&format!("weights[{i}]"))?;
            }
        }
        for (p, w) in b.params.iter_mut().zip(weights) {
            *p = backend.upload(w.data());
        }
        self.weights_version += 1;
        Ok(())
    }

    /// Total number of parameters.
    pub fn count_params(&self) -> usize {
        self.built.as_ref().map_or(0, |b| {
            b.shapes.iter().map(|s| s.iter().product::<usize>()).sum()
        })
    }

    fn ensure_built(&mut self, x: &Tensor) -> Result<()> {
        let s = x.shape();
        if s.len() < 2 {
            return Err(Error::invalid(
                "x",
                format!("an array of shape {s:?}"),
                "a batch of samples: shape (samples, features...)",
            ));
        }
        self.build(&s[1..])
    }

    fn scratch(&mut self, rows: usize) -> Result<Scratch<B>> {
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
    fn forward(&self, s: &mut Scratch<B>, rows: usize, training: bool, step: u64) -> Result<()> {
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
    fn backward(&self, s: &mut Scratch<B>, rows: usize, training: bool) -> Result<f32> {
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
    fn penalty(&self) -> Result<f32> {
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

    fn compiled(&self) -> Result<&Compiled<B>> {
        self.compiled
            .as_ref()
            .ok_or_else(|| Error::state("the model must be compiled before training or evaluating it: call compile(optimizer, loss, metrics) first"))
    }

    fn metric_set(&self, y: &Tensor, out_w: usize) -> Result<MetricSet> {
        let c = self.compiled()?;
        let y_pred_shape = [y.rows(), out_w];
        // Keras's log keys: the name as given; a repeat within one list becomes name_1,
        // name_2, ...; a weighted metric whose name an unweighted one took becomes weighted_<name>.
        fn dedupe(name: &str, taken: &[String]) -> String {
            let mut k = 0;
            let mut candidate = name.to_string();
            while taken.contains(&candidate) {
                k += 1;
                candidate = format!("{name}_{k}");
            }
            candidate
        }
        let mut names: Vec<String> = Vec::new();
        let mut plain = Vec::new();
        for m in &c.metrics {
            plain.push(get_metric(m, y.shape(), &y_pred_shape)?);
            names.push(dedupe(m, &names));
        }
        for m in &c.custom {
            let mut fresh = m.boxed_clone();
            fresh.reset_state();
            names.push(dedupe(fresh.name(), &names));
            plain.push(fresh);
        }
        let plain_names = names.clone();
        let mut weighted_names: Vec<String> = Vec::new();
        let mut weighted = Vec::new();
        for m in &c.weighted_metrics {
            weighted.push(get_metric(m, y.shape(), &y_pred_shape)?);
            let own = dedupe(m, &weighted_names);
            weighted_names.push(own.clone());
            names.push(if plain_names.contains(&own) {
                format!("weighted_{own}")
            } else {
                own
            });
        }
        Ok(MetricSet {
            plain,
            weighted,
            names,
            loss_sum: 0.0,
            loss_count: 0.0,
        })
    }

    /// Checks x and y for a fit or evaluation and builds the model if needed.
    fn check_xy(&mut self, x: &Tensor, y: &Tensor, what: &str) -> Result<()> {
        if x.rows() == 0 || x.is_empty() {
            return Err(Error::data(format!(
                "{what} x is empty: at least one sample is needed"
            )));
        }
        if y.rows() != x.rows() {
            return Err(Error::data(format!(
                "{what} x has {} samples but y has {}; they must have the same first dimension",
                x.rows(),
                y.rows()
            )));
        }
        x.check_finite(&format!("{what} x"))?;
        y.check_finite(&format!("{what} y"))?;
        self.ensure_built(x)?;
        let in_shape = &self.built()?.input_shape;
        if &x.shape()[1..] != in_shape.as_slice() {
            return Err(Error::shape(
                format!("{what} x (per sample)"),
                in_shape,
                &x.shape()[1..],
            ));
        }
        let out_w = self.output_width()?;
        let loss = &self.compiled()?.loss;
        let n = y.rows();
        loss.check_shapes(y.len(), n * out_w, n)
            .map_err(|e| match e {
                Error::ShapeMismatch {
                    what: w,
                    expected,
                    got,
                } => Error::ShapeMismatch {
                    what: format!("{what} y for {w} (model output has {out_w} units)"),
                    expected,
                    got,
                },
                e => e,
            })
    }

    fn check_weights(w: Option<&[f32]>, n: usize, field: &str) -> Result<()> {
        if let Some(w) = w {
            if w.len() != n {
                return Err(Error::shape(field, &[n], &[w.len()]));
            }
            if let Some(i) = w.iter().position(|v| !v.is_finite() || *v < 0.0) {
                return Err(Error::invalid(
                    format!("{field}[{i}]"),
                    w[i],
                    "a finite weight >= 0",
                ));
            }
        }
        Ok(())
    }

    /// One optimizer step on a prepared batch in `s.acts[0]`; returns (loss incl. penalty, y_pred).
    fn train_step(
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

    /// Per-sample weights from sample_weight and class_weight (None when neither is given).
    fn combined_weights(
        y: &Tensor,
        sample_weight: Option<&[f32]>,
        class_weight: Option<&HashMap<usize, f32>>,
    ) -> Result<Option<Vec<f32>>> {
        let n = y.rows();
        Self::check_weights(sample_weight, n, "sample_weight")?;
        let mut w: Option<Vec<f32>> = sample_weight.map(|w| w.to_vec());
        if let Some(cw) = class_weight {
            let cols = y.cols();
            let mut out = w.unwrap_or_else(|| vec![1.0; n]);
            for (i, o) in out.iter_mut().enumerate() {
                let row = y.row(i);
                let class = if cols == 1 {
                    let v = row[0];
                    if v < 0.0 || v.fract() != 0.0 {
                        return Err(Error::data(format!(
                            "class_weight needs integer class ids in y; sample {i} has {v}"
                        )));
                    }
                    v as usize
                } else {
                    row.iter()
                        .enumerate()
                        .fold(
                            (0, f32::NEG_INFINITY),
                            |acc, (j, &v)| if v > acc.1 { (j, v) } else { acc },
                        )
                        .0
                };
                *o *= cw.get(&class).copied().unwrap_or(1.0);
            }
            w = Some(out);
        }
        Ok(w)
    }

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
        if let Some(gpu) = self.gpu_for(inp.y.cols())? {
            self.resolved = gpu.label();
            let mut models = [&mut *self];
            let mut cbs = [callbacks];
            let mut out = gpu_fit::fit_models(&gpu, &mut models, &inp, args, &mut cbs).await?;
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
        if let (true, Some(g)) = (all_gpu, gpu) {
            let inp = models[0].fit_inputs(x, y, args, &mut split)?;
            for m in models.iter_mut() {
                m.resolved = g.label();
            }
            return gpu_fit::fit_models(&g, models, &inp, args, callbacks).await;
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

    /// Checks fit's arguments and data; splits off validation data (kept in `split`).
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
        Ok(FitInputs { x, y, val, weights })
    }

    /// The CPU training loop; with `yielding`, it lets the host's event loop run after every
    /// epoch (the browser stays responsive and can repaint progress).
    async fn fit_cpu(
        &mut self,
        inp: &FitInputs<'_>,
        args: &FitArgs,
        callbacks: &mut [&mut dyn Callback],
        yielding: bool,
    ) -> Result<History> {
        let (x, y, val) = (inp.x, inp.y, inp.val);
        let weights = &inp.weights;
        let bs = args.batch_size.unwrap_or(32);
        let out_w = self.output_width()?;
        let mut metrics = self.metric_set(y, out_w)?;
        let n = x.rows();
        let in_w = x.cols();
        let steps = args.steps_per_epoch.unwrap_or(n.div_ceil(bs));
        let x_dev = self.backend.upload(x.data());
        let mut rng = StdRng::seed_from_u64(args.seed.unwrap_or(self.seed) ^ 0x5EED);
        let mut order: Vec<usize> = (0..n).collect();
        let mut cursor = n; // forces a (re)shuffle before the first batch
        if args.shuffle && args.steps_per_epoch.is_none() {
            // Replay the shuffles of the epochs before initial_epoch, so that resuming at
            // epoch k sees the same batches as an uninterrupted run from epoch 0.
            for _ in 0..args.initial_epoch {
                order.shuffle(&mut rng);
            }
        }
        let mut history = History::default();
        self.stop = false;
        for cb in callbacks.iter_mut() {
            cb.on_train_begin(self)?;
        }
        let mut last_logs = Logs::default();
        for epoch in args.initial_epoch..args.epochs {
            for cb in callbacks.iter_mut() {
                cb.on_epoch_begin(epoch, self)?;
            }
            metrics.reset();
            if args.verbose == 1 {
                println!("Epoch {}/{}", epoch + 1, args.epochs);
            }
            let started = Instant::now();
            if args.steps_per_epoch.is_none() {
                cursor = n;
            }
            let mut batch_logs = Logs::default();
            for step in 0..steps {
                if cursor >= n {
                    if args.shuffle {
                        order.shuffle(&mut rng);
                    }
                    cursor = 0;
                }
                let end = (cursor + bs).min(n);
                let idx = &order[cursor..end];
                cursor = end;
                let rows = idx.len();
                for cb in callbacks.iter_mut() {
                    cb.on_train_batch_begin(step, self)?;
                }
                let mut s = self.scratch(rows)?;
                self.backend.gather_rows(&x_dev, in_w, idx, &mut s.acts[0]);
                let yb = y.gather_rows(idx);
                let wb: Option<Vec<f32>> = weights
                    .as_ref()
                    .map(|w| idx.iter().map(|&i| w[i]).collect());
                let y_dev = self.backend.upload(yb.data());
                let w_dev = wb.as_ref().map(|w| self.backend.upload(w));
                let result = self.train_step(&mut s, rows, &y_dev, w_dev.as_ref());
                let yp = s
                    .acts
                    .last()
                    .map(|a| self.backend.read(a))
                    .unwrap_or_default();
                self.scratch = Some(s);
                let loss = result?;
                metrics.update(loss, yb.data(), &yp, rows, wb.as_deref())?;
                batch_logs = metrics.logs("");
                for cb in callbacks.iter_mut() {
                    cb.on_train_batch_end(step, &batch_logs, self)?;
                }
                if args.verbose == 1 {
                    progress(step + 1, steps, started, &batch_logs, false);
                }
                if self.stop {
                    break;
                }
            }
            let mut logs = batch_logs;
            let validate = val.is_some() && (epoch + 1) % args.validation_freq == 0;
            if let (true, Some(v)) = (validate, &val) {
                let vbs = args.validation_batch_size.unwrap_or(bs);
                let vlogs = self.evaluate_logs(
                    &v.x,
                    &v.y,
                    vbs,
                    v.sample_weight.as_deref(),
                    args.validation_steps,
                    "val_",
                    None,
                )?;
                for (k, val) in vlogs.iter() {
                    logs.set(k, val);
                }
            }
            for cb in callbacks.iter_mut() {
                cb.on_epoch_end(epoch, &mut logs, self)?;
            }
            match args.verbose {
                1 => progress(steps, steps, started, &logs, true),
                2 => {
                    println!("Epoch {}/{}", epoch + 1, args.epochs);
                    epoch_line(steps, started, &logs)
                }
                _ => {}
            }
            history.record(epoch, &logs);
            last_logs = logs;
            if self.stop {
                break;
            }
            if yielding {
                crate::runtime::yield_now().await;
            }
        }
        for cb in callbacks.iter_mut() {
            cb.on_train_end(self, &last_logs)?;
        }
        Ok(history)
    }

    /// Loss and metrics over `x`, `y` in batches, keys prefixed with `prefix`.
    #[allow(clippy::too_many_arguments)]
    fn evaluate_logs(
        &mut self,
        x: &Tensor,
        y: &Tensor,
        bs: usize,
        sw: Option<&[f32]>,
        steps: Option<usize>,
        prefix: &str,
        preds: Option<&[f32]>,
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
        let loss_fn = self.compiled()?.loss.clone();
        for (step, start) in (0..n).step_by(bs).enumerate() {
            if step >= max_steps {
                break;
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
        }
        Ok(metrics.logs(prefix))
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
        let logs = self.evaluate_logs(
            x,
            y,
            batch_size.unwrap_or(32),
            sample_weight,
            None,
            "",
            None,
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
        self.compiled()?;
        let bs = batch_size.unwrap_or(32);
        if bs == 0 {
            return Err(Error::invalid("batch_size", 0, "an integer >= 1"));
        }
        self.check_xy(x, y, "evaluation")?;
        crate::gpu::prepare(self.device).await;
        let preds = match self.gpu_for(y.cols())? {
            Some(gpu) => {
                self.resolved = gpu.label();
                Some(gpu_fit::predict_rows(&gpu, self, x, bs, y.cols()).await?)
            }
            None => None,
        };
        let logs = self.evaluate_logs(x, y, bs, sample_weight, None, "", preds.as_deref())?;
        Ok(Evaluation::shape(logs, return_dict))
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
        self.predict_cpu(x, bs)
    }

    /// `predict`, awaiting the GPU when the model's device is one.
    pub async fn predict_async(&mut self, x: &Tensor, batch_size: Option<usize>) -> Result<Tensor> {
        let bs = batch_size.unwrap_or(32);
        self.check_predict(x, bs)?;
        let out_w = self.output_width()?;
        crate::gpu::prepare(self.device).await;
        if let Some(gpu) = self.gpu_for(out_w)? {
            self.resolved = gpu.label();
            let p = gpu_fit::predict_rows(&gpu, self, x, bs, out_w).await?;
            return Tensor::new(vec![x.rows(), out_w], p);
        }
        self.predict_cpu(x, bs)
    }

    fn predict_cpu(&mut self, x: &Tensor, bs: usize) -> Result<Tensor> {
        let out_w = self.output_width()?;
        let n = x.rows();
        let mut out = Vec::with_capacity(n * out_w);
        for start in (0..n).step_by(bs) {
            let end = (start + bs).min(n);
            let rows = end - start;
            let mut s = self.scratch(rows)?;
            s.acts[0] = self.backend.upload(x.slice_rows(start, end).data());
            let fwd = self.forward(&mut s, rows, false, 0);
            let last = s.acts.len() - 1;
            out.extend(self.backend.read(&s.acts[last]));
            self.scratch = Some(s);
            fwd?;
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
        let logs = self.evaluate_logs(x, y, rows, sample_weight, None, "", None)?;
        Ok(Evaluation::shape(logs, return_dict))
    }

    /// Keras's `summary()` table as text.
    pub fn summary(&self) -> Result<String> {
        let b = self.built()?;
        let (w1, w2, w3) = (33, 27, 12);
        let bar = |l: char, m: char, r: char, f: char| -> String {
            format!(
                "{l}{}{m}{}{m}{}{r}\n",
                f.to_string().repeat(w1),
                f.to_string().repeat(w2),
                f.to_string().repeat(w3)
            )
        };
        let mut s = format!("Model: \"{}\"\n", self.name);
        s += &bar('┏', '┳', '┓', '━');
        s += &format!(
            "┃ {:<a$} ┃ {:<b$} ┃ {:>c$} ┃\n",
            "Layer (type)",
            "Output Shape",
            "Param #",
            a = w1 - 2,
            b = w2 - 2,
            c = w3 - 2
        );
        s += &bar('┡', '╇', '┩', '━');
        let mut total = 0;
        for (i, layer) in self.layers.iter().enumerate() {
            let count: usize = match b.slots[i] {
                Some((k, bias)) => {
                    b.shapes[k].iter().product::<usize>()
                        + bias.map_or(0, |bi| b.shapes[bi].iter().product())
                }
                None => 0,
            };
            total += count;
            let shape = if i == 0
                && matches!(layer, Layer::Dropout(_) | Layer::Activation { .. })
                && b.input_shape.len() > 1
            {
                let dims: Vec<String> = b.input_shape.iter().map(|d| d.to_string()).collect();
                format!("(None, {})", dims.join(", "))
            } else {
                format!("(None, {})", b.widths[i])
            };
            s += &format!(
                "│ {:<a$} │ {:<b$} │ {:>c$} │\n",
                format!("{} ({})", b.names[i], layer.class_name()),
                shape,
                group(count),
                a = w1 - 2,
                b = w2 - 2,
                c = w3 - 2
            );
            s += &if i + 1 < self.layers.len() {
                bar('├', '┼', '┤', '─')
            } else {
                bar('└', '┴', '┘', '─')
            };
        }
        s += &format!(" Total params: {} ({})\n", group(total), bytes(total * 4));
        s += &format!(
            " Trainable params: {} ({})\n",
            group(total),
            bytes(total * 4)
        );
        s += " Non-trainable params: 0 (0.00 B)\n";
        Ok(s)
    }
}

impl<B: Backend> ModelAccess for Sequential<B> {
    fn get_weights(&self) -> Vec<Tensor> {
        Sequential::get_weights(self).unwrap_or_default()
    }
    fn set_weights(&mut self, weights: &[Tensor]) -> Result<()> {
        Sequential::set_weights(self, weights)
    }
    fn stop_training(&mut self) {
        self.stop = true;
    }
    fn learning_rate(&self) -> f32 {
        self.compiled.as_ref().map_or(0.0, |c| c.learning_rate)
    }
    fn set_learning_rate(&mut self, lr: f32) {
        if let Some(c) = &mut self.compiled {
            c.learning_rate = lr;
        }
    }
    fn training_state(&self) -> Option<TrainingState> {
        Sequential::training_state(self)
    }
}

/// 12345 -> "12,345".
fn group(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Keras's byte sizes: "99.41 KB", "2.12 MB".
fn bytes(n: usize) -> String {
    let units = ["B", "KB", "MB", "GB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.2} {}", units[u])
}

/// Keras's number format in logs: 4 decimals, scientific below 1e-3.
pub fn fmt_value(v: f32) -> String {
    if v != 0.0 && v.abs() < 1e-3 {
        format!("{v:.4e}")
    } else {
        format!("{v:.4}")
    }
}

/// Keras 3's progress bar line (`12/45 ━━━━━━━━━━━━━━━━━━━━ 1s 5ms/step - loss: 0.2345`).
fn progress(done: usize, total: usize, started: Instant, logs: &Logs, finished: bool) {
    let width = 20;
    let filled = (width * done).checked_div(total).unwrap_or(width);
    let secs = started.elapsed().as_secs_f64();
    let per_step = secs / done.max(1) as f64;
    let time = if finished {
        format!("{}s {}", secs.round() as u64, step_time(per_step))
    } else {
        format!(
            "{}s {}",
            ((total - done) as f64 * per_step).round() as u64,
            step_time(per_step)
        )
    };
    let tw = total.to_string().len();
    let line = format!(
        "\r{done:>tw$}/{total} {}{} {time} - {}",
        "━".repeat(filled),
        "─".repeat(width - filled),
        sorted_logs(logs)
    );
    let mut out = std::io::stdout();
    let _ = out.write_all(line.as_bytes());
    if finished {
        let _ = out.write_all(b"\n");
    }
    let _ = out.flush();
}

/// Keras 3's `verbose=2` line: `45/45 - 1s - 5ms/step - loss: 0.2345`.
fn epoch_line(steps: usize, started: Instant, logs: &Logs) {
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{steps}/{steps} - {}s - {} - {}",
        secs.round() as u64,
        step_time(secs / steps.max(1) as f64),
        sorted_logs(logs)
    );
}

/// `name: value` pairs sorted by name, joined with " - ", as Keras's progress bar shows them.
fn sorted_logs(logs: &Logs) -> String {
    let mut keys: Vec<(&str, f32)> = logs.iter().collect();
    keys.sort_by(|a, b| a.0.cmp(b.0));
    let vals: Vec<String> = keys
        .iter()
        .map(|(k, v)| format!("{k}: {}", fmt_value(*v)))
        .collect();
    vals.join(" - ")
}

fn step_time(s: f64) -> String {
    if s >= 1.0 {
        format!("{}s/step", s.round() as u64)
    } else if s >= 1e-3 {
        format!("{}ms/step", (s * 1e3).round() as u64)
    } else {
        format!("{}us/step", (s * 1e6).round() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::layers::{activation, flatten, Dense, Dropout};
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

    #[test]
    fn summary_matches_keras_layout() {
        let mut m = Sequential::new();
        m.add(flatten());
        m.add(Dense::new(32).activation(Activation::Relu));
        m.add(Dropout::new(0.25));
        m.add(Dense::new(10).activation(Activation::Softmax));
        m.build(&[28, 28]).unwrap();
        let s = m.summary().unwrap();
        assert!(s.starts_with("Model: \"sequential\"\n┏"), "{s}");
        assert!(
            s.contains(
                "│ flatten (Flatten)               │ (None, 784)               │          0 │"
            ),
            "{s}"
        );
        assert!(
            s.contains(
                "│ dense (Dense)                   │ (None, 32)                │     25,120 │"
            ),
            "{s}"
        );
        assert!(
            s.contains(
                "│ dense_1 (Dense)                 │ (None, 10)                │        330 │"
            ),
            "{s}"
        );
        assert!(s.contains(" Total params: 25,450 (99.41 KB)\n"), "{s}");
        assert!(s.contains(" Non-trainable params: 0 (0.00 B)\n"), "{s}");
    }
}
