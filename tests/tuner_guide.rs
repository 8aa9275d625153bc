//! The KerasTuner getting-started guide, example by example, on small data (the built-in
//! digits and random regression data): search spaces and their summary text, RandomSearch
//! with executions per trial, results_summary, retraining with the best hyperparameters,
//! hypermodels with a tuned fit, the four kinds of objective, tuning any function, and keeping
//! the model code separate.

use std::rc::Rc;
use tunelab::data;
use tunelab::hp::{HyperParameters, Sampling, Value};
use tunelab::nn::metrics::MeanMetricWrapper;
use tunelab::nn::*;
use tunelab::tuner::*;
use tunelab::{Error, Result, Tensor};

/// Digits, one-hot, split 80/20 in the built-in fixed order.
fn digits() -> (Tensor, Tensor, Tensor, Tensor) {
    let ds = data::builtin("digits", 0.0, 0).unwrap();
    let y = data::one_hot(&ds.y, Some(10)).unwrap();
    let full = data::Dataset::new(ds.x, y).unwrap();
    let (train, val) = data::split_validation(&full, 0.2).unwrap();
    (train.x, train.y, val.x, val.y)
}

fn config(max_trials: usize, objective: ObjectiveSpec) -> TunerConfig {
    TunerConfig {
        oracle: OracleConfig {
            objective,
            max_trials: Some(max_trials),
            seed: 1,
            ..Default::default()
        },
        ..Default::default()
    }
}

fn val_accuracy() -> ObjectiveSpec {
    ObjectiveSpec::Single(Objective::parse("val_accuracy").unwrap())
}

/// The guide's `build_model` with a tunable number of layers.
fn build_model(hp: &mut HyperParameters) -> Result<Sequential> {
    let mut model = Sequential::new();
    model.add(flatten());
    for i in 0..hp.int("num_layers", 1, 3).get()? {
        let units = hp.int(&format!("units_{i}"), 32, 512).step(32).get()?;
        let act = hp
            .choice("activation", vec!["relu".into(), "tanh".into()])
            .get()?;
        model.add(
            Dense::new(units as usize)
                .activation(Activation::parse(act.as_str().unwrap_or("relu"))?),
        );
    }
    if hp.boolean("dropout").get()? {
        model.add(Dropout::new(0.25));
    }
    model.add(Dense::new(10).activation(Activation::Softmax));
    let lr = hp.float("lr", 1e-4, 1e-2).sampling(Sampling::Log).get()?;
    model.compile(
        Optimizer::from_name("adam")?.learning_rate(lr as f32),
        Loss::from_name("categorical_crossentropy")?,
        &["accuracy"],
    )?;
    Ok(model)
}

fn fit_args(x_val: &Tensor, y_val: &Tensor, epochs: usize) -> FitArgs {
    FitArgs {
        epochs,
        verbose: 0,
        validation_data: Some(ValidationData {
            x: x_val.clone(),
            y: y_val.clone(),
            sample_weight: None,
        }),
        ..Default::default()
    }
}

#[test]
fn first_call_returns_the_default() {
    let mut hp = HyperParameters::new();
    assert_eq!(hp.int("units", 32, 512).step(32).get().unwrap(), 32);
}

#[test]
fn search_space_summary_matches_the_guide() {
    let tuner = Tuner::new(
        Box::new(RandomSearch),
        Box::new(FnHyperModel(build_model)),
        None,
        config(3, val_accuracy()),
    )
    .unwrap();
    assert_eq!(
        tuner.search_space_summary(),
        "Search space summary\nDefault search space size: 5\nnum_layers (Int)\n{'default': None, 'conditions': [], 'min_value': 1, 'max_value': 3, 'step': 1, 'sampling': 'linear'}\nunits_0 (Int)\n{'default': None, 'conditions': [], 'min_value': 32, 'max_value': 512, 'step': 32, 'sampling': 'linear'}\nactivation (Choice)\n{'default': 'relu', 'conditions': [], 'values': ['relu', 'tanh'], 'ordered': False}\ndropout (Boolean)\n{'default': False, 'conditions': []}\nlr (Float)\n{'default': 0.0001, 'conditions': [], 'min_value': 0.0001, 'max_value': 0.01, 'step': None, 'sampling': 'log'}\n"
    );
}

#[test]
fn random_search_with_executions_results_summary_and_retraining() {
    let (x, y, xv, yv) = digits();
    let mut cfg = config(3, val_accuracy());
    cfg.executions_per_trial = 2;
    cfg.project_name = "helloworld".into();
    let mut tuner = Tuner::new(
        Box::new(RandomSearch),
        Box::new(FnHyperModel(build_model)),
        None,
        cfg,
    )
    .unwrap();
    tuner.search(&x, &y, &fit_args(&xv, &yv, 2)).unwrap();

    let trials = &tuner.oracle.trials().unwrap();
    assert_eq!(trials.len(), 3);
    for t in trials {
        assert_eq!(t.status, TrialStatus::Completed, "{:?}", t.message);
        assert_eq!(t.curves.len(), 2, "two executions");
        // score = mean over executions of each execution's best val_accuracy
        let best_of = |c: &Vec<(String, Vec<f64>)>| {
            let v = &c.iter().find(|(k, _)| k == "val_accuracy").unwrap().1;
            v.iter().cloned().fold(f64::MIN, f64::max)
        };
        let mean = (best_of(&t.curves[0]) + best_of(&t.curves[1])) / 2.0;
        assert!(
            (t.score.unwrap() - mean).abs() < 1e-9,
            "{} vs {mean}",
            t.score.unwrap()
        );
        // only the hps this trial's model used are listed
        let n = t
            .hyperparameters
            .values()
            .get("num_layers")
            .unwrap()
            .as_i64()
            .unwrap();
        for i in 0..3 {
            assert_eq!(
                t.used_values().contains(&format!("units_{i}")),
                i < n,
                "trial {}",
                t.trial_id
            );
        }
    }
    let out = tuner.output();
    assert!(
        out.contains(
            "\nSearch: Running Trial #1\n\nValue             |Best Value So Far |Hyperparameter\n"
        ),
        "{out}"
    );
    assert!(out.contains("Trial 3 Complete [00h 00m 0"), "{out}");
    assert!(out.contains("\nBest val_accuracy So Far: "), "{out}");

    let summary = tuner.results_summary(10).unwrap();
    assert!(summary.starts_with(
        "Results summary\nResults in (memory)\nShowing 10 best trials\nObjective(name=\"val_accuracy\", direction=\"max\")\n\nTrial "
    ), "{summary}");
    let best: Vec<Trial> = tuner.get_best_trials(3).unwrap();
    assert!(best[0].score >= best[1].score && best[1].score >= best[2].score);
    assert!(summary.contains(&format!(
        "Score: {}\n",
        tunelab::hp::py_float(best[0].score.unwrap())
    )));
    assert!(best[0].score.unwrap() > 0.5);

    // The best models come back with their best-epoch weights.
    let models = tuner.get_best_models(2).unwrap();
    assert_eq!(models.len(), 2);
    let mut m0 = models.into_iter().next().unwrap();
    let Evaluation::Dict(d) = m0.evaluate(&xv, &yv, None, None, true).unwrap() else {
        panic!()
    };
    let acc = d.get("accuracy").unwrap() as f64;
    let best_epoch_accs: Vec<f64> = best[0]
        .curves
        .iter()
        .map(|c| {
            c.iter()
                .find(|(k, _)| k == "val_accuracy")
                .unwrap()
                .1
                .iter()
                .cloned()
                .fold(f64::MIN, f64::max)
        })
        .collect();
    assert!(
        best_epoch_accs.iter().any(|b| (b - acc).abs() < 1e-6),
        "{acc} vs {best_epoch_accs:?}"
    );

    // Retrain the best configuration on all the data.
    let mut best_hps = tuner.get_best_hyperparameters(1).unwrap().remove(0);
    let mut model = build_model(&mut best_hps).unwrap();
    let all = data::builtin("digits", 0.0, 0).unwrap();
    let h = model
        .fit(
            &all.x,
            &data::one_hot(&all.y, Some(10)).unwrap(),
            &FitArgs {
                epochs: 1,
                verbose: 0,
                ..Default::default()
            },
            &mut [],
        )
        .unwrap();
    assert_eq!(h.epoch, vec![0]);
}

/// The guide's hypermodel with a tuned fit: shuffle, normalisation and an image size shared
/// between build and fit (crop of the 8x8 digits).
struct MyHyperModel;

fn crop(x: &Tensor, side: usize) -> Tensor {
    let n = x.rows();
    let mut out = Vec::with_capacity(n * side * side);
    for i in 0..n {
        let row = x.row(i);
        for r in 0..side {
            out.extend_from_slice(&row[r * 8..r * 8 + side]);
        }
    }
    Tensor::new(vec![n, side, side], out).unwrap()
}

impl HyperModel for MyHyperModel {
    fn build(&mut self, hp: &mut HyperParameters) -> Result<Sequential> {
        let side = hp.int("image_size", 4, 8).get()? as usize;
        let mut model = Sequential::new().input_shape(&[side, side]);
        model.add(flatten());
        model.add(
            Dense::new(hp.int("units", 32, 512).step(32).get()? as usize)
                .activation(Activation::Relu),
        );
        model.add(Dense::new(10).activation(Activation::Softmax));
        model.compile(
            Optimizer::from_name("adam")?,
            Loss::from_name("categorical_crossentropy")?,
            &["accuracy"],
        )?;
        Ok(model)
    }

    fn fit(
        &mut self,
        hp: &mut HyperParameters,
        model: &mut Sequential,
        data: &SearchData<'_>,
        args: &FitArgs,
        callbacks: &mut [&mut dyn Callback],
    ) -> Result<FitResult> {
        let side = hp.get("image_size")?.as_i64().unwrap_or(8) as usize;
        let normalize = hp.boolean("normalize").get()?;
        let mut x = crop(data.x, side);
        // The guide's `x = layers.Normalization()(x)`: the layer adapts on the training rows;
        // the validation rows get the same statistics (the guide leaves them raw).
        let mut norm = Normalization::new();
        if normalize {
            x = norm.call(&x)?;
        }
        let mut args = args.clone();
        args.shuffle = hp.boolean("shuffle").get()?;
        if let Some(v) = &mut args.validation_data {
            v.x = crop(&v.x, side);
            if normalize {
                v.x = norm.call(&v.x)?;
            }
        }
        Ok(FitResult::History(model.fit(&x, data.y, &args, callbacks)?))
    }
}

#[test]
fn hypermodel_with_tuned_fit_and_shared_image_size() {
    let (x, y, xv, yv) = digits();
    let mut tuner = Tuner::new(
        Box::new(RandomSearch),
        Box::new(MyHyperModel),
        None,
        config(3, val_accuracy()),
    )
    .unwrap();
    tuner.search(&x, &y, &fit_args(&xv, &yv, 2)).unwrap();
    for t in &tuner.oracle.trials().unwrap() {
        assert_eq!(t.status, TrialStatus::Completed, "{:?}", t.message);
        let v = t.used_values();
        for k in ["image_size", "units", "normalize", "shuffle"] {
            assert!(v.contains(k), "trial {} lacks {k}: {v}", t.trial_id);
        }
    }
    // Retrain with the best hyperparameters through the same hypermodel.
    let mut best = tuner.get_best_hyperparameters(1).unwrap().remove(0);
    let mut hm = MyHyperModel;
    let mut model = hm.build(&mut best).unwrap();
    let side = best.get("image_size").unwrap().as_i64().unwrap() as usize;
    assert_eq!(model.get_input_shape(), Some(&[side, side][..]));
    let r = hm.fit(
        &mut best,
        &mut model,
        &SearchData { x: &x, y: &y },
        &FitArgs {
            epochs: 1,
            verbose: 0,
            ..Default::default()
        },
        &mut [],
    );
    assert!(matches!(r, Ok(FitResult::History(_))));
}

fn regression() -> (Tensor, Tensor, Tensor, Tensor) {
    let ds = data::builtin("reg-plane", 5.0, 3).unwrap();
    let full = data::Dataset::new(ds.x, ds.y).unwrap();
    let (t, v) = data::split_validation(&full, 0.2).unwrap();
    (t.x, t.y, v.x, v.y)
}

fn build_regressor(
    metrics: Vec<Box<dyn Metric>>,
    names: &[&str],
    hp: &mut HyperParameters,
) -> Result<Sequential> {
    let mut model = Sequential::new();
    model.add(
        Dense::new(hp.int("units", 32, 128).step(32).get()? as usize).activation(Activation::Relu),
    );
    model.add(Dense::new(1));
    model.compile_full(
        Optimizer::from_name("adam")?,
        Loss::from_name("mean_squared_error")?,
        names,
        &[],
        metrics,
    )?;
    Ok(model)
}

#[test]
fn built_in_metric_objective() {
    let (x, y, xv, yv) = regression();
    let objective =
        ObjectiveSpec::Single(Objective::new("val_mean_absolute_error", Direction::Min));
    let hm = FnHyperModel(|hp: &mut HyperParameters| {
        build_regressor(Vec::new(), &["mean_absolute_error"], hp)
    });
    let mut tuner = Tuner::new(
        Box::new(RandomSearch),
        Box::new(hm),
        None,
        config(3, objective),
    )
    .unwrap();
    tuner.search(&x, &y, &fit_args(&xv, &yv, 3)).unwrap();
    let best = tuner.get_best_trials(1).unwrap().remove(0);
    let curve = &best.curves[0]
        .iter()
        .find(|(k, _)| k == "val_mean_absolute_error")
        .unwrap()
        .1;
    let min = curve.iter().cloned().fold(f64::MAX, f64::min);
    assert_eq!(best.score.unwrap(), min, "the best epoch's value");
    assert!(tuner
        .results_summary(10)
        .unwrap()
        .contains("Objective(name=\"val_mean_absolute_error\", direction=\"min\")"));
    assert!(tuner
        .output()
        .contains("Best val_mean_absolute_error So Far: "));
}

#[test]
fn custom_metric_objective() {
    let (x, y, xv, yv) = regression();
    // A custom metric's direction cannot be inferred, exactly as in KerasTuner.
    let e = Objective::parse("val_custom_metric")
        .unwrap_err()
        .to_string();
    assert!(e.contains("Could not infer optimization direction"), "{e}");
    let objective = ObjectiveSpec::Single(Objective::new("val_custom_metric", Direction::Min));
    let hm = FnHyperModel(|hp: &mut HyperParameters| {
        let m = MeanMetricWrapper::new("custom_metric", |t: &[f32], p: &[f32]| {
            (t[0] - p[0]) * (t[0] - p[0])
        });
        build_regressor(vec![Box::new(m)], &[], hp)
    });
    let mut tuner = Tuner::new(
        Box::new(RandomSearch),
        Box::new(hm),
        None,
        config(3, objective),
    )
    .unwrap();
    tuner.search(&x, &y, &fit_args(&xv, &yv, 2)).unwrap();
    let best = tuner.get_best_trials(1).unwrap().remove(0);
    // custom_metric is the squared error, so it equals val_loss (mse) at every epoch
    assert!(
        (best.metric("val_custom_metric").unwrap() - best.metric("val_loss").unwrap()).abs() < 1e-6
    );
}

/// The guide's HyperRegressor whose fit returns a number (default_objective) or a dict.
struct HyperRegressor {
    dict: bool,
}

impl HyperModel for HyperRegressor {
    fn build(&mut self, hp: &mut HyperParameters) -> Result<Sequential> {
        build_regressor(Vec::new(), &[], hp)
    }
    fn fit(
        &mut self,
        _hp: &mut HyperParameters,
        model: &mut Sequential,
        data: &SearchData<'_>,
        args: &FitArgs,
        cbs: &mut [&mut dyn Callback],
    ) -> Result<FitResult> {
        let mut a = args.clone();
        let v = a
            .validation_data
            .take()
            .ok_or_else(|| Error::state("needs validation data"))?;
        model.fit(data.x, data.y, &a, cbs)?;
        let p = model.predict(&v.x, None)?;
        let mae = p
            .data()
            .iter()
            .zip(v.y.data())
            .map(|(a, b)| (a - b).abs() as f64)
            .sum::<f64>()
            / p.len() as f64;
        Ok(if self.dict {
            FitResult::Metrics(vec![("metric_a".into(), -mae), ("metric_b".into(), mae)])
        } else {
            FitResult::Value(mae)
        })
    }
}

#[test]
fn returned_float_and_returned_dict_objectives() {
    let (x, y, xv, yv) = regression();
    let mut t = Tuner::new(
        Box::new(RandomSearch),
        Box::new(HyperRegressor { dict: false }),
        None,
        config(3, ObjectiveSpec::default()),
    )
    .unwrap();
    t.search(&x, &y, &fit_args(&xv, &yv, 2)).unwrap();
    assert!(t
        .results_summary(10)
        .unwrap()
        .contains("Objective(name=\"default_objective\", direction=\"min\")"));
    assert!(t.output().contains("\ndefault_objective: "));
    let scores: Vec<f64> = t
        .get_best_trials(3)
        .unwrap()
        .iter()
        .map(|t| t.score.unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] <= w[1]), "{scores:?}");

    let objective = ObjectiveSpec::Single(Objective::new("metric_a", Direction::Max));
    let mut t = Tuner::new(
        Box::new(RandomSearch),
        Box::new(HyperRegressor { dict: true }),
        None,
        config(3, objective),
    )
    .unwrap();
    t.search(&x, &y, &fit_args(&xv, &yv, 2)).unwrap();
    let best = t.get_best_trials(1).unwrap().remove(0);
    assert_eq!(best.score, best.metric("metric_a"));
    assert_eq!(
        best.metric("metric_a").unwrap(),
        -best.metric("metric_b").unwrap()
    );
    assert!(best.score.unwrap() < 0.0);
}

#[test]
fn tune_any_function() {
    let mut tuner = Tuner::from_fn(
        Box::new(RandomSearch),
        |trial: &mut Trial| {
            let x = trial.hyperparameters.float("x", -1.0, 1.0).get()?;
            Ok(FitResult::Value(x * x + 1.0))
        },
        None,
        TunerConfig {
            oracle: OracleConfig {
                max_trials: Some(20),
                seed: 3,
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .unwrap();
    tuner
        .search(
            &Tensor::zeros(&[1, 1]),
            &Tensor::zeros(&[1, 1]),
            &FitArgs::default(),
        )
        .unwrap();
    assert_eq!(tuner.oracle.trial_count(), 20);
    // The first trial runs with the default (min_value), before x joins the space.
    assert_eq!(tuner.oracle.trials().unwrap()[0].score, Some(2.0));
    let best = tuner.get_best_hyperparameters(1).unwrap().remove(0);
    let x = best.get("x").unwrap().as_f64().unwrap();
    assert!(x.abs() < 0.3, "{x}");
    assert_eq!(
        tuner.get_best_trials(1).unwrap()[0].score.unwrap(),
        x * x + 1.0
    );
    assert!(tuner.output().contains("Best default_objective So Far: "));
}

#[test]
fn keep_the_model_code_separate() {
    let dir = std::env::temp_dir().join(format!("tunelab-separate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // The user's own training code, with plain arguments.
    fn keras_code(units: usize, optimizer: &str, saving_path: &std::path::Path) -> Result<f64> {
        let ds = data::builtin("reg-gauss", 0.0, 1)?;
        let mut model = Sequential::new().seed(2);
        model.add(Dense::new(units).activation(Activation::Relu));
        model.add(Dense::new(1));
        model.compile(
            Optimizer::from_name(optimizer)?,
            Loss::from_name("mean_squared_error")?,
            &[],
        )?;
        model.fit(
            &ds.x,
            &ds.y,
            &FitArgs {
                epochs: 1,
                verbose: 0,
                ..Default::default()
            },
            &mut [],
        )?;
        let w = model.get_weights()?;
        std::fs::write(
            saving_path,
            format!("{:?}", w.iter().map(|t| t.len()).collect::<Vec<_>>()),
        )?;
        let p = model.predict(&ds.x, None)?;
        Ok(p.data()
            .iter()
            .zip(ds.y.data())
            .map(|(a, b)| (a - b).abs() as f64)
            .sum::<f64>()
            / p.len() as f64)
    }
    let d = Rc::new(dir.clone());
    let d2 = d.clone();
    let mut tuner = Tuner::from_fn(
        Box::new(RandomSearch),
        move |trial: &mut Trial| {
            let hp = &mut trial.hyperparameters;
            let units = hp.int("units", 32, 128).step(32).get()? as usize;
            let opt = hp
                .choice("optimizer", vec!["adam".into(), "adadelta".into()])
                .get()?;
            let path = d2.join(format!("{}.weights", trial.trial_id));
            Ok(FitResult::Value(keras_code(
                units,
                opt.as_str().unwrap_or("adam"),
                &path,
            )?))
        },
        None,
        TunerConfig {
            oracle: OracleConfig {
                max_trials: Some(3),
                seed: 4,
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .unwrap();
    tuner
        .search(
            &Tensor::zeros(&[1, 1]),
            &Tensor::zeros(&[1, 1]),
            &FitArgs::default(),
        )
        .unwrap();
    for t in &tuner.oracle.trials().unwrap() {
        assert!(d.join(format!("{}.weights", t.trial_id)).exists());
    }
    let best = tuner.get_best_hyperparameters(1).unwrap().remove(0);
    let v = best.values();
    let again = keras_code(
        v.get("units").unwrap().as_i64().unwrap() as usize,
        v.get("optimizer").unwrap().as_str().unwrap(),
        &d.join("best_model.weights"),
    )
    .unwrap();
    assert_eq!(
        again,
        tuner.get_best_trials(1).unwrap()[0].score.unwrap(),
        "the same code, the same result"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn value_types_round_trip_in_trials_json() {
    let mut tuner = Tuner::from_fn(
        Box::new(GridSearch::new()),
        |trial: &mut Trial| {
            let hp = &mut trial.hyperparameters;
            let a = hp
                .choice("a", vec![Value::from("x"), Value::from("y")])
                .get()?;
            let b = hp.boolean("b").get()?;
            Ok(FitResult::Value(
                if a.as_str() == Some("x") { 1.0 } else { 2.0 } + b as u8 as f64,
            ))
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
    tuner
        .search(
            &Tensor::zeros(&[1, 1]),
            &Tensor::zeros(&[1, 1]),
            &FitArgs::default(),
        )
        .unwrap();
    let j = tuner.trials_json().unwrap();
    assert_eq!(j["trials"].as_array().unwrap().len(), 4, "{j}");
    assert_eq!(
        j["best_hyperparameters"],
        serde_json::json!({"a": "x", "b": false})
    );
    let csv = tuner.trials_csv().unwrap();
    assert!(csv.starts_with("trial_id,status,score,best_step,a,b,default_objective,device,message\n0000,COMPLETED,1.0,,x,False,1.0,cpu,\n"), "{csv}");
}

#[test]
fn hooks_see_every_trial_epoch_and_batch() {
    use std::cell::RefCell;
    #[derive(Default)]
    struct Count {
        log: Rc<RefCell<Vec<String>>>,
    }
    impl TunerHooks for Count {
        fn on_trial_begin(&mut self, t: &Trial) {
            self.log.borrow_mut().push(format!("begin {}", t.trial_id));
        }
        fn on_trial_end(&mut self, t: &Trial) {
            self.log
                .borrow_mut()
                .push(format!("end {} {:?}", t.trial_id, t.status));
        }
        fn on_epoch_end(&mut self, t: &Trial, e: usize, logs: &Logs) {
            assert!(logs.get("loss").is_some());
            self.log
                .borrow_mut()
                .push(format!("epoch {} {e}", t.trial_id));
        }
        fn on_batch_end(&mut self, _t: &Trial, _b: usize, _l: &Logs) {
            self.log.borrow_mut().push("batch".into());
        }
    }
    let (x, y) = {
        let d = data::builtin("xor", 0.0, 1).unwrap();
        (d.x, d.y)
    };
    let log = Rc::new(std::cell::RefCell::new(Vec::new()));
    let hm = FnHyperModel(|hp: &mut HyperParameters| {
        let mut m = Sequential::new();
        m.add(Dense::new(hp.int("units", 2, 8).get()? as usize).activation(Activation::Tanh));
        m.add(Dense::new(1).activation(Activation::Sigmoid));
        m.compile(
            Optimizer::from_name("adam")?,
            Loss::from_name("binary_crossentropy")?,
            &[],
        )?;
        Ok(m)
    });
    let mut t = Tuner::new(
        Box::new(RandomSearch),
        Box::new(hm),
        None,
        config(2, ObjectiveSpec::Single(Objective::parse("loss").unwrap())),
    )
    .unwrap();
    t.add_hooks(Box::new(Count { log: log.clone() }));
    t.search(
        &x,
        &y,
        &FitArgs {
            epochs: 2,
            batch_size: Some(250),
            verbose: 0,
            ..Default::default()
        },
    )
    .unwrap();
    let l = log.borrow();
    let trials: Vec<&String> = l.iter().filter(|s| !s.starts_with("batch")).collect();
    assert_eq!(
        trials,
        [
            "begin 0",
            "epoch 0 0",
            "epoch 0 1",
            "end 0 Completed",
            "begin 1",
            "epoch 1 0",
            "epoch 1 1",
            "end 1 Completed"
        ]
    );
    assert_eq!(l.iter().filter(|s| *s == "batch").count(), 2 * 2 * 2);
}

/// A hypermodel that is not tunable: its hps stay at their defaults.
struct Frozen;
impl HyperModel for Frozen {
    fn build(&mut self, hp: &mut HyperParameters) -> Result<Sequential> {
        let units = hp.int("units", 4, 64).step(4).get()?;
        hp.float("lr", 1e-3, 1e-1).get()?;
        let mut m = Sequential::new();
        m.add(Dense::new(units as usize).activation(Activation::Relu));
        m.add(Dense::new(1));
        m.compile(Optimizer::from_name("sgd")?, Loss::from_name("mse")?, &[])?;
        Ok(m)
    }
    fn declare_hyperparameters(&mut self, hp: &mut HyperParameters) -> Result<()> {
        hp.float("lr", 1e-3, 1e-1).get()?;
        Ok(())
    }
    fn tunable(&self) -> bool {
        false
    }
}

#[test]
fn untunable_hypermodel_keeps_its_own_hps_fixed() {
    let d = data::builtin("reg-plane", 0.0, 1).unwrap();
    let mut t = Tuner::new(
        Box::new(RandomSearch),
        Box::new(Frozen),
        None,
        config(4, ObjectiveSpec::Single(Objective::parse("loss").unwrap())),
    )
    .unwrap();
    t.search(
        &d.x,
        &d.y,
        &FitArgs {
            verbose: 0,
            ..Default::default()
        },
    )
    .unwrap();
    let units: Vec<i64> = t
        .oracle
        .trials()
        .unwrap()
        .iter()
        .map(|t| {
            t.hyperparameters
                .values()
                .get("units")
                .unwrap()
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(
        units,
        vec![4, 4, 4, 4],
        "units is the hypermodel's own: fixed at its default"
    );
    let lrs: std::collections::BTreeSet<String> = t
        .oracle
        .trials()
        .unwrap()
        .iter()
        .map(|t| format!("{}", t.hyperparameters.values().get("lr").unwrap()))
        .collect();
    assert!(lrs.len() > 1, "the declared lr is searched: {lrs:?}");
}

/// With `parallel_trials` = 3, an awaited trial function (the page's worker pool) has all
/// three trials of a batch in flight at once: each future waits until it has seen the other two
/// start, which could never happen if the tuner awaited them one by one.
#[test]
fn awaited_trials_of_a_batch_run_side_by_side() {
    use std::cell::Cell;
    use std::task::Poll;
    // Trials started and not yet finished; whether the batch has had all three in flight.
    let running = Rc::new(Cell::new(0usize));
    let full = Rc::new(Cell::new(false));
    let most_in_flight = Rc::new(Cell::new(0usize));
    let (r0, f0, m0) = (running.clone(), full.clone(), most_in_flight.clone());
    let run: AsyncRunFn = Box::new(move |trial: &Trial| {
        let x = trial
            .hyperparameters
            .get("x")
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0);
        let (running, full, most) = (r0.clone(), f0.clone(), m0.clone());
        let mut first = true;
        let mut polls = 0;
        Box::pin(std::future::poll_fn(move |cx| {
            if first {
                first = false;
                running.set(running.get() + 1);
                most.set(most.get().max(running.get()));
                if running.get() == 3 {
                    full.set(true);
                }
            }
            polls += 1;
            // Ready once the batch's three trials are all in flight (or give up, failing).
            if full.get() || polls > 50 {
                running.set(running.get() - 1);
                if running.get() == 0 {
                    full.set(false);
                }
                let r = if full.get() || polls <= 50 {
                    Ok(FitResult::Value(x * x))
                } else {
                    Err(Error::FailedTrial("trials ran one at a time".into()))
                };
                return Poll::Ready((r, None));
            }
            cx.waker().wake_by_ref();
            Poll::Pending
        }))
    });
    let mut hp = HyperParameters::new();
    hp.float("x", -1.0, 1.0).get().unwrap();
    let mut tuner = Tuner::from_async_fn(
        Box::new(RandomSearch),
        run,
        Some(hp),
        TunerConfig {
            oracle: OracleConfig {
                max_trials: Some(6),
                seed: 5,
                ..Default::default()
            },
            parallel_trials: Some(3),
            ..Default::default()
        },
    )
    .unwrap();
    tuner
        .search(
            &Tensor::zeros(&[1, 1]),
            &Tensor::zeros(&[1, 1]),
            &FitArgs::default(),
        )
        .unwrap();
    assert_eq!(most_in_flight.get(), 3);
    assert_eq!(tuner.oracle.trial_count(), 6);
    for t in &tuner.oracle.trials().unwrap() {
        assert_eq!(t.status, TrialStatus::Completed, "{:?}", t.message);
        let x = t.hyperparameters.get("x").unwrap().as_f64().unwrap();
        assert_eq!(t.score, Some(x * x));
    }
}

/// `parallel_trials` on the CPU trains each execution of a batch on a thread of its own; with
/// the search space declared up front, the search is the same as one trial after the other:
/// values, scores, curves, best steps, the hooks' epoch events and every stored resume point
/// and checkpoint. (Hps first declared inside a build join the space when that build runs, so
/// the other trials of that batch were drawn without them, as with KerasTuner's parallel
/// workers.)
#[test]
fn cpu_trials_on_threads_equal_one_after_the_other() {
    use std::cell::RefCell;
    #[derive(Default)]
    struct Epochs(Rc<RefCell<Vec<(String, usize, String)>>>);
    impl TunerHooks for Epochs {
        fn on_epoch_end(&mut self, trial: &Trial, epoch: usize, logs: &tunelab::nn::history::Logs) {
            let loss = logs.iter().find(|(k, _)| *k == "loss").map(|(_, v)| v);
            self.0
                .borrow_mut()
                .push((trial.trial_id.clone(), epoch, format!("{loss:?}")));
        }
    }
    let (x, y, xv, yv) = digits();
    let run = |parallel: usize, hyperband: bool| {
        let dir =
            std::env::temp_dir().join(format!("tunelab-threads-{parallel}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut cfg = config(5, val_accuracy());
        cfg.executions_per_trial = 2;
        cfg.parallel_trials = Some(parallel);
        cfg.directory = Some(dir.clone());
        let mut space = HyperParameters::new();
        space.int("num_layers", 1, 3).get().unwrap();
        for i in 0..3 {
            space
                .int(&format!("units_{i}"), 32, 512)
                .step(32)
                .get()
                .unwrap();
        }
        space
            .choice("activation", vec!["relu".into(), "tanh".into()])
            .get()
            .unwrap();
        space.boolean("dropout").get().unwrap();
        space
            .float("lr", 1e-4, 1e-2)
            .sampling(Sampling::Log)
            .get()
            .unwrap();
        let algorithm: Box<dyn Algorithm> = if hyperband {
            Box::new(Hyperband::new(3, 3, None).unwrap())
        } else {
            Box::new(RandomSearch)
        };
        let mut tuner = Tuner::new(
            algorithm,
            Box::new(FnHyperModel(build_model)),
            Some(space),
            cfg,
        )
        .unwrap();
        let events = Rc::new(RefCell::new(Vec::new()));
        tuner.add_hooks(Box::new(Epochs(events.clone())));
        tuner.search(&x, &y, &fit_args(&xv, &yv, 3)).unwrap();
        let trials: Vec<_> = tuner
            .oracle
            .trials()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t.trial_id.clone(),
                    t.status,
                    t.hyperparameters.values().to_json().to_string(),
                    t.score,
                    t.best_step,
                    format!("{:?}", t.curves),
                )
            })
            .collect();
        let mut files = Vec::new();
        for entry in walk(&dir) {
            let rel = entry
                .strip_prefix(&dir)
                .unwrap()
                .to_string_lossy()
                .to_string();
            // The oracle's and trials' JSON hold wall-clock times; weights files must match.
            if rel.ends_with(".bin") {
                files.push((rel, std::fs::read(&entry).unwrap()));
            }
        }
        files.sort();
        let mut ev = events.borrow().clone();
        ev.sort();
        let _ = std::fs::remove_dir_all(&dir);
        (trials, ev, files)
    };
    // Hyperband (max_epochs 3, factor 3; max_trials stops it at 5) in batches of 3 on threads:
    // as with KerasTuner's parallel workers, a batch asks for trials while a round is
    // unfinished, which starts the next bracket, so it is not the sequential search; every trial
    // completes, a promoted trial continues from a completed parent of the round before, and the
    // same batches give the same search.
    let (h3, he3, hf3) = run(3, true);
    let (h3b, he3b, hf3b) = run(3, true);
    assert_eq!(h3, h3b);
    assert_eq!(he3, he3b);
    assert!(hf3 == hf3b, "Hyperband in batches is not deterministic");
    assert_eq!(h3.len(), 5);
    assert!(h3.iter().all(|t| t.1 == TrialStatus::Completed));
    for t in &h3 {
        let v: serde_json::Value = serde_json::from_str(&t.2).unwrap();
        if let Some(parent) = v.get("tuner/trial_id").and_then(|p| p.as_str()) {
            let p = h3.iter().find(|x| x.0 == parent).expect("the parent trial");
            let pv: serde_json::Value = serde_json::from_str(&p.2).unwrap();
            assert_eq!(pv["tuner/round"], v["tuner/round"].as_i64().unwrap() - 1);
            assert_eq!(pv["lr"], v["lr"]);
        }
    }
    assert!(!he3.is_empty());
    let (t1, e1, f1) = run(1, false);
    let (t3, e3, f3) = run(3, false);
    assert_eq!(t1.len(), 5);
    assert!(t1.iter().all(|t| t.1 == TrialStatus::Completed));
    assert_eq!(t1, t3);
    // 5 trials x 2 executions x 3 epochs reported to the hooks, with the same losses.
    assert_eq!(e1.len(), 30);
    assert_eq!(e1, e3);
    assert!(f1.len() >= 15, "{}", f1.len());
    assert_eq!(
        f1.iter().map(|f| &f.0).collect::<Vec<_>>(),
        f3.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    assert!(f1 == f3, "stored weights differ");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// `validation_freq > 1` with a val_ objective: KerasTuner takes the best over the epochs that
/// logged the metric (they used to be INVALID: only metrics logged at every epoch counted).
#[test]
fn validation_freq_scores_the_epochs_that_validated() {
    let (x, y, xv, yv) = digits();
    let mut tuner = Tuner::new(
        Box::new(RandomSearch),
        Box::new(FnHyperModel(build_model)),
        None,
        config(2, val_accuracy()),
    )
    .unwrap();
    let mut args = fit_args(&xv, &yv, 6);
    args.validation_freq = 3;
    tuner.search(&x, &y, &args).unwrap();
    for t in &tuner.oracle.trials().unwrap() {
        assert_eq!(t.status, TrialStatus::Completed, "{:?}", t.message);
        // Epochs 2 and 5 (0-based) validated.
        let step = t.best_step.unwrap();
        assert!(step == 2 || step == 5, "best step {step}");
        let val = &t.curves[0]
            .iter()
            .find(|(k, _)| k == "val_accuracy")
            .unwrap()
            .1;
        assert_eq!(val.len(), 2);
        let best = val.iter().cloned().fold(f64::MIN, f64::max);
        assert_eq!(t.score.unwrap(), best);
        // The metrics are those of the best epoch, training ones included.
        assert!(t.metric("accuracy").is_some() && t.metric("val_loss").is_some());
    }
}

/// The epochs each key was logged at survive a resume point (JSON) and the merge of the
/// history before an interruption with the one after.
#[test]
fn sparse_validation_keys_keep_their_epochs() {
    let mut h = History::default();
    for e in 0..5 {
        let mut logs = Logs::default();
        logs.set("loss", e as f32);
        if e % 2 == 1 {
            logs.set("val_loss", 10.0 + e as f32);
        }
        h.record(e, &logs);
    }
    assert_eq!(h.epochs_of("loss"), vec![0, 1, 2, 3, 4]);
    assert_eq!(h.epochs_of("val_loss"), vec![1, 3]);
    assert_eq!(
        h.at_epoch(3),
        vec![("loss".into(), 3.0), ("val_loss".into(), 13.0)]
    );
    assert_eq!(h.at_epoch(2), vec![("loss".into(), 2.0)]);
}

/// KerasTuner's calls without tunelab-only extras: `get_best_models(n)` asks for no input
/// shape (it is stored with each checkpoint, so a tuner reloaded from its directory rebuilds
/// the models too); a function tuner searches without dummy data; `run_trial` gets what
/// `search` was given.
#[test]
fn kerastuner_calls_without_extras() {
    let (x, y, xv, yv) = digits();
    let dir = std::env::temp_dir().join(format!("tunelab-extras-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut cfg = config(2, val_accuracy());
    cfg.directory = Some(dir.clone());
    let mut tuner = Tuner::new(
        Box::new(RandomSearch),
        Box::new(FnHyperModel(build_model)),
        None,
        cfg.clone(),
    )
    .unwrap();
    tuner.search(&x, &y, &fit_args(&xv, &yv, 2)).unwrap();
    let mut best = tuner.get_best_models(1).unwrap();
    // Reloaded from the directory, with no search in this process.
    let mut again = Tuner::new(
        Box::new(RandomSearch),
        Box::new(FnHyperModel(build_model)),
        None,
        cfg,
    )
    .unwrap();
    let mut reloaded = again.get_best_models(1).unwrap();
    assert_eq!(
        best[0].get_weights().unwrap(),
        reloaded[0].get_weights().unwrap()
    );
    assert_eq!(
        best[0].predict(&xv, None).unwrap(),
        reloaded[0].predict(&xv, None).unwrap()
    );
    let _ = std::fs::remove_dir_all(&dir);

    // A function tuner: no data to invent.
    let mut f = Tuner::from_fn(
        Box::new(RandomSearch),
        |trial: &mut Trial| {
            let v = trial.hyperparameters.float("v", 0.0, 1.0).get()?;
            Ok(FitResult::Value(v))
        },
        None,
        config(3, ObjectiveSpec::default()),
    )
    .unwrap();
    f.search_without_data().unwrap();
    assert_eq!(f.oracle.trials().unwrap().len(), 3);
    // A hypermodel tuner needs data, and says so.
    let mut h = Tuner::new(
        Box::new(RandomSearch),
        Box::new(FnHyperModel(build_model)),
        None,
        config(1, val_accuracy()),
    )
    .unwrap();
    let e = h.search_without_data().unwrap_err().to_string();
    assert!(e.contains("search(x, y, args)"), "{e}");

    // run_trial sees the search's data and fit arguments.
    let seen = Rc::new(std::cell::RefCell::new(Vec::new()));
    let log = seen.clone();
    let mut r = Tuner::from_run_trial(
        Box::new(RandomSearch),
        move |trial: &mut Trial, data: &SearchData<'_>, args: &FitArgs| {
            log.borrow_mut()
                .push((data.x.shape().to_vec(), data.y.rows(), args.epochs));
            Ok(FitResult::Value(
                trial.hyperparameters.float("v", 0.0, 1.0).get()?,
            ))
        },
        None,
        config(2, ObjectiveSpec::default()),
    )
    .unwrap();
    r.search(&x, &y, &fit_args(&xv, &yv, 7)).unwrap();
    assert_eq!(
        *seen.borrow(),
        vec![
            (x.shape().to_vec(), y.rows(), 7),
            (x.shape().to_vec(), y.rows(), 7)
        ]
    );
}

#[path = "support/scaled.rs"]
mod scaled;

/// A hypermodel that tunes whether its input is standardized, by a Normalization layer inside
/// the model (tunelab's way of the guide's `hp.Boolean("normalize")`): on a table whose columns
/// differ in scale by orders of magnitude the tuner finds that it should, and the best model
/// from `get_best_models` carries the statistics its trial adapted.
#[test]
fn tuned_normalization_layer_and_best_models_keep_the_statistics() {
    let (x, y) = scaled::scaled_table(600, 5);
    let full = data::Dataset::new(x, y).unwrap();
    let (train, val) = data::split_validation(&full, 0.25).unwrap();
    let hm = FnHyperModel(|hp: &mut HyperParameters| {
        let mut model = Sequential::new();
        if hp.boolean("normalize").get()? {
            model.add(Normalization::new());
        }
        model.add(Dense::new(16).activation(Activation::Relu));
        model.add(Dense::new(3).activation(Activation::Softmax));
        model.compile(
            Optimizer::from_name("adam")?.learning_rate(0.01),
            Loss::from_name("categorical_crossentropy")?,
            &["accuracy"],
        )?;
        Ok(model)
    });
    let mut tuner = Tuner::new(
        Box::new(GridSearch::default()),
        Box::new(hm),
        None,
        config(2, val_accuracy()),
    )
    .unwrap();
    tuner
        .search(&train.x, &train.y, &fit_args(&val.x, &val.y, 30))
        .unwrap();
    let best = tuner.get_best_hyperparameters(1).unwrap().remove(0);
    assert_eq!(best.get("normalize").unwrap().as_bool(), Some(true));
    let trials = tuner.oracle.get_best_trials(2).unwrap();
    let (good, bad) = (trials[0].score.unwrap(), trials[1].score.unwrap());
    assert!(
        good >= 0.95 && bad < good - 0.2,
        "normalized {good}, raw {bad}"
    );
    let mut model = tuner.get_best_models(1).unwrap().remove(0);
    let (_, n) = model.normalization().expect("the best model normalizes");
    assert_eq!(n.count as usize, train.x.rows());
    let Evaluation::Dict(logs) = model.evaluate(&val.x, &val.y, None, None, true).unwrap() else {
        panic!("return_dict gives a dict")
    };
    let acc = logs.get("accuracy").unwrap();
    assert!(
        (acc as f64 - good).abs() < 1e-6,
        "best model {acc} vs trial {good}"
    );
}
