//! The tuner's callbacks on every execution's fit: the best epoch's weights, a resume point
//! after every epoch, and the tuner's hooks with the trial attached.

use crate::error::{Error, Result};
use crate::nn::callbacks::{Callback, ModelAccess};
use crate::nn::history::{History, Logs};
use crate::tensor::Tensor;
use crate::tuner::checkpoint;
use crate::tuner::hypermodel::TunerHooks;
use crate::tuner::jobs::Job;
use crate::tuner::objective::ObjectiveSpec;
use crate::tuner::resume::history_to_json;
use crate::tuner::storage::Storage;
use crate::tuner::trial::Trial;
use serde_json::{json, Value};
use std::cell::RefCell;

/// Keeps the best epoch's weights by the objective (KerasTuner's SaveBestEpoch).
pub(super) struct BestEpoch {
    objective: ObjectiveSpec,
    pub(super) best: Option<(f64, Vec<Tensor>)>,
}

impl BestEpoch {
    /// `seed`: the best epoch before a resume (its value and weights, from
    /// [`best_so_far_path`]), so that a resumed execution keeps the weights of an epoch it
    /// trained before the interruption when none after it does better.
    pub(super) fn new(objective: ObjectiveSpec, seed: Option<(f64, Vec<Tensor>)>) -> Self {
        BestEpoch {
            objective,
            best: seed,
        }
    }
}

impl Callback for BestEpoch {
    fn on_epoch_end(
        &mut self,
        _epoch: usize,
        logs: &mut Logs,
        model: &mut dyn ModelAccess,
    ) -> Result<()> {
        let metrics: Vec<(String, f64)> = logs
            .iter()
            .map(|(k, v)| (k.to_string(), v as f64))
            .collect();
        let Some(v) = self.objective.value(&metrics) else {
            return Ok(());
        };
        if v.is_nan() {
            return Ok(());
        }
        if self
            .best
            .as_ref()
            .is_none_or(|(b, _)| self.objective.better(v, *b))
        {
            self.best = Some((v, model.get_weights()));
        }
        Ok(())
    }
}

/// Where [`EpochSaver`] puts a resume point: the tuner's storage, or (training on a thread)
/// a channel to the thread that owns the storage.
pub(super) trait SaveSink {
    /// Stores `bytes` at `path`; `Err` when storing failed (training then stops).
    fn save(&self, path: &str, bytes: Vec<u8>) -> Result<()>;
}

impl SaveSink for &RefCell<Box<dyn Storage>> {
    fn save(&self, path: &str, bytes: Vec<u8>) -> Result<()> {
        self.borrow_mut().write(path, &bytes)
    }
}

/// Where an execution's best epoch so far is kept while it trains (beside its resume point).
pub(super) fn best_so_far_path(resume_path: &str) -> String {
    format!("{}.best.bin", resume_path.trim_end_matches(".bin"))
}

/// Writes a resume point after every epoch: weights, optimizer state and history so far; and,
/// first, the weights of an epoch that is the best so far by the objective
/// ([`best_so_far_path`]), so that a resumed execution ends with the same best weights (its
/// trial's checkpoint, which Hyperband's, BOHB's and ASHA's promotions continue from) as an
/// uninterrupted one.
pub(super) struct EpochSaver<S: SaveSink> {
    storage: S,
    path: String,
    objective: ObjectiveSpec,
    /// The best objective value so far (before a resume too).
    best: Option<f64>,
    history: History,
    /// The execution's hyperparameter values, stored with each resume point (a surface shows
    /// them for an interrupted trial whose values the oracle has not stored yet).
    values: Value,
    pub(super) error: Option<Error>,
}

impl<S: SaveSink> EpochSaver<S> {
    /// The saver of `job`'s resume points, continuing the history it resumes.
    pub(super) fn of(storage: S, job: &Job, objective: &ObjectiveSpec) -> Self {
        EpochSaver {
            storage,
            path: job.resume_path.clone(),
            objective: objective.clone(),
            best: job.best_prior.as_ref().map(|(v, _)| *v),
            history: job.prior.clone().unwrap_or_default(),
            values: job.hp.values().to_json(),
            error: None,
        }
    }
}

impl<S: SaveSink> Callback for EpochSaver<S> {
    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        model: &mut dyn ModelAccess,
    ) -> Result<()> {
        self.history.record(epoch, logs);
        let metrics: Vec<(String, f64)> = logs
            .iter()
            .map(|(k, v)| (k.to_string(), v as f64))
            .collect();
        let improved = self
            .objective
            .value(&metrics)
            .filter(|v| !v.is_nan())
            .filter(|v| self.best.is_none_or(|b| self.objective.better(*v, b)));
        let weights = model.get_weights();
        let mut r = Ok(());
        if let Some(v) = improved {
            self.best = Some(v);
            r = checkpoint::encode(&weights, &json!({"value": v}))
                .and_then(|bytes| self.storage.save(&best_so_far_path(&self.path), bytes));
        }
        let meta = json!({"epoch": epoch, "history": history_to_json(&self.history), "values": self.values});
        let r = r.and_then(|_| {
            checkpoint::encode_state(&weights, model.training_state().as_ref(), meta)
                .and_then(|bytes| self.storage.save(&self.path, bytes))
        });
        if let Err(e) = r {
            // A full disk must stop the search with a clear error, not lose data silently.
            model.stop_training();
            self.error = Some(e);
        }
        Ok(())
    }
}

/// Forwards fit's callbacks to the tuner's hooks with the trial attached.
pub(super) struct HookAdapter<'a> {
    pub(super) hooks: &'a RefCell<Vec<Box<dyn TunerHooks>>>,
    pub(super) trial: &'a Trial,
}

impl Callback for HookAdapter<'_> {
    fn on_epoch_begin(&mut self, epoch: usize, _m: &mut dyn ModelAccess) -> Result<()> {
        for h in self.hooks.borrow_mut().iter_mut() {
            h.on_epoch_begin(self.trial, epoch);
        }
        Ok(())
    }
    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        _m: &mut dyn ModelAccess,
    ) -> Result<()> {
        for h in self.hooks.borrow_mut().iter_mut() {
            h.on_epoch_end(self.trial, epoch, logs);
        }
        Ok(())
    }
    fn on_train_batch_begin(&mut self, batch: usize, _m: &mut dyn ModelAccess) -> Result<()> {
        for h in self.hooks.borrow_mut().iter_mut() {
            h.on_batch_begin(self.trial, batch);
        }
        Ok(())
    }
    fn on_train_batch_end(
        &mut self,
        batch: usize,
        logs: &Logs,
        _m: &mut dyn ModelAccess,
    ) -> Result<()> {
        for h in self.hooks.borrow_mut().iter_mut() {
            h.on_batch_end(self.trial, batch, logs);
        }
        Ok(())
    }
}
