//! Hyperband (Li et al.), as KerasTuner runs it: brackets from the most aggressive down to
//! plain random search; in bracket `b`, round 0 trains `size(b, 0)` random configurations for
//! `epochs(b, 0)` epochs, and each later round promotes the best of the previous round into a
//! new trial that loads its parent's best-epoch weights and trains on from
//! `tuner/initial_epoch` to `tuner/epochs`. The schedule math is in small pure functions.
//!
//! With a [`ModelSampler`] ([`Hyperband::bohb`]) it is BOHB: each round 0's configurations
//! come from a model of the results so far (see `bohb.rs`) instead of at random.

use crate::error::{Error, Result};
use crate::hp::Value as HpValue;
use crate::tuner::objective::Direction;
use crate::tuner::oracle::{Algorithm, Context, Populate, TrialEntry};
use crate::tuner::oracles::bohb::ModelSampler;
use crate::tuner::trial::TrialStatus;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Number of brackets: how many times `max_epochs` can be divided by `factor` while it stays
/// at least `min_epochs` (1).
pub fn num_brackets(max_epochs: usize, factor: usize) -> usize {
    let mut epochs = max_epochs as f64;
    let mut n = 0;
    while epochs >= 1.0 {
        epochs /= factor as f64;
        n += 1;
    }
    n
}

/// Trials in round `round` of bracket `bracket`:
/// `ceil(ceil(1 + log_factor(max_epochs)) / (bracket + 1) * factor^(bracket - round))`.
pub fn size(max_epochs: usize, factor: usize, bracket: usize, round: usize) -> usize {
    // KerasTuner's ceil(1 + log_factor(max_epochs)), as the smallest k with factor^k >=
    // max_epochs, plus 1: the same number as CPython's float logarithm gives, on every platform
    // (the float quotient is 2.0000000000000004 for log_3(9) with some libms, wasm's among them).
    let mut k = 0u32;
    let mut p = 1u128;
    while p < max_epochs as u128 {
        p = p.saturating_mul(factor.max(2) as u128);
        k += 1;
    }
    let end0 = f64::from(1 + k);
    let end = end0 / (bracket as f64 + 1.0);
    (end * (factor as f64).powi(bracket as i32 - round as i32)).ceil() as usize
}

/// Epochs a trial of round `round` of bracket `bracket` trains to:
/// `ceil(max_epochs / factor^(bracket - round))`.
pub fn epochs(max_epochs: usize, factor: usize, bracket: usize, round: usize) -> usize {
    (max_epochs as f64 / (factor as f64).powi(bracket as i32 - round as i32)).ceil() as usize
}

/// The whole schedule of one iteration: per bracket (most aggressive first), per round,
/// (trials, epochs).
pub fn schedule(max_epochs: usize, factor: usize) -> Vec<Vec<(usize, usize)>> {
    (0..num_brackets(max_epochs, factor))
        .rev()
        .map(|b| {
            (0..=b)
                .map(|r| {
                    (
                        size(max_epochs, factor, b, r),
                        epochs(max_epochs, factor, b, r),
                    )
                })
                .collect()
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RoundEntry {
    past_id: Option<String>,
    id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Bracket {
    bracket_num: usize,
    rounds: Vec<Vec<RoundEntry>>,
}

/// The Hyperband algorithm.
#[derive(Debug, Clone)]
pub struct Hyperband {
    pub max_epochs: usize,
    pub factor: usize,
    /// `None` for no limit on iterations.
    pub hyperband_iterations: Option<usize>,
    current_iteration: usize,
    current_bracket: usize,
    brackets: Vec<Bracket>,
    /// BOHB's model of where new configurations should go; `None`: at random (Hyperband).
    model: Option<ModelSampler>,
}

impl Hyperband {
    /// KerasTuner's defaults are max_epochs 100, factor 3, one iteration.
    pub fn new(
        max_epochs: usize,
        factor: usize,
        hyperband_iterations: Option<usize>,
    ) -> Result<Self> {
        if factor < 2 {
            return Err(Error::invalid(
                "factor",
                factor,
                "an integer >= 2 (factor needs to be a int larger than 1.)",
            ));
        }
        if max_epochs == 0 {
            return Err(Error::invalid("max_epochs", 0, "an integer >= 1"));
        }
        if hyperband_iterations == Some(0) {
            return Err(Error::invalid("hyperband_iterations", 0, "an integer >= 1"));
        }
        let mut h = Hyperband {
            max_epochs,
            factor,
            hyperband_iterations,
            current_iteration: 0,
            current_bracket: num_brackets(max_epochs, factor) - 1,
            brackets: Vec::new(),
            model: None,
        };
        h.start_new_bracket();
        Ok(h)
    }

    /// BOHB: Hyperband whose new configurations come from `model` (see `bohb.rs`).
    pub fn bohb(
        max_epochs: usize,
        factor: usize,
        hyperband_iterations: Option<usize>,
        model: ModelSampler,
    ) -> Result<Self> {
        let mut h = Self::new(max_epochs, factor, hyperband_iterations)?;
        h.model = Some(model);
        Ok(h)
    }

    /// BOHB's model; `None` for plain Hyperband.
    pub fn model(&self) -> Option<&ModelSampler> {
        self.model.as_ref()
    }

    fn size(&self, b: usize, r: usize) -> usize {
        size(self.max_epochs, self.factor, b, r)
    }
    fn epochs(&self, b: usize, r: usize) -> usize {
        epochs(self.max_epochs, self.factor, b, r)
    }

    fn start_new_bracket(&mut self) {
        self.brackets.push(Bracket {
            bracket_num: self.current_bracket,
            rounds: vec![Vec::new(); self.current_bracket + 1],
        });
    }

    fn increment_bracket(&mut self) {
        if self.current_bracket == 0 {
            self.current_bracket = num_brackets(self.max_epochs, self.factor) - 1;
            self.current_iteration += 1;
        } else {
            self.current_bracket -= 1;
        }
    }

    fn remove_completed_brackets(&mut self) {
        let (m, f) = (self.max_epochs, self.factor);
        self.brackets.retain(|b| {
            let last = b.rounds.len() - 1;
            b.rounds[last].len() != size(m, f, b.bracket_num, last)
        });
    }

    fn random_trial(
        &mut self,
        trial_id: &str,
        bracket_index: usize,
        ctx: &mut Context<'_>,
    ) -> Result<Populate> {
        let drawn = match &mut self.model {
            Some(m) => m.values(ctx)?,
            None => ctx.random_values(),
        };
        let Some(mut values) = drawn else {
            return Ok(Populate::Stop);
        };
        let b = self.brackets[bracket_index].bracket_num;
        values.set("tuner/epochs", HpValue::Int(self.epochs(b, 0) as i64));
        values.set("tuner/initial_epoch", HpValue::Int(0));
        values.set("tuner/bracket", HpValue::Int(self.current_bracket as i64));
        values.set("tuner/round", HpValue::Int(0));
        self.brackets[bracket_index].rounds[0].push(RoundEntry {
            past_id: None,
            id: trial_id.to_string(),
        });
        Ok(Populate::Values(values))
    }
}

impl Algorithm for Hyperband {
    fn name(&self) -> &'static str {
        if self.model.is_some() {
            "BOHB"
        } else {
            "Hyperband"
        }
    }

    fn populate_space(&mut self, trial_id: &str, ctx: &mut Context<'_>) -> Result<Populate> {
        self.remove_completed_brackets();
        let maximize = ctx.objective.direction() == Direction::Max;
        for bi in 0..self.brackets.len() {
            let b = self.brackets[bi].bracket_num;
            if self.brackets[bi].rounds[0].len() < self.size(b, 0) {
                return self.random_trial(trial_id, bi, ctx);
            }
            for r in 1..self.brackets[bi].rounds.len() {
                let size = self.size(b, r);
                let past_size = self.size(b, r - 1);
                let round = &self.brackets[bi].rounds[r];
                let past = &self.brackets[bi].rounds[r - 1];
                if round.len() >= size {
                    continue;
                }
                let selected: Vec<&str> =
                    round.iter().filter_map(|e| e.past_id.as_deref()).collect();
                let mut candidates: Vec<&TrialEntry> = past
                    .iter()
                    .filter(|e| !selected.contains(&e.id.as_str()))
                    .filter_map(|e| ctx.find(&e.id))
                    .filter(|t| t.status == TrialStatus::Completed && t.score.is_some())
                    .collect();
                // More of the previous round has finished than will be thrown out, so the
                // best of them is sure to be promoted (KerasTuner's rule).
                if candidates.len() + size > past_size {
                    candidates.sort_by(|a, b| {
                        let (x, y) = (a.score.unwrap_or(f64::NAN), b.score.unwrap_or(f64::NAN));
                        if maximize {
                            y.total_cmp(&x)
                        } else {
                            x.total_cmp(&y)
                        }
                    });
                    let best = candidates[0];
                    let best_id = best.trial_id();
                    let mut values = best.values()?;
                    values.set("tuner/trial_id", HpValue::Str(best_id.clone()));
                    values.set("tuner/epochs", HpValue::Int(self.epochs(b, r) as i64));
                    values.set(
                        "tuner/initial_epoch",
                        HpValue::Int(self.epochs(b, r - 1) as i64),
                    );
                    values.set("tuner/bracket", HpValue::Int(self.current_bracket as i64));
                    values.set("tuner/round", HpValue::Int(r as i64));
                    self.brackets[bi].rounds[r].push(RoundEntry {
                        past_id: Some(best_id),
                        id: trial_id.to_string(),
                    });
                    return Ok(Populate::Values(values));
                }
            }
        }
        let last_iteration = self
            .hyperband_iterations
            .is_some_and(|n| self.current_iteration + 1 >= n);
        if self.current_bracket == 0 && last_iteration {
            return Ok(Populate::Stop);
        }
        self.increment_bracket();
        self.start_new_bracket();
        let last = self.brackets.len() - 1;
        self.random_trial(trial_id, last, ctx)
    }

    fn state(&self) -> Value {
        serde_json::json!({
            "current_iteration": self.current_iteration,
            "current_bracket": self.current_bracket,
            "brackets": self.brackets,
            "max_epochs": self.max_epochs,
            "factor": self.factor,
            "model": self.model.as_ref().map(ModelSampler::state),
        })
    }

    fn set_state(&mut self, state: &Value) -> Result<()> {
        // The saved brackets were laid out for these budgets.
        super::same_budgets(
            state,
            self.name(),
            &[("max_epochs", self.max_epochs), ("factor", self.factor)],
        )?;
        let get = |k: &str| {
            state
                .get(k)
                .ok_or_else(|| Error::parse(format!("oracle.json Hyperband state lacks `{k}`")))
        };
        self.current_iteration = get("current_iteration")?.as_u64().unwrap_or(0) as usize;
        self.current_bracket = get("current_bracket")?.as_u64().unwrap_or(0) as usize;
        self.brackets = serde_json::from_value(get("brackets")?.clone())
            .map_err(|e| Error::parse(format!("oracle.json Hyperband brackets: {e}")))?;
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
    fn a_project_resumed_with_other_budgets_is_refused() {
        let saved = Hyperband::new(27, 3, Some(1)).unwrap().state();
        Hyperband::new(27, 3, Some(2))
            .unwrap()
            .set_state(&saved)
            .unwrap();
        let e = Hyperband::new(9, 3, Some(1))
            .unwrap()
            .set_state(&saved)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("max_epochs") && e.contains("27") && e.contains("Hyperband"),
            "{e}"
        );
        let bohb = |f| Hyperband::bohb(27, f, Some(1), ModelSampler::new(0.3, None).unwrap());
        let saved = bohb(3).unwrap().state();
        let e = bohb(2).unwrap().set_state(&saved).unwrap_err().to_string();
        assert!(
            e.contains("factor") && e.contains("BOHB") && e.contains("overwrite"),
            "{e}"
        );
    }

    #[test]
    fn schedules_match_kerastuner_tables() {
        assert_eq!(
            schedule(100, 3),
            vec![
                vec![(98, 2), (33, 4), (11, 12), (4, 34), (2, 100)],
                vec![(41, 4), (14, 12), (5, 34), (2, 100)],
                vec![(18, 12), (6, 34), (2, 100)],
                vec![(9, 34), (3, 100)],
                vec![(6, 100)],
            ]
        );
        let total: usize = schedule(100, 3).iter().flatten().map(|(n, _)| n).sum();
        assert_eq!(total, 254);
        assert_eq!(
            schedule(10, 3),
            vec![
                vec![(12, 2), (4, 4), (2, 10)],
                vec![(6, 4), (2, 10)],
                vec![(4, 10)]
            ]
        );
        let total: usize = schedule(10, 3).iter().flatten().map(|(n, _)| n).sum();
        assert_eq!(total, 30);
        assert_eq!(num_brackets(1, 3), 1);
        assert!(Hyperband::new(10, 1, None).is_err());
    }

    /// At exact powers (max_epochs = factor^k) KerasTuner's ceil(1 + log) is k + 1, which a
    /// float quotient of logarithms can overshoot by one on some platforms (wasm32's libm gives
    /// ln 9 / ln 3 = 2.0000000000000004). Sizes from CPython 3 with KerasTuner's formula.
    #[test]
    fn exact_powers_size_as_in_kerastuner() {
        assert_eq!(
            schedule(9, 3),
            vec![
                vec![(9, 1), (3, 3), (1, 9)],
                vec![(5, 3), (2, 9)],
                vec![(3, 9)]
            ]
        );
        let total = |m, f| -> usize { schedule(m, f).iter().flatten().map(|(n, _)| n).sum() };
        assert_eq!(total(9, 3), 23);
        assert_eq!(schedule(81, 3)[0][0], (81, 1));
        assert_eq!(total(81, 3), 211);
        // 1000 = 10^3: CPython's log gives 2.9999999999999996, ceil(1 + that) = 4 = 3 + 1.
        assert_eq!(size(1000, 10, 3, 0), 1000);
        assert_eq!(size(1, 3, 0, 0), 1);
    }
}
