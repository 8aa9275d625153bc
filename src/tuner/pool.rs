//! The asynchronous worker pool: `parallel_trials` workers, each given the oracle's next trial
//! the moment it frees up, so none waits for the slowest trial of a batch (what ASHA is built
//! for). Two forms share the trial lifecycle of the batch loop (jobs, resume points, best
//! epochs, hooks, the trial's end):
//!
//! - threads (native): each trial trains on a thread of its own, on the CPU or submitting its
//!   own work to the GPU; its resume points and hook events come over a channel to the tuner's
//!   thread, which owns storage and hooks; a lost GPU sends the trials on to the CPU from their
//!   resume points, as the batch loop does;
//! - futures: each trial's executions run in the [`Executor`](crate::tuner::Executor) (the
//!   page's Web Workers; in wasm without one, an in-process executor, whose GPU trainings
//!   interleave on the device), or as a `runTrial` function's futures; the tuner polls them all
//!   and handles every epoch report as it arrives. A runner that trains one trial at a time
//!   anyway (a function, a hypermodel with its own `fit`) runs each trial as its worker begins
//!   it: the workers are simulated, and the trials end in the schedule's order.
//!
//! [`Schedule::Deterministic`] ends trials in simulated time instead of the machine's: a trial
//! started at simulated time `t` ends at `t` + the epochs it trains (1 for a trial without
//! epochs), ties going to the lower worker, so the same seed and worker count give the same
//! search whatever the timing (the order `tuner::simulate` uses with one time unit per epoch).

use crate::error::{Error, Result};
use crate::gpu::Device;
use crate::hp::HyperParameters;
use crate::nn::callbacks::Callback;
use crate::nn::history::History;
use crate::nn::model::FitArgs;
use crate::runtime::LocalFuture;
use crate::tensor::Tensor;
use crate::tuner::callbacks::{BestEpoch, EpochSaver, HookAdapter, SaveSink};
use crate::tuner::executor::{ExecutionData, ExecutionJob, Executor, InProcessExecutor, Reports};
use crate::tuner::hypermodel::{FitResult, Runner};
use crate::tuner::jobs::{Job, TrialAcc};
use crate::tuner::parallel::take_report;
use crate::tuner::trial::Trial;
use crate::tuner::tuner::Tuner;
use std::cell::RefCell;
use std::rc::Rc;
use web_time::Instant;

/// How `parallel_trials` trials share the workers (the tuner option `schedule`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// `parallel_trials` trials start together and the next ones when all of them ended (on a
    /// GPU one dispatch trains a batch's models together).
    Batches,
    /// A worker that frees up starts the oracle's next trial at once.
    Async,
    /// As `Async`, with trials ending in simulated time (see the module's documentation):
    /// the same seed and worker count give the same search on any machine.
    Deterministic,
}

impl Schedule {
    pub const NAMES: [&'static str; 3] = ["batches", "async", "deterministic"];

    pub fn parse(s: &str) -> Result<Schedule> {
        match s {
            "batches" => Ok(Schedule::Batches),
            "async" => Ok(Schedule::Async),
            "deterministic" => Ok(Schedule::Deterministic),
            other => Err(Error::invalid(
                "schedule",
                format!("{other:?}"),
                "\"batches\", \"async\" or \"deterministic\" (or null: async for ASHA, batches for the others)",
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Schedule::Batches => "batches",
            Schedule::Async => "async",
            Schedule::Deterministic => "deterministic",
        }
    }
}

/// Which pool a search runs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Pool {
    #[cfg(not(target_arch = "wasm32"))]
    Threads,
    /// Executions in the tuner's executor, or (natively on a GPU) an in-process one.
    Futures,
}

/// The resume points an execution's saver queues for the tuner, which writes them to its
/// storage after the epoch's callbacks (an error there stops the execution).
#[derive(Clone, Default)]
struct Queue(Rc<RefCell<Saved>>);

/// Paths and bytes.
type Saved = Vec<(String, Vec<u8>)>;

impl SaveSink for Queue {
    fn save(&self, path: &str, bytes: Vec<u8>) -> Result<()> {
        self.0.borrow_mut().push((path.to_string(), bytes));
        Ok(())
    }
}

/// One execution of a trial in flight in an executor.
struct Run {
    future: Option<LocalFuture<'static, Result<()>>>,
    outcome: Option<Result<()>>,
    reports: Reports,
    history: History,
    best: BestEpoch,
    saver: EpochSaver<Queue>,
    queue: Queue,
}

enum Work {
    /// A hypermodel trial's executions (`jobs[i]` trains as `runs[i]`).
    Model {
        jobs: Vec<Job>,
        acc: TrialAcc,
        runs: Vec<Run>,
    },
    /// A trial run to its end as its worker began it (a runner that trains one trial at a
    /// time: a function, a hypermodel with its own `fit`).
    Ran(Option<Result<Vec<FitResult>>>),
    /// A `runTrial` function's trial.
    Function {
        future: Option<LocalFuture<'static, (Result<FitResult>, Option<HyperParameters>)>>,
        output: Option<(Result<FitResult>, Option<HyperParameters>)>,
    },
}

struct Slot {
    trial: Trial,
    started: Instant,
    /// When the trial ends in simulated time (deterministic schedule).
    end: u64,
    work: Work,
}

impl Slot {
    fn complete(&self) -> bool {
        match &self.work {
            Work::Model { runs, .. } => runs.iter().all(|r| r.future.is_none()),
            Work::Function { future, .. } => future.is_none(),
            Work::Ran(_) => true,
        }
    }
}

/// The epochs a trial's jobs train (its simulated duration; at least 1).
fn cost(jobs: &[Job]) -> u64 {
    let epochs: usize = jobs
        .iter()
        .map(|j| j.args.epochs.saturating_sub(j.args.initial_epoch))
        .sum();
    epochs.max(1) as u64
}

/// A trial without jobs (a function's): the epochs its Hyperband-style values ask for, else 1.
fn trial_cost(trial: &Trial) -> u64 {
    let v = trial.hyperparameters.values();
    let int = |k: &str| v.get(k).and_then(|v| v.as_i64()).unwrap_or(0);
    (int("tuner/epochs") - int("tuner/initial_epoch")).max(1) as u64
}

/// A job whose resume point already holds every epoch: nothing left to train.
fn finished(job: &Job) -> bool {
    job.args.initial_epoch >= job.args.epochs && job.prior.is_some()
}

/// The slot to end next, if it has ended: in simulated time the earliest end (ties: the lower
/// worker), waiting for it; otherwise the first that has ended.
fn next_done<S>(
    slots: &[Option<S>],
    deterministic: bool,
    end: impl Fn(&S) -> u64,
    done: impl Fn(&S) -> bool,
) -> Option<usize> {
    if deterministic {
        let w = slots
            .iter()
            .enumerate()
            .filter_map(|(w, s)| s.as_ref().map(|s| (end(s), w)))
            .min()?
            .1;
        slots[w].as_ref().filter(|s| done(s)).map(|_| w)
    } else {
        slots.iter().position(|s| s.as_ref().is_some_and(&done))
    }
}

impl Tuner {
    /// The schedule the search runs with: the option, or the algorithm's own (ASHA: async).
    pub(super) fn schedule(&self) -> Schedule {
        self.config
            .schedule
            .unwrap_or(if self.oracle.asynchronous() {
                Schedule::Async
            } else {
                Schedule::Batches
            })
    }

    /// The pool an asynchronous schedule runs in, or `None` when trials run in batches (the
    /// `batches` schedule, or one worker). Natively a hypermodel's trials train on threads, on
    /// the CPU or the GPU; everything else runs as futures: an executor's, a `runTrial`
    /// function's, in the browser an in-process executor (the GPU's trainings interleave; the
    /// CPU's run one after the other, each when its worker polls it), and a runner that trains
    /// one trial at a time anyway (a function, a hypermodel with its own `fit`) runs each trial
    /// as its worker begins it: its workers are simulated, in the order the schedule gives.
    pub(super) fn pool(&self, parallel: usize) -> Option<Pool> {
        if self.schedule() == Schedule::Batches || parallel < 2 {
            return None;
        }
        #[cfg(not(target_arch = "wasm32"))]
        if matches!(&self.runner, Runner::Model(hm) if hm.default_fit()) && self.executor.is_none()
        {
            return Some(Pool::Threads);
        }
        Some(Pool::Futures)
    }

    /// The search in a pool of `workers` (see the module's documentation).
    pub(super) async fn search_pool(
        &mut self,
        pool: Pool,
        x: &Tensor,
        y: &Tensor,
        args: &FitArgs,
        device: Device,
        workers: usize,
    ) -> Result<()> {
        let deterministic = self.schedule() == Schedule::Deterministic;
        match pool {
            #[cfg(not(target_arch = "wasm32"))]
            Pool::Threads => threads::search(self, x, y, args, device, workers, deterministic),
            Pool::Futures => {
                self.search_futures(x, y, args, device, workers, deterministic)
                    .await
            }
        }
    }

    /// Ends a trial the pool ran: its outcome to the oracle, storage, hooks and display. An
    /// error when the search must stop (fatal, after saving the oracle).
    fn end_pooled(
        &mut self,
        trial: Trial,
        result: Result<Vec<FitResult>>,
        secs: f64,
    ) -> Result<()> {
        if let Some(m) = self.end_trial_with(trial, result, secs, false)? {
            self.decide(|t| t.oracle.save(None))?;
            return Err(Error::Fatal(m));
        }
        Ok(())
    }

    /// Folds a trial's finished executions (result, saver error, best epoch, in job order)
    /// into its outcome, as the batch loop does.
    #[allow(clippy::type_complexity)]
    fn fold_jobs(
        &mut self,
        trial: &mut Trial,
        jobs: &mut [Job],
        mut acc: TrialAcc,
        done: Vec<(Result<FitResult>, Option<Error>, Option<(f64, Vec<Tensor>)>)>,
    ) -> Result<Vec<FitResult>> {
        let objective = self.oracle.config.objective.clone();
        for (job, (r, e, b)) in jobs.iter_mut().zip(done) {
            self.collect_execution(trial, job, &mut acc, Some(r), e, b, &objective)?;
        }
        self.finish_executions(trial, acc)
    }

    /// The futures pool: executions in an executor, or a `runTrial` function's futures.
    async fn search_futures(
        &mut self,
        x: &Tensor,
        y: &Tensor,
        args: &FitArgs,
        mut device: Device,
        workers: usize,
        deterministic: bool,
    ) -> Result<()> {
        // In wasm, a hypermodel with no executor: one in this process, over the search's data.
        let mut local: Option<Box<dyn Executor>> = None;
        if self.executor.is_none() && matches!(&self.runner, Runner::Model(hm) if hm.default_fit())
        {
            local = Some(Box::new(InProcessExecutor::new(ExecutionData {
                x: x.clone(),
                y: y.clone(),
                validation: args
                    .validation_data
                    .as_ref()
                    .map(|v| (v.x.clone(), v.y.clone())),
                probe: None,
            })));
        }
        let objective = self.oracle.config.objective.clone();
        let mut slots: Vec<Option<Slot>> = (0..workers).map(|_| None).collect();
        let mut now = 0u64;
        loop {
            // Every free worker gets the oracle's next trial (lowest worker first).
            let mut waiting = false;
            for slot in slots.iter_mut() {
                while slot.is_none() && !waiting {
                    let Some(mut trial) = self.begin_next_trial()? else {
                        waiting = true;
                        break;
                    };
                    let started = Instant::now();
                    let one_at_a_time = match &self.runner {
                        Runner::Function(_) => true,
                        Runner::Model(hm) => !hm.default_fit(),
                        Runner::AsyncFunction(_) => false,
                    };
                    let work = match &mut self.runner {
                        Runner::AsyncFunction(f) => {
                            trial.hyperparameters.clear_accessed();
                            Work::Function {
                                future: Some(f(&trial)),
                                output: None,
                            }
                        }
                        _ if one_at_a_time => {
                            let mut one = vec![trial];
                            let r = self.run_trials(&mut one, x, y, args, &mut device).await;
                            let Some(t) = one.pop() else {
                                return Err(Error::state("the trial went missing"));
                            };
                            trial = t;
                            Work::Ran(r.into_iter().next())
                        }
                        _ => {
                            let mut acc = TrialAcc::default();
                            match self.prepare_jobs(&trial, x, args, device, &mut acc) {
                                Err(e) => {
                                    self.end_pooled(trial, Err(e), 0.0)?;
                                    continue;
                                }
                                Ok(jobs) => {
                                    let executor = match (self.executor.as_mut(), local.as_mut()) {
                                        (Some(e), _) => e,
                                        (None, Some(e)) => e,
                                        (None, None) => {
                                            return Err(Error::state("no executor for the pool"))
                                        }
                                    };
                                    let runs = jobs
                                        .iter()
                                        .map(|job| {
                                            start_run(executor.as_mut(), &trial, job, &objective)
                                        })
                                        .collect();
                                    Work::Model { jobs, acc, runs }
                                }
                            }
                        }
                    };
                    let end = now
                        + match &work {
                            Work::Model { jobs, .. } => cost(jobs),
                            Work::Function { .. } | Work::Ran(_) => trial_cost(&trial),
                        };
                    *slot = Some(Slot {
                        trial,
                        started,
                        end,
                        work,
                    });
                }
            }
            if slots.iter().all(Option::is_none) {
                if self.others_running {
                    #[cfg(not(target_arch = "wasm32"))]
                    std::thread::sleep(std::time::Duration::from_millis(200));
                    continue;
                }
                return Ok(());
            }
            let w = std::future::poll_fn(|cx| {
                for slot in slots.iter_mut().flatten() {
                    self.poll_slot(slot, cx);
                }
                match next_done(&slots, deterministic, |s| s.end, Slot::complete) {
                    Some(w) => std::task::Poll::Ready(w),
                    None => std::task::Poll::Pending,
                }
            })
            .await;
            let Some(Slot {
                mut trial,
                started,
                end,
                work,
            }) = slots[w].take()
            else {
                continue;
            };
            if deterministic {
                now = end;
            }
            let result = match work {
                Work::Ran(r) => r.unwrap_or_else(|| Err(Error::state("trial not run"))),
                Work::Function { output, .. } => {
                    let (r, hp) =
                        output.unwrap_or_else(|| (Err(Error::state("trial not run")), None));
                    if let Some(hp) = hp {
                        trial.hyperparameters = hp;
                    }
                    trial.used = Some(trial.hyperparameters.accessed().to_vec());
                    let space = trial.hyperparameters.clone();
                    self.oracle.hyperparameters.merge(&space, false);
                    r.map(|r| vec![r])
                }
                Work::Model {
                    mut jobs,
                    acc,
                    runs,
                } => {
                    let done = runs
                        .into_iter()
                        .map(|mut r| {
                            let result = match r.outcome {
                                Some(Ok(())) => Ok(FitResult::History(r.history)),
                                Some(Err(e)) => Err(e),
                                None => Err(Error::state("execution not run")),
                            };
                            (result, r.saver.error.take(), r.best.best.take())
                        })
                        .collect();
                    self.fold_jobs(&mut trial, &mut jobs, acc, done)
                }
            };
            self.end_pooled(trial, result, started.elapsed().as_secs_f64())?;
            if let Some(y) = &self.yielder {
                y().await?;
            }
        }
    }

    /// Polls a slot's futures and handles every epoch report that arrived: the model takes the
    /// report's weights, then the best epoch, the resume point (written to storage here) and
    /// the hooks see the epoch as if it had trained in process.
    fn poll_slot(&mut self, slot: &mut Slot, cx: &mut std::task::Context<'_>) {
        let trial = &slot.trial;
        match &mut slot.work {
            Work::Function { future, output } => {
                if let Some(f) = future.as_mut() {
                    if let std::task::Poll::Ready(o) = f.as_mut().poll(cx) {
                        *output = Some(o);
                        *future = None;
                    }
                }
            }
            Work::Ran(_) => {}
            Work::Model { jobs, runs, .. } => {
                for (job, r) in jobs.iter_mut().zip(runs.iter_mut()) {
                    r.reports.wait_with(cx.waker());
                    if let Some(f) = r.future.as_mut() {
                        if let std::task::Poll::Ready(o) = f.as_mut().poll(cx) {
                            r.outcome = Some(o);
                            r.future = None;
                        }
                    }
                    while let Some(report) = r.reports.take() {
                        // The hooks as the batch loop hands them to the callbacks.
                        let hooks = RefCell::new(std::mem::take(&mut self.hooks));
                        let mut adapter = HookAdapter {
                            hooks: &hooks,
                            trial,
                        };
                        let mut cbs: [&mut dyn Callback; 3] =
                            [&mut r.best, &mut r.saver, &mut adapter];
                        let mut failed =
                            take_report(&mut job.model, report, &mut r.history, &mut cbs).err();
                        self.hooks = hooks.into_inner();
                        for (path, bytes) in r.queue.0.borrow_mut().drain(..) {
                            if let Err(e) = self.oracle.storage_mut().write(&path, &bytes) {
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
                }
            }
        }
    }
}

/// Starts one execution of `trial` in `executor` (a job with nothing left to train ends at
/// once with an empty history).
fn start_run(
    executor: &mut dyn Executor,
    trial: &Trial,
    job: &Job,
    objective: &crate::tuner::objective::ObjectiveSpec,
) -> Run {
    let queue = Queue::default();
    let reports = Reports::default();
    let (future, outcome) = if finished(job) {
        (None, Some(Ok(())))
    } else {
        match ExecutionJob::new(
            &trial.trial_id,
            job.exec,
            job.hp.values().to_json(),
            &job.model,
            job.args.seed.unwrap_or(0),
            &job.args,
        ) {
            Ok(ej) => (Some(executor.run(ej, reports.clone())), None),
            Err(e) => (None, Some(Err(e))),
        }
    };
    Run {
        future,
        outcome,
        reports,
        history: History::default(),
        best: BestEpoch::new(objective.clone(), job.best_prior.clone()),
        saver: EpochSaver::of(queue.clone(), job, objective),
        queue,
    }
}

/// The threads pool (native, CPU).
#[cfg(not(target_arch = "wasm32"))]
mod threads {
    use super::*;
    use crate::tuner::objective::ObjectiveSpec;
    use crate::tuner::parallel::threads::{relay, train_job, Done, Event};
    use std::panic::AssertUnwindSafe;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc::{channel, Sender};

    /// A worker's trial has ended: the worker, its jobs back, their outcomes (followed by
    /// `Event::Ended` on the events' channel).
    type Ended = (usize, Vec<Job>, Vec<Done>);

    struct Running {
        trial: Trial,
        acc: TrialAcc,
        started: Instant,
        end: u64,
        write_error: Option<Error>,
        done: Option<(Vec<Job>, Vec<Done>)>,
    }

    /// Trains a trial's jobs one after the other on this thread, with the tuner's callbacks;
    /// their resume points and hook events go to the tuner's thread (`w`: the worker).
    #[allow(clippy::too_many_arguments)]
    fn train(
        jobs: &mut [Job],
        x: &Tensor,
        y: &Tensor,
        objective: &ObjectiveSpec,
        w: usize,
        tx: &Sender<Event>,
        stop: &AtomicBool,
        with_hooks: bool,
    ) -> Vec<Done> {
        jobs.iter_mut()
            .map(|job| {
                if finished(job) {
                    // Its best epoch from before the interruption (see `start_run`).
                    let best = job.best_prior.clone();
                    return (Ok(FitResult::History(History::default())), None, best);
                }
                train_job(job, x, y, objective, w, tx, stop, with_hooks)
            })
            .collect()
    }

    pub(super) fn search(
        tuner: &mut Tuner,
        x: &Tensor,
        y: &Tensor,
        args: &FitArgs,
        mut device: Device,
        workers: usize,
        deterministic: bool,
    ) -> Result<()> {
        let objective = tuner.oracle.config.objective.clone();
        // Trials whose GPU was lost, to train again on the CPU from their resume points.
        let mut retry: Vec<Trial> = Vec::new();
        let mut retried: Vec<String> = Vec::new();
        let with_hooks = !tuner.hooks.is_empty();
        let stops: Vec<AtomicBool> = (0..workers).map(|_| AtomicBool::new(false)).collect();
        let (tx, rx) = channel::<Event>();
        let (done_tx, done_rx) = channel::<Ended>();
        std::thread::scope(|scope| {
            let mut slots: Vec<Option<Running>> = (0..workers).map(|_| None).collect();
            let mut now = 0u64;
            let mut pending: Vec<Ended> = Vec::new();
            let outcome: Result<()> = 'search: loop {
                let mut waiting = false;
                for w in 0..workers {
                    while slots[w].is_none() && !waiting {
                        let next = match retry.pop() {
                            Some(t) => Ok(Some(t)),
                            None => tuner.begin_next_trial(),
                        };
                        let trial = match next {
                            Ok(Some(t)) => t,
                            Ok(None) => {
                                waiting = true;
                                break;
                            }
                            Err(e) => break 'search Err(e),
                        };
                        let mut acc = TrialAcc::default();
                        let jobs = match tuner.prepare_jobs(&trial, x, args, device, &mut acc) {
                            Ok(jobs) => jobs,
                            Err(e) => {
                                if let Err(e) = tuner.end_pooled(trial, Err(e), 0.0) {
                                    break 'search Err(e);
                                }
                                continue;
                            }
                        };
                        let end = now + cost(&jobs);
                        stops[w].store(false, Ordering::SeqCst);
                        let tx = tx.clone();
                        let done_tx = done_tx.clone();
                        let stop = &stops[w];
                        let objective = objective.clone();
                        let mut jobs = jobs;
                        scope.spawn(move || {
                            let done = std::panic::catch_unwind(AssertUnwindSafe(|| {
                                train(&mut jobs, x, y, &objective, w, &tx, stop, with_hooks)
                            }))
                            .unwrap_or_else(|_| {
                                jobs.iter()
                                    .map(|_| {
                                        (
                                            Err(Error::state("a training thread panicked")),
                                            None,
                                            None,
                                        )
                                    })
                                    .collect()
                            });
                            let _ = done_tx.send((w, jobs, done));
                            let _ = tx.send(Event::Ended(w));
                        });
                        slots[w] = Some(Running {
                            trial,
                            acc,
                            started: Instant::now(),
                            end,
                            write_error: None,
                            done: None,
                        });
                    }
                }
                if slots.iter().all(Option::is_none) {
                    if tuner.others_running {
                        std::thread::sleep(std::time::Duration::from_millis(200));
                        continue;
                    }
                    break Ok(());
                }
                let w = loop {
                    let ready = next_done(&slots, deterministic, |s| s.end, |s| s.done.is_some());
                    if let Some(w) = ready {
                        break w;
                    }
                    let Ok(message) = rx.recv() else {
                        break 'search Err(Error::state("the training threads stopped"));
                    };
                    match message {
                        Event::Ended(w) => {
                            // Only `w`'s outcome: another worker's may be here before the last
                            // of its events.
                            pending.extend(done_rx.try_iter());
                            if let Some(i) = pending.iter().position(|d| d.0 == w) {
                                let (_, jobs, done) = pending.swap_remove(i);
                                if let Some(s) = slots[w].as_mut() {
                                    s.done = Some((jobs, done));
                                }
                            }
                        }
                        Event::Save(w, path, bytes) => {
                            if let Err(e) = tuner.oracle.storage_mut().write(&path, &bytes) {
                                stops[w].store(true, Ordering::SeqCst);
                                if let Some(s) = slots[w].as_mut() {
                                    s.write_error.get_or_insert(e);
                                }
                            }
                        }
                        hook => relay(
                            &mut tuner.hooks,
                            |w| slots.get(w).and_then(|s| s.as_ref()).map(|s| &s.trial),
                            hook,
                        ),
                    }
                };
                let Some(Running {
                    mut trial,
                    acc,
                    started,
                    end,
                    write_error,
                    done: Some((mut jobs, mut done)),
                }) = slots[w].take()
                else {
                    continue;
                };
                if deterministic {
                    now = end;
                }
                if let (Some(e), Some(first)) = (write_error, done.first_mut()) {
                    first.1 = Some(e);
                }
                let lost = done.iter().find_map(|d| match &d.0 {
                    Err(Error::Device(m)) => Some(m.clone()),
                    _ => None,
                });
                if let Some(m) = lost.clone().filter(|_| device != Device::Cpu) {
                    // The GPU is gone: this trial and the others on it go on on the CPU, from
                    // the resume points written while they trained there.
                    device = Device::Cpu;
                    tuner.device_label = "cpu".into();
                    tuner.device_note = Some(format!("{m}; trials continue on the CPU"));
                    tuner.say(&format!("GPU error: {m}. Retrying on the CPU."));
                }
                if lost.is_some() && !retried.contains(&trial.trial_id) {
                    retried.push(trial.trial_id.clone());
                    retry.push(trial);
                    continue;
                }
                let result = tuner.fold_jobs(&mut trial, &mut jobs, acc, done);
                if let Err(e) = tuner.end_pooled(trial, result, started.elapsed().as_secs_f64()) {
                    break 'search Err(e);
                }
            };
            // Trials still training (a fatal error, a failed storage): stop them at their next
            // epoch; the scope waits for their threads.
            if outcome.is_err() {
                for s in &stops {
                    s.store(true, Ordering::SeqCst);
                }
                tuner.stop.store(true, Ordering::SeqCst);
            }
            drop(tx);
            drop(done_tx);
            outcome
        })
    }
}
