//! The search algorithms, one file each.

pub mod asha;
pub mod bayesian;
pub mod bohb;
pub mod gp;
pub mod grid;
pub mod hyperband;
pub mod random;

pub use asha::Asha;
pub use bayesian::BayesianOptimization;
pub use bohb::ModelSampler;
pub use grid::GridSearch;
pub use hyperband::Hyperband;
pub use random::RandomSearch;
