//! Hyperparameters inside a model spec. Any value may be an hp object
//! (`{"hp": "Int", "name": "units", "min_value": 32, "max_value": 512, "step": 32}`), and the
//! layer list may hold two kinds of blocks:
//! - `{"repeat": <count or Int hp>, "layers": [...]}` repeats its layers; `{i}` in names
//!   inside becomes the repetition's index (the guide's `num_layers` -> `units_{i}`);
//! - `{"when": <bool or Boolean hp>, "layers": [...]}` includes its layers only when true
//!   (the guide's `if hp.Boolean("dropout")`).
//!
//! Hps inside a block are registered as conditional on the block's hp (`units_2` only when
//! `num_layers` >= 3), so a trial's hyperparameters list only the values its model used —
//! KerasTuner lists every loop hp ever seen, which its users complain about.
//!
//! [`resolve`] turns such a spec plus a `HyperParameters` into a plain spec.

use crate::error::{Error, Result};
use crate::hp::{Condition, HpKind, HyperParameter, HyperParameters, Sampling, Value as HpValue};
use serde_json::{Map, Value};

/// Hp types a spec may name.
pub const HP_TYPES: &[&str] = &["Int", "Float", "Choice", "Boolean", "Fixed"];

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}...", s.chars().take(57).collect::<String>())
    } else {
        s
    }
}

fn to_json(v: &HpValue) -> Value {
    match v {
        HpValue::Bool(b) => Value::Bool(*b),
        HpValue::Int(i) => Value::from(*i),
        HpValue::Float(f) => Value::from(*f),
        HpValue::Str(s) => Value::from(s.as_str()),
    }
}

fn from_json(v: &Value, path: &str) -> Result<HpValue> {
    match v {
        Value::Bool(b) => Ok(HpValue::Bool(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Ok(HpValue::Int(i)),
            None => n
                .as_f64()
                .map(HpValue::Float)
                .ok_or_else(|| Error::invalid(path, short(v), "a finite number")),
        },
        Value::String(s) => Ok(HpValue::Str(s.clone())),
        _ => Err(Error::invalid(
            path,
            short(v),
            "a number, string or boolean",
        )),
    }
}

/// The active block conditions and `{i}` substitution while walking the spec.
#[derive(Clone, Default)]
struct Scope {
    conditions: Vec<Condition>,
    index: Option<usize>,
    /// Layers and repetitions expanded so far in this spec (shared by every copy of the scope),
    /// so that nested repeat blocks cannot make an endless expansion.
    expanded: std::rc::Rc<std::cell::Cell<usize>>,
}

/// The most layers a spec may expand to (as [`crate::spec::ModelSpec`] accepts).
const MAX_LAYERS: usize = 1000;
/// The most items and repetitions the expansion of one spec may visit.
const MAX_EXPANSION: usize = 100_000;

impl Scope {
    fn name(&self, raw: &str) -> String {
        match self.index {
            Some(i) => raw.replace("{i}", &i.to_string()),
            None => raw.to_string(),
        }
    }
}

fn field<'a>(m: &'a Map<String, Value>, k: &str, path: &str, what: &str) -> Result<&'a Value> {
    m.get(k)
        .ok_or_else(|| Error::invalid(format!("{path}.{k}"), "missing", what))
}

fn num_i64(v: &Value, path: &str) -> Result<i64> {
    v.as_i64()
        .ok_or_else(|| Error::invalid(path, short(v), "an integer"))
}

fn num_f64(v: &Value, path: &str) -> Result<f64> {
    v.as_f64()
        .filter(|f| f.is_finite())
        .ok_or_else(|| Error::invalid(path, short(v), "a finite number"))
}

/// Reads an hp object into a definition (not yet registered).
fn definition(m: &Map<String, Value>, path: &str, scope: &Scope) -> Result<HyperParameter> {
    let kind_name = field(m, "hp", path, "an hp type")?
        .as_str()
        .ok_or_else(|| {
            Error::invalid(
                format!("{path}.hp"),
                short(&m["hp"]),
                "a string naming the hp type",
            )
        })?;
    let name_v = field(m, "name", path, "the hyperparameter's name")?;
    let raw = name_v.as_str().filter(|s| !s.is_empty()).ok_or_else(|| {
        Error::invalid(format!("{path}.name"), short(name_v), "a non-empty string")
    })?;
    let name = scope.name(raw);
    let sampling = match m.get("sampling") {
        None | Some(Value::Null) => Sampling::Linear,
        Some(s) => Sampling::parse(s.as_str().ok_or_else(|| {
            Error::invalid(
                format!("{path}.sampling"),
                short(s),
                "\"linear\", \"log\" or \"reverse_log\"",
            )
        })?)?,
    };
    let allowed: &[&str] = match kind_name {
        "Int" | "Float" => &[
            "hp",
            "name",
            "min_value",
            "max_value",
            "step",
            "sampling",
            "default",
            "parent_name",
            "parent_values",
        ],
        "Choice" => &[
            "hp",
            "name",
            "values",
            "ordered",
            "default",
            "parent_name",
            "parent_values",
        ],
        "Boolean" => &["hp", "name", "default", "parent_name", "parent_values"],
        "Fixed" => &["hp", "name", "value", "parent_name", "parent_values"],
        other => return Err(Error::unknown("hyperparameter type", other, HP_TYPES)),
    };
    for k in m.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(Error::unknown(
                format!("key in {path} ({kind_name})"),
                k.as_str(),
                allowed,
            ));
        }
    }
    let step_path = format!("{path}.step");
    let kind = match kind_name {
        "Int" => HpKind::Int {
            min_value: num_i64(
                field(m, "min_value", path, "an integer")?,
                &format!("{path}.min_value"),
            )?,
            max_value: num_i64(
                field(m, "max_value", path, "an integer")?,
                &format!("{path}.max_value"),
            )?,
            step: match m.get("step") {
                None | Some(Value::Null) => None,
                Some(s) => Some(num_i64(s, &step_path)?),
            },
            sampling,
        },
        "Float" => HpKind::Float {
            min_value: num_f64(
                field(m, "min_value", path, "a number")?,
                &format!("{path}.min_value"),
            )?,
            max_value: num_f64(
                field(m, "max_value", path, "a number")?,
                &format!("{path}.max_value"),
            )?,
            step: match m.get("step") {
                None | Some(Value::Null) => None,
                Some(s) => Some(num_f64(s, &step_path)?),
            },
            sampling,
        },
        "Choice" => {
            let vals = field(m, "values", path, "a non-empty list")?
                .as_array()
                .ok_or_else(|| {
                    Error::invalid(format!("{path}.values"), short(&m["values"]), "a list")
                })?;
            let values = vals
                .iter()
                .enumerate()
                .map(|(i, v)| from_json(v, &format!("{path}.values[{i}]")))
                .collect::<Result<Vec<_>>>()?;
            let numeric = values
                .iter()
                .all(|v| matches!(v, HpValue::Int(_) | HpValue::Float(_)));
            let ordered = match m.get("ordered") {
                None | Some(Value::Null) => numeric,
                Some(o) => o.as_bool().ok_or_else(|| {
                    Error::invalid(format!("{path}.ordered"), short(o), "true or false")
                })?,
            };
            HpKind::Choice { values, ordered }
        }
        "Boolean" => HpKind::Boolean,
        _ => HpKind::Fixed {
            value: from_json(
                field(m, "value", path, "a number, string or boolean")?,
                &format!("{path}.value"),
            )?,
        },
    };
    let default = match m.get("default") {
        None | Some(Value::Null) => None,
        Some(d) => Some(from_json(d, &format!("{path}.default"))?),
    };
    let mut conditions = scope.conditions.clone();
    if let Some(p) = m.get("parent_name") {
        let parent = p
            .as_str()
            .ok_or_else(|| Error::invalid(format!("{path}.parent_name"), short(p), "an hp name"))?;
        let pv = field(m, "parent_values", path, "a list of the parent's values")?;
        let list = match pv {
            Value::Array(a) => a
                .iter()
                .enumerate()
                .map(|(i, v)| from_json(v, &format!("{path}.parent_values[{i}]")))
                .collect::<Result<Vec<_>>>()?,
            other => vec![from_json(other, &format!("{path}.parent_values"))?],
        };
        conditions.push(Condition {
            name: scope.name(parent),
            values: list,
        });
    }
    let hp = HyperParameter {
        name,
        kind,
        default,
        conditions,
    };
    hp.validate().map_err(|e| match e {
        Error::InvalidArgument {
            field,
            value,
            allowed,
        } => Error::InvalidArgument {
            field: format!("{path} ({field})"),
            value,
            allowed,
        },
        other => other,
    })?;
    Ok(hp)
}

fn is_hp(v: &Value) -> Option<&Map<String, Value>> {
    v.as_object().filter(|m| m.contains_key("hp"))
}

/// Registers (or looks up) the hp and returns its value for this trial.
fn hp_value(
    m: &Map<String, Value>,
    path: &str,
    hp: &mut HyperParameters,
    scope: &Scope,
) -> Result<(HpValue, HyperParameter)> {
    let def = definition(m, path, scope)?;
    for c in &def.conditions {
        if !hp.space().iter().any(|h| h.name == c.name) {
            return Err(Error::invalid(
                format!("{path}.parent_name"),
                &c.name,
                format!(
                    "the name of an hp defined before it (`HyperParameter` named: {} not defined.)",
                    c.name
                ),
            ));
        }
    }
    let v = hp.register(def.clone())?;
    Ok((v, def))
}

fn walk(v: &Value, path: &str, hp: &mut HyperParameters, scope: &Scope) -> Result<Value> {
    if let Some(m) = is_hp(v) {
        let (val, _) = hp_value(m, path, hp, scope)?;
        return Ok(to_json(&val));
    }
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, x) in m {
                if k == "layers" {
                    out.insert(
                        k.clone(),
                        Value::Array(layers(x, &format!("{path}.layers"), hp, scope)?),
                    );
                } else {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    let resolved = walk(x, &p, hp, scope)?;
                    let resolved = match (k.as_str(), resolved) {
                        ("name", Value::String(s)) => Value::String(scope.name(&s)),
                        (_, r) => r,
                    };
                    out.insert(k.clone(), resolved);
                }
            }
            Ok(Value::Object(out))
        }
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, x)| walk(x, &format!("{path}[{i}]"), hp, scope))
            .collect::<Result<Vec<_>>>()
            .map(Value::Array),
        other => Ok(other.clone()),
    }
}

/// Expands a layer list: plain layers, `repeat` blocks and `when` blocks.
fn layers(v: &Value, path: &str, hp: &mut HyperParameters, scope: &Scope) -> Result<Vec<Value>> {
    let list = v
        .as_array()
        .ok_or_else(|| Error::invalid(path, short(v), "a list of layers"))?;
    let mut out = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let p = format!("{path}[{i}]");
        scope.expanded.set(scope.expanded.get() + 1);
        if scope.expanded.get() > MAX_EXPANSION {
            return Err(Error::invalid(
                &p,
                "a spec whose blocks repeat too often",
                format!("repeat blocks that expand to at most {MAX_LAYERS} layers"),
            ));
        }
        let Some(m) = item.as_object() else {
            return Err(Error::invalid(
                &p,
                short(item),
                "a layer object or a repeat / when block",
            ));
        };
        if let Some(count) = m.get("repeat") {
            for k in m.keys() {
                if k != "repeat" && k != "layers" {
                    return Err(Error::unknown(
                        format!("key in {p} (repeat block)"),
                        k.as_str(),
                        &["repeat", "layers"],
                    ));
                }
            }
            let inner = field(m, "layers", &p, "the layers to repeat")?;
            let (n, parent) = match is_hp(count) {
                Some(hm) => {
                    let (val, def) = hp_value(hm, &format!("{p}.repeat"), hp, scope)?;
                    let n = val.as_i64().ok_or_else(|| {
                        Error::invalid(
                            format!("{p}.repeat"),
                            short(count),
                            "an Int hp or an integer",
                        )
                    })?;
                    let max = match def.kind {
                        HpKind::Int {
                            min_value,
                            max_value,
                            ..
                        } => {
                            if min_value < 0 || max_value > MAX_LAYERS as i64 {
                                return Err(Error::invalid(
                                    format!("{p}.repeat"),
                                    format!("an Int from {min_value} to {max_value}"),
                                    format!("a count in [0, {MAX_LAYERS}]"),
                                ));
                            }
                            Some((def.name.clone(), min_value, max_value))
                        }
                        _ => None,
                    };
                    (n, max)
                }
                None => (
                    count.as_i64().ok_or_else(|| {
                        Error::invalid(
                            format!("{p}.repeat"),
                            short(count),
                            "an integer or an Int hp",
                        )
                    })?,
                    None,
                ),
            };
            if !(0..=1000).contains(&n) {
                return Err(Error::invalid(
                    format!("{p}.repeat"),
                    n,
                    "a count in [0, 1000]",
                ));
            }
            for rep in 0..n as usize {
                let mut s = scope.clone();
                s.index = Some(rep);
                if let Some((name, min, max)) = &parent {
                    let at_least = rep as i64 + 1;
                    // Repetitions every count reaches need no condition.
                    if at_least > *min {
                        s.conditions.push(Condition {
                            name: name.clone(),
                            values: (at_least..=*max).map(HpValue::Int).collect(),
                        });
                    }
                }
                out.extend(layers(inner, &format!("{p}.layers"), hp, &s)?);
                if out.len() > MAX_LAYERS {
                    return Err(Error::invalid(
                        format!("{p}.repeat"),
                        n,
                        format!("a count that keeps the model within {MAX_LAYERS} layers"),
                    ));
                }
            }
        } else if let Some(cond) = m.get("when") {
            for k in m.keys() {
                if k != "when" && k != "layers" {
                    return Err(Error::unknown(
                        format!("key in {p} (when block)"),
                        k.as_str(),
                        &["when", "layers"],
                    ));
                }
            }
            let inner = field(m, "layers", &p, "the layers to include")?;
            let (on, parent) = match is_hp(cond) {
                Some(hm) => {
                    let (val, def) = hp_value(hm, &format!("{p}.when"), hp, scope)?;
                    let on = val.as_bool().ok_or_else(|| {
                        Error::invalid(
                            format!("{p}.when"),
                            short(cond),
                            "a Boolean hp or true/false",
                        )
                    })?;
                    (on, Some(def.name))
                }
                None => (
                    cond.as_bool().ok_or_else(|| {
                        Error::invalid(
                            format!("{p}.when"),
                            short(cond),
                            "true, false or a Boolean hp",
                        )
                    })?,
                    None,
                ),
            };
            if on {
                let mut s = scope.clone();
                if let Some(name) = parent {
                    s.conditions.push(Condition {
                        name,
                        values: vec![HpValue::Bool(true)],
                    });
                }
                out.extend(layers(inner, &format!("{p}.layers"), hp, &s)?);
            }
        } else {
            out.push(walk(item, &p, hp, scope)?);
        }
    }
    Ok(out)
}

/// Resolves every hp in `spec` for this trial (registering new ones with their defaults),
/// returning a plain model spec.
pub fn resolve(spec: &Value, hp: &mut HyperParameters) -> Result<Value> {
    if !spec.is_object() {
        return Err(Error::invalid("spec", short(spec), "a JSON object"));
    }
    walk(spec, "", hp, &Scope::default())
}

/// Whether a spec holds any hyperparameter or block.
pub fn has_hyperparameters(spec: &Value) -> bool {
    match spec {
        Value::Object(m) => {
            m.contains_key("hp")
                || m.contains_key("repeat")
                || m.contains_key("when")
                || m.values().any(has_hyperparameters)
        }
        Value::Array(a) => a.iter().any(has_hyperparameters),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::ModelSpec;
    use serde_json::json;

    fn guide() -> Value {
        serde_json::from_str(include_str!("../../examples/guide_search.json")).unwrap()
    }

    #[test]
    fn defaults_give_the_smallest_model_and_register_the_space() {
        let mut hp = HyperParameters::new();
        let plain = resolve(&guide(), &mut hp).unwrap();
        let spec = ModelSpec::from_value(&plain).unwrap();
        // Flatten, one Dense of 32 relu (num_layers defaults to 1), no dropout, the output.
        assert_eq!(spec.layers.len(), 3);
        assert_eq!(plain["layers"][1]["config"]["units"], 32);
        assert_eq!(plain["layers"][1]["config"]["activation"], "relu");
        assert_eq!(
            plain["compile"]["optimizer"]["config"]["learning_rate"],
            1e-4
        );
        let names: Vec<&str> = hp.space().iter().map(|h| h.name.as_str()).collect();
        assert_eq!(
            names,
            ["num_layers", "units_0", "activation", "dropout", "lr"]
        );
    }

    #[test]
    fn repeat_and_when_follow_the_values_with_conditions() {
        let mut hp = HyperParameters::new();
        resolve(&guide(), &mut hp).unwrap();
        hp.set_value("num_layers", HpValue::Int(3));
        hp.set_value("dropout", HpValue::Bool(true));
        let plain = resolve(&guide(), &mut hp).unwrap();
        let classes: Vec<&str> = plain["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["class_name"].as_str().unwrap())
            .collect();
        assert_eq!(
            classes,
            ["Flatten", "Dense", "Dense", "Dense", "Dropout", "Dense"]
        );
        // units_2 exists only while num_layers >= 3
        let u2 = hp.space().iter().find(|h| h.name == "units_2").unwrap();
        assert_eq!(u2.conditions[0].name, "num_layers");
        assert_eq!(u2.conditions[0].values, vec![HpValue::Int(3)]);
        hp.set_value("num_layers", HpValue::Int(1));
        assert!(!hp.values().contains("units_2"));
        assert!(hp.values().contains("units_0"));
    }

    #[test]
    fn bad_hp_objects_name_the_path() {
        let mut hp = HyperParameters::new();
        let bad = json!({"layers": [{"class_name": "Dense", "config": {
            "units": {"hp": "Int", "name": "u", "min_value": 10, "max_value": 2}}}]});
        let e = resolve(&bad, &mut hp).unwrap_err().to_string();
        assert!(
            e.contains("layers[0].config.units") && e.contains("min_value"),
            "{e}"
        );
        let bad = json!({"layers": [{"class_name": "Dense", "config": {
            "units": {"hp": "Int", "name": "u", "min_value": 1, "max_value": 2, "stepp": 1}}}]});
        let e = resolve(&bad, &mut hp).unwrap_err().to_string();
        assert!(e.contains("`stepp`") && e.contains("step"), "{e}");
        let bad = json!({"layers": [{"repeat": 2000, "layers": []}]});
        let e = resolve(&bad, &mut hp).unwrap_err().to_string();
        assert!(
            e.contains("layers[0].repeat") && e.contains("[0, 1000]"),
            "{e}"
        );
        let bad = json!({"layers": [{"class_name": "Dense", "config": {
            "units": {"hp": "Int", "name": "v", "min_value": 1, "max_value": 2,
                      "parent_name": "ghost", "parent_values": [1]}}}]});
        let e = resolve(&bad, &mut hp).unwrap_err().to_string();
        assert!(e.contains("ghost not defined"), "{e}");
        assert!(has_hyperparameters(&guide()));
        assert!(!has_hyperparameters(
            &json!({"layers": [{"class_name": "Flatten"}]})
        ));
    }
}
