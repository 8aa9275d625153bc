//! Tuners, fit arguments and callbacks from JSON option objects with KerasTuner's and Keras's
//! argument names (snake_case): what the JavaScript API and notebook embeds send. Unknown keys
//! and bad values are errors that name the key.

use crate::error::{Error, Result};
use crate::gpu::Device;
use crate::hp::HyperParameters;
use crate::nn::callbacks::{Callback, EarlyStopping, Mode, ReduceLROnPlateau, TerminateOnNaN};
use crate::nn::model::{EvalArgs, FitArgs};
use crate::tuner::objective::{Objective, ObjectiveSpec};
use crate::tuner::oracle::{Algorithm, OracleConfig};
use crate::tuner::oracles::bayesian::{Acquisition, BoOptions};
use crate::tuner::oracles::{
    Asha, BayesianOptimization, GridSearch, Hyperband, ModelSampler, RandomSearch,
};
use crate::tuner::tuner::TunerConfig;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The tuner classes by name.
pub const TUNER_KINDS: &[&str] = &[
    "RandomSearch",
    "GridSearch",
    "Hyperband",
    "BayesianOptimization",
    "BOHB",
    "ASHA",
];

/// Every tuner's short name (the CLI's `--tuner`, the page's state), its class name and what it
/// does in a sentence: the one table the CLI, the npm package, the widget and the page read.
pub const TUNERS: &[(&str, &str, &str)] = &[
    (
        "random",
        "RandomSearch",
        "draws every trial's hyperparameters at random from their ranges",
    ),
    (
        "grid",
        "GridSearch",
        "tries every combination of the hyperparameters' values in order",
    ),
    (
        "hyperband",
        "Hyperband",
        "trains many configurations for a few epochs and gives the best more, round after round",
    ),
    (
        "bayesian",
        "BayesianOptimization",
        "fits a Gaussian process to the scores so far and picks where it expects the best",
    ),
    (
        "bohb",
        "BOHB",
        "Hyperband whose new configurations come from a Gaussian process over configuration and budget, fitted on every result, asked for the highest budget with enough results (a third still at random)",
    ),
    (
        "asha",
        "ASHA",
        "asynchronous successive halving: a free worker at once promotes the best third of a rung to the next budget, or starts a new configuration, so no worker waits for a round",
    ),
];

/// The class name of a tuner given by class name (`"RandomSearch"`), short name (`"random"`)
/// or Python module-style name (`"random_search"`, `"bayesian_optimization"`), any case.
pub fn tuner_kind(name: &str) -> Result<&'static str> {
    let key: String = name
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .collect::<String>()
        .to_ascii_lowercase();
    TUNERS
        .iter()
        .find(|(short, class, _)| key == *short || key == class.to_ascii_lowercase())
        .map(|(_, class, _)| *class)
        .ok_or_else(|| {
            let names: Vec<&str> = TUNERS
                .iter()
                .map(|(s, _, _)| *s)
                .chain(TUNER_KINDS.iter().copied())
                .collect();
            Error::unknown("tuner", name, &names)
        })
}

/// Every option of a tuner class (snake_case, as KerasTuner names them) with its default
/// (`null`: none). [`tuner`] reads the options given over these, so this table is the defaults;
/// the npm package, the page and the widget read it through the wasm facade (`catalog`).
pub fn tuner_defaults(kind: &str) -> Result<Map<String, Value>> {
    let kind = tuner_kind(kind)?;
    let max_trials = match kind {
        "RandomSearch" | "BayesianOptimization" => serde_json::json!(10),
        "ASHA" => serde_json::json!(100),
        _ => Value::Null,
    };
    let mut m = serde_json::json!({
        "objective": null,
        "max_trials": max_trials,
        "executions_per_trial": 1,
        "seed": 0,
        "overwrite": false,
        "directory": null,
        "project_name": "untitled_project",
        "max_retries_per_trial": 0,
        "max_consecutive_failed_trials": 3,
        "max_collisions": 20,
        "max_model_size": null,
        "device": "cpu",
        "parallel_trials": null,
        "schedule": null,
        "verbose": false,
    });
    let specific = match kind {
        "Hyperband" => {
            serde_json::json!({"max_epochs": 100, "factor": 3, "hyperband_iterations": 1})
        }
        "BayesianOptimization" => {
            serde_json::json!({"num_initial_points": null, "alpha": 1e-4, "beta": 2.6, "acquisition": "ei"})
        }
        "BOHB" => serde_json::json!({
            "max_epochs": 100, "factor": 3, "hyperband_iterations": 1,
            "random_fraction": 1.0 / 3.0, "min_points_in_model": null,
        }),
        "ASHA" => serde_json::json!({
            "max_epochs": 100, "factor": 3, "model": "random",
            "random_fraction": 1.0 / 3.0, "min_points_in_model": null,
        }),
        _ => serde_json::json!({}),
    };
    if let (Some(all), Value::Object(more)) = (m.as_object_mut(), specific) {
        all.extend(more);
    }
    match m {
        Value::Object(all) => Ok(all),
        _ => Ok(Map::new()),
    }
}

/// The engine's tables as one JSON document, for the surfaces that offer choices (the page,
/// the npm package, the notebook widget; `tunelab catalog` prints it): `tuners` (short name,
/// class name, what it does, every option with its default), `datasets` (the built-in ones:
/// name, task, rows, features, whether it is one of Playground's 2-D sets), `features`
/// (Playground's input features), `losses` (canonical name, its aliases, what its targets look
/// like). What a surface shows comes from here; nothing of it is written twice.
pub fn catalog() -> Value {
    use crate::data::playground::Playground;
    use crate::ops::losses::{LossKind, LOSS_NAMES};
    let tuners: Vec<Value> = TUNERS
        .iter()
        .map(|(short, class, about)| {
            serde_json::json!({
                "name": short,
                "class": class,
                "about": about,
                "options": tuner_defaults(class).unwrap_or_default(),
            })
        })
        .collect();
    let datasets: Vec<Value> = crate::data::BUILTIN
        .iter()
        .map(|name| match Playground::parse(name) {
            Ok(p) => serde_json::json!({
                "name": name,
                "task": if p.is_regression() { "regression" } else { "binary" },
                "classes": if p.is_regression() { Value::Null } else { serde_json::json!(2) },
                "rows": p.default_samples(),
                "features": 2,
                "playground": true,
            }),
            Err(_) => serde_json::json!({
                "name": name,
                "task": "multiclass",
                "classes": crate::data::digits::N_CLASSES,
                "rows": crate::data::digits::N_SAMPLES,
                "features": crate::data::digits::N_FEATURES,
                "playground": false,
            }),
        })
        .collect();
    let mut losses: Vec<(LossKind, Vec<&str>)> = Vec::new();
    for alias in LOSS_NAMES {
        if let Ok(kind) = LossKind::parse(alias) {
            match losses.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, names)) => names.push(alias),
                None => losses.push((kind, vec![alias])),
            }
        }
    }
    let losses: Vec<Value> = losses
        .iter()
        .map(|(kind, names)| {
            serde_json::json!({"name": kind.name(), "aliases": names, "targets": kind.targets()})
        })
        .collect();
    serde_json::json!({
        "tuners": tuners,
        "datasets": datasets,
        "features": &crate::data::playground::FEATURE_NAMES[..7],
        "losses": losses,
    })
}

fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| Error::invalid(what, v, "an object of options"))
}

fn check_keys(m: &Map<String, Value>, allowed: &[&str], what: &str) -> Result<()> {
    for k in m.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(Error::unknown(format!("{what} option"), k, allowed));
        }
    }
    Ok(())
}

fn uint(v: &Value, key: &str, min: u64) -> Result<usize> {
    match v.as_u64() {
        Some(n) if n >= min => Ok(n as usize),
        _ => Err(Error::invalid(key, v, format!("an integer >= {min}"))),
    }
}

fn opt_uint(m: &Map<String, Value>, key: &str, min: u64) -> Result<Option<usize>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => uint(v, key, min).map(Some),
    }
}

fn num(v: &Value, key: &str) -> Result<f64> {
    v.as_f64()
        .filter(|f| f.is_finite())
        .ok_or_else(|| Error::invalid(key, v, "a finite number"))
}

fn boolean(v: &Value, key: &str) -> Result<bool> {
    v.as_bool()
        .ok_or_else(|| Error::invalid(key, v, "true or false"))
}

fn string<'a>(v: &'a Value, key: &str) -> Result<&'a str> {
    v.as_str().ok_or_else(|| Error::invalid(key, v, "a string"))
}

/// An objective: `"val_accuracy"`, `{"name": ..., "direction": "max"}`, or a list of them.
pub fn objective(v: &Value) -> Result<ObjectiveSpec> {
    let one = |v: &Value| -> Result<Objective> {
        match v {
            Value::String(s) => Objective::parse(s),
            Value::Object(m) => {
                check_keys(m, &["name", "direction"], "objective")?;
                let name = string(m.get("name").unwrap_or(&Value::Null), "objective.name")?;
                match m.get("direction") {
                    None => Objective::parse(name),
                    Some(d) => {
                        Objective::parse(&format!("{name}:{}", string(d, "objective.direction")?))
                    }
                }
            }
            _ => Err(Error::invalid(
                "objective",
                v,
                "a metric name, {name, direction}, or a list of them",
            )),
        }
    };
    match v {
        Value::Array(a) if a.is_empty() => {
            Err(Error::invalid("objective", "[]", "at least one objective"))
        }
        Value::Array(a) => Ok(ObjectiveSpec::Multi(
            a.iter().map(one).collect::<Result<_>>()?,
        )),
        v => Ok(ObjectiveSpec::Single(one(v)?)),
    }
}

/// A tuner's algorithm and settings from its class (or short) name and options, read over
/// [`tuner_defaults`]: `max_trials`, `executions_per_trial`, `objective`, `seed`, `overwrite`,
/// `directory`, `project_name`, `max_retries_per_trial`, `max_consecutive_failed_trials`,
/// `max_collisions`, `max_model_size`, `device`, `parallel_trials`, `verbose`; Hyperband:
/// `max_epochs`, `factor`, `hyperband_iterations`; BayesianOptimization: `num_initial_points`,
/// `alpha`, `beta`, `acquisition` (`"ei"`, expected improvement, tunelab's default, or `"lcb"`,
/// KerasTuner's lower confidence bound `mean - beta * sd`; `beta` is refused with `"ei"`, which
/// has no use for it); BOHB: Hyperband's three and `random_fraction` (the share of new
/// configurations drawn at random), `min_points_in_model` (completed trials a budget needs
/// before the model is fitted on it; `null`: 3 per hyperparameter); ASHA: `max_epochs`,
/// `factor`, `model` (`"random"`, or `"gp"` for BOHB's model, which reads `random_fraction` and
/// `min_points_in_model`; they are refused with `"random"`). An unknown key is an error naming
/// the allowed ones.
pub fn tuner(kind: &str, v: &Value) -> Result<(Box<dyn Algorithm>, TunerConfig)> {
    let given = object(v, "tuner options")?;
    let kind = tuner_kind(kind)?;
    let mut m = tuner_defaults(kind)?;
    let allowed: Vec<&str> = m.keys().map(String::as_str).collect();
    check_keys(given, &allowed, kind)?;
    m.extend(given.iter().map(|(k, v)| (k.clone(), v.clone())));
    let null = Value::Null;
    let get = |k: &str| m.get(k).unwrap_or(&null);
    let oracle = OracleConfig {
        objective: match get("objective") {
            Value::Null => ObjectiveSpec::default(),
            o => objective(o)?,
        },
        max_trials: opt_uint(&m, "max_trials", 1)?,
        seed: uint(get("seed"), "seed", 0)? as u64,
        max_retries_per_trial: uint(get("max_retries_per_trial"), "max_retries_per_trial", 0)?,
        max_consecutive_failed_trials: uint(
            get("max_consecutive_failed_trials"),
            "max_consecutive_failed_trials",
            1,
        )?,
        max_collisions: uint(get("max_collisions"), "max_collisions", 1)?,
    };
    let config = TunerConfig {
        oracle,
        executions_per_trial: uint(get("executions_per_trial"), "executions_per_trial", 1)?,
        max_model_size: opt_uint(&m, "max_model_size", 1)?,
        overwrite: boolean(get("overwrite"), "overwrite")?,
        directory: match get("directory") {
            Value::Null => None,
            d => Some(string(d, "directory")?.into()),
        },
        project_name: string(get("project_name"), "project_name")?.to_string(),
        device: Device::parse(string(get("device"), "device")?)?,
        parallel_trials: opt_uint(&m, "parallel_trials", 1)?,
        schedule: match get("schedule") {
            Value::Null => None,
            s => Some(crate::tuner::Schedule::parse(string(s, "schedule")?)?),
        },
        verbose: boolean(get("verbose"), "verbose")?,
        storage: None,
    };
    let sampler = || {
        let fraction = num(get("random_fraction"), "random_fraction")?;
        ModelSampler::new(fraction, opt_uint(&m, "min_points_in_model", 2)?)
    };
    let algorithm: Box<dyn Algorithm> = match kind {
        "RandomSearch" => Box::new(RandomSearch),
        "BOHB" => Box::new(Hyperband::bohb(
            uint(get("max_epochs"), "max_epochs", 1)?,
            uint(get("factor"), "factor", 2)?,
            opt_uint(&m, "hyperband_iterations", 1)?,
            sampler()?,
        )?),
        "ASHA" => {
            let asha = Asha::new(
                uint(get("max_epochs"), "max_epochs", 1)?,
                uint(get("factor"), "factor", 2)?,
            )?;
            match string(get("model"), "model")? {
                "random" => {
                    for key in ["random_fraction", "min_points_in_model"] {
                        if given.contains_key(key) {
                            return Err(Error::invalid(
                                key,
                                get(key),
                                "only with model \"gp\" (with model \"random\" every new configuration is random)",
                            ));
                        }
                    }
                    Box::new(asha)
                }
                "gp" => Box::new(asha.with_model(sampler()?)),
                other => {
                    return Err(Error::invalid(
                        "model",
                        other,
                        "\"random\" (new configurations at random, the default) or \"gp\" (proposed by BOHB's Gaussian process)",
                    ))
                }
            }
        }
        "GridSearch" => Box::new(GridSearch::new()),
        "Hyperband" => Box::new(Hyperband::new(
            uint(get("max_epochs"), "max_epochs", 1)?,
            uint(get("factor"), "factor", 2)?,
            opt_uint(&m, "hyperband_iterations", 1)?,
        )?),
        _ => {
            let acquisition = match string(get("acquisition"), "acquisition")? {
                "ei" | "expected_improvement" => Acquisition::ExpectedImprovement,
                "lcb" | "lower_confidence_bound" => Acquisition::LowerConfidenceBound,
                other => {
                    return Err(Error::invalid(
                        "acquisition",
                        other,
                        "\"ei\" (expected improvement, the default) or \"lcb\" (KerasTuner's lower confidence bound, mean - beta * sd)",
                    ))
                }
            };
            if acquisition == Acquisition::ExpectedImprovement && given.contains_key("beta") {
                return Err(Error::invalid(
                    "beta",
                    get("beta"),
                    "only with acquisition \"lcb\": expected improvement (\"ei\", the default) has no exploration weight",
                ));
            }
            let bo = BayesianOptimization::new(
                opt_uint(&m, "num_initial_points", 1)?,
                num(get("alpha"), "alpha")?,
                num(get("beta"), "beta")?,
            )?;
            let options = BoOptions {
                acquisition,
                ..bo.options().clone()
            };
            Box::new(bo.with_options(options)?)
        }
    };
    Ok((algorithm, config))
}

/// `fit`'s arguments from Keras's names (`batch_size`, `epochs`, `verbose`,
/// `validation_split`, `shuffle`, `class_weight`, `initial_epoch`, `steps_per_epoch`,
/// `validation_steps`, `validation_batch_size`, `validation_freq`, `seed`). Arrays
/// (validation data, sample weights) travel separately.
pub fn fit_args(v: &Value) -> Result<FitArgs> {
    let m = object(v, "fit options")?;
    check_keys(
        m,
        &[
            "batch_size",
            "epochs",
            "verbose",
            "validation_split",
            "shuffle",
            "class_weight",
            "initial_epoch",
            "steps_per_epoch",
            "validation_steps",
            "validation_batch_size",
            "validation_freq",
            "seed",
        ],
        "fit",
    )?;
    let mut a = FitArgs {
        verbose: 0,
        ..Default::default()
    };
    a.batch_size = opt_uint(m, "batch_size", 1)?;
    if let Some(v) = opt_uint(m, "epochs", 0)? {
        a.epochs = v;
    }
    if let Some(v) = opt_uint(m, "verbose", 0)? {
        a.verbose = v.min(2) as u8;
    }
    if let Some(v) = m.get("validation_split") {
        a.validation_split = num(v, "validation_split")? as f32;
    }
    if let Some(v) = m.get("shuffle") {
        a.shuffle = boolean(v, "shuffle")?;
    }
    if let Some(v) = m.get("class_weight").filter(|v| !v.is_null()) {
        let cw = object(v, "class_weight")?;
        let mut out = HashMap::new();
        for (k, w) in cw {
            let id: usize = k
                .parse()
                .map_err(|_| Error::invalid("class_weight key", k, "a class id (0, 1, ...)"))?;
            out.insert(id, num(w, &format!("class_weight[{k}]"))? as f32);
        }
        a.class_weight = Some(out);
    }
    if let Some(v) = opt_uint(m, "initial_epoch", 0)? {
        a.initial_epoch = v;
    }
    a.steps_per_epoch = opt_uint(m, "steps_per_epoch", 1)?;
    a.validation_steps = opt_uint(m, "validation_steps", 1)?;
    a.validation_batch_size = opt_uint(m, "validation_batch_size", 1)?;
    if let Some(v) = opt_uint(m, "validation_freq", 1)? {
        a.validation_freq = v;
    }
    if let Some(v) = m.get("seed").filter(|v| !v.is_null()) {
        a.seed = Some(uint(v, "seed", 0)? as u64);
    }
    Ok(a)
}

/// `evaluate`'s (`predict` false) or `predict`'s arguments from Keras's names: `batch_size`,
/// `steps`, `verbose` (0, 1 or 2; 0 when not given), and for `evaluate` `return_dict`. The
/// sample weights and callbacks travel separately.
pub fn eval_args(v: &Value, predict: bool) -> Result<EvalArgs> {
    let m = object(
        v,
        if predict {
            "predict options"
        } else {
            "evaluate options"
        },
    )?;
    if predict {
        check_keys(m, &["batch_size", "steps", "verbose"], "predict")?;
    } else {
        check_keys(
            m,
            &["batch_size", "steps", "verbose", "return_dict"],
            "evaluate",
        )?;
    }
    let verbose = match opt_uint(m, "verbose", 0)? {
        None => 0,
        Some(v) if v <= 2 => v as u8,
        Some(v) => return Err(Error::invalid("verbose", v, "0, 1 or 2")),
    };
    Ok(EvalArgs {
        batch_size: opt_uint(m, "batch_size", 1)?,
        steps: opt_uint(m, "steps", 1)?,
        verbose,
        return_dict: match m.get("return_dict") {
            None | Some(Value::Null) => false,
            Some(v) => boolean(v, "return_dict")?,
        },
    })
}

/// `fit`'s arguments as the JSON [`fit_args`] reads (arrays left out).
pub fn fit_args_to_json(a: &FitArgs) -> Value {
    serde_json::json!({
        "batch_size": a.batch_size,
        "epochs": a.epochs,
        "verbose": a.verbose,
        // through its shortest decimal, so 0.2f32 reads 0.2 rather than 0.20000000298...
        "validation_split": a.validation_split.to_string().parse::<f64>().unwrap_or(0.0),
        "shuffle": a.shuffle,
        "initial_epoch": a.initial_epoch,
        "steps_per_epoch": a.steps_per_epoch,
        "validation_steps": a.validation_steps,
        "validation_batch_size": a.validation_batch_size,
        "validation_freq": a.validation_freq,
        "seed": a.seed,
        "class_weight": a.class_weight.as_ref().map(|cw| {
            let mut ids: Vec<_> = cw.iter().collect();
            ids.sort_by_key(|(id, _)| **id);
            ids.into_iter()
                .map(|(id, w)| (id.to_string(), serde_json::json!(w)))
                .collect::<Map<String, Value>>()
        }),
    })
}

/// A built-in callback: `{"class_name": "EarlyStopping", "config": {...}}` with Keras's
/// arguments (EarlyStopping: monitor, min_delta, patience, mode, baseline,
/// restore_best_weights, start_from_epoch; ReduceLROnPlateau: monitor, factor, patience,
/// mode, min_delta, cooldown, min_lr; TerminateOnNaN).
pub fn callback(v: &Value) -> Result<Box<dyn Callback>> {
    let m = object(v, "callback")?;
    check_keys(m, &["class_name", "config"], "callback")?;
    let name = string(
        m.get("class_name").unwrap_or(&Value::Null),
        "callback.class_name",
    )?;
    let empty = Map::new();
    let c = match m.get("config") {
        None | Some(Value::Null) => &empty,
        Some(c) => object(c, "callback.config")?,
    };
    let monitor = c
        .get("monitor")
        .map(|v| string(v, "monitor"))
        .transpose()?
        .unwrap_or("val_loss");
    let mode = c
        .get("mode")
        .map(|v| string(v, "mode").and_then(Mode::parse))
        .transpose()?;
    Ok(match name {
        "EarlyStopping" => {
            check_keys(
                c,
                &[
                    "monitor",
                    "min_delta",
                    "patience",
                    "mode",
                    "baseline",
                    "restore_best_weights",
                    "start_from_epoch",
                ],
                "EarlyStopping",
            )?;
            let mut e = EarlyStopping::new(monitor);
            if let Some(v) = c.get("min_delta") {
                e = e.min_delta(num(v, "min_delta")? as f32);
            }
            if let Some(v) = opt_uint(c, "patience", 0)? {
                e = e.patience(v);
            }
            if let Some(md) = mode {
                e = e.mode(md);
            }
            if let Some(v) = c.get("baseline").filter(|v| !v.is_null()) {
                e = e.baseline(num(v, "baseline")? as f32);
            }
            if let Some(v) = c.get("restore_best_weights") {
                e = e.restore_best_weights(boolean(v, "restore_best_weights")?);
            }
            if let Some(v) = opt_uint(c, "start_from_epoch", 0)? {
                e = e.start_from_epoch(v);
            }
            Box::new(e)
        }
        "ReduceLROnPlateau" => {
            check_keys(
                c,
                &[
                    "monitor",
                    "factor",
                    "patience",
                    "mode",
                    "min_delta",
                    "cooldown",
                    "min_lr",
                ],
                "ReduceLROnPlateau",
            )?;
            let mut r = ReduceLROnPlateau::new(monitor)?;
            if let Some(v) = c.get("factor") {
                r = r.factor(num(v, "factor")? as f32)?;
            }
            if let Some(v) = opt_uint(c, "patience", 0)? {
                r = r.patience(v);
            }
            if let Some(v) = opt_uint(c, "cooldown", 0)? {
                r = r.cooldown(v);
            }
            if let Some(v) = c.get("min_lr") {
                r = r.min_lr(num(v, "min_lr")? as f32);
            }
            if let Some(md) = mode {
                r.mode = md;
            }
            if let Some(v) = c.get("min_delta") {
                r.min_delta = num(v, "min_delta")? as f32;
            }
            Box::new(r)
        }
        "TerminateOnNaN" => Box::new(TerminateOnNaN::default()),
        other => {
            return Err(Error::unknown(
                "callback",
                other,
                &["EarlyStopping", "ReduceLROnPlateau", "TerminateOnNaN"],
            ))
        }
    })
}

/// Hyperparameters declared up front: `{"space": [...], "values": {...}}` as
/// `HyperParameters::to_json` writes, or `null`.
pub fn hyperparameters(v: &Value) -> Result<Option<HyperParameters>> {
    if v.is_null() {
        return Ok(None);
    }
    HyperParameters::from_json(v).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tuners_and_their_errors() {
        let (a, c) = tuner(
            "Hyperband",
            &json!({"objective": "val_accuracy", "max_epochs": 9, "factor": 3, "executions_per_trial": 2, "device": "webgpu"}),
        )
        .unwrap();
        assert_eq!(a.name(), "Hyperband");
        assert_eq!(c.executions_per_trial, 2);
        assert_eq!(c.device, Device::Webgpu);
        assert_eq!(c.oracle.max_trials, None);
        let (_, c) = tuner("RandomSearch", &json!({})).unwrap();
        assert_eq!(c.oracle.max_trials, Some(10));
        let e = tuner("RandomSearch", &json!({"max_trial": 3}))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("max_trial") && e.contains("max_trials"), "{e}");
        let e = tuner("RandomSearch", &json!({"max_trials": 0}))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("max_trials") && e.contains(">= 1"), "{e}");
        let e = tuner("Annealing", &json!({})).err().unwrap().to_string();
        assert!(e.contains("Annealing") && e.contains("RandomSearch"), "{e}");
        let e = tuner("RandomSearch", &json!({"objective": 3}))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("objective"), "{e}");
    }

    #[test]
    fn evaluate_and_predict_arguments() {
        let a = eval_args(
            &json!({"batch_size": 8, "steps": 2, "verbose": 1, "return_dict": true}),
            false,
        )
        .unwrap();
        assert_eq!(
            (a.batch_size, a.steps, a.verbose, a.return_dict),
            (Some(8), Some(2), 1, true)
        );
        let e = eval_args(&json!({"return_dict": true}), true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("return_dict") && e.contains("steps"), "{e}");
        let e = eval_args(&json!({"verbose": 3}), false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("verbose") && e.contains("0, 1 or 2"), "{e}");
        assert!(eval_args(&json!({"steps": 0}), true).is_err());
    }

    #[test]
    fn fit_arguments_and_callbacks() {
        let a = fit_args(&json!({"epochs": 3, "batch_size": 16, "class_weight": {"1": 2.0}, "validation_split": 0.2})).unwrap();
        assert_eq!(
            (a.epochs, a.batch_size, a.validation_split),
            (3, Some(16), 0.2)
        );
        assert_eq!(a.class_weight.unwrap()[&1], 2.0);
        let e = fit_args(&json!({"batchSize": 3}))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("batchSize") && e.contains("batch_size"), "{e}");
        let e = fit_args(&json!({"batch_size": 0}))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("batch_size"), "{e}");
        let round = fit_args(&fit_args_to_json(
            &fit_args(&json!({"epochs": 4, "seed": 7})).unwrap(),
        ))
        .unwrap();
        assert_eq!((round.epochs, round.seed), (4, Some(7)));
        callback(
            &json!({"class_name": "EarlyStopping", "config": {"monitor": "loss", "patience": 2}}),
        )
        .unwrap();
        callback(&json!({"class_name": "ReduceLROnPlateau", "config": {"factor": 0.5}})).unwrap();
        let e = callback(&json!({"class_name": "EarlyStopping", "config": {"patients": 2}}))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("patients") && e.contains("patience"), "{e}");
    }
}
