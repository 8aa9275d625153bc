//! What a tuner searches over: KerasTuner's HyperModel (build, fit, fit arguments), a
//! closure as a hypermodel, functions to tune, their results, and the hooks around trials.

use crate::error::Result;
use crate::hp::HyperParameters;
use crate::nn::callbacks::Callback;
use crate::nn::history::{History, Logs};
use crate::nn::model::{FitArgs, Sequential};
use crate::tensor::Tensor;
use crate::tuner::trial::Trial;

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

/// A tuned function: the trial, and the data and fit arguments `search` was given (KerasTuner's
/// `run_trial(trial, *args, **kwargs)`).
pub(super) type RunFn = Box<dyn FnMut(&mut Trial, &SearchData<'_>, &FitArgs) -> Result<FitResult>>;

pub use crate::runtime::LocalFuture;

/// An awaited function to tune: given the trial, a future of its result and of the
/// hyperparameters as the function left them (the values it read are recorded as used).
pub type AsyncRunFn =
    Box<dyn FnMut(&Trial) -> LocalFuture<'static, (Result<FitResult>, Option<HyperParameters>)>>;

/// Awaited after every trial, so that a host event loop can run (the browser's IndexedDB
/// writes complete there).
pub type YieldFn = Box<dyn Fn() -> LocalFuture<'static, Result<()>>>;

pub(super) enum Runner {
    Model(Box<dyn HyperModel>),
    Function(RunFn),
    AsyncFunction(AsyncRunFn),
}
