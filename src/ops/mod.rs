//! The op vocabulary as plain data: activations, losses, optimizers (with the per-step
//! constants of [`StepInfo`]) and regularizers, with their Keras names, parsing, validation and
//! the reference math on slices. It sits below [`crate::backend`], [`crate::gpu`] and
//! [`crate::nn`], which all speak it, and imports nothing above [`crate::error`].

pub mod activations;
pub mod losses;
pub mod optimizers;
pub mod regularizers;

pub use activations::Activation;
pub use losses::{Loss, LossKind};
pub use optimizers::{Optimizer, OptimizerKind, StepInfo};
pub use regularizers::Regularizer;
