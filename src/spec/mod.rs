//! A model described as data: Keras-style JSON (`class_name` + `config`, config keys are
//! Keras's argument names) that the CLI, the web page, URLs and notebooks share. See
//! `docs/model-spec.md` for the format. Parsing errors name the JSON path of the bad field.

pub mod hyper;
pub mod saved;

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::nn::initializers::Initializer;
use crate::nn::layers::{Dense, Dropout, Layer, Normalization};
use crate::nn::Sequential;
use crate::ops::activations::Activation;
use crate::ops::losses::{Loss, LossKind};
use crate::ops::optimizers::{Optimizer, OptimizerKind};
use crate::ops::regularizers::Regularizer;
use serde_json::{json, Map, Value};

/// Layer class names the spec accepts.
pub const LAYER_NAMES: &[&str] = &[
    "Dense",
    "Dropout",
    "Flatten",
    "Activation",
    "Normalization",
    "InputLayer",
];

/// `compile`'s arguments as data.
#[derive(Debug, Clone, PartialEq)]
pub struct CompileSpec {
    pub optimizer: Optimizer,
    pub loss: Loss,
    pub metrics: Vec<String>,
    pub weighted_metrics: Vec<String>,
}

/// A whole model: optional input shape, layers, and optionally how to compile it.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    pub input_shape: Option<Vec<usize>>,
    pub layers: Vec<Layer>,
    pub compile: Option<CompileSpec>,
}

fn obj<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| Error::invalid(path, short(v), "a JSON object"))
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 60 {
        format!(
            "{}...",
            &s[..s.char_indices().nth(57).map_or(s.len(), |(i, _)| i)]
        )
    } else {
        s
    }
}

fn check_keys(m: &Map<String, Value>, allowed: &[&str], path: &str) -> Result<()> {
    for k in m.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(Error::unknown(
                format!("key in {path}"),
                k.as_str(),
                allowed,
            ));
        }
    }
    Ok(())
}

fn get_usize(v: &Value, path: &str, what: &str) -> Result<usize> {
    v.as_u64()
        .filter(|&u| u <= u32::MAX as u64)
        .map(|u| u as usize)
        .ok_or_else(|| Error::invalid(path, short(v), what))
}

fn get_f32(v: &Value, path: &str) -> Result<f32> {
    v.as_f64()
        .map(|f| f as f32)
        .filter(|f| f.is_finite())
        .ok_or_else(|| Error::invalid(path, short(v), "a finite number"))
}

fn get_str<'a>(v: &'a Value, path: &str) -> Result<&'a str> {
    v.as_str()
        .ok_or_else(|| Error::invalid(path, short(v), "a string"))
}

/// `"name"` or `{"class_name": "name", "config": {...}}` -> (name, config).
fn named<'a>(v: &'a Value, path: &str) -> Result<(&'a str, Option<&'a Map<String, Value>>)> {
    match v {
        Value::String(s) => Ok((s, None)),
        Value::Object(m) => {
            check_keys(
                m,
                &["class_name", "config", "module", "registered_name"],
                path,
            )?;
            let name = get_str(
                m.get("class_name").ok_or_else(|| {
                    Error::invalid(path, short(v), "an object with a \"class_name\"")
                })?,
                &format!("{path}.class_name"),
            )?;
            let cfg = match m.get("config") {
                None | Some(Value::Null) => None,
                Some(c) => Some(obj(c, &format!("{path}.config"))?),
            };
            Ok((name, cfg))
        }
        _ => Err(Error::invalid(
            path,
            short(v),
            "a name or {\"class_name\": ..., \"config\": {...}}",
        )),
    }
}

fn parse_shape(v: &Value, path: &str, drop_batch: bool) -> Result<Vec<usize>> {
    let arr = v
        .as_array()
        .ok_or_else(|| Error::invalid(path, short(v), "a list of positive integers"))?;
    let items = if drop_batch && arr.first().is_some_and(|f| f.is_null()) {
        &arr[1..]
    } else {
        &arr[..]
    };
    if items.is_empty() || items.len() > 8 {
        return Err(Error::invalid(
            path,
            short(v),
            "a list of 1 to 8 positive integers",
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let n = get_usize(d, &format!("{path}[{i}]"), "a positive integer")?;
            if n == 0 || n > 1 << 24 {
                return Err(Error::invalid(
                    format!("{path}[{i}]"),
                    n,
                    "an integer in [1, 16777216]",
                ));
            }
            Ok(n)
        })
        .collect()
}

fn parse_initializer(v: &Value, path: &str) -> Result<Initializer> {
    let (name, cfg) = named(v, path)?;
    let mut init = Initializer::parse(name)?;
    if let Some(cfg) = cfg {
        match &mut init {
            Initializer::RandomNormal { stddev } => {
                check_keys(cfg, &["mean", "stddev", "seed"], path)?;
                if let Some(s) = cfg.get("stddev") {
                    *stddev = get_f32(s, &format!("{path}.config.stddev"))?;
                }
            }
            Initializer::RandomUniform { minval, maxval } => {
                check_keys(cfg, &["minval", "maxval", "seed"], path)?;
                if let Some(s) = cfg.get("minval") {
                    *minval = get_f32(s, &format!("{path}.config.minval"))?;
                }
                if let Some(s) = cfg.get("maxval") {
                    *maxval = get_f32(s, &format!("{path}.config.maxval"))?;
                }
            }
            _ => check_keys(cfg, &["seed"], path)?,
        }
    }
    Ok(init)
}

fn initializer_value(i: &Initializer) -> Value {
    match i {
        Initializer::RandomNormal { stddev } => {
            json!({"class_name": "random_normal", "config": {"mean": 0.0, "stddev": stddev}})
        }
        Initializer::RandomUniform { minval, maxval } => {
            json!({"class_name": "random_uniform", "config": {"minval": minval, "maxval": maxval}})
        }
        other => Value::from(other.name()),
    }
}

fn parse_regularizer(v: &Value, path: &str) -> Result<Option<Regularizer>> {
    if v.is_null() {
        return Ok(None);
    }
    let (name, cfg) = named(v, path)?;
    let mut r = Regularizer::parse(name)?;
    if let Some(cfg) = cfg {
        check_keys(cfg, &["l1", "l2"], &format!("{path}.config"))?;
        if cfg.contains_key("l1") || cfg.contains_key("l2") {
            // With explicit factors, a missing one is 0 (as in Keras's L1L2 config).
            let l1 = match cfg.get("l1") {
                Some(x) => get_f32(x, &format!("{path}.config.l1"))?,
                None => 0.0,
            };
            let l2 = match cfg.get("l2") {
                Some(x) => get_f32(x, &format!("{path}.config.l2"))?,
                None => 0.0,
            };
            r = Regularizer::l1_l2(l1, l2);
        }
    }
    r.validate()?;
    Ok(Some(r))
}

fn regularizer_value(r: &Option<Regularizer>) -> Value {
    match r {
        None => Value::Null,
        Some(r) => json!({"class_name": "L1L2", "config": {"l1": r.l1, "l2": r.l2}}),
    }
}

fn opt_name(cfg: &Map<String, Value>, path: &str) -> Result<Option<String>> {
    match cfg.get("name") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => Ok(Some(get_str(v, &format!("{path}.name"))?.to_string())),
    }
}

/// Parses one `{"class_name": ..., "config": {...}}` layer; `Ok(None)` for an InputLayer,
/// whose shape is returned through `input_shape`.
fn parse_layer(
    v: &Value,
    path: &str,
    input_shape: &mut Option<Vec<usize>>,
) -> Result<Option<Layer>> {
    let (class, cfg) = named(v, path)?;
    let empty = Map::new();
    let cfg = cfg.unwrap_or(&empty);
    let cpath = format!("{path}.config");
    let common = [
        "name",
        "trainable",
        "dtype",
        "input_shape",
        "batch_input_shape",
    ];
    if let Some(s) = cfg.get("input_shape") {
        *input_shape = Some(parse_shape(s, &format!("{cpath}.input_shape"), false)?);
    }
    if let Some(s) = cfg.get("batch_input_shape") {
        *input_shape = Some(parse_shape(s, &format!("{cpath}.batch_input_shape"), true)?);
    }
    fn with(common: &[&'static str], extra: &[&'static str]) -> Vec<&'static str> {
        common.iter().chain(extra).copied().collect()
    }
    let layer = match crate::ops::losses::normalize(class).as_str() {
        "dense" => {
            check_keys(
                cfg,
                &with(
                    &common,
                    &[
                        "units",
                        "activation",
                        "use_bias",
                        "kernel_initializer",
                        "bias_initializer",
                        "kernel_regularizer",
                        "bias_regularizer",
                    ],
                ),
                &cpath,
            )?;
            let units = get_usize(
                cfg.get("units").ok_or_else(|| {
                    Error::invalid(format!("{cpath}.units"), "missing", "a positive integer")
                })?,
                &format!("{cpath}.units"),
                "a positive integer",
            )?;
            if units == 0 || units > 1 << 20 {
                return Err(Error::invalid(
                    format!("{cpath}.units"),
                    units,
                    "an integer in [1, 1048576]",
                ));
            }
            let mut d = Dense::new(units);
            if let Some(a) = cfg.get("activation") {
                if !a.is_null() {
                    d.activation = Activation::parse(get_str(a, &format!("{cpath}.activation"))?)?;
                }
            }
            if let Some(b) = cfg.get("use_bias") {
                d.use_bias = b.as_bool().ok_or_else(|| {
                    Error::invalid(format!("{cpath}.use_bias"), short(b), "true or false")
                })?;
            }
            if let Some(i) = cfg.get("kernel_initializer") {
                d.kernel_initializer =
                    parse_initializer(i, &format!("{cpath}.kernel_initializer"))?;
            }
            if let Some(i) = cfg.get("bias_initializer") {
                d.bias_initializer = parse_initializer(i, &format!("{cpath}.bias_initializer"))?;
            }
            if let Some(r) = cfg.get("kernel_regularizer") {
                d.kernel_regularizer =
                    parse_regularizer(r, &format!("{cpath}.kernel_regularizer"))?;
            }
            if let Some(r) = cfg.get("bias_regularizer") {
                d.bias_regularizer = parse_regularizer(r, &format!("{cpath}.bias_regularizer"))?;
            }
            d.name = opt_name(cfg, &cpath)?;
            Layer::Dense(d)
        }
        "dropout" => {
            check_keys(
                cfg,
                &with(&common, &["rate", "seed", "noise_shape"]),
                &cpath,
            )?;
            let rate = get_f32(
                cfg.get("rate").ok_or_else(|| {
                    Error::invalid(format!("{cpath}.rate"), "missing", "a float in [0, 1)")
                })?,
                &format!("{cpath}.rate"),
            )?;
            if !(0.0..1.0).contains(&rate) {
                return Err(Error::invalid(
                    format!("{cpath}.rate"),
                    rate,
                    "a float in [0, 1)",
                ));
            }
            let mut d = Dropout::new(rate);
            if let Some(s) = cfg.get("seed") {
                if !s.is_null() {
                    d.seed = Some(s.as_u64().ok_or_else(|| {
                        Error::invalid(format!("{cpath}.seed"), short(s), "a non-negative integer")
                    })?);
                }
            }
            d.name = opt_name(cfg, &cpath)?;
            Layer::Dropout(d)
        }
        "flatten" => {
            check_keys(cfg, &with(&common, &["data_format"]), &cpath)?;
            Layer::Flatten {
                name: opt_name(cfg, &cpath)?,
            }
        }
        "activation" => {
            check_keys(cfg, &with(&common, &["activation"]), &cpath)?;
            let a = cfg.get("activation").ok_or_else(|| {
                Error::invalid(
                    format!("{cpath}.activation"),
                    "missing",
                    "an activation name",
                )
            })?;
            Layer::Activation {
                activation: Activation::parse(get_str(a, &format!("{cpath}.activation"))?)?,
                name: opt_name(cfg, &cpath)?,
            }
        }
        "normalization" => {
            check_keys(
                cfg,
                &with(&common, &["axis", "mean", "variance", "invert"]),
                &cpath,
            )?;
            let mut n = Normalization::new();
            match cfg.get("axis") {
                None => {}
                Some(Value::Null) => n.axis = None,
                Some(a) if a.as_i64() == Some(-1) => n.axis = Some(-1),
                Some(a) => {
                    return Err(Error::invalid(
                        format!("{cpath}.axis"),
                        short(a),
                        "-1 (one mean and variance per feature of the last axis) or null (one \
                         for every value)",
                    ))
                }
            }
            if let Some(inv) = cfg.get("invert") {
                if inv != &Value::Bool(false) {
                    return Err(Error::invalid(
                        format!("{cpath}.invert"),
                        short(inv),
                        "false: tunelab has no de-normalizing layer (scale the targets \
                         yourself)",
                    ));
                }
            }
            let stats = |key: &str| -> Result<Option<Vec<f32>>> {
                let p = format!("{cpath}.{key}");
                match cfg.get(key) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::Array(a)) => a
                        .iter()
                        .map(|v| get_f32(v, &p))
                        .collect::<Result<Vec<_>>>()
                        .map(Some),
                    Some(v) => get_f32(v, &p).map(|x| Some(vec![x])),
                }
            };
            n.mean = stats("mean")?;
            n.variance = stats("variance")?;
            n.name = opt_name(cfg, &cpath)?;
            n.check_stats(&cpath)?;
            Layer::Normalization(n)
        }
        "inputlayer" | "input" => {
            check_keys(
                cfg,
                &with(&common, &["shape", "batch_shape", "sparse", "ragged"]),
                &cpath,
            )?;
            if let Some(s) = cfg.get("shape") {
                *input_shape = Some(parse_shape(s, &format!("{cpath}.shape"), false)?);
            }
            if let Some(s) = cfg.get("batch_shape") {
                *input_shape = Some(parse_shape(s, &format!("{cpath}.batch_shape"), true)?);
            }
            return Ok(None);
        }
        _ => return Err(Error::unknown("layer", class, LAYER_NAMES)),
    };
    Ok(Some(layer))
}

fn layer_value(l: &Layer) -> Value {
    match l {
        Layer::Dense(d) => {
            let mut cfg = json!({
                "units": d.units,
                "activation": d.activation.name(),
                "use_bias": d.use_bias,
                "kernel_initializer": initializer_value(&d.kernel_initializer),
                "bias_initializer": initializer_value(&d.bias_initializer),
                "kernel_regularizer": regularizer_value(&d.kernel_regularizer),
                "bias_regularizer": regularizer_value(&d.bias_regularizer),
            });
            if let (Some(n), Some(m)) = (&d.name, cfg.as_object_mut()) {
                m.insert("name".into(), Value::from(n.as_str()));
            }
            json!({"class_name": "Dense", "config": cfg})
        }
        Layer::Dropout(d) => {
            let mut cfg = json!({"rate": d.rate, "seed": d.seed});
            if let (Some(n), Some(m)) = (&d.name, cfg.as_object_mut()) {
                m.insert("name".into(), Value::from(n.as_str()));
            }
            json!({"class_name": "Dropout", "config": cfg})
        }
        Layer::Flatten { name } => match name {
            Some(n) => json!({"class_name": "Flatten", "config": {"name": n}}),
            None => json!({"class_name": "Flatten", "config": {}}),
        },
        Layer::Normalization(n) => {
            let mut cfg = json!({"axis": n.axis});
            if let (Some(m), Some(v), Some(o)) = (&n.mean, &n.variance, cfg.as_object_mut()) {
                o.insert("mean".into(), json!(m));
                o.insert("variance".into(), json!(v));
            }
            if let (Some(name), Some(o)) = (&n.name, cfg.as_object_mut()) {
                o.insert("name".into(), Value::from(name.as_str()));
            }
            json!({"class_name": "Normalization", "config": cfg})
        }
        Layer::Activation { activation, name } => {
            let mut cfg = json!({"activation": activation.name()});
            if let (Some(n), Some(m)) = (name, cfg.as_object_mut()) {
                m.insert("name".into(), Value::from(n.as_str()));
            }
            json!({"class_name": "Activation", "config": cfg})
        }
    }
}

/// Parses `compile`'s object.
pub fn parse_compile(v: &Value, path: &str) -> Result<CompileSpec> {
    let m = obj(v, path)?;
    check_keys(
        m,
        &[
            "optimizer",
            "loss",
            "metrics",
            "weighted_metrics",
            "loss_weights",
            "run_eagerly",
            "jit_compile",
            "auto_scale_loss",
            "steps_per_execution",
        ],
        path,
    )?;
    keras_only_compile_args(m, path)?;
    let optimizer = match m.get("optimizer") {
        None => Optimizer::from_name("rmsprop")?,
        Some(o) => {
            let (name, cfg) = named(o, &format!("{path}.optimizer"))?;
            match cfg {
                Some(c) => Optimizer::from_config(name, c)?,
                None => Optimizer::from_name(name)?,
            }
        }
    };
    let lv = m.get("loss").ok_or_else(|| {
        Error::invalid(
            format!("{path}.loss"),
            "missing",
            "a loss name or {\"class_name\", \"config\"}",
        )
    })?;
    let (lname, lcfg) = named(lv, &format!("{path}.loss"))?;
    let mut loss = Loss::new(LossKind::parse(lname)?);
    if let Some(c) = lcfg {
        let lp = format!("{path}.loss.config");
        check_keys(
            c,
            &[
                "from_logits",
                "label_smoothing",
                "delta",
                "reduction",
                "name",
                "axis",
            ],
            &lp,
        )?;
        if let Some(b) = c.get("from_logits") {
            loss.from_logits = b.as_bool().ok_or_else(|| {
                Error::invalid(format!("{lp}.from_logits"), short(b), "true or false")
            })?;
        }
        if let Some(x) = c.get("label_smoothing") {
            loss.label_smoothing = get_f32(x, &format!("{lp}.label_smoothing"))?;
        }
        if let Some(x) = c.get("delta") {
            loss.delta = get_f32(x, &format!("{lp}.delta"))?;
        }
        if let Some(r) = c.get("reduction") {
            if r.as_str() != Some("sum_over_batch_size") {
                return Err(Error::invalid(
                    format!("{lp}.reduction"),
                    short(r),
                    "\"sum_over_batch_size\" (Keras's default)",
                ));
            }
        }
    }
    loss.validate()?;
    let names = |key: &str| -> Result<Vec<String>> {
        match m.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(a)) => a
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let p = format!("{path}.{key}[{i}]");
                    let name = get_str(s, &p)?;
                    crate::nn::metrics::get_metric(name, &[1, 2], &[1, 2])?;
                    Ok(name.to_string())
                })
                .collect(),
            Some(other) => Err(Error::invalid(
                format!("{path}.{key}"),
                short(other),
                "a list of metric names",
            )),
        }
    };
    Ok(CompileSpec {
        optimizer,
        loss,
        metrics: names("metrics")?,
        weighted_metrics: names("weighted_metrics")?,
    })
}

/// Keras's compile arguments for what tunelab has no counterpart of: the values that mean what
/// tunelab does anyway are accepted (and change nothing), any other is refused with the reason.
/// `loss_weights`: 1 or `[1]` (a tunelab model has one output, whose loss is not scaled);
/// `run_eagerly`: false (there is no graph compilation to step around); `jit_compile`:
/// `"auto"` or false (there is no XLA); `steps_per_execution`: 1; `auto_scale_loss`: true or
/// false (loss scaling only happens under a mixed-precision policy, and tunelab trains in
/// float32, so the loss is never scaled either way).
fn keras_only_compile_args(m: &serde_json::Map<String, Value>, path: &str) -> Result<()> {
    let given = |k: &str| m.get(k).filter(|v| !v.is_null());
    if let Some(v) = given("loss_weights") {
        let one = |v: &Value| v.as_f64() == Some(1.0);
        let ok = match v {
            Value::Array(a) => a.len() == 1 && one(&a[0]),
            v => one(v),
        };
        if !ok {
            let why = match v {
                Value::Array(a) if a.len() != 1 => "1 or [1]: a tunelab model has one output, so there is one loss to weigh and no other to weigh it against",
                Value::Array(_) | Value::Number(_) => "1 or [1]: a tunelab model has one output; weighting its only loss just scales the gradients, so scale the optimizer's learning_rate (learningRate) instead",
                _ => "1 or [1]: a tunelab model has one output (one loss, weight 1)",
            };
            return Err(Error::invalid(
                format!("{path}.loss_weights"),
                short(v),
                why,
            ));
        }
    }
    if let Some(v) = given("run_eagerly") {
        if v != &Value::Bool(false) {
            return Err(Error::invalid(
                format!("{path}.run_eagerly"),
                short(v),
                "false: tunelab does not trace models into graphs, every step already runs as written, so there is no eager mode to switch to; leave it out",
            ));
        }
    }
    if let Some(v) = given("jit_compile") {
        if v != &Value::Bool(false) && v.as_str() != Some("auto") {
            return Err(Error::invalid(
                format!("{path}.jit_compile"),
                short(v),
                "\"auto\" or false: tunelab has no XLA compiler (its CPU and WebGPU kernels are compiled ahead of time); leave it out",
            ));
        }
    }
    if let Some(v) = given("steps_per_execution") {
        if v.as_f64() != Some(1.0) {
            return Err(Error::invalid(
                format!("{path}.steps_per_execution"),
                short(v),
                "1: on the CPU each step runs by itself; on WebGPU (device \"webgpu\" or \"auto\") tunelab already runs a whole epoch per submission, so leave it out",
            ));
        }
    }
    if let Some(v) = given("auto_scale_loss") {
        if !v.is_boolean() {
            return Err(Error::invalid(
                format!("{path}.auto_scale_loss"),
                short(v),
                "true or false (both mean the same here: tunelab trains in float32 and never scales the loss)",
            ));
        }
    }
    Ok(())
}

/// Puts an unadapted Normalization layer at the front of a spec's `layers` (a model spec or a
/// hypermodel spec: after any leading InputLayer and Flatten), which `fit` then adapts on the
/// training rows: `tunelab fit / tune --normalize`. A spec that already has one is refused.
pub fn prepend_normalization(spec: &mut Value) -> Result<()> {
    let layers = spec
        .get_mut("layers")
        .and_then(|l| l.as_array_mut())
        .ok_or_else(|| {
            Error::invalid(
                "layers",
                "missing",
                "a list of {\"class_name\", \"config\"} objects",
            )
        })?;
    let class = |l: &Value| {
        l.get("class_name")
            .and_then(|c| c.as_str())
            .map(crate::ops::losses::normalize)
            .unwrap_or_default()
    };
    if let Some(i) = layers.iter().position(|l| class(l) == "normalization") {
        return Err(Error::invalid(
            format!("layers[{i}]"),
            "a Normalization layer",
            "no Normalization layer in the spec with --normalize (it adds one): drop one of \
             the two",
        ));
    }
    let at = layers
        .iter()
        .position(|l| !matches!(class(l).as_str(), "inputlayer" | "input" | "flatten"))
        .unwrap_or(layers.len());
    layers.insert(
        at,
        json!({"class_name": "Normalization", "config": {"axis": -1}}),
    );
    Ok(())
}

impl ModelSpec {
    /// Parses a JSON document.
    ///
    /// ```
    /// let spec = tunelab::spec::ModelSpec::parse(r#"{
    ///   "layers": [{"class_name": "Dense", "config": {"units": 4, "activation": "relu"}},
    ///              {"class_name": "Dense", "config": {"units": 1}}],
    ///   "compile": {"optimizer": "adam", "loss": "mse"}}"#).unwrap();
    /// assert_eq!(spec.layers.len(), 2);
    /// ```
    pub fn parse(text: &str) -> Result<Self> {
        if text.len() > 4 << 20 {
            return Err(Error::invalid(
                "model spec",
                format!("{} bytes", text.len()),
                "at most 4 MiB of JSON",
            ));
        }
        let v: Value = serde_json::from_str(text)
            .map_err(|e| Error::parse(format!("model spec is not valid JSON: {e}")))?;
        Self::from_value(&v)
    }

    /// Reads the spec from a parsed JSON value.
    pub fn from_value(v: &Value) -> Result<Self> {
        let m = obj(v, "spec")?;
        check_keys(m, &["layers", "compile", "input_shape", "name"], "spec")?;
        let mut input_shape = match m.get("input_shape") {
            None | Some(Value::Null) => None,
            Some(s) => Some(parse_shape(s, "input_shape", false)?),
        };
        let layers_v = m.get("layers").and_then(|l| l.as_array()).ok_or_else(|| {
            Error::invalid(
                "layers",
                "missing",
                "a list of {\"class_name\", \"config\"} objects",
            )
        })?;
        if layers_v.len() > 1000 {
            return Err(Error::invalid(
                "layers",
                format!("{} layers", layers_v.len()),
                "at most 1000 layers",
            ));
        }
        let mut layers = Vec::new();
        for (i, l) in layers_v.iter().enumerate() {
            if let Some(layer) = parse_layer(l, &format!("layers[{i}]"), &mut input_shape)? {
                layer.validate(i)?;
                layers.push(layer);
            }
        }
        if layers.is_empty() {
            return Err(Error::invalid("layers", "[]", "at least one layer"));
        }
        let compile = match m.get("compile") {
            None | Some(Value::Null) => None,
            Some(c) => Some(parse_compile(c, "compile")?),
        };
        Ok(ModelSpec {
            input_shape,
            layers,
            compile,
        })
    }

    /// The spec as JSON (every argument written out).
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        if let Some(s) = &self.input_shape {
            m.insert("input_shape".into(), json!(s));
        }
        m.insert(
            "layers".into(),
            Value::Array(self.layers.iter().map(layer_value).collect()),
        );
        if let Some(c) = &self.compile {
            m.insert(
                "compile".into(),
                json!({
                    "optimizer": {"class_name": c.optimizer.kind.name(), "config": c.optimizer.config()},
                    "loss": {"class_name": c.loss.name(), "config": {
                        "from_logits": c.loss.from_logits,
                        "label_smoothing": c.loss.label_smoothing,
                        "delta": c.loss.delta}},
                    "metrics": c.metrics,
                    "weighted_metrics": c.weighted_metrics,
                }),
            );
        }
        Value::Object(m)
    }

    /// A model on `backend` with these layers, compiled when the spec says how.
    pub fn build_on<B: Backend>(&self, backend: B, seed: u64) -> Result<Sequential<B>> {
        let mut model = Sequential::with_backend(backend).seed(seed);
        if let Some(s) = &self.input_shape {
            model = model.input_shape(s);
        }
        for l in &self.layers {
            model.add(l.clone());
        }
        if let Some(c) = &self.compile {
            let m: Vec<&str> = c.metrics.iter().map(|s| s.as_str()).collect();
            let w: Vec<&str> = c.weighted_metrics.iter().map(|s| s.as_str()).collect();
            model.compile_full(c.optimizer.clone(), c.loss.clone(), &m, &w, Vec::new())?;
        }
        if let Some(s) = &self.input_shape {
            model.build(s)?;
        }
        Ok(model)
    }

    /// A CPU model (see [`ModelSpec::build_on`]).
    pub fn build(&self, seed: u64) -> Result<Sequential> {
        self.build_on(crate::backend::Cpu, seed)
    }

    /// The spec of an existing model.
    pub fn of<B: Backend>(model: &Sequential<B>) -> Self {
        let (metrics, weighted_metrics) = model.metric_names();
        ModelSpec {
            input_shape: model.get_input_shape().map(|s| s.to_vec()),
            layers: model.layers().to_vec(),
            compile: match (model.optimizer(), model.loss()) {
                (Some(o), Some(l)) => Some(CompileSpec {
                    optimizer: o.clone(),
                    loss: l.clone(),
                    metrics,
                    weighted_metrics,
                }),
                _ => None,
            },
        }
    }
}

/// Whether an optimizer name is known (for quick checks in surfaces).
pub fn is_optimizer(name: &str) -> bool {
    OptimizerKind::parse(name).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keras_compile_arguments_taken_or_refused_with_the_reason() {
        let ok = serde_json::json!({"loss": "mse", "loss_weights": [1], "run_eagerly": false,
            "jit_compile": "auto", "steps_per_execution": 1, "auto_scale_loss": false});
        parse_compile(&ok, "compile").unwrap();
        let ok = serde_json::json!({"loss": "mse", "loss_weights": 1.0, "jit_compile": false});
        parse_compile(&ok, "compile").unwrap();
        for (k, v, says) in [
            ("run_eagerly", serde_json::json!(true), "no eager mode"),
            ("jit_compile", serde_json::json!(true), "XLA"),
            (
                "steps_per_execution",
                serde_json::json!(4),
                "whole epoch per submission",
            ),
            ("loss_weights", serde_json::json!([1, 2]), "one output"),
            ("loss_weights", serde_json::json!(0.5), "learning_rate"),
            ("auto_scale_loss", serde_json::json!("yes"), "float32"),
        ] {
            let mut c = serde_json::json!({"loss": "mse"});
            c[k] = v;
            let e = parse_compile(&c, "compile").unwrap_err().to_string();
            assert!(
                e.contains(&format!("compile.{k}")) && e.contains(says),
                "{e}"
            );
        }
    }

    const SPEC: &str = r#"{
      "input_shape": [6],
      "layers": [
        {"class_name": "Dense", "config": {"units": 8, "activation": "relu",
          "kernel_initializer": "he_normal",
          "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.001}}}},
        {"class_name": "Dropout", "config": {"rate": 0.25, "seed": 3}},
        {"class_name": "Dense", "config": {"units": 3, "activation": "softmax", "name": "out"}}
      ],
      "compile": {"optimizer": {"class_name": "adam", "config": {"learning_rate": 0.01, "amsgrad": true}},
                  "loss": {"class_name": "categorical_crossentropy", "config": {"label_smoothing": 0.1}},
                  "metrics": ["accuracy"]}
    }"#;

    #[test]
    fn parses_and_round_trips() {
        let s = ModelSpec::parse(SPEC).unwrap();
        assert_eq!(s.layers.len(), 3);
        let c = s.compile.as_ref().unwrap();
        assert_eq!(c.optimizer.learning_rate, 0.01);
        assert!(c.optimizer.amsgrad);
        assert_eq!(c.loss.label_smoothing, 0.1);
        let again = ModelSpec::from_value(&s.to_value()).unwrap();
        assert_eq!(again, s);
        let model = s.build(1).unwrap();
        assert_eq!(model.count_params(), 6 * 8 + 8 + 8 * 3 + 3);
        assert_eq!(ModelSpec::of(&model), s);
    }

    #[test]
    fn errors_name_the_path() {
        let bad = SPEC.replace("\"units\": 8", "\"units\": -8");
        let e = ModelSpec::parse(&bad).unwrap_err().to_string();
        assert!(
            e.contains("layers[0].config.units") && e.contains("-8"),
            "{e}"
        );
        let bad = SPEC.replace("\"Dropout\"", "\"Dropot\"");
        let e = ModelSpec::parse(&bad).unwrap_err().to_string();
        assert!(
            e.contains("unknown layer `Dropot`") && e.contains("Dense, Dropout"),
            "{e}"
        );
        let bad = SPEC.replace("\"relu\"", "\"rlu\"");
        let e = ModelSpec::parse(&bad).unwrap_err().to_string();
        assert!(e.contains("unknown activation `rlu`"), "{e}");
        let bad = SPEC.replace("\"adam\"", "\"adamz\"");
        let e = ModelSpec::parse(&bad).unwrap_err().to_string();
        assert!(
            e.contains("unknown optimizer `adamz`") && e.contains("nadam"),
            "{e}"
        );
        let bad = SPEC.replace("\"rate\": 0.25", "\"rate\": 1.5");
        let e = ModelSpec::parse(&bad).unwrap_err().to_string();
        assert!(
            e.contains("layers[1].config.rate") && e.contains("[0, 1)"),
            "{e}"
        );
        let bad = SPEC.replace("\"units\": 3,", "\"units\": 3, \"unit\": 2,");
        let e = ModelSpec::parse(&bad).unwrap_err().to_string();
        assert!(e.contains("`unit`") && e.contains("units"), "{e}");
        assert!(ModelSpec::parse("{")
            .unwrap_err()
            .to_string()
            .contains("not valid JSON"));
        let e = ModelSpec::parse(r#"{"layers": []}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("at least one layer"), "{e}");
    }

    #[test]
    fn plain_names_and_input_layer() {
        let s = ModelSpec::parse(
            r#"{"layers": [{"class_name": "InputLayer", "config": {"batch_shape": [null, 2, 3]}},
                           {"class_name": "Flatten"},
                           {"class_name": "Dense", "config": {"units": 2}}],
                "compile": {"optimizer": "sgd", "loss": "mse"}}"#,
        )
        .unwrap();
        assert_eq!(s.input_shape, Some(vec![2, 3]));
        assert_eq!(s.layers.len(), 2);
        assert_eq!(s.compile.unwrap().optimizer.learning_rate, 0.01);
    }
}
