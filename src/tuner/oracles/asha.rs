//! Asynchronous successive halving (ASHA, Li et al. 2020). Rungs of growing budgets, Hyperband's
//! most aggressive bracket: rung `k` trains to `epochs(max_epochs, factor, s, k)` epochs
//! (`s + 1` rungs, `s = num_brackets - 1`; 1, 3, 9, 27 for 27 epochs and factor 3). Whenever a
//! worker asks for a trial, the rungs are read from the top down: the first trial in the top
//! `1 / factor` of its rung's completed trials that has not been promoted yet is promoted into
//! the next rung (a new trial that loads its parent's best-epoch weights and trains on from
//! `tuner/initial_epoch` to `tuner/epochs`, as Hyperband's promotions do); with nothing to
//! promote, a new configuration starts in rung 0. No one ever waits for a round to end, so a
//! pool of workers stays busy (Hyperband answers `Idle` until its round is complete).
//!
//! New configurations are random, or, with a [`ModelSampler`], proposed by BOHB's model (the GP
//! fitted at the highest rung with enough results). Everything ASHA decides is read from the
//! trials themselves (each trial's `tuner/round` and `tuner/trial_id`), so a resumed search
//! continues exactly where it stopped. The search ends at `max_trials` (or when new
//! configurations run out and nothing is left to promote).

use crate::error::{Error, Result};
use crate::hp::Value as HpValue;
use crate::tuner::objective::Direction;
use crate::tuner::oracle::{Algorithm, Context, Populate, TrialEntry};
use crate::tuner::oracles::bohb::ModelSampler;
use crate::tuner::oracles::hyperband::{epochs, num_brackets};
use crate::tuner::trial::TrialStatus;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// Asynchronous successive halving.
#[derive(Debug, Clone)]
pub struct Asha {
    max_epochs: usize,
    factor: usize,
    model: Option<ModelSampler>,
}

impl Asha {
    /// Rungs from `ceil(max_epochs / factor^s)` epochs up to `max_epochs`, each `factor` times
    /// the one below, promoting the top `1 / factor` of each rung.
    pub fn new(max_epochs: usize, factor: usize) -> Result<Self> {
        if factor < 2 {
            return Err(Error::invalid("factor", factor, "an integer >= 2"));
        }
        if max_epochs == 0 {
            return Err(Error::invalid("max_epochs", 0, "an integer >= 1"));
        }
        Ok(Asha {
            max_epochs,
            factor,
            model: None,
        })
    }

    /// New configurations from `model` instead of at random.
    pub fn with_model(mut self, model: ModelSampler) -> Self {
        self.model = Some(model);
        self
    }

    /// The model, if new configurations come from one.
    pub fn model(&self) -> Option<&ModelSampler> {
        self.model.as_ref()
    }

    /// The most epochs a trial trains to.
    pub fn max_epochs(&self) -> usize {
        self.max_epochs
    }

    /// The reduction factor between rungs.
    pub fn factor(&self) -> usize {
        self.factor
    }

    /// Every rung's budget (epochs), lowest first.
    pub fn rungs(&self) -> Vec<usize> {
        let s = num_brackets(self.max_epochs, self.factor) - 1;
        (0..=s)
            .map(|k| epochs(self.max_epochs, self.factor, s, k))
            .collect()
    }

    /// The promotion to make now, if any: (parent, its rung).
    fn promotion<'a>(
        &self,
        ctx: &'a Context<'_>,
        rungs: usize,
    ) -> Result<Option<(&'a TrialEntry, usize)>> {
        let maximize = ctx.objective.direction() == Direction::Max;
        let mut members: Vec<Vec<&TrialEntry>> = vec![Vec::new(); rungs];
        let mut promoted: BTreeSet<String> = BTreeSet::new();
        for t in ctx.trials {
            let v = t.values()?;
            if let Some(parent) = v.get("tuner/trial_id").and_then(|p| p.as_str()) {
                promoted.insert(parent.to_string());
            }
            let round = v
                .get("tuner/round")
                .and_then(|r| r.as_i64())
                .unwrap_or(0)
                .max(0) as usize;
            if t.status == TrialStatus::Completed && t.score.is_some_and(f64::is_finite) {
                if let Some(m) = members.get_mut(round) {
                    m.push(t);
                }
            }
        }
        for k in (0..rungs.saturating_sub(1)).rev() {
            let rung = &mut members[k];
            // Best first; equal scores in creation order (a stable sort).
            rung.sort_by(|a, b| {
                let (x, y) = (a.score.unwrap_or(f64::NAN), b.score.unwrap_or(f64::NAN));
                if maximize {
                    y.total_cmp(&x)
                } else {
                    x.total_cmp(&y)
                }
            });
            let top = rung.len() / self.factor;
            if let Some(t) = rung[..top]
                .iter()
                .find(|t| !promoted.contains(&t.trial_id()))
            {
                return Ok(Some((t, k)));
            }
        }
        Ok(None)
    }
}

impl Algorithm for Asha {
    fn name(&self) -> &'static str {
        "ASHA"
    }

    fn asynchronous(&self) -> bool {
        true
    }

    fn populate_space(&mut self, _trial_id: &str, ctx: &mut Context<'_>) -> Result<Populate> {
        let rungs = self.rungs();
        if let Some((parent, k)) = self.promotion(ctx, rungs.len())? {
            let mut values = parent.values()?;
            values.set("tuner/trial_id", HpValue::Str(parent.trial_id()));
            values.set("tuner/epochs", HpValue::Int(rungs[k + 1] as i64));
            values.set("tuner/initial_epoch", HpValue::Int(rungs[k] as i64));
            values.set("tuner/bracket", HpValue::Int(0));
            values.set("tuner/round", HpValue::Int(k as i64 + 1));
            return Ok(Populate::Values(values));
        }
        let drawn = match &mut self.model {
            Some(m) => m.values(ctx)?,
            None => ctx.random_values(),
        };
        Ok(match drawn {
            Some(mut values) => {
                values.set("tuner/epochs", HpValue::Int(rungs[0] as i64));
                values.set("tuner/initial_epoch", HpValue::Int(0));
                values.set("tuner/bracket", HpValue::Int(0));
                values.set("tuner/round", HpValue::Int(0));
                Populate::Values(values)
            }
            // No new configuration: wait for running trials (their results may allow a
            // promotion), else the search is over.
            None if ctx.trials.iter().any(|t| t.status == TrialStatus::Running) => Populate::Idle,
            None => Populate::Stop,
        })
    }

    fn state(&self) -> Value {
        json!({
            "max_epochs": self.max_epochs,
            "factor": self.factor,
            "model": self.model.as_ref().map(ModelSampler::state),
        })
    }

    fn set_state(&mut self, state: &Value) -> Result<()> {
        // The rungs are read from the trials' `tuner/round`: other rungs would misread them.
        super::same_budgets(
            state,
            "ASHA",
            &[("max_epochs", self.max_epochs), ("factor", self.factor)],
        )?;
        if let (Some(m), Some(s)) = (&mut self.model, state.get("model")) {
            m.set_state(s)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rungs_are_hyperbands_most_aggressive_bracket() {
        assert_eq!(Asha::new(27, 3).unwrap().rungs(), vec![1, 3, 9, 27]);
        assert_eq!(Asha::new(10, 3).unwrap().rungs(), vec![2, 4, 10]);
        assert_eq!(Asha::new(1, 3).unwrap().rungs(), vec![1]);
        assert!(Asha::new(10, 1).is_err());
        assert!(Asha::new(0, 3).is_err());
    }

    #[test]
    fn a_project_resumed_with_other_rungs_is_refused() {
        let saved = Asha::new(27, 3).unwrap().state();
        Asha::new(27, 3).unwrap().set_state(&saved).unwrap();
        let e = Asha::new(9, 3)
            .unwrap()
            .set_state(&saved)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("max_epochs") && e.contains("27") && e.contains("overwrite"),
            "{e}"
        );
        let e = Asha::new(27, 2)
            .unwrap()
            .set_state(&saved)
            .unwrap_err()
            .to_string();
        assert!(e.contains("factor") && e.contains('3'), "{e}");
    }
}
