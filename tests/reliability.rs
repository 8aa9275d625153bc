//! Reliability (issue 9): failures inside trials (NaN and infinite losses from exploding
//! weights, a hypermodel that throws), a full storage, and inputs too large to allocate. Each
//! must end as an error or a failed trial with its message, never a panic, and the search goes
//! on where KerasTuner's would.

use tunelab::hp::{HyperParameters, Value};
use tunelab::nn::*;
use tunelab::spec::ModelSpec;
use tunelab::tuner::*;
use tunelab::{data, Error, Result, Tensor};

fn xor() -> (Tensor, Tensor) {
    let ds = data::builtin("xor", 10.0, 2).unwrap();
    (ds.x, ds.y)
}

fn quiet(epochs: usize) -> FitArgs {
    FitArgs {
        epochs,
        validation_split: 0.25,
        verbose: 0,
        batch_size: Some(40),
        ..Default::default()
    }
}

/// A model whose learning rate and width come from the space; SGD with a huge learning rate
/// makes the weights explode to infinity and the (unclipped, squared-error) loss NaN.
fn model(hp: &mut HyperParameters) -> Result<Sequential> {
    let units = hp
        .choice("units", vec![Value::from(4), Value::from(8)])
        .get()?;
    let lr = hp
        .choice("lr", vec![Value::from(0.1), Value::from(1e30)])
        .get()?;
    let mut m = Sequential::new();
    m.add(Dense::new(units.as_i64().unwrap() as usize).activation(Activation::Relu));
    m.add(Dense::new(1));
    m.compile(
        Optimizer::from_name("sgd")?.learning_rate(lr.as_f64().unwrap() as f32),
        Loss::from_name("mse")?,
        &["accuracy"],
    )?;
    Ok(m)
}

fn config(retries: usize) -> TunerConfig {
    TunerConfig {
        oracle: OracleConfig {
            objective: ObjectiveSpec::Single(Objective::parse("val_loss").unwrap()),
            max_trials: Some(10),
            seed: 4,
            max_retries_per_trial: retries,
            ..Default::default()
        },
        ..Default::default()
    }
}

fn lr_of(t: &Trial) -> f64 {
    t.hyperparameters
        .values()
        .get("lr")
        .and_then(|v| v.as_f64())
        .unwrap()
}

/// Also the regression test of what it found: a retry reused the failed attempt's stored
/// history, whose NaN epochs had been dropped on the way through JSON, so the retry failed
/// with a wrong message ("a metric the model logs every epoch") instead of training again.
#[test]
fn exploding_weights_make_invalid_trials_that_are_retried_then_failed() {
    let (x, y) = xor();
    let mut t = Tuner::new(
        Box::new(GridSearch::new()),
        Box::new(FnHyperModel(model)),
        None,
        config(1),
    )
    .unwrap();
    t.search(&x, &y, &quiet(3)).unwrap();
    assert_eq!(t.oracle.trial_count(), 4, "the whole grid ran");
    for tr in &t.oracle.trials().unwrap() {
        if lr_of(tr) > 1.0 {
            assert_eq!(tr.status, TrialStatus::Failed, "{}", tr.trial_id);
            assert_eq!(tr.attempts, 2, "one retry, as max_retries_per_trial says");
            let m = tr.message.as_deref().unwrap_or("");
            assert!(
                m.contains("val_loss") && m.contains("not a finite number"),
                "{m}"
            );
            assert!(tr.score.is_none());
        } else {
            assert_eq!(tr.status, TrialStatus::Completed, "{:?}", tr.message);
            assert!(tr.score.unwrap().is_finite());
        }
    }
    // The best trials are the completed ones only.
    let best = t.get_best_trials(4).unwrap();
    assert_eq!(best.len(), 2);
    assert!(best.iter().all(|b| lr_of(b) < 1.0));
}

#[test]
fn a_hypermodel_that_throws_fails_its_trials_and_the_search_goes_on() {
    let (x, y) = xor();
    let throwing = |hp: &mut HyperParameters| -> Result<Sequential> {
        let m = model(hp)?;
        if hp.get("units")?.as_i64() == Some(8) {
            return Err(Error::data("this build refuses 8 units"));
        }
        Ok(m)
    };
    // Only the small learning rate, so the failures are the hypermodel's own.
    let mut fixed = HyperParameters::new();
    fixed.fixed("lr", 0.1).get().unwrap();
    let mut t = Tuner::new(
        Box::new(GridSearch::new()),
        Box::new(FnHyperModel(throwing)),
        Some(fixed),
        config(2),
    )
    .unwrap();
    t.search(&x, &y, &quiet(2)).unwrap();
    assert_eq!(t.oracle.trial_count(), 2);
    let failed: Vec<_> = t
        .oracle
        .trials()
        .unwrap()
        .into_iter()
        .filter(|t| t.status == TrialStatus::Failed)
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].attempts, 3, "two retries");
    assert!(failed[0]
        .message
        .as_deref()
        .unwrap()
        .contains("this build refuses 8 units"));
    assert_eq!(
        t.oracle
            .trials()
            .unwrap()
            .iter()
            .filter(|t| t.status == TrialStatus::Completed)
            .count(),
        1
    );
}

#[test]
fn only_failing_trials_stop_the_search_with_kerastuners_message() {
    let (x, y) = xor();
    let mut fixed = HyperParameters::new();
    fixed.fixed("lr", 1e30).get().unwrap();
    // Two configurations are left (units 4 or 8): a limit of 2 is reached.
    let mut c = config(0);
    c.oracle.max_consecutive_failed_trials = 2;
    let mut t = Tuner::new(
        Box::new(RandomSearch),
        Box::new(FnHyperModel(model)),
        Some(fixed),
        c,
    )
    .unwrap();
    let e = t.search(&x, &y, &quiet(2)).unwrap_err().to_string();
    assert!(
        e.starts_with("Number of consecutive failures exceeded the limit of 2.\n"),
        "{e}"
    );
    assert!(e.contains("not a finite number"), "{e}");
}

/// Everything a storage holds, as a fresh in-memory copy without a write limit.
fn copy_of(s: &dyn Storage) -> MemoryStorage {
    let mut m = MemoryStorage::new();
    for p in s.list("").unwrap() {
        m.write(&p, &s.read(&p).unwrap().unwrap()).unwrap();
    }
    m
}

fn summary(t: &Tuner) -> Vec<(String, String, String, Option<f64>)> {
    t.oracle
        .trials()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t.trial_id.clone(),
                format!("{}", t.hyperparameters.values()),
                t.status.as_str().to_string(),
                t.score,
            )
        })
        .collect()
}

fn resumable(hp: &mut HyperParameters) -> Result<Sequential> {
    let units = hp.int("units", 2, 16).get()? as usize;
    let lr = hp
        .float("lr", 1e-3, 1e-1)
        .sampling(tunelab::hp::Sampling::Log)
        .get()?;
    let mut m = Sequential::new();
    m.add(Dense::new(units).activation(Activation::Tanh));
    m.add(Dense::new(1).activation(Activation::Sigmoid));
    m.compile(
        Optimizer::from_name("adam")?.learning_rate(lr as f32),
        Loss::from_name("binary_crossentropy")?,
        &["accuracy"],
    )?;
    Ok(m)
}

fn resumable_tuner(max_trials: usize) -> Tuner {
    let mut c = config(0);
    c.oracle.max_trials = Some(max_trials);
    Tuner::new(
        Box::new(RandomSearch),
        Box::new(FnHyperModel(resumable)),
        None,
        c,
    )
    .unwrap()
}

#[test]
fn a_full_storage_is_a_clear_error_and_loses_nothing_stored() {
    let (x, y) = xor();
    let args = quiet(4);
    let mut reference = resumable_tuner(5);
    reference.search(&x, &y, &args).unwrap();
    let want = summary(&reference);

    // Writes per trial: begin, one resume point per epoch, the end. Fill the storage in the
    // middle of the third trial.
    let mut full = MemoryStorage::new();
    full.fail_after_writes = Some(17);
    let mut t = resumable_tuner(5);
    t.set_storage(Box::new(full)).unwrap();
    let e = t.search(&x, &y, &args).unwrap_err();
    let m = e.to_string();
    assert!(matches!(e, Error::Io(_)), "{e:?}");
    assert!(
        m.contains("storage is full") && m.contains("cannot write"),
        "{m}"
    );
    let kept = copy_of(t.storage());
    let stored_before = kept.list("").unwrap();
    assert!(stored_before.iter().any(|p| p == "oracle.json"));
    // Every trial the storage took is readable, and the completed ones are the reference's.
    let mut back = resumable_tuner(5);
    back.set_storage(Box::new(kept)).unwrap();
    let have = summary(&back);
    assert!(!have.is_empty());
    let completed = have.iter().filter(|t| t.2 == "COMPLETED").count();
    assert!(completed >= 1, "{have:?}");
    for (h, w) in have.iter().zip(&want) {
        if h.2 == "COMPLETED" {
            assert_eq!(h, w);
        }
    }
    // With room again, the search finishes as if nothing had happened.
    back.search(&x, &y, &args).unwrap();
    assert_eq!(summary(&back), want);
}

fn err<T>(r: Result<T>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn oversized_inputs_are_refused_before_allocating() {
    // 1e9 units in a spec.
    let e = ModelSpec::parse(
        r#"{"input_shape": [2], "layers": [{"class_name": "Dense", "config": {"units": 1000000000}}]}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("layers[0].config.units") && e.contains("1000000000"),
        "{e}"
    );
    // 10,000 layers.
    let layer = r#"{"class_name": "Dense", "config": {"units": 4}}"#;
    let many = format!(
        r#"{{"input_shape": [2], "layers": [{}]}}"#,
        vec![layer; 10_000].join(",")
    );
    let e = ModelSpec::parse(&many).unwrap_err().to_string();
    assert!(
        e.contains("layers") && e.contains("at most 1000 layers"),
        "{e}"
    );
    // Wide layers that each pass alone (2^28 weights) but not together: refused by the model's
    // total before any is allocated (2 GiB of weights otherwise).
    let wide = r#"{"input_shape": [16384], "layers": [
        {"class_name": "Dense", "config": {"units": 16384}},
        {"class_name": "Dense", "config": {"units": 16384}}]}"#;
    let e = err(ModelSpec::parse(wide).unwrap().build(0));
    assert!(e.contains("`model`") && e.contains("weights in all"), "{e}");
}

/// Found while fuzzing by hand: a shape whose product overflows `usize` reached the
/// allocation as a wrapped (small) width in release builds and as a panic in debug builds.
#[test]
fn an_input_shape_whose_product_overflows_is_refused() {
    let e = ModelSpec::parse(
        r#"{"input_shape": [16777216, 16777216, 16777216], "layers": [{"class_name": "Dropout", "config": {"rate": 0.5}}]}"#,
    )
    .unwrap();
    let e = err(e.build(0));
    assert!(e.contains("input_shape"), "{e}");
}

/// Found while fuzzing by hand: repeat blocks inside repeat blocks (each within the limit of
/// 1000) expanded to 10^9 layers before any check, hanging the engine.
#[test]
fn nested_repeat_blocks_cannot_expand_forever() {
    let nested = serde_json::json!({"layers": [{"repeat": 1000, "layers": [{"repeat": 1000,
        "layers": [{"repeat": 1000, "layers": [{"class_name": "Dense", "config": {"units": 1}}]}]}]}]});
    let e = tunelab::spec::hyper::resolve(&nested, &mut HyperParameters::new())
        .unwrap_err()
        .to_string();
    assert!(e.contains("layers[0]") && e.contains("repeat"), "{e}");
}

/// Found while fuzzing by hand: a repeat count given as an Int hp with max_value 4e18 built a
/// condition listing every count up to the maximum (an allocation of exabytes).
#[test]
fn a_repeat_hp_with_a_huge_range_is_refused() {
    let huge = serde_json::json!({"layers": [{"repeat": {"hp": "Int", "name": "n", "min_value": 1,
        "max_value": 4000000000000000000i64}, "layers": [{"class_name": "Dense", "config": {"units": 1}}]}]});
    let e = tunelab::spec::hyper::resolve(&huge, &mut HyperParameters::new())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("layers[0].repeat") && e.contains("[0, 1000]"),
        "{e}"
    );
    // A batch whose activations would not fit: 300 rows of a 2^20-wide layer.
    let mut m = ModelSpec::parse(
        r#"{"input_shape": [1], "layers": [{"class_name": "Dense", "config": {"units": 1048576}}]}"#,
    )
    .unwrap()
    .build(0)
    .unwrap();
    let x = Tensor::zeros(&[300, 1]);
    let e = m.predict(&x, Some(300)).unwrap_err().to_string();
    assert!(
        e.contains("`batch_size`: 300") && e.contains("at most 255 rows"),
        "{e}"
    );
    let two = Tensor::zeros(&[2, 1]);
    assert_eq!(m.predict(&two, None).unwrap().shape(), &[2, 1048576]);
}

#[test]
fn a_1_gib_csv_file_is_refused_before_it_is_read() {
    // Sparse: no disk is used.
    let path = std::env::temp_dir().join(format!("tunelab-1gib-{}.csv", std::process::id()));
    std::fs::File::create(&path)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let e = data::csv::load_csv(&path, Some("y"), None)
        .unwrap_err()
        .to_string();
    let _ = std::fs::remove_file(&path);
    assert!(
        e.contains("1073741824 bytes") && e.contains("at most 268435456 bytes"),
        "{e}"
    );
}
