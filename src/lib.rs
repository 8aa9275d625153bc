//! tunelab: KerasTuner and a small Keras, rebuilt in Rust for the browser.
//!
//! Layers (data flows down, results flow up): [`data`] (datasets as host tensors),
//! [`backend`] (the ops a dense network needs; [`backend::Cpu`] is the reference),
//! [`nn`] (Keras's training surface: Sequential, Dense, compile / fit / evaluate / predict),
//! [`spec`] (a model described as JSON).

pub mod backend;
pub mod data;
pub mod error;
pub mod gpu;
pub mod hp;
pub mod math;
pub mod nn;
pub mod ops;
pub mod runtime;
pub mod spec;
pub mod tensor;
pub mod tuner;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use error::{Error, Result};
pub use tensor::Tensor;
