//! Keras's training surface for dense networks: layers, activations, initializers,
//! regularizers, losses, metrics, optimizers, callbacks and the `Sequential` model with
//! compile / fit / evaluate / predict.

pub mod callbacks;
pub mod checkpoint;
pub mod history;
pub mod initializers;
pub mod layers;
pub mod metrics;
pub mod model;

// `Sequential`'s other parts (see model.rs): the one training loop, its CPU and GPU
// engines, evaluate / predict, the summary table and progress output.
mod cpu_fit;
mod fit;
mod gpu_fit;
mod predict;
mod progress;
mod summary;

// The op vocabulary lives below nn (crate::ops); nn's paths to it stay for users.
pub use crate::ops::{activations, losses, optimizers, regularizers};

pub use activations::Activation;
pub use callbacks::{
    BestWeights, Callback, EarlyStopping, LambdaCallback, Mode, ModelAccess, ReduceLROnPlateau,
    TerminateOnNaN, TrainingState,
};
pub use history::{History, Logs};
pub use initializers::Initializer;
pub use layers::{activation, flatten, Dense, Dropout, Layer, Normalization};
pub use losses::{Loss, LossKind};
pub use metrics::{get_metric, Metric};
pub use model::{EvalArgs, Evaluation, FitArgs, Sequential, ValidationData};
pub use optimizers::{Optimizer, OptimizerKind};
pub use regularizers::Regularizer;
