//! The search algorithms, one file each.

pub mod grid;
pub mod hyperband;
pub mod random;

pub use grid::GridSearch;
pub use hyperband::Hyperband;
pub use random::RandomSearch;
