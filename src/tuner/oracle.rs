//! The oracle: creates trials, records their results and keeps the search's state. The part
//! that differs per algorithm (which values to try next) is the [`Algorithm`] trait, one file
//! per algorithm under `oracles/`; everything shared (trial ids, max_trials, the retry queue,
//! duplicate detection, consecutive-failure limit, scoring, persistence) lives here, as in
//! KerasTuner's `Oracle` base class.

use crate::error::{Error, Result};
use crate::hp::{HyperParameters, Values};
use crate::tuner::objective::ObjectiveSpec;
use crate::tuner::storage::Storage;
use crate::tuner::trial::{Trial, TrialStatus};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::{json, Value};
use std::collections::{BTreeSet, VecDeque};

/// What an algorithm answers when asked for the next trial's values.
#[derive(Debug, Clone, PartialEq)]
pub enum Populate {
    /// Run a trial with these values.
    Values(Values),
    /// The search is over (space exhausted, schedule done).
    Stop,
    /// Nothing to run until running trials end (Hyperband waiting for a round).
    Idle,
}

/// What an algorithm sees when it proposes values.
pub struct Context<'a> {
    pub space: &'a HyperParameters,
    /// Every trial so far, in creation order.
    pub trials: &'a [Trial],
    pub objective: &'a ObjectiveSpec,
    /// A generator seeded from the search seed and the trial's number: runs with the same
    /// seed propose the same values, and a resumed search continues the same sequence.
    pub rng: StdRng,
    tried: &'a mut BTreeSet<String>,
    max_collisions: usize,
}

impl Context<'_> {
    /// KerasTuner's `_random_values`: samples every active hp in space order (a parent is
    /// drawn before the hps it conditions), retrying duplicates up to the collision limit;
    /// `None` when every try collided.
    pub fn random_values(&mut self) -> Option<Values> {
        let mut collisions = 0;
        loop {
            let mut values = Values::default();
            for hp in self.space.space() {
                if hp.is_active(&values) {
                    values.set(&hp.name, hp.random_sample(&mut self.rng));
                }
            }
            if self.claim(&values) {
                return Some(values);
            }
            collisions += 1;
            if collisions > self.max_collisions {
                return None;
            }
        }
    }

    /// Records `values` as tried; false when they were tried before.
    pub fn claim(&mut self, values: &Values) -> bool {
        self.tried.insert(values_hash(values))
    }

    /// Whether `values` were tried before.
    pub fn was_tried(&self, values: &Values) -> bool {
        self.tried.contains(&values_hash(values))
    }
}

/// A stable key for a set of values (sorted names, JSON values), for duplicate detection.
pub fn values_hash(values: &Values) -> String {
    let mut pairs: Vec<(String, String)> = values
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::to_string(v).unwrap_or_default()))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(";")
}

/// One search algorithm.
pub trait Algorithm {
    /// KerasTuner's class name ("RandomSearch", "GridSearch", "Hyperband").
    fn name(&self) -> &'static str;
    /// Values for trial `trial_id` (KerasTuner's `populate_space`).
    fn populate_space(&mut self, trial_id: &str, ctx: &mut Context<'_>) -> Result<Populate>;
    /// Called when a trial ends (after scoring).
    fn on_trial_end(&mut self, _trial: &Trial) {}
    /// The algorithm's own state for oracle.json.
    fn state(&self) -> Value {
        Value::Null
    }
    /// Restores [`Algorithm::state`].
    fn set_state(&mut self, _state: &Value) -> Result<()> {
        Ok(())
    }
}

/// Settings shared by every oracle (KerasTuner's `Oracle` arguments).
#[derive(Debug, Clone)]
pub struct OracleConfig {
    pub objective: ObjectiveSpec,
    pub max_trials: Option<usize>,
    pub seed: u64,
    pub max_retries_per_trial: usize,
    pub max_consecutive_failed_trials: usize,
    /// Duplicate draws tolerated before a random proposal gives up (KerasTuner: 20, fixed).
    pub max_collisions: usize,
}

impl Default for OracleConfig {
    fn default() -> Self {
        OracleConfig {
            objective: ObjectiveSpec::default(),
            max_trials: Some(10),
            seed: 0,
            max_retries_per_trial: 0,
            max_consecutive_failed_trials: 3,
            max_collisions: 20,
        }
    }
}

/// The oracle: an algorithm plus the shared bookkeeping.
pub struct Oracle {
    pub config: OracleConfig,
    pub algorithm: Box<dyn Algorithm>,
    /// The search space (grows as hypermodels declare hps).
    pub hyperparameters: HyperParameters,
    /// Trials in creation order.
    pub trials: Vec<Trial>,
    pub end_order: Vec<String>,
    retry_queue: VecDeque<String>,
    tried: BTreeSet<String>,
}

impl Oracle {
    /// An oracle running `algorithm` over `hyperparameters`.
    pub fn new(
        config: OracleConfig,
        algorithm: Box<dyn Algorithm>,
        hyperparameters: HyperParameters,
    ) -> Result<Self> {
        if config.max_trials == Some(0) {
            return Err(Error::invalid("max_trials", 0, "an integer >= 1 or None"));
        }
        if config.max_consecutive_failed_trials == 0 {
            return Err(Error::invalid(
                "max_consecutive_failed_trials",
                0,
                "an integer >= 1",
            ));
        }
        Ok(Oracle {
            config,
            algorithm,
            hyperparameters,
            trials: Vec::new(),
            end_order: Vec::new(),
            retry_queue: VecDeque::new(),
            tried: BTreeSet::new(),
        })
    }

    /// The zero-padded id of the n-th trial: as many digits as `max_trials` has (4 without a
    /// limit, as KerasTuner's `len(str(None))`).
    pub fn trial_id(&self, n: usize) -> String {
        let width = self.config.max_trials.map_or(4, |m| m.to_string().len());
        format!("{n:0width$}")
    }

    /// The trial with this id.
    pub fn get_trial(&self, id: &str) -> Option<&Trial> {
        self.trials.iter().find(|t| t.trial_id == id)
    }

    fn trial_mut(&mut self, id: &str) -> Result<&mut Trial> {
        self.trials
            .iter_mut()
            .find(|t| t.trial_id == id)
            .ok_or_else(|| Error::state(format!("no trial with id {id}")))
    }

    /// Puts an interrupted trial back to run next (used when resuming).
    pub fn requeue(&mut self, id: &str) {
        if !self.retry_queue.iter().any(|q| q == id) {
            self.retry_queue.push_back(id.to_string());
        }
    }

    /// KerasTuner's `create_trial`: a retried trial first, else a new one with values from
    /// the algorithm; a trial with status `Stopped` ends the search, `Idle` means wait.
    pub fn create_trial(&mut self) -> Result<Trial> {
        if let Some(id) = self.retry_queue.pop_front() {
            let t = self.trial_mut(&id)?;
            t.status = TrialStatus::Running;
            t.message = None;
            return Ok(t.clone());
        }
        let n = self.trials.len();
        let id = self.trial_id(n);
        if self.config.max_trials.is_some_and(|m| n >= m) {
            let mut t = Trial::new(id, self.hyperparameters.clone());
            t.status = TrialStatus::Stopped;
            return Ok(t);
        }
        let seed = self
            .config
            .seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(n as u64);
        let mut ctx = Context {
            space: &self.hyperparameters,
            trials: &self.trials,
            objective: &self.config.objective,
            rng: StdRng::seed_from_u64(seed),
            tried: &mut self.tried,
            max_collisions: self.config.max_collisions,
        };
        let populated = self.algorithm.populate_space(&id, &mut ctx)?;
        let mut hp = self.hyperparameters.clone();
        match populated {
            Populate::Values(values) => {
                for (k, v) in values.iter() {
                    hp.set_value(k, v.clone());
                }
                let mut t = Trial::new(id, hp);
                t.status = TrialStatus::Running;
                self.tried.insert(values_hash(&values));
                self.trials.push(t.clone());
                Ok(t)
            }
            Populate::Stop => {
                let mut t = Trial::new(id, hp);
                t.status = TrialStatus::Stopped;
                Ok(t)
            }
            Populate::Idle => {
                let mut t = Trial::new(id, hp);
                t.status = TrialStatus::Idle;
                Ok(t)
            }
        }
    }

    /// Records a trial's results and status. A completed trial is scored from its metrics; a
    /// NaN or missing score makes it invalid. Invalid trials are retried while retries remain,
    /// then failed. Returns an error when too many trials in a row have failed.
    pub fn end_trial(&mut self, mut trial: Trial) -> Result<()> {
        let objective = self.config.objective.clone();
        if trial.status == TrialStatus::Completed {
            match objective.value(&trial.metrics) {
                Some(s) if s.is_finite() => trial.score = Some(s),
                Some(s) => {
                    trial.status = TrialStatus::Invalid;
                    trial.message = Some(format!(
                        "the objective {} is {s} (not a finite number)",
                        objective.name()
                    ));
                }
                None => {
                    trial.status = TrialStatus::Invalid;
                    trial.message = Some(format!(
                        "the trial's results lack the objective `{}`; they have: {}",
                        objective.name(),
                        trial
                            .metrics
                            .iter()
                            .map(|(k, _)| k.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
        }
        trial.attempts += 1;
        if trial.status == TrialStatus::Invalid {
            if trial.attempts <= self.config.max_retries_per_trial {
                let id = trial.trial_id.clone();
                *self.trial_mut(&id)? = trial;
                self.retry_queue.push_back(id);
                return Ok(());
            }
            trial.status = TrialStatus::Failed;
        }
        let id = trial.trial_id.clone();
        self.algorithm.on_trial_end(&trial);
        *self.trial_mut(&id)? = trial;
        self.end_order.push(id);
        self.check_consecutive_failures()
    }

    fn check_consecutive_failures(&self) -> Result<()> {
        let limit = self.config.max_consecutive_failed_trials;
        let mut run = 0;
        for id in &self.end_order {
            let Some(t) = self.get_trial(id) else {
                continue;
            };
            if t.status == TrialStatus::Failed {
                run += 1;
                if run == limit {
                    return Err(Error::state(format!(
                        "Number of consecutive failures exceeded the limit of {limit}.\n{}",
                        t.message.clone().unwrap_or_default()
                    )));
                }
            } else {
                run = 0;
            }
        }
        Ok(())
    }

    /// Completed trials, best first.
    pub fn get_best_trials(&self, n: usize) -> Vec<&Trial> {
        let obj = &self.config.objective;
        let mut done: Vec<&Trial> = self
            .trials
            .iter()
            .filter(|t| t.status == TrialStatus::Completed && t.score.is_some())
            .collect();
        done.sort_by(|a, b| {
            let (x, y) = (a.score.unwrap_or(f64::NAN), b.score.unwrap_or(f64::NAN));
            if obj.better(x, y) {
                std::cmp::Ordering::Less
            } else if obj.better(y, x) {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        });
        done.truncate(n);
        done
    }

    /// oracle.json: the shared state and the algorithm's.
    pub fn state(&self) -> Value {
        json!({
            "algorithm": self.algorithm.name(),
            "hyperparameters": self.hyperparameters.to_json(),
            "trial_ids": self.trials.iter().map(|t| t.trial_id.clone()).collect::<Vec<_>>(),
            "end_order": self.end_order,
            "retry_queue": self.retry_queue,
            "tried_so_far": self.tried,
            "seed": self.config.seed,
            "objective": self.config.objective,
            "algorithm_state": self.algorithm.state(),
        })
    }

    /// Saves oracle.json and one trial.json (or all when `trial` is None).
    pub fn save(&self, storage: &mut dyn Storage, trial: Option<&str>) -> Result<()> {
        for t in &self.trials {
            if trial.is_none_or(|id| id == t.trial_id) {
                let doc = serde_json::to_vec_pretty(&t.to_json())?;
                storage.write(&format!("trial_{}/trial.json", t.trial_id), &doc)?;
            }
        }
        storage.write("oracle.json", &serde_json::to_vec_pretty(&self.state())?)
    }

    /// Reloads a saved search. Trials that were running when it stopped go back on the
    /// queue; the caller decides how to continue them.
    pub fn load(&mut self, storage: &dyn Storage) -> Result<bool> {
        let Some(bytes) = storage.read("oracle.json")? else {
            return Ok(false);
        };
        let v: Value = serde_json::from_slice(&bytes)
            .map_err(|e| Error::parse(format!("oracle.json: {e}")))?;
        if let Some(name) = v.get("algorithm").and_then(|a| a.as_str()) {
            if name != self.algorithm.name() {
                return Err(Error::invalid(
                    "tuner",
                    self.algorithm.name(),
                    format!(
                        "{name}, the algorithm this project was started with (or pass overwrite)"
                    ),
                ));
            }
        }
        if let Some(h) = v.get("hyperparameters") {
            let saved = HyperParameters::from_json(h)?;
            self.hyperparameters.merge(&saved, false);
        }
        let ids: Vec<String> = v
            .get("trial_ids")
            .and_then(|a| serde_json::from_value(a.clone()).ok())
            .unwrap_or_default();
        self.trials.clear();
        for id in &ids {
            let Some(b) = storage.read(&format!("trial_{id}/trial.json"))? else {
                continue;
            };
            let tv: Value = serde_json::from_slice(&b)
                .map_err(|e| Error::parse(format!("trial_{id}/trial.json: {e}")))?;
            self.trials.push(Trial::from_json(&tv)?);
        }
        self.end_order = v
            .get("end_order")
            .and_then(|a| serde_json::from_value(a.clone()).ok())
            .unwrap_or_default();
        self.retry_queue = v
            .get("retry_queue")
            .and_then(|a| serde_json::from_value(a.clone()).ok())
            .unwrap_or_default();
        self.tried = v
            .get("tried_so_far")
            .and_then(|a| serde_json::from_value(a.clone()).ok())
            .unwrap_or_default();
        if let Some(s) = v.get("algorithm_state") {
            self.algorithm.set_state(s)?;
        }
        let running: Vec<String> = self
            .trials
            .iter()
            .filter(|t| t.status == TrialStatus::Running)
            .map(|t| t.trial_id.clone())
            .collect();
        for id in running {
            self.requeue(&id);
        }
        Ok(true)
    }
}
