//! One contract every search algorithm passes (values in bounds and on their grid, only
//! active hyperparameters, max_trials respected, the same seed giving the same sequence, no
//! duplicate configurations), then Hyperband's schedule on a real search, resume after a
//! crash, and the errors bad input gives.

use std::cell::Cell;
use std::rc::Rc;
use tunelab::hp::{HpKind, HyperParameters, Sampling, Value};
use tunelab::nn::*;
use tunelab::tuner::*;
use tunelab::{data, Error, Result, Tensor};

/// A space with every hp type, a log Float, and an hp conditional on a Choice.
fn space(hp: &mut HyperParameters) -> Result<f64> {
    let units = hp.int("units", 8, 64).step(8).get()?;
    let lr = hp.float("lr", 1e-4, 1e-1).sampling(Sampling::Log).get()?;
    let kind = hp.choice("kind", vec!["a".into(), "b".into()]).get()?;
    let flag = hp.boolean("flag").get()?;
    let depth = hp
        .int("depth", 1, 3)
        .parent("kind", vec!["b".into()])
        .get_active()?;
    hp.fixed("fixed", 7).get()?;
    Ok(units as f64 / 64.0
        + lr.ln().abs() / 10.0
        + flag as u8 as f64
        + depth.unwrap_or(0) as f64 * 0.1
        + if kind.as_str() == Some("a") { 0.5 } else { 0.0 })
}

type MakeAlgorithm = Box<dyn Fn() -> Box<dyn Algorithm>>;

fn algorithms() -> Vec<(&'static str, MakeAlgorithm)> {
    vec![
        (
            "random",
            Box::new(|| Box::new(RandomSearch) as Box<dyn Algorithm>),
        ),
        (
            "grid",
            Box::new(|| Box::new(GridSearch::new()) as Box<dyn Algorithm>),
        ),
        (
            "hyperband",
            Box::new(|| Box::new(Hyperband::new(9, 3, Some(1)).unwrap()) as Box<dyn Algorithm>),
        ),
        (
            "bayesian",
            Box::new(|| Box::new(BayesianOptimization::default()) as Box<dyn Algorithm>),
        ),
        // BOHB's model on every new configuration once a budget has 3 results (the defaults
        // leave a third at random and wait for hps + 2 results).
        (
            "bohb",
            Box::new(|| {
                let model = ModelSampler::new(0.0, Some(3)).unwrap();
                Box::new(Hyperband::bohb(9, 3, Some(1), model).unwrap()) as Box<dyn Algorithm>
            }),
        ),
        (
            "bohb-defaults",
            Box::new(|| {
                let model = ModelSampler::new(1.0 / 3.0, None).unwrap();
                Box::new(Hyperband::bohb(9, 3, Some(1), model).unwrap()) as Box<dyn Algorithm>
            }),
        ),
        (
            "asha",
            Box::new(|| Box::new(Asha::new(9, 3).unwrap()) as Box<dyn Algorithm>),
        ),
        (
            "asha-gp",
            Box::new(|| {
                let model = ModelSampler::new(0.0, Some(3)).unwrap();
                Box::new(Asha::new(9, 3).unwrap().with_model(model)) as Box<dyn Algorithm>
            }),
        ),
    ]
}

fn run(make: &dyn Fn() -> Box<dyn Algorithm>, seed: u64, max_trials: Option<usize>) -> Tuner {
    let mut t = Tuner::from_fn(
        make(),
        |trial: &mut Trial| Ok(FitResult::Value(space(&mut trial.hyperparameters)?)),
        None,
        TunerConfig {
            oracle: OracleConfig {
                max_trials,
                seed,
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .unwrap();
    t.search(
        &Tensor::zeros(&[1, 1]),
        &Tensor::zeros(&[1, 1]),
        &FitArgs::default(),
    )
    .unwrap();
    t
}

#[test]
fn every_oracle_keeps_the_contract() {
    for (name, make) in algorithms() {
        let t = run(make.as_ref(), 11, Some(25));
        let trials = &t.oracle.trials().unwrap();
        assert!(
            !trials.is_empty() && trials.len() <= 25,
            "{name}: {} trials",
            trials.len()
        );
        let space = &t.oracle.hyperparameters;
        let mut seen = std::collections::BTreeSet::new();
        for tr in trials {
            assert_eq!(tr.status, TrialStatus::Completed, "{name}");
            let v = tr.hyperparameters.values();
            for (k, val) in v.iter() {
                if k.starts_with("tuner/") {
                    continue;
                }
                let hp = space
                    .space()
                    .iter()
                    .find(|h| h.name == k)
                    .unwrap_or_else(|| panic!("{name}: unknown {k}"));
                assert!(
                    hp.is_active(&v),
                    "{name}: inactive {k} in trial {}",
                    tr.trial_id
                );
                match &hp.kind {
                    HpKind::Int {
                        min_value,
                        max_value,
                        ..
                    } => {
                        let i = val.as_i64().unwrap();
                        assert!(
                            *min_value <= i && i <= *max_value && i % 8 == 0 || k == "depth",
                            "{name}: {k}={i}"
                        );
                    }
                    HpKind::Float {
                        min_value,
                        max_value,
                        ..
                    } => {
                        let f = val.as_f64().unwrap();
                        assert!(*min_value <= f && f <= *max_value, "{name}: {k}={f}");
                    }
                    HpKind::Choice { values, .. } => assert!(values.contains(val), "{name}: {k}"),
                    HpKind::Fixed { value } => assert_eq!(value, val),
                    HpKind::Boolean => assert!(matches!(val, Value::Bool(_))),
                }
            }
            // depth exists exactly when kind == "b"
            assert_eq!(
                v.contains("depth"),
                v.get("kind").and_then(|k| k.as_str()) == Some("b"),
                "{name}"
            );
            // No duplicates (Hyperband's promotions repeat their parent's values on purpose).
            if !v.contains("tuner/trial_id") {
                let key: Vec<(String, String)> = v
                    .iter()
                    .filter(|(k, _)| !k.starts_with("tuner/"))
                    .map(|(k, x)| (k.to_string(), format!("{x:?}")))
                    .collect();
                assert!(
                    seen.insert(key),
                    "{name}: duplicate configuration in trial {}",
                    tr.trial_id
                );
            }
        }
        // Same seed, same sequence; another seed, another one (grid is deterministic anyway).
        let again = run(make.as_ref(), 11, Some(25));
        let vals = |t: &Tuner| -> Vec<String> {
            t.oracle
                .trials()
                .unwrap()
                .iter()
                .map(|x| format!("{}", x.hyperparameters.values()))
                .collect()
        };
        assert_eq!(vals(&t), vals(&again), "{name}");
        if name != "grid" {
            assert_ne!(vals(&t), vals(&run(make.as_ref(), 12, Some(25))), "{name}");
        }
        // max_trials is respected
        assert_eq!(
            run(make.as_ref(), 11, Some(4))
                .oracle
                .trials()
                .unwrap()
                .len(),
            4,
            "{name}"
        );
    }
}

#[test]
fn grid_search_runs_defaults_first_then_the_odometer() {
    let mut t = Tuner::from_fn(
        Box::new(GridSearch::new()),
        |trial: &mut Trial| {
            let hp = &mut trial.hyperparameters;
            let a = hp
                .choice("a", vec![Value::from(1), Value::from(2), Value::from(3)])
                .default(2)
                .get()?;
            let b = hp.boolean("b").get()?;
            Ok(FitResult::Value(a.as_f64().unwrap_or(0.0) + b as u8 as f64))
        },
        None,
        TunerConfig {
            oracle: OracleConfig {
                max_trials: None,
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .unwrap();
    t.search(
        &Tensor::zeros(&[1, 1]),
        &Tensor::zeros(&[1, 1]),
        &FitArgs::default(),
    )
    .unwrap();
    let seq: Vec<String> = t
        .oracle
        .trials()
        .unwrap()
        .iter()
        .map(|x| format!("{}", x.hyperparameters.values()))
        .collect();
    assert_eq!(
        seq,
        vec![
            "{'a': 2, 'b': False}",
            "{'a': 2, 'b': True}",
            "{'a': 1, 'b': False}",
            "{'a': 1, 'b': True}",
            "{'a': 3, 'b': False}",
            "{'a': 3, 'b': True}",
        ]
    );
}

fn xor() -> (Tensor, Tensor) {
    let ds = data::builtin("xor", 10.0, 2).unwrap();
    (ds.x, ds.y)
}

fn small_model(hp: &mut HyperParameters) -> Result<Sequential> {
    let mut m = Sequential::new();
    m.add(Dense::new(hp.int("units", 2, 16).get()? as usize).activation(Activation::Tanh));
    m.add(Dense::new(1).activation(Activation::Sigmoid));
    let lr = hp.float("lr", 1e-3, 1e-1).sampling(Sampling::Log).get()?;
    m.compile(
        Optimizer::from_name("adam")?.learning_rate(lr as f32),
        Loss::from_name("binary_crossentropy")?,
        &["accuracy"],
    )?;
    Ok(m)
}

#[test]
fn hyperband_runs_its_schedule_and_continues_parents() {
    let (x, y) = xor();
    let mut tuner = Tuner::new(
        Box::new(Hyperband::new(10, 3, Some(1)).unwrap()),
        Box::new(FnHyperModel(small_model)),
        None,
        TunerConfig {
            oracle: OracleConfig {
                objective: ObjectiveSpec::Single(Objective::parse("val_accuracy").unwrap()),
                max_trials: None,
                seed: 5,
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .unwrap();
    let args = FitArgs {
        validation_split: 0.25,
        verbose: 0,
        batch_size: Some(50),
        ..Default::default()
    };
    tuner.search(&x, &y, &args).unwrap();
    let trials = &tuner.oracle.trials().unwrap();
    assert_eq!(trials.len(), 30, "max_epochs 10, factor 3: 30 trials");
    assert_eq!(trials[0].trial_id, "0000");
    let get = |t: &Trial, k: &str| t.hyperparameters.values().get(k).cloned();
    let sched: Vec<(i64, i64, i64, i64)> = trials
        .iter()
        .map(|t| {
            let i = |k: &str| get(t, k).and_then(|v| v.as_i64()).unwrap();
            (
                i("tuner/bracket"),
                i("tuner/round"),
                i("tuner/epochs"),
                i("tuner/initial_epoch"),
            )
        })
        .collect();
    let mut expected = Vec::new();
    for (b, rounds) in [
        (2, vec![(12, 2, 0), (4, 4, 2), (2, 10, 4)]),
        (1, vec![(6, 4, 0), (2, 10, 4)]),
        (0, vec![(4, 10, 0)]),
    ] {
        for (r, (n, e, ie)) in rounds.into_iter().enumerate() {
            for _ in 0..n {
                expected.push((b, r as i64, e, ie));
            }
        }
    }
    assert_eq!(sched, expected);
    for t in trials {
        assert_eq!(t.status, TrialStatus::Completed, "{:?}", t.message);
        let curve = &t.curves[0];
        let epochs = curve.iter().find(|(k, _)| k == "loss").unwrap().1.len() as i64;
        let e = get(t, "tuner/epochs").unwrap().as_i64().unwrap();
        let ie = get(t, "tuner/initial_epoch").unwrap().as_i64().unwrap();
        assert_eq!(
            epochs,
            e - ie,
            "trial {} trains from initial_epoch to epochs",
            t.trial_id
        );
        if let Some(Value::Str(parent)) = get(t, "tuner/trial_id") {
            let p = tuner.oracle.trial(&parent).unwrap().unwrap();
            for k in ["units", "lr"] {
                assert_eq!(
                    get(&p, k),
                    get(t, k),
                    "a promotion keeps its parent's values"
                );
            }
            assert_eq!(get(&p, "tuner/epochs").unwrap().as_i64().unwrap(), ie);
            // The child starts from the parent's best-epoch weights: its first epoch's loss is
            // far below a fresh model's.
            let first = curve.iter().find(|(k, _)| k == "loss").unwrap().1[0];
            let p_first = p.curves[0].iter().find(|(k, _)| k == "loss").unwrap().1[0];
            assert!(
                first < p_first,
                "trial {}: {first} vs parent's first {p_first}",
                t.trial_id
            );
        }
    }
}

fn resume_config(dir: &std::path::Path, max_trials: usize, overwrite: bool) -> TunerConfig {
    TunerConfig {
        oracle: OracleConfig {
            objective: ObjectiveSpec::Single(Objective::parse("val_loss").unwrap()),
            max_trials: Some(max_trials),
            seed: 9,
            ..Default::default()
        },
        directory: Some(dir.to_path_buf()),
        project_name: "resume".into(),
        overwrite,
        executions_per_trial: 2,
        ..Default::default()
    }
}

/// Builds the small model, panicking (a stand-in for kill -9) at one chosen moment.
struct Crashy {
    crash_at: Rc<Cell<Option<(usize, usize)>>>,
    builds: usize,
}

impl HyperModel for Crashy {
    fn build(&mut self, hp: &mut HyperParameters) -> Result<Sequential> {
        self.builds += 1;
        small_model(hp)
    }
    fn fit(
        &mut self,
        _hp: &mut HyperParameters,
        model: &mut Sequential,
        data: &SearchData<'_>,
        args: &FitArgs,
        cbs: &mut [&mut dyn Callback],
    ) -> Result<FitResult> {
        struct Bomb(Rc<Cell<Option<(usize, usize)>>>, usize);
        impl Callback for Bomb {
            fn on_epoch_end(
                &mut self,
                epoch: usize,
                _l: &mut Logs,
                _m: &mut dyn ModelAccess,
            ) -> Result<()> {
                if self.0.get() == Some((self.1, epoch)) {
                    self.0.set(None);
                    panic!("simulated crash");
                }
                Ok(())
            }
        }
        let mut bomb = Bomb(self.crash_at.clone(), self.builds);
        let mut all: Vec<&mut dyn Callback> = Vec::new();
        for c in cbs.iter_mut() {
            all.push(&mut **c);
        }
        all.push(&mut bomb);
        Ok(FitResult::History(
            model.fit(data.x, data.y, args, &mut all)?,
        ))
    }
}

#[test]
fn a_crashed_search_resumes_to_the_same_trials() {
    let (x, y) = xor();
    let args = FitArgs {
        epochs: 6,
        validation_split: 0.25,
        verbose: 0,
        batch_size: Some(40),
        ..Default::default()
    };
    let base = std::env::temp_dir().join(format!("tunelab-resume-{}", std::process::id()));
    let never = Rc::new(Cell::new(None));

    // Uninterrupted reference run.
    let ref_dir = base.join("ref");
    let mut r = Tuner::new(
        Box::new(RandomSearch),
        Box::new(Crashy {
            crash_at: never.clone(),
            builds: 0,
        }),
        None,
        resume_config(&ref_dir, 6, true),
    )
    .unwrap();
    r.search(&x, &y, &args).unwrap();
    let reference: Vec<(String, String, Option<f64>)> = r
        .oracle
        .trials()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t.trial_id.clone(),
                format!("{}", t.hyperparameters.values()),
                t.score,
            )
        })
        .collect();

    // Stop after 2 trials, then crash in the middle of the third trial's second execution
    // (build 3, counting the tuner's first build of the space; after epoch 3), then resume.
    let dir = base.join("run");
    let mut a = Tuner::new(
        Box::new(RandomSearch),
        Box::new(Crashy {
            crash_at: never.clone(),
            builds: 0,
        }),
        None,
        resume_config(&dir, 2, true),
    )
    .unwrap();
    a.search(&x, &y, &args).unwrap();
    assert_eq!(a.oracle.trial_count(), 2);
    drop(a);
    let crash = Rc::new(Cell::new(Some((3, 3))));
    let mut b = Tuner::new(
        Box::new(RandomSearch),
        Box::new(Crashy {
            crash_at: crash.clone(),
            builds: 0,
        }),
        None,
        resume_config(&dir, 6, false),
    )
    .unwrap();
    let outcome =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| b.search(&x, &y, &args)));
    assert!(outcome.is_err(), "the simulated crash happened");
    drop(b);
    let mut c = Tuner::new(
        Box::new(RandomSearch),
        Box::new(Crashy {
            crash_at: never,
            builds: 0,
        }),
        None,
        resume_config(&dir, 6, false),
    )
    .unwrap();
    assert_eq!(
        c.oracle.trial_count(),
        3,
        "the interrupted trial is still there"
    );
    assert_eq!(c.oracle.trials().unwrap()[2].status, TrialStatus::Running);
    c.search(&x, &y, &args).unwrap();
    let resumed: Vec<(String, String, Option<f64>)> = c
        .oracle
        .trials()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t.trial_id.clone(),
                format!("{}", t.hyperparameters.values()),
                t.score,
            )
        })
        .collect();
    assert_eq!(
        resumed, reference,
        "same trials, same numbering, same scores"
    );
    // The interrupted trial continued: its second execution's curve covers all 6 epochs.
    let t2 = &c.oracle.trials().unwrap()[2];
    assert_eq!(t2.curves.len(), 2);
    assert!(t2
        .curves
        .iter()
        .all(|cv| cv.iter().find(|(k, _)| k == "loss").unwrap().1.len() == 6));
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn bad_input_is_a_clear_error() {
    let e = |r: Result<i64>| r.unwrap_err().to_string();
    let mut hp = HyperParameters::new();
    let m = e(hp.int("units", 64, 32).get());
    assert!(m.contains("units") && m.contains("min_value"), "{m}");
    let m = hp
        .float("lr", 0.0, 1.0)
        .sampling(Sampling::Log)
        .get()
        .unwrap_err()
        .to_string();
    assert!(
        m.contains("lr") && m.contains("min_value") && m.contains("> 0"),
        "{m}"
    );
    let m = hp
        .choice("mixed", vec![Value::from(1), Value::from("a")])
        .get()
        .unwrap_err()
        .to_string();
    assert!(m.contains("mixed"), "{m}");
    let m = hp
        .choice("c", vec![Value::from("a")])
        .default("z")
        .get()
        .unwrap_err()
        .to_string();
    assert!(m.contains("default") && m.contains("'z'"), "{m}");
    let m = hp
        .conditional_scope("nope", vec![Value::from(1)], |h| h.int("x", 1, 2).get())
        .unwrap_err()
        .to_string();
    assert_eq!(m, "`HyperParameter` named: nope not defined.");
    let m = tunelab::spec::hyper::resolve(
        &serde_json::json!({"layers": [{"class_name": "Dense", "config": {"units": {"hp": "Integer", "name": "u"}}}]}),
        &mut HyperParameters::new(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        m.contains("unknown hyperparameter type `Integer`")
            && m.contains("Int, Float, Choice, Boolean, Fixed"),
        "{m}"
    );

    // An objective the model never logs fails each trial with a message saying so, and the
    // search stops after max_consecutive_failed_trials with KerasTuner's text.
    let (x, y) = xor();
    let mut t = Tuner::new(
        Box::new(RandomSearch),
        Box::new(FnHyperModel(small_model)),
        None,
        TunerConfig {
            oracle: OracleConfig {
                objective: ObjectiveSpec::Single(Objective::parse("val_auc").unwrap()),
                max_trials: Some(10),
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .unwrap();
    let err = t
        .search(
            &x,
            &y,
            &FitArgs {
                validation_split: 0.2,
                verbose: 0,
                ..Default::default()
            },
        )
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("Number of consecutive failures exceeded the limit of 3.\n"),
        "{msg}"
    );
    assert!(
        msg.contains("val_auc") && msg.contains("val_accuracy"),
        "{msg}"
    );
    assert_eq!(t.oracle.trial_count(), 3);
    assert!(t
        .oracle
        .trials()
        .unwrap()
        .iter()
        .all(|t| t.status == TrialStatus::Failed));
    assert!(matches!(err, Error::State(_)));
}

#[test]
fn oversized_models_and_retries() {
    let (x, y) = xor();
    let calls = Rc::new(Cell::new(0));
    let c2 = calls.clone();
    let mut t = Tuner::new(
        Box::new(RandomSearch),
        Box::new(FnHyperModel(move |hp: &mut HyperParameters| {
            c2.set(c2.get() + 1);
            let m = small_model(hp)?;
            if c2.get() == 3 {
                return Err(Error::data("flaky build"));
            }
            Ok(m)
        })),
        None,
        TunerConfig {
            oracle: OracleConfig {
                objective: ObjectiveSpec::Single(Objective::parse("loss").unwrap()),
                max_trials: Some(3),
                max_retries_per_trial: 1,
                ..Default::default()
            },
            max_model_size: Some(40),
            ..Default::default()
        },
    )
    .unwrap();
    t.search(
        &x,
        &y,
        &FitArgs {
            verbose: 0,
            ..Default::default()
        },
    )
    .unwrap();
    for tr in &t.oracle.trials().unwrap() {
        let units = tr
            .hyperparameters
            .values()
            .get("units")
            .unwrap()
            .as_i64()
            .unwrap();
        let params = 2 * units + units + units + 1;
        if params > 40 {
            assert_eq!(tr.status, TrialStatus::Failed);
            assert_eq!(
                tr.message.as_deref(),
                Some(format!("Oversized model: {params} parameters. Skip model.").as_str())
            );
        } else {
            assert_eq!(tr.status, TrialStatus::Completed, "{:?}", tr.message);
        }
    }
}

/// The Bayesian settings from the options table (the CLI's flags, the npm package's and the
/// page's options): `acquisition: "lcb"` makes `beta` count; `beta` with expected improvement,
/// which has no use for it, is refused rather than dropped.
#[test]
fn bayesian_acquisition_and_beta_are_honoured_or_refused() {
    let search = |opts: serde_json::Value| -> Vec<String> {
        let (algorithm, mut config) = options::tuner("bayesian", &opts).unwrap();
        config.oracle.seed = 3;
        let mut t = Tuner::from_fn(
            algorithm,
            |trial: &mut Trial| {
                let x = trial.hyperparameters.float("x", -3.0, 3.0).get()?;
                Ok(FitResult::Value((x - 1.0).powi(2)))
            },
            None,
            config,
        )
        .unwrap();
        t.search(
            &Tensor::zeros(&[1, 1]),
            &Tensor::zeros(&[1, 1]),
            &FitArgs::default(),
        )
        .unwrap();
        t.oracle
            .trials()
            .unwrap()
            .iter()
            .map(|t| format!("{:?}", t.hyperparameters.values().get("x")))
            .collect()
    };
    let base = serde_json::json!({"max_trials": 8, "num_initial_points": 2});
    let with = |extra: serde_json::Value| {
        let mut o = base.clone();
        o.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        o
    };
    let ei = search(with(serde_json::json!({})));
    let lcb_low = search(with(serde_json::json!({"acquisition": "lcb", "beta": 0.0})));
    let lcb_high = search(with(
        serde_json::json!({"acquisition": "lcb", "beta": 50.0}),
    ));
    // The two random initial points are the same; the proposals after them differ.
    assert_eq!(ei[..2], lcb_low[..2]);
    assert_ne!(ei[2..], lcb_low[2..], "lcb behaves as ei");
    assert_ne!(lcb_low[2..], lcb_high[2..], "beta has no effect");
    let err = options::tuner("bayesian", &with(serde_json::json!({"beta": 3.0})))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("beta") && err.contains("lcb"), "{err}");
    let err = options::tuner("bayesian", &with(serde_json::json!({"acquisition": "pi"})))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("acquisition") && err.contains("pi") && err.contains("lcb"),
        "{err}"
    );
}

/// A stand-in for training on a learning curve: the score after `epochs` epochs of a
/// configuration (lower is better), best at units 64 and lr 1e-2, approaching its limit as the
/// epochs grow; each epoch costs time in proportion to the units.
fn curve(values: &tunelab::hp::Values, epochs: i64) -> (f64, f64) {
    let units = values.get("units").and_then(|v| v.as_f64()).unwrap_or(8.0);
    let lr = values.get("lr").and_then(|v| v.as_f64()).unwrap_or(1e-3);
    let limit = ((units - 64.0) / 64.0).powi(2) + (lr.log10() + 2.0).powi(2) / 4.0;
    (limit + 1.0 / epochs as f64, units / 64.0)
}

fn mf_space() -> HyperParameters {
    let mut hp = HyperParameters::new();
    hp.int("units", 8, 128).step(8).get().unwrap();
    hp.float("lr", 1e-4, 1e-1)
        .sampling(Sampling::Log)
        .get()
        .unwrap();
    hp.boolean("flag").get().unwrap();
    hp
}

/// Plays `algorithm` on [`curve`] with `workers` simulated workers.
fn simulated(
    algorithm: Box<dyn Algorithm>,
    seed: u64,
    workers: usize,
    schedule: simulate::Schedule,
    max_trials: Option<usize>,
) -> Vec<simulate::Event> {
    let config = OracleConfig {
        max_trials,
        seed,
        ..Default::default()
    };
    let mut oracle = Oracle::new(config, algorithm, mf_space()).unwrap();
    simulate::simulate(&mut oracle, workers, schedule, None, &mut |t: &Trial| {
        let v = t.hyperparameters.values();
        let get = |k: &str| v.get(k).and_then(|x| x.as_i64()).unwrap_or(0);
        let (score, per_epoch) = curve(&v, get("tuner/epochs"));
        let epochs = simulate::trial_epochs(t, 27);
        Ok(simulate::Outcome {
            metrics: vec![("default_objective".into(), score)],
            seconds: per_epoch * epochs as f64,
            epochs,
        })
    })
    .unwrap()
}

/// ASHA in simulated time: the same seed and worker count give the same trials at the same
/// moments; no worker ever waits (each starts its next trial when its last one ends); the
/// rungs' promotions are the top third of what had ended; and with 4 workers it ends the same
/// number of epochs sooner than Hyperband in batches (Tuner::search's parallel_trials).
#[test]
fn asha_is_deterministic_in_simulated_time_and_never_waits() {
    let asha = || Box::new(Asha::new(27, 3).unwrap()) as Box<dyn Algorithm>;
    let a = simulated(asha(), 5, 4, simulate::Schedule::Async, Some(120));
    let b = simulated(asha(), 5, 4, simulate::Schedule::Async, Some(120));
    assert_eq!(a, b, "same seed, same workers, same search");
    assert_eq!(a.len(), 120);
    assert_ne!(
        a,
        simulated(asha(), 6, 4, simulate::Schedule::Async, Some(120))
    );
    let three = simulated(asha(), 5, 3, simulate::Schedule::Async, Some(120));
    assert_ne!(
        a.iter().map(|e| e.end).collect::<Vec<_>>(),
        three.iter().map(|e| e.end).collect::<Vec<_>>()
    );
    // Never waiting: per worker, each trial starts when the previous one ended.
    for w in 0..4 {
        let mut mine: Vec<&simulate::Event> = a.iter().filter(|e| e.worker == w).collect();
        mine.sort_by(|x, y| x.start.total_cmp(&y.start));
        assert_eq!(mine[0].start, 0.0);
        for pair in mine.windows(2) {
            assert_eq!(pair[1].start, pair[0].end, "worker {w} waited");
        }
    }
    // Promotions: to the next rung's epochs, from a parent that had ended by then and was in
    // the top third of its rung's results at that moment.
    let by_id: std::collections::BTreeMap<&str, &simulate::Event> =
        a.iter().map(|e| (e.trial_id.as_str(), e)).collect();
    let values =
        |e: &simulate::Event| -> serde_json::Value { serde_json::from_str(&e.values).unwrap() };
    let mut promotions = 0;
    for e in &a {
        let v = values(e);
        let Some(parent) = v["tuner/trial_id"].as_str() else {
            assert_eq!(v["tuner/epochs"], 1);
            continue;
        };
        promotions += 1;
        let p = by_id[parent];
        assert!(
            p.end <= e.start,
            "trial {} promoted {parent} before it ended",
            e.trial_id
        );
        let pv = values(p);
        assert_eq!(v["tuner/initial_epoch"], pv["tuner/epochs"]);
        assert_eq!(
            v["tuner/epochs"].as_i64().unwrap(),
            3 * pv["tuner/epochs"].as_i64().unwrap()
        );
        let rung: Vec<f64> = a
            .iter()
            .filter(|o| o.end <= e.start && values(o)["tuner/round"] == pv["tuner/round"])
            .filter_map(|o| o.score)
            .collect();
        let better = rung.iter().filter(|s| **s < p.score.unwrap()).count();
        assert!(
            better < rung.len() / 3,
            "{parent} was not in the top third of {} results",
            rung.len()
        );
    }
    assert!(promotions >= 20, "{promotions} promotions");
    // Hyperband in batches of 4 (each batch waits for its slowest trial, and for its round)
    // against ASHA with 4 free workers: the same epochs, spent in less simulated time.
    let hb = simulated(
        Box::new(Hyperband::new(27, 3, Some(1)).unwrap()),
        5,
        4,
        simulate::Schedule::Batches,
        None,
    );
    let epochs = |ev: &[simulate::Event]| ev.iter().map(|e| e.epochs).sum::<usize>();
    let span = |ev: &[simulate::Event]| ev.iter().map(|e| e.end).fold(0.0, f64::max);
    let asha_same = simulated(asha(), 5, 4, simulate::Schedule::Async, Some(hb.len()));
    let rate = |ev: &[simulate::Event]| epochs(ev) as f64 / span(ev);
    assert!(
        rate(&asha_same) > 1.2 * rate(&hb),
        "ASHA {} epochs in {:.1} s, Hyperband {} in {:.1} s",
        epochs(&asha_same),
        span(&asha_same),
        epochs(&hb),
        span(&hb)
    );
}

/// BOHB against Hyperband on the same schedule: once a budget has results, new configurations
/// come from the model, and the later brackets' first rounds score better on average, over
/// every one of 5 seeds.
#[test]
fn bohb_proposes_better_configurations_than_hyperband() {
    let first_rounds = |algorithm: Box<dyn Algorithm>, seed: u64| -> f64 {
        let ev = simulated(algorithm, seed, 1, simulate::Schedule::Async, None);
        // Brackets after the first (trials after the first bracket's 9 + 3 + 1 + 0).
        let scores: Vec<f64> = ev
            .iter()
            .skip(40)
            .filter(|e| !e.values.contains("tuner/trial_id"))
            .filter_map(|e| {
                let v: serde_json::Value = serde_json::from_str(&e.values).ok()?;
                let units = v["units"].as_f64()?;
                let lr = v["lr"].as_f64()?;
                Some(((units - 64.0) / 64.0).powi(2) + (lr.log10() + 2.0).powi(2) / 4.0)
            })
            .collect();
        assert!(scores.len() >= 10, "{} new configurations", scores.len());
        scores.iter().sum::<f64>() / scores.len() as f64
    };
    for seed in 0..5 {
        let hb = first_rounds(Box::new(Hyperband::new(27, 3, Some(2)).unwrap()), seed);
        let model = ModelSampler::new(1.0 / 3.0, None).unwrap();
        let bohb = first_rounds(
            Box::new(Hyperband::bohb(27, 3, Some(2), model).unwrap()),
            seed,
        );
        assert!(
            bohb < 0.7 * hb,
            "seed {seed}: BOHB's new configurations {bohb:.3}, Hyperband's {hb:.3}"
        );
    }
}

/// The new tuners from the options table (the CLI's flags, the npm package's and the page's
/// options), and their errors.
#[test]
fn bohb_and_asha_options_are_read_or_refused() {
    let (a, c) = options::tuner("bohb", &serde_json::json!({"max_epochs": 9})).unwrap();
    assert_eq!(a.name(), "BOHB");
    assert_eq!(c.oracle.max_trials, None);
    let (a, c) = options::tuner("ASHA", &serde_json::json!({"model": "gp"})).unwrap();
    assert_eq!(a.name(), "ASHA");
    assert_eq!(c.oracle.max_trials, Some(100));
    let err = |kind: &str, v: serde_json::Value| -> String {
        options::tuner(kind, &v).err().unwrap().to_string()
    };
    let e = err("bohb", serde_json::json!({"random_fraction": 1.5}));
    assert!(
        e.contains("random_fraction") && e.contains("1.5") && e.contains("from 0 to 1"),
        "{e}"
    );
    let e = err("bohb", serde_json::json!({"min_points_in_model": 1}));
    assert!(
        e.contains("min_points_in_model") && e.contains(">= 2"),
        "{e}"
    );
    let e = err("asha", serde_json::json!({"model": "tpe"}));
    assert!(
        e.contains("model") && e.contains("tpe") && e.contains("\"gp\""),
        "{e}"
    );
    let e = err("asha", serde_json::json!({"random_fraction": 0.5}));
    assert!(
        e.contains("random_fraction") && e.contains("only with model \"gp\""),
        "{e}"
    );
    let e = err("asha", serde_json::json!({"factor": 1}));
    assert!(e.contains("factor") && e.contains(">= 2"), "{e}");
    let e = err("asha", serde_json::json!({"hyperband_iterations": 2}));
    assert!(e.contains("hyperband_iterations"), "{e}");
    // A project started with one algorithm is not continued by another.
    assert_eq!(options::tuner_kind("bohb").unwrap(), "BOHB");
    assert_eq!(options::tuner_kind("asha").unwrap(), "ASHA");
}
