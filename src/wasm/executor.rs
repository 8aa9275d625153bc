//! The executor side in JavaScript: `ExecutionData` (a worker's copy of the search's data) and
//! `runExecution` (train one job of the tuner, reporting each epoch), and `JsExecutor`, the
//! tuner's end: a JS function that takes each job to a worker and hands its reports back.
//! The rules of a trial stay in `tuner`; these only move bytes.

use super::{err, from_js, js_err, logs_to_js, tensor};
use crate::error::{Error, Result};
use crate::runtime::LocalFuture;
use crate::tensor::Tensor;
use crate::tuner::executor::{
    run_execution, EpochReport, ExecutionData, ExecutionJob, Executor, Reports,
};
use js_sys::{Float32Array, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// The data a worker trains jobs on, converted once: `new ExecutionData(x, y, xVal?, yVal?,
/// probe?)` (tensors as `{data, shape}`); `probe` are points whose predictions every epoch
/// report carries (the page's decision-boundary grid).
#[wasm_bindgen]
pub struct WasmExecutionData {
    inner: std::rc::Rc<ExecutionData>,
}

#[wasm_bindgen]
impl WasmExecutionData {
    #[wasm_bindgen(constructor)]
    pub fn new(
        x: JsValue,
        y: JsValue,
        x_val: JsValue,
        y_val: JsValue,
        probe: JsValue,
    ) -> Result<WasmExecutionData, JsError> {
        let opt = |v: &JsValue, what: &str| -> Result<Option<Tensor>, JsError> {
            if v.is_undefined() || v.is_null() {
                Ok(None)
            } else {
                tensor(v, what).map(Some)
            }
        };
        let validation = match (opt(&x_val, "xVal")?, opt(&y_val, "yVal")?) {
            (Some(a), Some(b)) => Some((a, b)),
            (None, None) => None,
            _ => {
                return Err(err(Error::invalid(
                    "validation data",
                    "one of xVal, yVal",
                    "both or neither",
                )))
            }
        };
        Ok(WasmExecutionData {
            inner: std::rc::Rc::new(ExecutionData {
                x: tensor(&x, "x")?,
                y: tensor(&y, "y")?,
                validation,
                probe: opt(&probe, "probe")?,
            }),
        })
    }
}

/// `runExecution(jobBytes, data, onEpoch)`: trains a job of the tuner (bytes from its
/// executor) with the engine's fit; after each epoch `onEpoch(reportBytes, epoch, logs,
/// probePredictions | null)`, which may return `false` to stop. Resolves when the job ends.
#[wasm_bindgen(js_name = runExecution)]
pub fn run_execution_js(
    job: Uint8Array,
    data: &WasmExecutionData,
    on_epoch: js_sys::Function,
) -> js_sys::Promise {
    let data = data.inner.clone();
    let bytes = job.to_vec();
    wasm_bindgen_futures::future_to_promise(async move {
        let job = ExecutionJob::decode(&bytes).map_err(js_err)?;
        let mut send = |r: EpochReport| -> Result<bool> {
            let bytes = Uint8Array::from(&r.encode()?[..]);
            let probe = match &r.probe {
                Some(p) => Float32Array::from(p.data()).into(),
                None => JsValue::NULL,
            };
            let args: js_sys::Array = [
                bytes.into(),
                JsValue::from(r.epoch as f64),
                logs_to_js(&r.logs),
                probe,
            ]
            .into_iter()
            .collect();
            let v = on_epoch
                .apply(&JsValue::NULL, &args)
                .map_err(|e| from_js(e, "onEpoch"))?;
            Ok(v != JsValue::FALSE)
        };
        run_execution(&job, &data, &mut send)
            .await
            .map_err(js_err)?;
        Ok(JsValue::UNDEFINED)
    })
}

/// The tuner's executor written in JavaScript: `f(jobBytes, info, onEpoch)` returns a
/// Promise that settles when the job has ended; `info` is `{trialId, execution, values, epochs,
/// initialEpoch}`; `onEpoch(reportBytes)` hands a report back (false: the tuner asks to stop).
pub(crate) struct JsExecutor(pub js_sys::Function);

impl Executor for JsExecutor {
    fn run(&mut self, job: ExecutionJob, reports: Reports) -> LocalFuture<'static, Result<()>> {
        let f = self.0.clone();
        Box::pin(async move {
            let bytes = Uint8Array::from(&job.encode()?[..]);
            let info = serde_json::json!({
                "trialId": job.trial_id,
                "execution": job.execution,
                "values": job.values,
                "epochs": job.args.epochs,
                "initialEpoch": job.args.initial_epoch,
            });
            let r = reports.clone();
            let on_epoch = Closure::<dyn FnMut(Uint8Array) -> Result<bool, JsValue>>::new(
                move |b: Uint8Array| -> Result<bool, JsValue> {
                    let report = EpochReport::decode(&b.to_vec()).map_err(js_err)?;
                    Ok(r.send(report))
                },
            );
            let called = f.call3(
                &JsValue::NULL,
                &bytes.into(),
                &JsValue::from(info.to_string()),
                on_epoch.as_ref(),
            );
            let out = match called {
                Ok(v) => match v.dyn_into::<js_sys::Promise>() {
                    Ok(p) => JsFuture::from(p).await.map(|_| ()),
                    Err(_) => Ok(()),
                },
                Err(e) => Err(e),
            };
            drop(on_epoch);
            out.map_err(|e| from_js(e, "executor"))
        })
    }
}
