//! The JavaScript facade (wasm-bindgen): conversions between JS values and tunelab's types,
//! and Promises for everything that awaits. No logic of its own: options are parsed by
//! `tuner::options`, models by `spec`, and the friendly API (camelCase options, `tl.layers`,
//! tuner classes, IndexedDB) is the ES module `js/tunelab.js` on top of these exports.

mod executor;
mod hp;
mod link;
mod metric;
mod model;
mod tuner;

pub use executor::WasmExecutionData;
pub use hp::WasmHp;
pub use model::WasmModel;
pub use tuner::WasmTuner;

use crate::data;
use crate::error::Error;
use crate::nn::history::Logs;
use crate::tensor::Tensor;
use js_sys::{Array, Float32Array, Object, Reflect};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Keeps a panic's message for `lastPanic` (the JS side turns "unreachable executed" into
/// an Error with it) and installs nothing else.
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        let msg = info.to_string();
        LAST_PANIC.with(|p| *p.borrow_mut() = Some(msg));
    }));
}

/// The message of the panic that stopped the engine, if one did.
#[wasm_bindgen(js_name = lastPanic)]
pub fn last_panic() -> Option<String> {
    LAST_PANIC.with(|p| p.borrow().clone())
}

/// Panics on purpose: the tests check that a panic reaches JavaScript as an Error with the
/// panic's message, not as "unreachable executed". The engine must be reloaded afterwards.
#[wasm_bindgen(js_name = __testPanic)]
pub fn test_panic() {
    panic!("deliberate panic for testing the error path");
}

/// Testing aid: the page's GPU reports itself lost at its next check, as when a driver resets
/// mid-trial (the reliability tests check the trial fails with that message and the search goes
/// on). Returns whether a GPU was open.
#[wasm_bindgen(js_name = __simulateGpuLoss)]
pub fn simulate_gpu_loss() -> bool {
    match crate::gpu::Gpu::shared() {
        Ok(g) => {
            g.simulate_loss();
            true
        }
        Err(_) => false,
    }
}

/// The crate version.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// Opens the page's WebGPU device; resolves to its label ("webgpu (adapter, backend)").
#[wasm_bindgen(js_name = initGpu)]
pub fn init_gpu() -> js_sys::Promise {
    wasm_bindgen_futures::future_to_promise(async {
        crate::gpu::Gpu::init_shared()
            .await
            .map(|g| JsValue::from(g.label()))
            .map_err(js_err)
    })
}

/// How many GPU buffers the engine holds now in this worker (flat over a long search).
#[wasm_bindgen(js_name = gpuBufferCount)]
pub fn gpu_buffer_count() -> u32 {
    crate::gpu::live_buffers() as u32
}

/// A built-in data set: `{x: {data, shape}, y: {data, shape}}`.
#[wasm_bindgen]
pub fn dataset(name: &str, noise: f64, seed: f64) -> Result<JsValue, JsError> {
    let ds = data::builtin(name, noise as f32, seed as u64).map_err(err)?;
    let o = Object::new();
    set(&o, "x", &tensor_to_js(&ds.x))?;
    set(&o, "y", &tensor_to_js(&ds.y))?;
    Ok(o.into())
}

/// CSV text's header: `{columns: [names], rows}`; nothing is read as a number yet.
#[wasm_bindgen(js_name = csvHeader)]
pub fn csv_header(text: &str) -> Result<JsValue, JsError> {
    let (names, rows) = data::csv::csv_header(text).map_err(err)?;
    let o = Object::new();
    let cols: Array = names.iter().map(|n| JsValue::from(n.as_str())).collect();
    set(&o, "columns", &cols)?;
    set(&o, "rows", &JsValue::from(rows as f64))?;
    Ok(o.into())
}

/// CSV text as tensors: `{x, y, featureNames, labelName}` with `label` as `y` (or none) and
/// `columns` (or every other column) as `x`; errors name the line, the column and the text.
#[wasm_bindgen(js_name = parseCsv)]
pub fn parse_csv(
    text: &str,
    label: Option<String>,
    columns: Option<Vec<String>>,
) -> Result<JsValue, JsError> {
    let cols: Option<Vec<&str>> = columns
        .as_ref()
        .map(|c| c.iter().map(String::as_str).collect());
    let t = data::csv::parse_csv(text, label.as_deref(), cols.as_deref()).map_err(err)?;
    let o = Object::new();
    set(&o, "x", &tensor_to_js(&t.x))?;
    set(
        &o,
        "y",
        &t.y.as_ref().map(tensor_to_js).unwrap_or(JsValue::NULL),
    )?;
    let names: Array = t
        .feature_names
        .iter()
        .map(|n| JsValue::from(n.as_str()))
        .collect();
    set(&o, "featureNames", &names)?;
    set(
        &o,
        "labelName",
        &t.label_name.map(JsValue::from).unwrap_or(JsValue::NULL),
    )?;
    Ok(o.into())
}

/// TensorFlow Playground's input features of 2-D points (`x` of shape [n, 2]): one column per
/// name (`x1`, `x2`, `x1^2`, `x2^2`, `x1x2`, `sin(x1)`, `sin(x2)`).
#[wasm_bindgen]
pub fn features(x: JsValue, names: Vec<String>) -> Result<JsValue, JsError> {
    let t = tensor(&x, "x")?;
    let n: Vec<&str> = names.iter().map(String::as_str).collect();
    Ok(tensor_to_js(
        &data::playground::features(&t, &n).map_err(err)?,
    ))
}

/// A Normalization layer spec (`{"class_name": "Normalization", "config": {...}}`) and what it
/// needs: the npm package's `layer.adapt(x)` and `layer.apply(x)`.
fn normalization_layer(layer: &str) -> Result<crate::nn::Normalization, JsError> {
    let v: serde_json::Value = serde_json::from_str(layer).map_err(|e| {
        err(crate::error::Error::parse(format!(
            "layer is not valid JSON: {e}"
        )))
    })?;
    match crate::spec::layer_from_value(&v, "layer").map_err(err)? {
        crate::nn::Layer::Normalization(n) => Ok(n),
        other => Err(err(crate::error::Error::invalid(
            "layer",
            other.class_name(),
            "a Normalization layer",
        ))),
    }
}

/// Keras's `Normalization.adapt(x)`: the layer spec with the mean and variance of `x`'s rows.
#[wasm_bindgen(js_name = adaptNormalization)]
pub fn adapt_normalization(layer: &str, x: JsValue) -> Result<String, JsError> {
    let mut n = normalization_layer(layer)?;
    n.adapt(&tensor(&x, "x")?).map_err(err)?;
    Ok(crate::spec::layer_to_value(&crate::nn::Layer::Normalization(n)).to_string())
}

/// The layer called on data (Keras's `Normalization()(x)`): `{layer, x}`, `x` standardized
/// with the layer's statistics (adapted on `x` first when it has none), `layer` the spec with them.
#[wasm_bindgen(js_name = callNormalization)]
pub fn call_normalization(layer: &str, x: JsValue) -> Result<JsValue, JsError> {
    let mut n = normalization_layer(layer)?;
    let out = n.call(&tensor(&x, "x")?).map_err(err)?;
    let o = Object::new();
    let spec = crate::spec::layer_to_value(&crate::nn::Layer::Normalization(n)).to_string();
    set(&o, "layer", &JsValue::from(spec))?;
    set(&o, "x", &tensor_to_js(&out))?;
    Ok(o.into())
}

/// The playground's train/test split of `n` rows (`data::holdout_indices`):
/// `{train: Uint32Array, test: Uint32Array}` of row indices.
#[wasm_bindgen(js_name = splitIndices)]
pub fn split_indices(n: f64, train_percent: f64, seed: f64) -> Result<JsValue, JsError> {
    if !(n.is_finite() && n >= 0.0 && n.fract() == 0.0) {
        return Err(err(crate::error::Error::invalid(
            "n",
            n,
            "a whole number of rows",
        )));
    }
    if !(seed.is_finite() && seed >= 0.0 && seed.fract() == 0.0) {
        return Err(err(crate::error::Error::invalid(
            "seed",
            seed,
            "a non-negative integer",
        )));
    }
    let (train, test) =
        data::holdout_indices(n as usize, train_percent, seed as u64).map_err(err)?;
    let o = Object::new();
    let arr = |v: Vec<usize>| {
        js_sys::Uint32Array::from(
            v.into_iter()
                .map(|i| i as u32)
                .collect::<Vec<_>>()
                .as_slice(),
        )
    };
    set(&o, "train", &arr(train))?;
    set(&o, "test", &arr(test))?;
    Ok(o.into())
}

/// The engine's tables (tuners with their options and defaults, data sets, features, losses):
/// `tuner::options::catalog` as a JSON string.
#[wasm_bindgen]
pub fn catalog() -> String {
    crate::tuner::options::catalog().to_string()
}

/// A tuner's class name from a class, short or module-style name (`"random"`,
/// `"random_search"`, `"RandomSearch"`); an unknown name is an error listing the known ones.
#[wasm_bindgen(js_name = tunerKind)]
pub fn tuner_kind(name: &str) -> Result<String, JsError> {
    Ok(crate::tuner::options::tuner_kind(name)
        .map_err(err)?
        .to_string())
}

/// A loss by any of its names: `{name, targets}` (targets: "one_hot", "class_ids", "binary"
/// or "values"); an unknown name is an error listing the known ones.
#[wasm_bindgen(js_name = lossInfo)]
pub fn loss_info(name: &str) -> Result<String, JsError> {
    let kind = crate::ops::losses::LossKind::parse(name).map_err(err)?;
    Ok(serde_json::json!({"name": kind.name(), "targets": kind.targets()}).to_string())
}

/// Checks a model's compile options (`{"optimizer", "loss", "metrics", ...}`, Keras's names)
/// as the engine's spec reads them, so `compile` fails at once with the engine's message.
#[wasm_bindgen(js_name = checkCompile)]
pub fn check_compile(options: &str) -> Result<(), JsError> {
    crate::spec::parse_compile(&json_in(options, "compile options")?, "compile")
        .map(|_| ())
        .map_err(err)
}

/// The built-in data sets' names.
#[wasm_bindgen(js_name = datasetNames)]
pub fn dataset_names() -> Array {
    data::BUILTIN.iter().map(|n| JsValue::from(*n)).collect()
}

/// Class ids (one column) as one-hot rows.
#[wasm_bindgen(js_name = oneHot)]
pub fn one_hot(y: JsValue, num_classes: Option<u32>) -> Result<JsValue, JsError> {
    let t = tensor(&y, "y")?;
    Ok(tensor_to_js(
        &data::one_hot(&t, num_classes.map(|n| n as usize)).map_err(err)?,
    ))
}

/// A JS value as a user reads it in a message: strings quoted, the rest as JSON, else its type.
pub(crate) fn show(v: &JsValue) -> String {
    if let Some(s) = v.as_string() {
        return format!("{s:?}");
    }
    if v.is_undefined() {
        return "undefined".into();
    }
    if v.is_function() {
        return "a function".into();
    }
    if let Some(e) = v.dyn_ref::<js_sys::Error>() {
        return String::from(e.message());
    }
    js_sys::JSON::stringify(v)
        .ok()
        .and_then(|s| s.as_string())
        .map(|s| {
            if s.chars().count() > 60 {
                format!("{}...", s.chars().take(57).collect::<String>())
            } else {
                s
            }
        })
        .unwrap_or_else(|| format!("a {}", v.js_typeof().as_string().unwrap_or_default()))
}

pub(crate) fn err(e: Error) -> JsError {
    JsError::new(&e.to_string())
}

pub(crate) fn js_err(e: Error) -> JsValue {
    JsValue::from(js_sys::Error::new(&e.to_string()))
}

/// A thrown JS value as a tunelab error (its message when it is an Error). In a search it
/// fails that trial, as KerasTuner treats an exception in build or fit (retries, then the
/// consecutive-failure limit), rather than ending the search.
pub(crate) fn from_js(v: JsValue, what: &str) -> Error {
    let msg = v
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| v.as_string())
        .unwrap_or_else(|| show(&v));
    Error::State(format!("{what}: {msg}"))
}

pub(crate) fn set(o: &Object, k: &str, v: &JsValue) -> Result<(), JsError> {
    Reflect::set(o, &JsValue::from(k), v)
        .map(|_| ())
        .map_err(|_| JsError::new("could not set a property"))
}

pub(crate) fn json_in(s: &str, what: &str) -> Result<serde_json::Value, JsError> {
    serde_json::from_str(s).map_err(|e| err(Error::parse(format!("{what} is not valid JSON: {e}"))))
}

/// A tensor from `{data, shape}` (data a Float32Array or an array of numbers) or nested
/// arrays of numbers.
pub(crate) fn tensor(v: &JsValue, what: &str) -> Result<Tensor, JsError> {
    tensor_inner(v, what).map_err(err)
}

fn tensor_inner(v: &JsValue, what: &str) -> crate::Result<Tensor> {
    if v.is_undefined() || v.is_null() {
        return Err(Error::invalid(
            what,
            "nothing",
            "data: {data, shape}, tl.tensor(...) or nested arrays",
        ));
    }
    if Array::is_array(v) {
        let mut shape = Vec::new();
        let mut probe = v.clone();
        while Array::is_array(&probe) {
            let a = Array::from(&probe);
            shape.push(a.length() as usize);
            if a.length() == 0 {
                return Err(Error::invalid(
                    what,
                    "an empty array",
                    "at least one value per axis",
                ));
            }
            probe = a.get(0);
        }
        let mut out = Vec::with_capacity(shape.iter().product());
        flatten(v, &shape, 0, what, &mut out)?;
        return Tensor::new(shape, out);
    }
    let data = Reflect::get(v, &JsValue::from("data")).unwrap_or(JsValue::UNDEFINED);
    let shape = Reflect::get(v, &JsValue::from("shape")).unwrap_or(JsValue::UNDEFINED);
    if data.is_undefined() || shape.is_undefined() {
        return Err(Error::invalid(
            what,
            "an object without data and shape",
            "{data, shape}, tl.tensor(data, shape) or nested arrays of numbers",
        ));
    }
    let values: Vec<f32> = if let Some(f) = data.dyn_ref::<Float32Array>() {
        f.to_vec()
    } else if Array::is_array(&data) {
        Array::from(&data)
            .iter()
            .enumerate()
            .map(|(i, x)| {
                x.as_f64().map(|f| f as f32).ok_or_else(|| {
                    Error::invalid(format!("{what}.data[{i}]"), show(&x), "a number")
                })
            })
            .collect::<crate::Result<_>>()?
    } else if let Some(ta) = data.dyn_ref::<js_sys::Float64Array>() {
        ta.to_vec().into_iter().map(|f| f as f32).collect()
    } else {
        return Err(Error::invalid(
            format!("{what}.data"),
            show(&data),
            "a Float32Array or an array of numbers",
        ));
    };
    if !Array::is_array(&shape) {
        return Err(Error::invalid(
            format!("{what}.shape"),
            show(&shape),
            "an array of sizes",
        ));
    }
    let dims: Vec<usize> = Array::from(&shape)
        .iter()
        .map(|d| match d.as_f64() {
            Some(f) if f >= 0.0 && f.fract() == 0.0 => Ok(f as usize),
            _ => Err(Error::invalid(
                format!("{what}.shape"),
                show(&d),
                "non-negative integer sizes",
            )),
        })
        .collect::<crate::Result<_>>()?;
    Tensor::new(dims, values)
}

fn flatten(
    v: &JsValue,
    shape: &[usize],
    depth: usize,
    what: &str,
    out: &mut Vec<f32>,
) -> crate::Result<()> {
    if depth == shape.len() {
        let f = v.as_f64().ok_or_else(|| {
            Error::invalid(what, show(v), "numbers (nested arrays of equal lengths)")
        })?;
        out.push(f as f32);
        return Ok(());
    }
    if !Array::is_array(v) || Array::from(v).length() as usize != shape[depth] {
        return Err(Error::invalid(
            what,
            "a ragged nested array",
            format!("equal lengths along each axis (shape {shape:?})"),
        ));
    }
    for x in Array::from(v).iter() {
        flatten(&x, shape, depth + 1, what, out)?;
    }
    Ok(())
}

pub(crate) fn tensor_to_js(t: &Tensor) -> JsValue {
    let o = Object::new();
    let _ = Reflect::set(&o, &"data".into(), &Float32Array::from(t.data()).into());
    let shape: Array = t.shape().iter().map(|d| JsValue::from(*d as f64)).collect();
    let _ = Reflect::set(&o, &"shape".into(), &shape.into());
    o.into()
}

pub(crate) fn logs_to_js(logs: &Logs) -> JsValue {
    let o = Object::new();
    for (k, v) in logs.iter() {
        let _ = Reflect::set(&o, &JsValue::from(k), &JsValue::from(v as f64));
    }
    o.into()
}

/// An optional property.
pub(crate) fn prop(o: &JsValue, k: &str) -> Option<JsValue> {
    if o.is_undefined() || o.is_null() {
        return None;
    }
    Reflect::get(o, &JsValue::from(k))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

/// Calls `o[k](args...)` when it is a function.
pub(crate) fn call(o: &JsValue, k: &str, args: &[JsValue]) -> Option<Result<JsValue, JsValue>> {
    let f = prop(o, k)?.dyn_into::<js_sys::Function>().ok()?;
    let arr: Array = args.iter().collect();
    Some(f.apply(o, &arr))
}

/// Lets the event loop run (IndexedDB writes, rendering).
pub(crate) async fn next_tick() {
    crate::runtime::yield_now().await;
}
