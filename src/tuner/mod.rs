//! KerasTuner rebuilt: objectives, trials, the oracle with one algorithm per file
//! (random, grid, Hyperband, Bayesian, BOHB, ASHA), the tuner's search loop with storage and resume, and reports.

mod callbacks;
pub use crate::nn::checkpoint;
pub mod executor;
mod hypermodel;
mod jobs;
pub mod objective;
pub mod options;
pub mod oracle;
pub mod oracles;
mod parallel;
mod pool;
pub mod report;
mod resume;
mod search;
pub mod simulate;
pub mod spec_model;
#[cfg(all(feature = "sql", not(target_arch = "wasm32")))]
pub mod sql;
pub mod storage;
pub mod trial;
#[allow(clippy::module_inception)]
pub mod tuner;

pub use executor::{
    EpochReport, ExecutionData, ExecutionJob, Executor, InProcessExecutor, Reports,
};
pub use objective::{Direction, Objective, ObjectiveSpec};
pub use oracle::{Algorithm, Oracle, OracleConfig, Populate, TrialEntry};
pub use oracles::{Asha, BayesianOptimization, GridSearch, Hyperband, ModelSampler, RandomSearch};
pub use pool::Schedule;
pub use spec_model::SpecHyperModel;
pub use storage::{DirStorage, MemoryStorage, Storage};
pub use trial::{Trial, TrialStatus};
pub use tuner::{
    AsyncRunFn, FitResult, FnHyperModel, HyperModel, LocalFuture, SearchData, Tuner, TunerConfig,
    TunerHooks, YieldFn,
};
