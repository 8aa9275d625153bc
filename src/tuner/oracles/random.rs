//! RandomSearch: each trial draws every active hyperparameter at random; a draw that repeats
//! an earlier trial is redrawn, and after `max_collisions` repeats in a row the search stops
//! (the space is as good as exhausted). KerasTuner fixes that limit at 20; here it is a
//! setting (`OracleConfig::max_collisions`).

use crate::error::Result;
use crate::tuner::oracle::{Algorithm, Context, Populate};

/// Random search.
#[derive(Debug, Clone, Default)]
pub struct RandomSearch;

impl Algorithm for RandomSearch {
    fn name(&self) -> &'static str {
        "RandomSearch"
    }
    fn populate_space(&mut self, _trial_id: &str, ctx: &mut Context<'_>) -> Result<Populate> {
        Ok(match ctx.random_values() {
            Some(v) => Populate::Values(v),
            None => Populate::Stop,
        })
    }
}
