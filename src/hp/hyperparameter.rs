//! One hyperparameter (KerasTuner's `Int`, `Float`, `Choice`, `Boolean` and `Fixed`): its
//! validation, its default, and the mapping between values and a probability in [0, 1) that
//! every search algorithm goes through.
//!
//! The arithmetic follows KerasTuner 1.4.7 step by step (`numerical.py`, `hp_utils.py`), down
//! to Python's floor division and `int()` truncation, so grids, samples and probabilities are
//! the numbers KerasTuner computes (natively on Linux, bit for bit; see `pow` below). Where
//! tunelab departs from KerasTuner the method's doc says so and why.

use super::value::{py_float, py_list_repr, py_set_order, py_str_repr, Value, Values};
use crate::error::{Error, Result};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::json;
use std::fmt;

/// The most values [`HyperParameter::grid_values`] lists; a grid search over more is not a
/// search anyone can run, and listing billions of values would exhaust memory.
pub const MAX_GRID_VALUES: usize = 1_000_000;

/// KerasTuner's tolerance when counting a log grid's values: `log_step(max / min)` that is an
/// integer in exact arithmetic may come out a hair below it.
const LOG_COUNT_TOLERANCE: f64 = 1e-8;

/// How a probability in [0, 1) is spread over `[min_value, max_value]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Sampling {
    /// Uniform: `min + p * (max - min)`.
    #[default]
    Linear,
    /// Uniform in the logarithm: `min * (max / min)^p`; with a step, the step multiplies.
    Log,
    /// Dense near `max_value`: `max + min - min * (max / min)^(1 - p)`.
    ReverseLog,
}

impl Sampling {
    /// Every accepted name.
    pub const NAMES: [&'static str; 3] = ["linear", "log", "reverse_log"];

    /// Parses `"linear"`, `"log"` or `"reverse_log"`, ignoring case (as KerasTuner does).
    pub fn parse(s: &str) -> Result<Sampling> {
        match s.to_ascii_lowercase().as_str() {
            "linear" => Ok(Sampling::Linear),
            "log" => Ok(Sampling::Log),
            "reverse_log" => Ok(Sampling::ReverseLog),
            _ => Err(Error::unknown("sampling", s, &Sampling::NAMES)),
        }
    }

    /// The KerasTuner spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            Sampling::Linear => "linear",
            Sampling::Log => "log",
            Sampling::ReverseLog => "reverse_log",
        }
    }

    fn is_log(&self) -> bool {
        matches!(self, Sampling::Log | Sampling::ReverseLog)
    }
}

impl fmt::Display for Sampling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Sampling {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Sampling {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Sampling::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// KerasTuner's `Parent` condition: active when the value of hp `name` is one of `values`
/// (compared with Python's `==`).
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    /// The parent hp's full name.
    pub name: String,
    /// The parent values that activate the condition.
    pub values: Vec<Value>,
}

impl Condition {
    /// A condition on `name`; `values` must not be empty (KerasTuner indexes `values[0]`).
    pub fn new(name: impl Into<String>, values: Vec<Value>) -> Result<Condition> {
        let name = name.into();
        if values.is_empty() {
            return Err(Error::invalid(
                format!("Parent('{name}').values"),
                "[]",
                "at least one parent value",
            ));
        }
        Ok(Condition { name, values })
    }

    /// Whether `values` holds the parent and its value is one of ours.
    pub fn is_active(&self, values: &Values) -> bool {
        values
            .get(&self.name)
            .is_some_and(|v| self.values.iter().any(|w| w.py_eq(v)))
    }

    /// KerasTuner's `Parent.__eq__`: same name, and values equal pairwise under Python's `==`.
    pub fn same_as(&self, other: &Condition) -> bool {
        self.name == other.name
            && self.values.len() == other.values.len()
            && self
                .values
                .iter()
                .zip(&other.values)
                .all(|(a, b)| a.py_eq(b))
    }

    /// The Python repr of KerasTuner's serialized condition:
    /// `{'class_name': 'Parent', 'config': {'name': 'model', 'values': ['cnn']}}`.
    pub fn repr(&self) -> String {
        format!(
            "{{'class_name': 'Parent', 'config': {{'name': {}, 'values': {}}}}}",
            py_str_repr(&self.name),
            py_list_repr(&self.values)
        )
    }

    /// `{"class_name": "Parent", "config": {"name": ..., "values": [...]}}`.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "class_name": "Parent",
            "config": {
                "name": self.name,
                "values": self.values.iter().map(Value::to_json).collect::<Vec<_>>(),
            }
        })
    }

    /// Inverse of [`Condition::to_json`]; `what` names the field in errors.
    pub fn from_json(v: &serde_json::Value, what: &str) -> Result<Condition> {
        let class = v.get("class_name").and_then(|c| c.as_str());
        if class != Some("Parent") {
            return Err(Error::parse(format!(
                "`{what}.class_name` must be \"Parent\", got {}",
                v.get("class_name").unwrap_or(&serde_json::Value::Null)
            )));
        }
        let config = v
            .get("config")
            .ok_or_else(|| Error::parse(format!("`{what}.config` is missing")))?;
        let name = config
            .get("name")
            .and_then(|n| n.as_str())
            .ok_or_else(|| Error::parse(format!("`{what}.config.name` must be a string")))?;
        let values = config
            .get("values")
            .and_then(|n| n.as_array())
            .ok_or_else(|| Error::parse(format!("`{what}.config.values` must be a list")))?
            .iter()
            .enumerate()
            .map(|(i, x)| Value::from_json(x, &format!("{what}.config.values[{i}]")))
            .collect::<Result<Vec<_>>>()?;
        Condition::new(name, values)
    }
}

/// What kind of hyperparameter, with its settings.
#[derive(Clone, Debug, PartialEq)]
pub enum HpKind {
    /// An integer in `[min_value, max_value]` (both included).
    Int {
        min_value: i64,
        max_value: i64,
        /// The grid step (a multiplier for log samplings); `None` samples any integer.
        step: Option<i64>,
        sampling: Sampling,
    },
    /// A float in `[min_value, max_value]`.
    Float {
        min_value: f64,
        max_value: f64,
        /// The grid step (a multiplier for log samplings); `None` is continuous.
        step: Option<f64>,
        sampling: Sampling,
    },
    /// One of `values` (all of one type).
    Choice {
        values: Vec<Value>,
        /// Whether the values have an order (only numbers may).
        ordered: bool,
    },
    /// `True` or `False`.
    Boolean,
    /// Always `value`.
    Fixed { value: Value },
}

/// One hyperparameter: identified by `name` and `conditions` together.
#[derive(Clone, Debug, PartialEq)]
pub struct HyperParameter {
    /// Full name, name scopes included (`"block1/units"`).
    pub name: String,
    /// Type and settings.
    pub kind: HpKind,
    /// The default as given (`None`: KerasTuner's implicit default, see
    /// [`HyperParameter::default_value`]). Unused by `Fixed`.
    pub default: Option<Value>,
    /// Every condition must hold for the hp to be active.
    pub conditions: Vec<Condition>,
}

/// Python's float floor division `a // b`: the floor of the exact quotient of the two
/// doubles, computed the way CPython does (through `fmod`) so that `1.0 // 0.2 == 4.0`.
pub(crate) fn py_floordiv(a: f64, b: f64) -> f64 {
    let m = a % b;
    let mut div = (a - m) / b;
    // C's fmod keeps the dividend's sign; Python's floor wants the divisor's.
    if m != 0.0 && ((b < 0.0) != (m < 0.0)) {
        div -= 1.0;
    }
    if div != 0.0 {
        let mut floordiv = div.floor();
        if div - floordiv > 0.5 {
            floordiv += 1.0;
        }
        floordiv
    } else {
        0.0_f64.copysign(a / b)
    }
}

/// C's `pow`, which Python's `math.pow` calls. Rust's `powf` calls the platform's C library
/// natively (glibc on Linux: the very numbers CPython prints there); the wasm build gets Rust's
/// port of the FreeBSD routine, which can differ in the last bit.
fn pow(x: f64, y: f64) -> f64 {
    x.powf(y)
}

/// C's `log`, which Python's `math.log` calls (same platform note as [`pow`]).
fn ln(x: f64) -> f64 {
    x.ln()
}

/// Python's `math.log(x, base)`.
fn log_base(x: f64, base: f64) -> f64 {
    ln(x) / ln(base)
}

/// KerasTuner's `prob_to_index`: the bucket of `prob` among `n` equal buckets. KerasTuner
/// only pulls `n` back to `n - 1`; tunelab clamps to `[0, n - 1]` so a probability slightly
/// outside [0, 1) (an optimizer's bound, rounding) still names a value.
pub fn prob_to_index(prob: f64, n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    let ele_prob = 1.0 / n as f64;
    let index = (prob / ele_prob).floor();
    if index.is_nan() || index < 0.0 {
        0
    } else if index >= n as f64 {
        n - 1
    } else {
        (index as u64).min(n - 1)
    }
}

/// KerasTuner's `index_to_prob`: the centre of bucket `index` among `n`.
pub fn index_to_prob(index: f64, n: u64) -> f64 {
    let ele_prob = 1.0 / n as f64;
    (index + 0.5) * ele_prob
}

/// KerasTuner's `_sample_numerical_value` over `[min, max]`.
fn sample_numerical(p: f64, min: f64, max: f64, sampling: Sampling) -> f64 {
    match sampling {
        Sampling::Linear => p * (max - min) + min,
        Sampling::Log => min * pow(max / min, p),
        Sampling::ReverseLog => max + min - min * pow(max / min, 1.0 - p),
    }
}

/// KerasTuner's `_numerical_to_prob` over `[min, max]`.
fn numerical_to_prob(v: f64, min: f64, max: f64, sampling: Sampling) -> f64 {
    if max == min {
        return 0.5;
    }
    match sampling {
        Sampling::Linear => (v - min) / (max - min),
        Sampling::Log => ln(v / min) / ln(max / min),
        Sampling::ReverseLog => 1.0 - ln((max + min - v) / min) / ln(max / min),
    }
}

/// Python's `int(x)` for a float: truncation toward zero (saturating instead of raising).
fn py_int(x: f64) -> i64 {
    x.trunc() as i64
}

/// A count of grid values from a float, saturating (Python's `int()` has no upper bound).
fn count_from_f64(x: f64) -> u64 {
    if x.is_nan() || x < 0.0 {
        0
    } else if x >= u64::MAX as f64 {
        u64::MAX
    } else {
        x as u64
    }
}

impl HyperParameter {
    /// An hp with no explicit default and no conditions.
    pub fn new(name: impl Into<String>, kind: HpKind) -> HyperParameter {
        HyperParameter {
            name: name.into(),
            kind,
            default: None,
            conditions: Vec::new(),
        }
    }

    /// KerasTuner's class name: `"Int"`, `"Float"`, `"Choice"`, `"Boolean"` or `"Fixed"`.
    pub fn class_name(&self) -> &'static str {
        match self.kind {
            HpKind::Int { .. } => "Int",
            HpKind::Float { .. } => "Float",
            HpKind::Choice { .. } => "Choice",
            HpKind::Boolean => "Boolean",
            HpKind::Fixed { .. } => "Fixed",
        }
    }

    /// The name of a field of this hp in error messages: `Int('units').min_value`.
    fn field(&self, field: &str) -> String {
        format!("{}('{}').{}", self.class_name(), self.name, field)
    }

    /// KerasTuner's standardization on construction, then [`HyperParameter::validate`]:
    /// an `Int` with linear sampling and no step gets step 1; an `Int` default written as an
    /// integral float becomes an int and a `Float` default written as an int a float; a
    /// `Choice` of booleans becomes the ints 1/0 (Python's `bool` is an `int`, and KerasTuner
    /// converts every integer-typed choice with `int()`), a `Choice` default is converted like
    /// the values (`str()` for strings, `int()` for integers); a `Boolean` default 0/1 becomes
    /// a bool.
    pub fn normalized(mut self) -> Result<HyperParameter> {
        match &mut self.kind {
            HpKind::Int { step, sampling, .. } => {
                if step.is_none() && *sampling == Sampling::Linear {
                    *step = Some(1);
                }
                if let Some(d) = &self.default {
                    if let (Value::Float(_), Some(i)) = (d, d.as_i64()) {
                        self.default = Some(Value::Int(i));
                    }
                }
            }
            HpKind::Float { .. } => {
                if let Some(Value::Int(i)) = self.default {
                    self.default = Some(Value::Float(i as f64));
                }
            }
            HpKind::Choice { values, .. } => {
                *values = bools_to_ints(std::mem::take(values));
                let first = values.first().cloned();
                if let (Some(first), Some(d)) = (first, &self.default) {
                    let converted = match (&first, d) {
                        (Value::Str(_), d) => Some(Value::Str(d.to_string())),
                        (Value::Int(_), Value::Bool(b)) => Some(Value::Int(i64::from(*b))),
                        (Value::Int(_), Value::Float(f)) if f.is_finite() => {
                            Some(Value::Int(py_int(*f)))
                        }
                        _ => None,
                    };
                    if let Some(c) = converted {
                        self.default = Some(c);
                    }
                }
            }
            HpKind::Boolean => {
                if let Some(Value::Int(i @ (0 | 1))) = self.default {
                    self.default = Some(Value::Bool(i == 1));
                }
            }
            HpKind::Fixed { .. } => {}
        }
        self.validate()?;
        Ok(self)
    }

    /// Checks every rule of KerasTuner's constructors, plus a few KerasTuner misses (they
    /// would crash or silently misbehave later): a linear step must be > 0, numbers must be
    /// finite, and an Int/Float default must lie within `[min_value, max_value]`. Each error
    /// names the hp, the field, the value and what is allowed.
    pub fn validate(&self) -> Result<()> {
        for c in &self.conditions {
            if c.values.is_empty() {
                return Err(Error::invalid(
                    self.field("conditions"),
                    c.repr(),
                    "conditions with at least one parent value",
                ));
            }
            if c.name == self.name {
                return Err(Error::invalid(
                    self.field("name"),
                    py_str_repr(&self.name),
                    format!(
                        "a name other than its parent's: a conditional `HyperParameter` cannot \
                         have the same name as its parent. Found: {} and parent_name: {}",
                        self.name, c.name
                    ),
                ));
            }
        }
        match &self.kind {
            HpKind::Int {
                min_value,
                max_value,
                step,
                sampling,
            } => {
                if *min_value > *max_value {
                    return Err(Error::invalid(
                        self.field("min_value"),
                        min_value,
                        format!("at most max_value ({max_value})"),
                    ));
                }
                self.check_range(*min_value as f64, *sampling)?;
                if let Some(s) = step {
                    self.check_step(*s as f64, &s.to_string(), *sampling)?;
                }
                match &self.default {
                    None => {}
                    Some(Value::Int(d)) if (*min_value..=*max_value).contains(d) => {}
                    Some(d) => {
                        return Err(Error::invalid(
                            self.field("default"),
                            d.repr(),
                            format!("an int in [{min_value}, {max_value}], or None"),
                        ))
                    }
                }
            }
            HpKind::Float {
                min_value,
                max_value,
                step,
                sampling,
            } => {
                for (name, v) in [("min_value", min_value), ("max_value", max_value)] {
                    if !v.is_finite() {
                        return Err(Error::invalid(
                            self.field(name),
                            py_float(*v),
                            "a finite number",
                        ));
                    }
                }
                if *min_value > *max_value {
                    return Err(Error::invalid(
                        self.field("min_value"),
                        py_float(*min_value),
                        format!("at most max_value ({})", py_float(*max_value)),
                    ));
                }
                if !(max_value - min_value).is_finite() {
                    return Err(Error::invalid(
                        self.field("max_value"),
                        py_float(*max_value),
                        "a range max_value - min_value that is a finite number",
                    ));
                }
                self.check_range(*min_value, *sampling)?;
                if let Some(s) = step {
                    if !s.is_finite() {
                        return Err(Error::invalid(
                            self.field("step"),
                            py_float(*s),
                            "a finite number, or None",
                        ));
                    }
                    self.check_step(*s, &py_float(*s), *sampling)?;
                }
                match &self.default {
                    None => {}
                    Some(Value::Float(d))
                        if d.is_finite() && *min_value <= *d && d <= max_value => {}
                    Some(d) => {
                        return Err(Error::invalid(
                            self.field("default"),
                            d.repr(),
                            format!(
                                "a float in [{}, {}], or None",
                                py_float(*min_value),
                                py_float(*max_value)
                            ),
                        ))
                    }
                }
            }
            HpKind::Choice { values, ordered } => {
                let Some(first) = values.first() else {
                    return Err(Error::invalid(
                        self.field("values"),
                        "[]",
                        "a non-empty list (`values` must be provided for `Choice`)",
                    ));
                };
                if values.iter().any(|v| v.type_name() != first.type_name()) {
                    let mut types: Vec<&str> = values.iter().map(Value::type_name).collect();
                    types.sort_unstable();
                    types.dedup();
                    return Err(Error::invalid(
                        self.field("values"),
                        py_list_repr(values),
                        format!(
                            "values of one type only (int, float, str or bool); found types {}",
                            types.join(", ")
                        ),
                    ));
                }
                if let Some(bad) = values
                    .iter()
                    .find(|v| matches!(v, Value::Float(f) if !f.is_finite()))
                {
                    return Err(Error::invalid(
                        self.field("values"),
                        bad.repr(),
                        "finite numbers",
                    ));
                }
                let numeric = matches!(first, Value::Int(_) | Value::Float(_));
                if *ordered && !numeric {
                    return Err(Error::invalid(
                        self.field("ordered"),
                        "True",
                        "False for non-numeric values (`ordered` must be `False` for \
                         non-numeric types)",
                    ));
                }
                if let Some(d) = &self.default {
                    if !values.iter().any(|v| v.py_eq(d)) {
                        return Err(Error::invalid(
                            self.field("default"),
                            d.repr(),
                            format!("one of the choices {}, or None", py_list_repr(values)),
                        ));
                    }
                }
            }
            HpKind::Boolean => match &self.default {
                None | Some(Value::Bool(_)) => {}
                Some(d) => {
                    return Err(Error::invalid(
                        self.field("default"),
                        d.repr(),
                        "a Python boolean (True or False)",
                    ))
                }
            },
            HpKind::Fixed { value } => {
                if let Value::Float(f) = value {
                    if !f.is_finite() {
                        return Err(Error::invalid(
                            self.field("value"),
                            py_float(*f),
                            "an int, a str, a bool or a finite float",
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// The sampling rules both numeric kinds share.
    fn check_range(&self, min: f64, sampling: Sampling) -> Result<()> {
        if sampling.is_log() && min <= 0.0 {
            return Err(Error::invalid(
                self.field("min_value"),
                self.min_repr(),
                format!("a min_value > 0 with sampling='{sampling}'"),
            ));
        }
        Ok(())
    }

    fn check_step(&self, step: f64, shown: &str, sampling: Sampling) -> Result<()> {
        if sampling.is_log() && step <= 1.0 {
            return Err(Error::invalid(
                self.field("step"),
                shown,
                format!("a step > 1 with sampling='{sampling}' (the step multiplies), or None"),
            ));
        }
        if step <= 0.0 {
            return Err(Error::invalid(
                self.field("step"),
                shown,
                "a step > 0, or None",
            ));
        }
        Ok(())
    }

    fn min_repr(&self) -> String {
        match &self.kind {
            HpKind::Int { min_value, .. } => min_value.to_string(),
            HpKind::Float { min_value, .. } => py_float(*min_value),
            _ => String::new(),
        }
    }

    /// The value on a fresh `HyperParameters`: the explicit default, else `min_value` for
    /// Int/Float, `values[0]` for Choice, `False` for Boolean, the value for Fixed.
    pub fn default_value(&self) -> Value {
        if let HpKind::Fixed { value } = &self.kind {
            return value.clone();
        }
        if let Some(d) = &self.default {
            return d.clone();
        }
        match &self.kind {
            HpKind::Int { min_value, .. } => Value::Int(*min_value),
            HpKind::Float { min_value, .. } => Value::Float(*min_value),
            HpKind::Choice { values, .. } => values.first().cloned().unwrap_or(Value::Int(0)),
            HpKind::Boolean => Value::Bool(false),
            HpKind::Fixed { value } => value.clone(),
        }
    }

    /// The default as KerasTuner's `get_config` reports it: an `Int`'s own `default`
    /// (`None` when not given), every other kind's effective default.
    fn config_default(&self) -> Option<Value> {
        match &self.kind {
            HpKind::Int { .. } => self.default.clone(),
            _ => Some(self.default_value()),
        }
    }

    /// How many values a stepped Int/Float grid has (KerasTuner's `_get_n_values`).
    fn n_grid(&self) -> Option<u64> {
        match &self.kind {
            HpKind::Int {
                min_value,
                max_value,
                step: Some(step),
                sampling,
            } => Some(match sampling {
                Sampling::Linear => {
                    let span = i128::from(*max_value) - i128::from(*min_value);
                    let n = span.div_euclid(i128::from((*step).max(1))) + 1;
                    u64::try_from(n).unwrap_or(u64::MAX)
                }
                _ => {
                    let ratio = *max_value as f64 / *min_value as f64;
                    count_from_f64(log_base(ratio, *step as f64) + LOG_COUNT_TOLERANCE)
                        .saturating_add(1)
                }
            }),
            HpKind::Float {
                min_value,
                max_value,
                step: Some(step),
                sampling,
            } => Some(match sampling {
                // Python's float floor division, exactly: Float(0, 1, step=0.1) has ten
                // values in KerasTuner because 1.0 // 0.1 == 9.0 (see `grid_values`).
                Sampling::Linear => {
                    count_from_f64(py_floordiv(max_value - min_value, *step)).saturating_add(1)
                }
                _ => count_from_f64(log_base(max_value / min_value, *step) + LOG_COUNT_TOLERANCE)
                    .saturating_add(1),
            }),
            _ => None,
        }
    }

    /// The `index`-th value of a stepped grid (KerasTuner's `_get_value_by_index`), clamped
    /// into `[min_value, max_value]`: KerasTuner's 1e-8 counting tolerance can admit a last
    /// log-grid value a hair above `max_value`, which tunelab pulls back to `max_value`.
    fn grid_value(&self, index: u64) -> Value {
        match &self.kind {
            HpKind::Int {
                min_value,
                max_value,
                step: Some(step),
                sampling,
            } => {
                let (min, max) = (*min_value, *max_value);
                let v = match sampling {
                    Sampling::Linear => {
                        let v = i128::from(min) + i128::from(index) * i128::from(*step);
                        i64::try_from(v).unwrap_or(max)
                    }
                    Sampling::Log => py_int(min as f64 * pow(*step as f64, index as f64)),
                    Sampling::ReverseLog => py_int(
                        (i128::from(max) + i128::from(min)) as f64
                            - min as f64 * pow(*step as f64, index as f64),
                    ),
                };
                Value::Int(v.clamp(min, max))
            }
            HpKind::Float {
                min_value,
                max_value,
                step: Some(step),
                sampling,
            } => {
                let (min, max) = (*min_value, *max_value);
                let v = match sampling {
                    Sampling::Linear => min + index as f64 * step,
                    Sampling::Log => min * pow(*step, index as f64),
                    Sampling::ReverseLog => max + min - min * pow(*step, index as f64),
                };
                Value::Float(v.clamp(min, max))
            }
            _ => self.default_value(),
        }
    }

    /// KerasTuner's `prob_to_value`: maps `p` in [0, 1) to a value.
    ///
    /// - Int without a step: `int(sample(p, max_value + 1))`, so `max_value` can be drawn
    ///   (clamped, since `p` a hair below 1 can round up to `max_value + 1`).
    /// - Int/Float with a step: the `prob_to_index(p, n)`-th grid value.
    /// - Float without a step: the continuous sample, clamped against rounding.
    /// - Choice: `values[prob_to_index(p, len)]`; Boolean: `p >= 0.5`; Fixed: its value.
    pub fn prob_to_value(&self, p: f64) -> Value {
        match &self.kind {
            HpKind::Int {
                min_value,
                max_value,
                step: None,
                sampling,
            } => {
                let top = (i128::from(*max_value) + 1) as f64;
                let v = sample_numerical(p, *min_value as f64, top, *sampling);
                Value::Int(py_int(v).clamp(*min_value, *max_value))
            }
            HpKind::Float {
                min_value,
                max_value,
                step: None,
                sampling,
            } => Value::Float(
                sample_numerical(p, *min_value, *max_value, *sampling)
                    .clamp(*min_value, *max_value),
            ),
            HpKind::Int { .. } | HpKind::Float { .. } => {
                let n = self.n_grid().unwrap_or(1);
                self.grid_value(prob_to_index(p, n))
            }
            HpKind::Choice { values, .. } => {
                let i = prob_to_index(p, values.len() as u64) as usize;
                values
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| self.default_value())
            }
            HpKind::Boolean => Value::Bool(p >= 0.5),
            HpKind::Fixed { value } => value.clone(),
        }
    }

    /// KerasTuner's `value_to_prob`, or an error when `v` cannot be a value of this hp (wrong
    /// type, not among the choices, outside a log range).
    ///
    /// The result is clamped into [0, 1] (KerasTuner's can stray outside by rounding, or
    /// for a value outside the range).
    ///
    /// One deliberate fix: for a Float grid with linear sampling KerasTuner computes the
    /// index with Python's exact floor division, so a grid value whose quotient rounds a
    /// hair below an integer lands in the bucket below (`Float(0, 1, step=0.1)`: 0.5 maps
    /// back to 0.4). tunelab floors the rounded quotient plus 1e-9 (relative), so every grid
    /// value maps to its own bucket; off-grid values still floor as in KerasTuner.
    pub fn try_value_to_prob(&self, v: &Value) -> Result<f64> {
        let bad = |allowed: &str| Error::invalid(self.field("value"), v.repr(), allowed);
        let p = match &self.kind {
            HpKind::Int {
                min_value,
                max_value,
                step,
                sampling,
            } => {
                let x = v.as_f64().ok_or_else(|| bad("an int"))?;
                let (min, max) = (*min_value as f64, *max_value as f64);
                match step {
                    None => numerical_to_prob(
                        x + 0.5,
                        min,
                        (i128::from(*max_value) + 1) as f64,
                        *sampling,
                    ),
                    Some(step) => {
                        let n = self.n_grid().unwrap_or(1);
                        let index = match (sampling, v) {
                            (Sampling::Linear, Value::Int(i)) => (i128::from(*i)
                                - i128::from(*min_value))
                            .div_euclid(i128::from((*step).max(1)))
                                as f64,
                            (Sampling::Linear, _) => py_floordiv(x - min, *step as f64),
                            (Sampling::Log, _) => log_base(x / min, *step as f64),
                            (Sampling::ReverseLog, _) => {
                                log_base((max - x + min) / min, *step as f64)
                            }
                        };
                        index_to_prob(index, n)
                    }
                }
            }
            HpKind::Float {
                min_value,
                max_value,
                step,
                sampling,
            } => {
                let x = v.as_f64().ok_or_else(|| bad("a float"))?;
                let (min, max) = (*min_value, *max_value);
                match step {
                    None => numerical_to_prob(x, min, max, *sampling),
                    Some(step) => {
                        let n = self.n_grid().unwrap_or(1);
                        let index = match sampling {
                            Sampling::Linear => {
                                let q = (x - min) / step;
                                let i = (q + 1e-9 * q.abs().max(1.0)).floor();
                                i.clamp(0.0, (n.max(1) - 1) as f64)
                            }
                            Sampling::Log => log_base(x / min, *step),
                            Sampling::ReverseLog => log_base((max - x + min) / min, *step),
                        };
                        index_to_prob(index, n)
                    }
                }
            }
            HpKind::Choice { values, .. } => {
                let i = values
                    .iter()
                    .position(|w| w.py_eq(v))
                    .ok_or_else(|| bad(&format!("one of {}", py_list_repr(values))))?;
                index_to_prob(i as f64, values.len() as u64)
            }
            HpKind::Boolean => match v.as_bool() {
                Some(true) => 0.75,
                Some(false) => 0.25,
                None => return Err(bad("True or False")),
            },
            HpKind::Fixed { .. } => 0.5,
        };
        if p.is_finite() {
            // Rounding can push an in-range value's probability a hair outside [0, 1]
            // (reverse_log at max_value); optimizers search exactly [0, 1].
            Ok(p.clamp(0.0, 1.0))
        } else {
            Err(bad("a value inside the hyperparameter's range"))
        }
    }

    /// KerasTuner's `value_to_prob`. A value this hp cannot take (see
    /// [`HyperParameter::try_value_to_prob`]) maps to the default's probability instead of
    /// raising, so an optimizer fed a stale value still gets a point in [0, 1].
    pub fn value_to_prob(&self, v: &Value) -> f64 {
        self.try_value_to_prob(v)
            .or_else(|_| self.try_value_to_prob(&self.default_value()))
            .unwrap_or(0.5)
    }

    /// KerasTuner's `random_sample`: `prob_to_value` of a uniform draw from [0, 1).
    pub fn random_sample(&self, rng: &mut dyn rand::RngCore) -> Value {
        use rand::Rng;
        let p: f64 = rng.random();
        self.prob_to_value(p)
    }

    /// How many values [`HyperParameter::grid_values`] would list before its cap.
    pub fn grid_len(&self) -> u64 {
        match &self.kind {
            HpKind::Int { step: Some(_), .. } | HpKind::Float { step: Some(_), .. } => {
                self.n_grid().unwrap_or(1)
            }
            HpKind::Int { .. } | HpKind::Float { .. } => self.sampled_values().len() as u64,
            HpKind::Choice { values, .. } => values.len() as u64,
            HpKind::Boolean => 2,
            HpKind::Fixed { .. } => 1,
        }
    }

    /// Ten evenly spread samples at p = 0.05, 0.15, ..., 0.95, in Python's set order.
    fn sampled_values(&self) -> Vec<Value> {
        let samples: Vec<Value> = (0..10)
            .map(|i| self.prob_to_value(f64::from(i) * 0.1 + 0.05))
            .collect();
        py_set_order(&samples)
    }

    /// KerasTuner's `.values`, the list a grid search walks:
    /// - Int/Float with a step: the whole grid, in index order (`Int(2, 32, step=2,
    ///   sampling="log")` is `[2, 4, 8, 16, 32]`; reverse_log starts at `max_value`). As in
    ///   KerasTuner a linear Float grid ends where Python's floor division says: `Float(0, 1,
    ///   step=0.1)` stops at 0.9, `Float(0, 0.5, step=0.1)` at 0.4. An Int log grid lists
    ///   ints (KerasTuner lists the floats 2.0, 4.0, ..., equal to them in Python).
    /// - Int/Float without a step: the distinct values at p = 0.05, 0.15, ..., 0.95, in the
    ///   order CPython's `tuple(set(...))` gives them (KerasTuner builds a set).
    /// - Choice: the values; Boolean: `[True, False]`; Fixed: `[value]`.
    ///
    /// At most [`MAX_GRID_VALUES`] values are listed; [`HyperParameter::grid_len`] tells the
    /// full count.
    pub fn grid_values(&self) -> Vec<Value> {
        match &self.kind {
            HpKind::Int { step: Some(_), .. } | HpKind::Float { step: Some(_), .. } => {
                let n = self.n_grid().unwrap_or(1).min(MAX_GRID_VALUES as u64);
                (0..n).map(|i| self.grid_value(i)).collect()
            }
            HpKind::Int { .. } | HpKind::Float { .. } => self.sampled_values(),
            HpKind::Choice { values, .. } => values.clone(),
            HpKind::Boolean => vec![Value::Bool(true), Value::Bool(false)],
            HpKind::Fixed { value } => vec![value.clone()],
        }
    }

    /// Whether every condition holds for `values` (nested scopes AND together).
    pub fn is_active(&self, values: &Values) -> bool {
        self.conditions.iter().all(|c| c.is_active(values))
    }

    /// KerasTuner's identity: same name and pairwise-equal conditions.
    pub fn same_identity(&self, name: &str, conditions: &[Condition]) -> bool {
        self.name == name
            && self.conditions.len() == conditions.len()
            && self
                .conditions
                .iter()
                .zip(conditions)
                .all(|(a, b)| a.same_as(b))
    }

    /// The `(key, repr)` pairs of KerasTuner's `get_config()` without the name, in its key
    /// order.
    fn config_items(&self) -> Vec<(&'static str, String)> {
        let opt = |v: Option<Value>| v.map_or_else(|| "None".to_string(), |v| v.repr());
        let conditions = format!(
            "[{}]",
            self.conditions
                .iter()
                .map(Condition::repr)
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut items = Vec::new();
        if !matches!(self.kind, HpKind::Fixed { .. }) {
            items.push(("default", opt(self.config_default())));
        }
        items.push(("conditions", conditions));
        match &self.kind {
            HpKind::Int {
                min_value,
                max_value,
                step,
                sampling,
            } => {
                items.push(("min_value", min_value.to_string()));
                items.push(("max_value", max_value.to_string()));
                items.push(("step", opt(step.map(Value::Int))));
                items.push(("sampling", py_str_repr(sampling.as_str())));
            }
            HpKind::Float {
                min_value,
                max_value,
                step,
                sampling,
            } => {
                items.push(("min_value", py_float(*min_value)));
                items.push(("max_value", py_float(*max_value)));
                items.push(("step", opt(step.map(Value::Float))));
                items.push(("sampling", py_str_repr(sampling.as_str())));
            }
            HpKind::Choice { values, ordered } => {
                items.push(("values", py_list_repr(values)));
                items.push(("ordered", Value::Bool(*ordered).repr()));
            }
            HpKind::Boolean => {}
            HpKind::Fixed { value } => items.push(("value", value.repr())),
        }
        items
    }

    /// The config line `search_space_summary` prints (KerasTuner's `get_config()` without
    /// `name`, as a Python dict), e.g. `{'default': None, 'conditions': [], 'min_value': 1,
    /// 'max_value': 3, 'step': 1, 'sampling': 'linear'}`.
    pub fn summary_config(&self) -> String {
        let items: Vec<String> = self
            .config_items()
            .into_iter()
            .map(|(k, v)| format!("'{k}': {v}"))
            .collect();
        format!("{{{}}}", items.join(", "))
    }

    /// KerasTuner's `__repr__`, e.g. `Int(name: 'units', min_value: 32, max_value: 512,
    /// step: 32, sampling: linear, default: 32)`.
    pub fn repr(&self) -> String {
        let name = &self.name;
        match &self.kind {
            HpKind::Int {
                min_value,
                max_value,
                step,
                sampling,
            } => format!(
                "Int(name: '{name}', min_value: {min_value}, max_value: {max_value}, step: {}, \
                 sampling: {sampling}, default: {})",
                step.map_or("None".to_string(), |s| s.to_string()),
                self.default_value()
            ),
            HpKind::Float {
                min_value,
                max_value,
                step,
                sampling,
            } => format!(
                "Float(name: '{name}', min_value: '{}', max_value: '{}', step: '{}', \
                 sampling: '{sampling}', default: '{}')",
                py_float(*min_value),
                py_float(*max_value),
                step.map_or("None".to_string(), py_float),
                self.default_value()
            ),
            HpKind::Choice { values, ordered } => format!(
                "Choice(name: '{name}', values: {}, ordered: {}, default: {})",
                py_list_repr(values),
                Value::Bool(*ordered),
                self.default_value()
            ),
            HpKind::Boolean => {
                format!(
                    "Boolean(name: \"{name}\", default: {})",
                    self.default_value()
                )
            }
            HpKind::Fixed { value } => format!("Fixed(name: {name}, value: {value})"),
        }
    }

    /// KerasTuner's serialized form: `{"class_name": "Int", "config": {"name": ...,
    /// "default": ..., "conditions": [...], "min_value": ..., ...}}`.
    pub fn to_json(&self) -> serde_json::Value {
        let opt = |v: Option<Value>| v.map_or(serde_json::Value::Null, |v| v.to_json());
        let mut config = serde_json::Map::new();
        config.insert("name".into(), json!(self.name));
        if !matches!(self.kind, HpKind::Fixed { .. }) {
            config.insert("default".into(), opt(self.config_default()));
        }
        config.insert(
            "conditions".into(),
            serde_json::Value::Array(self.conditions.iter().map(Condition::to_json).collect()),
        );
        match &self.kind {
            HpKind::Int {
                min_value,
                max_value,
                step,
                sampling,
            } => {
                config.insert("min_value".into(), json!(min_value));
                config.insert("max_value".into(), json!(max_value));
                config.insert("step".into(), json!(step));
                config.insert("sampling".into(), json!(sampling.as_str()));
            }
            HpKind::Float {
                min_value,
                max_value,
                step,
                sampling,
            } => {
                config.insert("min_value".into(), Value::Float(*min_value).to_json());
                config.insert("max_value".into(), Value::Float(*max_value).to_json());
                config.insert("step".into(), opt(step.map(Value::Float)));
                config.insert("sampling".into(), json!(sampling.as_str()));
            }
            HpKind::Choice { values, ordered } => {
                config.insert(
                    "values".into(),
                    serde_json::Value::Array(values.iter().map(Value::to_json).collect()),
                );
                config.insert("ordered".into(), json!(ordered));
            }
            HpKind::Boolean => {}
            HpKind::Fixed { value } => {
                config.insert("value".into(), value.to_json());
            }
        }
        json!({"class_name": self.class_name(), "config": config})
    }

    /// Reads KerasTuner's serialized form (as [`HyperParameter::to_json`] writes it, or as
    /// KerasTuner's `get_config` does), standardizes and validates it. `what` names the
    /// document position in errors (`"space[2]"`).
    pub fn from_json(v: &serde_json::Value, what: &str) -> Result<HyperParameter> {
        let class = v
            .get("class_name")
            .and_then(|c| c.as_str())
            .ok_or_else(|| Error::parse(format!("`{what}.class_name` must be a string")))?;
        let config = v
            .get("config")
            .filter(|c| c.is_object())
            .ok_or_else(|| Error::parse(format!("`{what}.config` must be a JSON object")))?;
        let at = |k: &str| format!("{what}.config.{k}");
        // Absent and null mean the same in KerasTuner's configs.
        let field = |k: &str| config.get(k).filter(|x| !x.is_null());
        let name = field("name")
            .and_then(|n| n.as_str())
            .ok_or_else(|| Error::parse(format!("`{}` must be a string", at("name"))))?
            .to_string();
        let scalar = |k: &str| -> Result<Option<Value>> {
            field(k).map(|x| Value::from_json(x, &at(k))).transpose()
        };
        let number = |k: &str| -> Result<Option<f64>> {
            match scalar(k)? {
                None => Ok(None),
                Some(x) => x.as_f64().map(Some).ok_or_else(|| {
                    Error::parse(format!("`{}` must be a number, got {}", at(k), x.repr()))
                }),
            }
        };
        let required = |k: &str, x: Option<f64>| {
            x.ok_or_else(|| Error::parse(format!("`{}` is missing", at(k))))
        };
        // KerasTuner's `_check_int`: an Int's bounds and step must be integral.
        let integral = |k: &str, x: f64| -> Result<i64> {
            if x.fract() == 0.0 && x.abs() < 9.2e18 {
                Ok(x as i64)
            } else {
                Err(Error::invalid(
                    format!("Int('{name}').{k}"),
                    py_float(x),
                    "an int",
                ))
            }
        };
        let sampling =
            match field("sampling") {
                None => Sampling::Linear,
                Some(s) => Sampling::parse(s.as_str().ok_or_else(|| {
                    Error::parse(format!("`{}` must be a string", at("sampling")))
                })?)?,
            };
        let kind = match class {
            "Int" => HpKind::Int {
                min_value: integral("min_value", required("min_value", number("min_value")?)?)?,
                max_value: integral("max_value", required("max_value", number("max_value")?)?)?,
                step: number("step")?.map(|s| integral("step", s)).transpose()?,
                sampling,
            },
            "Float" => HpKind::Float {
                min_value: required("min_value", number("min_value")?)?,
                max_value: required("max_value", number("max_value")?)?,
                step: number("step")?,
                sampling,
            },
            "Choice" => {
                let values = field("values")
                    .and_then(|x| x.as_array())
                    .ok_or_else(|| Error::parse(format!("`{}` must be a list", at("values"))))?
                    .iter()
                    .enumerate()
                    .map(|(i, x)| Value::from_json(x, &format!("{}[{i}]", at("values"))))
                    .collect::<Result<Vec<_>>>()?;
                let ordered = match field("ordered") {
                    None => None,
                    Some(o) => Some(o.as_bool().ok_or_else(|| {
                        Error::parse(format!("`{}` must be true, false or null", at("ordered")))
                    })?),
                };
                return HyperParameter::choice(name, values, ordered, scalar("default")?)
                    .and_then(|hp| hp.with_conditions(conditions_from_json(config, what)?));
            }
            "Boolean" => HpKind::Boolean,
            "Fixed" => HpKind::Fixed {
                value: scalar("value")?
                    .ok_or_else(|| Error::parse(format!("`{}` is missing", at("value"))))?,
            },
            other => {
                return Err(Error::unknown(
                    "hyperparameter class",
                    other,
                    &["Int", "Float", "Choice", "Boolean", "Fixed"],
                ))
            }
        };
        let default = if matches!(kind, HpKind::Fixed { .. }) {
            None
        } else {
            scalar("default")?
        };
        HyperParameter {
            name,
            kind,
            default,
            conditions: conditions_from_json(config, what)?,
        }
        .normalized()
    }

    /// A `Choice` the way KerasTuner's constructor builds it: standardized values and
    /// default, `ordered` inferred (True for numbers) when `None`, then validated.
    pub fn choice(
        name: impl Into<String>,
        values: Vec<Value>,
        ordered: Option<bool>,
        default: Option<Value>,
    ) -> Result<HyperParameter> {
        // Standardize first (bools become ints), so `ordered` is inferred from what the
        // values became, as in KerasTuner.
        let values = bools_to_ints(values);
        let numeric = matches!(values.first(), Some(Value::Int(_) | Value::Float(_)));
        HyperParameter {
            name: name.into(),
            kind: HpKind::Choice {
                values,
                ordered: ordered.unwrap_or(numeric),
            },
            default,
            conditions: Vec::new(),
        }
        .normalized()
    }

    /// The same hp with `conditions` (validated again).
    pub fn with_conditions(mut self, conditions: Vec<Condition>) -> Result<HyperParameter> {
        self.conditions = conditions;
        self.validate()?;
        Ok(self)
    }
}

/// Reads a config's `conditions` list (absent or null: none).
fn conditions_from_json(config: &serde_json::Value, what: &str) -> Result<Vec<Condition>> {
    match config.get("conditions") {
        None | Some(serde_json::Value::Null) => Ok(Vec::new()),
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, c)| Condition::from_json(c, &format!("{what}.config.conditions[{i}]")))
            .collect(),
        Some(other) => Err(Error::parse(format!(
            "`{what}.config.conditions` must be a list, got {other}"
        ))),
    }
}

/// KerasTuner's `int()` of an all-boolean choice list: `[True, False]` becomes `[1, 0]`
/// (Python's `bool` is an `int`). Any other list is returned as it is.
fn bools_to_ints(values: Vec<Value>) -> Vec<Value> {
    if values.is_empty() || !values.iter().all(|v| matches!(v, Value::Bool(_))) {
        return values;
    }
    values
        .into_iter()
        .map(|v| match v {
            Value::Bool(b) => Value::Int(i64::from(b)),
            other => other,
        })
        .collect()
}

impl fmt::Display for HyperParameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.repr())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(min: i64, max: i64, step: Option<i64>, sampling: Sampling) -> HyperParameter {
        HyperParameter::new(
            "x",
            HpKind::Int {
                min_value: min,
                max_value: max,
                step,
                sampling,
            },
        )
        .normalized()
        .unwrap()
    }

    fn float(min: f64, max: f64, step: Option<f64>, sampling: Sampling) -> HyperParameter {
        HyperParameter::new(
            "x",
            HpKind::Float {
                min_value: min,
                max_value: max,
                step,
                sampling,
            },
        )
        .normalized()
        .unwrap()
    }

    fn ints(v: &[i64]) -> Vec<Value> {
        v.iter().map(|&i| Value::Int(i)).collect()
    }

    fn floats(v: &[f64]) -> Vec<Value> {
        v.iter().map(|&f| Value::Float(f)).collect()
    }

    fn err_text(hp: HyperParameter) -> String {
        hp.normalized().unwrap_err().to_string()
    }

    #[test]
    fn index_helpers() {
        assert_eq!(prob_to_index(0.0, 5), 0);
        assert_eq!(prob_to_index(0.2, 5), 1);
        assert_eq!(prob_to_index(0.999_999, 5), 4);
        assert_eq!(prob_to_index(1.0, 5), 4);
        assert_eq!(prob_to_index(1.5, 5), 4);
        assert_eq!(prob_to_index(-0.1, 5), 0);
        assert_eq!(prob_to_index(f64::NAN, 5), 0);
        assert_eq!(index_to_prob(0.0, 4), 0.125);
        assert_eq!(index_to_prob(3.0, 4), 0.875);
    }

    #[test]
    fn python_floor_division() {
        assert_eq!(py_floordiv(1.0, 0.2), 4.0);
        assert_eq!(py_floordiv(0.5, 0.1), 4.0);
        assert_eq!(py_floordiv(1.0, 0.25), 4.0);
        assert_eq!(py_floordiv(-1.0, 0.3), -4.0);
        assert_eq!(py_floordiv(1.0, -0.3), -4.0);
        assert_eq!(py_floordiv(7.0, 2.0), 3.0);
        assert_eq!(py_floordiv(0.0, 2.0), 0.0);
    }

    #[test]
    fn int_log_step_is_a_multiplier() {
        let hp = int(2, 32, Some(2), Sampling::Log);
        assert_eq!(hp.grid_values(), ints(&[2, 4, 8, 16, 32]));
        assert_eq!(hp.grid_len(), 5);
        assert_eq!(hp.prob_to_value(0.0), Value::Int(2));
        assert_eq!(hp.prob_to_value(0.5), Value::Int(8));
        assert_eq!(hp.prob_to_value(0.99), Value::Int(32));
        assert_eq!(hp.value_to_prob(&Value::Int(2)), 0.1);
        assert_eq!(hp.value_to_prob(&Value::Int(8)), 0.5);
        assert!((hp.value_to_prob(&Value::Int(32)) - 0.9).abs() < 1e-12);
    }

    #[test]
    fn int_reverse_log_grid_starts_at_max() {
        let hp = int(2, 32, Some(2), Sampling::ReverseLog);
        assert_eq!(hp.grid_values(), ints(&[32, 30, 26, 18, 2]));
        assert_eq!(hp.prob_to_value(0.0), Value::Int(32));
        assert_eq!(hp.prob_to_value(0.95), Value::Int(2));
        assert_eq!(hp.value_to_prob(&Value::Int(26)), 0.5);
        assert!((hp.value_to_prob(&Value::Int(2)) - 0.9).abs() < 1e-12);
    }

    #[test]
    fn int_linear_grids() {
        let hp = int(6, 13, Some(3), Sampling::Linear);
        assert_eq!(hp.grid_values(), ints(&[6, 9, 12]));
        assert_eq!(hp.prob_to_value(0.999), Value::Int(12));
        let hp = int(1, 3, None, Sampling::Linear);
        // A linear Int without a step gets step 1, as in KerasTuner.
        assert!(matches!(hp.kind, HpKind::Int { step: Some(1), .. }));
        assert_eq!(hp.grid_values(), ints(&[1, 2, 3]));
        assert_eq!(hp.value_to_prob(&Value::Int(2)), 0.5);
        assert_eq!(hp.value_to_prob(&Value::Int(1)), 0.5 / 3.0);
        let hp = int(-5, 5, Some(2), Sampling::Linear);
        assert_eq!(hp.grid_values(), ints(&[-5, -3, -1, 1, 3, 5]));
        // Off-grid values floor into their bucket (Python's integer floor division).
        assert_eq!(hp.value_to_prob(&Value::Int(-4)), index_to_prob(0.0, 6));
    }

    #[test]
    fn int_without_step_reaches_max_value() {
        let hp = int(1, 10, None, Sampling::Log);
        assert_eq!(hp.prob_to_value(0.0), Value::Int(1));
        assert_eq!(hp.prob_to_value(0.999_999), Value::Int(10));
        // p a hair below 1 would round up to max_value + 1 in KerasTuner; clamped here.
        assert_eq!(hp.prob_to_value(1.0 - f64::EPSILON / 2.0), Value::Int(10));
        assert_eq!(hp.prob_to_value(1.0), Value::Int(10));
        // value + 0.5 over [min, max + 1]: log(1.5) / log(11).
        let p = hp.value_to_prob(&Value::Int(1));
        assert!((p - 1.5f64.ln() / 11f64.ln()).abs() < 1e-15);
        assert_eq!(hp.prob_to_value(p), Value::Int(1));
        let hp = int(1, 100, None, Sampling::ReverseLog);
        assert_eq!(hp.prob_to_value(0.0), Value::Int(1));
        assert_eq!(hp.prob_to_value(0.999_999), Value::Int(100));
        // Reverse log crowds the samples near max_value.
        assert!(hp.prob_to_value(0.5).as_i64().unwrap() > 50);
    }

    #[test]
    fn unstepped_grids_use_python_set_order() {
        // tuple({...}) of KerasTuner 1.4.7's Int(1, 100, sampling='log').values.
        let hp = int(1, 100, None, Sampling::Log);
        assert_eq!(hp.grid_values(), ints(&[1, 3, 5, 7, 12, 80, 50, 20, 31]));
        assert_eq!(hp.grid_len(), 9);
    }

    #[test]
    fn float_continuous_sampling() {
        let hp = float(0.0, 1.0, None, Sampling::Linear);
        assert_eq!(hp.prob_to_value(0.25), Value::Float(0.25));
        assert_eq!(hp.value_to_prob(&Value::Float(0.75)), 0.75);
        let hp = float(1e-4, 1e-2, None, Sampling::Log);
        assert_eq!(hp.prob_to_value(0.0), Value::Float(1e-4));
        let mid = hp.prob_to_value(0.5).as_f64().unwrap();
        assert!((mid - 1e-3).abs() < 1e-15);
        assert!((hp.value_to_prob(&Value::Float(1e-3)) - 0.5).abs() < 1e-12);
        let hp = float(1e-4, 1e-2, None, Sampling::ReverseLog);
        // max + min - min * (max/min)^(1-p): p = 0 gives min, p near 1 gives max.
        assert!((hp.prob_to_value(0.0).as_f64().unwrap() - 1e-4).abs() < 1e-18);
        let hi = hp.prob_to_value(0.999_999).as_f64().unwrap();
        assert!(hi <= 1e-2 && hi > 0.0099);
        let p = hp.value_to_prob(&Value::Float(5e-3));
        assert!((hp.prob_to_value(p).as_f64().unwrap() - 5e-3).abs() < 1e-15);
        // A degenerate range centres its probability.
        let hp = float(5.0, 5.0, None, Sampling::Linear);
        assert_eq!(hp.value_to_prob(&Value::Float(5.0)), 0.5);
        assert_eq!(hp.prob_to_value(0.3), Value::Float(5.0));
    }

    #[test]
    fn float_grids_follow_python_floor_division() {
        // KerasTuner lists [0.0, 0.2, 0.4, 0.6000000000000001, 0.8]: 1.0 // 0.2 == 4.0.
        let hp = float(0.0, 1.0, Some(0.2), Sampling::Linear);
        assert_eq!(
            hp.grid_values(),
            floats(&[0.0, 0.2, 0.4, 0.6000000000000001, 0.8])
        );
        let hp = float(0.0, 0.5, Some(0.1), Sampling::Linear);
        assert_eq!(
            hp.grid_values(),
            floats(&[0.0, 0.1, 0.2, 0.30000000000000004, 0.4])
        );
        let hp = float(-1.0, 1.0, Some(0.25), Sampling::Linear);
        assert_eq!(hp.grid_len(), 9);
        let hp = float(0.001, 10.0, Some(10.0), Sampling::Log);
        let grid: Vec<f64> = hp.grid_values().iter().filter_map(Value::as_f64).collect();
        assert_eq!(grid.len(), 5);
        for (g, want) in grid.iter().zip([0.001, 0.01, 0.1, 1.0, 10.0]) {
            assert!((g - want).abs() <= want * 1e-15, "{g} vs {want}");
        }
    }

    #[test]
    fn float_grid_values_map_back_to_their_own_bucket() {
        // KerasTuner sends 0.5 on this grid to 0.4's bucket; tunelab does not.
        let hp = float(0.0, 1.0, Some(0.1), Sampling::Linear);
        for v in hp.grid_values() {
            assert_eq!(hp.prob_to_value(hp.value_to_prob(&v)), v);
        }
        // Off-grid values still floor.
        assert_eq!(
            hp.value_to_prob(&Value::Float(0.55)),
            index_to_prob(5.0, 10)
        );
        // max_value is outside this KerasTuner grid; it maps to the last bucket.
        assert_eq!(hp.value_to_prob(&Value::Float(1.0)), index_to_prob(9.0, 10));
    }

    #[test]
    fn log_grid_overshoot_is_clamped() {
        // log2(4294967295) + 1e-8 rounds up to 32, so KerasTuner's last value is 2**32,
        // one above max_value; tunelab pulls it back to max_value.
        let hp = int(1, 4_294_967_295, Some(2), Sampling::Log);
        assert_eq!(hp.grid_len(), 33);
        assert_eq!(hp.grid_values().last(), Some(&Value::Int(4_294_967_295)));
        assert_eq!(hp.prob_to_value(0.999), Value::Int(4_294_967_295));
    }

    #[test]
    fn choice_boolean_fixed_mapping() {
        let hp =
            HyperParameter::choice("a", vec!["relu".into(), "tanh".into()], None, None).unwrap();
        assert_eq!(hp.prob_to_value(0.49), Value::from("relu"));
        assert_eq!(hp.prob_to_value(0.5), Value::from("tanh"));
        assert_eq!(hp.value_to_prob(&"tanh".into()), 0.75);
        assert_eq!(hp.default_value(), Value::from("relu"));
        assert!(hp.try_value_to_prob(&"gelu".into()).is_err());
        // A value outside the choices maps to the default's probability.
        assert_eq!(hp.value_to_prob(&"gelu".into()), 0.25);
        assert_eq!(hp.grid_values(), vec![Value::from("relu"), "tanh".into()]);

        let b = HyperParameter::new("b", HpKind::Boolean);
        assert_eq!(b.prob_to_value(0.49), Value::Bool(false));
        assert_eq!(b.prob_to_value(0.5), Value::Bool(true));
        assert_eq!(b.value_to_prob(&Value::Bool(true)), 0.75);
        assert_eq!(b.value_to_prob(&Value::Bool(false)), 0.25);
        assert_eq!(b.grid_values(), vec![Value::Bool(true), Value::Bool(false)]);
        assert_eq!(b.default_value(), Value::Bool(false));

        let f = HyperParameter::new(
            "f",
            HpKind::Fixed {
                value: "adam".into(),
            },
        );
        assert_eq!(f.prob_to_value(0.9), Value::from("adam"));
        assert_eq!(f.value_to_prob(&"adam".into()), 0.5);
        assert_eq!(f.grid_values(), vec![Value::from("adam")]);
        assert_eq!(f.grid_len(), 1);
    }

    #[test]
    fn choice_ordering_and_standardization() {
        let hp = HyperParameter::choice("lr", floats(&[0.1, 0.01]), None, None).unwrap();
        assert!(matches!(hp.kind, HpKind::Choice { ordered: true, .. }));
        let hp = HyperParameter::choice("n", ints(&[1, 2]), Some(false), None).unwrap();
        assert!(matches!(hp.kind, HpKind::Choice { ordered: false, .. }));
        let hp = HyperParameter::choice("s", vec!["a".into()], None, None).unwrap();
        assert!(matches!(hp.kind, HpKind::Choice { ordered: false, .. }));
        // KerasTuner turns a choice of booleans into the ints 1 and 0 (ordered).
        let hp = HyperParameter::choice(
            "b",
            vec![true.into(), false.into()],
            None,
            Some(false.into()),
        )
        .unwrap();
        assert_eq!(
            hp.kind,
            HpKind::Choice {
                values: ints(&[1, 0]),
                ordered: true
            }
        );
        assert_eq!(hp.default_value(), Value::Int(0));
        // str() of the default for string choices, int() for integer choices.
        let hp = HyperParameter::choice("s", vec!["3".into()], None, Some(3.into())).unwrap();
        assert_eq!(hp.default_value(), Value::from("3"));
        let hp = HyperParameter::choice("n", ints(&[1, 2]), None, Some(2.0.into())).unwrap();
        assert_eq!(hp.default_value(), Value::Int(2));
        // Python's == makes 1 a member of [1.0, 2.0].
        let hp = HyperParameter::choice("f", floats(&[1.0, 2.0]), None, Some(1.into())).unwrap();
        assert_eq!(hp.value_to_prob(&Value::Int(2)), 0.75);
    }

    #[test]
    fn numeric_validation_errors() {
        let e = err_text(HyperParameter::new(
            "units",
            HpKind::Int {
                min_value: 5,
                max_value: 3,
                step: None,
                sampling: Sampling::Linear,
            },
        ));
        assert_eq!(
            e,
            "invalid value for `Int('units').min_value`: 5 (allowed: at most max_value (3))"
        );
        let e = err_text(HyperParameter::new(
            "lr",
            HpKind::Float {
                min_value: 0.0,
                max_value: 1.0,
                step: None,
                sampling: Sampling::Log,
            },
        ));
        assert_eq!(
            e,
            "invalid value for `Float('lr').min_value`: 0.0 (allowed: a min_value > 0 with \
             sampling='log')"
        );
        let e = err_text(HyperParameter::new(
            "n",
            HpKind::Int {
                min_value: -1,
                max_value: 10,
                step: None,
                sampling: Sampling::ReverseLog,
            },
        ));
        assert!(
            e.contains("`Int('n').min_value`: -1") && e.contains("reverse_log"),
            "{e}"
        );
        let e = err_text(HyperParameter::new(
            "n",
            HpKind::Int {
                min_value: 1,
                max_value: 10,
                step: Some(1),
                sampling: Sampling::Log,
            },
        ));
        assert_eq!(
            e,
            "invalid value for `Int('n').step`: 1 (allowed: a step > 1 with sampling='log' \
             (the step multiplies), or None)"
        );
        let e = err_text(HyperParameter::new(
            "f",
            HpKind::Float {
                min_value: 0.1,
                max_value: 1.0,
                step: Some(0.5),
                sampling: Sampling::ReverseLog,
            },
        ));
        assert!(e.contains("`Float('f').step`: 0.5"), "{e}");
        let e = err_text(HyperParameter::new(
            "f",
            HpKind::Float {
                min_value: 0.0,
                max_value: 1.0,
                step: Some(0.0),
                sampling: Sampling::Linear,
            },
        ));
        assert_eq!(
            e,
            "invalid value for `Float('f').step`: 0.0 (allowed: a step > 0, or None)"
        );
        let e = err_text(HyperParameter::new(
            "f",
            HpKind::Int {
                min_value: 0,
                max_value: 10,
                step: Some(-2),
                sampling: Sampling::Linear,
            },
        ));
        assert!(e.contains("`Int('f').step`: -2"), "{e}");
        let e = err_text(HyperParameter::new(
            "f",
            HpKind::Float {
                min_value: f64::NAN,
                max_value: 1.0,
                step: None,
                sampling: Sampling::Linear,
            },
        ));
        assert_eq!(
            e,
            "invalid value for `Float('f').min_value`: nan (allowed: a finite number)"
        );
        let e = err_text(HyperParameter::new(
            "f",
            HpKind::Float {
                min_value: -1e308,
                max_value: 1e308,
                step: None,
                sampling: Sampling::Linear,
            },
        ));
        assert!(e.contains("`Float('f').max_value`"), "{e}");
        let e = err_text(HyperParameter::new(
            "f",
            HpKind::Float {
                min_value: 2.0,
                max_value: 1.0,
                step: None,
                sampling: Sampling::Linear,
            },
        ));
        assert_eq!(
            e,
            "invalid value for `Float('f').min_value`: 2.0 (allowed: at most max_value (1.0))"
        );
    }

    #[test]
    fn default_validation_errors() {
        let mut hp = HyperParameter::new(
            "units",
            HpKind::Int {
                min_value: 32,
                max_value: 512,
                step: Some(32),
                sampling: Sampling::Linear,
            },
        );
        hp.default = Some(Value::Int(1024));
        assert_eq!(
            err_text(hp.clone()),
            "invalid value for `Int('units').default`: 1024 (allowed: an int in [32, 512], or \
             None)"
        );
        hp.default = Some(Value::Float(64.5));
        assert!(err_text(hp.clone()).contains("`Int('units').default`: 64.5"));
        hp.default = Some(Value::Float(64.0));
        assert_eq!(hp.normalized().unwrap().default, Some(Value::Int(64)));

        let mut hp = HyperParameter::new(
            "lr",
            HpKind::Float {
                min_value: 1e-4,
                max_value: 1e-2,
                step: None,
                sampling: Sampling::Log,
            },
        );
        hp.default = Some(Value::Float(0.1));
        assert_eq!(
            err_text(hp.clone()),
            "invalid value for `Float('lr').default`: 0.1 (allowed: a float in [0.0001, 0.01], \
             or None)"
        );
        hp.default = Some(Value::from("x"));
        assert!(err_text(hp).contains("`Float('lr').default`: 'x'"));

        let mut b = HyperParameter::new("dropout", HpKind::Boolean);
        b.default = Some(Value::from("yes"));
        assert_eq!(
            err_text(b.clone()),
            "invalid value for `Boolean('dropout').default`: 'yes' (allowed: a Python boolean \
             (True or False))"
        );
        b.default = Some(Value::Int(1));
        assert_eq!(b.normalized().unwrap().default, Some(Value::Bool(true)));

        let f = HyperParameter::new(
            "f",
            HpKind::Fixed {
                value: Value::Float(f64::INFINITY),
            },
        );
        assert!(err_text(f).contains("`Fixed('f').value`: inf"));
    }

    #[test]
    fn choice_validation_errors() {
        let e = HyperParameter::choice("act", vec![], None, None)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "invalid value for `Choice('act').values`: [] (allowed: a non-empty list (`values` \
             must be provided for `Choice`))"
        );
        let e = HyperParameter::choice("m", vec![0.1.into(), 1.into()], None, None)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "invalid value for `Choice('m').values`: [0.1, 1] (allowed: values of one type only \
             (int, float, str or bool); found types float, int)"
        );
        let e = HyperParameter::choice("m", vec!["a".into(), true.into()], None, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("['a', True]"), "{e}");
        let e = HyperParameter::choice("act", vec!["relu".into()], Some(true), None)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "invalid value for `Choice('act').ordered`: True (allowed: False for non-numeric \
             values (`ordered` must be `False` for non-numeric types))"
        );
        let e = HyperParameter::choice(
            "act",
            vec!["relu".into(), "tanh".into()],
            None,
            Some("gelu".into()),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "invalid value for `Choice('act').default`: 'gelu' (allowed: one of the choices \
             ['relu', 'tanh'], or None)"
        );
        let e = HyperParameter::choice("x", vec![f64::NAN.into()], None, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("finite numbers"), "{e}");
    }

    #[test]
    fn condition_rules() {
        assert!(Condition::new("a", vec![]).is_err());
        let c = Condition::new("model", vec!["cnn".into()]).unwrap();
        let mut values = Values::new();
        assert!(!c.is_active(&values));
        values.set("model", "mlp".into());
        assert!(!c.is_active(&values));
        values.set("model", "cnn".into());
        assert!(c.is_active(&values));
        assert_eq!(
            c.repr(),
            "{'class_name': 'Parent', 'config': {'name': 'model', 'values': ['cnn']}}"
        );
        let back = Condition::from_json(&c.to_json(), "c").unwrap();
        assert_eq!(back, c);
        assert!(Condition::from_json(&json!({"class_name": "Other"}), "c").is_err());
        assert!(Condition::from_json(&json!({"class_name": "Parent"}), "c").is_err());
        // Python's ==: a parent value 1 is met by True and by 1.0.
        let c = Condition::new("n", vec![1.into()]).unwrap();
        values.set("n", Value::Float(1.0));
        assert!(c.is_active(&values));
        assert!(c.same_as(&Condition::new("n", vec![Value::Float(1.0)]).unwrap()));
        // An hp may not be conditioned on itself.
        let hp = HyperParameter::new("n", HpKind::Boolean)
            .with_conditions(vec![c])
            .unwrap_err()
            .to_string();
        assert!(
            hp.contains("cannot have the same name as its parent"),
            "{hp}"
        );
    }

    #[test]
    fn sampling_names() {
        assert_eq!(Sampling::parse("LOG").unwrap(), Sampling::Log);
        assert_eq!(
            Sampling::parse("Reverse_Log").unwrap(),
            Sampling::ReverseLog
        );
        assert_eq!(Sampling::parse("linear").unwrap(), Sampling::Linear);
        assert_eq!(
            Sampling::parse("exp").unwrap_err().to_string(),
            "unknown sampling `exp`; valid sampling names are: linear, log, reverse_log"
        );
        assert_eq!(Sampling::ReverseLog.to_string(), "reverse_log");
        let s: Sampling = serde_json::from_str("\"LOG\"").unwrap();
        assert_eq!(s, Sampling::Log);
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"log\"");
        assert!(serde_json::from_str::<Sampling>("\"exp\"").is_err());
    }

    #[test]
    fn summary_configs_and_reprs() {
        let hp = int(1, 3, None, Sampling::Linear);
        assert_eq!(
            hp.summary_config(),
            "{'default': None, 'conditions': [], 'min_value': 1, 'max_value': 3, 'step': 1, \
             'sampling': 'linear'}"
        );
        assert_eq!(
            hp.repr(),
            "Int(name: 'x', min_value: 1, max_value: 3, step: 1, sampling: linear, default: 1)"
        );
        let hp = float(0.0, 1.0, Some(0.2), Sampling::Linear);
        assert_eq!(
            hp.summary_config(),
            "{'default': 0.0, 'conditions': [], 'min_value': 0.0, 'max_value': 1.0, 'step': \
             0.2, 'sampling': 'linear'}"
        );
        assert!(hp.repr().starts_with("Float(name: 'x', min_value: '0.0'"));
        let mut f = HyperParameter::new(
            "opt",
            HpKind::Fixed {
                value: "adam".into(),
            },
        );
        f.conditions = vec![Condition::new("m", vec![1.into(), 2.into()]).unwrap()];
        assert_eq!(
            f.summary_config(),
            "{'conditions': [{'class_name': 'Parent', 'config': {'name': 'm', 'values': [1, \
             2]}}], 'value': 'adam'}"
        );
        assert_eq!(f.repr(), "Fixed(name: opt, value: adam)");
        assert_eq!(f.to_string(), f.repr());
        let b = HyperParameter::new("dropout", HpKind::Boolean);
        assert_eq!(b.summary_config(), "{'default': False, 'conditions': []}");
        assert_eq!(b.repr(), "Boolean(name: \"dropout\", default: False)");
        let c = HyperParameter::choice("a", vec!["relu".into()], None, None).unwrap();
        assert_eq!(
            c.repr(),
            "Choice(name: 'a', values: ['relu'], ordered: False, default: relu)"
        );
    }

    #[test]
    fn json_round_trip_and_errors() {
        let mut hps = vec![
            int(2, 32, Some(2), Sampling::Log),
            float(1e-4, 1e-2, None, Sampling::ReverseLog),
            HyperParameter::choice("c", floats(&[0.5, 0.25]), Some(false), Some(0.25.into()))
                .unwrap(),
            HyperParameter::new("b", HpKind::Boolean),
            HyperParameter::new("f", HpKind::Fixed { value: 3.into() }),
        ];
        hps[0].conditions = vec![Condition::new("b", vec![true.into()]).unwrap()];
        for hp in hps {
            let j = hp.to_json();
            let back = HyperParameter::from_json(&j, "hp").unwrap();
            // Float and Choice store their effective default, as KerasTuner's configs do.
            assert_eq!(back.default_value(), hp.default_value());
            assert_eq!(back.kind, hp.kind);
            assert_eq!(back.conditions, hp.conditions);
            assert_eq!(back.summary_config(), hp.summary_config());
        }
        let e = HyperParameter::from_json(
            &json!({"class_name": "Int", "config": {"name": "u", "min_value": 1.5, "max_value": 3}}),
            "space[0]",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "invalid value for `Int('u').min_value`: 1.5 (allowed: an int)"
        );
        let e = HyperParameter::from_json(
            &json!({"class_name": "Int", "config": {"name": "u", "max_value": 3}}),
            "space[0]",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(e, "parse error: `space[0].config.min_value` is missing");
        let e = HyperParameter::from_json(
            &json!({"class_name": "Range", "config": {"name": "u"}}),
            "space[0]",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("unknown hyperparameter class `Range`"), "{e}");
        let e = HyperParameter::from_json(
            &json!({"class_name": "Float", "config": {"name": "u", "min_value": "a", "max_value": 1}}),
            "space[3]",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("`space[3].config.min_value` must be a number"),
            "{e}"
        );
        let e = HyperParameter::from_json(
            &json!({"class_name": "Float", "config": {"name": "u", "min_value": 0, "max_value": 1, "sampling": "exp"}}),
            "s",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("unknown sampling `exp`"), "{e}");
        assert!(HyperParameter::from_json(&json!({"class_name": "Int"}), "s").is_err());
        assert!(HyperParameter::from_json(&json!({"config": {}}), "s").is_err());
        // KerasTuner's own config (step null, sampling null) reads back.
        let kt = json!({"class_name": "Int", "config": {"name": "n", "default": null,
            "conditions": [], "min_value": 1, "max_value": 3, "step": null, "sampling": null}});
        let hp = HyperParameter::from_json(&kt, "s").unwrap();
        assert!(matches!(hp.kind, HpKind::Int { step: Some(1), .. }));
    }

    #[test]
    fn random_sample_stays_in_range() {
        use rand::SeedableRng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let hp = int(32, 512, Some(32), Sampling::Linear);
        for _ in 0..200 {
            let v = hp.random_sample(&mut rng).as_i64().unwrap();
            assert!((32..=512).contains(&v) && v % 32 == 0);
        }
    }

    /// Asserts `prob_to_value(value_to_prob(v)) == v` and that `v` is a legal value.
    fn check_round_trip(hp: &HyperParameter, p: f64) {
        let v = hp.prob_to_value(p);
        let q = hp.value_to_prob(&v);
        assert!(
            (0.0..=1.0).contains(&q),
            "{}: p {p} -> {v:?} -> {q}",
            hp.repr()
        );
        let back = hp.prob_to_value(q);
        match (&hp.kind, &v) {
            (
                HpKind::Float {
                    min_value,
                    max_value,
                    step: None,
                    ..
                },
                Value::Float(x),
            ) => {
                assert!(*min_value <= *x && x <= max_value, "{} gave {x}", hp.repr());
                let y = back.as_f64().unwrap();
                assert!(
                    (x - y).abs() <= 1e-9 * x.abs().max(1e-300),
                    "{}: {x} -> {q} -> {y}",
                    hp.repr()
                );
            }
            (
                HpKind::Int {
                    min_value,
                    max_value,
                    ..
                },
                Value::Int(x),
            ) => {
                assert!(*min_value <= *x && x <= max_value, "{} gave {x}", hp.repr());
                assert_eq!(back, v, "{}: p {p} -> {v:?} -> {q}", hp.repr());
            }
            _ => assert_eq!(back, v, "{}: p {p} -> {v:?} -> {q}", hp.repr()),
        }
        match &hp.kind {
            HpKind::Int { step: Some(_), .. } | HpKind::Float { step: Some(_), .. } => {
                assert!(
                    hp.grid_values().contains(&v),
                    "{}: {v:?} off grid",
                    hp.repr()
                );
            }
            HpKind::Choice { values, .. } => assert!(values.contains(&v)),
            _ => {}
        }
    }

    #[test]
    fn property_prob_value_round_trips() {
        use rand::{Rng, SeedableRng};
        let hps = vec![
            int(2, 32, Some(2), Sampling::Log),
            int(2, 32, Some(2), Sampling::ReverseLog),
            int(3, 1000, Some(3), Sampling::Log),
            int(6, 13, Some(3), Sampling::Linear),
            int(-50, 50, None, Sampling::Linear),
            int(1, 100, None, Sampling::Log),
            int(1, 100, None, Sampling::ReverseLog),
            int(7, 7, None, Sampling::Log),
            int(1, 4_294_967_295, Some(2), Sampling::Log),
            float(0.0, 1.0, None, Sampling::Linear),
            float(-3.0, 7.5, None, Sampling::Linear),
            float(1e-5, 1e-1, None, Sampling::Log),
            float(1e-5, 1e-1, None, Sampling::ReverseLog),
            float(0.0, 1.0, Some(0.1), Sampling::Linear),
            float(0.05, 0.95, Some(0.05), Sampling::Linear),
            float(0.3, 7.7, Some(0.3), Sampling::Linear),
            float(1e-4, 1e-2, Some(1e-3), Sampling::Linear),
            float(0.001, 10.0, Some(10.0), Sampling::Log),
            float(0.001, 1.0, Some(3.0), Sampling::ReverseLog),
            float(2.5, 2.5, Some(0.5), Sampling::Linear),
            HyperParameter::choice("c", vec!["a".into(), "b".into(), "c".into()], None, None)
                .unwrap(),
            HyperParameter::choice("c", floats(&[0.1, 0.01, 0.001]), None, None).unwrap(),
            HyperParameter::new("b", HpKind::Boolean),
            HyperParameter::new("f", HpKind::Fixed { value: 3.into() }),
        ];
        let mut rng = rand::rngs::StdRng::seed_from_u64(42);
        for hp in &hps {
            for _ in 0..1000 {
                let p: f64 = rng.random();
                check_round_trip(hp, p);
            }
            for p in [0.0, 0.5, 1.0 - f64::EPSILON / 2.0] {
                check_round_trip(hp, p);
            }
            if !matches!(hp.kind, HpKind::Float { step: None, .. }) {
                for v in hp.grid_values() {
                    assert_eq!(hp.prob_to_value(hp.value_to_prob(&v)), v, "{}", hp.repr());
                }
            }
        }
    }
}
