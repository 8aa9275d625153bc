//! The `tunelab` command line, run as a user would: the guide's model on the built-in digits,
//! JSON output, `--initial-weights`, `summary`, and clear errors for bad input.

use serde_json::Value;
use std::process::Command;

fn tunelab(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tunelab"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run tunelab");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("tunelab-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

/// The getting-started guide's model (Flatten, Dense relu with units in 32..512, Dense 10
/// softmax, adam, categorical_crossentropy, accuracy) reaches 95% validation accuracy on digits.
#[test]
fn guide_model_learns_digits() {
    let spec = write(
        "guide.json",
        r#"{"layers": [{"class_name": "Flatten", "config": {}},
                       {"class_name": "Dense", "config": {"units": 128, "activation": "relu"}},
                       {"class_name": "Dense", "config": {"units": 10, "activation": "softmax"}}],
            "compile": {"optimizer": "adam", "loss": "categorical_crossentropy", "metrics": ["accuracy"]}}"#,
    );
    let (code, out, err) = tunelab(&[
        "fit",
        &spec,
        "--dataset",
        "digits",
        "--epochs",
        "20",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let val_acc: Vec<f64> = v["history"]["val_accuracy"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert_eq!(val_acc.len(), 20);
    let last = *val_acc.last().unwrap();
    assert!(
        last >= 0.95,
        "final val_accuracy {last} < 0.95: {val_acc:?}"
    );
    let loss: Vec<f64> = v["history"]["loss"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert!(loss[19] < loss[0] / 5.0, "loss did not fall: {loss:?}");
    // weights: kernel 64x128, bias 128, kernel 128x10, bias 10
    let w = v["weights"].as_array().unwrap();
    assert_eq!(w.len(), 4);
    assert_eq!(w[0].as_array().unwrap().len(), 64);
    assert_eq!(w[0][0].as_array().unwrap().len(), 128);
    assert_eq!(w[3].as_array().unwrap().len(), 10);
    assert_eq!(v["device"], "cpu");
}

/// Training 2 epochs equals training 1 epoch, then 1 more from the printed weights (plain SGD
/// keeps no state, and without shuffling the batches are the same).
#[test]
fn initial_weights_continue_training_exactly() {
    let spec = write(
        "sgd.json",
        r#"{"layers": [{"class_name": "Dense", "config": {"units": 6, "activation": "tanh"}},
                       {"class_name": "Dense", "config": {"units": 1, "activation": "sigmoid"}}],
            "compile": {"optimizer": {"class_name": "sgd", "config": {"learning_rate": 0.1}},
                        "loss": "binary_crossentropy", "metrics": ["accuracy"]}}"#,
    );
    let common = [
        "--dataset",
        "xor",
        "--no-shuffle",
        "--json",
        "--seed",
        "3",
        "--batch-size",
        "16",
    ];
    let run = |epochs: &str, init: Option<&str>| -> Value {
        let mut args = vec!["fit", spec.as_str(), "--epochs", epochs];
        args.extend_from_slice(&common);
        if let Some(i) = init {
            args.extend_from_slice(&["--initial-weights", i]);
        }
        let (code, out, err) = tunelab(&args);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str(&out).unwrap()
    };
    let two = run("2", None);
    let one = run("1", None);
    let w1 = write("w1.json", &one.to_string());
    let next = run("1", Some(&w1));
    let flat = |v: &Value| -> Vec<f64> {
        let mut out = Vec::new();
        fn walk(v: &Value, out: &mut Vec<f64>) {
            match v {
                Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
                Value::Number(n) => out.push(n.as_f64().unwrap()),
                _ => {}
            }
        }
        walk(v, &mut out);
        out
    };
    let (a, b) = (flat(&two["weights"]), flat(&next["weights"]));
    assert_eq!(a.len(), 2 * 6 + 6 + 6 + 1);
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() < 1e-6, "{x} vs {y}");
    }
    assert_ne!(
        flat(&one["weights"]),
        a,
        "the second epoch changed the weights"
    );
}

#[test]
fn summary_prints_the_keras_table() {
    let (code, out, err) = tunelab(&["summary", "examples/digits.json", "--input-shape", "8,8"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("│ flatten (Flatten)               │ (None, 64)"),
        "{out}"
    );
    assert!(
        out.contains(
            "│ dense (Dense)                   │ (None, 256)               │     16,640 │"
        ),
        "{out}"
    );
    assert!(out.contains(" Total params: 19,210 (75.04 KB)"), "{out}");
}

#[test]
fn bad_input_is_a_clear_error_not_a_crash() {
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["fit", "examples/digits.json", "--dataset", "mnist"],
            "unknown dataset `mnist`; valid dataset names are: circle, xor",
        ),
        (
            vec![
                "fit",
                "examples/digits.json",
                "--dataset",
                "digits",
                "--batch-size",
                "0",
            ],
            "`batch_size`: 0 (allowed: an integer >= 1)",
        ),
        (
            vec![
                "fit",
                "examples/digits.json",
                "--dataset",
                "digits",
                "--validation-split",
                "1.5",
            ],
            "`validation_split`: 1.5 (allowed: a float in [0, 1))",
        ),
        (
            vec!["fit", "missing.json", "--dataset", "digits"],
            "cannot read SPEC missing.json",
        ),
        (
            vec![
                "fit",
                "examples/digits.json",
                "--dataset",
                "digits",
                "--epoch",
                "3",
            ],
            "unknown option `--epoch`",
        ),
        (vec!["fitt"], "unknown command `fitt`"),
    ];
    for (args, want) in cases {
        let (code, _out, err) = tunelab(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: expected `{want}` in: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let wide = write(
        "wide.json",
        r#"{"input_shape": [64], "layers": [{"class_name": "Dense", "config": {"units": 1}}], "compile": {"loss": "mse"}}"#,
    );
    let (code, _, err) = tunelab(&["fit", &wide, "--dataset", "circle"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("shape mismatch in model input: expected (64,), got (2,)"),
        "{err}"
    );
    let bad = write(
        "bad.json",
        r#"{"layers": [{"class_name": "Dense", "config": {"units": 4, "activation": "rleu"}}], "compile": {"loss": "mse"}}"#,
    );
    let (code, _, err) = tunelab(&["fit", &bad, "--dataset", "reg-plane"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("unknown activation `rleu`; valid activation names are: linear, relu"),
        "{err}"
    );
}

#[test]
fn tune_prints_kerastuner_texts_and_json() {
    let dir = std::env::temp_dir().join(format!("tunelab-cli-tune-{}", std::process::id()));
    let d = dir.to_string_lossy().into_owned();
    let (code, out, err) = tunelab(&[
        "tune",
        "examples/guide_search.json",
        "--dataset",
        "digits",
        "--objective",
        "val_accuracy",
        "--max-trials",
        "3",
        "--executions-per-trial",
        "2",
        "--epochs",
        "2",
        "--directory",
        &d,
        "--project-name",
        "helloworld",
        "--overwrite",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("Search space summary\nDefault search space size: 5\nnum_layers (Int)\n"),
        "{out}"
    );
    assert!(out.contains("\nSearch: Running Trial #3\n"), "{out}");
    assert!(out.contains("Results summary\nResults in "), "{out}");
    assert!(out.contains("/helloworld\nShowing 10 best trials\nObjective(name=\"val_accuracy\", direction=\"max\")\n"), "{out}");
    assert!(dir.join("helloworld/oracle.json").exists());
    assert!(dir.join("helloworld/trial_0/trial.json").exists());
    assert!(dir.join("helloworld/trial_0/checkpoint.bin").exists());

    // Resuming the finished project with a larger budget continues the numbering.
    let (code, out, err) = tunelab(&[
        "tune",
        "examples/guide_search.json",
        "--dataset",
        "digits",
        "--objective",
        "val_accuracy",
        "--max-trials",
        "4",
        "--epochs",
        "2",
        "--directory",
        &d,
        "--project-name",
        "helloworld",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let trials = v["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 4);
    assert_eq!(trials[3]["trial_id"], "3");
    for t in trials {
        assert_eq!(t["status"], "COMPLETED");
        let n = t["hyperparameters"]["num_layers"].as_i64().unwrap();
        for i in 0..3 {
            assert_eq!(
                t["hyperparameters"].get(format!("units_{i}")).is_some(),
                i < n,
                "{t}"
            );
        }
        assert!(t["score"].as_f64().unwrap() > 0.1);
    }
    assert!(v["best_hyperparameters"]["lr"].as_f64().is_some());

    // Hyperband with max_epochs 3, factor 3: brackets (3 x 1 epoch -> 1 x 3 epochs) and (2 x 3).
    let (code, out, err) = tunelab(&[
        "tune",
        "examples/guide_units.json",
        "--dataset",
        "digits",
        "--tuner",
        "hyperband",
        "--objective",
        "val_accuracy",
        "--max-epochs",
        "3",
        "--factor",
        "3",
        "--directory",
        &d,
        "--project-name",
        "hb",
        "--overwrite",
        "--json",
        "--csv",
        &format!("{d}/hb.csv"),
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let epochs: Vec<i64> = v["trials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["hyperparameters"]["tuner/epochs"].as_i64().unwrap())
        .collect();
    assert_eq!(epochs, vec![1, 1, 1, 3, 3, 3]);
    assert_eq!(v["trials"][0]["trial_id"], "0000");
    // The export's hyperband section carries the same schedule; a round after the first
    // names the trial it continues.
    for t in v["trials"].as_array().unwrap() {
        let hb = &t["hyperband"];
        assert_eq!(hb["epochs"], t["hyperparameters"]["tuner/epochs"], "{t}");
        assert_eq!(hb["bracket"], t["hyperparameters"]["tuner/bracket"], "{t}");
        assert_eq!(hb["round"], t["hyperparameters"]["tuner/round"], "{t}");
        if hb["round"].as_i64() == Some(1) {
            assert!(hb["parent"].is_string(), "{t}");
        }
    }
    assert!(
        v["trials"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["hyperband"]["round"] == 1),
        "{v}"
    );
    let csv = std::fs::read_to_string(dir.join("hb.csv")).unwrap();
    assert!(csv.starts_with("trial_id,status,score,best_step,units,tuner/epochs,tuner/initial_epoch,tuner/bracket,tuner/round"), "{csv}");
    assert_eq!(csv.lines().count(), 7);

    let (code, _, err) = tunelab(&[
        "tune",
        "examples/guide_units.json",
        "--dataset",
        "digits",
        "--tuner",
        "bayes",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "unknown tuner `bayes`; valid tuner names are: random, grid, hyperband, bayesian"
        ),
        "{err}"
    );
    let (code, _, err) = tunelab(&[
        "tune",
        "examples/guide_units.json",
        "--dataset",
        "digits",
        "--objective",
        "val_f1",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("Could not infer optimization direction"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--device`: webgpu trains on the adapter (the same numbers as the CPU), each tuned trial
/// records its device, and a bad value is a clear error.
#[test]
fn device_flag() {
    let base = [
        "fit",
        "examples/digits.json",
        "--dataset",
        "digits",
        "--epochs",
        "2",
        "--json",
    ];
    let (code, cpu, err) = tunelab(&[&base[..], &["--device", "cpu"]].concat());
    assert_eq!(code, 0, "{err}");
    let cpu: Value = serde_json::from_str(&cpu).unwrap();
    assert_eq!(cpu["device"], "cpu");
    let (code, out, err) = tunelab(&[&base[..], &["--device", "tpu"]].concat());
    assert_eq!(code, 2, "{out}");
    assert!(
        err.contains("device") && err.contains("cpu, webgpu, auto"),
        "{err}"
    );
    let (code, gpu, err) = tunelab(&[&base[..], &["--device", "webgpu"]].concat());
    if code != 0
        && err.contains("no WebGPU adapter")
        && std::env::var_os("TUNELAB_REQUIRE_GPU").is_none()
    {
        eprintln!("*** SKIPPED the webgpu half: {err} ***");
        return;
    }
    assert_eq!(code, 0, "{err}");
    let gpu: Value = serde_json::from_str(&gpu).unwrap();
    assert!(
        gpu["device"].as_str().unwrap().starts_with("webgpu"),
        "{}",
        gpu["device"]
    );
    for k in ["loss", "val_loss"] {
        for (a, b) in cpu["history"][k]
            .as_array()
            .unwrap()
            .iter()
            .zip(gpu["history"][k].as_array().unwrap())
        {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            assert!((a - b).abs() < 2e-3 * a.abs(), "{k}: cpu {a} vs webgpu {b}");
        }
    }
    let dir = std::env::temp_dir().join(format!("tunelab-cli-dev-{}", std::process::id()));
    let (code, out, err) = tunelab(&[
        "tune",
        "examples/guide_search.json",
        "--dataset",
        "digits",
        "--max-trials",
        "3",
        "--epochs",
        "1",
        "--device",
        "webgpu",
        "--parallel-trials",
        "3",
        "--directory",
        dir.to_str().unwrap(),
        "--overwrite",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let trials = v
        .as_array()
        .or_else(|| v["trials"].as_array())
        .expect("a list of trials");
    assert_eq!(trials.len(), 3);
    for t in trials {
        assert!(t["device"].as_str().unwrap().starts_with("webgpu"), "{t}");
    }
}

/// `--train-percent` and `--data-seed` split as the playground page does (random rows, the
/// engine's `holdout_indices`), `--features` picks Playground's inputs; the tuner's flags are
/// read over the tuner's own defaults and a flag of another tuner is refused by name.
#[test]
fn page_split_features_and_tuner_flags() {
    let spec = write(
        "page-split.json",
        r#"{"layers": [{"class_name": "Dense", "config": {"units": {"hp": "Int", "name": "units", "min_value": 4, "max_value": 8, "step": 4}, "activation": "tanh"}},
                       {"class_name": "Dense", "config": {"units": 1, "activation": "sigmoid"}}],
            "compile": {"optimizer": "adam", "loss": "binary_crossentropy", "metrics": ["accuracy"]},
            "fit": {"batch_size": 16, "epochs": 2}}"#,
    );
    let dir = std::env::temp_dir().join(format!("tunelab-cli-split-{}", std::process::id()));
    let dir = dir.to_string_lossy().into_owned();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "tune",
            spec.as_str(),
            "--dataset",
            "circle",
            "--max-trials",
            "2",
            "--json",
            "--directory",
            dir.as_str(),
            "--overwrite",
            "--device",
            "cpu",
        ];
        args.extend_from_slice(extra);
        tunelab(&args)
    };
    let split = [
        "--train-percent",
        "70",
        "--data-seed",
        "9",
        "--features",
        "x1,x2,x1x2",
    ];
    // the trials without their times
    let scores = |out: &str| -> Vec<Value> {
        let v: Value = serde_json::from_str(out).unwrap();
        v["trials"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| serde_json::json!([t["hyperparameters"], t["metrics"]]))
            .collect()
    };
    let (code, a, err) = run(&split);
    assert_eq!(code, 0, "{err}");
    let (_, b, _) = run(&split);
    assert_eq!(
        scores(&a),
        scores(&b),
        "the same split and seeds give the same trials"
    );
    let (code, c, err) = run(&["--train-percent", "70", "--data-seed", "10"]);
    assert_eq!(code, 0, "{err}");
    assert_ne!(
        a, c,
        "another data seed (and other features) give other trials"
    );
    for (args, words) in [
        (
            vec!["--train-percent", "70", "--validation-split", "0.1"],
            vec!["--train-percent", "not both"],
        ),
        (
            vec!["--train-percent", "100"],
            vec!["--train-percent", "100", "below 100"],
        ),
        (
            vec!["--max-epochs", "9"],
            vec!["--max-epochs", "only with --tuner hyperband"],
        ),
        (
            vec!["--beta", "3"],
            vec!["--beta", "only with --tuner bayesian"],
        ),
        (vec!["--max-trials", "0"], vec!["--max-trials", ">= 1"]),
        (
            vec!["--tuner", "annealing"],
            vec!["annealing", "random, grid, hyperband, bayesian"],
        ),
    ] {
        let (code, _, err) = run(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        for w in words {
            assert!(err.contains(w), "{args:?}: {err}");
        }
    }
    let (code, _, err) = tunelab(&["tune", &spec, "--dataset", "digits", "--features", "x1"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--features") && err.contains("playground"),
        "{err}"
    );
    let (code, out, err) = run(&[
        "--tuner",
        "BayesianOptimization",
        "--num-initial-points",
        "2",
        "--alpha",
        "0.001",
        "--beta",
        "3",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"trials\""));
}

/// A reader that closes the pipe early (`tunelab catalog | head -1`) ends the command quietly,
/// with no panic message.
#[test]
fn a_closed_pipe_is_not_a_panic() {
    for _ in 0..3 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tunelab"))
            .arg("catalog")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run tunelab");
        child.stdout = None; // the reader goes away
        let out = child.wait_with_output().expect("wait for tunelab");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{:?}: {err}", out.status);
        assert!(!err.contains("panicked"), "{err}");
    }
}
