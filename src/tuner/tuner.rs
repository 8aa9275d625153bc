//! The Tuner: runs the search loop of KerasTuner (create a trial, build and fit the model
//! `executions_per_trial` times, reduce the results to the objective, end the trial), keeps
//! each trial's best-epoch weights, saves everything after every epoch so a killed search
//! resumes where it stopped, and prints KerasTuner's texts.
//!
//! Where KerasTuner's users complain, tunelab does better: an interrupted trial continues
//! from its last completed epoch (KerasTuner restarts it), summaries list only the
//! hyperparameters a trial used, the duplicate-collision limit is a setting, and all trials
//! export as CSV or JSON.

use crate::error::{Error, Result};
use crate::gpu::{self, Device, Resolved};
use crate::hp::{py_float, HyperParameters, Value as HpValue};
use crate::nn::callbacks::{Callback, ModelAccess};
use crate::nn::history::{History, Logs};
use crate::nn::model::{FitArgs, Sequential};
use crate::tensor::Tensor;
use crate::tuner::checkpoint;
use crate::tuner::executor::{ExecutionJob, Executor, Reports};
use crate::tuner::objective::ObjectiveSpec;
use crate::tuner::oracle::{Algorithm, Oracle, OracleConfig};
use crate::tuner::storage::{DirStorage, MemoryStorage, Storage};
use crate::tuner::trial::{Curves, Trial, TrialStatus};
use serde_json::{json, Value};
use std::cell::RefCell;
use web_time::Instant;

/// What a trial's fit (or a tuned function) returns: a number (the objective), named
/// metrics, or a History (reduced to its best epoch by the objective).
#[derive(Debug, Clone)]
pub enum FitResult {
    Value(f64),
    Metrics(Vec<(String, f64)>),
    History(History),
}

impl From<f64> for FitResult {
    fn from(v: f64) -> Self {
        FitResult::Value(v)
    }
}
impl From<History> for FitResult {
    fn from(h: History) -> Self {
        FitResult::History(h)
    }
}

/// Training data handed to every trial.
pub struct SearchData<'a> {
    pub x: &'a Tensor,
    pub y: &'a Tensor,
}

/// KerasTuner's HyperModel: builds a compiled model from hyperparameters, and fits it (the
/// default fit is `model.fit`; override it to tune fit arguments or preprocessing).
pub trait HyperModel {
    /// A compiled model for these hyperparameters.
    fn build(&mut self, hp: &mut HyperParameters) -> Result<Sequential>;

    /// Trains `model`; the default is `model.fit(x, y, args, callbacks)`.
    fn fit(
        &mut self,
        _hp: &mut HyperParameters,
        model: &mut Sequential,
        data: &SearchData<'_>,
        args: &FitArgs,
        callbacks: &mut [&mut dyn Callback],
    ) -> Result<FitResult> {
        Ok(FitResult::History(
            model.fit(data.x, data.y, args, callbacks)?,
        ))
    }

    /// [`HyperModel::fit`] as a future: override it where fitting awaits something (a fit
    /// written in JavaScript). The default runs `fit`.
    fn fit_async<'a>(
        &'a mut self,
        hp: &'a mut HyperParameters,
        model: &'a mut Sequential,
        data: &'a SearchData<'a>,
        args: &'a FitArgs,
        callbacks: &'a mut [&'a mut dyn Callback],
    ) -> LocalFuture<'a, Result<FitResult>> {
        Box::pin(async move { self.fit(hp, model, data, args, callbacks) })
    }

    /// Sets this trial's fit arguments from its hyperparameters (after `build`): a tuned
    /// batch size or epoch count. Hyperband's epochs still win. The default changes nothing.
    fn fit_args(&mut self, _hp: &mut HyperParameters, _args: &mut FitArgs) -> Result<()> {
        Ok(())
    }

    /// Declares hyperparameters up front (before any build).
    fn declare_hyperparameters(&mut self, _hp: &mut HyperParameters) -> Result<()> {
        Ok(())
    }

    /// Whether the tuner builds a model with the default values before the search to find
    /// the search space (KerasTuner's `_populate_initial_space`). A hypermodel whose
    /// `declare_hyperparameters` already registers every hp may say no: a model that cannot be
    /// built then fails each trial with the reason instead of the tuner's construction.
    fn populate_builds(&self) -> bool {
        true
    }

    /// When false, the hypermodel's own hps take their defaults and are not searched.
    fn tunable(&self) -> bool {
        true
    }

    /// Whether `fit` is the default `model.fit`, so the tuner may train several of this
    /// hypermodel's models together (one GPU dispatch for all). Overriding `fit` means false.
    fn default_fit(&self) -> bool {
        false
    }
}

/// A closure `|hp| -> Result<Sequential>` is a hypermodel.
pub struct FnHyperModel<F>(pub F);

impl<F: FnMut(&mut HyperParameters) -> Result<Sequential>> HyperModel for FnHyperModel<F> {
    fn build(&mut self, hp: &mut HyperParameters) -> Result<Sequential> {
        (self.0)(hp)
    }
    fn default_fit(&self) -> bool {
        true
    }
}

/// Hooks around trials, epochs and batches (KerasTuner's `on_*` methods of a Tuner).
#[allow(unused_variables)]
pub trait TunerHooks {
    fn on_trial_begin(&mut self, trial: &Trial) {}
    fn on_trial_end(&mut self, trial: &Trial) {}
    fn on_epoch_begin(&mut self, trial: &Trial, epoch: usize) {}
    fn on_epoch_end(&mut self, trial: &Trial, epoch: usize, logs: &Logs) {}
    fn on_batch_begin(&mut self, trial: &Trial, batch: usize) {}
    fn on_batch_end(&mut self, trial: &Trial, batch: usize, logs: &Logs) {}
}

type RunFn = Box<dyn FnMut(&mut Trial) -> Result<FitResult>>;

pub use crate::runtime::LocalFuture;

/// An awaited function to tune: given the trial, a future of its result and of the
/// hyperparameters as the function left them (the values it read are recorded as used).
pub type AsyncRunFn =
    Box<dyn FnMut(&Trial) -> LocalFuture<'static, (Result<FitResult>, Option<HyperParameters>)>>;

/// Awaited after every trial, so that a host event loop can run (the browser's IndexedDB
/// writes complete there).
pub type YieldFn = Box<dyn Fn() -> LocalFuture<'static, Result<()>>>;

enum Runner {
    Model(Box<dyn HyperModel>),
    Function(RunFn),
    AsyncFunction(AsyncRunFn),
}

/// Settings of a tuner beside the oracle's.
#[derive(Debug, Clone)]
pub struct TunerConfig {
    pub oracle: OracleConfig,
    pub executions_per_trial: usize,
    /// Trials whose model has more parameters fail ("Oversized model").
    pub max_model_size: Option<usize>,
    /// `None` keeps the project in memory.
    pub directory: Option<std::path::PathBuf>,
    pub project_name: String,
    pub overwrite: bool,
    /// Print KerasTuner's live display.
    pub verbose: bool,
    /// Where models train (`--device`); models built with the default CPU setting take it.
    pub device: Device,
    /// Trials trained at once: on the GPU one dispatch covers all their models; on the CPU
    /// (natively, hypermodels with the default fit) each trains on a thread of its own, with
    /// the same results as one after the other. `None`: 8 on a GPU, 1 on the CPU (so the live
    /// display reads as KerasTuner's, one trial after the other).
    pub parallel_trials: Option<usize>,
}

impl Default for TunerConfig {
    fn default() -> Self {
        TunerConfig {
            oracle: OracleConfig::default(),
            executions_per_trial: 1,
            max_model_size: None,
            directory: None,
            project_name: "untitled_project".to_string(),
            overwrite: false,
            verbose: false,
            device: Device::Cpu,
            parallel_trials: None,
        }
    }
}

/// A search: an oracle, a hypermodel (or a function to tune), storage and hooks.
pub struct Tuner {
    pub oracle: Oracle,
    runner: Runner,
    pub config: TunerConfig,
    hooks: Vec<Box<dyn TunerHooks>>,
    started: Option<Instant>,
    output: String,
    /// The device trials run on, once resolved ("cpu", "webgpu (...)"), and why not the GPU.
    device_label: String,
    device_note: Option<String>,
    yielder: Option<YieldFn>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Where a hypermodel's executions train when not in this process (see [`Executor`]).
    executor: Option<Box<dyn Executor>>,
}

/// Seconds as KerasTuner's "00h 01m 51s".
pub fn format_duration(secs: f64) -> String {
    let s = secs.round().max(0.0) as u64;
    format!("{:02}h {:02}m {:02}s", s / 3600, (s % 3600) / 60, s % 60)
}

/// Python's `f"{v:.5g}"` for the live display's numbers.
pub fn format_g5(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if !v.is_finite() {
        return if v.is_nan() {
            "nan".into()
        } else if v > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    let exp = v.abs().log10().floor() as i32;
    // Round to 5 significant digits first: rounding can carry into the next decade.
    let sci = format!("{v:.4e}");
    let (mant, e) = sci.split_once('e').unwrap_or((&sci, "0"));
    let e: i32 = e.parse().unwrap_or(exp);
    if !(-4..5).contains(&e) {
        let mant = mant.trim_end_matches('0').trim_end_matches('.');
        let sign = if e < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", e.abs())
    } else {
        let decimals = (4 - e).max(0) as usize;
        let s = format!("{v:.decimals$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    }
}

fn display_value(v: Option<&HpValue>) -> String {
    match v {
        None => "None".into(),
        Some(HpValue::Int(i)) => format_g5(*i as f64),
        Some(HpValue::Float(f)) => format_g5(*f),
        Some(other) => {
            let s = other.to_string();
            if s.chars().count() > 18 {
                format!("{}...", s.chars().take(15).collect::<String>())
            } else {
                s
            }
        }
    }
}

impl Tuner {
    fn with_runner(
        algorithm: Box<dyn Algorithm>,
        runner: Runner,
        hyperparameters: HyperParameters,
        config: TunerConfig,
    ) -> Result<Self> {
        if config.executions_per_trial == 0 {
            return Err(Error::invalid("executions_per_trial", 0, "an integer >= 1"));
        }
        let storage: Box<dyn Storage> = match &config.directory {
            Some(d) => Box::new(DirStorage::new(d, &config.project_name)?),
            None => Box::new(MemoryStorage::new()),
        };
        let mut oracle = Oracle::new(config.oracle.clone(), algorithm, hyperparameters)?;
        oracle.set_storage(storage);
        let mut t = Tuner {
            oracle,
            runner,
            config,
            hooks: Vec::new(),
            started: None,
            output: String::new(),
            device_label: "cpu".into(),
            device_note: None,
            yielder: None,
            stop: Default::default(),
            executor: None,
        };
        if t.config.overwrite {
            t.oracle.storage_mut().clear()?;
        } else {
            t.oracle.load()?;
        }
        t.populate_initial_space()?;
        Ok(t)
    }

    /// A tuner over a hypermodel. `hyperparameters` may pre-declare or fix hps
    /// (`allow_new_entries` / `tune_new_entries` on it apply).
    pub fn new(
        algorithm: Box<dyn Algorithm>,
        hypermodel: Box<dyn HyperModel>,
        hyperparameters: Option<HyperParameters>,
        config: TunerConfig,
    ) -> Result<Self> {
        Self::with_runner(
            algorithm,
            Runner::Model(hypermodel),
            hyperparameters.unwrap_or_default(),
            config,
        )
    }

    /// A tuner over any function of the trial (KerasTuner's overridden `run_trial`): it reads
    /// its hyperparameters from `trial.hyperparameters` and returns a number or metrics.
    pub fn from_fn(
        algorithm: Box<dyn Algorithm>,
        run_trial: impl FnMut(&mut Trial) -> Result<FitResult> + 'static,
        hyperparameters: Option<HyperParameters>,
        config: TunerConfig,
    ) -> Result<Self> {
        Self::with_runner(
            algorithm,
            Runner::Function(Box::new(run_trial)),
            hyperparameters.unwrap_or_default(),
            config,
        )
    }

    /// A tuner over an awaited function of the trial (a JavaScript `runTrial`).
    pub fn from_async_fn(
        algorithm: Box<dyn Algorithm>,
        run_trial: AsyncRunFn,
        hyperparameters: Option<HyperParameters>,
        config: TunerConfig,
    ) -> Result<Self> {
        Self::with_runner(
            algorithm,
            Runner::AsyncFunction(run_trial),
            hyperparameters.unwrap_or_default(),
            config,
        )
    }

    /// A flag that, once set, ends a running search after the trials in progress (no new
    /// trials start); a later search clears it. Settable from another thread or from a
    /// JavaScript handler while the search awaits.
    pub fn stop_handle(&self) -> std::sync::Arc<std::sync::atomic::AtomicBool> {
        self.stop.clone()
    }

    /// Trains a hypermodel's executions in `executor` (the page's worker pool) instead of in
    /// this process; the tuner keeps every rule of the trial (seeds, resume points, best-epoch
    /// weights, Hyperband's warm start, averaging). Hypermodels with their own `fit` keep
    /// training in process.
    pub fn set_executor(&mut self, executor: Box<dyn Executor>) {
        self.executor = Some(executor);
    }

    /// Sets what the search awaits after every batch of trials (a browser saving what the
    /// batch stored, then yielding to its event loop); an error there ends the search with it.
    pub fn set_yield(&mut self, f: YieldFn) {
        self.yielder = Some(f);
    }

    /// Replaces the storage (e.g. a `MemoryStorage` with a write limit, or IndexedDB later)
    /// and reloads the search from it.
    pub fn set_storage(&mut self, storage: Box<dyn Storage>) -> Result<()> {
        self.oracle.set_storage(storage);
        if self.config.overwrite {
            self.oracle.storage_mut().clear()?;
        } else {
            self.oracle.load()?;
        }
        Ok(())
    }

    /// The storage, for inspection.
    pub fn storage(&self) -> &dyn Storage {
        self.oracle.storage()
    }

    /// Adds hooks.
    pub fn add_hooks(&mut self, hooks: Box<dyn TunerHooks>) {
        self.hooks.push(hooks);
    }

    /// Removes every hook.
    pub fn clear_hooks(&mut self) {
        self.hooks.clear();
    }

    /// What the live display printed (also echoed to stdout when `verbose`): all of it, or
    /// in a long search at least its last 16 KiB, so that the text does not grow with every
    /// trial of a search of thousands.
    pub fn output(&self) -> &str {
        &self.output
    }

    fn say(&mut self, text: &str) {
        if self.config.verbose {
            println!("{text}");
        }
        self.output.push_str(text);
        self.output.push('\n');
        const KEEP: usize = 16 << 10;
        if self.output.len() > 2 * KEEP {
            let mut cut = self.output.len() - KEEP;
            while !self.output.is_char_boundary(cut) {
                cut += 1;
            }
            let at = self.output[cut..].find('\n').map_or(cut, |i| cut + i + 1);
            self.output.drain(..at);
        }
    }

    /// Registers the hypermodel's hps with their defaults (KerasTuner builds once before
    /// searching so that `search_space_summary` shows the space).
    fn populate_initial_space(&mut self) -> Result<()> {
        if let Runner::Model(hm) = &mut self.runner {
            let mut hp = self.oracle.hyperparameters.clone();
            hm.declare_hyperparameters(&mut hp)?;
            if !hm.tunable() {
                // The hypermodel's own hps are fixed at their defaults (KerasTuner's
                // tunable=False); declared ones stay searchable.
                hp.tune_new_entries = false;
            }
            if hm.populate_builds() {
                hm.build(&mut hp)?;
            }
            hp.tune_new_entries = self.oracle.hyperparameters.tune_new_entries;
            self.oracle.hyperparameters.merge(&hp, false);
        }
        Ok(())
    }

    /// KerasTuner's `search_space_summary()` text.
    pub fn search_space_summary(&self) -> String {
        self.oracle.hyperparameters.search_space_summary()
    }

    /// The project's location as shown in results_summary.
    pub fn project_dir(&self) -> String {
        self.oracle.storage().location()
    }

    /// Where trials train, as resolved at the start of the last search, and why not on the
    /// GPU when `device` was `auto`.
    pub fn device(&self) -> (&str, Option<&str>) {
        (&self.device_label, self.device_note.as_deref())
    }

    /// Resolves the device: the GPU (and how many trials to train at once), or the CPU.
    fn resolve_device(&mut self) -> Result<(Device, usize)> {
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
        self.oracle.save(None)?;
        gpu::prepare(self.config.device).await;
        self.stop.store(false, std::sync::atomic::Ordering::SeqCst);
        let (mut device, parallel) = self.resolve_device()?;
        if let Some(note) = self.device_note.clone() {
            self.say(&format!("Training on the CPU: {note}"));
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
                self.oracle.save(None)?;
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
    fn begin_next_trial(&mut self) -> Result<Option<Trial>> {
        if self.stop.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(None);
        }
        let trial = self.oracle.create_trial()?;
        if matches!(trial.status, TrialStatus::Stopped | TrialStatus::Idle) {
            return Ok(None);
        }
        self.oracle.save(Some(&trial.trial_id))?;
        self.display_trial_begin(&trial)?;
        for h in &mut self.hooks {
            h.on_trial_begin(&trial);
        }
        Ok(Some(trial))
    }

    /// Ends a trial with its outcome (metrics, or the error that failed it): the oracle,
    /// storage, hooks and the live display. `Some(message)` when the error is fatal (the search
    /// stops); `quiet` skips the hooks and the display (a fatal error came before).
    fn end_trial_with(
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
        let ended = self.oracle.end_trial(trial);
        // The record as the oracle left it (scored, maybe failed), before saving drops it.
        let done = self.oracle.trial(&id)?;
        self.oracle.save(Some(&id))?;
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
    fn record_results(&mut self, trial: &mut Trial, results: &[FitResult]) -> Result<()> {
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

    async fn run_trials(
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
                    let r = f(trial);
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

    /// Builds every execution of every trial in `batch` (or picks up its resume point).
    fn prepare_jobs(
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
        let mut fit_args = args.clone();
        fit_args.verbose = 0;
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
            }
            jobs.push(Job {
                trial: 0,
                exec,
                model,
                hp,
                args: exec_args,
                prior,
                resume_path,
            });
        }
        for line in resumed {
            self.say(&line);
        }
        Ok(jobs)
    }

    /// Trains the executions of a batch of trials: jobs with the same fit arguments train
    /// together (`Sequential::fit_group`: one GPU dispatch for all; on the CPU one after the
    /// other), then each trial's results, checkpoints and curves are recorded.
    async fn run_model_trials(
        &mut self,
        batch: &mut [Trial],
        x: &Tensor,
        y: &Tensor,
        args: &FitArgs,
        device: Device,
    ) -> Result<Vec<Result<Vec<FitResult>>>> {
        let objective = self.oracle.config.objective.clone();
        let mut accs: Vec<TrialAcc> = batch.iter().map(|_| TrialAcc::default()).collect();
        let mut errors: Vec<Option<Error>> = batch.iter().map(|_| None).collect();
        let mut jobs: Vec<Job> = Vec::new();
        for (ti, trial) in batch.iter().enumerate() {
            match self.prepare_jobs(trial, x, args, device, &mut accs[ti]) {
                Ok(js) => jobs.extend(js.into_iter().map(|j| Job { trial: ti, ..j })),
                Err(e) => errors[ti] = Some(e),
            }
        }
        let grouped = matches!(&self.runner, Runner::Model(hm) if hm.default_fit());
        // Jobs that train together: same epochs, start epoch and batch size.
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for (j, job) in jobs.iter().enumerate() {
            if job.args.initial_epoch >= job.args.epochs && job.prior.is_some() {
                continue;
            }
            let key = (job.args.epochs, job.args.initial_epoch, job.args.batch_size);
            match groups.iter_mut().find(|g| {
                grouped && {
                    let a = &jobs[g[0]].args;
                    (a.epochs, a.initial_epoch, a.batch_size) == key
                }
            }) {
                Some(g) => g.push(j),
                None => groups.push(vec![j]),
            }
        }
        let mut fitted: Vec<Option<Result<FitResult>>> = jobs
            .iter()
            .map(|job| {
                (job.args.initial_epoch >= job.args.epochs && job.prior.is_some())
                    .then(|| Ok(FitResult::History(History::default())))
            })
            .collect();
        let mut saver_errors: Vec<Option<Error>> = jobs.iter().map(|_| None).collect();
        let mut bests: Vec<Option<(f64, Vec<Tensor>)>> = jobs.iter().map(|_| None).collect();
        // Storage and hooks are shared by the callbacks of every job in a group.
        let storage = RefCell::new(self.oracle.set_storage(Box::new(MemoryStorage::new())));
        let hooks = RefCell::new(std::mem::take(&mut self.hooks));
        let data = SearchData { x, y };
        let mut device_error = None;
        if grouped && self.executor.is_some() {
            let done = self
                .run_in_executor(&mut jobs, &groups, &objective, &storage, &hooks, batch)
                .await;
            for (j, r, e, b) in done {
                if let Err(Error::Device(m)) = &r {
                    device_error = Some(m.clone());
                }
                fitted[j] = Some(r);
                saver_errors[j] = e;
                bests[j] = b;
            }
        }
        for g in groups
            .iter()
            .filter(|_| !(grouped && self.executor.is_some()))
        {
            let mut best: Vec<BestEpoch> = g
                .iter()
                .map(|&j| BestEpoch::new(objective.clone(), jobs[j].prior.as_ref()))
                .collect();
            #[cfg(not(target_arch = "wasm32"))]
            if device == Device::Cpu
                && grouped
                && g.len() > 1
                && g.iter()
                    .all(|&j| jobs[j].model.device_setting() == Device::Cpu)
            {
                let done =
                    threads::fit_jobs(&mut jobs, g, x, y, &objective, &storage, &hooks, batch);
                for (&j, (r, e, b)) in g.iter().zip(done) {
                    fitted[j] = Some(r);
                    saver_errors[j] = e;
                    bests[j] = b;
                }
                continue;
            }
            let mut savers: Vec<EpochSaver<&RefCell<Box<dyn Storage>>>> = g
                .iter()
                .map(|&j| EpochSaver::of(&storage, &jobs[j]))
                .collect();
            let mut adapters: Vec<HookAdapter> = g
                .iter()
                .map(|&j| HookAdapter {
                    hooks: &hooks,
                    trial: &batch[jobs[j].trial],
                })
                .collect();
            let results: Vec<Result<FitResult>> = if g.len() == 1 || !grouped {
                let j = g[0];
                let job = &mut jobs[j];
                let mut cbs: [&mut dyn Callback; 3] =
                    [&mut best[0], &mut savers[0], &mut adapters[0]];
                if grouped {
                    vec![job
                        .model
                        .fit_async(x, y, &job.args, &mut cbs)
                        .await
                        .map(FitResult::History)]
                } else {
                    let Runner::Model(hm) = &mut self.runner else {
                        return Err(Error::state("model trials need a hypermodel"));
                    };
                    vec![
                        hm.fit_async(&mut job.hp, &mut job.model, &data, &job.args, &mut cbs)
                            .await,
                    ]
                }
            } else {
                let mut args = jobs[g[0]].args.clone();
                // Each model shuffles with its own seed (the tuner set the model seed to it).
                args.seed = None;
                let mut models: Vec<&mut Sequential> = Vec::with_capacity(g.len());
                for (j, job) in jobs.iter_mut().enumerate() {
                    if g.contains(&j) {
                        models.push(&mut job.model);
                    }
                }
                let mut lists: Vec<[&mut dyn Callback; 3]> = best
                    .iter_mut()
                    .zip(savers.iter_mut())
                    .zip(adapters.iter_mut())
                    .map(|((b, s), a)| [b as &mut dyn Callback, s, a])
                    .collect();
                let mut cbs: Vec<&mut [&mut dyn Callback]> =
                    lists.iter_mut().map(|l| &mut l[..]).collect();
                match Sequential::fit_group_async(&mut models, x, y, &args, &mut cbs).await {
                    Ok(hs) => hs.into_iter().map(|h| Ok(FitResult::History(h))).collect(),
                    Err(e) => g.iter().map(|_| Err(e.clone())).collect(),
                }
            };
            for (k, (&j, r)) in g.iter().zip(results).enumerate() {
                if let Err(Error::Device(m)) = &r {
                    device_error = Some(m.clone());
                }
                fitted[j] = Some(r);
                saver_errors[j] = savers[k].error.take();
                bests[j] = best[k].best.take();
            }
            if device_error.is_some() {
                break;
            }
        }
        self.oracle.set_storage(storage.into_inner());
        self.hooks = hooks.into_inner();
        if let Some(m) = device_error {
            return Err(Error::Device(m));
        }
        // Results, in execution order per trial.
        for (j, job) in jobs.iter_mut().enumerate() {
            let ti = job.trial;
            if errors[ti].is_some() {
                continue;
            }
            let r = self.collect_execution(
                &mut batch[ti],
                job,
                &mut accs[ti],
                fitted[j].take(),
                saver_errors[j].take(),
                bests[j].take(),
                &objective,
            );
            if let Err(e) = r {
                errors[ti] = Some(e);
            }
        }
        let mut out = Vec::with_capacity(batch.len());
        for (ti, (acc, err)) in accs.into_iter().zip(errors).enumerate() {
            out.push(match err {
                Some(e) => Err(e),
                None => self.finish_executions(&mut batch[ti], acc),
            });
        }
        Ok(out)
    }

    /// Trains every job of `groups` in the executor, side by side, and runs the tuner's
    /// callbacks (best epoch, resume point, hooks) on each epoch report as it arrives, on the
    /// job's own model (which ends with the last epoch's weights). Per job: its result, an
    /// error storing its resume points, its best epoch.
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    async fn run_in_executor(
        &mut self,
        jobs: &mut [Job],
        groups: &[Vec<usize>],
        objective: &ObjectiveSpec,
        storage: &RefCell<Box<dyn Storage>>,
        hooks: &RefCell<Vec<Box<dyn TunerHooks>>>,
        batch: &[Trial],
    ) -> Vec<(
        usize,
        Result<FitResult>,
        Option<Error>,
        Option<(f64, Vec<Tensor>)>,
    )> {
        struct Running<'a> {
            j: usize,
            future: Option<LocalFuture<'static, Result<()>>>,
            outcome: Option<Result<()>>,
            reports: Reports,
            history: History,
            best: BestEpoch,
            saver: EpochSaver<&'a RefCell<Box<dyn Storage>>>,
            adapter: HookAdapter<'a>,
        }
        let Some(executor) = self.executor.as_mut() else {
            return Vec::new();
        };
        let mut running: Vec<Running> = Vec::new();
        let mut out = Vec::new();
        for &j in groups.iter().flatten() {
            let job = &jobs[j];
            let reports = Reports::default();
            let seed = job.args.seed.unwrap_or(0);
            let future = match ExecutionJob::new(
                &batch[job.trial].trial_id,
                job.exec,
                job.hp.values().to_json(),
                &job.model,
                seed,
                &job.args,
            ) {
                Ok(ej) => executor.run(ej, reports.clone()),
                Err(e) => {
                    out.push((j, Err(e), None, None));
                    continue;
                }
            };
            running.push(Running {
                j,
                future: Some(future),
                outcome: None,
                reports,
                history: History::default(),
                best: BestEpoch::new(objective.clone(), job.prior.as_ref()),
                saver: EpochSaver::of(storage, job),
                adapter: HookAdapter {
                    hooks,
                    trial: &batch[job.trial],
                },
            });
        }
        std::future::poll_fn(|cx| {
            let mut pending = false;
            for r in running.iter_mut() {
                r.reports.wait_with(cx.waker());
                if let Some(f) = r.future.as_mut() {
                    if let std::task::Poll::Ready(o) = f.as_mut().poll(cx) {
                        r.outcome = Some(o);
                        r.future = None;
                    }
                }
                while let Some(report) = r.reports.take() {
                    let model = &mut jobs[r.j].model;
                    let mut logs = report.logs;
                    let applied =
                        model
                            .restore_weights(&report.weights)
                            .and_then(|_| match &report.state {
                                Some(s) => model.set_training_state(s),
                                None => Ok(()),
                            });
                    if let Err(e) = applied {
                        r.saver.error.get_or_insert(e);
                        r.reports.stop();
                        continue;
                    }
                    r.history.record(report.epoch, &logs);
                    let _ = r.adapter.on_epoch_begin(report.epoch, model);
                    let mut failed = None;
                    for cb in [
                        &mut r.best as &mut dyn Callback,
                        &mut r.saver,
                        &mut r.adapter,
                    ] {
                        if let Err(e) = cb.on_epoch_end(report.epoch, &mut logs, model) {
                            failed.get_or_insert(e);
                        }
                    }
                    if let Some(e) = failed.take() {
                        r.saver.error.get_or_insert(e);
                    }
                    if r.saver.error.is_some()
                        || self.stop.load(std::sync::atomic::Ordering::SeqCst)
                    {
                        r.reports.stop();
                    }
                }
                pending |= r.future.is_some();
            }
            if pending {
                std::task::Poll::Pending
            } else {
                std::task::Poll::Ready(())
            }
        })
        .await;
        for r in running {
            let result = match r.outcome {
                Some(Ok(())) => Ok(FitResult::History(r.history)),
                Some(Err(e)) => Err(e),
                None => Err(Error::state("execution not run")),
            };
            out.push((r.j, result, r.saver.error, r.best.best));
        }
        out
    }

    /// Folds one trained execution into its trial: its history (after the one it resumed),
    /// its "done" resume point, its best epoch's weights, the hps its build used (which join
    /// the search space).
    #[allow(clippy::too_many_arguments)]
    fn collect_execution(
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
        if let FitResult::History(h) = &result {
            acc.curves.push(curves_of(h));
            // Mark the execution done so a resume reuses it instead of retraining.
            let meta = json!({"done": true, "history": history_to_json(h)});
            self.oracle
                .storage_mut()
                .write(&job.resume_path, &checkpoint::encode(&[], &meta)?)?;
        }
        let (value, weights) = match best {
            Some((v, w)) => (v, w),
            None => (f64::NAN, job.model.get_weights()?),
        };
        self.oracle.storage_mut().write(
            &format!("trial_{}/best_{}.bin", trial.trial_id, job.exec),
            &checkpoint::encode(&weights, &json!({"value": value}))?,
        )?;
        if acc
            .best_checkpoint
            .as_ref()
            .is_none_or(|(b, _)| objective.better(value, *b) || b.is_nan())
        {
            acc.best_checkpoint = Some((value, weights));
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
    fn finish_executions(&mut self, trial: &mut Trial, acc: TrialAcc) -> Result<Vec<FitResult>> {
        if let Some((v, w)) = acc.best_checkpoint {
            self.oracle.storage_mut().write(
                &format!("trial_{}/checkpoint.bin", trial.trial_id),
                &checkpoint::encode(&w, &json!({"value": v}))?,
            )?;
        }
        trial.curves = acc.curves;
        Ok(acc.results)
    }

    fn display_trial_begin(&mut self, trial: &Trial) -> Result<()> {
        let n = self
            .oracle
            .number_of(&trial.trial_id)
            .map_or(self.oracle.trial_count(), |p| p + 1);
        let best = match self.oracle.best_entries(1).first() {
            Some(e) => Some(e.values()?),
            None => None,
        };
        let mut s = format!("\nSearch: Running Trial #{n}\n\n");
        let values = trial.hyperparameters.values();
        if values.is_empty() {
            s += "default configuration\n";
        } else {
            s += &format!(
                "{:18}|{:18}|{}\n",
                "Value", "Best Value So Far", "Hyperparameter"
            );
            for (k, v) in values.iter() {
                let b = match &best {
                    Some(bv) => display_value(bv.get(k)),
                    None => "?".into(),
                };
                s += &format!("{:18}|{:18}|{}\n", display_value(Some(v)), b, k);
            }
        }
        self.say(&s);
        Ok(())
    }

    fn display_trial_end(&mut self, trial: &Trial) {
        let n = self.oracle.number_of(&trial.trial_id).map_or(0, |p| p + 1);
        let name = self.oracle.config.objective.name().to_string();
        let mut s = format!("Trial {n} Complete [{}]\n", format_duration(trial.seconds));
        if let Some(score) = trial.score {
            s += &format!("{name}: {}\n", py_float(score));
        }
        if trial.status == TrialStatus::Failed || trial.status == TrialStatus::Invalid {
            s += &format!(
                "Trial {} {}: {}\n",
                trial.trial_id,
                trial.status.as_str(),
                trial.message.clone().unwrap_or_default()
            );
        }
        let best = self.oracle.best_entries(1).first().and_then(|t| t.score);
        s += &format!(
            "\nBest {name} So Far: {}\nTotal elapsed time: {}",
            best.map_or("None".to_string(), py_float),
            format_duration(self.started.map_or(0.0, |t| t.elapsed().as_secs_f64()))
        );
        self.say(&s);
    }

    /// KerasTuner's `results_summary(num_trials)` text.
    pub fn results_summary(&self, num_trials: usize) -> Result<String> {
        let mut s = format!(
            "Results summary\nResults in {}\nShowing {num_trials} best trials\n{}\n",
            self.project_dir(),
            self.oracle.config.objective
        );
        for t in self.oracle.get_best_trials(num_trials)? {
            s.push('\n');
            s += &t.summary();
        }
        Ok(s)
    }

    /// See [`interrupted`].
    pub fn interrupted(&self, trial_id: &str) -> Result<Option<(Value, History)>> {
        interrupted(self.oracle.storage(), trial_id)
    }

    /// See [`trial_weights`].
    pub fn trial_weights(&self, trial_id: &str) -> Result<Option<Vec<Tensor>>> {
        trial_weights(self.oracle.storage(), trial_id)
    }

    /// The best completed trials, best first.
    pub fn get_best_trials(&self, n: usize) -> Result<Vec<Trial>> {
        self.oracle.get_best_trials(n)
    }

    /// Hyperparameters of the best trials, best first.
    pub fn get_best_hyperparameters(&self, n: usize) -> Result<Vec<HyperParameters>> {
        Ok(self
            .oracle
            .get_best_trials(n)?
            .into_iter()
            .map(|t| t.hyperparameters)
            .collect())
    }

    /// The best trials' models, rebuilt and loaded with their best-epoch weights.
    pub fn get_best_models(&mut self, n: usize, input_shape: &[usize]) -> Result<Vec<Sequential>> {
        let trials = self.oracle.get_best_trials(n)?;
        let Runner::Model(hm) = &mut self.runner else {
            return Err(Error::state(
                "get_best_models needs a hypermodel; this tuner tunes a function",
            ));
        };
        let mut out = Vec::new();
        for t in trials {
            let mut hp = t.hyperparameters.clone();
            let mut model = hm.build(&mut hp)?;
            if !model.is_built() {
                let shape = model
                    .get_input_shape()
                    .map_or_else(|| input_shape.to_vec(), |s| s.to_vec());
                model.build(&shape)?;
            }
            let (w, _) = load_checkpoint(
                self.oracle.storage(),
                &format!("trial_{}/checkpoint.bin", t.trial_id),
            )?
            .ok_or_else(|| Error::state(format!("trial {} has no checkpoint", t.trial_id)))?;
            model.set_weights(&w)?;
            out.push(model);
        }
        Ok(out)
    }

    /// All trials as JSON (`{"trials": [...], "best_hyperparameters": {...}}`), hyperparameters
    /// being the values each trial actually used.
    pub fn trials_json(&self) -> Result<Value> {
        let trials: Vec<Value> = self
            .oracle
            .trials()?
            .iter()
            .map(|t| {
                json!({
                    "trial_id": t.trial_id,
                    "status": t.status.as_str(),
                    "hyperparameters": t.used_values(),
                    "score": t.score,
                    "best_step": t.best_step,
                    "metrics": t.metrics.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
                    "message": t.message,
                    "seconds": t.seconds,
                    "device": t.device,
                })
            })
            .collect();
        let best = self
            .oracle
            .get_best_trials(1)?
            .first()
            .map(|t| json!(t.used_values()))
            .unwrap_or(Value::Null);
        Ok(json!({"trials": trials, "best_hyperparameters": best}))
    }

    /// All trials as CSV: id, status, score, best_step, then every hyperparameter and metric
    /// seen in any trial (empty where a trial did not use it).
    pub fn trials_csv(&self) -> Result<String> {
        let all = self.oracle.trials()?;
        let mut hp_names: Vec<String> = Vec::new();
        let mut metric_names: Vec<String> = Vec::new();
        for t in &all {
            for (k, _) in t.used_values().iter() {
                if !hp_names.iter().any(|n| n == k) {
                    hp_names.push(k.to_string());
                }
            }
            for (k, _) in &t.metrics {
                if !metric_names.contains(k) {
                    metric_names.push(k.clone());
                }
            }
        }
        let quote = |s: &str| -> String {
            if s.contains([',', '"', '\n']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        };
        let mut header = vec![
            "trial_id".to_string(),
            "status".into(),
            "score".into(),
            "best_step".into(),
        ];
        header.extend(hp_names.iter().map(|h| quote(h)));
        header.extend(metric_names.iter().map(|m| quote(m)));
        header.push("device".into());
        let mut out = header.join(",") + "\n";
        for t in &all {
            let values = t.used_values();
            let mut row = vec![
                t.trial_id.clone(),
                t.status.as_str().to_string(),
                t.score.map(py_float).unwrap_or_default(),
                t.best_step.map(|s| s.to_string()).unwrap_or_default(),
            ];
            for h in &hp_names {
                row.push(
                    values
                        .get(h)
                        .map(|v| quote(&v.to_string()))
                        .unwrap_or_default(),
                );
            }
            for m in &metric_names {
                row.push(t.metric(m).map(py_float).unwrap_or_default());
            }
            row.push(quote(t.device.as_deref().unwrap_or("")));
            out += &row.join(",");
            out.push('\n');
        }
        Ok(out)
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
            let n = h.epoch.len();
            let mut best: Option<(usize, f64)> = None;
            for i in 0..n {
                let at: Vec<(String, f64)> = h
                    .history
                    .iter()
                    .filter(|(_, v)| v.len() == n)
                    .map(|(k, v)| (k.clone(), v[i] as f64))
                    .collect();
                if let Some(v) = objective.value(&at) {
                    if v.is_nan() {
                        // Every epoch NaN (weights that exploded): the last epoch's metrics,
                        // whose NaN score makes the trial invalid, as in KerasTuner.
                        if best.is_none() && i + 1 == n {
                            return Ok((at, h.epoch.get(i).copied()));
                        }
                        continue;
                    }
                    if best.is_none_or(|(_, b)| objective.better(v, b)) {
                        best = Some((i, v));
                    }
                }
            }
            let Some((i, _)) = best else {
                return Err(Error::invalid(
                    "objective",
                    objective.name(),
                    format!(
                        "a metric the model logs every epoch; it logs: {}",
                        h.keys().join(", ")
                    ),
                ));
            };
            let metrics = h
                .history
                .iter()
                .filter(|(_, v)| v.len() == n)
                .map(|(k, v)| (k.clone(), v[i] as f64))
                .collect();
            Ok((metrics, h.epoch.get(i).copied()))
        }
    }
}

fn curves_of(h: &History) -> Curves {
    h.history
        .iter()
        .map(|(k, v)| (k.clone(), v.iter().map(|x| *x as f64).collect()))
        .collect()
}

pub(crate) fn history_to_json(h: &History) -> Value {
    json!({"epoch": h.epoch, "history": h})
}

pub(crate) fn history_from_json(v: &Value) -> History {
    let mut h = History {
        epoch: v
            .get("epoch")
            .and_then(|e| serde_json::from_value(e.clone()).ok())
            .unwrap_or_default(),
        ..Default::default()
    };
    if let Some(Value::Object(m)) = v.get("history") {
        for (k, vals) in m {
            let vs: Vec<f32> = vals
                .as_array()
                .map(|a| {
                    // NaN and infinities are stored as null: they read back as NaN, so
                    // every epoch keeps its place.
                    a.iter()
                        .map(|x| x.as_f64().map_or(f32::NAN, |x| x as f32))
                        .collect()
                })
                .unwrap_or_default();
            h.history.push((k.clone(), vs));
        }
    }
    h
}

fn merge_histories(a: &History, b: &History) -> History {
    let mut out = a.clone();
    out.epoch.extend(&b.epoch);
    for (k, v) in &b.history {
        match out.history.iter_mut().find(|(kk, _)| kk == k) {
            Some((_, vals)) => vals.extend(v),
            None => out.history.push((k.clone(), v.clone())),
        }
    }
    out
}

/// What `storage` holds of a trial that was interrupted while it trained (a page reload): the
/// hyperparameter values and the history of its first execution up to its last completed
/// epoch; `None` when it stored no resume point. Needs no tuner: a surface reads it while the
/// tuner is busy searching.
pub fn interrupted(storage: &dyn Storage, trial_id: &str) -> Result<Option<(Value, History)>> {
    let Some(bytes) = storage.read(&format!("trial_{trial_id}/resume_0.bin"))? else {
        return Ok(None);
    };
    let (_, meta) = checkpoint::decode(&bytes)?;
    let history = history_from_json(meta.get("history").unwrap_or(&Value::Null));
    Ok(Some((
        meta.get("values").cloned().unwrap_or(json!({})),
        history,
    )))
}

/// A trial's stored weights in `storage`: those of its best epoch (its checkpoint), once it has
/// ended; `None` before.
pub fn trial_weights(storage: &dyn Storage, trial_id: &str) -> Result<Option<Vec<Tensor>>> {
    Ok(load_checkpoint(storage, &format!("trial_{trial_id}/checkpoint.bin"))?.map(|(w, _)| w))
}

fn load_checkpoint(storage: &dyn Storage, path: &str) -> Result<Option<(Vec<Tensor>, Value)>> {
    match storage.read(path)? {
        Some(b) => Ok(Some(checkpoint::decode(&b)?)),
        None => Ok(None),
    }
}

/// One execution of a trial, built and ready to train.
struct Job {
    trial: usize,
    exec: usize,
    model: Sequential,
    hp: HyperParameters,
    args: FitArgs,
    prior: Option<History>,
    resume_path: String,
}

/// What a trial's executions have produced so far.
#[derive(Default)]
struct TrialAcc {
    results: Vec<FitResult>,
    best_checkpoint: Option<(f64, Vec<Tensor>)>,
    curves: Vec<Curves>,
    used: Vec<String>,
}

/// Keeps the best epoch's weights by the objective (KerasTuner's SaveBestEpoch).
struct BestEpoch {
    objective: ObjectiveSpec,
    best: Option<(f64, Vec<Tensor>)>,
}

impl BestEpoch {
    fn new(objective: ObjectiveSpec, _prior: Option<&History>) -> Self {
        BestEpoch {
            objective,
            best: None,
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
trait SaveSink {
    /// Stores `bytes` at `path`; `Err` when storing failed (training then stops).
    fn save(&self, path: &str, bytes: Vec<u8>) -> Result<()>;
}

impl SaveSink for &RefCell<Box<dyn Storage>> {
    fn save(&self, path: &str, bytes: Vec<u8>) -> Result<()> {
        self.borrow_mut().write(path, &bytes)
    }
}

/// Writes a resume point after every epoch: weights, optimizer state and history so far.
struct EpochSaver<S: SaveSink> {
    storage: S,
    path: String,
    history: History,
    /// The execution's hyperparameter values, stored with each resume point (a surface shows
    /// them for an interrupted trial whose values the oracle has not stored yet).
    values: Value,
    error: Option<Error>,
}

impl<S: SaveSink> EpochSaver<S> {
    /// The saver of `job`'s resume points, continuing the history it resumes.
    fn of(storage: S, job: &Job) -> Self {
        EpochSaver {
            storage,
            path: job.resume_path.clone(),
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
        let meta = json!({"epoch": epoch, "history": history_to_json(&self.history), "values": self.values});
        let r =
            checkpoint::encode_state(&model.get_weights(), model.training_state().as_ref(), meta)
                .and_then(|bytes| self.storage.save(&self.path, bytes));
        if let Err(e) = r {
            // A full disk must stop the search with a clear error, not lose data silently.
            model.stop_training();
            self.error = Some(e);
        }
        Ok(())
    }
}

/// Forwards fit's callbacks to the tuner's hooks with the trial attached.
struct HookAdapter<'a> {
    hooks: &'a RefCell<Vec<Box<dyn TunerHooks>>>,
    trial: &'a Trial,
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

/// Trials trained side by side on the CPU's cores (native): each execution of a batch's group
/// trains on its own thread with its own callbacks; its resume points and hook events come back
/// over a channel to this thread, which owns the storage and the hooks and handles them as they
/// come. The results equal training the executions one after the other (each keeps its own
/// seed), and the oracle sees the same batches as on the GPU.
#[cfg(not(target_arch = "wasm32"))]
mod threads {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc::{channel, Sender};

    enum Event {
        Save(usize, String, Vec<u8>),
        EpochBegin(usize, usize),
        EpochEnd(usize, usize, Logs),
        BatchBegin(usize, usize),
        BatchEnd(usize, usize, Logs),
    }

    struct ChannelSink<'a> {
        job: usize,
        tx: Sender<Event>,
        stop: &'a AtomicBool,
    }

    impl SaveSink for ChannelSink<'_> {
        fn save(&self, path: &str, bytes: Vec<u8>) -> Result<()> {
            if self.stop.load(Ordering::SeqCst) {
                return Err(Error::state("storing the previous resume point failed"));
            }
            self.tx
                .send(Event::Save(self.job, path.to_string(), bytes))
                .map_err(|_| Error::state("the tuner stopped listening"))
        }
    }

    /// The hooks' events of one job, sent to the tuner's thread.
    struct ChannelHooks {
        job: usize,
        tx: Sender<Event>,
    }

    impl Callback for ChannelHooks {
        fn on_epoch_begin(&mut self, epoch: usize, _m: &mut dyn ModelAccess) -> Result<()> {
            let _ = self.tx.send(Event::EpochBegin(self.job, epoch));
            Ok(())
        }
        fn on_epoch_end(
            &mut self,
            epoch: usize,
            logs: &mut Logs,
            _m: &mut dyn ModelAccess,
        ) -> Result<()> {
            let _ = self.tx.send(Event::EpochEnd(self.job, epoch, logs.clone()));
            Ok(())
        }
        fn on_train_batch_begin(&mut self, batch: usize, _m: &mut dyn ModelAccess) -> Result<()> {
            let _ = self.tx.send(Event::BatchBegin(self.job, batch));
            Ok(())
        }
        fn on_train_batch_end(
            &mut self,
            batch: usize,
            logs: &Logs,
            _m: &mut dyn ModelAccess,
        ) -> Result<()> {
            let _ = self.tx.send(Event::BatchEnd(self.job, batch, logs.clone()));
            Ok(())
        }
    }

    /// Calls the hooks for a relayed epoch or batch event of job `k` (its trial by `trial_of`).
    fn relay<'t>(
        hooks: &mut [Box<dyn TunerHooks>],
        trial_of: impl Fn(usize) -> Option<&'t Trial>,
        event: Event,
    ) {
        let k = match &event {
            Event::EpochBegin(k, _)
            | Event::EpochEnd(k, ..)
            | Event::BatchBegin(k, _)
            | Event::BatchEnd(k, ..) => *k,
            Event::Save(..) => return,
        };
        let Some(t) = trial_of(k) else { return };
        for h in hooks.iter_mut() {
            match &event {
                Event::EpochBegin(_, e) => h.on_epoch_begin(t, *e),
                Event::EpochEnd(_, e, logs) => h.on_epoch_end(t, *e, logs),
                Event::BatchBegin(_, b) => h.on_batch_begin(t, *b),
                Event::BatchEnd(_, b, logs) => h.on_batch_end(t, *b, logs),
                Event::Save(..) => {}
            }
        }
    }

    type Done = (Result<FitResult>, Option<Error>, Option<(f64, Vec<Tensor>)>);

    #[allow(clippy::too_many_arguments)]
    pub(super) fn fit_jobs(
        jobs: &mut [Job],
        group: &[usize],
        x: &Tensor,
        y: &Tensor,
        objective: &ObjectiveSpec,
        storage: &RefCell<Box<dyn Storage>>,
        hooks: &RefCell<Vec<Box<dyn TunerHooks>>>,
        batch: &[Trial],
    ) -> Vec<Done> {
        let with_hooks = !hooks.borrow().is_empty();
        let stops: Vec<AtomicBool> = group.iter().map(|_| AtomicBool::new(false)).collect();
        let mut write_errors: Vec<Option<Error>> = group.iter().map(|_| None).collect();
        let trials: Vec<usize> = group.iter().map(|&j| jobs[j].trial).collect();
        let (tx, rx) = channel::<Event>();
        let mut out: Vec<Option<Done>> = group.iter().map(|_| None).collect();
        std::thread::scope(|scope| {
            let mut handles = Vec::new();
            let mine = jobs
                .iter_mut()
                .enumerate()
                .filter(|(j, _)| group.contains(j))
                .map(|(_, job)| job);
            for (k, job) in mine.enumerate() {
                let tx = tx.clone();
                let stop = &stops[k];
                let objective = objective.clone();
                handles.push(scope.spawn(move || {
                    let mut best = BestEpoch::new(objective, job.prior.as_ref());
                    let mut saver = EpochSaver::of(
                        ChannelSink {
                            job: k,
                            tx: tx.clone(),
                            stop,
                        },
                        job,
                    );
                    let mut relay = ChannelHooks { job: k, tx };
                    let r = if with_hooks {
                        job.model
                            .fit(x, y, &job.args, &mut [&mut best, &mut saver, &mut relay])
                    } else {
                        job.model.fit(x, y, &job.args, &mut [&mut best, &mut saver])
                    };
                    (
                        r.map(FitResult::History),
                        saver.error.take(),
                        best.best.take(),
                    )
                }));
            }
            drop(tx);
            // Every job's sender is gone once its thread ends: the loop ends with the last one.
            for event in rx {
                match event {
                    Event::Save(k, path, bytes) => {
                        if let Err(e) = storage.borrow_mut().write(&path, &bytes) {
                            stops[k].store(true, Ordering::SeqCst);
                            write_errors[k].get_or_insert(e);
                        }
                    }
                    hook => relay(&mut hooks.borrow_mut(), |k| Some(&batch[trials[k]]), hook),
                }
            }
            for (k, h) in handles.into_iter().enumerate() {
                out[k] = Some(match h.join() {
                    Ok((r, e, b)) => (r, write_errors[k].take().or(e), b),
                    Err(_) => (Err(Error::state("a training thread panicked")), None, None),
                });
            }
        });
        out.into_iter()
            .map(|d| d.unwrap_or_else(|| (Err(Error::state("execution not run")), None, None)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_g5_and_durations() {
        assert_eq!(format_g5(416.0), "416");
        assert_eq!(format_g5(0.0001324166048504802), "0.00013242");
        assert_eq!(format_g5(1e-5), "1e-05");
        assert_eq!(format_g5(123456.0), "1.2346e+05");
        assert_eq!(format_g5(0.5), "0.5");
        assert_eq!(format_g5(99999.7), "1e+05");
        assert_eq!(format_duration(111.4), "00h 01m 51s");
        assert_eq!(format_duration(3725.0), "01h 02m 05s");
    }
}
