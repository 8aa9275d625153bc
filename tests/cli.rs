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

/// Usage errors (clap's, and values refused before any work) exit 2; failures of the work
/// (a missing file, a spec that does not build, a shape that does not fit) exit 1.
#[test]
fn bad_input_is_a_clear_error_not_a_crash() {
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (
            vec!["fit", "examples/digits.json", "--dataset", "mnist"],
            2,
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
            2,
            "invalid value '0' for '--batch-size <B>': allowed: an integer >= 1",
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
            2,
            "invalid value '1.5' for '--validation-split <F>': allowed: a float in [0, 1)",
        ),
        (
            vec!["fit", "missing.json", "--dataset", "digits"],
            1,
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
            2,
            "unexpected argument '--epoch'",
        ),
        (vec!["fitt"], 2, "unrecognized subcommand 'fitt'"),
    ];
    for (args, want_code, want) in cases {
        let (code, _out, err) = tunelab(&args);
        assert_eq!(code, want_code, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: expected `{want}` in: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let wide = write(
        "wide.json",
        r#"{"input_shape": [64], "layers": [{"class_name": "Dense", "config": {"units": 1}}], "compile": {"loss": "mse"}}"#,
    );
    let (code, _, err) = tunelab(&["fit", &wide, "--dataset", "circle"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("shape mismatch in model input: expected (64,), got (2,)"),
        "{err}"
    );
    let bad = write(
        "bad.json",
        r#"{"layers": [{"class_name": "Dense", "config": {"units": 4, "activation": "rleu"}}], "compile": {"loss": "mse"}}"#,
    );
    let (code, _, err) = tunelab(&["fit", &bad, "--dataset", "reg-plane"]);
    assert_eq!(code, 1, "{err}");
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
            vec![
                "--train-percent",
                "cannot be used with",
                "--validation-split",
            ],
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
        "--acquisition",
        "lcb",
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

/// The command line's own conventions: `--help` of every subcommand (exit 0, its flags named),
/// `--version`, `--flag=value`, and unknown flags refused by every subcommand with exit 2.
#[test]
fn help_version_and_unknown_flags() {
    let cases: &[(&str, &[&str])] = &[
        (
            "fit",
            &[
                "--dataset",
                "--x",
                "--label",
                "--validation-split",
                "--train-percent",
                "--features",
                "--epochs",
                "--batch-size",
                "--device",
                "--json",
                "--initial-weights",
                "--verbose",
                "--class-weight",
                "--sample-weight",
                "--initial-epoch",
                "--steps-per-epoch",
                "--validation-freq",
                "--early-stopping-patience",
                "--early-stopping-monitor",
                "--restore-best-weights",
                "Data sets",
                "digits",
                "auto (the default)",
                "get_weights",
                "Exit status",
            ],
        ),
        (
            "tune",
            &[
                "--tuner",
                "--objective",
                "--max-trials",
                "--executions-per-trial",
                "--max-epochs",
                "--factor",
                "--hyperband-iterations",
                "--num-initial-points",
                "--alpha",
                "--beta",
                "--acquisition",
                "--max-model-size",
                "--tune-new-entries",
                "--allow-new-entries",
                "--max-retries-per-trial",
                "--max-consecutive-failed-trials",
                "--max-collisions",
                "--directory",
                "--project-name",
                "--overwrite",
                "--csv",
                "--json",
                "--device",
                "--parallel-trials",
                "--storage",
                "--study-name",
                "--heartbeat-interval",
                "--grace-period",
                "optuna-dashboard",
                "Data sets",
                "tunelab catalog",
            ],
        ),
        ("summary", &["--input-shape", "SPEC"]),
        (
            "evaluate",
            &["MODEL", "--dataset", "--x", "--y", "--label", "--json"],
        ),
        (
            "predict",
            &["MODEL", "--dataset", "--x", "--features", "--json"],
        ),
        ("datasets", &["built-in data sets"]),
        ("catalog", &["JSON"]),
        (
            "completions",
            &["bash", "zsh", "fish", "powershell", "elvish"],
        ),
    ];
    for (cmd, words) in cases {
        for help in ["--help", "-h"] {
            let (code, out, err) = tunelab(&[cmd, help]);
            assert_eq!(code, 0, "{cmd} {help}: {err}");
            if help == "--help" {
                for w in *words {
                    assert!(out.contains(w), "{cmd} --help lacks {w}: {out}");
                }
            }
        }
        // An unknown flag, anywhere on the line.
        let mut args = vec![*cmd];
        match *cmd {
            "fit" | "tune" => args.extend(["examples/digits.json", "--dataset", "digits"]),
            "summary" => args.extend(["examples/digits.json", "--input-shape", "8,8"]),
            "evaluate" | "predict" => args.extend(["model.tunelab", "--dataset", "digits"]),
            "completions" => args.push("bash"),
            _ => {}
        }
        args.push("--no-such-flag");
        let (code, out, err) = tunelab(&args);
        assert_eq!(code, 2, "{args:?}: {out} {err}");
        assert!(
            err.contains("unexpected argument '--no-such-flag'"),
            "{args:?}: {err}"
        );
    }
    let (code, out, _) = tunelab(&["--version"]);
    assert_eq!(code, 0);
    assert_eq!(out.trim(), format!("tunelab {}", env!("CARGO_PKG_VERSION")));
    assert_eq!(out.trim(), "tunelab 0.1.0");
    let (code, out, _) = tunelab(&["--help"]);
    assert_eq!(code, 0);
    for c in [
        "fit",
        "tune",
        "evaluate",
        "predict",
        "summary",
        "datasets",
        "catalog",
        "completions",
    ] {
        assert!(out.contains(c), "{out}");
    }
    // --flag=value reads as --flag value.
    let spec = write(
        "eq.json",
        r#"{"layers": [{"class_name": "Dense", "config": {"units": 1, "activation": "sigmoid"}}],
            "compile": {"optimizer": "adam", "loss": "binary_crossentropy"}}"#,
    );
    let (code, out, err) = tunelab(&[
        "fit",
        &spec,
        "--dataset=xor",
        "--epochs=3",
        "--batch-size=50",
        "--device=cpu",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["epoch"], serde_json::json!([0, 1, 2]));
    // A flag given twice takes its last value (as before clap).
    let (code, out, err) = tunelab(&[
        "fit",
        &spec,
        "--dataset",
        "xor",
        "--epochs",
        "5",
        "--epochs=2",
        "--device=cpu",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["epoch"], serde_json::json!([0, 1]));
    let (code, out, err) = tunelab(&["summary", "examples/digits.json", "--input-shape=8,8"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Total params: 19,210"), "{out}");
}

/// Bad values and flags that do not go together exit 2 naming the flag, the value and what
/// is allowed, before any work; a failure of the work exits 1.
#[test]
fn exit_codes_usage_2_work_1() {
    let fit = ["fit", "examples/digits.json", "--dataset", "digits"];
    let tune = ["tune", "examples/guide_units.json", "--dataset", "digits"];
    let cases: Vec<(Vec<&str>, &[&str])> = vec![
        (
            [&fit[..], &["--device", "gpu9"]].concat(),
            &["'gpu9'", "--device", "cpu, webgpu, auto"],
        ),
        (
            [&fit[..], &["--verbose", "3"]].concat(),
            &["'3'", "--verbose"],
        ),
        (
            [&fit[..], &["--class-weight", "0=1"]].concat(),
            &["'0=1'", "--class-weight", "0:1.0,1:3.5"],
        ),
        (
            [&fit[..], &["--class-weight", "12:2"]].concat(),
            &["--class-weight", "class 12", "below 10"],
        ),
        (
            [&fit[..], &["--restore-best-weights"]].concat(),
            &["--early-stopping-patience"],
        ),
        (
            [&fit[..], &["--initial-epoch", "4", "--epochs", "3"]].concat(),
            &["--initial-epoch", "4", "at most --epochs (3)"],
        ),
        (
            [
                &fit[..],
                &["--validation-split", "0", "--validation-freq", "2"],
            ]
            .concat(),
            &["--validation-freq", "only with validation data"],
        ),
        (
            [&fit[..], &["--noise", "10"]].concat(),
            &["--noise", "only with a playground data set"],
        ),
        (
            vec!["fit", "examples/digits.json"],
            &["--dataset NAME or --x FILE"],
        ),
        (
            [&tune[..], &["--study-name", "s"]].concat(),
            &["--study-name", "only with --storage"],
        ),
        (
            [&tune[..], &["--storage", "mysql://me:secret@host/db"]].concat(),
            &["--storage", "mysql", "sqlite:///PATH"],
        ),
        (
            [&tune[..], &["--tuner", "bayesian", "--beta", "3"]].concat(),
            &["--beta", "only with acquisition \"lcb\""],
        ),
        (
            [&tune[..], &["--tuner", "bayesian", "--acquisition", "ucb"]].concat(),
            &["--acquisition", "ucb", "\"ei\"", "\"lcb\""],
        ),
        (
            [&tune[..], &["--acquisition", "lcb"]].concat(),
            &["--acquisition", "only with --tuner bayesian"],
        ),
        (
            [&tune[..], &["--max-model-size", "0"]].concat(),
            &["--max-model-size", "0", ">= 1"],
        ),
        (
            [&tune[..], &["--tune-new-entries", "no"]].concat(),
            &["'no'", "--tune-new-entries", "true, false"],
        ),
        (
            [&tune[..], &["--grace-period", "-1"]].concat(),
            &["--grace-period", "seconds > 0"],
        ),
        (
            vec!["summary", "examples/digits.json"],
            &["--input-shape", "missing"],
        ),
        // Option values are checked before the spec is read.
        (
            vec![
                "tune",
                "no/such/spec.json",
                "--dataset",
                "digits",
                "--max-trials",
                "0",
            ],
            &["--max-trials", ">= 1"],
        ),
        (
            vec![
                "tune",
                "no/such/spec.json",
                "--dataset",
                "digits",
                "--objective",
                "val_f1",
            ],
            &["Could not infer optimization direction"],
        ),
    ];
    for (args, words) in cases {
        let (code, out, err) = tunelab(&args);
        assert_eq!(code, 2, "{args:?}: {out} {err}");
        assert!(
            err.lines().any(|l| l.starts_with("error: ")),
            "{args:?}: {err}"
        );
        assert!(!err.contains("secret"), "{err}");
        for w in words {
            assert!(err.contains(w), "{args:?}: expected {w:?} in: {err}");
        }
    }
    for (args, want) in [
        (
            vec!["fit", "no/such/spec.json", "--dataset", "digits"],
            "cannot read SPEC no/such/spec.json",
        ),
        (
            vec![
                "fit",
                "examples/digits.json",
                "--x",
                "no/such/x.npy",
                "--y",
                "no/such/y.npy",
            ],
            "no/such/x.npy",
        ),
        (
            vec!["tune", "no/such/spec.json", "--dataset", "digits"],
            "cannot read SPEC no/such/spec.json",
        ),
        (
            vec!["summary", "no/such/spec.json"],
            "cannot read SPEC no/such/spec.json",
        ),
    ] {
        let (code, _, err) = tunelab(&args);
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// A plain two-layer net on xor whose learning rate is too small to move a weight: the loss
/// is the same every epoch (what early stopping on `loss` waits for).
const FROZEN: &str = r#"{"layers": [{"class_name": "Dense", "config": {"units": 4, "activation": "tanh"}},
                       {"class_name": "Dense", "config": {"units": 1, "activation": "sigmoid"}}],
            "compile": {"optimizer": {"class_name": "sgd", "config": {"learning_rate": 1e-30}},
                        "loss": "binary_crossentropy", "metrics": ["accuracy"]}}"#;

fn fit_json(args: &[&str]) -> Value {
    let mut all = vec!["fit"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--device", "cpu", "--json"]);
    let (code, out, err) = tunelab(&all);
    assert_eq!(code, 0, "{all:?}: {err}");
    serde_json::from_str(&out).unwrap()
}

fn series(v: &Value, key: &str) -> Vec<f64> {
    v["history"][key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {v}"))
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// The new `fit` flags reach Keras's fit: class and sample weights, the initial epoch, steps
/// per epoch, the validation frequency, early stopping with its monitor and best weights.
#[test]
fn fit_flags_are_honoured() {
    let frozen = write("frozen.json", FROZEN);
    let xor = [frozen.as_str(), "--dataset", "xor", "--seed", "1"];
    // class weights: all 1 changes nothing, class 1 weighted 3.5 raises the training loss.
    let plain = fit_json(&xor);
    let ones = fit_json(&[&xor[..], &["--class-weight", "0:1,1:1"]].concat());
    let heavy = fit_json(&[&xor[..], &["--class-weight", "0:1.0,1:3.5"]].concat());
    assert_eq!(series(&plain, "loss"), series(&ones, "loss"));
    assert!(
        series(&heavy, "loss")[0] > series(&plain, "loss")[0] * 1.5,
        "{heavy} vs {plain}"
    );
    assert_eq!(series(&plain, "val_loss"), series(&heavy, "val_loss"));
    // sample weights: one per row of the data set (500 for xor, before the split).
    let ones = write("w1.csv", &format!("w\n{}", "1\n".repeat(500)));
    let halves: String = (0..500)
        .map(|i| if i % 2 == 0 { "0.5\n" } else { "2\n" })
        .collect();
    let halves = write("w2.csv", &format!("w\n{halves}"));
    let same = fit_json(&[&xor[..], &["--sample-weight", &ones]].concat());
    let other = fit_json(&[&xor[..], &["--sample-weight", &halves]].concat());
    assert_eq!(series(&plain, "loss"), series(&same, "loss"));
    assert_ne!(series(&plain, "loss"), series(&other, "loss"));
    let short = write("w3.csv", "w\n1\n2\n");
    let (code, _, err) = tunelab(&[&["fit"], &xor[..], &["--sample-weight", &short]].concat());
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("--sample-weight") && err.contains("500 rows"),
        "{err}"
    );
    // --train-percent splits the weights with the rows.
    let split = fit_json(
        &[
            &xor[..],
            &["--train-percent", "60", "--sample-weight", &ones],
        ]
        .concat(),
    );
    let split_plain = fit_json(&[&xor[..], &["--train-percent", "60"]].concat());
    assert_eq!(series(&split, "loss"), series(&split_plain, "loss"));
    // --initial-epoch 3 with --epochs 5 trains epochs 3 and 4.
    let v = fit_json(&[&xor[..], &["--initial-epoch", "3", "--epochs", "5"]].concat());
    assert_eq!(v["epoch"], serde_json::json!([3, 4]));
    assert_eq!(series(&v, "loss").len(), 2);
    // --validation-freq 2: validation on every second epoch only.
    let v = fit_json(&[&xor[..], &["--epochs", "4", "--validation-freq", "2"]].concat());
    assert_eq!(series(&v, "loss").len(), 4);
    assert_eq!(series(&v, "val_loss").len(), 2);
    // --steps-per-epoch 3 (of 13 batches): another (shorter) epoch.
    let learn = write("learn.json", &FROZEN.replace("1e-30", "0.5"));
    let learn_xor = [learn.as_str(), "--dataset", "xor", "--seed", "1"];
    let full = fit_json(&learn_xor);
    let (code, out, err) = tunelab(
        &[
            &["fit"],
            &learn_xor[..],
            &[
                "--steps-per-epoch",
                "3",
                "--verbose",
                "2",
                "--device",
                "cpu",
            ],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("3/3 - "), "{out}");
    let steps = fit_json(&[&learn_xor[..], &["--steps-per-epoch", "3"]].concat());
    assert_ne!(series(&full, "loss"), series(&steps, "loss"));
    // Early stopping: the frozen loss never improves, so patience 2 stops after 3 epochs.
    let v = fit_json(
        &[
            &xor[..],
            &[
                "--epochs",
                "10",
                "--early-stopping-patience",
                "2",
                "--early-stopping-monitor",
                "loss",
            ],
        ]
        .concat(),
    );
    assert_eq!(v["epoch"], serde_json::json!([0, 1, 2]));
    // A monitor the fit does not log is refused, naming the ones it does.
    let (code, _, err) = tunelab(
        &[
            &["fit"],
            &xor[..],
            &[
                "--epochs",
                "3",
                "--early-stopping-patience",
                "1",
                "--early-stopping-monitor",
                "val_acc",
            ],
        ]
        .concat(),
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("--early-stopping-monitor") && err.contains("val_accuracy"),
        "{err}"
    );
    // --restore-best-weights: a fast learner whose val_loss turns back up ends on the weights
    // of its best epoch, which a plain fit of that many epochs reproduces.
    let fast = write(
        "fast.json",
        &FROZEN.replace("\"units\": 4", "\"units\": 8").replace(
            "{\"class_name\": \"sgd\", \"config\": {\"learning_rate\": 1e-30}}",
            "{\"class_name\": \"adam\", \"config\": {\"learning_rate\": 0.3}}",
        ),
    );
    let fast_xor = [fast.as_str(), "--dataset", "xor", "--epochs", "40"];
    let stop = ["--early-stopping-patience", "2"];
    let stopped = fit_json(&[&fast_xor[..], &stop[..]].concat());
    let restored = fit_json(&[&fast_xor[..], &stop[..], &["--restore-best-weights"]].concat());
    let val = series(&restored, "val_loss");
    assert!(val.len() < 40, "early stopping never stopped: {val:?}");
    assert_eq!(series(&stopped, "val_loss"), val);
    let best = val
        .iter()
        .enumerate()
        .fold(
            (0, f64::INFINITY),
            |b, (i, &v)| if v < b.1 { (i, v) } else { b },
        )
        .0;
    assert!(best + 1 < val.len(), "{val:?}");
    let epochs = (best + 1).to_string();
    let reference = fit_json(&[fast.as_str(), "--dataset", "xor", "--epochs", &epochs]);
    assert_eq!(restored["weights"], reference["weights"]);
    assert_ne!(stopped["weights"], reference["weights"]);
}

/// The new `tune` flags reach the engine: the acquisition, the model size limit, and
/// KerasTuner's tune_new_entries / allow_new_entries on the search space.
#[test]
fn tune_flags_are_honoured() {
    let dir = std::env::temp_dir().join(format!("tunelab-cli-flags-{}", std::process::id()));
    let d = dir.to_string_lossy().into_owned();
    let run = |project: &str, extra: &[&str]| {
        let mut args = vec![
            "tune",
            "examples/guide_units.json",
            "--dataset",
            "digits",
            "--epochs",
            "1",
            "--max-trials",
            "3",
            "--device",
            "cpu",
            "--directory",
            d.as_str(),
            "--project-name",
            project,
            "--json",
        ];
        args.extend_from_slice(extra);
        tunelab(&args)
    };
    let trials = |out: &str| -> Vec<Value> {
        let v: Value = serde_json::from_str(out).unwrap();
        v["trials"].as_array().unwrap().clone()
    };
    // Bayesian optimization with KerasTuner's lower confidence bound.
    let (code, out, err) = run(
        "lcb",
        &[
            "--tuner",
            "bayesian",
            "--num-initial-points",
            "2",
            "--acquisition",
            "lcb",
            "--beta",
            "3",
            "--overwrite",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(trials(&out).len(), 3);
    // --max-model-size: every model of this space is larger, so every trial fails and the
    // search ends on its consecutive-failure limit (a failure of the work: exit 1).
    let (code, _, err) = run("small", &["--max-model-size", "5000", "--overwrite"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("Oversized model"), "{err}");
    let (code, out, err) = run("big", &["--max-model-size", "1000000", "--overwrite"]);
    assert_eq!(code, 0, "{err}");
    assert!(trials(&out).iter().all(|t| t["status"] == "COMPLETED"));
    // --tune-new-entries false: units stays at its default, one trial (the space has one point).
    let (code, out, err) = run("fixed", &["--tune-new-entries", "false", "--overwrite"]);
    assert_eq!(code, 0, "{err}");
    let t = trials(&out);
    assert!(!t.is_empty());
    for t in &t {
        assert_eq!(t["hyperparameters"]["units"], 32, "{t}");
    }
    let (code, out, err) = tunelab(&[
        "tune",
        "examples/guide_units.json",
        "--dataset",
        "digits",
        "--max-trials",
        "1",
        "--epochs",
        "1",
        "--device",
        "cpu",
        "--directory",
        &d,
        "--project-name",
        "fixed-text",
        "--overwrite",
        "--tune-new-entries=false",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("units (Fixed)"), "{out}");
    // ... and true searches it (the default).
    let (code, out, err) = run("tuned", &["--tune-new-entries", "true", "--overwrite"]);
    assert_eq!(code, 0, "{err}");
    let units: Vec<Value> = trials(&out)
        .iter()
        .map(|t| t["hyperparameters"]["units"].clone())
        .collect();
    assert!(units.iter().any(|u| *u != 32), "{units:?}");
    // A resumed project keeps the space it stored: the flag is refused, not ignored.
    let (code, _, err) = run(
        "tuned",
        &["--tune-new-entries", "false", "--max-trials", "4"],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("--tune-new-entries false") && err.contains("--overwrite"),
        "{err}"
    );
    // --allow-new-entries false: a new project has no space yet, so the spec's hp is refused;
    // a resumed project's stored space holds it, so the search goes on.
    let (code, _, err) = run("closed", &["--allow-new-entries", "false", "--overwrite"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("--allow-new-entries false") && err.contains("units"),
        "{err}"
    );
    let (code, out, err) = run(
        "tuned",
        &["--allow-new-entries", "false", "--max-trials", "4"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(trials(&out).len(), 4);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `tunelab completions SHELL` prints clap_complete's script.
#[test]
fn completions() {
    let (code, out, err) = tunelab(&["completions", "bash"]);
    assert_eq!(code, 0, "{err}");
    for w in [
        "_tunelab()",
        "fit",
        "tune",
        "summary",
        "datasets",
        "catalog",
        "completions",
        "--early-stopping-patience",
        "--storage",
    ] {
        assert!(out.contains(w), "bash completion lacks {w}");
    }
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let (code, out, err) = tunelab(&["completions", shell]);
        assert_eq!(code, 0, "{shell}: {err}");
        assert!(out.contains("tunelab") && out.contains("tune"), "{shell}");
    }
    let (code, _, err) = tunelab(&["completions", "tcsh"]);
    assert_eq!(code, 2);
    assert!(err.contains("'tcsh'") && err.contains("bash"), "{err}");
}

/// `fit --save` then `evaluate` and `predict` on the saved model: the same numbers as the fit's
/// own model, CSV and JSON output, and the errors (a missing model file exits 1, a file that is
/// not a model exits 1 naming it, data flags that make no sense exit 2).
#[test]
fn saved_models_evaluate_and_predict() {
    let dir = std::env::temp_dir().join(format!("tunelab-cli-saved-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("digits.tunelab");
    let m = model.to_str().unwrap();
    let (code, out, err) = tunelab(&[
        "fit",
        "examples/digits.json",
        "--dataset",
        "digits",
        "--epochs",
        "3",
        "--device",
        "cpu",
        "--save",
        m,
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let trained: Value = serde_json::from_str(&out).unwrap();
    // evaluate on the whole set: Keras's line, then JSON.
    let (code, out, err) = tunelab(&["evaluate", m, "--dataset", "digits"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("loss: ") && out.contains(" - accuracy: "),
        "{out}"
    );
    let (code, out, err) = tunelab(&["evaluate", m, "--dataset", "digits", "--json"]);
    assert_eq!(code, 0, "{err}");
    let ev: Value = serde_json::from_str(&out).unwrap();
    let acc = ev["accuracy"].as_f64().unwrap();
    assert!(acc > 0.5 && acc <= 1.0, "{ev}");
    // The last epoch's training accuracy is measured on 80% of the rows while the weights
    // moved; the saved model's accuracy on all rows is close to it.
    let last = trained["history"]["accuracy"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .as_f64()
        .unwrap();
    assert!((acc - last).abs() < 0.1, "{acc} vs {last}");
    // predict: one CSV row of 10 probabilities per sample; JSON the same numbers.
    let (code, csv, err) = tunelab(&["predict", m, "--dataset", "digits"]);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 1797);
    let first: Vec<f64> = rows[0].split(',').map(|v| v.parse().unwrap()).collect();
    assert_eq!(first.len(), 10);
    assert!((first.iter().sum::<f64>() - 1.0).abs() < 1e-4);
    let (code, out, err) = tunelab(&["predict", m, "--dataset", "digits", "--json"]);
    assert_eq!(code, 0, "{err}");
    let p: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(p["predictions"].as_array().unwrap().len(), 1797);
    assert_eq!(
        p["predictions"][0][3].as_f64().unwrap() as f32,
        first[3] as f32
    );
    // Errors.
    let (code, _, err) = tunelab(&["predict", "no/such.tunelab", "--dataset", "digits"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("cannot read the model no/such.tunelab"),
        "{err}"
    );
    let (code, _, err) = tunelab(&["predict", "examples/digits.json", "--dataset", "digits"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not a saved tunelab model"), "{err}");
    let (code, _, err) = tunelab(&["evaluate", m, "--x", "x.csv"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--y"), "{err}");
    let (code, _, err) = tunelab(&["predict", m]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--dataset NAME or --x FILE"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `tune --verbose`: each trial's fit prints Keras's lines under the trial display, as
/// KerasTuner passes search's verbose to every fit; none by default off a terminal, and
/// --json refuses it (its output is one JSON document).
#[test]
fn tune_verbose_shows_each_trials_fit() {
    let base = [
        "tune",
        "examples/guide_search.json",
        "--dataset",
        "digits",
        "--max-trials",
        "2",
        "--epochs",
        "2",
        "--device",
        "cpu",
        "--overwrite",
        "--directory",
    ];
    let dir = std::env::temp_dir().join(format!("tunelab-cli-verbose-{}", std::process::id()));
    let d = dir.to_str().unwrap();
    let mut args: Vec<&str> = base.to_vec();
    args.extend([d, "--verbose", "2"]);
    let (code, out, err) = tunelab(&args);
    assert_eq!(code, 0, "{err}");
    let begin = out.find("Running Trial #1").unwrap();
    let epoch = out.find("Epoch 1/2").expect("no epoch line");
    let end = out.find("Trial 1 Complete").unwrap();
    assert!(begin < epoch && epoch < end, "{out}");
    assert!(out.contains("val_accuracy: "), "{out}");
    let mut args: Vec<&str> = base.to_vec();
    args.push(d);
    let (code, out, err) = tunelab(&args);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("Epoch 1/2"), "{out}");
    let mut args: Vec<&str> = base.to_vec();
    args.extend([d, "--json", "--verbose", "1"]);
    let (code, _, err) = tunelab(&args);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--verbose") && err.contains("--json"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--normalize` on a table whose columns differ in scale by orders of magnitude: without it
/// fit and tune warn and stall, with it they train; the saved model keeps the statistics.
#[test]
fn normalize_flag_and_the_scale_warning() {
    let csv = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/scaled-3class.csv");
    let spec = write(
        "table.json",
        r#"{"layers": [{"class_name": "Dense", "config": {"units": 16, "activation": "relu"}},
                       {"class_name": "Dense", "config": {"units": 3, "activation": "softmax"}}],
            "compile": {"optimizer": {"class_name": "adam", "config": {"learning_rate": 0.01}},
                        "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}}"#,
    );
    let model = write("table.tlmodel", "");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "fit",
            &spec,
            "--x",
            csv,
            "--label",
            "label",
            "--validation-split",
            "0.25",
            "--epochs",
            "30",
            "--device",
            "cpu",
            "--json",
        ];
        args.extend_from_slice(extra);
        let (code, out, err) = tunelab(&args);
        assert_eq!(code, 0, "{args:?}: {err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        let best = series(&v, "val_accuracy").into_iter().fold(0.0, f64::max);
        (best, err)
    };
    let (raw, err) = run(&[]);
    assert!(
        err.contains("warning: the input columns differ in scale") && err.contains("--normalize"),
        "{err}"
    );
    let (norm, err) = run(&["--normalize", "--save", &model]);
    assert!(!err.contains("warning"), "{err}");
    assert!(
        norm >= 0.95 && raw < norm - 0.2,
        "raw {raw}, normalized {norm}"
    );
    // The saved model standardizes by itself.
    let (code, out, err) = tunelab(&["evaluate", &model, "--x", csv, "--label", "label", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v["accuracy"].as_f64().unwrap() >= 0.9, "{v}");
    // tune: the same, over a searched width and learning rate.
    let hspec = write(
        "table-hyper.json",
        r#"{"layers": [{"class_name": "Dense", "config": {"units": {"hp": "Int", "name": "units", "min_value": 4, "max_value": 32, "step": 4}, "activation": "relu"}},
                       {"class_name": "Dense", "config": {"units": 3, "activation": "softmax"}}],
            "compile": {"optimizer": {"class_name": "adam", "config": {"learning_rate": {"hp": "Float", "name": "lr", "min_value": 1e-3, "max_value": 3e-2, "sampling": "log"}}},
                        "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}}"#,
    );
    let tune = |extra: &[&str]| {
        let dir = write(&format!("tune-norm{}", extra.len()), "");
        let _ = std::fs::remove_file(&dir);
        let mut args = vec![
            "tune",
            &hspec,
            "--x",
            csv,
            "--label",
            "label",
            "--validation-split",
            "0.25",
            "--epochs",
            "30",
            "--max-trials",
            "4",
            "--objective",
            "val_accuracy",
            "--device",
            "cpu",
            "--directory",
            &dir,
            "--json",
        ];
        args.extend_from_slice(extra);
        let (code, out, err) = tunelab(&args);
        assert_eq!(code, 0, "{args:?}: {err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        let best = v["trials"]
            .as_array()
            .unwrap_or_else(|| panic!("{v}"))
            .iter()
            .filter_map(|t| t["score"].as_f64())
            .fold(0.0, f64::max);
        (best, err)
    };
    let (raw, err) = tune(&[]);
    assert!(
        err.contains("warning: the input columns differ in scale"),
        "{err}"
    );
    let (norm, _) = tune(&["--normalize"]);
    assert!(
        norm >= 0.95 && raw < norm - 0.2,
        "tune: raw {raw}, normalized {norm}"
    );
    // A spec that already normalizes is refused with --normalize (not doubled).
    let twice = write(
        "twice.json",
        r#"{"layers": [{"class_name": "Normalization", "config": {}},
                       {"class_name": "Dense", "config": {"units": 3, "activation": "softmax"}}],
            "compile": {"optimizer": "adam", "loss": "sparse_categorical_crossentropy"}}"#,
    );
    let (code, _, err) = tunelab(&["fit", &twice, "--x", csv, "--label", "label", "--normalize"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("layers[0]") && err.contains("--normalize"),
        "{err}"
    );
}

/// `--tuner bohb` and `--tuner asha` run through the CLI with their flags (read over the
/// engine's table), promote trials onto their parents' budgets, and refuse bad values naming
/// the flag.
#[test]
fn bohb_and_asha_run_from_the_command_line() {
    let dir = std::env::temp_dir().join(format!("tunelab-cli-mf-{}", std::process::id()));
    let d = dir.to_string_lossy().into_owned();
    let run = |project: &str, extra: &[&str]| {
        let mut args = vec![
            "tune",
            "examples/guide_units.json",
            "--dataset",
            "digits",
            "--device",
            "cpu",
            "--directory",
            d.as_str(),
            "--project-name",
            project,
            "--overwrite",
            "--json",
        ];
        args.extend_from_slice(extra);
        tunelab(&args)
    };
    let trials = |out: &str| -> Vec<Value> {
        let v: Value = serde_json::from_str(out).unwrap();
        v["trials"].as_array().unwrap().clone()
    };
    for (project, extra, count) in [
        (
            "bohb",
            vec![
                "--tuner",
                "bohb",
                "--max-epochs",
                "3",
                "--min-points-in-model",
                "2",
            ],
            6,
        ),
        (
            "asha",
            vec!["--tuner", "asha", "--max-epochs", "3", "--max-trials", "8"],
            8,
        ),
        (
            "asha-gp",
            vec![
                "--tuner",
                "ASHA",
                "--max-epochs",
                "3",
                "--max-trials",
                "8",
                "--model",
                "gp",
                "--random-fraction",
                "0",
                "--min-points-in-model",
                "2",
            ],
            8,
        ),
    ] {
        let (code, out, err) = run(project, &extra);
        assert_eq!(code, 0, "{project}: {err}");
        let t = trials(&out);
        assert_eq!(t.len(), count, "{project}: {out}");
        let promoted: Vec<&Value> = t
            .iter()
            .filter(|t| !t["hyperband"]["parent"].is_null())
            .collect();
        assert!(!promoted.is_empty(), "{project}: no promotion in {out}");
        for p in promoted {
            assert_eq!(p["hyperband"]["epochs"], 3, "{project}: {p}");
            assert_eq!(p["hyperband"]["initial_epoch"], 1, "{project}: {p}");
            assert_eq!(p["status"], "COMPLETED", "{project}: {p}");
        }
    }
    for (extra, words) in [
        (
            vec!["--tuner", "asha", "--model", "tpe"],
            vec!["--model", "tpe", "\"gp\""],
        ),
        (
            vec!["--tuner", "bohb", "--random-fraction", "2"],
            vec!["--random-fraction", "from 0 to 1"],
        ),
        (
            vec!["--tuner", "asha", "--random-fraction", "0.5"],
            vec!["--random-fraction", "only with model \"gp\""],
        ),
        (
            vec!["--tuner", "random", "--model", "gp"],
            vec!["--model", "only with --tuner asha"],
        ),
    ] {
        let (code, _, err) = run("bad", &extra);
        assert_eq!(code, 2, "{extra:?}: {err}");
        for w in words {
            assert!(err.contains(w), "{extra:?}: {err}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--schedule deterministic` with 3 threads: ASHA's workers take trials as they free up, in
/// simulated time, so two runs give the same trials; a bad schedule is refused by name.
#[test]
fn the_schedule_flag_runs_the_asynchronous_pool() {
    let dir = std::env::temp_dir().join(format!("tunelab-cli-pool-{}", std::process::id()));
    let d = dir.to_string_lossy().into_owned();
    let run = |project: &str, schedule: &str| {
        tunelab(&[
            "tune",
            "examples/guide_units.json",
            "--dataset",
            "digits",
            "--device",
            "cpu",
            "--tuner",
            "asha",
            "--max-epochs",
            "3",
            "--max-trials",
            "9",
            "--parallel-trials",
            "3",
            "--schedule",
            schedule,
            "--directory",
            d.as_str(),
            "--project-name",
            project,
            "--overwrite",
            "--json",
        ])
    };
    let essence = |out: &str| -> Vec<Value> {
        let v: Value = serde_json::from_str(out).unwrap();
        v["trials"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                serde_json::json!([t["trial_id"], t["status"], t["hyperparameters"], t["score"]])
            })
            .collect()
    };
    let (code, a, err) = run("a", "deterministic");
    assert_eq!(code, 0, "{err}");
    let (code, b, err) = run("b", "deterministic");
    assert_eq!(code, 0, "{err}");
    let a = essence(&a);
    assert_eq!(a.len(), 9);
    assert!(a.iter().all(|t| t[1] == "COMPLETED"), "{a:?}");
    assert_eq!(a, essence(&b));
    let (code, c, err) = run("c", "async");
    assert_eq!(code, 0, "{err}");
    assert_eq!(essence(&c).len(), 9);
    let (code, _, err) = run("d", "later");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--schedule") && err.contains("later") && err.contains("deterministic"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A Hyperband or BOHB project resumed with other budgets is refused by name (its brackets were
/// laid out for the first ones), as ASHA's is.
#[test]
fn a_multi_fidelity_project_resumed_with_other_budgets_is_refused() {
    let dir = std::env::temp_dir().join(format!("tunelab-cli-budgets-{}", std::process::id()));
    let d = dir.to_string_lossy().into_owned();
    for tuner in ["hyperband", "bohb", "asha"] {
        let run = |epochs: &str| {
            tunelab(&[
                "tune",
                "examples/guide_units.json",
                "--dataset",
                "xor",
                "--device",
                "cpu",
                "--tuner",
                tuner,
                "--max-epochs",
                epochs,
                "--max-trials",
                "3",
                "--directory",
                d.as_str(),
                "--project-name",
                tuner,
                "--json",
            ])
        };
        let (code, _, err) = run("3");
        assert_eq!(code, 0, "{tuner}: {err}");
        let (code, _, err) = run("9");
        assert_ne!(code, 0, "{tuner}");
        assert!(
            err.contains("max_epochs")
                && err.contains("9")
                && err.contains('3')
                && err.contains("overwrite"),
            "{tuner}: {err}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
