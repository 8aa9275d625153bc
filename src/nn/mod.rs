//! Keras's training surface for dense networks: layers, activations, initializers,
//! regularizers, losses, metrics, optimizers, callbacks and the `Sequential` model with
//! compile / fit / evaluate / predict.

pub mod losses;
