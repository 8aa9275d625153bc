//! A hypermodel trial's executions as jobs: built (or picked up from a resume point) with
//! their seeds, Hyperband's warm start and fit arguments, then folded back into the trial
//! (histories, best-epoch weights, the trial's checkpoint).

use crate::error::{Error, Result};
use crate::gpu::Device;
use crate::hp::HyperParameters;
use crate::nn::history::History;
use crate::nn::model::{FitArgs, Sequential};
use crate::tensor::Tensor;
use crate::tuner::callbacks::best_so_far_path;
use crate::tuner::checkpoint;
use crate::tuner::hypermodel::{FitResult, Runner};
use crate::tuner::objective::ObjectiveSpec;
use crate::tuner::resume::{
    curves_of, history_from_json, history_to_json, load_checkpoint, merge_histories,
};
use crate::tuner::trial::{Curves, Trial};
use crate::tuner::tuner::Tuner;
use serde_json::{json, Value};

/// One execution of a trial, built and ready to train.
pub(super) struct Job {
    pub(super) trial: usize,
    pub(super) exec: usize,
    pub(super) model: Sequential,
    pub(super) hp: HyperParameters,
    pub(super) args: FitArgs,
    pub(super) prior: Option<History>,
    /// The best epoch before the interruption of a resumed execution: value and weights.
    pub(super) best_prior: Option<(f64, Vec<Tensor>)>,
    pub(super) resume_path: String,
}

/// What a trial's executions have produced so far.
#[derive(Default)]
pub(super) struct TrialAcc {
    pub(super) results: Vec<FitResult>,
    pub(super) best_checkpoint: Option<(f64, Vec<Tensor>)>,
    pub(super) curves: Vec<Curves>,
    pub(super) used: Vec<String>,
    /// The per-sample input shape the models were built for (kept with the checkpoint, so
    /// the best models rebuild without being told).
    pub(super) input_shape: Option<Vec<usize>>,
}
impl Tuner {
    /// Builds every execution of every trial in `batch` (or picks up its resume point).
    pub(super) fn prepare_jobs(
        &mut self,
        trial: &Trial,
        x: &Tensor,
        args: &FitArgs,
        device: Device,
        acc: &mut TrialAcc,
    ) -> Result<Vec<Job>> {
        let mut jobs = Vec::new();
        let mut resumed = Vec::new();
        let Runner::Model(hm) = &mut self.runner else {
            return Err(Error::state("no hypermodel"));
        };
        let objective = self.oracle.config.objective.clone();
        let values = trial.hyperparameters.values();
        let int_of = |k: &str| values.get(k).and_then(|v| v.as_i64());
        // The caller's verbose reaches every execution's fit, as KerasTuner passes search's
        // arguments on to `model.fit` (the CLI's live display asks for 0).
        let mut fit_args = args.clone();
        // Hyperband's schedule wins over the hypermodel's own epochs.
        let schedule = |a: &mut FitArgs| {
            if let Some(e) = int_of("tuner/epochs") {
                a.epochs = e.max(0) as usize;
            }
            if let Some(e) = int_of("tuner/initial_epoch") {
                a.initial_epoch = e.max(0) as usize;
            }
        };
        schedule(&mut fit_args);
        let parent = values
            .get("tuner/trial_id")
            .and_then(|v| v.as_str().map(|s| s.to_string()));
        let trial_no = self.oracle.number_of(&trial.trial_id).unwrap_or(0) as u64;
        for exec in 0..self.config.executions_per_trial {
            let mut hp = trial.hyperparameters.clone();
            if !hm.tunable() {
                hp.tune_new_entries = false;
            }
            hp.clear_accessed();
            let mut model = hm.build(&mut hp)?;
            model.set_seed(self.config.oracle.seed ^ (trial_no << 16) ^ exec as u64)?;
            if model.device_setting() == Device::Cpu {
                model.set_device(device);
            }
            if !model.is_built() {
                // A declared input shape wins: the hypermodel's fit may reshape the data.
                let shape = match model.get_input_shape() {
                    Some(s) => s.to_vec(),
                    None if x.shape().len() >= 2 => x.shape()[1..].to_vec(),
                    None => {
                        return Err(Error::invalid(
                            "x",
                            format!("shape {:?}", x.shape()),
                            "(samples, features...)",
                        ))
                    }
                };
                model.build(&shape)?;
            }
            let size = model.count_params();
            if let Some(max) = self.config.max_model_size {
                if size > max {
                    return Err(Error::FailedTrial(format!(
                        "Oversized model: {size} parameters. Skip model."
                    )));
                }
            }
            let mut exec_args = fit_args.clone();
            hm.fit_args(&mut hp, &mut exec_args)?;
            schedule(&mut exec_args);
            exec_args.seed = Some(self.config.oracle.seed ^ (trial_no << 16) ^ exec as u64);
            if let Some(p) = &parent {
                let (w, _) =
                    load_checkpoint(self.oracle.storage(), &format!("trial_{p}/checkpoint.bin"))?
                        .ok_or_else(|| {
                        Error::state(format!("trial {p} has no checkpoint to continue from"))
                    })?;
                model.restore_weights(&w)?;
            }
            // Resume an interrupted execution from its last completed epoch.
            // A retry (of an invalid trial) trains again rather than reusing the attempt
            // that failed, so each attempt keeps resume points of its own.
            let resume_path = match trial.attempts {
                0 => format!("trial_{}/resume_{exec}.bin", trial.trial_id),
                n => format!("trial_{}/resume_{exec}_retry{n}.bin", trial.trial_id),
            };
            let mut prior: Option<History> = None;
            let mut best_prior = None;
            let stored = match self.oracle.storage().read(&resume_path)? {
                Some(bytes) => Some(checkpoint::decode_state(&bytes)?),
                None => None,
            };
            if let Some((w, state, meta)) = stored {
                if meta.get("done").and_then(|d| d.as_bool()) == Some(true) {
                    // This execution finished before the interruption: reuse its result.
                    let h = history_from_json(meta.get("history").unwrap_or(&Value::Null));
                    acc.curves.push(curves_of(&h));
                    if let Some((wb, mb)) = load_checkpoint(
                        self.oracle.storage(),
                        &format!("trial_{}/best_{exec}.bin", trial.trial_id),
                    )? {
                        let v = mb.get("value").and_then(|v| v.as_f64()).unwrap_or(f64::NAN);
                        if acc
                            .best_checkpoint
                            .as_ref()
                            .is_none_or(|(b, _)| objective.better(v, *b))
                        {
                            acc.best_checkpoint = Some((v, wb));
                        }
                    }
                    acc.results.push(FitResult::History(h));
                    continue;
                }
                model.restore_weights(&w)?;
                if let Some(state) = &state {
                    model.set_training_state(state)?;
                }
                let epoch = meta.get("epoch").and_then(|e| e.as_u64()).unwrap_or(0) as usize;
                exec_args.initial_epoch = epoch + 1;
                resumed.push(format!(
                    "Resuming trial {}, execution {} of {}, after epoch {} of {} (its last completed epoch)",
                    trial.trial_id,
                    exec + 1,
                    self.config.executions_per_trial,
                    epoch + 1,
                    exec_args.epochs
                ));
                prior = Some(history_from_json(
                    meta.get("history").unwrap_or(&Value::Null),
                ));
                best_prior =
                    load_checkpoint(self.oracle.storage(), &best_so_far_path(&resume_path))?
                        .and_then(|(w, m)| m.get("value").and_then(|v| v.as_f64()).map(|v| (v, w)));
            }
            jobs.push(Job {
                trial: 0,
                exec,
                model,
                hp,
                args: exec_args,
                prior,
                best_prior,
                resume_path,
            });
        }
        for line in resumed {
            self.say(&line);
        }
        Ok(jobs)
    }
    /// Folds one trained execution into its trial: its history (after the one it resumed),
    /// its "done" resume point, its best epoch's weights, the hps its build used (which join
    /// the search space).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn collect_execution(
        &mut self,
        trial: &mut Trial,
        job: &mut Job,
        acc: &mut TrialAcc,
        fitted: Option<Result<FitResult>>,
        saver_error: Option<Error>,
        best: Option<(f64, Vec<Tensor>)>,
        objective: &ObjectiveSpec,
    ) -> Result<()> {
        if let Some(e) = saver_error {
            return Err(e);
        }
        let mut result = fitted.unwrap_or_else(|| Err(Error::state("execution not run")))?;
        if let (FitResult::History(h), Some(p)) = (&mut result, &job.prior) {
            *h = merge_histories(p, h);
        }
        let (value, weights) = match best {
            Some((v, w)) => (v, w),
            None => (f64::NAN, job.model.get_weights()?),
        };
        // The best epoch's weights before the mark that the execution is done: a search killed
        // between the two writes trains the execution again rather than reusing it without
        // its weights (which left the trial without a checkpoint for a promotion to load).
        self.oracle.storage_mut().write(
            &format!("trial_{}/best_{}.bin", trial.trial_id, job.exec),
            &checkpoint::encode(&weights, &json!({"value": value}))?,
        )?;
        if let FitResult::History(h) = &result {
            acc.curves.push(curves_of(h));
            // Mark the execution done so a resume reuses it instead of retraining.
            let meta = json!({"done": true, "history": history_to_json(h)});
            self.oracle
                .storage_mut()
                .write(&job.resume_path, &checkpoint::encode(&[], &meta)?)?;
        }
        if acc
            .best_checkpoint
            .as_ref()
            .is_none_or(|(b, _)| objective.better(value, *b) || b.is_nan())
        {
            acc.best_checkpoint = Some((value, weights));
        }
        if acc.input_shape.is_none() {
            acc.input_shape = job.model.built_input_shape();
        }
        for name in job.hp.accessed() {
            if !acc.used.contains(name) {
                acc.used.push(name.clone());
            }
        }
        trial.used = Some(acc.used.clone());
        // Hyperparameters first seen in this build join the search space.
        trial.hyperparameters.merge(&job.hp, false);
        self.oracle.hyperparameters.merge(&job.hp, false);
        acc.results.push(result);
        Ok(())
    }

    /// A trial's results once all its executions are in: its best weights become its
    /// checkpoint (Hyperband's next round continues from it), its curves are kept.
    pub(super) fn finish_executions(
        &mut self,
        trial: &mut Trial,
        acc: TrialAcc,
    ) -> Result<Vec<FitResult>> {
        if let Some((v, w)) = acc.best_checkpoint {
            self.oracle.storage_mut().write(
                &format!("trial_{}/checkpoint.bin", trial.trial_id),
                &checkpoint::encode(&w, &json!({"value": v, "input_shape": acc.input_shape}))?,
            )?;
        }
        trial.curves = acc.curves;
        Ok(acc.results)
    }
}
