//! A search in simulated time: an oracle, a pool of workers and a function that says what a
//! trial scores and how many seconds it takes. Nothing trains and no clock is read, so the same
//! oracle, seed and worker count give the same trials at the same simulated moments (the
//! deterministic mode of asynchronous search, and what the multi-fidelity benchmark plays on
//! its learning-curve tables).
//!
//! Two ways to run the pool, as `Tuner::search` runs `parallel_trials` by its schedule:
//! [`Schedule::Async`] (or `Deterministic`), where a worker that frees up asks the oracle for a
//! trial at once (an `Idle` answer leaves it waiting for the next trial to end), and
//! [`Schedule::Batches`], where up to `workers` trials start together and the next batch starts
//! when the slowest has ended. Events are
//! ordered by time, then by worker, so ties resolve the same way every time.

use crate::error::{Error, Result};
use crate::tuner::oracle::Oracle;
use crate::tuner::trial::{Trial, TrialStatus};

/// How the simulated pool takes trials: the tuner's own [`Schedule`] (`Async` and
/// `Deterministic` are the same here, where time is always simulated).
pub use crate::tuner::Schedule;

/// What a trial did: its metrics (the objective among them), its simulated seconds and the
/// epochs it trained (what an epoch budget counts).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub metrics: Vec<(String, f64)>,
    pub seconds: f64,
    pub epochs: usize,
}

/// One trial of a simulated search.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub trial_id: String,
    pub worker: usize,
    pub start: f64,
    pub end: f64,
    /// The oracle's score (None: failed or invalid).
    pub score: Option<f64>,
    /// Epochs trained (the outcome's).
    pub epochs: usize,
    /// The trial's values as JSON.
    pub values: String,
}

/// Epochs a trial trains: `tuner/epochs - tuner/initial_epoch` (a multi-fidelity oracle's
/// schedule), or `full` for a trial without them.
pub fn trial_epochs(trial: &Trial, full: usize) -> usize {
    let v = trial.hyperparameters.values();
    let get = |k: &str| v.get(k).and_then(|x| x.as_i64());
    match get("tuner/epochs") {
        Some(e) => (e - get("tuner/initial_epoch").unwrap_or(0)).max(0) as usize,
        None => full,
    }
}

/// Runs `oracle` with `workers` simulated workers until it stops, or until the trials started
/// have trained `epoch_budget` epochs in all (the running ones then end; none starts); `run`
/// gives each trial's outcome. Returns the trials in the order they ended.
pub fn simulate(
    oracle: &mut Oracle,
    workers: usize,
    schedule: Schedule,
    epoch_budget: Option<usize>,
    run: &mut dyn FnMut(&Trial) -> Result<Outcome>,
) -> Result<Vec<Event>> {
    if workers == 0 {
        return Err(Error::invalid("workers", 0, "an integer >= 1"));
    }
    let mut now = 0.0_f64;
    let mut events = Vec::new();
    // (end, worker, start, epochs, trial)
    let mut running: Vec<(f64, usize, f64, usize, Trial)> = Vec::new();
    let mut stopped = false;
    let mut spent = 0usize;
    loop {
        // Start trials: every free worker (Async), or a new batch once all are free (Batch).
        if !stopped && (schedule != Schedule::Batches || running.is_empty()) {
            for w in 0..workers {
                if running.iter().any(|r| r.1 == w) {
                    continue;
                }
                if epoch_budget.is_some_and(|b| spent >= b) {
                    stopped = true;
                    break;
                }
                let mut trial = oracle.create_trial()?;
                match trial.status {
                    TrialStatus::Stopped => {
                        stopped = true;
                        break;
                    }
                    TrialStatus::Idle => break,
                    _ => {}
                }
                let out = run(&trial)?;
                spent += out.epochs;
                if !(out.seconds.is_finite() && out.seconds >= 0.0) {
                    return Err(Error::invalid(
                        "seconds",
                        out.seconds,
                        "a finite number >= 0 (a trial's simulated time)",
                    ));
                }
                trial.metrics = out.metrics;
                trial.seconds = out.seconds;
                running.push((now + out.seconds, w, now, out.epochs, trial));
            }
        }
        if running.is_empty() {
            // Stopped, or idle with nothing running (which no oracle should answer).
            break;
        }
        // Batch: the whole batch ends, in worker order, at its slowest trial's end.
        let ending: Vec<(f64, usize, f64, usize, Trial)> = match schedule {
            Schedule::Async | Schedule::Deterministic => {
                let mut i = 0;
                for j in 1..running.len() {
                    let (a, b) = (&running[j], &running[i]);
                    if a.0 < b.0 || (a.0 == b.0 && a.1 < b.1) {
                        i = j;
                    }
                }
                vec![running.swap_remove(i)]
            }
            Schedule::Batches => {
                let mut all = std::mem::take(&mut running);
                all.sort_by_key(|r| r.1);
                all
            }
        };
        let end = ending.iter().map(|r| r.0).fold(now, f64::max);
        now = end;
        for (end_at, worker, start, epochs, mut trial) in ending {
            trial.status = TrialStatus::Completed;
            let id = trial.trial_id.clone();
            let values = serde_json::to_string(&trial.hyperparameters.values())?;
            oracle.end_trial(trial)?;
            let entry = oracle.number_of(&id).map(|n| &oracle.entries()[n]);
            let score = entry
                .filter(|e| e.status == TrialStatus::Completed)
                .and_then(|e| e.score);
            events.push(Event {
                trial_id: id,
                worker,
                start,
                end: end_at,
                score,
                epochs,
                values,
            });
        }
    }
    Ok(events)
}
