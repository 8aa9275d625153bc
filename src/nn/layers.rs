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
}

impl From<Dense> for Layer {
    fn from(d: Dense) -> Self {
        Layer::Dense(d)
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
        }
    }

    /// The user-given name, if any.
    pub fn given_name(&self) -> Option<&str> {
        match self {
            Layer::Dense(d) => d.name.as_deref(),
            Layer::Dropout(d) => d.name.as_deref(),
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
            _ => {}
        }
        Ok(())
    }
}
