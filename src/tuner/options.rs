//! Tuners, fit arguments and callbacks from JSON option objects with KerasTuner's and Keras's
//! argument names (snake_case): what the JavaScript API and notebook embeds send. Unknown keys
//! and bad values are errors that name the key.

use crate::error::{Error, Result};
use crate::gpu::Device;
use crate::hp::HyperParameters;
use crate::nn::callbacks::{Callback, EarlyStopping, Mode, ReduceLROnPlateau, TerminateOnNaN};
use crate::nn::model::FitArgs;
use crate::tuner::objective::{Objective, ObjectiveSpec};
use crate::tuner::oracle::{Algorithm, OracleConfig};
use crate::tuner::oracles::{BayesianOptimization, GridSearch, Hyperband, RandomSearch};
use crate::tuner::tuner::TunerConfig;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The tuner classes by name.
pub const TUNER_KINDS: &[&str] = &[
    "RandomSearch",
    "GridSearch",
    "Hyperband",
    "BayesianOptimization",
];

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

/// A tuner's algorithm and settings from its class name and options (`max_trials`,
/// `executions_per_trial`, `objective`, `seed`, `overwrite`, `directory`, `project_name`,
/// `max_retries_per_trial`, `max_consecutive_failed_trials`, `max_collisions`,
/// `max_model_size`, `device`, `parallel_trials`; Hyperband: `max_epochs`, `factor`,
/// `hyperband_iterations`; BayesianOptimization: `num_initial_points`, `alpha`, `beta`).
pub fn tuner(kind: &str, v: &Value) -> Result<(Box<dyn Algorithm>, TunerConfig)> {
    let m = object(v, "tuner options")?;
    let common = [
        "objective",
        "max_trials",
        "executions_per_trial",
        "seed",
        "overwrite",
        "directory",
        "project_name",
        "max_retries_per_trial",
        "max_consecutive_failed_trials",
        "max_collisions",
        "max_model_size",
        "device",
        "parallel_trials",
        "verbose",
    ];
    let specific: &[&str] = match kind {
        "RandomSearch" | "GridSearch" => &[],
        "Hyperband" => &["max_epochs", "factor", "hyperband_iterations"],
        "BayesianOptimization" => &["num_initial_points", "alpha", "beta"],
        _ => return Err(Error::unknown("tuner", kind, TUNER_KINDS)),
    };
    let allowed: Vec<&str> = common.iter().chain(specific).copied().collect();
    check_keys(m, &allowed, kind)?;
    let mut oracle = OracleConfig {
        max_trials: match kind {
            "RandomSearch" | "BayesianOptimization" => Some(10),
            _ => None,
        },
        ..Default::default()
    };
    if let Some(o) = m.get("objective") {
        oracle.objective = objective(o)?;
    }
    if let Some(v) = m.get("max_trials") {
        oracle.max_trials = if v.is_null() {
            None
        } else {
            Some(uint(v, "max_trials", 1)?)
        };
    }
    if let Some(v) = m.get("seed") {
        oracle.seed = uint(v, "seed", 0)? as u64;
    }
    if let Some(v) = opt_uint(m, "max_retries_per_trial", 0)? {
        oracle.max_retries_per_trial = v;
    }
    if let Some(v) = opt_uint(m, "max_consecutive_failed_trials", 1)? {
        oracle.max_consecutive_failed_trials = v;
    }
    if let Some(v) = opt_uint(m, "max_collisions", 1)? {
        oracle.max_collisions = v;
    }
    let mut config = TunerConfig {
        oracle,
        ..Default::default()
    };
    if let Some(v) = opt_uint(m, "executions_per_trial", 1)? {
        config.executions_per_trial = v;
    }
    config.max_model_size = opt_uint(m, "max_model_size", 1)?;
    if let Some(v) = m.get("overwrite") {
        config.overwrite = boolean(v, "overwrite")?;
    }
    if let Some(v) = m.get("directory") {
        config.directory = Some(string(v, "directory")?.into());
    }
    if let Some(v) = m.get("project_name") {
        config.project_name = string(v, "project_name")?.to_string();
    }
    if let Some(v) = m.get("device") {
        config.device = Device::parse(string(v, "device")?)?;
    }
    config.parallel_trials = opt_uint(m, "parallel_trials", 1)?;
    if let Some(v) = m.get("verbose") {
        config.verbose = boolean(v, "verbose")?;
    }
    let algorithm: Box<dyn Algorithm> = match kind {
        "RandomSearch" => Box::new(RandomSearch),
        "GridSearch" => Box::new(GridSearch::new()),
        "Hyperband" => Box::new(Hyperband::new(
            opt_uint(m, "max_epochs", 1)?.unwrap_or(100),
            opt_uint(m, "factor", 2)?.unwrap_or(3),
            match m.get("hyperband_iterations") {
                Some(Value::Null) => None,
                Some(v) => Some(uint(v, "hyperband_iterations", 1)?),
                None => Some(1),
            },
        )?),
        _ => Box::new(BayesianOptimization::new(
            opt_uint(m, "num_initial_points", 1)?,
            m.get("alpha")
                .map(|v| num(v, "alpha"))
                .transpose()?
                .unwrap_or(1e-4),
            m.get("beta")
                .map(|v| num(v, "beta"))
                .transpose()?
                .unwrap_or(2.6),
        )?),
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
