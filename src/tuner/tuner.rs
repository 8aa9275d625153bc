//! The Tuner: runs the search loop of KerasTuner (create a trial, build and fit the model
//! `executions_per_trial` times, reduce the results to the objective, end the trial), keeps
//! each trial's best-epoch weights, saves everything after every epoch so a killed search
//! resumes where it stopped, and prints KerasTuner's texts.
//!
//! Where KerasTuner's users complain, tunelab does better: an interrupted trial continues
//! from its last completed epoch (KerasTuner restarts it), summaries list only the
//! hyperparameters a trial used, the duplicate-collision limit is a setting, and all trials
//! export as CSV or JSON.
//!
//! The tuner's parts live beside this file: `hypermodel.rs` (what is searched),
//! `search.rs` (the loop), `jobs.rs` and `parallel.rs` (executions, trained
//! together), `callbacks.rs` (best epoch, resume points, hooks), `resume.rs`
//! (stored resume points and checkpoints) and `report.rs` (display and exports).

use crate::error::{Error, Result};
use crate::gpu::Device;
use crate::hp::HyperParameters;
use crate::nn::history::History;
use crate::nn::model::{FitArgs, Sequential};
use crate::tensor::Tensor;
use crate::tuner::executor::Executor;
use crate::tuner::hypermodel::Runner;
use crate::tuner::oracle::{Algorithm, Oracle, OracleConfig};
use crate::tuner::resume::load_checkpoint;
use crate::tuner::storage::{DirStorage, MemoryStorage, Storage, StudyStorage};
use crate::tuner::trial::Trial;
use serde_json::Value;
use web_time::Instant;

pub use crate::tuner::hypermodel::{
    AsyncRunFn, FitResult, FnHyperModel, HyperModel, LocalFuture, SearchData, TunerHooks, YieldFn,
};
pub use crate::tuner::report::{format_duration, format_g5};
// The page's facade reads resume points with these.
#[cfg_attr(not(target_arch = "wasm32"), allow(unused_imports))]
pub(crate) use crate::tuner::resume::{history_from_json, history_to_json};
pub use crate::tuner::resume::{interrupted, trial_weights};

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
    /// How the `parallel_trials` workers take trials: in batches, or each at once when it
    /// frees up (see [`Schedule`](crate::tuner::Schedule)). `None`: the algorithm's own
    /// (asynchronous for ASHA, batches for the others).
    pub schedule: Option<crate::tuner::Schedule>,
    /// A study in a SQL database shared with other workers, instead of `directory`.
    pub storage: Option<StudyStorage>,
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
            schedule: None,
            storage: None,
        }
    }
}

/// A search: an oracle, a hypermodel (or a function to tune), storage and hooks.
pub struct Tuner {
    pub oracle: Oracle,
    pub(super) runner: Runner,
    pub config: TunerConfig,
    pub(super) hooks: Vec<Box<dyn TunerHooks>>,
    pub(super) started: Option<Instant>,
    pub(super) output: String,
    /// The device trials run on, once resolved ("cpu", "webgpu (...)"), and why not the GPU.
    pub(super) device_label: String,
    pub(super) device_note: Option<String>,
    pub(super) yielder: Option<YieldFn>,
    pub(super) stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Where a hypermodel's executions train when not in this process (see [`Executor`]).
    pub(super) executor: Option<Box<dyn Executor>>,
    /// Shared study: numbers of the trials this process is running (for heartbeats).
    pub(super) running: Vec<usize>,
    /// Shared study: nothing to start now, but other workers' trials are still running (a
    /// Hyperband round waits for them, or one of them may be abandoned and taken over).
    pub(super) others_running: bool,
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
        let storage: Box<dyn Storage> = match (&config.storage, &config.directory) {
            (Some(study), _) => study.open(&config.oracle.objective)?,
            (None, Some(d)) => Box::new(DirStorage::new(d, &config.project_name)?),
            (None, None) => Box::new(MemoryStorage::new()),
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
            running: Vec::new(),
            others_running: false,
        };
        if t.config.overwrite {
            t.oracle.storage_mut().clear()?;
        } else if t.oracle.storage().shared() {
            // A shared study must be searched over the space it was started with.
            let saved = match t.oracle.storage().read("oracle.json")? {
                Some(b) => serde_json::from_slice::<Value>(&b)
                    .ok()
                    .and_then(|v| v.get("hyperparameters").cloned())
                    .map(|h| HyperParameters::from_json(&h))
                    .transpose()?,
                None => None,
            };
            if let Some(saved) = saved {
                let ours = t.initial_space(t.oracle.hyperparameters.clone())?;
                same_space(&saved, &ours, &t.oracle.storage().location())?;
            }
            t.oracle.load()?;
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
        mut run_trial: impl FnMut(&mut Trial) -> Result<FitResult> + 'static,
        hyperparameters: Option<HyperParameters>,
        config: TunerConfig,
    ) -> Result<Self> {
        Self::with_runner(
            algorithm,
            Runner::Function(Box::new(move |trial, _, _| run_trial(trial))),
            hyperparameters.unwrap_or_default(),
            config,
        )
    }

    /// A tuner over a function that also gets what `search` was given, as KerasTuner's
    /// `run_trial(self, trial, *args, **kwargs)` does: the data (`x`, `y`) and the fit
    /// arguments.
    pub fn from_run_trial(
        algorithm: Box<dyn Algorithm>,
        run_trial: impl FnMut(&mut Trial, &SearchData<'_>, &FitArgs) -> Result<FitResult> + 'static,
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
    /// Registers the hypermodel's hps with their defaults (KerasTuner builds once before
    /// searching so that `search_space_summary` shows the space).
    fn populate_initial_space(&mut self) -> Result<()> {
        let hp = self.initial_space(self.oracle.hyperparameters.clone())?;
        self.oracle.hyperparameters.merge(&hp, false);
        Ok(())
    }

    /// `base` with the hyperparameters the hypermodel declares and its first build uses.
    fn initial_space(&mut self, base: HyperParameters) -> Result<HyperParameters> {
        if let Runner::Model(hm) = &mut self.runner {
            let mut hp = base.clone();
            hm.declare_hyperparameters(&mut hp)?;
            if !hm.tunable() {
                // The hypermodel's own hps are fixed at their defaults (KerasTuner's
                // tunable=False); declared ones stay searchable.
                hp.tune_new_entries = false;
            }
            if hm.populate_builds() {
                hm.build(&mut hp)?;
            }
            hp.tune_new_entries = base.tune_new_entries;
            return Ok(hp);
        }
        Ok(base)
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

    /// The best trials' models, rebuilt and loaded with their best-epoch weights (KerasTuner's
    /// `get_best_models(num_models)`): each is built for the input shape its trial trained on,
    /// kept with its checkpoint.
    pub fn get_best_models(&mut self, n: usize) -> Result<Vec<Sequential>> {
        self.best_models(n, None)
    }

    /// [`Tuner::get_best_models`] for checkpoints stored before they kept their input shape
    /// (older projects): `input_shape` is the per-sample shape to build for.
    pub fn get_best_models_with_input_shape(
        &mut self,
        n: usize,
        input_shape: &[usize],
    ) -> Result<Vec<Sequential>> {
        self.best_models(n, Some(input_shape))
    }

    fn best_models(&mut self, n: usize, input_shape: Option<&[usize]>) -> Result<Vec<Sequential>> {
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
            let (w, meta) = load_checkpoint(
                self.oracle.storage(),
                &format!("trial_{}/checkpoint.bin", t.trial_id),
            )?
            .ok_or_else(|| Error::state(format!("trial {} has no checkpoint", t.trial_id)))?;
            if !model.is_built() {
                let stored: Option<Vec<usize>> = meta
                    .get("input_shape")
                    .and_then(|s| serde_json::from_value(s.clone()).ok());
                let shape = match (model.get_input_shape(), stored, input_shape) {
                    (Some(s), _, _) => s.to_vec(),
                    (None, Some(s), _) => s,
                    (None, None, Some(s)) => s.to_vec(),
                    (None, None, None) => {
                        return Err(Error::state(format!(
                            "trial {}'s checkpoint predates stored input shapes: call \
                             get_best_models_with_input_shape with the per-sample shape",
                            t.trial_id
                        )))
                    }
                };
                model.build(&shape)?;
            }
            model.set_weights(&w)?;
            out.push(model);
        }
        Ok(out)
    }
}

/// Refuses to continue a shared study over another search space: every hyperparameter the
/// hypermodel declares must be in the study's space with the same definition.
fn same_space(saved: &HyperParameters, ours: &HyperParameters, location: &str) -> Result<()> {
    for hp in ours.space() {
        if hp.name.starts_with("tuner/") {
            continue;
        }
        let theirs = saved.space().iter().find(|s| s.name == hp.name);
        let problem = match theirs {
            None => Some("none (the study has no such hyperparameter)".to_string()),
            Some(s) if s.kind != hp.kind || s.conditions != hp.conditions => Some(s.repr()),
            Some(_) => None,
        };
        if let Some(theirs) = problem {
            return Err(Error::invalid(
                "search space",
                hp.repr(),
                format!(
                    "the search space of the study in {location}, where `{}` is {theirs}: \
                     start another study (--study-name) or search the same space",
                    hp.name
                ),
            ));
        }
    }
    Ok(())
}
