//! Executions trained in an executor (the page's worker pool, through bytes) give the search
//! the tuner runs in process, to the last digit: the same trial ids, hyperparameters, scores and
//! curves, for random search and Hyperband (warm starts from the parent's best epoch) with two
//! executions per trial. An executor that dies mid-trial leaves resume points from which the
//! search continues to the same result.
#![cfg(not(target_arch = "wasm32"))]

use serde_json::Value;
use std::cell::Cell;
use std::rc::Rc;
use tunelab::data;
use tunelab::hp::HyperParameters;
use tunelab::nn::FitArgs;
use tunelab::runtime::LocalFuture;
use tunelab::spec::{hyper, ModelSpec};
use tunelab::tuner::*;
use tunelab::{Result, Tensor};

const SPEC: &str = r#"{
  "layers": [
    {"class_name": "Dense", "config": {"units": {"hp": "Int", "name": "units", "min_value": 4, "max_value": 16, "step": 4}, "activation": "tanh"}},
    {"class_name": "Dropout", "config": {"rate": 0.1}},
    {"class_name": "Dense", "config": {"units": 1, "activation": "sigmoid"}}
  ],
  "compile": {
    "optimizer": {"class_name": "adam", "config": {"learning_rate": {"hp": "Float", "name": "lr", "min_value": 0.003, "max_value": 0.05, "sampling": "log"}}},
    "loss": "binary_crossentropy",
    "metrics": ["accuracy"]
  }
}"#;

struct Data {
    x: Tensor,
    y: Tensor,
    vx: Tensor,
    vy: Tensor,
}

fn spiral() -> Data {
    let ds = data::builtin("spiral", 0.1, 3).unwrap();
    let n = ds.x.shape()[0];
    let cut = n * 4 / 5;
    let w = ds.x.shape()[1];
    let part = |t: &Tensor, a: usize, b: usize, cols: usize| {
        Tensor::new(vec![b - a, cols], t.data()[a * cols..b * cols].to_vec()).unwrap()
    };
    Data {
        x: part(&ds.x, 0, cut, w),
        y: part(&ds.y, 0, cut, 1),
        vx: part(&ds.x, cut, n, w),
        vy: part(&ds.y, cut, n, 1),
    }
}

fn tuner(kind: &str, dir: Option<&std::path::Path>) -> Tuner {
    let raw: Value = serde_json::from_str(SPEC).unwrap();
    let build = move |hp: &mut HyperParameters| -> Result<tunelab::nn::Sequential> {
        ModelSpec::from_value(&hyper::resolve(&raw, hp)?)?.build(7)
    };
    let (algorithm, max_trials): (Box<dyn Algorithm>, _) = match kind {
        "hyperband" => (Box::new(Hyperband::new(6, 3, Some(1)).unwrap()), None),
        _ => (Box::new(RandomSearch), Some(4)),
    };
    let config = TunerConfig {
        oracle: OracleConfig {
            objective: ObjectiveSpec::Single(Objective::parse("val_accuracy").unwrap()),
            max_trials,
            seed: 7,
            ..Default::default()
        },
        executions_per_trial: 2,
        directory: dir.map(|d| d.to_path_buf()),
        project_name: "p".into(),
        verbose: false,
        ..Default::default()
    };
    Tuner::new(algorithm, Box::new(FnHyperModel(build)), None, config).unwrap()
}

fn args(d: &Data) -> FitArgs {
    FitArgs {
        epochs: 5,
        batch_size: Some(32),
        verbose: 0,
        seed: Some(7),
        validation_data: Some(tunelab::nn::ValidationData {
            x: d.vx.clone(),
            y: d.vy.clone(),
            sample_weight: None,
        }),
        ..Default::default()
    }
}

fn executor(d: &Data) -> InProcessExecutor {
    InProcessExecutor::new(ExecutionData {
        x: d.x.clone(),
        y: d.y.clone(),
        validation: Some((d.vx.clone(), d.vy.clone())),
        probe: None,
    })
}

/// The trials as the CLI's --json prints them, without their durations, and each trial's
/// per-execution learning curves.
fn trials(t: &Tuner) -> (Vec<Value>, Vec<String>) {
    let mut listed = t.trials_json().unwrap()["trials"]
        .as_array()
        .unwrap()
        .clone();
    for v in listed.iter_mut() {
        v.as_object_mut().unwrap().remove("seconds");
    }
    let curves = t
        .oracle
        .trials()
        .unwrap()
        .iter()
        .map(|tr| format!("{}: {:?}", tr.trial_id, tr.curves))
        .collect();
    (listed, curves)
}

#[test]
fn an_executor_gives_the_in_process_search() {
    let d = spiral();
    for kind in ["random", "hyperband"] {
        let mut local = tuner(kind, None);
        local.search(&d.x, &d.y, &args(&d)).unwrap();
        let mut remote = tuner(kind, None);
        remote.set_executor(Box::new(executor(&d)));
        remote.search(&d.x, &d.y, &args(&d)).unwrap();
        let (a, b) = (trials(&local), trials(&remote));
        assert!(a.0.len() >= 4, "{kind}: {} trials", a.0.len());
        assert_eq!(a, b, "{kind}: the executor's search differs");
        assert!(
            a.0.iter().all(|t| t["status"] == "COMPLETED"),
            "{kind}: {a:#?}"
        );
        assert!(a.1.iter().all(|c| c.contains("val_accuracy")), "{a:#?}");
    }
}

/// An executor that trains in process and, after a given number of epoch reports in all,
/// never answers again: the page's workers when the page is reloaded. The search future is then
/// dropped, as the page drops it.
struct Dying {
    inner: InProcessExecutor,
    left: Rc<Cell<usize>>,
}

impl Executor for Dying {
    fn run(&mut self, job: ExecutionJob, reports: Reports) -> LocalFuture<'static, Result<()>> {
        let left = self.left.clone();
        let relay = Reports::default();
        let inner = self.inner.run(job, relay.clone());
        Box::pin(async move {
            let r = inner.await;
            while let Some(report) = relay.take() {
                if left.get() == 0 {
                    std::future::pending::<()>().await;
                }
                left.set(left.get() - 1);
                reports.send(report);
            }
            r
        })
    }
}

#[test]
fn a_search_whose_executor_died_resumes_to_the_same_result() {
    let d = spiral();
    let mut whole = tuner("random", None);
    whole.search(&d.x, &d.y, &args(&d)).unwrap();
    let want = trials(&whole);

    let dir = tempdir("executor-resume");
    // 2 executions x 5 epochs a trial, reported execution after execution: after 23 reports
    // trials 0 and 1 are done and trial 2's first execution has stored epochs 0-2
    let mut first = tuner("random", Some(&dir));
    first.set_executor(Box::new(Dying {
        inner: executor(&d),
        left: Rc::new(Cell::new(23)),
    }));
    let a = args(&d);
    let pending = tunelab::runtime::run_ready(first.search_async(&d.x, &d.y, &a));
    assert!(
        pending.is_none(),
        "the search should wait on the dead executor"
    );
    drop(first);

    let mut second = tuner("random", Some(&dir));
    second.set_executor(Box::new(executor(&d)));
    second.search(&d.x, &d.y, &args(&d)).unwrap();
    assert!(
        second
            .output()
            .contains("Resuming trial 2, execution 1 of 2, after epoch 3 of 5"),
        "{}",
        second.output()
    );
    let got = trials(&second);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(want, got);
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("tunelab-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// An execution whose every epoch was reported (and stored) before its executor died, but which
/// was not marked done, is not trained again on resume: it keeps the best epoch's weights it
/// stored (`resume_0.best.bin`), as an uninterrupted run does, so a trial's checkpoint (what
/// a Hyperband promotion continues from) is the same, not the last epoch's weights.
#[test]
fn an_execution_stored_to_its_last_epoch_keeps_its_best_epoch_on_resume() {
    let d = spiral();
    let whole_dir = tempdir("executor-best-whole");
    let mut whole = tuner("random", Some(&whole_dir));
    whole.search(&d.x, &d.y, &args(&d)).unwrap();

    let dir = tempdir("executor-best");
    // 5 reports: trial 0's first execution has stored all 5 epochs, none marked done
    let mut first = tuner("random", Some(&dir));
    first.set_executor(Box::new(Dying {
        inner: executor(&d),
        left: Rc::new(Cell::new(5)),
    }));
    let a = args(&d);
    assert!(tunelab::runtime::run_ready(first.search_async(&d.x, &d.y, &a)).is_none());
    drop(first);
    let mut second = tuner("random", Some(&dir));
    second.set_executor(Box::new(executor(&d)));
    second.search(&d.x, &d.y, &args(&d)).unwrap();
    assert_eq!(trials(&whole), trials(&second));
    let read = |root: &std::path::Path, file: &str| {
        let bytes = std::fs::read(root.join("p").join(format!("trial_0/{file}"))).unwrap();
        tunelab::tuner::checkpoint::decode(&bytes).unwrap()
    };
    for file in ["best_0.bin", "checkpoint.bin"] {
        let (want, want_meta) = read(&whole_dir, file);
        let (got, got_meta) = read(&dir, file);
        assert!(
            got_meta["value"].as_f64().is_some_and(|v| v.is_finite()),
            "{file}: {got_meta}"
        );
        assert_eq!(want_meta["value"], got_meta["value"], "{file}");
        assert_eq!(want, got, "{file}: the weights differ");
    }
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&whole_dir);
}
