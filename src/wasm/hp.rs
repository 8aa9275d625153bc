//! `WasmHp`: KerasTuner's HyperParameters for JavaScript. The object a `build(hp)` receives
//! shares the trial's hyperparameters; its methods register an hp and return its value.

use super::{err, from_js, json_in};
use crate::error::{Error, Result};
use crate::hp::{HyperParameters, Sampling, Value};
use serde_json::Value as Json;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// Hyperparameters shared with JavaScript.
#[wasm_bindgen]
pub struct WasmHp {
    pub(crate) inner: Rc<RefCell<HyperParameters>>,
}

impl WasmHp {
    pub(crate) fn new(hp: HyperParameters) -> Self {
        WasmHp {
            inner: Rc::new(RefCell::new(hp)),
        }
    }
    pub(crate) fn shared(inner: Rc<RefCell<HyperParameters>>) -> Self {
        WasmHp { inner }
    }
}

fn opts(
    s: Option<String>,
    allowed: &[&str],
    what: &str,
) -> Result<serde_json::Map<String, Json>, JsError> {
    let v = match s {
        Some(s) => json_in(&s, what)?,
        None => Json::Object(Default::default()),
    };
    let m = v
        .as_object()
        .cloned()
        .ok_or_else(|| err(Error::invalid(what, &v, "an object")))?;
    for k in m.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(err(Error::unknown(format!("{what} option"), k, allowed)));
        }
    }
    Ok(m)
}

fn value_to_js(v: &Value) -> JsValue {
    match v {
        Value::Bool(b) => JsValue::from(*b),
        Value::Int(i) => JsValue::from(*i as f64),
        Value::Float(f) => JsValue::from(*f),
        Value::Str(s) => JsValue::from(s.as_str()),
    }
}

fn sampling(m: &serde_json::Map<String, Json>) -> Result<Option<Sampling>> {
    m.get("sampling")
        .filter(|v| !v.is_null())
        .map(|v| {
            v.as_str()
                .ok_or_else(|| {
                    Error::invalid("sampling", v, "\"linear\", \"log\" or \"reverse_log\"")
                })
                .and_then(Sampling::parse)
        })
        .transpose()
}

fn int_of(v: &Json, what: &str) -> Result<i64> {
    v.as_i64()
        .ok_or_else(|| Error::invalid(what, v, "an integer"))
}

fn float_of(v: &Json, what: &str) -> Result<f64> {
    v.as_f64()
        .ok_or_else(|| Error::invalid(what, v, "a number"))
}

/// Parent values: a list, or one value (KerasTuner's `parent_values`).
fn parent_values(v: &Json, what: &str) -> Result<Vec<Value>> {
    match v {
        Json::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, x)| Value::from_json(x, &format!("{what}[{i}]")))
            .collect(),
        v => Ok(vec![Value::from_json(v, what)?]),
    }
}

/// The creators' `parent_name` / `parent_values` options (KerasTuner's per-creator
/// condition): both or neither.
fn parent(m: &serde_json::Map<String, Json>, name: &str) -> Result<Option<(String, Vec<Value>)>> {
    let pn = m.get("parent_name").filter(|v| !v.is_null());
    let pv = m.get("parent_values").filter(|v| !v.is_null());
    match (pn, pv) {
        (None, None) => Ok(None),
        (Some(n), Some(v)) => {
            let n = n.as_str().filter(|s| !s.is_empty()).ok_or_else(|| {
                Error::invalid(format!("{name}.parentName"), n, "a non-empty string")
            })?;
            Ok(Some((
                n.to_string(),
                parent_values(v, &format!("{name}.parentValues"))?,
            )))
        }
        (Some(_), None) => Err(Error::invalid(
            format!("{name}.parentValues"),
            "missing",
            "the parent's values for which this hp is active (given with parentName)",
        )),
        (None, Some(v)) => Err(Error::invalid(
            format!("{name}.parentName"),
            format!("missing (parentValues is {v})"),
            "the name of the parent hp (given with parentValues)",
        )),
    }
}

const PARENT: [&str; 2] = ["parent_name", "parent_values"];

#[wasm_bindgen]
impl WasmHp {
    /// An empty set of hyperparameters (to declare some before a search).
    #[wasm_bindgen(constructor)]
    pub fn create() -> WasmHp {
        WasmHp::new(HyperParameters::new())
    }

    /// `Int(name, min, max, {step, sampling, default})`.
    #[wasm_bindgen(js_name = Int)]
    pub fn int(
        &self,
        name: &str,
        min_value: f64,
        max_value: f64,
        options: Option<String>,
    ) -> Result<f64, JsError> {
        let m = opts(
            options,
            &["step", "sampling", "default", PARENT[0], PARENT[1]],
            "Int",
        )?;
        let r = (|| -> Result<i64> {
            if min_value.fract() != 0.0 || max_value.fract() != 0.0 {
                return Err(Error::invalid(
                    format!("{name}.min_value/max_value"),
                    format!("{min_value}/{max_value}"),
                    "integers",
                ));
            }
            let mut hp = self.inner.borrow_mut();
            let mut b = hp.int(name, min_value as i64, max_value as i64);
            if let Some(s) = m.get("step").filter(|v| !v.is_null()) {
                b = b.step(int_of(s, "step")?);
            }
            if let Some(s) = sampling(&m)? {
                b = b.sampling(s);
            }
            if let Some(d) = m.get("default").filter(|v| !v.is_null()) {
                b = b.default(int_of(d, "default")?);
            }
            if let Some((p, v)) = parent(&m, name)? {
                b = b.parent(&p, v);
            }
            b.get()
        })();
        r.map(|v| v as f64).map_err(err)
    }

    /// `Float(name, min, max, {step, sampling, default})`.
    #[wasm_bindgen(js_name = Float)]
    pub fn float(
        &self,
        name: &str,
        min_value: f64,
        max_value: f64,
        options: Option<String>,
    ) -> Result<f64, JsError> {
        let m = opts(
            options,
            &["step", "sampling", "default", PARENT[0], PARENT[1]],
            "Float",
        )?;
        let r = (|| -> Result<f64> {
            let mut hp = self.inner.borrow_mut();
            let mut b = hp.float(name, min_value, max_value);
            if let Some(s) = m.get("step").filter(|v| !v.is_null()) {
                b = b.step(float_of(s, "step")?);
            }
            if let Some(s) = sampling(&m)? {
                b = b.sampling(s);
            }
            if let Some(d) = m.get("default").filter(|v| !v.is_null()) {
                b = b.default(float_of(d, "default")?);
            }
            if let Some((p, v)) = parent(&m, name)? {
                b = b.parent(&p, v);
            }
            b.get()
        })();
        r.map_err(err)
    }

    /// `Choice(name, valuesJSON, {ordered, default})`.
    #[wasm_bindgen(js_name = Choice)]
    pub fn choice(
        &self,
        name: &str,
        values: &str,
        options: Option<String>,
    ) -> Result<JsValue, JsError> {
        let m = opts(
            options,
            &["ordered", "default", PARENT[0], PARENT[1]],
            "Choice",
        )?;
        let vals = match json_in(values, "Choice values")? {
            Json::Array(a) => a
                .iter()
                .enumerate()
                .map(|(i, v)| Value::from_json(v, &format!("{name} values[{i}]")))
                .collect::<Result<Vec<_>>>()
                .map_err(err)?,
            v => {
                return Err(err(Error::invalid(
                    format!("{name} values"),
                    v,
                    "a list of numbers, strings or booleans",
                )))
            }
        };
        let r = (|| -> Result<Value> {
            let mut hp = self.inner.borrow_mut();
            let mut b = hp.choice(name, vals);
            if let Some(o) = m.get("ordered").filter(|v| !v.is_null()) {
                b = b.ordered(
                    o.as_bool()
                        .ok_or_else(|| Error::invalid("ordered", o, "true or false"))?,
                );
            }
            if let Some(d) = m.get("default").filter(|v| !v.is_null()) {
                b = b.default(Value::from_json(d, "default")?);
            }
            if let Some((p, v)) = parent(&m, name)? {
                b = b.parent(&p, v);
            }
            b.get()
        })();
        r.map(|v| value_to_js(&v)).map_err(err)
    }

    /// `Boolean(name, {default})`.
    #[wasm_bindgen(js_name = Boolean)]
    pub fn boolean(&self, name: &str, options: Option<String>) -> Result<bool, JsError> {
        let m = opts(options, &["default", PARENT[0], PARENT[1]], "Boolean")?;
        let r = (|| -> Result<bool> {
            let mut hp = self.inner.borrow_mut();
            let mut b = hp.boolean(name);
            if let Some(d) = m.get("default").filter(|v| !v.is_null()) {
                b = b.default(
                    d.as_bool()
                        .ok_or_else(|| Error::invalid("default", d, "true or false"))?,
                );
            }
            if let Some((p, v)) = parent(&m, name)? {
                b = b.parent(&p, v);
            }
            b.get()
        })();
        r.map_err(err)
    }

    /// `Fixed(name, valueJSON, {parent_name, parent_values})`.
    #[wasm_bindgen(js_name = Fixed)]
    pub fn fixed(
        &self,
        name: &str,
        value: &str,
        options: Option<String>,
    ) -> Result<JsValue, JsError> {
        let m = opts(options, &PARENT, "Fixed")?;
        let v = Value::from_json(&json_in(value, "Fixed value")?, name).map_err(err)?;
        let r = (|| -> Result<Value> {
            let mut hp = self.inner.borrow_mut();
            let mut b = hp.fixed(name, v);
            if let Some((p, v)) = parent(&m, name)? {
                b = b.parent(&p, v);
            }
            b.get()
        })();
        r.map(|v| value_to_js(&v)).map_err(err)
    }

    /// Runs `f()` with the hps it creates active only when `parent`'s value is in `values`.
    #[wasm_bindgen(js_name = conditionalScope)]
    pub fn conditional_scope(
        &self,
        parent: &str,
        values: &str,
        f: &js_sys::Function,
    ) -> Result<JsValue, JsError> {
        let vals =
            parent_values(&json_in(values, "parent values")?, "parent values").map_err(err)?;
        self.inner
            .borrow_mut()
            .enter_conditional_scope(parent, vals)
            .map_err(err)?;
        let r = f.call0(&JsValue::NULL);
        self.inner.borrow_mut().exit_conditional_scope();
        r.map_err(|e| err(from_js(e, "conditionalScope")))
    }

    /// Runs `f()` with the names it creates prefixed `name/`.
    #[wasm_bindgen(js_name = nameScope)]
    pub fn name_scope(&self, name: &str, f: &js_sys::Function) -> Result<JsValue, JsError> {
        self.inner.borrow_mut().enter_name_scope(name);
        let r = f.call0(&JsValue::NULL);
        self.inner.borrow_mut().exit_name_scope();
        r.map_err(|e| err(from_js(e, "nameScope")))
    }

    /// The current value of `name`.
    pub fn get(&self, name: &str) -> Result<JsValue, JsError> {
        let v = self.inner.borrow().get(name).map_err(err)?;
        Ok(value_to_js(&v))
    }

    /// The active values as JSON.
    pub fn values(&self) -> String {
        self.inner.borrow().values().to_json().to_string()
    }

    /// The whole set (space and values) as JSON, for declaring hps before a search.
    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> String {
        self.inner.borrow().to_json().to_string()
    }

    /// Resolves every hp object and `repeat` / `when` block in a model spec (docs/tuning.md)
    /// for these hyperparameters, registering new ones: the plain spec, as JSON.
    #[wasm_bindgen(js_name = resolveSpec)]
    pub fn resolve_spec(&self, spec: &str) -> Result<String, JsError> {
        let v = json_in(spec, "model spec")?;
        let plain = crate::spec::hyper::resolve(&v, &mut self.inner.borrow_mut()).map_err(err)?;
        Ok(plain.to_string())
    }

    /// KerasTuner's `is_active(name)`: whether some hp called `name` has its conditions met.
    #[wasm_bindgen(js_name = isActive)]
    pub fn is_active(&self, name: &str) -> bool {
        self.inner.borrow().is_active(name)
    }

    /// KerasTuner's `is_active(hyperparameter)`: whether this hp's own conditions are met. The
    /// hp is given as its JSON (`{"class_name", "config"}`, an entry of `toJSON().space`).
    #[wasm_bindgen(js_name = isActiveHp)]
    pub fn is_active_hp(&self, hp: &str) -> Result<bool, JsError> {
        let h = crate::hp::HyperParameter::from_json(&json_in(hp, "isActive hp")?, "isActive hp")
            .map_err(err)?;
        Ok(h.is_active(self.inner.borrow().raw_values()))
    }

    /// KerasTuner's `merge(hps, overwrite)`: adds `other`'s hps to this space.
    pub fn merge(&self, other: &WasmHp, overwrite: bool) {
        // `other` may share this one's cell (hp.merge(hp)): read it before borrowing mutably.
        let o = other.inner.borrow().clone();
        self.inner.borrow_mut().merge(&o, overwrite);
    }

    /// KerasTuner's `copy()`: the space and values, no open scopes.
    pub fn copy(&self) -> WasmHp {
        WasmHp::new(self.inner.borrow().copy())
    }

    /// KerasTuner's `from_config`: hyperparameters from what `toJSON` wrote.
    #[wasm_bindgen(js_name = fromJSON)]
    pub fn from_json(json: &str) -> Result<WasmHp, JsError> {
        let v = json_in(json, "hyperparameters JSON")?;
        Ok(WasmHp::new(HyperParameters::from_json(&v).map_err(err)?))
    }

    /// KerasTuner's search space summary text.
    #[wasm_bindgen(js_name = searchSpaceSummary)]
    pub fn search_space_summary(&self) -> String {
        self.inner.borrow().search_space_summary()
    }
}
