//! The `tunelab` command line: `tunelab fit SPEC ...` trains a model described as JSON on a
//! built-in data set or on CSV / .npy files and prints Keras-style progress (or JSON);
//! `tunelab tune SPEC ...` searches the hyperparameters in the spec with KerasTuner's
//! algorithms and prints its live display and results summary (or JSON).

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use serde_json::{json, Value};
use tunelab::data::{self, csv, npy, Dataset};
use tunelab::gpu::{Device, Resolved};
use tunelab::hp::HyperParameters;
use tunelab::nn::{FitArgs, LossKind, ValidationData};
use tunelab::spec::{hyper, ModelSpec};
use tunelab::tuner::storage::StudyStorage;
use tunelab::tuner::{options, SpecHyperModel, Tuner};
use tunelab::{Error, Result, Tensor};

const USAGE: &str = "\
tunelab: KerasTuner and a small Keras, in Rust

USAGE:
  tunelab fit SPEC.json (--dataset NAME | --x X.npy|X.csv [--y Y.npy|Y.csv] [--label COLUMN])
              [--validation-split F | --validation-x VX --validation-y VY]
              [--epochs N] [--batch-size B] [--initial-weights W.json] [--seed S]
              [--noise PERCENT] [--data-seed S] [--features F1,F2,...] [--train-percent P]
              [--no-shuffle] [--verbose 0|1|2] [--json]
              [--device cpu|webgpu|auto]
  tunelab tune SPEC.json (--dataset NAME | --x ... as for fit) [--validation-...]
              [--tuner random|grid|hyperband|bayesian] [--objective NAME[:min|max][,NAME...]] [--max-trials N]
              [--executions-per-trial N] [--epochs N] [--max-epochs N] [--factor N]
              [--hyperband-iterations N] [--num-initial-points N] [--alpha A] [--beta B]
              [--batch-size B] [--directory D] [--project-name P]
              [--storage sqlite:///FILE.db|postgresql://USER@HOST/DB [--study-name NAME]
               [--heartbeat-interval S] [--grace-period S]]
              [--overwrite] [--seed S] [--max-retries-per-trial N]
              [--max-consecutive-failed-trials N] [--max-collisions N] [--csv FILE] [--json]
              [--device cpu|webgpu|auto] [--parallel-trials N]
  tunelab summary SPEC.json [--input-shape D1,D2,...]
  tunelab datasets
  tunelab catalog        (the engine's tables as JSON: tuners, their options and defaults,
                          data sets, features, losses)

Built-in data sets: circle, xor, gauss, spiral, reg-plane, reg-gauss (TensorFlow Playground's,
2 features, --noise 0..50 and --data-seed, default --seed; --features x1,x2,x1^2,x2^2,x1x2,
sin(x1),sin(x2) picks Playground's input features), digits (8x8 digits, 64 features scaled to
[0, 1]). With --dataset the validation split defaults to 0.2 (Keras's: the last rows);
--train-percent P instead trains on P% of the rows drawn at random with --data-seed and
validates on the rest, exactly as the playground page splits.
--device auto (the default) trains on a hardware GPU through wgpu when there is one and on the
CPU otherwise (a software adapter such as llvmpipe is slower than the CPU path), saying why;
webgpu insists on the GPU (a software adapter included). --parallel-trials: trials trained
together: in one dispatch on the GPU (default 8), on threads of their own on the CPU (default 1;
one per core uses them all), with the same results as one after the other.
--storage keeps the search in a SQL database in Optuna's schema instead of --directory:
start several `tunelab tune` processes (on one machine with SQLite, on many with PostgreSQL)
with the same --storage and --study-name (default: --project-name) and they share the study
(optuna.load_study and optuna-dashboard read it). A worker that stops sending heartbeats
(every --heartbeat-interval seconds, default 10) for --grace-period seconds (default 60) has its
running trial taken over and resumed from its last stored epoch.
--json prints one object {\"history\": {...}, \"weights\": [...]} (weights in get_weights order);
--initial-weights takes the same list (or that whole object).";

/// Parsed `fit` options.
#[derive(Default)]
struct FitOpts {
    spec: String,
    dataset: Option<String>,
    x: Option<String>,
    y: Option<String>,
    label: Option<String>,
    validation_split: Option<f32>,
    validation_x: Option<String>,
    validation_y: Option<String>,
    epochs: usize,
    batch_size: Option<usize>,
    initial_weights: Option<String>,
    seed: u64,
    noise: f32,
    data_seed: Option<u64>,
    features: Option<Vec<String>>,
    train_percent: Option<f64>,
    shuffle: bool,
    storage: Option<String>,
    study_name: Option<String>,
    heartbeat_interval: Option<f64>,
    grace_period: Option<f64>,
    verbose: Option<u8>,
    json: bool,
    // tune only
    tuner: String,
    objective: Option<String>,
    /// The tuner's options given on the command line, by KerasTuner's name, with the flag that
    /// gave each (the tuner reads them over its defaults: `options::tuner_defaults`).
    tuner_options: Vec<(&'static str, &'static str, Value)>,
    directory: String,
    project_name: String,
    overwrite: bool,
    csv: Option<String>,
    device: Device,
    parallel_trials: Option<usize>,
}

fn value<'a>(args: &'a [String], i: &mut usize, flag: &str) -> Result<&'a str> {
    *i += 1;
    args.get(*i)
        .map(|s| s.as_str())
        .ok_or_else(|| Error::invalid(flag, "nothing", "a value after the flag"))
}

fn number<T: std::str::FromStr>(s: &str, flag: &str, what: &str) -> Result<T> {
    s.parse::<T>().map_err(|_| Error::invalid(flag, s, what))
}

const FIT_OPTIONS: &[&str] = &[
    "--dataset",
    "--x",
    "--y",
    "--label",
    "--validation-split",
    "--validation-x",
    "--validation-y",
    "--epochs",
    "--batch-size",
    "--initial-weights",
    "--seed",
    "--noise",
    "--data-seed",
    "--features",
    "--train-percent",
    "--no-shuffle",
    "--verbose",
    "--json",
    "--device",
];

const TUNE_OPTIONS: &[&str] = &[
    "--dataset",
    "--x",
    "--y",
    "--label",
    "--validation-split",
    "--validation-x",
    "--validation-y",
    "--epochs",
    "--batch-size",
    "--seed",
    "--noise",
    "--data-seed",
    "--features",
    "--train-percent",
    "--no-shuffle",
    "--json",
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
    "--directory",
    "--project-name",
    "--storage",
    "--study-name",
    "--heartbeat-interval",
    "--grace-period",
    "--overwrite",
    "--max-retries-per-trial",
    "--max-consecutive-failed-trials",
    "--max-collisions",
    "--csv",
    "--device",
    "--parallel-trials",
];

/// The tuner option a `tune` flag sets (`--max-trials` -> `max_trials`).
fn tuner_key(flag: &str) -> &'static str {
    match flag {
        "--max-trials" => "max_trials",
        "--executions-per-trial" => "executions_per_trial",
        "--max-epochs" => "max_epochs",
        "--factor" => "factor",
        "--hyperband-iterations" => "hyperband_iterations",
        "--max-retries-per-trial" => "max_retries_per_trial",
        "--max-consecutive-failed-trials" => "max_consecutive_failed_trials",
        "--max-collisions" => "max_collisions",
        "--num-initial-points" => "num_initial_points",
        "--alpha" => "alpha",
        _ => "beta",
    }
}

/// The flag as a `'static` string (from the table of known flags).
fn a_static(flag: &str) -> &'static str {
    TUNE_OPTIONS
        .iter()
        .find(|f| **f == flag)
        .copied()
        .unwrap_or("")
}

fn parse_fit(args: &[String]) -> Result<FitOpts> {
    parse_opts(args, FIT_OPTIONS)
}

fn parse_opts(args: &[String], allowed: &[&str]) -> Result<FitOpts> {
    let mut o = FitOpts {
        epochs: 1,
        shuffle: true,
        tuner: "random".into(),
        directory: ".".into(),
        project_name: "untitled_project".into(),
        device: Device::Auto,
        ..Default::default()
    };
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if a.starts_with("--") && !allowed.contains(&a) {
            return Err(Error::unknown("option", a, allowed));
        }
        match a {
            "--tuner" => o.tuner = value(args, &mut i, a)?.to_string(),
            "--objective" => o.objective = Some(value(args, &mut i, a)?.to_string()),
            "--max-trials"
            | "--executions-per-trial"
            | "--max-epochs"
            | "--factor"
            | "--hyperband-iterations"
            | "--max-retries-per-trial"
            | "--max-consecutive-failed-trials"
            | "--max-collisions"
            | "--num-initial-points" => {
                let key = tuner_key(a);
                let n: u64 = number(value(args, &mut i, a)?, a, "a non-negative integer")?;
                o.tuner_options.push((a_static(a), key, json!(n)));
            }
            "--alpha" | "--beta" => {
                let key = tuner_key(a);
                let f: f64 = number(value(args, &mut i, a)?, a, "a number")?;
                o.tuner_options.push((a_static(a), key, json!(f)));
            }
            "--directory" => o.directory = value(args, &mut i, a)?.to_string(),
            "--project-name" => o.project_name = value(args, &mut i, a)?.to_string(),
            "--storage" => o.storage = Some(value(args, &mut i, a)?.to_string()),
            "--study-name" => o.study_name = Some(value(args, &mut i, a)?.to_string()),
            "--heartbeat-interval" => {
                o.heartbeat_interval = Some(number(value(args, &mut i, a)?, a, "seconds > 0")?)
            }
            "--grace-period" => {
                o.grace_period = Some(number(value(args, &mut i, a)?, a, "seconds > 0")?)
            }
            "--overwrite" => o.overwrite = true,
            "--csv" => o.csv = Some(value(args, &mut i, a)?.to_string()),
            "--device" => o.device = Device::parse(value(args, &mut i, a)?)?,
            "--parallel-trials" => {
                let n: usize = number(value(args, &mut i, a)?, a, "an integer >= 1")?;
                if n == 0 {
                    return Err(Error::invalid(a, 0, "an integer >= 1"));
                }
                o.parallel_trials = Some(n);
            }
            "--dataset" => o.dataset = Some(value(args, &mut i, a)?.to_string()),
            "--x" => o.x = Some(value(args, &mut i, a)?.to_string()),
            "--y" => o.y = Some(value(args, &mut i, a)?.to_string()),
            "--label" => o.label = Some(value(args, &mut i, a)?.to_string()),
            "--validation-split" => {
                o.validation_split = Some(number(value(args, &mut i, a)?, a, "a float in [0, 1)")?)
            }
            "--validation-x" => o.validation_x = Some(value(args, &mut i, a)?.to_string()),
            "--validation-y" => o.validation_y = Some(value(args, &mut i, a)?.to_string()),
            "--epochs" => o.epochs = number(value(args, &mut i, a)?, a, "an integer >= 1")?,
            "--batch-size" => {
                o.batch_size = Some(number(value(args, &mut i, a)?, a, "an integer >= 1")?)
            }
            "--initial-weights" => o.initial_weights = Some(value(args, &mut i, a)?.to_string()),
            "--seed" => o.seed = number(value(args, &mut i, a)?, a, "a non-negative integer")?,
            "--noise" => o.noise = number(value(args, &mut i, a)?, a, "a number in [0, 50]")?,
            "--data-seed" => {
                o.data_seed = Some(number(
                    value(args, &mut i, a)?,
                    a,
                    "a non-negative integer",
                )?)
            }
            "--features" => {
                o.features = Some(
                    value(args, &mut i, a)?
                        .split(',')
                        .map(|f| f.trim().to_string())
                        .collect(),
                )
            }
            "--train-percent" => {
                o.train_percent = Some(number(
                    value(args, &mut i, a)?,
                    a,
                    "a number above 0 and below 100",
                )?)
            }
            "--no-shuffle" => o.shuffle = false,
            "--verbose" => o.verbose = Some(number(value(args, &mut i, a)?, a, "0, 1 or 2")?),
            "--json" => o.json = true,
            s if o.spec.is_empty() => o.spec = s.to_string(),
            s => {
                return Err(Error::invalid(
                    "arguments",
                    s,
                    "one SPEC file and --options",
                ))
            }
        }
        i += 1;
    }
    if o.spec.is_empty() {
        return Err(Error::invalid(
            "SPEC",
            "missing",
            "a model spec JSON file (see docs/model-spec.md)",
        ));
    }
    if let Some(p) = o.train_percent.filter(|p| !(*p > 0.0 && *p < 100.0)) {
        return Err(Error::invalid(
            "--train-percent",
            p,
            "a number above 0 and below 100",
        ));
    }
    if o.epochs == 0 {
        return Err(Error::invalid("--epochs", 0, "an integer >= 1"));
    }
    if o.verbose.is_some_and(|v| v > 2) {
        return Err(Error::invalid(
            "--verbose",
            o.verbose.unwrap_or(0),
            "0, 1 or 2",
        ));
    }
    Ok(o)
}

/// Loads an array from .npy or .csv (all columns).
fn load_array(path: &str, flag: &str) -> Result<Tensor> {
    let p = Path::new(path);
    match p
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
    {
        Some(e) if e == "npy" => npy::load_npy(p),
        Some(e) if e == "csv" => Ok(csv::load_csv(p, None, None)?.x),
        _ => Err(Error::invalid(flag, path, "a .npy or .csv file")),
    }
}

/// x and y from --x/--y (or --x with --label for one CSV holding both).
fn load_xy(x: &str, y: Option<&str>, label: Option<&str>, what: &str) -> Result<(Tensor, Tensor)> {
    match (y, label) {
        (Some(y), _) => Ok((
            load_array(x, &format!("--{what}x"))?,
            load_array(y, &format!("--{what}y"))?,
        )),
        (None, Some(label)) => {
            if !x.to_ascii_lowercase().ends_with(".csv") {
                return Err(Error::invalid(
                    "--label",
                    label,
                    "only with a .csv file given to --x",
                ));
            }
            let d = csv::load_csv(Path::new(x), Some(label), None)?;
            let y =
                d.y.ok_or_else(|| Error::invalid("--label", label, "a column of the CSV header"))?;
            Ok((d.x, y))
        }
        (None, None) => Err(Error::invalid(
            format!("--{what}y"),
            "missing",
            "a targets file (--y) or, for a CSV, the label column (--label)",
        )),
    }
}

/// Makes y a column when it is 1-D, and one-hot when the loss wants rows shaped like the
/// output but got class ids (a convenience Keras does not offer: it would fail on shapes).
fn fit_targets(y: Tensor, loss: LossKind, out_units: usize, quiet: bool) -> Result<Tensor> {
    let y = if y.shape().len() == 1 {
        let n = y.rows();
        y.reshape(vec![n, 1])?
    } else {
        y
    };
    let wants_rows = loss.targets() == "one_hot";
    if wants_rows && y.cols() == 1 && out_units > 1 {
        if !quiet {
            eprintln!(
                "note: one-hot encoding integer class ids for {} ({out_units} classes)",
                loss.name()
            );
        }
        return data::one_hot(&y, Some(out_units));
    }
    Ok(y)
}

fn weights_from_json(text: &str) -> Result<Vec<Tensor>> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| Error::parse(format!("--initial-weights is not valid JSON: {e}")))?;
    let list = match &v {
        Value::Array(a) => a,
        Value::Object(m) => m.get("weights").and_then(|w| w.as_array()).ok_or_else(|| {
            Error::invalid(
                "--initial-weights",
                "an object",
                "a list of arrays or {\"weights\": [...]}",
            )
        })?,
        _ => {
            return Err(Error::invalid(
                "--initial-weights",
                "a scalar",
                "a list of nested arrays",
            ))
        }
    };
    list.iter()
        .enumerate()
        .map(|(i, w)| nested_to_tensor(w, &format!("--initial-weights[{i}]")))
        .collect()
}

fn nested_to_tensor(v: &Value, path: &str) -> Result<Tensor> {
    fn walk(
        v: &Value,
        depth: usize,
        shape: &mut Vec<usize>,
        out: &mut Vec<f32>,
        path: &str,
    ) -> Result<()> {
        match v {
            Value::Array(a) => {
                if depth > 8 {
                    return Err(Error::invalid(
                        path,
                        "deeper nesting",
                        "at most 8 dimensions",
                    ));
                }
                if shape.len() <= depth {
                    shape.push(a.len());
                } else if shape[depth] != a.len() {
                    return Err(Error::invalid(
                        path,
                        "ragged nested lists",
                        "rectangular arrays",
                    ));
                }
                for x in a {
                    walk(x, depth + 1, shape, out, path)?;
                }
                Ok(())
            }
            Value::Number(n) => {
                if depth != shape.len() {
                    return Err(Error::invalid(
                        path,
                        "ragged nested lists",
                        "rectangular arrays",
                    ));
                }
                out.push(n.as_f64().unwrap_or(f64::NAN) as f32);
                Ok(())
            }
            other => Err(Error::invalid(
                path,
                other.to_string(),
                "numbers in nested lists",
            )),
        }
    }
    let mut shape = Vec::new();
    let mut data = Vec::new();
    walk(v, 0, &mut shape, &mut data, path)?;
    Tensor::new(shape, data)
}

fn tensor_to_json(t: &Tensor) -> Value {
    match t.shape() {
        [_] => json!(t.data()),
        [_, c] => Value::Array(t.data().chunks((*c).max(1)).map(|r| json!(r)).collect()),
        _ => json!(t.data()),
    }
}

/// Training and validation data from the command line, targets shaped for the loss.
struct Loaded {
    x: Tensor,
    y: Tensor,
    validation_split: f32,
    validation_data: Option<ValidationData>,
}

/// Reads --dataset or --x/--y (and the validation options). `out_units` and `loss` decide
/// whether class ids get one-hot encoded.
fn load_data(
    o: &FitOpts,
    loss: LossKind,
    model: &mut tunelab::nn::Sequential,
    quiet: bool,
) -> Result<Loaded> {
    let (x, y, mut validation_split) = match (&o.dataset, &o.x) {
        (Some(name), None) => {
            let ds = data::builtin(name, o.noise, o.data_seed.unwrap_or(o.seed))?;
            let x = match &o.features {
                Some(names) if data::playground::Playground::parse(name).is_ok() => {
                    let names: Vec<&str> = names.iter().map(String::as_str).collect();
                    data::playground::features(&ds.x, &names)?
                }
                Some(names) => {
                    return Err(Error::invalid(
                        "--features",
                        names.join(","),
                        "only with a playground data set (circle, xor, gauss, spiral, reg-plane, reg-gauss)",
                    ))
                }
                None => ds.x,
            };
            let split = if o.train_percent.is_some() {
                None
            } else {
                o.validation_split.or(Some(0.2))
            };
            (x, ds.y, split)
        }
        (None, Some(xp)) => {
            if let Some(names) = &o.features {
                return Err(Error::invalid(
                    "--features",
                    names.join(","),
                    "only with --dataset and a playground data set",
                ));
            }
            let (x, y) = load_xy(xp, o.y.as_deref(), o.label.as_deref(), "")?;
            (x, y, o.validation_split)
        }
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                "--dataset",
                "given with --x",
                "either --dataset or --x, not both",
            ))
        }
        (None, None) => {
            return Err(Error::invalid(
                "data",
                "none given",
                "--dataset NAME or --x FILE",
            ))
        }
    };
    Dataset::new(x.clone(), y.clone())?;
    // --train-percent: the playground page's split (random rows, seeded by --data-seed).
    let (x, y, held_out) = match o.train_percent {
        Some(percent) => {
            if o.validation_split.is_some() || o.validation_x.is_some() {
                return Err(Error::invalid(
                    "--train-percent",
                    percent,
                    "either --train-percent or --validation-split / --validation-x, not both",
                ));
            }
            let (train, val) =
                data::holdout(&Dataset::new(x, y)?, percent, o.data_seed.unwrap_or(o.seed))?;
            (train.x, train.y, Some(val))
        }
        None => (x, y, None),
    };
    if !model.is_built() {
        model.build(&x.shape()[1..])?;
    }
    let out_units = model.output_width()?;
    let y = fit_targets(y, loss, out_units, quiet)?;
    let validation_data = match (&o.validation_x, &o.validation_y) {
        (Some(vx), vy) => {
            let (vx, vyv) = load_xy(vx, vy.as_deref(), o.label.as_deref(), "validation-")?;
            validation_split = None;
            Some(ValidationData {
                x: vx,
                y: fit_targets(vyv, loss, out_units, true)?,
                sample_weight: None,
            })
        }
        (None, Some(_)) => {
            return Err(Error::invalid(
                "--validation-y",
                "given alone",
                "together with --validation-x",
            ))
        }
        (None, None) => match held_out {
            Some(val) => Some(ValidationData {
                x: val.x,
                y: fit_targets(val.y, loss, out_units, true)?,
                sample_weight: None,
            }),
            None => None,
        },
    };
    Ok(Loaded {
        x,
        y,
        validation_split: validation_split.unwrap_or(0.0),
        validation_data,
    })
}

fn read_spec(path: &str) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::Io(format!("cannot read SPEC {path}: {e}")))
}

fn fit(args: &[String]) -> Result<()> {
    let o = parse_fit(args)?;
    let spec = ModelSpec::parse(&read_spec(&o.spec)?)?;
    let compile = spec.compile.clone().ok_or_else(|| {
        Error::invalid(
            "compile",
            "missing",
            "a \"compile\" object with optimizer, loss and metrics",
        )
    })?;
    let mut model = spec.build(o.seed)?;
    let quiet = o.json;
    let data = load_data(&o, compile.loss.kind, &mut model, quiet)?;
    if let Some(w) = &o.initial_weights {
        let text = std::fs::read_to_string(w)
            .map_err(|e| Error::Io(format!("cannot read --initial-weights {w}: {e}")))?;
        model.set_weights(&weights_from_json(&text)?)?;
    }
    model.set_device(o.device);
    let resolved = tunelab::gpu::resolve(o.device)?;
    if !quiet {
        match &resolved {
            Resolved::Cpu { reason: Some(why) } => eprintln!("device: cpu ({why})"),
            r => eprintln!("device: {}", r.label()),
        }
    }
    let verbose = if quiet {
        0
    } else {
        o.verbose.unwrap_or(if std::io::stdout().is_terminal() {
            1
        } else {
            2
        })
    };
    let fit_args = FitArgs {
        epochs: o.epochs,
        batch_size: o.batch_size,
        verbose,
        validation_split: data.validation_split,
        validation_data: data.validation_data,
        shuffle: o.shuffle,
        seed: Some(o.seed),
        ..Default::default()
    };
    let history = model.fit(&data.x, &data.y, &fit_args, &mut [])?;
    if let (false, Resolved::Gpu(_), Some(note)) = (quiet, &resolved, model.device_note()) {
        // The GPU was there but this model's layers need the CPU path.
        eprintln!("trained on the CPU: {note}");
    }
    if o.json {
        let weights: Vec<Value> = model.get_weights()?.iter().map(tensor_to_json).collect();
        let out = json!({
            "history": history,
            "epoch": history.epoch,
            "weights": weights,
            "device": model.device(),
        });
        println!("{out}");
    }
    Ok(())
}

fn tune(args: &[String]) -> Result<()> {
    let o = parse_opts(args, TUNE_OPTIONS)?;
    let raw: Value = serde_json::from_str(&read_spec(&o.spec)?)
        .map_err(|e| Error::parse(format!("model spec is not valid JSON: {e}")))?;
    // The spec with every hp at its default: checks it and shapes the targets.
    let mut defaults = HyperParameters::new();
    let mut plain = hyper::resolve(&raw, &mut defaults)?;
    if let Some(m) = plain.as_object_mut() {
        m.remove("fit"); // the hypermodel applies it per trial
    }
    let spec = ModelSpec::from_value(&plain)?;
    let compile = spec.compile.clone().ok_or_else(|| {
        Error::invalid(
            "compile",
            "missing",
            "a \"compile\" object with optimizer, loss and metrics",
        )
    })?;
    let mut probe = spec.build(o.seed)?;
    let data = load_data(&o, compile.loss.kind, &mut probe, o.json)?;
    let objective = match &o.objective {
        Some(names) if names.contains(',') => {
            json!(names.split(',').map(str::trim).collect::<Vec<_>>())
        }
        Some(name) => json!(name),
        None => {
            let has_val = data.validation_split > 0.0 || data.validation_data.is_some();
            json!(if has_val { "val_loss" } else { "loss" })
        }
    };
    // The command line's options, read over the tuner's defaults (the table the npm package
    // and the page read too: tunelab::tuner::options).
    let kind = options::tuner_kind(&o.tuner)?;
    let known = options::tuner_defaults(kind)?;
    let mut given = serde_json::Map::new();
    for (flag, key, v) in &o.tuner_options {
        if !known.contains_key(*key) {
            let owners: Vec<&str> = options::TUNERS
                .iter()
                .filter(|(_, class, _)| {
                    options::tuner_defaults(class).is_ok_and(|d| d.contains_key(*key))
                })
                .map(|(short, _, _)| *short)
                .collect();
            return Err(Error::invalid(
                *flag,
                v,
                format!("only with --tuner {}", owners.join(" or ")),
            ));
        }
        given.insert(key.to_string(), v.clone());
    }
    given.insert("objective".into(), objective);
    given.insert("seed".into(), json!(o.seed));
    given.insert("directory".into(), json!(o.directory));
    given.insert("project_name".into(), json!(o.project_name));
    given.insert("overwrite".into(), json!(o.overwrite));
    given.insert("verbose".into(), json!(!o.json));
    given.insert("device".into(), json!(o.device.name()));
    if let Some(n) = o.parallel_trials {
        given.insert("parallel_trials".into(), json!(n));
    }
    let (algorithm, config) = options::tuner(kind, &Value::Object(given)).map_err(|e| match e {
        // name the flag the user typed rather than the option behind it
        Error::InvalidArgument {
            field,
            value,
            allowed,
        } => {
            let flag = o
                .tuner_options
                .iter()
                .find(|(_, key, _)| *key == field)
                .map(|(flag, _, _)| flag.to_string());
            Error::InvalidArgument {
                field: flag.unwrap_or(field),
                value,
                allowed,
            }
        }
        e => e,
    })?;
    let mut config = config;
    match &o.storage {
        Some(url) => {
            let mut study = StudyStorage::new(
                url.as_str(),
                o.study_name.as_deref().unwrap_or(&o.project_name),
            );
            if let Some(s) = o.heartbeat_interval {
                study.heartbeat_interval = s;
            }
            if let Some(s) = o.grace_period {
                study.grace_period = s;
            }
            config.storage = Some(study);
        }
        None => {
            for (flag, given) in [
                ("--study-name", o.study_name.is_some()),
                ("--heartbeat-interval", o.heartbeat_interval.is_some()),
                ("--grace-period", o.grace_period.is_some()),
            ] {
                if given {
                    return Err(Error::invalid(
                        flag,
                        "given without --storage",
                        "only with --storage (a study in a SQL database)",
                    ));
                }
            }
        }
    }
    let hypermodel = SpecHyperModel::new(raw)?;
    let mut tuner = Tuner::new(algorithm, Box::new(hypermodel), None, config)?;
    if !o.json {
        println!("{}", tuner.search_space_summary());
    }
    let fit_args = FitArgs {
        epochs: o.epochs,
        batch_size: o.batch_size,
        verbose: 0,
        validation_split: data.validation_split,
        validation_data: data.validation_data,
        shuffle: o.shuffle,
        seed: Some(o.seed),
        ..Default::default()
    };
    let result = tuner.search(&data.x, &data.y, &fit_args);
    if let Some(path) = &o.csv {
        std::fs::write(path, tuner.trials_csv()?)
            .map_err(|e| Error::Io(format!("cannot write --csv {path}: {e}")))?;
    }
    result?;
    if o.json {
        println!("{}", tuner.trials_json()?);
    } else {
        println!("{}", tuner.results_summary(10)?);
        let (device, note) = tuner.device();
        match note {
            Some(why) => eprintln!("device: {device} ({why})"),
            None => eprintln!("device: {device}"),
        }
    }
    Ok(())
}

fn summary(args: &[String]) -> Result<()> {
    let path = args
        .first()
        .ok_or_else(|| Error::invalid("SPEC", "missing", "a model spec JSON file"))?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Io(format!("cannot read SPEC {path}: {e}")))?;
    let spec = ModelSpec::parse(&text)?;
    let mut model = spec.build(0)?;
    if !model.is_built() {
        let shape = match args.iter().position(|a| a == "--input-shape") {
            Some(i) => args
                .get(i + 1)
                .ok_or_else(|| Error::invalid("--input-shape", "nothing", "sizes like 28,28"))?
                .split(',')
                .map(|s| {
                    number::<usize>(
                        s.trim(),
                        "--input-shape",
                        "positive integers separated by commas",
                    )
                })
                .collect::<Result<Vec<_>>>()?,
            None => {
                return Err(Error::invalid(
                    "--input-shape",
                    "missing",
                    "the per-sample input shape (or \"input_shape\" in the spec)",
                ))
            }
        };
        model.build(&shape)?;
    }
    print!("{}", model.summary()?);
    Ok(())
}

fn main() -> ExitCode {
    // A reader that goes away early (`tunelab catalog | head`) makes the next print fail with
    // a broken pipe, which Rust's print macros turn into a panic: stop quietly instead, as a
    // Unix filter does.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let p = info.payload();
        let msg = p
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| p.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(0);
        }
        default_hook(info);
    }));
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(|s| s.as_str()) {
        Some("fit") => fit(&args[1..]),
        Some("summary") => summary(&args[1..]),
        Some("tune") => tune(&args[1..]),
        Some("datasets") => {
            for n in data::BUILTIN {
                println!("{n}");
            }
            Ok(())
        }
        Some("catalog") => {
            println!("{:#}", options::catalog());
            Ok(())
        }
        Some("-h") | Some("--help") | Some("help") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(Error::unknown(
            "command",
            other,
            &["fit", "tune", "summary", "datasets", "catalog", "help"],
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            if matches!(e, Error::Io(_)) && args.first().map(String::as_str) == Some("tune") {
                eprintln!(
                    "what the search stored before this is intact: once the problem is fixed, \
                     run the same command again (without --overwrite) to continue it"
                );
            }
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_json_round_trip() {
        let t = Tensor::new(vec![2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        let v = json!([tensor_to_json(&t), [0.5, 0.25, 0.0]]);
        let w = weights_from_json(&v.to_string()).unwrap();
        assert_eq!(w[0], t);
        assert_eq!(w[1].shape(), &[3]);
        let e = weights_from_json("[[[1, 2], [3]]]")
            .unwrap_err()
            .to_string();
        assert!(e.contains("rectangular"), "{e}");
    }

    #[test]
    fn targets_are_one_hot_for_categorical() {
        let y = Tensor::vector(vec![0.0, 2.0]);
        let t = fit_targets(y, LossKind::CategoricalCrossentropy, 3, true).unwrap();
        assert_eq!(t.data(), &[1.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
        let y = Tensor::vector(vec![0.0, 2.0]);
        let t = fit_targets(y, LossKind::SparseCategoricalCrossentropy, 3, true).unwrap();
        assert_eq!(t.shape(), &[2, 1]);
    }
}
