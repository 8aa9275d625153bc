//! The asynchronous worker pool (`schedule`): a worker that frees up takes the oracle's next
//! trial at once (threads on the CPU, an executor's futures), never waiting for a batch; in
//! the deterministic schedule the same seed and worker count give the same search, whichever
//! pool runs it, and the same trials as `tuner::simulate` with one time unit per epoch.
#![cfg(not(target_arch = "wasm32"))]

use serde_json::Value;
use std::cell::RefCell;
use std::rc::Rc;
use tunelab::data;
use tunelab::hp::HyperParameters;
use tunelab::nn::FitArgs;
use tunelab::spec::{hyper, ModelSpec};
use tunelab::tuner::simulate::{self, Outcome};
use tunelab::tuner::*;
use tunelab::{Result, Tensor};

const SPEC: &str = r#"{
  "layers": [
    {"class_name": "Dense", "config": {"units": {"hp": "Int", "name": "units", "min_value": 4, "max_value": 32, "step": 4}, "activation": "tanh"}},
    {"class_name": "Dense", "config": {"units": 1, "activation": "sigmoid"}}
  ],
  "compile": {
    "optimizer": {"class_name": "adam", "config": {"learning_rate": {"hp": "Float", "name": "lr", "min_value": 0.001, "max_value": 0.1, "sampling": "log"}}},
    "loss": "binary_crossentropy",
    "metrics": ["accuracy"]
  }
}"#;

fn data() -> (Tensor, Tensor) {
    let ds = data::builtin("spiral", 0.1, 3).unwrap();
    (ds.x, ds.y)
}

fn args() -> FitArgs {
    FitArgs {
        epochs: 9,
        batch_size: Some(32),
        verbose: 0,
        seed: Some(3),
        validation_split: 0.25,
        ..Default::default()
    }
}

fn config(schedule: Option<Schedule>, workers: usize) -> TunerConfig {
    TunerConfig {
        oracle: OracleConfig {
            objective: ObjectiveSpec::Single(Objective::parse("val_accuracy").unwrap()),
            max_trials: Some(14),
            seed: 11,
            ..Default::default()
        },
        parallel_trials: Some(workers),
        schedule,
        ..Default::default()
    }
}

fn asha(schedule: Option<Schedule>, workers: usize) -> Tuner {
    let raw: Value = serde_json::from_str(SPEC).unwrap();
    let build = move |hp: &mut HyperParameters| -> Result<tunelab::nn::Sequential> {
        ModelSpec::from_value(&hyper::resolve(&raw, hp)?)?.build(5)
    };
    Tuner::new(
        Box::new(Asha::new(9, 3).unwrap()),
        Box::new(FnHyperModel(build)),
        None,
        config(schedule, workers),
    )
    .unwrap()
}

/// Trial begins and ends in the order the tuner announced them.
#[derive(Clone, Default)]
struct Order(Rc<RefCell<Vec<(bool, String)>>>);

impl TunerHooks for Order {
    fn on_trial_begin(&mut self, trial: &Trial) {
        self.0.borrow_mut().push((true, trial.trial_id.clone()));
    }
    fn on_trial_end(&mut self, trial: &Trial) {
        self.0.borrow_mut().push((false, trial.trial_id.clone()));
    }
}

/// Whether a trial ever began right after another ended while others were still running
/// (what a batch never does: its next trials begin once all of it has ended).
fn began_while_others_ran(order: &[(bool, String)]) -> bool {
    let mut running = 0usize;
    let mut after_end = false;
    for (begin, _) in order {
        if *begin {
            if after_end && running > 0 {
                return true;
            }
            running += 1;
            after_end = false;
        } else {
            running -= 1;
            after_end = true;
        }
    }
    false
}

/// Trials without their durations and devices (which differ from run to run).
fn trials(t: &Tuner) -> Vec<Value> {
    let mut listed = t.trials_json().unwrap()["trials"]
        .as_array()
        .unwrap()
        .clone();
    for v in listed.iter_mut() {
        let o = v.as_object_mut().unwrap();
        o.remove("seconds");
        o.remove("device");
    }
    listed
}

fn search(mut t: Tuner) -> (Tuner, Vec<(bool, String)>) {
    let order = Order::default();
    t.add_hooks(Box::new(order.clone()));
    let (x, y) = data();
    t.search(&x, &y, &args()).unwrap();
    let o = order.0.borrow().clone();
    (t, o)
}

#[test]
fn asha_workers_take_trials_as_they_free_up_and_batches_wait() {
    // ASHA's own schedule is asynchronous: 3 threads, a trial begins as soon as one ends.
    let (t, order) = search(asha(None, 3));
    let listed = trials(&t);
    assert_eq!(listed.len(), 14);
    assert!(
        listed.iter().all(|t| t["status"] == "COMPLETED"),
        "{listed:#?}"
    );
    assert!(began_while_others_ran(&order), "{order:?}");
    // Asked for batches, the same tuner waits for each batch to end.
    let (t, order) = search(asha(Some(Schedule::Batches), 3));
    assert_eq!(trials(&t).len(), 14);
    assert!(!began_while_others_ran(&order), "{order:?}");
    // Every trial ran once: no configuration started twice as a new trial.
    let mut seen = std::collections::BTreeSet::new();
    for tr in &listed {
        let v = &tr["hyperparameters"];
        if v.get("tuner/trial_id").is_none() {
            assert!(seen.insert(format!("{} {}", v["units"], v["lr"])), "{tr}");
        }
    }
}

#[test]
fn the_deterministic_schedule_repeats_in_threads_and_executors_as_simulated() {
    let det = Some(Schedule::Deterministic);
    let (a, order) = search(asha(det, 3));
    let (b, _) = search(asha(det, 3));
    let want = trials(&a);
    assert_eq!(want.len(), 14);
    assert_eq!(want, trials(&b), "two deterministic searches differ");
    assert!(began_while_others_ran(&order), "{order:?}");
    // The executor's pool (the page's Web Workers) runs the same search.
    let (x, y) = data();
    let mut c = asha(det, 3);
    // What fit's validation_split leaves: the executor gets the whole data and splits it too.
    c.set_executor(Box::new(InProcessExecutor::new(ExecutionData {
        x: x.clone(),
        y: y.clone(),
        validation: None,
        probe: None,
    })));
    let (c, _) = search(c);
    assert_eq!(
        want,
        trials(&c),
        "the executor's deterministic search differs"
    );

    // The simulation, fed each trial's real score and one time unit per epoch, creates the same
    // trials in the same order.
    let scores: Vec<(String, Vec<(String, f64)>)> = a
        .oracle
        .trials()
        .unwrap()
        .iter()
        .map(|t| (t.trial_id.clone(), t.metrics.clone()))
        .collect();
    let mut oracle = Oracle::new(
        config(None, 3).oracle,
        Box::new(Asha::new(9, 3).unwrap()),
        asha(None, 3).oracle.hyperparameters.clone(),
    )
    .unwrap();
    let mut run = |t: &Trial| -> Result<Outcome> {
        let epochs = simulate::trial_epochs(t, 9);
        let metrics = scores
            .iter()
            .find(|(id, _)| *id == t.trial_id)
            .unwrap()
            .1
            .clone();
        Ok(Outcome {
            metrics,
            seconds: epochs as f64,
            epochs,
        })
    };
    let mut events =
        simulate::simulate(&mut oracle, 3, simulate::Schedule::Async, None, &mut run).unwrap();
    events.sort_by(|p, q| p.trial_id.cmp(&q.trial_id));
    let simulated: Vec<(String, Value)> = events
        .iter()
        .map(|e| (e.trial_id.clone(), serde_json::from_str(&e.values).unwrap()))
        .collect();
    let real: Vec<(String, Value)> = want
        .iter()
        .map(|t| {
            (
                t["trial_id"].as_str().unwrap().to_string(),
                t["hyperparameters"].clone(),
            )
        })
        .collect();
    assert_eq!(real, simulated);
}

#[test]
fn schedule_names_are_checked() {
    let e = tunelab::tuner::options::tuner("asha", &serde_json::json!({"schedule": "later"}))
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("schedule") && e.contains("later") && e.contains("deterministic"),
        "{e}"
    );
    let (_, c) =
        tunelab::tuner::options::tuner("random", &serde_json::json!({"schedule": "async"}))
            .unwrap();
    assert_eq!(c.schedule, Some(Schedule::Async));
}

/// A function of the trial (which runs one trial at a time) in a pool of 4 simulated workers:
/// each trial runs as its worker begins it and ends in simulated time, so the deterministic
/// search is `tuner::simulate`'s with the same function, trial for trial.
#[test]
fn a_tuned_function_in_the_deterministic_pool_is_the_simulation() {
    fn score(t: &Trial) -> Result<f64> {
        let x: f64 = t
            .hyperparameters
            .values()
            .get("x")
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0);
        let epochs = simulate::trial_epochs(t, 9) as f64;
        Ok((x - 0.3).powi(2) + 1.0 / (1.0 + epochs))
    }
    let space = || {
        let mut hp = HyperParameters::new();
        hp.float("x", -1.0, 1.0).get().unwrap();
        hp
    };
    let mut cfg = config(Some(Schedule::Deterministic), 4);
    cfg.oracle.objective = ObjectiveSpec::Single(Objective::parse("loss").unwrap());
    cfg.oracle.max_trials = Some(25);
    let mut t = Tuner::from_fn(
        Box::new(Asha::new(9, 3).unwrap()),
        |trial: &mut Trial| {
            trial.hyperparameters.float("x", -1.0, 1.0).get()?;
            Ok(FitResult::Metrics(vec![("loss".into(), score(trial)?)]))
        },
        Some(space()),
        cfg.clone(),
    )
    .unwrap();
    t.search_without_data().unwrap();
    let real: Vec<String> = t
        .oracle
        .trials()
        .unwrap()
        .iter()
        .map(|t| {
            format!(
                "{} {:?} {:?}",
                t.trial_id,
                t.hyperparameters.values(),
                t.score
            )
        })
        .collect();
    assert_eq!(real.len(), 25);
    let mut oracle = Oracle::new(cfg.oracle, Box::new(Asha::new(9, 3).unwrap()), space()).unwrap();
    let mut run = |t: &Trial| -> Result<Outcome> {
        let epochs = simulate::trial_epochs(t, 9);
        Ok(Outcome {
            metrics: vec![("loss".into(), score(t)?)],
            seconds: epochs as f64,
            epochs,
        })
    };
    let mut events =
        simulate::simulate(&mut oracle, 4, simulate::Schedule::Async, None, &mut run).unwrap();
    events.sort_by(|p, q| p.trial_id.cmp(&q.trial_id));
    let simulated: Vec<String> = oracle
        .trials()
        .unwrap()
        .iter()
        .map(|t| {
            format!(
                "{} {:?} {:?}",
                t.trial_id,
                t.hyperparameters.values(),
                t.score
            )
        })
        .collect();
    assert_eq!(events.len(), 25);
    assert_eq!(real, simulated);
}
