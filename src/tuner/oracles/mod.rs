//! The search algorithms, one file each.

pub mod bayesian;
pub mod gp;
pub mod grid;
pub mod hyperband;
pub mod random;

pub use bayesian::BayesianOptimization;
pub use grid::GridSearch;
pub use hyperband::Hyperband;
pub use random::RandomSearch;
