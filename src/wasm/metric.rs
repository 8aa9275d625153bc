//! Metrics written in JavaScript, as the engine's [`Metric`]s: the npm package turns a user's
//! function `(yTrue, yPred) => value(s)` or object `{name, updateState, result, resetState}`
//! into the protocol below (its tensors wrapped as `tl.Tensor`s), and this module runs it
//! inside fit / evaluate like any built-in metric, so its name (with `val_`) can be a tuner's
//! objective.

use super::{show, tensor_to_js};
use crate::error::{Error, Result};
use crate::nn::metrics::Metric;
use crate::tensor::Tensor;
use js_sys::{Array, Function, Reflect};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// One metric written in JavaScript.
pub(crate) struct JsMetric {
    name: String,
    kind: Kind,
    /// The error of a `result()` call (which cannot fail in the trait), reported by the next
    /// update or reset.
    failed: RefCell<Option<String>>,
}

enum Kind {
    /// `f(yTrue, yPred)` gives the batch's mean or one value per sample; the engine averages
    /// them over the samples, weighted (Keras's MeanMetricWrapper).
    Func { f: Function, total: f64, count: f64 },
    /// A stateful object: `update(yTrue, yPred, sampleWeight)`, `result()`, `reset()`.
    Object {
        obj: JsValue,
        update: Function,
        result: Function,
        reset: Function,
    },
}

// The wasm32-unknown-unknown build runs on one thread, so the JS values never cross threads.
unsafe impl Send for JsMetric {}

fn method(obj: &JsValue, name: &str, what: &str) -> Result<Function> {
    Reflect::get(obj, &name.into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .ok_or_else(|| {
            Error::invalid(
                format!("{what}.{name}"),
                "missing",
                "a function (a metric object has updateState, result and resetState)",
            )
        })
}

fn js_error(e: JsValue, what: &str) -> Error {
    Error::state(format!("{what} threw: {}", show(&e)))
}

impl JsMetric {
    /// A metric from the package's protocol object: `{name, fn}` or `{name, update, result,
    /// reset}`; `what` names it in errors (`metrics[2]`).
    pub(crate) fn from_js(v: &JsValue, what: &str) -> Result<Self> {
        let name = Reflect::get(v, &"name".into())
            .ok()
            .and_then(|n| n.as_string())
            .filter(|n| !n.is_empty())
            .ok_or_else(|| {
                Error::invalid(
                    format!("{what}.name"),
                    "missing",
                    "a non-empty name (the metric's key in the logs)",
                )
            })?;
        let kind = match Reflect::get(v, &"fn".into())
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
        {
            Some(f) => Kind::Func {
                f,
                total: 0.0,
                count: 0.0,
            },
            None => Kind::Object {
                obj: v.clone(),
                update: method(v, "update", what)?,
                result: method(v, "result", what)?,
                reset: method(v, "reset", what)?,
            },
        };
        Ok(JsMetric {
            name,
            kind,
            failed: RefCell::new(None),
        })
    }

    fn check_failed(&self) -> Result<()> {
        match self.failed.borrow_mut().take() {
            Some(m) => Err(Error::state(m)),
            None => Ok(()),
        }
    }
}

fn rows(data: &[f32], n: usize) -> Result<Tensor> {
    let cols = data.len().checked_div(n).unwrap_or(0);
    Tensor::new(vec![n, cols], data.to_vec())
}

impl Metric for JsMetric {
    fn name(&self) -> &str {
        &self.name
    }

    fn update_state(
        &mut self,
        y_true: &[f32],
        y_pred: &[f32],
        n: usize,
        sample_weight: Option<&[f32]>,
    ) -> Result<()> {
        self.check_failed()?;
        let yt = tensor_to_js(&rows(y_true, n)?);
        let yp = tensor_to_js(&rows(y_pred, n)?);
        let what = format!("metric `{}`", self.name);
        match &mut self.kind {
            Kind::Func { f, total, count } => {
                let out = f
                    .call2(&JsValue::NULL, &yt, &yp)
                    .map_err(|e| js_error(e, &what))?;
                let values: Vec<f64> = if let Some(x) = out.as_f64() {
                    vec![x; n]
                } else if let Some(a) = out.dyn_ref::<js_sys::Float32Array>() {
                    a.to_vec().into_iter().map(f64::from).collect()
                } else if Array::is_array(&out) {
                    Array::from(&out)
                        .iter()
                        .map(|v| v.as_f64().unwrap_or(f64::NAN))
                        .collect()
                } else {
                    return Err(Error::invalid(
                        what,
                        show(&out),
                        "a number (the batch's mean) or one number per sample",
                    ));
                };
                if values.len() != n {
                    return Err(Error::invalid(
                        what,
                        format!("{} values for a batch of {n}", values.len()),
                        "a number (the batch's mean) or one number per sample",
                    ));
                }
                for (i, v) in values.iter().enumerate() {
                    let w = sample_weight.map_or(1.0, |w| w[i] as f64);
                    *total += v * w;
                    *count += w;
                }
                Ok(())
            }
            Kind::Object { obj, update, .. } => {
                let sw = match sample_weight {
                    Some(w) => tensor_to_js(&Tensor::new(vec![n], w.to_vec())?),
                    None => JsValue::NULL,
                };
                update
                    .call3(obj, &yt, &yp, &sw)
                    .map(|_| ())
                    .map_err(|e| js_error(e, &format!("{what}.updateState")))
            }
        }
    }

    fn result(&self) -> f32 {
        match &self.kind {
            Kind::Func { total, count, .. } => {
                if *count > 0.0 {
                    (total / count) as f32
                } else {
                    0.0
                }
            }
            Kind::Object { obj, result, .. } => match result.call0(obj) {
                Ok(v) => match v.as_f64() {
                    Some(x) => x as f32,
                    None => {
                        *self.failed.borrow_mut() = Some(format!(
                            "metric `{}`.result() returned {}: it must return a number",
                            self.name,
                            show(&v)
                        ));
                        f32::NAN
                    }
                },
                Err(e) => {
                    *self.failed.borrow_mut() =
                        Some(js_error(e, &format!("metric `{}`.result", self.name)).to_string());
                    f32::NAN
                }
            },
        }
    }

    fn reset_state(&mut self) {
        match &mut self.kind {
            Kind::Func { total, count, .. } => {
                *total = 0.0;
                *count = 0.0;
            }
            Kind::Object { obj, reset, .. } => {
                if let Err(e) = reset.call0(obj) {
                    *self.failed.borrow_mut() = Some(
                        js_error(e, &format!("metric `{}`.resetState", self.name)).to_string(),
                    );
                }
            }
        }
    }

    fn boxed_clone(&self) -> Box<dyn Metric> {
        // A function metric gets its own running mean; an object is shared (training reads its
        // result before validation resets it, as Keras 3 reuses one metric object for both).
        Box::new(JsMetric {
            name: self.name.clone(),
            kind: match &self.kind {
                Kind::Func { f, .. } => Kind::Func {
                    f: f.clone(),
                    total: 0.0,
                    count: 0.0,
                },
                Kind::Object {
                    obj,
                    update,
                    result,
                    reset,
                } => Kind::Object {
                    obj: obj.clone(),
                    update: update.clone(),
                    result: result.clone(),
                    reset: reset.clone(),
                },
            },
            failed: RefCell::new(None),
        })
    }
}

/// The metrics of a JS array of protocol objects.
pub(crate) fn metrics_from_js(list: &JsValue) -> Result<Vec<Box<dyn Metric>>> {
    if !Array::is_array(list) {
        return Err(Error::invalid(
            "metrics",
            show(list),
            "an array of metric objects",
        ));
    }
    Array::from(list)
        .iter()
        .enumerate()
        .map(|(i, v)| {
            JsMetric::from_js(&v, &format!("metrics[{i}]")).map(|m| Box::new(m) as Box<dyn Metric>)
        })
        .collect()
}
