//! The search loop: trials from the oracle, batch by batch, each run (a hypermodel's
//! executions, or a tuned function), reduced to the objective and ended.

use crate::error::{Error, Result};
use crate::gpu::{self, Device, Resolved};
use crate::nn::model::FitArgs;
use crate::tensor::Tensor;
use crate::tuner::hypermodel::{FitResult, Runner, SearchData};
use crate::tuner::objective::ObjectiveSpec;
use crate::tuner::trial::{Trial, TrialStatus};
use crate::tuner::tuner::Tuner;
use web_time::Instant;

impl Tuner {
    /// Resolves the device: the GPU (and how many trials to train at once), or the CPU.
    pub(super) fn resolve_device(&mut self) -> Result<(Device, usize)> {
        self.device_note = None;
        let r = gpu::resolve(self.config.device)?;
        self.device_label = r.label();
        Ok(match r {
            Resolved::Gpu(_) => (
                Device::Webgpu,
                self.config.parallel_trials.unwrap_or(8).max(1),
            ),
            Resolved::Cpu { reason } => {
                self.device_note = reason;
                (Device::Cpu, self.config.parallel_trials.unwrap_or(1).max(1))
            }
        })
    }

    /// Runs the search: trials until the oracle stops. `args` are passed to every fit. On a
    /// GPU up to `parallel_trials` trials (all their executions) train together; a GPU lost
    /// mid-search sends the search on to the CPU, resuming the interrupted trials from their
    /// last completed epoch.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn search(&mut self, x: &Tensor, y: &Tensor, args: &FitArgs) -> Result<()> {
        crate::runtime::block_on(self.search_async(x, y, args))
    }

    /// The search of a tuned function that needs no data (KerasTuner's `tuner.search()` with
    /// no arguments): [`Tuner::from_fn`] and [`Tuner::from_run_trial`] tuners (the latter get
    /// empty data and the default fit arguments). A hypermodel needs data: see
    /// [`Tuner::search`].
    pub fn search_without_data(&mut self) -> Result<()> {
        if matches!(self.runner, Runner::Model(_)) {
            return Err(Error::invalid(
                "search",
                "no data",
                "x and y for a tuner that trains a hypermodel: call search(x, y, args)",
            ));
        }
        let none = Tensor::zeros(&[0, 0]);
        self.search(&none, &none, &FitArgs::default())
    }

    /// The search in the browser's blocking form: runs while nothing needs awaiting (the CPU
    /// path); a search that awaits JavaScript or the GPU needs [`Tuner::search_async`].
    #[cfg(target_arch = "wasm32")]
    pub fn search(&mut self, x: &Tensor, y: &Tensor, args: &FitArgs) -> Result<()> {
        crate::runtime::run_ready(self.search_async(x, y, args)).unwrap_or_else(|| {
            Err(Error::state(
                "this search awaits JavaScript or the GPU: use search_async",
            ))
        })
    }

    /// The search as a future (see [`Tuner::search`]).
    pub async fn search_async(&mut self, x: &Tensor, y: &Tensor, args: &FitArgs) -> Result<()> {
        self.started = Some(Instant::now());
        if self.oracle.storage().shared() {
            self.decide(|t| t.oracle.save_state())?;
        } else {
            self.oracle.save(None)?;
        }
        gpu::prepare(self.config.device).await;
        self.stop.store(false, std::sync::atomic::Ordering::SeqCst);
        let (mut device, parallel) = self.resolve_device()?;
        if let Some(note) = self.device_note.clone() {
            self.say(&format!("Training on the CPU: {note}"));
        }
        if let Some(pool) = self.pool(parallel) {
            return self.search_pool(pool, x, y, args, device, parallel).await;
        }
        loop {
            let mut batch: Vec<Trial> = Vec::new();
            while batch.len() < parallel {
                let Some(trial) = self.begin_next_trial()? else {
                    break;
                };
                batch.push(trial);
            }
            if batch.is_empty() {
                if self.others_running {
                    // Other workers' trials decide what comes next (or are taken over once
                    // their worker is found gone): ask again shortly.
                    #[cfg(not(target_arch = "wasm32"))]
                    std::thread::sleep(std::time::Duration::from_millis(200));
                    continue;
                }
                break;
            }
            let t0 = Instant::now();
            let results = self.run_trials(&mut batch, x, y, args, &mut device).await;
            let secs = t0.elapsed().as_secs_f64() / batch.len() as f64;
            let mut fatal = None;
            for (trial, result) in batch.into_iter().zip(results) {
                let quiet = fatal.is_some();
                if let Some(m) = self.end_trial_with(trial, result, secs, quiet)? {
                    fatal = Some(m);
                }
            }
            if let Some(m) = fatal {
                self.decide(|t| t.oracle.save(None))?;
                return Err(Error::Fatal(m));
            }
            if let Some(y) = &self.yielder {
                y().await?;
            }
        }
        Ok(())
    }

    /// The oracle's next trial, stored and announced (display, hooks); `None` when the search
    /// is over (or stopped) or nothing can start until running trials end (a Hyperband round).
    pub(super) fn begin_next_trial(&mut self) -> Result<Option<Trial>> {
        if self.stop.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(None);
        }
        self.others_running = false;
        let trial = self.decide(|t| {
            let trial = t.oracle.create_trial()?;
            if matches!(trial.status, TrialStatus::Stopped | TrialStatus::Idle) {
                if t.oracle.storage().shared() {
                    t.others_running = t.oracle.entries().iter().any(|e| {
                        e.status == TrialStatus::Running && !t.running.contains(&e.number())
                    });
                }
                return Ok(trial);
            }
            t.oracle.save(Some(&trial.trial_id))?;
            if t.oracle.storage().shared() {
                if let Some(n) = t.oracle.number_of(&trial.trial_id) {
                    t.running.push(n);
                    let running = t.running.clone();
                    t.oracle.storage_mut().set_running(&running)?;
                }
            }
            Ok(trial)
        })?;
        if matches!(trial.status, TrialStatus::Stopped | TrialStatus::Idle) {
            return Ok(None);
        }
        self.display_trial_begin(&trial)?;
        for h in &mut self.hooks {
            h.on_trial_begin(&trial);
        }
        Ok(Some(trial))
    }

    /// Runs one decision of the search. On a storage that other workers share, it runs inside
    /// the storage's lock, on the search as re-read there (trials whose worker is gone go
    /// back on the queue), and its writes are committed together; elsewhere it simply runs.
    pub(super) fn decide<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        if !self.oracle.storage().shared() {
            return f(self);
        }
        self.oracle.storage_mut().lock()?;
        let result = match self.oracle.storage_mut().abandoned() {
            Ok(gone) => match self.oracle.refresh(&gone) {
                Ok(_) => f(self),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        match result {
            Ok(v) => {
                self.oracle.storage_mut().unlock(true)?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.oracle.storage_mut().unlock(false);
                Err(e)
            }
        }
    }

    /// Ends a trial with its outcome (metrics, or the error that failed it): the oracle,
    /// storage, hooks and the live display. `Some(message)` when the error is fatal (the search
    /// stops); `quiet` skips the hooks and the display (a fatal error came before).
    pub(super) fn end_trial_with(
        &mut self,
        mut trial: Trial,
        result: Result<Vec<FitResult>>,
        secs: f64,
        quiet: bool,
    ) -> Result<Option<String>> {
        trial.seconds += secs;
        trial.device = Some(self.device_label.clone());
        let mut fatal = None;
        match result {
            Ok(results) => {
                if let Err(e) = self.record_results(&mut trial, &results) {
                    trial.status = TrialStatus::Invalid;
                    trial.message = Some(e.to_string());
                }
            }
            Err(Error::Fatal(m)) => {
                trial.status = TrialStatus::Failed;
                trial.message = Some(m.clone());
                fatal = Some(m);
            }
            Err(Error::FailedTrial(m)) => {
                trial.status = TrialStatus::Failed;
                trial.message = Some(m);
            }
            Err(e) => {
                trial.status = TrialStatus::Invalid;
                trial.message = Some(e.to_string());
            }
        }
        let id = trial.trial_id.clone();
        let (ended, done) = self.decide(|t| {
            let ended = t.oracle.end_trial(trial);
            // The record as the oracle left it (scored, maybe failed), before saving drops it.
            let done = t.oracle.trial(&id)?;
            t.oracle.save(Some(&id))?;
            if t.oracle.storage().shared() {
                if let Some(n) = t.oracle.number_of(&id) {
                    t.running.retain(|&r| r != n);
                    let running = t.running.clone();
                    t.oracle.storage_mut().set_running(&running)?;
                }
            }
            Ok((ended, done))
        })?;
        if fatal.is_some() || quiet {
            return Ok(fatal);
        }
        if let Some(done) = done {
            for h in &mut self.hooks {
                h.on_trial_end(&done);
            }
            self.display_trial_end(&done);
        }
        ended?;
        Ok(None)
    }

    /// Reduces the executions' results to the trial's metrics and best step.
    pub(super) fn record_results(
        &mut self,
        trial: &mut Trial,
        results: &[FitResult],
    ) -> Result<()> {
        let objective = self.oracle.config.objective.clone();
        let mut per_exec: Vec<Vec<(String, f64)>> = Vec::new();
        let mut best_step = None;
        for (i, r) in results.iter().enumerate() {
            let (m, step) = reduce_result(r, &objective)?;
            if i == 0 {
                best_step = step;
            }
            per_exec.push(m);
        }
        // Per-metric mean over executions (KerasTuner's average_metrics_dicts).
        let mut avg: Vec<(String, f64)> = Vec::new();
        if let Some(first) = per_exec.first() {
            for (k, _) in first {
                let vals: Vec<f64> = per_exec
                    .iter()
                    .filter_map(|m| m.iter().find(|(kk, _)| kk == k).map(|(_, v)| *v))
                    .collect();
                avg.push((k.clone(), vals.iter().sum::<f64>() / vals.len() as f64));
            }
        }
        trial.metrics = avg;
        trial.best_step = best_step;
        trial.status = TrialStatus::Completed;
        trial.message = None;
        Ok(())
    }

    pub(super) async fn run_trials(
        &mut self,
        batch: &mut [Trial],
        x: &Tensor,
        y: &Tensor,
        args: &FitArgs,
        device: &mut Device,
    ) -> Vec<Result<Vec<FitResult>>> {
        match &mut self.runner {
            Runner::Function(f) => batch
                .iter_mut()
                .map(|trial| {
                    trial.hyperparameters.clear_accessed();
                    let r = f(trial, &SearchData { x, y }, args);
                    trial.used = Some(trial.hyperparameters.accessed().to_vec());
                    let r = r?;
                    let space = trial.hyperparameters.clone();
                    self.oracle.hyperparameters.merge(&space, false);
                    Ok(vec![r])
                })
                .collect(),
            Runner::AsyncFunction(f) => {
                // Every trial of the batch is started before any is awaited, so a host that
                // trains them elsewhere (the page's worker pool) runs them side by side.
                let futures: Vec<_> = batch
                    .iter_mut()
                    .map(|trial| {
                        trial.hyperparameters.clear_accessed();
                        f(trial)
                    })
                    .collect();
                let mut out = Vec::with_capacity(batch.len());
                for (trial, (r, hp)) in batch
                    .iter_mut()
                    .zip(crate::runtime::join_all(futures).await)
                {
                    if let Some(hp) = hp {
                        trial.hyperparameters = hp;
                    }
                    trial.used = Some(trial.hyperparameters.accessed().to_vec());
                    let space = trial.hyperparameters.clone();
                    self.oracle.hyperparameters.merge(&space, false);
                    out.push(r.map(|r| vec![r]));
                }
                out
            }
            Runner::Model(_) => {
                let out = self.run_model_trials(batch, x, y, args, *device).await;
                match out {
                    Err(Error::Device(m)) => {
                        // The GPU is gone: go on on the CPU. Executions resume from the
                        // epoch checkpoints written while they ran on the GPU.
                        *device = Device::Cpu;
                        self.device_label = "cpu".into();
                        self.device_note = Some(format!("{m}; trials continue on the CPU"));
                        self.say(&format!("GPU error: {m}. Retrying on the CPU."));
                        self.run_model_trials(batch, x, y, args, Device::Cpu)
                            .await
                            .unwrap_or_else(|e| batch.iter().map(|_| Err(e.clone())).collect())
                    }
                    Err(e) => batch.iter().map(|_| Err(e.clone())).collect(),
                    Ok(v) => v,
                }
            }
        }
    }
}

/// Named metric values and the best step they came from.
type Reduced = (Vec<(String, f64)>, Option<usize>);

/// Metrics and best step of one execution's result.
fn reduce_result(r: &FitResult, objective: &ObjectiveSpec) -> Result<Reduced> {
    match r {
        FitResult::Value(v) => Ok((vec![(objective.name().to_string(), *v)], None)),
        FitResult::Metrics(m) => {
            if objective.value(m).is_none() {
                return Err(Error::invalid(
                    "trial results",
                    format!(
                        "metrics {:?}",
                        m.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>()
                    ),
                    format!("a result holding the objective `{}`", objective.name()),
                ));
            }
            Ok((m.clone(), None))
        }
        FitResult::History(h) => {
            // KerasTuner's rule: the best epoch among those that logged the objective (with
            // `validation_freq > 1` the val_ metrics exist only on validation epochs), with
            // every metric logged at that epoch.
            let mut best: Option<(usize, f64)> = None;
            let mut last_logged = None;
            for (i, &e) in h.epoch.iter().enumerate() {
                let at: Vec<(String, f64)> = h
                    .at_epoch(e)
                    .into_iter()
                    .map(|(k, v)| (k, v as f64))
                    .collect();
                if let Some(v) = objective.value(&at) {
                    last_logged = Some(i);
                    if v.is_nan() {
                        continue;
                    }
                    if best.is_none_or(|(_, b)| objective.better(v, b)) {
                        best = Some((i, v));
                    }
                }
            }
            let i = match (best, last_logged) {
                (Some((i, _)), _) => i,
                // Every logged value NaN (weights that exploded): the last such epoch's
                // metrics, whose NaN score makes the trial invalid, as in KerasTuner.
                (None, Some(i)) => i,
                (None, None) => {
                    return Err(Error::invalid(
                        "objective",
                        objective.name(),
                        format!("a metric the model logs; it logs: {}", h.keys().join(", ")),
                    ))
                }
            };
            let metrics = h
                .at_epoch(h.epoch[i])
                .into_iter()
                .map(|(k, v)| (k, v as f64))
                .collect();
            Ok((metrics, h.epoch.get(i).copied()))
        }
    }
}
