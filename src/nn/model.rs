//! `Sequential`: Keras's model for a stack of layers: layers, build, weights in Keras's order,
//! compile, and the checks of data and weights. Generic over the [`Backend`]; the CPU
//! reference is the default. Training is in `fit.rs` (one host loop over the CPU engine of
//! `cpu_fit.rs` or the GPU engine of `gpu_fit.rs`), evaluate / predict and the on-batch
//! variants in `predict.rs`, the summary table in `summary.rs`, progress output in
//! `progress.rs`.

use crate::backend::{Backend, Cpu};
use crate::error::{Error, Result};
use crate::gpu::{Device, Gpu, Resolved};
use crate::nn::callbacks::{ModelAccess, TrainingState};
use crate::nn::history::Logs;
use crate::nn::layers::{Layer, Normalization};
use crate::nn::metrics::{get_metric, Metric};
use crate::ops::losses::Loss;
use crate::ops::optimizers::Optimizer;
use crate::tensor::Tensor;
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::borrow::Cow;
use std::collections::HashMap;

use super::cpu_fit::Scratch;

pub use super::fit::{FitArgs, ValidationData, Verbose};
pub use super::predict::{EvalArgs, Evaluation};
pub use super::progress::fmt_value;

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
pub(super) struct Built<B: Backend> {
    /// Per-sample input shape.
    pub(super) input_shape: Vec<usize>,
    /// Output width of each layer.
    pub(super) widths: Vec<usize>,
    /// Names shown in the summary (Keras's auto names: dense, dense_1, ...).
    pub(super) names: Vec<String>,
    /// Parameters in get_weights order.
    pub(super) params: Vec<B::Buf>,
    pub(super) shapes: Vec<Vec<usize>>,
    /// For each layer, (kernel index, bias index) into `params` for Dense layers.
    pub(super) slots: Vec<Option<(usize, Option<usize>)>>,
}

/// Optimizer, loss, metric names, and the state they accumulate.
pub(super) struct Compiled<B: Backend> {
    pub(super) optimizer: Optimizer,
    pub(super) loss: Loss,
    pub(super) metrics: Vec<String>,
    pub(super) weighted_metrics: Vec<String>,
    pub(super) custom: Vec<Box<dyn Metric>>,
    pub(super) opt_state: Option<Vec<Vec<B::Buf>>>,
    pub(super) iterations: u64,
    pub(super) learning_rate: f32,
    pub(super) u_product: f32,
}

/// Metric objects for one pass over data (training or evaluation).
pub(super) struct MetricSet {
    plain: Vec<Box<dyn Metric>>,
    weighted: Vec<Box<dyn Metric>>,
    names: Vec<String>,
    loss_sum: f64,
    loss_count: f64,
}

impl MetricSet {
    pub(super) fn reset(&mut self) {
        self.plain.iter_mut().for_each(|m| m.reset_state());
        self.weighted.iter_mut().for_each(|m| m.reset_state());
        self.loss_sum = 0.0;
        self.loss_count = 0.0;
    }
    pub(super) fn update(
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
    pub(super) fn logs(&self, prefix: &str) -> Logs {
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
    pub(super) backend: B,
    pub(super) layers: Vec<Layer>,
    pub(super) input_shape: Option<Vec<usize>>,
    pub(super) built: Option<Built<B>>,
    pub(super) compiled: Option<Compiled<B>>,
    pub(super) seed: u64,
    pub(super) stop: bool,
    pub(super) name: String,
    pub(super) scratch: Option<Scratch<B>>,
    pub(super) device: Device,
    /// Where the last fit ran ("cpu", "webgpu (adapter, backend)"), and why not on the GPU.
    pub(super) resolved: String,
    pub(super) device_note: Option<String>,
    /// Bumped whenever weights or optimizer state are replaced from outside a fit step.
    pub(super) weights_version: u64,
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
    pub(super) fn gpu_for(&mut self, target_cols: usize) -> Result<Option<Gpu>> {
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
                Layer::Normalization(_) => "normalization",
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
                Layer::Normalization(n) => {
                    let leading =
                        i == 0 || (i == 1 && matches!(self.layers[0], Layer::Flatten { .. }));
                    if !leading {
                        return Err(Error::invalid(
                            format!("layers[{i}] (Normalization)"),
                            format!("position {i}"),
                            "the first layer (or the second, after a leading Flatten): tunelab \
                             normalizes the model's input",
                        ));
                    }
                    let features = normalization_features(input_shape, i);
                    if let Some(m) = &n.mean {
                        if n.axis.is_some() && m.len() != features {
                            return Err(Error::invalid(
                                format!("layers[{i}].mean"),
                                format!("{} values", m.len()),
                                format!("one per feature of the input's last axis ({features})"),
                            ));
                        }
                    }
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

    pub(super) fn built(&self) -> Result<&Built<B>> {
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

    /// The weights in Keras's order: a Normalization layer's mean, variance and count (zeros,
    /// ones and 0 while unadapted), then each Dense layer's kernel (in x out) and its bias.
    pub fn get_weights(&self) -> Result<Vec<Tensor>> {
        let b = self.built()?;
        let mut out = match self.normalization() {
            Some((i, n)) => {
                let f = normalization_features(&b.input_shape, i);
                let shape = if n.axis.is_some() { vec![f] } else { vec![] };
                let len = shape.iter().product::<usize>();
                vec![
                    Tensor::new(shape.clone(), n.mean.clone().unwrap_or(vec![0.0; len]))?,
                    Tensor::new(shape, n.variance.clone().unwrap_or(vec![1.0; len]))?,
                    Tensor::new(
                        vec![],
                        vec![if n.is_adapted() {
                            n.count.max(1) as f32
                        } else {
                            0.0
                        }],
                    )?,
                ]
            }
            None => Vec::new(),
        };
        for (p, s) in b.params.iter().zip(&b.shapes) {
            out.push(Tensor::new(s.clone(), self.backend.read(p))?);
        }
        Ok(out)
    }

    /// The model's Normalization layer and its index, if it has one.
    pub fn normalization(&self) -> Option<(usize, &Normalization)> {
        self.layers.iter().enumerate().find_map(|(i, l)| match l {
            Layer::Normalization(n) => Some((i, n)),
            _ => None,
        })
    }

    /// Adapts an unadapted Normalization layer on `x` (the training rows, as `fit` passes
    /// them); a layer with statistics keeps them.
    pub(super) fn adapt_normalization(&mut self, x: &Tensor) -> Result<()> {
        let Some(i) = self
            .normalization()
            .filter(|(_, n)| !n.is_adapted())
            .map(|(i, _)| i)
        else {
            return Ok(());
        };
        if x.rows() == 0 {
            return Ok(());
        }
        x.check_finite("training x")?;
        let shape = x.shape()[1..].to_vec();
        let f = normalization_features(&shape, i);
        if let Layer::Normalization(n) = &mut self.layers[i] {
            n.adapt_columns(x.data(), f, x.rows());
        }
        Ok(())
    }

    /// `x` as the first weighted layer sees it: standardized by the Normalization layer (a
    /// copy), or `x` itself when the model has none.
    pub(super) fn normalized<'a>(&self, x: &'a Tensor) -> Cow<'a, Tensor> {
        match self.normalization() {
            Some((_, n)) if n.is_adapted() => {
                let mut data = x.data().to_vec();
                n.apply(&mut data);
                match Tensor::new(x.shape().to_vec(), data) {
                    Ok(t) => Cow::Owned(t),
                    Err(_) => Cow::Borrowed(x),
                }
            }
            _ => Cow::Borrowed(x),
        }
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
        let norm = self
            .layers
            .iter()
            .position(|l| matches!(l, Layer::Normalization(_)));
        let extra = if norm.is_some() { 3 } else { 0 };
        if weights.len() != b.params.len() + extra {
            return Err(Error::invalid(
                "weights",
                format!("{} arrays", weights.len()),
                format!(
                    "exactly {} arrays ({}kernel then bias, layer by layer)",
                    b.params.len() + extra,
                    if extra > 0 {
                        "the Normalization layer's mean, variance and count, then "
                    } else {
                        ""
                    }
                ),
            ));
        }
        let (stats, weights) = weights.split_at(extra);
        if let Some(i) = norm {
            let f = normalization_features(&b.input_shape, i);
            if let Layer::Normalization(n) = &mut self.layers[i] {
                let shape = if n.axis.is_some() { vec![f] } else { vec![] };
                for (k, what) in [(0, "mean"), (1, "variance")] {
                    if stats[k].shape() != shape.as_slice() {
                        return Err(Error::shape(
                            format!("weights[{k}] (Normalization {what})"),
                            &shape,
                            stats[k].shape(),
                        ));
                    }
                    stats[k].check_finite(&format!("weights[{k}] (Normalization {what})"))?;
                }
                if stats[2].len() != 1 {
                    return Err(Error::shape(
                        "weights[2] (Normalization count)",
                        &[] as &[usize],
                        stats[2].shape(),
                    ));
                }
                let count = stats[2].data()[0];
                if count > 0.0 {
                    n.mean = Some(stats[0].data().to_vec());
                    n.variance = Some(stats[1].data().to_vec());
                    n.count = count as u64;
                } else {
                    n.mean = None;
                    n.variance = None;
                    n.count = 0;
                }
            }
        }
        for (i, (w, s)) in weights.iter().zip(&b.shapes).enumerate() {
            if w.shape() != s.as_slice() {
                return Err(Error::shape(
                    format!("weights[{}]", i + extra),
                    s,
                    w.shape(),
                ));
            }
            if check_finite {
                w.check_finite(&format!("weights[{}]", i + extra))?;
            }
        }
        for (p, w) in b.params.iter_mut().zip(weights) {
            *p = backend.upload(w.data());
        }
        self.weights_version += 1;
        Ok(())
    }

    /// Total number of parameters (Keras's count: a Normalization layer's mean, variance and
    /// count are non-trainable parameters).
    pub fn count_params(&self) -> usize {
        self.built.as_ref().map_or(0, |b| {
            b.shapes
                .iter()
                .map(|s| s.iter().product::<usize>())
                .sum::<usize>()
                + self.non_trainable_params()
        })
    }

    /// The Normalization layer's parameters (mean, variance and count), 0 without one.
    pub fn non_trainable_params(&self) -> usize {
        match (self.normalization(), &self.built) {
            (Some((i, n)), Some(b)) => {
                let f = if n.axis.is_some() {
                    normalization_features(&b.input_shape, i)
                } else {
                    1
                };
                2 * f + 1
            }
            _ => 0,
        }
    }

    pub(super) fn ensure_built(&mut self, x: &Tensor) -> Result<()> {
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

    pub(super) fn compiled(&self) -> Result<&Compiled<B>> {
        self.compiled
            .as_ref()
            .ok_or_else(|| Error::state("the model must be compiled before training or evaluating it: call compile(optimizer, loss, metrics) first"))
    }

    pub(super) fn metric_set(&self, y: &Tensor, out_w: usize) -> Result<MetricSet> {
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
    pub(super) fn check_xy(&mut self, x: &Tensor, y: &Tensor, what: &str) -> Result<()> {
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

    pub(super) fn check_weights(w: Option<&[f32]>, n: usize, field: &str) -> Result<()> {
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

    /// Per-sample weights from sample_weight and class_weight (None when neither is given).
    pub(super) fn combined_weights(
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

/// How many features a Normalization layer at `index` sees for a per-sample `input_shape`:
/// the last axis, or every value when a leading Flatten came first.
pub(crate) fn normalization_features(input_shape: &[usize], index: usize) -> usize {
    if index > 0 || input_shape.len() <= 1 {
        input_shape.iter().product()
    } else {
        input_shape.last().copied().unwrap_or(1)
    }
}
