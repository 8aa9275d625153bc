//! Layer configurations, Keras-style builders: `Dense::new(64).activation(Activation::Relu)`.
//! A layer here is plain data; [`crate::nn::Sequential`] turns the list into weights and runs it.

use crate::error::{Error, Result};
use crate::nn::initializers::Initializer;
use crate::ops::activations::Activation;
use crate::ops::regularizers::Regularizer;

/// A fully connected layer: `activation(x @ kernel + bias)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dense {
    pub units: usize,
    pub activation: Activation,
    pub use_bias: bool,
    pub kernel_initializer: Initializer,
    pub bias_initializer: Initializer,
    pub kernel_regularizer: Option<Regularizer>,
    pub bias_regularizer: Option<Regularizer>,
    pub name: Option<String>,
}

impl Dense {
    /// Keras's defaults: linear activation, bias, glorot_uniform kernel, zero bias.
    pub fn new(units: usize) -> Self {
        Dense {
            units,
            activation: Activation::Linear,
            use_bias: true,
            kernel_initializer: Initializer::GlorotUniform,
            bias_initializer: Initializer::Zeros,
            kernel_regularizer: None,
            bias_regularizer: None,
            name: None,
        }
    }
    /// Sets the activation.
    pub fn activation(mut self, a: Activation) -> Self {
        self.activation = a;
        self
    }
    /// Turns the bias on or off.
    pub fn use_bias(mut self, b: bool) -> Self {
        self.use_bias = b;
        self
    }
    /// Sets the kernel initializer.
    pub fn kernel_initializer(mut self, i: Initializer) -> Self {
        self.kernel_initializer = i;
        self
    }
    /// Sets the bias initializer.
    pub fn bias_initializer(mut self, i: Initializer) -> Self {
        self.bias_initializer = i;
        self
    }
    /// Sets the kernel regularizer.
    pub fn kernel_regularizer(mut self, r: Regularizer) -> Self {
        self.kernel_regularizer = Some(r);
        self
    }
    /// Sets the bias regularizer.
    pub fn bias_regularizer(mut self, r: Regularizer) -> Self {
        self.bias_regularizer = Some(r);
        self
    }
    /// Names the layer.
    pub fn name(mut self, n: impl Into<String>) -> Self {
        self.name = Some(n.into());
        self
    }
}

/// Randomly zeroes a fraction `rate` of inputs during training, scaling the rest by 1/(1-rate).
#[derive(Debug, Clone, PartialEq)]
pub struct Dropout {
    pub rate: f32,
    pub seed: Option<u64>,
    pub name: Option<String>,
}

impl Dropout {
    /// A dropout layer with `rate` in [0, 1).
    pub fn new(rate: f32) -> Self {
        Dropout {
            rate,
            seed: None,
            name: None,
        }
    }
    /// Seeds the mask stream.
    pub fn seed(mut self, s: u64) -> Self {
        self.seed = Some(s);
        self
    }
}

/// Keras's `Normalization`: `(x - mean) / sqrt(variance)` per feature of the last axis (or one
/// mean and variance for every value with `axis: None`). tunelab runs it on the model's input,
/// so it is the first layer (after an optional leading `Flatten`). Its statistics come from
/// [`Normalization::adapt`], from the constructor, or, when neither gave them, from the
/// training rows at the start of `fit` (after `validation_split`): Keras would leave such a
/// layer as the identity, which is never what its user meant. `get_weights` lists them first,
/// as Keras does: mean, variance, count.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalization {
    /// `Some(-1)` (Keras's default: one mean and variance per feature) or `None` (one for all).
    pub axis: Option<i64>,
    /// Per-feature means (one value with `axis: None`); `None` until adapted.
    pub mean: Option<Vec<f32>>,
    /// Per-feature variances, as `mean`.
    pub variance: Option<Vec<f32>>,
    /// How many samples the statistics were adapted on (0 when they were given).
    pub count: u64,
    pub name: Option<String>,
}

/// Keras's `backend.epsilon()`: the smallest standard deviation Normalization divides by.
pub const NORMALIZATION_EPSILON: f32 = 1e-7;

impl Default for Normalization {
    fn default() -> Self {
        Self::new()
    }
}

impl Normalization {
    /// An unadapted layer over the last axis.
    pub fn new() -> Self {
        Normalization {
            axis: Some(-1),
            mean: None,
            variance: None,
            count: 0,
            name: None,
        }
    }

    /// Keras's `Normalization(mean=..., variance=...)`: given statistics, one value per feature.
    pub fn with_stats(mean: Vec<f32>, variance: Vec<f32>) -> Result<Self> {
        let n = Normalization {
            mean: Some(mean),
            variance: Some(variance),
            ..Self::new()
        };
        n.check_stats("normalization")?;
        Ok(n)
    }

    /// One mean and variance for every value (Keras's `axis=None`).
    pub fn axis_none(mut self) -> Self {
        self.axis = None;
        self
    }

    /// Names the layer.
    pub fn name(mut self, n: impl Into<String>) -> Self {
        self.name = Some(n.into());
        self
    }

    /// Whether statistics exist (adapted or given).
    pub fn is_adapted(&self) -> bool {
        self.mean.is_some() && self.variance.is_some()
    }

    /// Keras's `adapt(data)`: the mean and (population) variance of `x`'s rows, per feature of
    /// the last axis (or of every value with `axis: None`).
    pub fn adapt(&mut self, x: &crate::tensor::Tensor) -> Result<()> {
        let s = x.shape();
        if s.len() < 2 || x.rows() == 0 {
            return Err(Error::invalid(
                "Normalization.adapt x",
                format!("an array of shape {s:?}"),
                "a batch of at least one sample: shape (samples, features...)",
            ));
        }
        x.check_finite("Normalization.adapt x")?;
        let f = match self.axis {
            Some(_) => s[s.len() - 1],
            None => 1,
        };
        let (mean, variance) = moments(x.data(), f.max(1));
        self.mean = Some(mean);
        self.variance = Some(variance);
        self.count = x.rows() as u64;
        Ok(())
    }

    /// The layer called on data (Keras's `Normalization()(x)`): `x` standardized with the
    /// layer's statistics, adapted on `x` first when it has none.
    pub fn call(&mut self, x: &crate::tensor::Tensor) -> Result<crate::tensor::Tensor> {
        if !self.is_adapted() {
            self.adapt(x)?;
        }
        let f = x.shape().last().copied().unwrap_or(1);
        if let Some(m) = &self.mean {
            if m.len() != 1 && m.len() != f {
                return Err(Error::invalid(
                    "Normalization x",
                    format!("{f} features on the last axis"),
                    format!("{} (the layer's statistics)", m.len()),
                ));
            }
        }
        let mut data = x.data().to_vec();
        self.apply(&mut data);
        crate::tensor::Tensor::new(x.shape().to_vec(), data)
    }

    /// [`Normalization::adapt`] over `features` columns of row-major `data` (the input as the
    /// layer sees it: after a leading Flatten, every value of a sample is a feature).
    pub(crate) fn adapt_columns(&mut self, data: &[f32], features: usize, rows: usize) {
        let f = if self.axis.is_some() { features } else { 1 };
        let (mean, variance) = moments(data, f.max(1));
        self.mean = Some(mean);
        self.variance = Some(variance);
        self.count = rows as u64;
    }

    /// Normalizes row-major `data` in place, `features` values per feature group; the identity
    /// while unadapted.
    pub(crate) fn apply(&self, data: &mut [f32]) {
        let (Some(mean), Some(var)) = (&self.mean, &self.variance) else {
            return;
        };
        let f = mean.len().max(1);
        let inv: Vec<f32> = var
            .iter()
            .map(|v| 1.0 / v.max(0.0).sqrt().max(NORMALIZATION_EPSILON))
            .collect();
        for (i, v) in data.iter_mut().enumerate() {
            let j = i % f;
            *v = (*v - mean[j]) * inv[j];
        }
    }

    /// Checks given statistics: both or neither, the same length, finite, variances >= 0.
    pub(crate) fn check_stats(&self, path: &str) -> Result<()> {
        match (&self.mean, &self.variance) {
            (None, None) => Ok(()),
            (Some(_), None) | (None, Some(_)) => Err(Error::invalid(
                format!("{path}.mean / {path}.variance"),
                "only one of them",
                "both (given statistics) or neither (adapted on the training data)",
            )),
            (Some(m), Some(v)) => {
                if m.is_empty() || m.len() != v.len() {
                    return Err(Error::invalid(
                        format!("{path}.variance"),
                        format!("{} values for {} means", v.len(), m.len()),
                        "one variance per mean (at least one)",
                    ));
                }
                if let Some(x) = m.iter().find(|x| !x.is_finite()) {
                    return Err(Error::invalid(format!("{path}.mean"), x, "finite numbers"));
                }
                if let Some(x) = v.iter().find(|x| !x.is_finite() || **x < 0.0) {
                    return Err(Error::invalid(
                        format!("{path}.variance"),
                        x,
                        "finite numbers >= 0",
                    ));
                }
                if self.axis.is_none() && m.len() != 1 {
                    return Err(Error::invalid(
                        format!("{path}.mean"),
                        format!("{} values", m.len()),
                        "one value with axis None",
                    ));
                }
                Ok(())
            }
        }
    }
}

/// Per-column mean and population variance (in f64) of row-major `data` with `f` columns.
fn moments(data: &[f32], f: usize) -> (Vec<f32>, Vec<f32>) {
    let mut sum = vec![0f64; f];
    let mut n = vec![0usize; f];
    for (i, v) in data.iter().enumerate() {
        sum[i % f] += *v as f64;
        n[i % f] += 1;
    }
    let mean: Vec<f64> = sum
        .iter()
        .zip(&n)
        .map(|(s, &c)| if c == 0 { 0.0 } else { s / c as f64 })
        .collect();
    let mut sq = vec![0f64; f];
    for (i, v) in data.iter().enumerate() {
        let d = *v as f64 - mean[i % f];
        sq[i % f] += d * d;
    }
    let var = sq
        .iter()
        .zip(&n)
        .map(|(s, &c)| if c == 0 { 1.0 } else { (s / c as f64) as f32 })
        .collect();
    (mean.into_iter().map(|m| m as f32).collect(), var)
}

/// One layer of a [`crate::nn::Sequential`] model.
#[derive(Debug, Clone, PartialEq)]
pub enum Layer {
    Dense(Dense),
    Dropout(Dropout),
    /// Flattens each sample to one row (data is already row-major, so this is free).
    Flatten {
        name: Option<String>,
    },
    /// Applies an activation function.
    Activation {
        activation: Activation,
        name: Option<String>,
    },
    /// Standardizes the model's input (see [`Normalization`]).
    Normalization(Normalization),
}

impl From<Dense> for Layer {
    fn from(d: Dense) -> Self {
        Layer::Dense(d)
    }
}
impl From<Normalization> for Layer {
    fn from(n: Normalization) -> Self {
        Layer::Normalization(n)
    }
}
impl From<Dropout> for Layer {
    fn from(d: Dropout) -> Self {
        Layer::Dropout(d)
    }
}

/// Keras's `Flatten()`.
pub fn flatten() -> Layer {
    Layer::Flatten { name: None }
}

/// Keras's `Activation(name)`.
pub fn activation(a: Activation) -> Layer {
    Layer::Activation {
        activation: a,
        name: None,
    }
}

impl Layer {
    /// Keras's class name.
    pub fn class_name(&self) -> &'static str {
        match self {
            Layer::Dense(_) => "Dense",
            Layer::Dropout(_) => "Dropout",
            Layer::Flatten { .. } => "Flatten",
            Layer::Activation { .. } => "Activation",
            Layer::Normalization(_) => "Normalization",
        }
    }

    /// The user-given name, if any.
    pub fn given_name(&self) -> Option<&str> {
        match self {
            Layer::Dense(d) => d.name.as_deref(),
            Layer::Dropout(d) => d.name.as_deref(),
            Layer::Normalization(n) => n.name.as_deref(),
            Layer::Flatten { name } | Layer::Activation { name, .. } => name.as_deref(),
        }
    }

    /// Checks arguments; `index` is the layer's position for the message.
    pub fn validate(&self, index: usize) -> Result<()> {
        match self {
            Layer::Dense(d) => {
                if d.units == 0 {
                    return Err(Error::invalid(
                        format!("layers[{index}].units"),
                        0,
                        "an integer >= 1",
                    ));
                }
                for r in [&d.kernel_regularizer, &d.bias_regularizer]
                    .into_iter()
                    .flatten()
                {
                    r.validate()?;
                }
            }
            Layer::Dropout(d) if !(0.0..1.0).contains(&d.rate) => {
                return Err(Error::invalid(
                    format!("layers[{index}].rate"),
                    d.rate,
                    "a float in [0, 1)",
                ));
            }
            Layer::Normalization(n) => n.check_stats(&format!("layers[{index}]"))?,
            _ => {}
        }
        Ok(())
    }
}
