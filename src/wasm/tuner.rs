//! `WasmTuner`: a KerasTuner tuner for JavaScript, with hypermodels, `runTrial` functions,
//! storage and hooks written in JavaScript.

use super::hp::WasmHp;
use super::model::{weights_of, WasmModel};
use super::{call, err, from_js, js_err, json_in, logs_to_js, next_tick, prop, tensor};
use crate::error::{Error, Result};
use crate::hp::HyperParameters;
use crate::nn::callbacks::Callback;
use crate::nn::history::Logs;
use crate::nn::model::{FitArgs, Sequential, ValidationData};
use crate::spec::ModelSpec;
use crate::tuner::options;
use crate::tuner::report;
use crate::tuner::tuner::history_from_json;
use crate::tuner::{
    FitResult, HyperModel, LocalFuture, SearchData, SpecHyperModel, Storage, Trial, Tuner,
    TunerHooks,
};
use js_sys::{Array, Uint8Array};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// A trial for JavaScript: trial.json plus `values`, the hps the trial's model used.
fn trial_json(t: &Trial) -> String {
    let mut j = t.to_json();
    j["values"] = t.used_values().to_json();
    j.to_string()
}

/// Awaits a value that may be a Promise.
async fn settle(v: JsValue) -> Result<JsValue, JsValue> {
    match v.dyn_into::<js_sys::Promise>() {
        Ok(p) => JsFuture::from(p).await,
        Err(v) => Ok(v),
    }
}

/// What a JS fit or runTrial returned, normalised by tunelab.js to JSON:
/// `{"value": x}`, `{"metrics": {...}}` or `{"history": {"history": {...}, "epoch": [...]}}`.
fn fit_result(v: &JsValue, what: &str) -> Result<FitResult> {
    let s = v.as_string().ok_or_else(|| {
        Error::invalid(
            what,
            super::show(v),
            "a number, an object of metrics, or a History",
        )
    })?;
    let j: serde_json::Value =
        serde_json::from_str(&s).map_err(|e| Error::parse(format!("{what} result: {e}")))?;
    if let Some(x) = j.get("value") {
        return x
            .as_f64()
            .map(FitResult::Value)
            .ok_or_else(|| Error::invalid(what, x, "a finite number"));
    }
    if let Some(serde_json::Value::Object(m)) = j.get("metrics") {
        let mut out = Vec::new();
        for (k, x) in m {
            out.push((
                k.clone(),
                x.as_f64()
                    .ok_or_else(|| Error::invalid(format!("{what} metric {k}"), x, "a number"))?,
            ));
        }
        return Ok(FitResult::Metrics(out));
    }
    if let Some(h) = j.get("history") {
        return Ok(FitResult::History(history_from_json(h)));
    }
    Err(Error::invalid(
        what,
        s,
        "a number, an object of metrics, or a History",
    ))
}

/// A hypermodel written in JavaScript: `build(hp)` returns the model's JSON spec; `fit(hp,
/// model, optionsJSON, link)`, when given, trains it and returns a result (see [`fit_result`]);
/// `link` carries the tuner's callbacks to the `model.fit` it calls (see `link`);
/// `declare(hp)`, when given, is KerasTuner's `declare_hyperparameters`; `tunable` false fixes
/// the hps that build creates at their defaults (KerasTuner's `HyperModel(tunable=False)`).
struct JsHyperModel {
    build: js_sys::Function,
    fit: Option<js_sys::Function>,
    declare: Option<js_sys::Function>,
    tunable: bool,
}

/// Calls `f(hp)` with `hp` shared with JavaScript for the call.
fn with_hp(f: &js_sys::Function, hp: &mut HyperParameters, what: &str) -> Result<JsValue> {
    let cell = Rc::new(RefCell::new(std::mem::take(hp)));
    let r = f.call1(&JsValue::NULL, &WasmHp::shared(cell.clone()).into());
    *hp = cell.replace(HyperParameters::new());
    r.map_err(|e| from_js(e, what))
}

impl HyperModel for JsHyperModel {
    fn declare_hyperparameters(&mut self, hp: &mut HyperParameters) -> Result<()> {
        match &self.declare {
            Some(f) => with_hp(f, hp, "declareHyperparameters").map(|_| ()),
            None => Ok(()),
        }
    }

    fn tunable(&self) -> bool {
        self.tunable
    }

    fn build(&mut self, hp: &mut HyperParameters) -> Result<Sequential> {
        // The package hands over the model's spec, with its JS metrics when it has some:
        // a string, or {spec, metrics}.
        let out = with_hp(&self.build, hp, "build")?;
        let bad = || {
            Error::invalid(
                "build(hp)",
                "a value that is not a model",
                "a tl.sequential() model",
            )
        };
        let (spec, metrics) = match out.as_string() {
            Some(s) => (s, None),
            None => (
                js_sys::Reflect::get(&out, &"spec".into())
                    .ok()
                    .and_then(|s| s.as_string())
                    .ok_or_else(bad)?,
                js_sys::Reflect::get(&out, &"metrics".into()).ok(),
            ),
        };
        let mut model = ModelSpec::parse(&spec)?.build(0)?;
        if let Some(list) = metrics {
            model.add_metrics(super::metric::metrics_from_js(&list)?)?;
        }
        Ok(model)
    }

    fn fit_async<'a>(
        &'a mut self,
        hp: &'a mut HyperParameters,
        model: &'a mut Sequential,
        data: &'a SearchData<'a>,
        args: &'a FitArgs,
        callbacks: &'a mut [&'a mut dyn Callback],
    ) -> LocalFuture<'a, Result<FitResult>> {
        let Some(fit) = self.fit.clone() else {
            return Box::pin(async move {
                model
                    .fit_async(data.x, data.y, args, callbacks)
                    .await
                    .map(FitResult::History)
            });
        };
        Box::pin(async move {
            let hp_cell = Rc::new(RefCell::new(hp.clone()));
            let m_cell = Rc::new(RefCell::new(Some(std::mem::take(model))));
            let js_model = WasmModel {
                inner: m_cell.clone(),
            };
            let opts = JsValue::from(options::fit_args_to_json(args).to_string());
            // The tuner's callbacks reach the JS fit as a link (see `link`): a model.fit
            // given it runs here, with them.
            let link = super::link::Registered::new();
            let called = fit.apply(
                &JsValue::NULL,
                &Array::of4(
                    &WasmHp::shared(hp_cell.clone()).into(),
                    &js_model.into(),
                    &opts,
                    &JsValue::from(link.id),
                ),
            );
            let out = match called {
                Ok(v) => link
                    .serve(JsFuture::from(js_sys::Promise::resolve(&v)), callbacks)
                    .await
                    .map_err(|e| from_js(e, "fit")),
                Err(e) => Err(from_js(e, "fit")),
            };
            drop(link);
            let back = m_cell.borrow_mut().take();
            match back {
                Some(m) => *model = m,
                None => {
                    return Err(Error::state(
                        "the model handed to fit was still busy when fit returned: await model.fit inside fit",
                    ))
                }
            }
            *hp = hp_cell.borrow().clone();
            fit_result(&out?, "fit")
        })
    }

    fn default_fit(&self) -> bool {
        self.fit.is_none()
    }
}

/// Storage written in JavaScript (tunelab.js's IndexedDB or memory store): `read(path)` ->
/// Uint8Array or undefined, `write(path, bytes)`, `list(prefix)`, `clear()`, `location()`.
struct JsStorage(JsValue);

impl JsStorage {
    fn call(&self, name: &str, args: &[JsValue]) -> Result<JsValue> {
        match call(&self.0, name, args) {
            Some(Ok(v)) => Ok(v),
            Some(Err(e)) => Err(Error::Io(
                from_js(e, &format!("storage {name}")).to_string(),
            )),
            None => Err(Error::state(format!("the storage has no {name} method"))),
        }
    }
}

impl Storage for JsStorage {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let v = self.call("read", &[JsValue::from(path)])?;
        if v.is_undefined() || v.is_null() {
            return Ok(None);
        }
        v.dyn_into::<Uint8Array>()
            .map(|a| Some(a.to_vec()))
            .map_err(|_| Error::Io(format!("storage read({path}) did not return bytes")))
    }
    fn write(&mut self, path: &str, data: &[u8]) -> Result<()> {
        self.call(
            "write",
            &[JsValue::from(path), Uint8Array::from(data).into()],
        )
        .map(|_| ())
    }
    fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let v = self.call("list", &[JsValue::from(prefix)])?;
        Ok(Array::from(&v)
            .iter()
            .filter_map(|s| s.as_string())
            .collect())
    }
    fn clear(&mut self) -> Result<()> {
        self.call("clear", &[]).map(|_| ())
    }
    fn location(&self) -> String {
        self.call("location", &[])
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    }
}

/// The search's JS callbacks: `onTrialBegin(trialJSON)`, `onTrialEnd(trialJSON)`,
/// `onEpochBegin(trialId, epoch)`, `onEpochEnd(trialId, epoch, logs)`,
/// `onBatchEnd(trialId, batch, logs)`. Errors they throw are reported on the console.
struct JsHooks(JsValue);

impl JsHooks {
    fn fire(&self, name: &str, args: &[JsValue]) {
        if let Some(Err(e)) = call(&self.0, name, args) {
            web_console(&format!(
                "tunelab: search callback {name} threw: {}",
                super::show(&e)
            ));
        }
    }
}

fn web_console(msg: &str) {
    let console =
        js_sys::Reflect::get(&js_sys::global(), &"console".into()).unwrap_or(JsValue::NULL);
    let _ = call(&console, "error", &[JsValue::from(msg)]);
}

impl TunerHooks for JsHooks {
    fn on_trial_begin(&mut self, trial: &Trial) {
        self.fire("onTrialBegin", &[trial_json(trial).into()]);
    }
    fn on_trial_end(&mut self, trial: &Trial) {
        self.fire("onTrialEnd", &[trial_json(trial).into()]);
    }
    fn on_epoch_begin(&mut self, trial: &Trial, epoch: usize) {
        self.fire(
            "onEpochBegin",
            &[trial.trial_id.clone().into(), (epoch as f64).into()],
        );
    }
    fn on_epoch_end(&mut self, trial: &Trial, epoch: usize, logs: &Logs) {
        self.fire(
            "onEpochEnd",
            &[
                trial.trial_id.clone().into(),
                (epoch as f64).into(),
                logs_to_js(logs),
            ],
        );
    }
    fn on_batch_end(&mut self, trial: &Trial, batch: usize, logs: &Logs) {
        self.fire(
            "onBatchEnd",
            &[
                trial.trial_id.clone().into(),
                (batch as f64).into(),
                logs_to_js(logs),
            ],
        );
    }
}

/// A tuner shared with JavaScript; taken out while a search runs.
#[wasm_bindgen]
pub struct WasmTuner {
    inner: Rc<RefCell<Option<Tuner>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    storage: JsValue,
    input_shape: Rc<RefCell<Option<Vec<usize>>>>,
    /// The objective, for ranking stored trials while a search holds the tuner.
    objective: crate::tuner::ObjectiveSpec,
}

impl WasmTuner {
    /// Runs `f` on the search's storage: the JS store when there is one (usable while a search
    /// runs), else the tuner's own.
    fn with_storage<T>(&self, f: impl FnOnce(&dyn Storage) -> Result<T>) -> Result<T> {
        if !self.storage.is_undefined() && !self.storage.is_null() {
            return f(&JsStorage(self.storage.clone()));
        }
        let g = self.inner.borrow();
        let t = g.as_ref().ok_or_else(|| {
            Error::state("the tuner is busy: a search on it has not finished (await it first)")
        })?;
        f(t.oracle.storage())
    }
}

fn busy() -> JsError {
    JsError::new("the tuner is busy: a search on it has not finished (await it first)")
}

#[wasm_bindgen]
impl WasmTuner {
    /// `new WasmTuner(kind, optionsJSON, hypermodel, runTrial, hyperparametersJSON, storage)`:
    /// `hypermodel` is `{build(hp) -> specJSON, fit?(hp, model, optionsJSON) -> result}`, or
    /// a spec's JSON text with hyperparameters inside (the engine's `SpecHyperModel`);
    /// `runTrial(hp, trialJSON) -> result` tunes a function instead; `storage` as JsStorage.
    #[wasm_bindgen(constructor)]
    pub fn new(
        kind: &str,
        options: &str,
        hypermodel: JsValue,
        run_trial: JsValue,
        hyperparameters: Option<String>,
        storage: JsValue,
    ) -> Result<WasmTuner, JsError> {
        let (algorithm, mut config) =
            options::tuner(kind, &json_in(options, "tuner options")?).map_err(err)?;
        // The browser has no file system: storage is the JS store, named after these.
        config.directory = None;
        let config_objective = config.oracle.objective.clone();
        let hps = match hyperparameters {
            Some(s) => options::hyperparameters(&json_in(&s, "hyperparameters")?).map_err(err)?,
            None => None,
        };
        let mut tuner = if let Ok(f) = run_trial.clone().dyn_into::<js_sys::Function>() {
            let run = move |trial: &Trial| -> LocalFuture<
                'static,
                (Result<FitResult>, Option<HyperParameters>),
            > {
                let cell = Rc::new(RefCell::new(trial.hyperparameters.clone()));
                let called = f.call2(
                    &JsValue::NULL,
                    &WasmHp::shared(cell.clone()).into(),
                    &JsValue::from(trial.to_json().to_string()),
                );
                Box::pin(async move {
                    let out = match called {
                        Ok(v) => settle(v).await.map_err(|e| from_js(e, "runTrial")),
                        Err(e) => Err(from_js(e, "runTrial")),
                    };
                    let hp = cell.borrow().clone();
                    (out.and_then(|v| fit_result(&v, "runTrial")), Some(hp))
                })
            };
            Tuner::from_async_fn(algorithm, Box::new(run), hps, config).map_err(err)?
        } else if let Some(spec) = hypermodel.as_string() {
            // A spec with hyperparameters inside: the engine's own hypermodel.
            Tuner::new(
                algorithm,
                Box::new(SpecHyperModel::parse(&spec).map_err(err)?),
                hps,
                config,
            )
            .map_err(err)?
        } else {
            let build = prop(&hypermodel, "build")
                .and_then(|b| b.dyn_into::<js_sys::Function>().ok())
                .ok_or_else(|| {
                    err(Error::invalid(
                        "hypermodel",
                        "no build function",
                        "a function (hp) => model, or an object with build(hp)",
                    ))
                })?;
            let fit = prop(&hypermodel, "fit").and_then(|f| f.dyn_into::<js_sys::Function>().ok());
            let declare = match prop(&hypermodel, "declareHyperparameters") {
                None => None,
                Some(f) => Some(f.dyn_into::<js_sys::Function>().map_err(|v| {
                    err(Error::invalid(
                        "hypermodel.declareHyperparameters",
                        super::show(&v),
                        "a function (hp) => void",
                    ))
                })?),
            };
            let tunable = match prop(&hypermodel, "tunable") {
                None => true,
                Some(v) => v.as_bool().ok_or_else(|| {
                    err(Error::invalid(
                        "hypermodel.tunable",
                        super::show(&v),
                        "true or false",
                    ))
                })?,
            };
            Tuner::new(
                algorithm,
                Box::new(JsHyperModel {
                    build,
                    fit,
                    declare,
                    tunable,
                }),
                hps,
                config,
            )
            .map_err(err)?
        };
        if !storage.is_undefined() && !storage.is_null() {
            tuner
                .set_storage(Box::new(JsStorage(storage.clone())))
                .map_err(err)?;
        }
        tuner.set_yield(Box::new(|| {
            Box::pin(async {
                next_tick().await;
                Ok(())
            })
        }));
        Ok(WasmTuner {
            objective: config_objective,
            stop: tuner.stop_handle(),
            inner: Rc::new(RefCell::new(Some(tuner))),
            storage,
            input_shape: Rc::new(RefCell::new(None)),
        })
    }

    /// Ends the running search after the trials in progress.
    pub fn stop(&self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Re-reads the search from the storage (after the JS store finished opening).
    pub fn reload(&self) -> Result<(), JsError> {
        let mut g = self.inner.borrow_mut();
        let t = g.as_mut().ok_or_else(busy)?;
        if !self.storage.is_undefined() && !self.storage.is_null() {
            // overwrite applies once, when the tuner is made
            let overwrite = std::mem::replace(&mut t.config.overwrite, false);
            let r = t.set_storage(Box::new(JsStorage(self.storage.clone())));
            t.config.overwrite = overwrite;
            r.map_err(err)?;
        }
        Ok(())
    }

    /// KerasTuner's search space summary text.
    #[wasm_bindgen(js_name = searchSpaceSummary)]
    pub fn search_space_summary(&self) -> Result<String, JsError> {
        let g = self.inner.borrow();
        Ok(g.as_ref().ok_or_else(busy)?.search_space_summary())
    }

    /// KerasTuner's results summary text.
    #[wasm_bindgen(js_name = resultsSummary)]
    pub fn results_summary(&self, num_trials: u32) -> Result<String, JsError> {
        let g = self.inner.borrow();
        g.as_ref()
            .ok_or_else(busy)?
            .results_summary(num_trials as usize)
            .map_err(err)
    }

    /// Every trial as JSON (`{"trials": [...], "best_hyperparameters": {...}}`), the engine's
    /// one trials export. While a search runs it is read from the storage (as stored so far).
    #[wasm_bindgen(js_name = trialsJSON)]
    pub fn trials_json(&self) -> Result<String, JsError> {
        if let Some(t) = self.inner.borrow().as_ref() {
            return Ok(t.trials_json().map_err(err)?.to_string());
        }
        let doc = self
            .with_storage(|s| {
                let trials = report::stored_trials(s)?;
                Ok(report::trials_document(
                    &trials,
                    report::best_of(&trials, &self.objective),
                ))
            })
            .map_err(err)?;
        Ok(doc.to_string())
    }

    /// Every trial as CSV (with the formula-injection guard); from the storage while a search
    /// runs.
    #[wasm_bindgen(js_name = trialsCSV)]
    pub fn trials_csv(&self) -> Result<String, JsError> {
        if let Some(t) = self.inner.borrow().as_ref() {
            return t.trials_csv().map_err(err);
        }
        self.with_storage(|s| Ok(report::trials_csv_of(&report::stored_trials(s)?)))
            .map_err(err)
    }

    /// Where trials trained: `[device, note]`.
    pub fn device(&self) -> Result<Array, JsError> {
        let g = self.inner.borrow();
        let (d, n) = g.as_ref().ok_or_else(busy)?.device();
        Ok([
            JsValue::from(d),
            n.map(JsValue::from).unwrap_or(JsValue::NULL),
        ]
        .into_iter()
        .collect())
    }

    /// The trials' JSON (each as trial.json stores it).
    pub fn trials(&self) -> Result<Array, JsError> {
        let g = self.inner.borrow();
        Ok(g.as_ref()
            .ok_or_else(busy)?
            .oracle
            .trials()
            .map_err(err)?
            .iter()
            .map(|t| JsValue::from(trial_json(t)))
            .collect())
    }

    /// Trains the hypermodel's executions in `f(jobBytes, infoJSON, onEpoch)` (the page's
    /// worker pool; see `runExecution`) instead of in this thread.
    #[wasm_bindgen(js_name = setExecutor)]
    pub fn set_executor(&self, f: js_sys::Function) -> Result<(), JsError> {
        let mut g = self.inner.borrow_mut();
        let t = g.as_mut().ok_or_else(busy)?;
        t.set_executor(Box::new(super::executor::JsExecutor(f)));
        Ok(())
    }

    /// A trial interrupted while it trained: `{"values": {...}, "history": {"history": {...},
    /// "epoch": [...]}}` of its first execution up to its last completed epoch, or undefined.
    /// Read from the storage: it answers while a search runs.
    pub fn interrupted(&self, trial_id: &str) -> Result<Option<String>, JsError> {
        let found = self
            .with_storage(|s| crate::tuner::tuner::interrupted(s, trial_id))
            .map_err(err)?;
        Ok(found.map(|(values, h)| {
            serde_json::json!({"values": values, "history": crate::tuner::tuner::history_to_json(&h)})
                .to_string()
        }))
    }

    /// A trial's stored best-epoch weights (`[{data, shape}]`), or undefined (it has not
    /// ended). Read from the storage: it answers while a search runs.
    #[wasm_bindgen(js_name = trialWeights)]
    pub fn trial_weights(&self, trial_id: &str) -> Result<Option<Array>, JsError> {
        let w = self
            .with_storage(|s| crate::tuner::tuner::trial_weights(s, trial_id))
            .map_err(err)?;
        Ok(w.map(|w| w.iter().map(super::tensor_to_js).collect()))
    }

    /// What the search awaits after each trial (tunelab.js: the storage's flush).
    #[wasm_bindgen(js_name = setYield)]
    pub fn set_yield(&self, f: js_sys::Function) -> Result<(), JsError> {
        let mut g = self.inner.borrow_mut();
        let t = g.as_mut().ok_or_else(busy)?;
        t.set_yield(Box::new(move || {
            let called = f.call0(&JsValue::NULL);
            Box::pin(async move {
                // A save that failed (a full quota) ends the search with its message: what
                // was stored before stays, and going on would lose what comes next.
                let v = called.map_err(|e| crate::Error::Io(super::show(&e)))?;
                settle(v)
                    .await
                    .map_err(|e| crate::Error::Io(super::show(&e)))?;
                next_tick().await;
                Ok(())
            })
        }));
        Ok(())
    }

    /// `search(x, y, fitOptionsJSON, extra)`: extra holds `validationData` ([x, y] or [x, y,
    /// w]), `sampleWeight` and `hooks`.
    pub fn search(&self, x: JsValue, y: JsValue, options: &str, extra: JsValue) -> js_sys::Promise {
        let cell = self.inner.clone();
        let shape = self.input_shape.clone();
        let prepared = (|| -> Result<_, JsError> {
            let x = tensor(&x, "x")?;
            let y = tensor(&y, "y")?;
            let mut args = options::fit_args(&json_in(options, "search options")?).map_err(err)?;
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
            Ok((x, y, args, prop(&extra, "hooks")))
        })();
        wasm_bindgen_futures::future_to_promise(async move {
            let (x, y, args, hooks) = prepared.map_err(JsValue::from)?;
            let mut t = cell
                .borrow_mut()
                .take()
                .ok_or_else(|| JsValue::from(busy()))?;
            if let Some(h) = hooks {
                t.add_hooks(Box::new(JsHooks(h)));
            }
            if x.shape().len() >= 2 {
                *shape.borrow_mut() = Some(x.shape()[1..].to_vec());
            }
            let r = t.search_async(&x, &y, &args).await;
            t.clear_hooks();
            *cell.borrow_mut() = Some(t);
            r.map_err(js_err)?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// The best trials' hyperparameters, best first.
    #[wasm_bindgen(js_name = getBestHyperparameters)]
    pub fn get_best_hyperparameters(&self, num_trials: u32) -> Result<Array, JsError> {
        let g = self.inner.borrow();
        let t = g.as_ref().ok_or_else(busy)?;
        Ok(t.get_best_hyperparameters(num_trials as usize)
            .map_err(err)?
            .into_iter()
            .map(|hp| JsValue::from(WasmHp::new(hp)))
            .collect())
    }

    /// The best trials' models with their best-epoch weights, best first. `inputShape`
    /// defaults to the per-sample shape of the data searched.
    #[wasm_bindgen(js_name = getBestModels)]
    pub fn get_best_models(
        &self,
        num_models: u32,
        input_shape: Option<Vec<u32>>,
    ) -> Result<Array, JsError> {
        // Without inputShape: the shape stored with each checkpoint (the data searched).
        let shape: Option<Vec<usize>> = match input_shape {
            Some(s) => Some(s.into_iter().map(|d| d as usize).collect()),
            None => self.input_shape.borrow().clone(),
        };
        let mut g = self.inner.borrow_mut();
        let t = g.as_mut().ok_or_else(busy)?;
        let models = match shape {
            Some(shape) => t.get_best_models_with_input_shape(num_models as usize, &shape),
            None => t.get_best_models(num_models as usize),
        }
        .map_err(err)?;
        Ok(models
            .into_iter()
            .map(|m| JsValue::from(WasmModel::new(m)))
            .collect())
    }
}
