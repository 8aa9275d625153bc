//! Parity with Keras 3: every fixture under tests/golden/fixtures (written by
//! tests/golden/make_fixtures.py with keras + jax on CPU) is replayed here — same spec, same
//! initial weights, same data, no shuffling — and tunelab's per-epoch history, final weights,
//! predictions and evaluation must match Keras within 1e-4 relative.

use serde_json::Value;
use std::collections::HashMap;
use tunelab::nn::{Evaluation, FitArgs, ValidationData};
use tunelab::spec::ModelSpec;
use tunelab::Tensor;

const RTOL: f64 = 1e-4;
/// Absolute floor for values that are (nearly) zero, where a relative bound means nothing.
const ATOL: f64 = 1e-5;

fn tensor(v: &Value) -> Tensor {
    fn walk(v: &Value, depth: usize, shape: &mut Vec<usize>, out: &mut Vec<f32>) {
        match v {
            Value::Array(a) => {
                if shape.len() <= depth {
                    shape.push(a.len());
                }
                for x in a {
                    walk(x, depth + 1, shape, out);
                }
            }
            Value::Number(n) => out.push(n.as_f64().unwrap() as f32),
            other => panic!("unexpected {other}"),
        }
    }
    let mut shape = Vec::new();
    let mut data = Vec::new();
    walk(v, 0, &mut shape, &mut data);
    Tensor::new(shape, data).unwrap()
}

fn floats(v: &Value) -> Vec<f32> {
    tensor(v).into_data()
}

fn close(a: f32, b: f32) -> bool {
    let (a, b) = (a as f64, b as f64);
    (a - b).abs() <= ATOL + RTOL * a.abs().max(b.abs())
}

fn compare(case: &str, what: &str, got: &[f32], want: &[f32], failures: &mut Vec<String>) {
    if got.len() != want.len() {
        failures.push(format!(
            "{case}: {what}: {} values, Keras has {}",
            got.len(),
            want.len()
        ));
        return;
    }
    let worst = got
        .iter()
        .zip(want)
        .enumerate()
        .filter(|(_, (g, w))| !close(**g, **w))
        .max_by(|a, b| {
            let da = (a.1 .0 - a.1 .1).abs();
            let db = (b.1 .0 - b.1 .1).abs();
            da.total_cmp(&db)
        });
    if let Some((i, (g, w))) = worst {
        failures.push(format!("{case}: {what}[{i}] = {g}, Keras {w}"));
    }
}

fn run_case(path: &std::path::Path, failures: &mut Vec<String>) {
    let text = std::fs::read_to_string(path).unwrap();
    let f: Value = serde_json::from_str(&text).unwrap();
    let case = f["name"].as_str().unwrap().to_string();
    let spec = ModelSpec::from_value(&f["spec"]).unwrap_or_else(|e| panic!("{case}: {e}"));
    let mut model = spec.build(0).unwrap();
    let x = tensor(&f["x"]);
    let mut y = tensor(&f["y"]);
    if y.shape().len() == 1 {
        let n = y.rows();
        y = y.reshape(vec![n, 1]).unwrap();
    }
    model.build(&x.shape()[1..]).unwrap();
    let init: Vec<Tensor> = f["initial_weights"]
        .as_array()
        .unwrap()
        .iter()
        .map(tensor)
        .collect();
    model
        .set_weights(&init)
        .unwrap_or_else(|e| panic!("{case}: {e}"));

    let fit = &f["fit"];
    let mut args = FitArgs {
        epochs: fit["epochs"].as_u64().unwrap() as usize,
        batch_size: fit["batch_size"].as_u64().map(|b| b as usize),
        shuffle: fit["shuffle"].as_bool().unwrap_or(true),
        verbose: 0,
        ..Default::default()
    };
    if let Some(v) = fit.get("sample_weight") {
        args.sample_weight = Some(floats(v));
    }
    if let Some(v) = fit.get("class_weight") {
        let cw: HashMap<usize, f32> = v
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, w)| (k.parse().unwrap(), w.as_f64().unwrap() as f32))
            .collect();
        args.class_weight = Some(cw);
    }
    if let Some(v) = fit.get("validation_split") {
        args.validation_split = v.as_f64().unwrap() as f32;
    }
    if let Some(v) = fit.get("validation_data") {
        let mut vy = tensor(&v["y"]);
        if vy.shape().len() == 1 {
            let n = vy.rows();
            vy = vy.reshape(vec![n, 1]).unwrap();
        }
        args.validation_data = Some(ValidationData {
            x: tensor(&v["x"]),
            y: vy,
            sample_weight: v.get("sample_weight").map(floats),
        });
    }
    if let Some(v) = fit.get("initial_epoch") {
        args.initial_epoch = v.as_u64().unwrap() as usize;
    }
    if let Some(v) = fit.get("validation_freq") {
        args.validation_freq = v.as_u64().unwrap() as usize;
    }
    let history = match model.fit(&x, &y, &args, &mut []) {
        Ok(h) => h,
        Err(e) => {
            failures.push(format!("{case}: fit failed: {e}"));
            return;
        }
    };
    let want_hist = f["history"].as_object().unwrap();
    let mut got_keys: Vec<&str> = history.keys();
    got_keys.sort();
    let mut want_keys: Vec<&str> = want_hist.keys().map(|k| k.as_str()).collect();
    want_keys.sort();
    if got_keys != want_keys {
        failures.push(format!(
            "{case}: history keys {got_keys:?}, Keras {want_keys:?}"
        ));
    }
    for (k, v) in want_hist {
        if let Some(got) = history.get(k) {
            compare(&case, &format!("history.{k}"), got, &floats(v), failures);
        }
    }
    let got_w = model.get_weights().unwrap();
    for (i, w) in f["final_weights"].as_array().unwrap().iter().enumerate() {
        compare(
            &case,
            &format!("final_weights[{i}]"),
            got_w[i].data(),
            &floats(w),
            failures,
        );
    }
    let pred = model.predict(&x, None).unwrap();
    compare(
        &case,
        "predict",
        pred.data(),
        &floats(&f["predict"]),
        failures,
    );
    match model.evaluate(&x, &y, None, None, true).unwrap() {
        Evaluation::Dict(logs) => {
            for (k, v) in f["evaluate"].as_object().unwrap() {
                match logs.get(k) {
                    Some(g) => compare(
                        &case,
                        &format!("evaluate.{k}"),
                        &[g],
                        &[v.as_f64().unwrap() as f32],
                        failures,
                    ),
                    None => failures.push(format!("{case}: evaluate lacks {k}")),
                }
            }
        }
        other => failures.push(format!("{case}: evaluate returned {other:?}")),
    }
}

#[test]
fn every_fixture_matches_keras() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/fixtures");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 60,
        "expected the committed fixtures, found {}",
        paths.len()
    );
    let mut failures = Vec::new();
    for p in &paths {
        run_case(p, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
