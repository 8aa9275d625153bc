//! Trials trained together: a batch's jobs grouped by fit arguments, each group trained as
//! one (`Sequential::fit_group`: one GPU dispatch for all), on CPU threads side by side, or
//! in an [`Executor`] (the page's worker pool), with the tuner's callbacks on every epoch.

use crate::error::{Error, Result};
use crate::gpu::Device;
use crate::nn::callbacks::Callback;
use crate::nn::history::History;
use crate::nn::model::{FitArgs, Sequential};
use crate::tensor::Tensor;
use crate::tuner::callbacks::{BestEpoch, EpochSaver, HookAdapter};
use crate::tuner::executor::{ExecutionJob, Reports};
use crate::tuner::hypermodel::{FitResult, LocalFuture, Runner, SearchData, TunerHooks};
use crate::tuner::jobs::{Job, TrialAcc};
use crate::tuner::objective::ObjectiveSpec;
use crate::tuner::storage::{MemoryStorage, Storage};
use crate::tuner::trial::Trial;
use crate::tuner::tuner::Tuner;
use std::cell::RefCell;

impl Tuner {
    /// Trains the executions of a batch of trials: jobs with the same fit arguments train
    /// together (`Sequential::fit_group`: one GPU dispatch for all; on the CPU one after the
    /// other), then each trial's results, checkpoints and curves are recorded.
    pub(super) async fn run_model_trials(
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
        // A job with nothing left to train keeps the best epoch it had stored before the
        // interruption (a promotion continues from those weights, not the last epoch's).
        let mut bests: Vec<Option<(f64, Vec<Tensor>)>> = jobs
            .iter()
            .map(|job| {
                (job.args.initial_epoch >= job.args.epochs && job.prior.is_some())
                    .then(|| job.best_prior.clone())
                    .flatten()
            })
            .collect();
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
                .map(|&j| BestEpoch::new(objective.clone(), jobs[j].best_prior.clone()))
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
                .map(|&j| EpochSaver::of(&storage, &jobs[j], &objective))
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
    pub(super) async fn run_in_executor(
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
                best: BestEpoch::new(objective.clone(), job.best_prior.clone()),
                saver: EpochSaver::of(storage, job, objective),
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
                    let mut cbs: [&mut dyn Callback; 3] =
                        [&mut r.best, &mut r.saver, &mut r.adapter];
                    if let Err(e) = take_report(model, report, &mut r.history, &mut cbs) {
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
}

/// Applies an execution's epoch report (from an executor) to the tuner's copy of its model,
/// records it in `history` and runs `callbacks` on the epoch, as if it had trained in process
/// (the batch loop and the pool share it). `Err`: the report could not be applied or a callback
/// failed (the execution is then stopped).
pub(super) fn take_report(
    model: &mut Sequential,
    report: crate::tuner::executor::EpochReport,
    history: &mut History,
    callbacks: &mut [&mut dyn Callback],
) -> Result<()> {
    model.restore_weights(&report.weights)?;
    if let Some(s) = &report.state {
        model.set_training_state(s)?;
    }
    let mut logs = report.logs;
    history.record(report.epoch, &logs);
    for cb in callbacks.iter_mut() {
        cb.on_epoch_begin(report.epoch, model)?;
    }
    let mut failed = None;
    for cb in callbacks.iter_mut() {
        if let Err(e) = cb.on_epoch_end(report.epoch, &mut logs, model) {
            failed.get_or_insert(e);
        }
    }
    failed.map_or(Ok(()), Err)
}

/// Trials trained side by side on the CPU's cores (native): each execution of a batch's group
/// trains on its own thread with its own callbacks; its resume points and hook events come back
/// over a channel to this thread, which owns the storage and the hooks and handles them as they
/// come. The results equal training the executions one after the other (each keeps its own
/// seed), and the oracle sees the same batches as on the GPU.
#[cfg(not(target_arch = "wasm32"))]
pub(super) mod threads {
    use super::*;
    use crate::nn::callbacks::ModelAccess;
    use crate::nn::history::Logs;
    use crate::tuner::callbacks::SaveSink;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc::{channel, Sender};

    pub(in crate::tuner) enum Event {
        Save(usize, String, Vec<u8>),
        /// Job (or pool worker) `k` has ended (its outcome comes by other means).
        Ended(usize),
        EpochBegin(usize, usize),
        EpochEnd(usize, usize, Logs),
        BatchBegin(usize, usize),
        BatchEnd(usize, usize, Logs),
    }

    pub(in crate::tuner) struct ChannelSink<'a> {
        pub(in crate::tuner) job: usize,
        pub(in crate::tuner) tx: Sender<Event>,
        pub(in crate::tuner) stop: &'a AtomicBool,
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
    pub(in crate::tuner) struct ChannelHooks {
        pub(in crate::tuner) job: usize,
        pub(in crate::tuner) tx: Sender<Event>,
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
    pub(in crate::tuner) fn relay<'t>(
        hooks: &mut [Box<dyn TunerHooks>],
        trial_of: impl Fn(usize) -> Option<&'t Trial>,
        event: Event,
    ) {
        let k = match &event {
            Event::EpochBegin(k, _)
            | Event::EpochEnd(k, ..)
            | Event::BatchBegin(k, _)
            | Event::BatchEnd(k, ..) => *k,
            Event::Save(..) | Event::Ended(_) => return,
        };
        let Some(t) = trial_of(k) else { return };
        for h in hooks.iter_mut() {
            match &event {
                Event::EpochBegin(_, e) => h.on_epoch_begin(t, *e),
                Event::EpochEnd(_, e, logs) => h.on_epoch_end(t, *e, logs),
                Event::BatchBegin(_, b) => h.on_batch_begin(t, *b),
                Event::BatchEnd(_, b, logs) => h.on_batch_end(t, *b, logs),
                Event::Save(..) | Event::Ended(_) => {}
            }
        }
    }

    /// An execution's outcome: its result, the error storing its resume points, its best epoch.
    pub(in crate::tuner) type Done = (Result<FitResult>, Option<Error>, Option<(f64, Vec<Tensor>)>);

    /// Trains one execution on this thread with the tuner's callbacks: its best epoch, its
    /// resume points and (`with_hooks`) its hook events go to the tuner's thread over `tx` as
    /// job `k` (the batch loop's threads and the pool's share it).
    #[allow(clippy::too_many_arguments)]
    pub(in crate::tuner) fn train_job(
        job: &mut Job,
        x: &Tensor,
        y: &Tensor,
        objective: &ObjectiveSpec,
        k: usize,
        tx: &Sender<Event>,
        stop: &AtomicBool,
        with_hooks: bool,
    ) -> Done {
        let mut best = BestEpoch::new(objective.clone(), job.best_prior.clone());
        let sink = ChannelSink {
            job: k,
            tx: tx.clone(),
            stop,
        };
        let mut saver = EpochSaver::of(sink, job, objective);
        let mut relay = ChannelHooks {
            job: k,
            tx: tx.clone(),
        };
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
    }

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
                handles.push(
                    scope.spawn(move || train_job(job, x, y, &objective, k, &tx, stop, with_hooks)),
                );
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
