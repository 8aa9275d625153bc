//! The oracle: creates trials, records their results and keeps the search's state. The part
//! that differs per algorithm (which values to try next) is the [`Algorithm`] trait, one file
//! per algorithm under `oracles/`; everything shared (trial ids, max_trials, the retry queue,
//! duplicate detection, consecutive-failure limit, scoring, persistence) lives here, as in
//! KerasTuner's `Oracle` base class.
//!
//! Memory stays flat over long searches: the oracle keeps a [`TrialEntry`] per trial (number,
//! status, score, values as compact JSON; about 100 bytes) and a 64-bit hash per tried
//! configuration. A trial's full record (metrics, curves, message) stays in memory only until
//! it has ended and is written to the oracle's storage; [`Oracle::trial`] and
//! [`Oracle::trials`] read finished trials back from there.

use crate::error::{Error, Result};
use crate::hp::{HyperParameters, Values};
use crate::tuner::objective::ObjectiveSpec;
use crate::tuner::storage::{MemoryStorage, Storage};
use crate::tuner::trial::{Trial, TrialStatus};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;
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
    /// Every trial so far, in creation order (entry `n` is trial number `n`).
    pub trials: &'a [TrialEntry],
    pub objective: &'a ObjectiveSpec,
    /// A generator seeded from the search seed and the trial's number: runs with the same
    /// seed propose the same values, and a resumed search continues the same sequence.
    pub rng: StdRng,
    tried: &'a mut BTreeSet<u64>,
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
        self.tried.insert(values_key(values))
    }

    /// Whether `values` were tried before.
    pub fn was_tried(&self, values: &Values) -> bool {
        self.tried.contains(&values_key(values))
    }

    /// The trial with this id.
    pub fn find(&self, id: &str) -> Option<&TrialEntry> {
        find_entry(self.trials, id)
    }
}

/// What the oracle keeps in memory about every trial: enough for the algorithms (values,
/// status, score) and the bookkeeping. The rest of the record is in storage.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialEntry {
    pub score: Option<f64>,
    /// The trial's active values as compact JSON (the order of a `Values` is kept).
    values: Box<str>,
    number: u32,
    /// Digits in the trial's id (ids are the number, zero-padded).
    width: u8,
    pub status: TrialStatus,
}

impl TrialEntry {
    /// The entry for trial number `number`; its id must be that number, zero-padded.
    fn of(trial: &Trial, number: usize) -> Result<Self> {
        let id = &trial.trial_id;
        let digits = id.bytes().all(|b| b.is_ascii_digit());
        if !digits || id.parse::<u32>().ok() != Some(number as u32) || id.len() > 255 {
            return Err(Error::invalid(
                "trial_id",
                id,
                format!("the trial's number ({number}), zero-padded"),
            ));
        }
        Ok(TrialEntry {
            score: trial.score,
            values: serde_json::to_string(&trial.hyperparameters.values())?.into(),
            number: number as u32,
            width: id.len() as u8,
            status: trial.status,
        })
    }

    /// Updates the entry from the trial's current record.
    fn update(&mut self, trial: &Trial) -> Result<()> {
        self.score = trial.score;
        self.status = trial.status;
        self.values = serde_json::to_string(&trial.hyperparameters.values())?.into();
        Ok(())
    }

    /// The trial's id ("03").
    pub fn trial_id(&self) -> String {
        format!("{:0w$}", self.number, w = self.width as usize)
    }

    /// Whether this is the trial with id `id`.
    pub fn is(&self, id: &str) -> bool {
        id.len() == self.width as usize
            && id.bytes().all(|b| b.is_ascii_digit())
            && id.parse::<u32>().ok() == Some(self.number)
    }

    /// The trial's number: its place in creation order, from 0.
    pub fn number(&self) -> usize {
        self.number as usize
    }

    /// The trial's active values (its hyperparameters' `values()`).
    pub fn values(&self) -> Result<Values> {
        serde_json::from_str(&self.values)
            .map_err(|e| Error::parse(format!("trial {}: values: {e}", self.trial_id())))
    }
}

/// The entry of the trial with id `id` among entries in creation order.
pub fn find_entry<'a>(entries: &'a [TrialEntry], id: &str) -> Option<&'a TrialEntry> {
    let n: usize = id.parse().ok()?;
    entries.get(n).filter(|e| e.is(id))
}

/// The 64-bit key under which a set of values counts as tried: FNV-1a of [`values_hash`].
pub fn values_key(values: &Values) -> u64 {
    fnv1a(values_hash(values).as_bytes())
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
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
    /// Whether its workers take trials asynchronously by default (each the moment it frees
    /// up) rather than in batches: ASHA.
    fn asynchronous(&self) -> bool {
        false
    }
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
    /// Every trial, in creation order.
    entries: Vec<TrialEntry>,
    /// Full records of the trials not yet stored as ended: running, waiting for a retry, or
    /// ended but not saved yet (a failed write keeps them here).
    live: Vec<Trial>,
    /// Numbers of the ended trials, in the order they ended.
    end_order: Vec<u32>,
    retry_queue: VecDeque<String>,
    tried: BTreeSet<u64>,
    storage: Box<dyn Storage>,
}

impl Oracle {
    /// Whether the algorithm's workers take trials asynchronously by default (see
    /// [`Algorithm::asynchronous`]).
    pub fn asynchronous(&self) -> bool {
        self.algorithm.asynchronous()
    }

    /// An oracle running `algorithm` over `hyperparameters`, keeping its documents in memory
    /// until [`Oracle::set_storage`] gives it a place.
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
            entries: Vec::new(),
            live: Vec::new(),
            end_order: Vec::new(),
            retry_queue: VecDeque::new(),
            tried: BTreeSet::new(),
            storage: Box::new(MemoryStorage::new()),
        })
    }

    /// Replaces where the search's documents go, returning the old storage. Nothing is
    /// loaded or written: see [`Oracle::load`] and [`Oracle::save`].
    pub fn set_storage(&mut self, storage: Box<dyn Storage>) -> Box<dyn Storage> {
        std::mem::replace(&mut self.storage, storage)
    }

    /// Where the search's documents are.
    pub fn storage(&self) -> &dyn Storage {
        self.storage.as_ref()
    }

    /// Where the search's documents are, for writing.
    pub fn storage_mut(&mut self) -> &mut dyn Storage {
        self.storage.as_mut()
    }

    /// The zero-padded id of the n-th trial: as many digits as `max_trials` has (4 without a
    /// limit, as KerasTuner's `len(str(None))`).
    pub fn trial_id(&self, n: usize) -> String {
        let width = self.config.max_trials.map_or(4, |m| m.to_string().len());
        format!("{n:0width$}")
    }

    /// Every trial's entry, in creation order.
    pub fn entries(&self) -> &[TrialEntry] {
        &self.entries
    }

    /// How many trials have been created.
    pub fn trial_count(&self) -> usize {
        self.entries.len()
    }

    /// The ids of the ended trials, in the order they ended.
    pub fn end_order(&self) -> Vec<String> {
        self.end_order
            .iter()
            .map(|&n| self.entries[n as usize].trial_id())
            .collect()
    }

    /// The number (place in creation order) of the trial with this id.
    pub fn number_of(&self, id: &str) -> Option<usize> {
        find_entry(&self.entries, id).map(TrialEntry::number)
    }

    /// The trial with this id, from memory or storage; `None` when there is no such trial.
    pub fn trial(&self, id: &str) -> Result<Option<Trial>> {
        find_entry(&self.entries, id)
            .map(|e| self.record(e))
            .transpose()
    }

    /// The full record of an entry's trial: the one in memory, else the stored one.
    fn record(&self, e: &TrialEntry) -> Result<Trial> {
        let id = e.trial_id();
        match self.live.iter().find(|t| t.trial_id == id) {
            Some(t) => Ok(t.clone()),
            None => self.read_trial(&id),
        }
    }

    fn read_trial(&self, id: &str) -> Result<Trial> {
        let path = format!("trial_{id}/trial.json");
        let bytes = self.storage.read(&path)?.ok_or_else(|| {
            Error::state(format!(
                "trial {id} is recorded but {path} is missing from {}",
                self.storage.location()
            ))
        })?;
        let v: Value =
            serde_json::from_slice(&bytes).map_err(|e| Error::parse(format!("{path}: {e}")))?;
        let t = Trial::from_json(&v).map_err(|e| Error::parse(format!("{path}: {e}")))?;
        if t.trial_id != id {
            return Err(Error::parse(format!(
                "{path}: its trial_id is {:?}, expected {id:?}",
                t.trial_id
            )));
        }
        Ok(t)
    }

    /// Every trial, in creation order (finished ones read back from storage).
    pub fn trials(&self) -> Result<Vec<Trial>> {
        self.entries.iter().map(|e| self.record(e)).collect()
    }

    /// The trial's full record in memory, read back from storage first when it is not there.
    fn live_mut(&mut self, id: &str) -> Result<&mut Trial> {
        let i = match self.live.iter().position(|t| t.trial_id == id) {
            Some(i) => i,
            None => {
                let e = find_entry(&self.entries, id)
                    .ok_or_else(|| Error::state(format!("no trial with id {id}")))?;
                let t = self.record(e)?;
                self.live.push(t);
                self.live.len() - 1
            }
        };
        Ok(&mut self.live[i])
    }

    fn entry_mut(&mut self, id: &str) -> Result<&mut TrialEntry> {
        let n = self
            .number_of(id)
            .ok_or_else(|| Error::state(format!("no trial with id {id}")))?;
        Ok(&mut self.entries[n])
    }

    /// Puts an interrupted trial back to run next (used when resuming).
    pub fn requeue(&mut self, id: &str) -> Result<()> {
        self.live_mut(id)?;
        if !self.retry_queue.iter().any(|q| q == id) {
            self.retry_queue.push_back(id.to_string());
        }
        Ok(())
    }

    /// KerasTuner's `create_trial`: a retried trial first, else a new one with values from
    /// the algorithm; a trial with status `Stopped` ends the search, `Idle` means wait.
    pub fn create_trial(&mut self) -> Result<Trial> {
        if let Some(id) = self.retry_queue.pop_front() {
            let t = self.live_mut(&id)?;
            t.status = TrialStatus::Running;
            t.message = None;
            let t = t.clone();
            self.entry_mut(&id)?.update(&t)?;
            return Ok(t);
        }
        let n = self.entries.len();
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
            trials: &self.entries,
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
                self.tried.insert(values_key(&values));
                self.entries.push(TrialEntry::of(&t, n)?);
                self.live.push(t.clone());
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
        let id = trial.trial_id.clone();
        if trial.status == TrialStatus::Invalid {
            if trial.attempts <= self.config.max_retries_per_trial {
                self.entry_mut(&id)?.update(&trial)?;
                *self.live_mut(&id)? = trial;
                self.retry_queue.push_back(id);
                return Ok(());
            }
            trial.status = TrialStatus::Failed;
        }
        self.algorithm.on_trial_end(&trial);
        let entry = self.entry_mut(&id)?;
        entry.update(&trial)?;
        let number = entry.number;
        *self.live_mut(&id)? = trial;
        self.end_order.push(number);
        self.check_consecutive_failures()
    }

    fn check_consecutive_failures(&self) -> Result<()> {
        let limit = self.config.max_consecutive_failed_trials;
        let mut run = 0;
        for &n in &self.end_order {
            let e = &self.entries[n as usize];
            if e.status == TrialStatus::Failed {
                run += 1;
                if run == limit {
                    let message = self
                        .trial(&e.trial_id())?
                        .and_then(|t| t.message)
                        .unwrap_or_default();
                    return Err(Error::state(format!(
                        "Number of consecutive failures exceeded the limit of {limit}.\n{message}"
                    )));
                }
            } else {
                run = 0;
            }
        }
        Ok(())
    }

    /// Entries of the completed trials, best first.
    pub fn best_entries(&self, n: usize) -> Vec<&TrialEntry> {
        let obj = &self.config.objective;
        let mut done: Vec<&TrialEntry> = self
            .entries
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

    /// Completed trials, best first.
    pub fn get_best_trials(&self, n: usize) -> Result<Vec<Trial>> {
        self.best_entries(n)
            .into_iter()
            .map(|e| self.record(e))
            .collect()
    }

    /// oracle.json: the shared state and the algorithm's.
    pub fn state(&self) -> Result<Value> {
        Ok(serde_json::to_value(OracleDoc(self))?)
    }

    /// Saves one trial's trial.json (or those of every trial held in memory when `trial` is
    /// None), then oracle.json. Trials that have ended are dropped from memory once stored.
    pub fn save(&mut self, trial: Option<&str>) -> Result<()> {
        for t in &self.live {
            if trial.is_none_or(|id| id == t.trial_id) {
                let doc = serde_json::to_vec_pretty(&t.to_json())?;
                self.storage
                    .write(&format!("trial_{}/trial.json", t.trial_id), &doc)?;
            }
        }
        let doc = serde_json::to_vec_pretty(&OracleDoc(self))?;
        self.storage.write("oracle.json", &doc)?;
        let queue = &self.retry_queue;
        self.live.retain(|t| {
            let stored = trial.is_none_or(|id| id == t.trial_id);
            let ended = matches!(t.status, TrialStatus::Completed | TrialStatus::Failed)
                && !queue.iter().any(|q| *q == t.trial_id);
            !(stored && ended)
        });
        Ok(())
    }

    /// Writes oracle.json alone (the search's shared state).
    pub fn save_state(&mut self) -> Result<()> {
        let doc = serde_json::to_vec_pretty(&OracleDoc(self))?;
        self.storage.write("oracle.json", &doc)
    }

    /// Reloads a saved search from the oracle's storage. Trials that were running when it
    /// stopped go back on the queue; the caller decides how to continue them.
    pub fn load(&mut self) -> Result<bool> {
        self.load_requeueing(None)
    }

    /// Re-reads the search that several workers share (inside the storage's lock): only the
    /// running trials named in `abandoned` (by number: their worker is gone) go back on the
    /// queue; the others are still being trained somewhere.
    pub fn refresh(&mut self, abandoned: &[usize]) -> Result<bool> {
        self.load_requeueing(Some(abandoned))
    }

    fn load_requeueing(&mut self, only: Option<&[usize]>) -> Result<bool> {
        let Some(bytes) = self.storage.read("oracle.json")? else {
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
        let list = |key: &str| -> Result<Vec<String>> {
            match v.get(key) {
                None => Ok(Vec::new()),
                Some(a) => serde_json::from_value(a.clone()).map_err(|e| {
                    Error::parse(format!("oracle.json `{key}`: {e} (a list of strings)"))
                }),
            }
        };
        let ids = list("trial_ids")?;
        self.entries.clear();
        self.live.clear();
        for (n, id) in ids.iter().enumerate() {
            let t = self.read_trial(id)?;
            self.entries.push(
                TrialEntry::of(&t, n).map_err(|e| Error::parse(format!("oracle.json: {e}")))?,
            );
            if t.status == TrialStatus::Running || t.status == TrialStatus::Invalid {
                self.live.push(t);
            }
        }
        self.end_order = list("end_order")?
            .iter()
            .map(|id| {
                self.number_of(id).map(|n| n as u32).ok_or_else(|| {
                    Error::parse(format!(
                        "oracle.json `end_order` names trial {id:?}, which is not in `trial_ids`"
                    ))
                })
            })
            .collect::<Result<_>>()?;
        self.retry_queue = list("retry_queue")?.into();
        // Hex keys; a project saved before the keys were hashes holds the values' strings.
        self.tried = list("tried_so_far")?
            .iter()
            .map(|s| match s.len() {
                16 => u64::from_str_radix(s, 16).unwrap_or_else(|_| fnv1a(s.as_bytes())),
                _ => fnv1a(s.as_bytes()),
            })
            .collect();
        if let Some(s) = v.get("algorithm_state") {
            self.algorithm.set_state(s)?;
        }
        let waiting: Vec<String> = self
            .live
            .iter()
            .filter(|t| t.status == TrialStatus::Running)
            .map(|t| t.trial_id.clone())
            .filter(|id| {
                only.is_none_or(|numbers| self.number_of(id).is_some_and(|n| numbers.contains(&n)))
            })
            .collect();
        for id in waiting {
            self.requeue(&id)?;
        }
        Ok(true)
    }
}

/// oracle.json, written straight from the oracle (no intermediate JSON tree).
struct OracleDoc<'a>(&'a Oracle);

impl Serialize for OracleDoc<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let o = self.0;
        let entries = &o.entries;
        let mut m = s.serialize_map(Some(9))?;
        m.serialize_entry("algorithm", o.algorithm.name())?;
        m.serialize_entry("hyperparameters", &o.hyperparameters.to_json())?;
        m.serialize_entry(
            "trial_ids",
            &Seq(|| entries.iter().map(TrialEntry::trial_id)),
        )?;
        m.serialize_entry(
            "end_order",
            &Seq(|| o.end_order.iter().map(|&n| entries[n as usize].trial_id())),
        )?;
        m.serialize_entry("retry_queue", &o.retry_queue)?;
        m.serialize_entry(
            "tried_so_far",
            &Seq(|| o.tried.iter().map(|k| format!("{k:016x}"))),
        )?;
        m.serialize_entry("seed", &o.config.seed)?;
        m.serialize_entry("objective", &o.config.objective)?;
        m.serialize_entry("algorithm_state", &o.algorithm.state())?;
        m.end()
    }
}

/// A sequence serialized from an iterator made on demand.
struct Seq<F>(F);

impl<F, I> Serialize for Seq<F>
where
    F: Fn() -> I,
    I: Iterator,
    I::Item: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq((self.0)())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tuner::oracles::RandomSearch;

    fn space() -> HyperParameters {
        let mut hp = HyperParameters::new();
        hp.int("units", 1, 64).get().unwrap();
        hp.choice("act", vec!["relu".into(), "tanh".into()])
            .get()
            .unwrap();
        hp.float("lr", 1e-4, 1e-1).get().unwrap();
        hp
    }

    fn oracle(max_trials: usize) -> Oracle {
        let config = OracleConfig {
            max_trials: Some(max_trials),
            seed: 7,
            ..Default::default()
        };
        Oracle::new(config, Box::new(RandomSearch), space()).unwrap()
    }

    /// Creates, scores (by units) and saves one trial; returns its id.
    fn run_one(o: &mut Oracle) -> String {
        let mut t = o.create_trial().unwrap();
        o.save(Some(&t.trial_id)).unwrap();
        let units = t.hyperparameters.get("units").unwrap().as_f64().unwrap();
        t.metrics = vec![("default_objective".into(), units)];
        t.curves = vec![vec![("loss".into(), vec![3.0, 2.0, units])]];
        t.status = TrialStatus::Completed;
        let id = t.trial_id.clone();
        o.end_trial(t).unwrap();
        o.save(Some(&id)).unwrap();
        id
    }

    #[test]
    fn ended_trials_leave_memory_once_stored_and_read_back_whole() {
        let mut o = oracle(20);
        let ids: Vec<String> = (0..20).map(|_| run_one(&mut o)).collect();
        assert!(o.live.is_empty(), "{} trials still held", o.live.len());
        assert_eq!(o.trial_count(), 20);
        assert_eq!(o.end_order(), ids);
        for id in &ids {
            let t = o.trial(id).unwrap().unwrap();
            let units = t.hyperparameters.get("units").unwrap().as_f64().unwrap();
            assert_eq!(t.metrics, vec![("default_objective".to_string(), units)]);
            assert_eq!(t.curves[0][0].1, vec![3.0, 2.0, units]);
            assert_eq!(t.score, Some(units));
            let e = find_entry(o.entries(), id).unwrap();
            assert_eq!(e.values().unwrap(), t.hyperparameters.values());
            assert_eq!(e.score, Some(units));
        }
        // Best first, read back from storage: the smallest units.
        let best = o.get_best_trials(3).unwrap();
        let scores: Vec<f64> = best.iter().map(|t| t.score.unwrap()).collect();
        let mut all: Vec<f64> = o.entries().iter().filter_map(|e| e.score).collect();
        all.sort_by(f64::total_cmp);
        assert_eq!(scores, all[..3]);
        assert_eq!(o.trials().unwrap().len(), 20);
        assert!(o.trial("99").unwrap().is_none());
    }

    #[test]
    fn a_trial_whose_save_failed_stays_in_memory() {
        let mut o = oracle(5);
        run_one(&mut o);
        let mut full = MemoryStorage::new();
        full.fail_after_writes = Some(0);
        let kept = o.set_storage(Box::new(full));
        let mut t = o.create_trial().unwrap();
        t.metrics = vec![("default_objective".into(), 1.5)];
        t.status = TrialStatus::Completed;
        let id = t.trial_id.clone();
        o.end_trial(t).unwrap();
        let e = o.save(Some(&id)).unwrap_err().to_string();
        assert!(e.contains("storage is full"), "{e}");
        assert_eq!(o.trial(&id).unwrap().unwrap().score, Some(1.5));
        // Once there is room again, saving everything stores it and lets it go.
        o.set_storage(kept);
        o.save(None).unwrap();
        assert!(o.live.is_empty());
        assert_eq!(o.trial(&id).unwrap().unwrap().score, Some(1.5));
    }

    #[test]
    fn a_saved_search_loads_and_continues_without_repeats() {
        let mut o = oracle(30);
        for _ in 0..10 {
            run_one(&mut o);
        }
        let running = o.create_trial().unwrap();
        o.save(Some(&running.trial_id)).unwrap();
        let stored = o.set_storage(Box::new(MemoryStorage::new()));
        let mut back = oracle(30);
        back.set_storage(stored);
        assert!(back.load().unwrap());
        assert_eq!(back.entries(), o.entries());
        assert_eq!(back.end_order(), o.end_order());
        assert_eq!(back.tried, o.tried);
        // The interrupted trial comes first, then new values never tried before.
        assert_eq!(back.create_trial().unwrap().trial_id, running.trial_id);
        let next = back.create_trial().unwrap();
        assert_eq!(next.trial_id, "11");
        let key = values_key(&next.hyperparameters.values());
        assert!(!o.tried.contains(&key));
    }

    #[test]
    fn a_project_saved_with_value_strings_as_tried_keys_loads() {
        let mut o = oracle(5);
        run_one(&mut o);
        let values = o.entries()[0].values().unwrap();
        let mut doc = o.state().unwrap();
        doc["tried_so_far"] = serde_json::json!([values_hash(&values)]);
        o.storage_mut()
            .write("oracle.json", &serde_json::to_vec(&doc).unwrap())
            .unwrap();
        let mut back = oracle(5);
        back.set_storage(o.set_storage(Box::new(MemoryStorage::new())));
        back.load().unwrap();
        assert_eq!(back.tried.len(), 1);
        assert!(back.tried.contains(&values_key(&values)));
    }

    #[test]
    fn damaged_trial_lists_are_clear_errors() {
        let mut o = oracle(5);
        run_one(&mut o);
        let doc = o.state().unwrap();
        let load = |patch: &dyn Fn(&mut Value)| -> String {
            let mut d = doc.clone();
            patch(&mut d);
            let mut s = MemoryStorage::new();
            s.write("oracle.json", &serde_json::to_vec(&d).unwrap())
                .unwrap();
            let t = o.storage().read("trial_0/trial.json").unwrap().unwrap();
            s.write("trial_0/trial.json", &t).unwrap();
            let mut back = oracle(5);
            back.set_storage(Box::new(s));
            back.load().unwrap_err().to_string()
        };
        let e = load(&|d| d["trial_ids"] = serde_json::json!(["0", "1"]));
        assert!(e.contains("trial_1/trial.json is missing"), "{e}");
        let e = load(&|d| d["end_order"] = serde_json::json!(["7"]));
        assert!(e.contains("`end_order` names trial \"7\""), "{e}");
        let e = load(&|d| d["trial_ids"] = serde_json::json!("0"));
        assert!(
            e.contains("`trial_ids`") && e.contains("a list of strings"),
            "{e}"
        );
    }

    #[test]
    fn ids_are_found_only_by_their_exact_spelling() {
        let mut o = oracle(50);
        for _ in 0..3 {
            run_one(&mut o);
        }
        assert_eq!(o.number_of("02"), Some(2));
        for wrong in ["2", "002", "+2", " 2", "-0", "x", ""] {
            assert_eq!(o.number_of(wrong), None, "{wrong:?}");
        }
        assert_eq!(o.entries()[2].trial_id(), "02");
        // A compact record: number, width, status, score and a pointer to the values.
        assert!(std::mem::size_of::<TrialEntry>() <= 40);
    }
}
