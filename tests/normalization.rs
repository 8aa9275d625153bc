//! Keras's Normalization layer: adapt, the statistics fit takes from the training rows, the
//! weights and spec that carry them, the errors, and a table with columns of very different
//! scales that only trains once it is standardized.

use tunelab::nn::*;
use tunelab::spec::saved;
use tunelab::spec::ModelSpec;
use tunelab::Tensor;

#[path = "support/scaled.rs"]
mod scaled;
use scaled::scaled_table;

fn classifier(normalize: bool) -> Sequential {
    let mut m = Sequential::new().seed(3);
    if normalize {
        m.add(Normalization::new());
    }
    m.add(Dense::new(16).activation(Activation::Relu));
    m.add(Dense::new(3).activation(Activation::Softmax));
    m.compile(
        Optimizer::from_name("adam").unwrap().learning_rate(0.01),
        Loss::from_name("categorical_crossentropy").unwrap(),
        &["accuracy"],
    )
    .unwrap();
    m
}

fn args(epochs: usize) -> FitArgs {
    FitArgs {
        epochs,
        verbose: 0,
        validation_split: 0.25,
        ..Default::default()
    }
}

fn column_stats(x: &Tensor, rows: usize) -> (Vec<f64>, Vec<f64>) {
    let f = x.cols();
    let mut mean = vec![0f64; f];
    for r in 0..rows {
        for (j, m) in mean.iter_mut().enumerate() {
            *m += x.data()[r * f + j] as f64 / rows as f64;
        }
    }
    let mut var = vec![0f64; f];
    for r in 0..rows {
        for (j, v) in var.iter_mut().enumerate() {
            let d = x.data()[r * f + j] as f64 - mean[j];
            *v += d * d / rows as f64;
        }
    }
    (mean, var)
}

#[test]
fn adapt_computes_mean_and_population_variance_per_feature() {
    let x = Tensor::new(vec![4, 2], vec![1.0, 10.0, 2.0, 20.0, 3.0, 30.0, 4.0, 40.0]).unwrap();
    let mut n = Normalization::new();
    n.adapt(&x).unwrap();
    assert_eq!(n.mean.as_deref(), Some(&[2.5, 25.0][..]));
    assert_eq!(n.variance.as_deref(), Some(&[1.25, 125.0][..]));
    assert_eq!(n.count, 4);
    let mut one = Normalization::new().axis_none();
    one.adapt(&x).unwrap();
    assert_eq!(one.mean.as_ref().map(|m| m.len()), Some(1));
    // The layer called on data: standardized with its statistics (the guide's
    // `layers.Normalization()(x)`), adapting first when it has none.
    let z = Normalization::new().call(&x).unwrap();
    let (m, v) = column_stats(&z, 4);
    for j in 0..2 {
        assert!(
            m[j].abs() < 1e-6 && (v[j] - 1.0).abs() < 1e-5,
            "{m:?} {v:?}"
        );
    }
    // Bad data is refused with the field named.
    let bad = Tensor::new(vec![2, 1], vec![1.0, f32::NAN]).unwrap();
    let e = Normalization::new().adapt(&bad).unwrap_err().to_string();
    assert!(e.contains("Normalization.adapt x"), "{e}");
}

#[test]
fn fit_adapts_on_the_training_rows_only_and_matches_standardized_data() {
    let (x, y) = scaled_table(240, 1);
    let mut m = classifier(true);
    let h = m.fit(&x, &y, &args(3), &mut []).unwrap();
    // validation_split 0.25 holds out the last 60 rows: the statistics are the first 180's.
    let (mean, var) = column_stats(&x, 180);
    let (_, n) = m.normalization().unwrap();
    for j in 0..6 {
        let (a, b) = (
            n.mean.as_ref().unwrap()[j] as f64,
            n.variance.as_ref().unwrap()[j] as f64,
        );
        assert!(
            (a - mean[j]).abs() <= 1e-4 * mean[j].abs().max(1.0),
            "mean {j}: {a} vs {}",
            mean[j]
        );
        assert!(
            (b - var[j]).abs() <= 1e-3 * var[j].max(1e-6),
            "variance {j}: {b} vs {}",
            var[j]
        );
    }
    assert_eq!(n.count, 180);
    // The same model without the layer, on data standardized by hand with those statistics,
    // trains to the same history.
    let mut z = x.clone();
    let (mu, var32) = (n.mean.clone().unwrap(), n.variance.clone().unwrap());
    for (i, v) in z.data_mut().iter_mut().enumerate() {
        *v = (*v - mu[i % 6]) / var32[i % 6].sqrt();
    }
    let mut plain = classifier(false);
    let h2 = plain.fit(&z, &y, &args(3), &mut []).unwrap();
    for k in ["loss", "val_loss", "val_accuracy"] {
        let (a, b) = (h.get(k).unwrap(), h2.get(k).unwrap());
        for (p, q) in a.iter().zip(b) {
            assert!((p - q).abs() < 1e-4, "{k}: {a:?} vs {b:?}");
        }
    }
    // predict / evaluate standardize with the same statistics.
    let p1 = m.predict(&x, None).unwrap();
    let p2 = plain.predict(&z, None).unwrap();
    for (a, b) in p1.data().iter().zip(p2.data()) {
        assert!((a - b).abs() < 1e-5);
    }
    // A second fit keeps the statistics (Keras's adapted layer does not re-adapt).
    let (x2, y2) = scaled_table(90, 9);
    m.fit(&x2, &y2, &args(1), &mut []).unwrap();
    assert_eq!(m.normalization().unwrap().1.count, 180);
}

#[test]
fn columns_of_very_different_scales_train_once_standardized() {
    let (x, y) = scaled_table(600, 2);
    let best = |normalize: bool| {
        let mut m = classifier(normalize);
        let h = m.fit(&x, &y, &args(40), &mut []).unwrap();
        h.get("val_accuracy")
            .unwrap()
            .iter()
            .cloned()
            .fold(0.0f32, f32::max)
    };
    let (raw, norm) = (best(false), best(true));
    assert!(norm >= 0.95, "standardized: best val_accuracy {norm}");
    assert!(
        raw < norm - 0.2,
        "raw columns: {raw} vs standardized {norm}"
    );
}

#[test]
fn weights_spec_and_saved_model_carry_the_statistics() {
    let (x, y) = scaled_table(120, 3);
    let mut m = classifier(true);
    m.fit(&x, &y, &args(2), &mut []).unwrap();
    let w = m.get_weights().unwrap();
    // Keras's order: mean, variance, count, then the Dense kernels and biases.
    assert_eq!(w.len(), 3 + 4);
    assert_eq!(w[0].shape(), &[6]);
    assert_eq!(w[1].shape(), &[6]);
    assert_eq!(w[2].shape(), &[] as &[usize]);
    assert_eq!(w[2].data(), &[90.0]);
    assert_eq!(w[3].shape(), &[6, 16]);
    assert_eq!(m.count_params(), 6 * 16 + 16 + 16 * 3 + 3 + 13);
    let summary = m.summary().unwrap();
    assert!(
        summary.contains("normalization (Normalization)"),
        "{summary}"
    );
    assert!(summary.contains("Non-trainable params: 13"), "{summary}");
    let want = m.predict(&x, None).unwrap();

    // set_weights onto a fresh model restores the statistics.
    let mut fresh = classifier(true);
    fresh.build(&[6]).unwrap();
    assert!(!fresh.normalization().unwrap().1.is_adapted());
    fresh.set_weights(&w).unwrap();
    assert_eq!(fresh.predict(&x, None).unwrap().data(), want.data());
    let e = fresh.set_weights(&w[3..]).unwrap_err().to_string();
    assert!(e.contains("mean, variance and count"), "{e}");

    // The spec keeps them as Keras's Normalization(mean=..., variance=...).
    let spec = ModelSpec::of(&m).to_value();
    assert_eq!(spec["layers"][0]["class_name"], "Normalization");
    assert_eq!(
        spec["layers"][0]["config"]["mean"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    let mut again = ModelSpec::from_value(&spec).unwrap().build(3).unwrap();
    again.build(&[6]).unwrap();
    again.set_weights(&w).unwrap();
    assert_eq!(again.predict(&x, None).unwrap().data(), want.data());

    // A saved model predicts the same.
    let path = std::env::temp_dir().join(format!("tunelab-norm-{}.tlmodel", std::process::id()));
    saved::save_model(&m, &path).unwrap();
    let mut loaded = saved::load_model(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(loaded.predict(&x, None).unwrap().data(), want.data());

    // The TF.js export turns it into a Dense layer with a diagonal kernel.
    let (json, bytes) = saved::tfjs_layers_model(&m, "w.bin").unwrap();
    let layers = json["modelTopology"]["config"]["layers"]
        .as_array()
        .unwrap();
    assert_eq!(layers[0]["class_name"], "Dense");
    assert_eq!(layers[0]["config"]["units"], 6);
    assert_eq!(bytes.len(), 4 * (36 + 6 + 6 * 16 + 16 + 16 * 3 + 3));
}

#[test]
fn bad_normalization_specs_are_refused_with_the_field() {
    let cases = [
        (
            r#"{"layers":[{"class_name":"Dense","config":{"units":2}},{"class_name":"Normalization","config":{}}],"input_shape":[3]}"#,
            "layers[1] (Normalization)",
        ),
        (
            r#"{"layers":[{"class_name":"Normalization","config":{"axis":0}},{"class_name":"Dense","config":{"units":2}}]}"#,
            "layers[0].config.axis",
        ),
        (
            r#"{"layers":[{"class_name":"Normalization","config":{"invert":true}},{"class_name":"Dense","config":{"units":2}}]}"#,
            "layers[0].config.invert",
        ),
        (
            r#"{"layers":[{"class_name":"Normalization","config":{"mean":[1,2]}},{"class_name":"Dense","config":{"units":2}}]}"#,
            "layers[0].config.mean / layers[0].config.variance",
        ),
        (
            r#"{"layers":[{"class_name":"Normalization","config":{"mean":[1,2],"variance":[1,-1]}},{"class_name":"Dense","config":{"units":2}}]}"#,
            "layers[0].config.variance",
        ),
        (
            r#"{"layers":[{"class_name":"Normalization","config":{"mean":[1,2],"variance":[1,1]}},{"class_name":"Dense","config":{"units":2}}],"input_shape":[3]}"#,
            "layers[0].mean",
        ),
    ];
    for (text, field) in cases {
        let e = ModelSpec::parse(text)
            .and_then(|s| s.build(0))
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(e.contains(field), "{text}: {e}");
    }
    // Given statistics are used as they are (no adapt).
    let s = ModelSpec::parse(
        r#"{"layers":[{"class_name":"Normalization","config":{"mean":[1,2],"variance":[4,1]}},{"class_name":"Dense","config":{"units":1,"use_bias":false,"kernel_initializer":"ones"}}],"input_shape":[2]}"#,
    )
    .unwrap();
    let mut m = s.build(0).unwrap();
    let p = m
        .predict(&Tensor::new(vec![1, 2], vec![3.0, 3.0]).unwrap(), None)
        .unwrap();
    assert!((p.data()[0] - 2.0).abs() < 1e-6, "{:?}", p.data());
}

#[test]
fn normalization_after_flatten_uses_every_value_as_a_feature() {
    let x = Tensor::new(
        vec![3, 2, 2],
        (0..12).map(|v| v as f32 * 10.0).collect::<Vec<_>>(),
    )
    .unwrap();
    let y = Tensor::new(vec![3, 1], vec![0.0, 1.0, 0.0]).unwrap();
    let mut m = Sequential::new().seed(1);
    m.add(flatten());
    m.add(Normalization::new());
    m.add(Dense::new(1));
    m.compile(
        Optimizer::from_name("sgd").unwrap(),
        Loss::from_name("mse").unwrap(),
        &[],
    )
    .unwrap();
    m.fit(
        &x,
        &y,
        &FitArgs {
            epochs: 1,
            verbose: 0,
            ..Default::default()
        },
        &mut [],
    )
    .unwrap();
    assert_eq!(m.get_weights().unwrap()[0].shape(), &[4]);
    // Before Flatten, the last axis (2 features).
    let mut m2 = Sequential::new().seed(1);
    m2.add(Normalization::new());
    m2.add(flatten());
    m2.add(Dense::new(1));
    m2.compile(
        Optimizer::from_name("sgd").unwrap(),
        Loss::from_name("mse").unwrap(),
        &[],
    )
    .unwrap();
    m2.fit(
        &x,
        &y,
        &FitArgs {
            epochs: 1,
            verbose: 0,
            ..Default::default()
        },
        &mut [],
    )
    .unwrap();
    assert_eq!(m2.get_weights().unwrap()[0].shape(), &[2]);
}

/// tests/data/scaled-3class.csv (the table the CLI, npm and page tests read) is this
/// generator's output; `TUNELAB_WRITE_FIXTURES=1` rewrites it.
#[test]
fn the_committed_csv_fixture_is_the_generators_table() {
    let text = scaled::csv(&scaled_table(600, 5));
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/scaled-3class.csv");
    if std::env::var_os("TUNELAB_WRITE_FIXTURES").is_some() {
        std::fs::write(path, &text).unwrap();
    }
    assert_eq!(std::fs::read_to_string(path).unwrap(), text);
}
