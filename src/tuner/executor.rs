//! Executions trained somewhere else: the tuner keeps every rule of a trial's lifecycle
//! (executions, seeds, resume points, best-epoch weights, Hyperband's warm start, averaging,
//! retries) and hands the training itself to an [`Executor`] when the surface trains elsewhere:
//! the page's pool of Web Workers, a notebook widget's worker, another thread.
//!
//! An [`ExecutionJob`] is one execution of one trial, ready to train: the model (its spec, seed,
//! device, weights and optimizer state: a Hyperband child's parent weights or a resume point),
//! and the fit arguments (epochs, the epoch to start from, the shuffle seed, batch size...).
//! The executor trains it with [`run_execution`] (the engine's own `fit`, so the result is the
//! one the tuner would get in process) and sends an [`EpochReport`] after every epoch: the
//! logs, the weights and the optimizer state. The tuner runs its callbacks on each report as if
//! the model had trained in process: the best epoch's weights, the resume point in storage, the
//! hooks the surfaces display.
//!
//! Both travel as bytes in the checkpoint format ([`checkpoint`]), so a job crosses a
//! `postMessage` or a pipe unchanged.

use crate::error::{Error, Result};
use crate::gpu::Device;
use crate::nn::callbacks::{Callback, ModelAccess, TrainingState};
use crate::nn::history::Logs;
use crate::nn::model::{FitArgs, Sequential, ValidationData};
use crate::runtime::LocalFuture;
use crate::spec::ModelSpec;
use crate::tensor::Tensor;
use crate::tuner::checkpoint;
use crate::tuner::options;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::task::Waker;

const JOB_KIND: &str = "tunelab-execution";
const REPORT_KIND: &str = "tunelab-epoch";

/// One execution of one trial, ready to train (see the module's documentation).
#[derive(Debug, Clone)]
pub struct ExecutionJob {
    pub trial_id: String,
    /// 0-based execution of the trial.
    pub execution: usize,
    /// The hyperparameter values the model was built with (for the surface to show; training
    /// does not read them).
    pub values: Value,
    /// The model's spec (layers and compile), as [`ModelSpec::to_value`] writes it.
    pub model: Value,
    /// The per-sample input shape the model is built for.
    pub input_shape: Vec<usize>,
    /// The model's seed (dropout masks) and, unless `args.seed` says otherwise, the shuffle seed.
    pub seed: u64,
    pub device: Device,
    /// Fit arguments without data: epochs, initial_epoch, seed, batch size, shuffle,
    /// validation split and frequency, class weights. Validation data come with the executor's
    /// data; sample weights cannot travel (refused by [`ExecutionJob::new`]).
    pub args: FitArgs,
    /// The weights to start from.
    pub weights: Vec<Tensor>,
    /// The optimizer state to continue from (a resume point), if any.
    pub state: Option<TrainingState>,
}

impl ExecutionJob {
    /// The job for `model` (built, with its start weights and state) trained with `args`.
    pub fn new(
        trial_id: &str,
        execution: usize,
        values: Value,
        model: &Sequential,
        seed: u64,
        args: &FitArgs,
    ) -> Result<Self> {
        if args.sample_weight.is_some() {
            return Err(Error::invalid(
                "sample_weight",
                "given",
                "no sample weights when trials train in an executor (they stay with the data)",
            ));
        }
        if args
            .validation_data
            .as_ref()
            .is_some_and(|v| v.sample_weight.is_some())
        {
            return Err(Error::invalid(
                "validation sample_weight",
                "given",
                "no validation sample weights when trials train in an executor (the workers hold the validation data without them)",
            ));
        }
        let input_shape = model
            .get_input_shape()
            .map(|s| s.to_vec())
            .or_else(|| model.built_input_shape())
            .ok_or_else(|| Error::state("an execution job needs a built model"))?;
        let mut args = args.clone();
        args.validation_data = None;
        args.verbose = 0;
        Ok(ExecutionJob {
            trial_id: trial_id.to_string(),
            execution,
            values,
            model: ModelSpec::of(model).to_value(),
            input_shape,
            seed,
            device: model.device_setting(),
            args,
            weights: model.get_weights()?,
            state: model.training_state(),
        })
    }

    /// The job as bytes (the checkpoint format: weights and optimizer slots, JSON header).
    pub fn encode(&self) -> Result<Vec<u8>> {
        let meta = json!({
            "kind": JOB_KIND,
            "trial_id": self.trial_id,
            "execution": self.execution,
            "values": self.values,
            "model": self.model,
            "input_shape": self.input_shape,
            "seed": self.seed,
            "device": self.device.name(),
            "fit": options::fit_args_to_json(&self.args),
        });
        checkpoint::encode_state(&self.weights, self.state.as_ref(), meta)
    }

    /// Reads what [`ExecutionJob::encode`] wrote.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let (weights, state, meta) = checkpoint::decode_state(bytes)?;
        if meta.get("kind").and_then(|k| k.as_str()) != Some(JOB_KIND) {
            return Err(Error::parse("execution job: not a tunelab execution job"));
        }
        let field = |k: &str| {
            meta.get(k)
                .ok_or_else(|| Error::parse(format!("execution job: no {k}")))
        };
        let uint = |k: &str| {
            field(k)?
                .as_u64()
                .ok_or_else(|| Error::parse(format!("execution job: {k} is not an integer")))
        };
        Ok(ExecutionJob {
            trial_id: field("trial_id")?
                .as_str()
                .ok_or_else(|| Error::parse("execution job: trial_id is not a string"))?
                .to_string(),
            execution: uint("execution")? as usize,
            values: meta.get("values").cloned().unwrap_or(Value::Null),
            model: field("model")?.clone(),
            input_shape: serde_json::from_value(field("input_shape")?.clone())
                .map_err(|e| Error::parse(format!("execution job: input_shape: {e}")))?,
            seed: uint("seed")?,
            device: Device::parse(field("device")?.as_str().unwrap_or(""))?,
            args: options::fit_args(field("fit")?)?,
            weights,
            state,
        })
    }

    /// The model to train: built from the spec with the job's seed and device, its weights and
    /// optimizer state set.
    pub fn build_model(&self) -> Result<Sequential> {
        let mut model = ModelSpec::from_value(&self.model)?.build(self.seed)?;
        model.set_device(self.device);
        if !model.is_built() {
            model.build(&self.input_shape)?;
        }
        model.restore_weights(&self.weights)?;
        if let Some(s) = &self.state {
            model.set_training_state(s)?;
        }
        Ok(model)
    }
}

/// What an executor sends after each epoch.
#[derive(Debug, Clone)]
pub struct EpochReport {
    pub epoch: usize,
    pub logs: Logs,
    /// The weights after the epoch.
    pub weights: Vec<Tensor>,
    /// The optimizer state after the epoch.
    pub state: Option<TrainingState>,
    /// The model's output on the executor's probe points (the page's decision-boundary grid),
    /// when it has any.
    pub probe: Option<Tensor>,
}

impl EpochReport {
    /// The report as bytes (the checkpoint format; log values travel as f32, NaN included).
    pub fn encode(&self) -> Result<Vec<u8>> {
        let names: Vec<&str> = self.logs.iter().map(|(k, _)| k).collect();
        let values = Tensor::vector(self.logs.iter().map(|(_, v)| v).collect());
        let mut weights = self.weights.clone();
        weights.push(values);
        if let Some(p) = &self.probe {
            weights.push(p.clone());
        }
        let meta = json!({
            "kind": REPORT_KIND,
            "epoch": self.epoch,
            "logs": names,
            "probe": self.probe.is_some(),
        });
        checkpoint::encode_state(&weights, self.state.as_ref(), meta)
    }

    /// Reads what [`EpochReport::encode`] wrote.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let (mut weights, state, meta) = checkpoint::decode_state(bytes)?;
        if meta.get("kind").and_then(|k| k.as_str()) != Some(REPORT_KIND) {
            return Err(Error::parse("epoch report: not a tunelab epoch report"));
        }
        let probe = if meta.get("probe").and_then(|p| p.as_bool()) == Some(true) {
            weights.pop()
        } else {
            None
        };
        let values = weights
            .pop()
            .ok_or_else(|| Error::parse("epoch report: no logs"))?;
        let names: Vec<String> =
            serde_json::from_value(meta.get("logs").cloned().unwrap_or_default())
                .map_err(|e| Error::parse(format!("epoch report: logs: {e}")))?;
        if names.len() != values.len() {
            return Err(Error::parse(
                "epoch report: log names and values differ in number",
            ));
        }
        Ok(EpochReport {
            epoch: meta.get("epoch").and_then(|e| e.as_u64()).unwrap_or(0) as usize,
            logs: Logs(
                names
                    .into_iter()
                    .zip(values.data().iter().copied())
                    .collect(),
            ),
            weights,
            state,
            probe,
        })
    }
}

/// The data an executor trains on: the search's training and validation data, and points whose
/// predictions each epoch report carries.
pub struct ExecutionData {
    pub x: Tensor,
    pub y: Tensor,
    pub validation: Option<(Tensor, Tensor)>,
    pub probe: Option<Tensor>,
}

/// Sends each epoch's report; the report function answers whether to go on.
struct ReportEpochs<'a> {
    probe_model: Option<Sequential>,
    probe: Option<&'a Tensor>,
    send: &'a mut dyn FnMut(EpochReport) -> Result<bool>,
    error: Option<Error>,
}

impl Callback for ReportEpochs<'_> {
    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        model: &mut dyn ModelAccess,
    ) -> Result<()> {
        let weights = model.get_weights();
        let probe = match (&mut self.probe_model, self.probe) {
            (Some(m), Some(p)) => {
                m.restore_weights(&weights)?;
                Some(m.predict(p, Some(1024))?)
            }
            _ => None,
        };
        let report = EpochReport {
            epoch,
            logs: logs.clone(),
            weights,
            state: model.training_state(),
            probe,
        };
        match (self.send)(report) {
            Ok(true) => {}
            Ok(false) => model.stop_training(),
            Err(e) => {
                self.error = Some(e);
                model.stop_training();
            }
        }
        Ok(())
    }
}

/// Trains one execution with the engine's own `fit` (the same as the tuner's in-process path),
/// sending a report after every epoch. `send` returns `Ok(false)` to stop after the epoch.
pub async fn run_execution(
    job: &ExecutionJob,
    data: &ExecutionData,
    send: &mut dyn FnMut(EpochReport) -> Result<bool>,
) -> Result<()> {
    let mut model = job.build_model()?;
    let probe_model = match &data.probe {
        Some(_) => {
            let mut m = job.build_model()?;
            m.set_device(Device::Cpu);
            Some(m)
        }
        None => None,
    };
    let mut args = job.args.clone();
    args.validation_data = data.validation.as_ref().map(|(x, y)| ValidationData {
        x: x.clone(),
        y: y.clone(),
        sample_weight: None,
    });
    let mut reporter = ReportEpochs {
        probe_model,
        probe: data.probe.as_ref(),
        send,
        error: None,
    };
    let mut cbs: [&mut dyn Callback; 1] = [&mut reporter];
    model.fit_async(&data.x, &data.y, &args, &mut cbs).await?;
    match reporter.error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[derive(Default)]
struct Channel {
    queue: VecDeque<EpochReport>,
    waker: Option<Waker>,
    stop: bool,
}

/// The tuner's end of one job's reports: the executor sends into it (from any callback of its
/// host, without holding a borrow of the tuner) and the tuner drains it while the job runs.
#[derive(Clone, Default)]
pub struct Reports(Rc<RefCell<Channel>>);

impl Reports {
    /// Queues a report for the tuner and wakes it; `false` when the tuner asks the job to stop
    /// (a resume point could not be stored, the search was stopped).
    pub fn send(&self, report: EpochReport) -> bool {
        let waker = {
            let mut c = self.0.borrow_mut();
            c.queue.push_back(report);
            c.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        !self.0.borrow().stop
    }

    /// The next report sent and not yet taken (the tuner drains them; so can a relay).
    pub fn take(&self) -> Option<EpochReport> {
        self.0.borrow_mut().queue.pop_front()
    }

    pub(crate) fn wait_with(&self, waker: &Waker) {
        self.0.borrow_mut().waker = Some(waker.clone());
    }

    pub(crate) fn stop(&self) {
        self.0.borrow_mut().stop = true;
    }
}

/// Trains the tuner's execution jobs elsewhere. `run` returns when the job has ended (every
/// report sent); an `Err` fails the execution with that message.
pub trait Executor {
    fn run(&mut self, job: ExecutionJob, reports: Reports) -> LocalFuture<'static, Result<()>>;
}

/// An executor in this process that sends every job and report through its byte form, as a
/// worker would: what the page's pool does, without a browser (tests, and a check that the
/// bytes carry everything training needs).
pub struct InProcessExecutor {
    data: Rc<ExecutionData>,
}

impl InProcessExecutor {
    pub fn new(data: ExecutionData) -> Self {
        InProcessExecutor {
            data: Rc::new(data),
        }
    }
}

impl Executor for InProcessExecutor {
    fn run(&mut self, job: ExecutionJob, reports: Reports) -> LocalFuture<'static, Result<()>> {
        let data = self.data.clone();
        Box::pin(async move {
            let job = ExecutionJob::decode(&job.encode()?)?;
            let mut send = |r: EpochReport| -> Result<bool> {
                Ok(reports.send(EpochReport::decode(&r.encode()?)?))
            };
            run_execution(&job, &data, &mut send).await
        })
    }
}
