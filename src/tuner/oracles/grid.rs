//! GridSearch, in KerasTuner's order: the first trial takes every default; each next trial
//! bumps the last active hyperparameter to its next value like an odometer (each hp's list
//! being its default followed by its other values), resetting the ones after it, so values
//! under a conditional scope change before the value that conditions them. Combinations
//! already tried are skipped; the search stops when the odometer has run through.

use crate::error::{Error, Result};
use crate::hp::{HyperParameters, Value as HpValue, Values};
use crate::tuner::oracle::{Algorithm, Context, Populate, TrialEntry};
use crate::tuner::trial::Trial;
use serde_json::{json, Value};
use std::cmp::Ordering;

/// Grid search.
#[derive(Debug, Clone, Default)]
pub struct GridSearch {
    /// Trial ids sorted by their values in odometer order.
    ordered_ids: Vec<String>,
    /// Trials whose next combination is still to be generated.
    populate_next: Vec<String>,
}

/// An hp's values in odometer order: the default first, then the rest of its grid.
fn value_list(hp: &crate::hp::HyperParameter) -> Vec<HpValue> {
    let default = hp.default_value();
    let mut list: Vec<HpValue> = hp
        .grid_values()
        .into_iter()
        .filter(|v| *v != default)
        .collect();
    list.insert(0, default);
    list
}

impl GridSearch {
    /// A fresh grid search.
    pub fn new() -> Self {
        Self::default()
    }

    /// KerasTuner's `_compare`: the first hp (in space order) where the two differ decides.
    fn compare(space: &HyperParameters, a: &Values, b: &Values) -> Ordering {
        for hp in space.space() {
            let (Some(va), Some(vb)) = (a.get(&hp.name), b.get(&hp.name)) else {
                continue;
            };
            if va == vb {
                continue;
            }
            let list = value_list(hp);
            let ia = list.iter().position(|v| v == va);
            let ib = list.iter().position(|v| v == vb);
            return ia.cmp(&ib);
        }
        Ordering::Equal
    }

    /// The next combination after `values`, or `None` after the last one.
    fn next_combination(space: &HyperParameters, values: &Values) -> Option<Values> {
        let mut hps = space.clone();
        for (k, v) in values.iter() {
            hps.set_value(k, v.clone());
        }
        let mut bumped = false;
        for hp in space.space().iter().rev() {
            let current = hps.values();
            if hp.is_active(&current) {
                let list = value_list(hp);
                if let Some(v) = current.get(&hp.name) {
                    if list.last() != Some(v) {
                        let i = list.iter().position(|x| x == v).map_or(0, |i| i + 1);
                        if let Some(next) = list.get(i) {
                            hps.set_value(&hp.name, next.clone());
                            bumped = true;
                            break;
                        }
                    }
                }
            }
            hps.set_value(&hp.name, hp.default_value());
        }
        hps.ensure_active_values();
        bumped.then(|| hps.values())
    }

    fn values_of(ctx: &Context<'_>, id: &str) -> Result<Option<Values>> {
        ctx.find(id).map(TrialEntry::values).transpose()
    }
}

impl Algorithm for GridSearch {
    fn name(&self) -> &'static str {
        "GridSearch"
    }

    fn populate_space(&mut self, trial_id: &str, ctx: &mut Context<'_>) -> Result<Populate> {
        let mut values = None;
        if ctx.trials.is_empty() {
            self.ordered_ids.push(trial_id.to_string());
            let mut v = Values::default();
            for hp in ctx.space.space() {
                if hp.is_active(&v) {
                    v.set(&hp.name, hp.default_value());
                }
            }
            values = Some(v);
            self.populate_next.push(trial_id.to_string());
        }
        while values.is_none() && !self.populate_next.is_empty() {
            let old = self.populate_next.remove(0);
            let Some(old_values) = Self::values_of(ctx, &old)? else {
                continue;
            };
            let Some(new_values) = Self::next_combination(ctx.space, &old_values) else {
                continue;
            };
            let pos = self.ordered_ids.iter().position(|i| *i == old);
            let next_id = pos.and_then(|p| self.ordered_ids.get(p + 1)).cloned();
            if let Some(n) = &next_id {
                if let Some(next_values) = Self::values_of(ctx, n)? {
                    if Self::compare(ctx.space, &new_values, &next_values) != Ordering::Less {
                        continue;
                    }
                }
            }
            if ctx.was_tried(&new_values) {
                continue;
            }
            match next_id.and_then(|n| self.ordered_ids.iter().position(|i| *i == n)) {
                Some(p) => self.ordered_ids.insert(p, trial_id.to_string()),
                None => self.ordered_ids.push(trial_id.to_string()),
            }
            values = Some(new_values);
        }
        Ok(match values {
            Some(v) => {
                ctx.claim(&v);
                Populate::Values(v)
            }
            None => Populate::Stop,
        })
    }

    fn on_trial_end(&mut self, trial: &Trial) {
        self.populate_next.push(trial.trial_id.clone());
    }

    fn state(&self) -> Value {
        json!({"ordered_ids": self.ordered_ids, "populate_next": self.populate_next})
    }

    fn set_state(&mut self, state: &Value) -> Result<()> {
        let get = |k: &str| -> Result<Vec<String>> {
            state
                .get(k)
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .ok_or_else(|| Error::parse(format!("oracle.json GridSearch state lacks `{k}`")))
        };
        self.ordered_ids = get("ordered_ids")?;
        self.populate_next = get("populate_next")?;
        Ok(())
    }
}
