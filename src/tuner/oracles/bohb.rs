//! The model of model-based Hyperband (BOHB, Falkner et al. 2018) and of ASHA's model-based
//! mode: where Hyperband (or ASHA) would draw a new configuration at random, [`ModelSampler`]
//! proposes one from a model of the results so far. As in BOHB, proposals are for the highest
//! budget (`tuner/epochs`) that has at least `min_points` completed trials, and a share
//! `random_fraction` of the new configurations is still drawn at random (so the model never
//! has the last word on where to look); before any budget has enough results every
//! configuration is random, which is plain Hyperband.
//!
//! The model is tunelab's Gaussian process with expected improvement (`bayesian.rs`), with
//! the budget as one more input (its logarithm, scaled to [0, 1]), fitted on every completed
//! trial and asked about the target budget. BOHB's density estimator is fitted on the target
//! budget's results alone; a GP fitted that way (tried first) did no better than random
//! configurations on a test function (`tests/oracles.rs`,
//! `bohb_proposes_better_configurations_than_hyperband`): at a high budget Hyperband's results
//! are nearly all promoted, good configurations, so the GP's mean far from them reverts to
//! "good" and expected improvement sends proposals into the unexplored, bad corners. With the
//! budget as an input, the many low-budget results tell the GP where the bad regions are.
//!
//! BOHB itself is [`Hyperband`](crate::tuner::oracles::Hyperband) with a sampler
//! ([`Hyperband::bohb`](crate::tuner::oracles::Hyperband::bohb)): the same brackets, rounds,
//! promotions and warm starts, one copy of that code.

use crate::error::{Error, Result};
use crate::hp::Values;
use crate::tuner::oracle::Context;
use crate::tuner::oracles::bayesian::{BayesianOptimization, Fidelity};
use crate::tuner::trial::TrialStatus;
use rand::Rng;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The budget (epochs) a trial trained to, from its `tuner/epochs`.
pub(crate) fn budget_of(values: &Values) -> Option<i64> {
    values.get("tuner/epochs").and_then(|v| v.as_i64())
}

/// Proposes new configurations from a GP over configuration and budget, fitted on every
/// result, for the highest budget with enough results.
#[derive(Debug, Clone)]
pub struct ModelSampler {
    random_fraction: f64,
    min_points: Option<usize>,
    gp: BayesianOptimization,
}

impl ModelSampler {
    /// `random_fraction`: the share of new configurations drawn at random, in [0, 1] (BOHB:
    /// 1/3); `min_points`: completed trials a budget needs before the model is fitted on it
    /// (`None`: 3 per hyperparameter, the rule of BayesianOptimization's initial points. BOHB's
    /// d + 1 plus one, tried first, did a little worse on both learning-curve tables of
    /// `benches/multifidelity.rs`: median best val_accuracy after 3x max_epochs 0.9750 against
    /// 0.9806 on digits, 0.9300 against 0.9320 on MNIST, 30 seeds).
    pub fn new(random_fraction: f64, min_points: Option<usize>) -> Result<Self> {
        if !(0.0..=1.0).contains(&random_fraction) {
            return Err(Error::invalid(
                "random_fraction",
                random_fraction,
                "a number from 0 to 1 (the share of configurations drawn at random)",
            ));
        }
        if let Some(m) = min_points.filter(|m| *m < 2) {
            return Err(Error::invalid(
                "min_points_in_model",
                m,
                "an integer >= 2 or None",
            ));
        }
        Ok(ModelSampler {
            random_fraction,
            min_points,
            gp: BayesianOptimization::default(),
        })
    }

    /// The share of configurations drawn at random.
    pub fn random_fraction(&self) -> f64 {
        self.random_fraction
    }

    /// Completed trials a budget needs before the model is fitted on it, as given.
    pub fn min_points(&self) -> Option<usize> {
        self.min_points
    }

    /// The budget the model proposes for now: the highest with enough completed trials (and
    /// the lowest and highest budgets with any, which scale the budget input).
    pub(crate) fn model_budget(&self, ctx: &Context<'_>) -> Result<Option<(i64, i64, i64)>> {
        let dims = BayesianOptimization::dims(ctx.space);
        if dims == 0 {
            return Ok(None);
        }
        let need = self.min_points.unwrap_or(3 * dims);
        let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
        for t in ctx.trials {
            if t.status == TrialStatus::Completed && t.score.is_some_and(f64::is_finite) {
                if let Some(b) = budget_of(&t.values()?) {
                    *counts.entry(b).or_default() += 1;
                }
            }
        }
        let (Some((&lo, _)), Some((&hi, _))) = (counts.first_key_value(), counts.last_key_value())
        else {
            return Ok(None);
        };
        Ok(counts
            .iter()
            .rev()
            .find(|(_, n)| **n >= need)
            .map(|(b, _)| (*b, lo, hi)))
    }

    /// A new configuration (claimed): the model's, or random values; `None` when random values
    /// collide too often (the space is as good as exhausted).
    pub(crate) fn values(&mut self, ctx: &mut Context<'_>) -> Result<Option<Values>> {
        // Drawn first and always, so the sequence of draws does not depend on the model.
        let random = ctx.rng.random::<f64>() < self.random_fraction;
        if !random {
            if let Some((b, lo, hi)) = self.model_budget(ctx)? {
                let (ln_lo, ln_hi) = ((lo.max(1) as f64).ln(), (hi.max(1) as f64).ln());
                let scale = move |b: i64| {
                    if ln_hi > ln_lo {
                        ((b.max(1) as f64).ln() - ln_lo) / (ln_hi - ln_lo)
                    } else {
                        1.0
                    }
                };
                let of = move |v: &Values| budget_of(v).map(scale);
                let fidelity = Fidelity {
                    of: &of,
                    target: scale(b),
                };
                if let Some(v) = self.gp.propose_at(ctx, &fidelity) {
                    return Ok(Some(v));
                }
            }
        }
        Ok(ctx.random_values())
    }

    /// The model's state for oracle.json.
    pub(crate) fn state(&self) -> Value {
        json!({
            "random_fraction": self.random_fraction,
            "min_points_in_model": self.min_points,
            "gp": crate::tuner::oracle::Algorithm::state(&self.gp),
        })
    }

    /// Restores [`ModelSampler::state`]'s model (the settings are the caller's).
    pub(crate) fn set_state(&mut self, state: &Value) -> Result<()> {
        match state.get("gp") {
            None | Some(Value::Null) => Ok(()),
            Some(gp) => crate::tuner::oracle::Algorithm::set_state(&mut self.gp, gp),
        }
    }
}
