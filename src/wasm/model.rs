//! `WasmModel`: a Sequential model for JavaScript.

use super::{call, err, from_js, js_err, json_in, logs_to_js, prop, tensor, tensor_to_js};
use crate::error::{Error, Result};
use crate::gpu::Device;
use crate::nn::callbacks::{Callback, ModelAccess};
use crate::nn::history::Logs;
use crate::nn::model::{Evaluation, Sequential, ValidationData};
use crate::spec::ModelSpec;
use crate::tensor::Tensor;
use crate::tuner::options;
use js_sys::{Array, Float32Array};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// A model shared with JavaScript; taken out while a fit or predict runs.
#[wasm_bindgen]
pub struct WasmModel {
    pub(crate) inner: Rc<RefCell<Option<Sequential>>>,
}

impl WasmModel {
    pub(crate) fn new(m: Sequential) -> Self {
        WasmModel {
            inner: Rc::new(RefCell::new(Some(m))),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Sequential) -> Result<R>) -> Result<R, JsError> {
        let mut g = self.inner.borrow_mut();
        let m = g.as_mut().ok_or_else(busy)?;
        f(m).map_err(err)
    }
}

fn busy() -> JsError {
    JsError::new(
        "the model is busy: a fit, evaluate or predict on it has not finished (await it first)",
    )
}

fn busy_js() -> JsValue {
    js_sys::Error::new(
        "the model is busy: a fit, evaluate or predict on it has not finished (await it first)",
    )
    .into()
}

/// Callbacks written in JavaScript (TensorFlow.js's names): `onTrainBegin(logs)`,
/// `onTrainEnd(logs)`, `onEpochBegin(epoch)`, `onEpochEnd(epoch, logs)`, `onBatchBegin(batch)`,
/// `onBatchEnd(batch, logs)`. A callback that throws stops the fit with its message.
pub(crate) struct JsCallbacks(pub JsValue);

impl JsCallbacks {
    fn fire(&self, name: &str, args: &[JsValue]) -> Result<()> {
        match call(&self.0, name, args) {
            Some(Err(e)) => Err(from_js(e, &format!("callback {name}"))),
            _ => Ok(()),
        }
    }
}

impl Callback for JsCallbacks {
    fn on_train_begin(&mut self, _m: &mut dyn ModelAccess) -> Result<()> {
        self.fire("onTrainBegin", &[])
    }
    fn on_train_end(&mut self, _m: &mut dyn ModelAccess, logs: &Logs) -> Result<()> {
        self.fire("onTrainEnd", &[logs_to_js(logs)])
    }
    fn on_epoch_begin(&mut self, epoch: usize, _m: &mut dyn ModelAccess) -> Result<()> {
        self.fire("onEpochBegin", &[JsValue::from(epoch as f64)])
    }
    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        _m: &mut dyn ModelAccess,
    ) -> Result<()> {
        self.fire(
            "onEpochEnd",
            &[JsValue::from(epoch as f64), logs_to_js(logs)],
        )
    }
    fn on_train_batch_begin(&mut self, batch: usize, _m: &mut dyn ModelAccess) -> Result<()> {
        self.fire("onBatchBegin", &[JsValue::from(batch as f64)])
    }
    fn on_train_batch_end(
        &mut self,
        batch: usize,
        logs: &Logs,
        _m: &mut dyn ModelAccess,
    ) -> Result<()> {
        self.fire(
            "onBatchEnd",
            &[JsValue::from(batch as f64), logs_to_js(logs)],
        )
    }
    fn on_test_begin(&mut self, _m: &mut dyn ModelAccess) -> Result<()> {
        self.fire("onTestBegin", &[])
    }
    fn on_test_end(&mut self, _m: &mut dyn ModelAccess, logs: &Logs) -> Result<()> {
        self.fire("onTestEnd", &[logs_to_js(logs)])
    }
    fn on_test_batch_begin(&mut self, batch: usize, _m: &mut dyn ModelAccess) -> Result<()> {
        self.fire("onTestBatchBegin", &[JsValue::from(batch as f64)])
    }
    fn on_test_batch_end(
        &mut self,
        batch: usize,
        logs: &Logs,
        _m: &mut dyn ModelAccess,
    ) -> Result<()> {
        self.fire(
            "onTestBatchEnd",
            &[JsValue::from(batch as f64), logs_to_js(logs)],
        )
    }
    fn on_predict_begin(&mut self, _m: &mut dyn ModelAccess) -> Result<()> {
        self.fire("onPredictBegin", &[])
    }
    fn on_predict_end(&mut self, _m: &mut dyn ModelAccess) -> Result<()> {
        self.fire("onPredictEnd", &[])
    }
    fn on_predict_batch_begin(&mut self, batch: usize, _m: &mut dyn ModelAccess) -> Result<()> {
        self.fire("onPredictBatchBegin", &[JsValue::from(batch as f64)])
    }
    fn on_predict_batch_end(&mut self, batch: usize, _m: &mut dyn ModelAccess) -> Result<()> {
        self.fire(
            "onPredictBatchEnd",
            &[JsValue::from(batch as f64), js_sys::Object::new().into()],
        )
    }
}

/// The callbacks of `extra`: `builtins` (JSON list of Keras callbacks) and `callbacks` (JS
/// objects, one or a list), in that order.
fn callbacks_of(extra: &JsValue) -> Result<Vec<Box<dyn Callback>>, JsError> {
    let mut out: Vec<Box<dyn Callback>> = Vec::new();
    if let Some(b) = prop(extra, "builtins").and_then(|b| b.as_string()) {
        if let serde_json::Value::Array(list) = json_in(&b, "callbacks")? {
            for c in &list {
                out.push(options::callback(c).map_err(err)?);
            }
        }
    }
    match prop(extra, "callbacks") {
        Some(c) if Array::is_array(&c) => out.extend(
            Array::from(&c)
                .iter()
                .map(|c| Box::new(JsCallbacks(c)) as _),
        ),
        Some(c) => out.push(Box::new(JsCallbacks(c))),
        None => {}
    }
    Ok(out)
}

pub(crate) fn weights_of(v: &JsValue, what: &str) -> Result<Option<Vec<f32>>, JsError> {
    match v {
        v if v.is_undefined() || v.is_null() => Ok(None),
        v => {
            if let Some(f) = v.dyn_ref::<Float32Array>() {
                return Ok(Some(f.to_vec()));
            }
            if Array::is_array(v) {
                return Array::from(v)
                    .iter()
                    .enumerate()
                    .map(|(i, x)| {
                        x.as_f64().map(|f| f as f32).ok_or_else(|| {
                            err(Error::invalid(
                                format!("{what}[{i}]"),
                                super::show(&x),
                                "a number",
                            ))
                        })
                    })
                    .collect::<Result<Vec<f32>, JsError>>()
                    .map(Some);
            }
            Err(err(Error::invalid(
                what,
                super::show(v),
                "a Float32Array or an array of numbers",
            )))
        }
    }
}

fn evaluation_to_js(e: &Evaluation) -> JsValue {
    match e {
        Evaluation::Scalar(v) => JsValue::from(*v as f64),
        Evaluation::List(v) => v
            .iter()
            .map(|x| JsValue::from(*x as f64))
            .collect::<Array>()
            .into(),
        Evaluation::Dict(l) => logs_to_js(l),
    }
}

#[wasm_bindgen]
impl WasmModel {
    /// A model from a JSON spec (docs/model-spec.md); `seed` seeds weights and dropout.
    #[wasm_bindgen(js_name = fromSpec)]
    pub fn from_spec(spec: &str, seed: f64) -> Result<WasmModel, JsError> {
        let s = ModelSpec::parse(spec).map_err(err)?;
        Ok(WasmModel::new(s.build(seed.max(0.0) as u64).map_err(err)?))
    }

    /// Adds metrics written in JavaScript (the package's protocol objects, see `wasm::metric`)
    /// to the compiled model.
    #[wasm_bindgen(js_name = addMetrics)]
    pub fn add_metrics(&self, metrics: JsValue) -> Result<(), JsError> {
        let list = super::metric::metrics_from_js(&metrics).map_err(err)?;
        self.with(|m| m.add_metrics(list))
    }

    /// `"cpu"`, `"webgpu"` or `"auto"`.
    #[wasm_bindgen(js_name = setDevice)]
    pub fn set_device(&self, device: &str) -> Result<(), JsError> {
        let d = Device::parse(device).map_err(err)?;
        self.with(|m| {
            m.set_device(d);
            Ok(())
        })
    }

    /// Where the last fit ran, and why not on the GPU: `{device, note}`.
    pub fn device(&self) -> Result<JsValue, JsError> {
        self.with(|m| Ok((m.device(), m.device_note().map(|s| s.to_string()))))
            .map(|(d, n)| {
                let o = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&o, &"device".into(), &d.into());
                let _ = js_sys::Reflect::set(
                    &o,
                    &"note".into(),
                    &n.map(JsValue::from).unwrap_or(JsValue::NULL),
                );
                o.into()
            })
    }

    /// Builds the weights for a per-sample input shape.
    pub fn build(&self, shape: Vec<u32>) -> Result<(), JsError> {
        let s: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
        self.with(|m| m.build(&s))
    }

    /// `fit(x, y, optionsJSON, extra)`: extra holds `validationData` ([x, y] or [x, y, w]),
    /// `sampleWeight`, `callbacks` (JS objects), `builtins` (JSON list of callbacks) and
    /// `tunerLink` (the tuner's callbacks, inside a HyperModel's fit: see `link`).
    /// Resolves to the history as JSON (`{"history": {...}, "epoch": [...]}`).
    pub fn fit(&self, x: JsValue, y: JsValue, options: &str, extra: JsValue) -> js_sys::Promise {
        let cell = self.inner.clone();
        let prepared = (|| -> Result<_, JsError> {
            let x = tensor(&x, "x")?;
            let y = tensor(&y, "y")?;
            let mut args = options::fit_args(&json_in(options, "fit options")?).map_err(err)?;
            if let Some(v) = prop(&extra, "validationData") {
                if !Array::is_array(&v) || !(2..=3).contains(&Array::from(&v).length()) {
                    return Err(err(Error::invalid(
                        "validationData",
                        super::show(&v),
                        "[xVal, yVal] or [xVal, yVal, sampleWeight]",
                    )));
                }
                let a = Array::from(&v);
                args.validation_data = Some(ValidationData {
                    x: tensor(&a.get(0), "validationData[0]")?,
                    y: tensor(&a.get(1), "validationData[1]")?,
                    sample_weight: weights_of(&a.get(2), "validationData[2]")?,
                });
            }
            args.sample_weight = weights_of(
                &prop(&extra, "sampleWeight").unwrap_or(JsValue::UNDEFINED),
                "sampleWeight",
            )?;
            let callbacks = callbacks_of(&extra)?;
            let link = match prop(&extra, "tunerLink") {
                None => None,
                Some(v) => Some(v.as_f64().map(|f| f as u32).ok_or_else(|| {
                    err(Error::invalid(
                        "tunerLink",
                        super::show(&v),
                        "the tuner's callbacks as a HyperModel's fit receives them",
                    ))
                })?),
            };
            Ok((x, y, args, callbacks, link))
        })();
        wasm_bindgen_futures::future_to_promise(async move {
            let (x, y, args, mut callbacks, link) = prepared.map_err(JsValue::from)?;
            let mut m = cell.borrow_mut().take().ok_or_else(busy_js)?;
            let r = match link {
                // The tuner's callbacks: the trial's fit runs this fit with them.
                Some(id) => {
                    let reply = Rc::new(super::link::Reply::default());
                    let req = Box::new(super::link::FitRequest {
                        model: m,
                        x,
                        y,
                        args,
                        callbacks,
                        reply: reply.clone(),
                    });
                    match super::link::send(id, req) {
                        Ok(()) => {
                            let (back, r) = reply.recv().await;
                            if let Some(back) = back {
                                *cell.borrow_mut() = Some(back);
                            }
                            r
                        }
                        Err(req) => {
                            *cell.borrow_mut() = Some(req.model);
                            Err(super::link::gone())
                        }
                    }
                }
                None => {
                    let mut cbs: Vec<&mut dyn Callback> = callbacks
                        .iter_mut()
                        .map(|c| c.as_mut() as &mut dyn Callback)
                        .collect();
                    let r = m.fit_async(&x, &y, &args, &mut cbs).await;
                    *cell.borrow_mut() = Some(m);
                    r
                }
            };
            let h = r.map_err(js_err)?;
            let json = serde_json::json!({"history": h, "epoch": h.epoch});
            Ok(JsValue::from(json.to_string()))
        })
    }

    /// `evaluate(x, y, optionsJSON, extra)`: options `{batch_size, steps, verbose,
    /// return_dict}`; extra holds `sampleWeight`, `callbacks` (JS objects) and `builtins`.
    /// Resolves to a number, a list or a dict.
    pub fn evaluate(
        &self,
        x: JsValue,
        y: JsValue,
        options: &str,
        extra: JsValue,
    ) -> js_sys::Promise {
        let cell = self.inner.clone();
        let prepared = (|| -> Result<_, JsError> {
            Ok((
                tensor(&x, "x")?,
                tensor(&y, "y")?,
                options::eval_args(&json_in(options, "evaluate options")?, false).map_err(err)?,
                weights_of(
                    &prop(&extra, "sampleWeight").unwrap_or(JsValue::UNDEFINED),
                    "sampleWeight",
                )?,
                callbacks_of(&extra)?,
            ))
        })();
        wasm_bindgen_futures::future_to_promise(async move {
            let (x, y, args, w, mut callbacks) = prepared.map_err(JsValue::from)?;
            let mut m = cell.borrow_mut().take().ok_or_else(busy_js)?;
            let mut cbs: Vec<&mut dyn Callback> = callbacks
                .iter_mut()
                .map(|c| c.as_mut() as &mut dyn Callback)
                .collect();
            let r = m
                .evaluate_with_async(&x, &y, w.as_deref(), &args, &mut cbs)
                .await;
            *cell.borrow_mut() = Some(m);
            Ok(evaluation_to_js(&r.map_err(js_err)?))
        })
    }

    /// `predict(x, optionsJSON, extra)`: options `{batch_size, steps, verbose}`; extra holds
    /// `callbacks` and `builtins`. Resolves to `{data, shape}`.
    pub fn predict(&self, x: JsValue, options: &str, extra: JsValue) -> js_sys::Promise {
        let cell = self.inner.clone();
        let prepared = (|| -> Result<_, JsError> {
            Ok((
                tensor(&x, "x")?,
                options::eval_args(&json_in(options, "predict options")?, true).map_err(err)?,
                callbacks_of(&extra)?,
            ))
        })();
        wasm_bindgen_futures::future_to_promise(async move {
            let (x, args, mut callbacks) = prepared.map_err(JsValue::from)?;
            let mut m = cell.borrow_mut().take().ok_or_else(busy_js)?;
            let mut cbs: Vec<&mut dyn Callback> = callbacks
                .iter_mut()
                .map(|c| c.as_mut() as &mut dyn Callback)
                .collect();
            let r = m.predict_with_async(&x, &args, &mut cbs).await;
            *cell.borrow_mut() = Some(m);
            Ok(tensor_to_js(&r.map_err(js_err)?))
        })
    }

    /// One gradient step on this batch (CPU): the loss, or loss and metrics.
    #[wasm_bindgen(js_name = trainOnBatch)]
    pub fn train_on_batch(
        &self,
        x: JsValue,
        y: JsValue,
        sample_weight: JsValue,
        class_weight: Option<String>,
        return_dict: bool,
    ) -> Result<JsValue, JsError> {
        let (x, y) = (tensor(&x, "x")?, tensor(&y, "y")?);
        let w = weights_of(&sample_weight, "sampleWeight")?;
        let cw = match class_weight {
            Some(s) => {
                options::fit_args(&serde_json::json!({"class_weight": json_in(&s, "classWeight")?}))
                    .map_err(err)?
                    .class_weight
            }
            None => None,
        };
        let e = self.with(|m| m.train_on_batch(&x, &y, w.as_deref(), cw.as_ref(), return_dict))?;
        Ok(evaluation_to_js(&e))
    }

    /// Loss and metrics on this batch without training.
    #[wasm_bindgen(js_name = testOnBatch)]
    pub fn test_on_batch(
        &self,
        x: JsValue,
        y: JsValue,
        sample_weight: JsValue,
        return_dict: bool,
    ) -> Result<JsValue, JsError> {
        let (x, y) = (tensor(&x, "x")?, tensor(&y, "y")?);
        let w = weights_of(&sample_weight, "sampleWeight")?;
        let e = self.with(|m| m.test_on_batch(&x, &y, w.as_deref(), return_dict))?;
        Ok(evaluation_to_js(&e))
    }

    /// Outputs for one batch (CPU).
    #[wasm_bindgen(js_name = predictOnBatch)]
    pub fn predict_on_batch(&self, x: JsValue) -> Result<JsValue, JsError> {
        let x = tensor(&x, "x")?;
        Ok(tensor_to_js(&self.with(|m| m.predict_on_batch(&x))?))
    }

    /// Keras's summary table.
    pub fn summary(&self) -> Result<String, JsError> {
        self.with(|m| m.summary())
    }

    /// The optimizer's state, to resume training exactly elsewhere (another worker, after a
    /// reload): `{iterations, learningRate, uProduct, slots: [[Float32Array...] per weight]}`,
    /// or `null` before the first training step.
    #[wasm_bindgen(js_name = getTrainingState)]
    pub fn get_training_state(&self) -> Result<JsValue, JsError> {
        let Some(st) = self.with(|m| Ok(m.training_state()))? else {
            return Ok(JsValue::NULL);
        };
        let o = js_sys::Object::new();
        super::set(&o, "iterations", &JsValue::from(st.iterations as f64))?;
        super::set(&o, "learningRate", &JsValue::from(st.learning_rate))?;
        super::set(&o, "uProduct", &JsValue::from(st.u_product))?;
        let slots: Array = st
            .slots
            .iter()
            .map(|per| -> JsValue {
                per.iter()
                    .map(|v| JsValue::from(Float32Array::from(v.as_slice())))
                    .collect::<Array>()
                    .into()
            })
            .collect();
        super::set(&o, "slots", &slots)?;
        Ok(o.into())
    }

    /// Restores `getTrainingState`'s object into this model (built and compiled, same shape).
    #[wasm_bindgen(js_name = setTrainingState)]
    pub fn set_training_state(&self, state: JsValue) -> Result<(), JsError> {
        let num = |k: &str| -> Result<f64, JsError> {
            prop(&state, k)
                .and_then(|v| v.as_f64())
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    err(Error::invalid(
                        format!("trainingState.{k}"),
                        super::show(&prop(&state, k).unwrap_or(JsValue::UNDEFINED)),
                        "a finite number",
                    ))
                })
        };
        let iterations = num("iterations")?;
        if iterations < 0.0 || iterations.fract() != 0.0 {
            return Err(err(Error::invalid(
                "trainingState.iterations",
                iterations,
                "an integer >= 0",
            )));
        }
        let bad_slots = || {
            err(Error::invalid(
                "trainingState.slots",
                "not a list of lists of number arrays",
                "one list of Float32Arrays (or number arrays) per weight",
            ))
        };
        let slots_js = prop(&state, "slots")
            .filter(Array::is_array)
            .ok_or_else(bad_slots)?;
        let mut slots = Vec::new();
        for per in Array::from(&slots_js).iter() {
            if !Array::is_array(&per) {
                return Err(bad_slots());
            }
            let mut vs = Vec::new();
            for v in Array::from(&per).iter() {
                if !(v.is_instance_of::<Float32Array>() || Array::is_array(&v)) {
                    return Err(bad_slots());
                }
                vs.push(Float32Array::new(&v).to_vec());
            }
            slots.push(vs);
        }
        let st = crate::nn::callbacks::TrainingState {
            iterations: iterations as u64,
            learning_rate: num("learningRate")? as f32,
            u_product: num("uProduct")? as f32,
            slots,
        };
        self.with(|m| m.set_training_state(&st))
    }

    /// The weights in Keras's order, as `{data, shape}` objects.
    #[wasm_bindgen(js_name = getWeights)]
    pub fn get_weights(&self) -> Result<Array, JsError> {
        let w = self.with(|m| m.get_weights())?;
        Ok(w.iter().map(tensor_to_js).collect())
    }

    /// Replaces the weights (a list like `getWeights`'s).
    #[wasm_bindgen(js_name = setWeights)]
    pub fn set_weights(&self, weights: JsValue) -> Result<(), JsError> {
        if !Array::is_array(&weights) {
            return Err(err(Error::invalid(
                "weights",
                super::show(&weights),
                "a list of {data, shape}",
            )));
        }
        let ws: Vec<Tensor> = Array::from(&weights)
            .iter()
            .enumerate()
            .map(|(i, w)| tensor(&w, &format!("weights[{i}]")))
            .collect::<Result<_, _>>()?;
        self.with(|m| m.set_weights(&ws))
    }

    /// The model as a JSON spec (architecture and compile settings).
    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> Result<String, JsError> {
        self.with(|m| Ok(ModelSpec::of(m).to_value().to_string()))
    }

    /// The model in one file (spec, input shape, weights, optimizer state): the bytes the CLI's
    /// `fit --save` and Rust's `save_model` write, which `loadModel` and `tunelab predict` read.
    pub fn save(&self) -> Result<Vec<u8>, JsError> {
        self.with(|m| crate::spec::saved::model_to_bytes(m))
    }

    /// TensorFlow.js's LayersModel: `{modelJSON, weights}` (the `model.json` text, naming
    /// `weightsFile`, and that file's bytes) for `tf.loadLayersModel`.
    #[wasm_bindgen(js_name = toTfjs)]
    pub fn to_tfjs(&self, weights_file: &str) -> Result<JsValue, JsError> {
        let (json, bin) = self.with(|m| crate::spec::saved::tfjs_layers_model(m, weights_file))?;
        let o = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&o, &"modelJSON".into(), &json.to_string().into());
        let _ = js_sys::Reflect::set(
            &o,
            &"weights".into(),
            &js_sys::Uint8Array::from(bin.as_slice()).into(),
        );
        Ok(o.into())
    }

    /// A model from the bytes of `save` (or of the CLI's `fit --save`).
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(bytes: &[u8]) -> Result<WasmModel, JsError> {
        Ok(WasmModel::new(
            crate::spec::saved::model_from_bytes(bytes).map_err(err)?,
        ))
    }

    /// Number of parameters (0 before the model is built).
    #[wasm_bindgen(js_name = countParams)]
    pub fn count_params(&self) -> Result<u32, JsError> {
        self.with(|m| Ok(m.count_params() as u32))
    }

    /// Whether the weights exist.
    #[wasm_bindgen(js_name = isBuilt)]
    pub fn is_built(&self) -> Result<bool, JsError> {
        self.with(|m| Ok(m.is_built()))
    }
}
