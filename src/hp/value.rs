//! Hyperparameter values as KerasTuner sees them: Python's `bool`, `int`, `float` and `str`,
//! printed the way Python prints them, compared the way Python compares them, and kept in an
//! insertion-ordered map like a Python `dict`.
//!
//! Python's printing rules matter because KerasTuner's summaries (`search_space_summary`,
//! trial summaries) are Python `repr`/`str` output, and tunelab reproduces them to the byte.

use crate::error::{Error, Result};
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// One hyperparameter value: Python's `bool`, `int`, `float` or `str`.
///
/// Serialized as the bare JSON scalar (`true`, `32`, `0.001`, `"relu"`); a JSON number with a
/// fraction or an exponent reads back as [`Value::Float`], one without as [`Value::Int`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// Python `bool`.
    Bool(bool),
    /// Python `int` (tunelab keeps it to 64 bits).
    Int(i64),
    /// Python `float`.
    Float(f64),
    /// Python `str`.
    Str(String),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(i64::from(v))
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(v.to_string())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(v)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl Value {
    /// The number as `f64`: an `Int` or a `Float`; `None` for a `bool` or a string.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The number as `i64`: an `Int`, or a `Float` with no fractional part (JSON documents
    /// written by other tools may spell `32` as `32.0`).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Some(*f as i64),
            _ => None,
        }
    }

    /// The truth value: a `Bool`, or the `Int` 0 or 1 (KerasTuner turns a `Choice` of
    /// booleans into the ints 1 and 0, because Python's `bool` is a subclass of `int`).
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Int(0) => Some(false),
            Value::Int(1) => Some(true),
            _ => None,
        }
    }

    /// The string, for a `Str`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Python's `repr()`: `'relu'`, `True`, `32`, `0.0001`, `1e-05`.
    pub fn repr(&self) -> String {
        match self {
            Value::Bool(true) => "True".to_string(),
            Value::Bool(false) => "False".to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => py_float(*f),
            Value::Str(s) => py_str_repr(s),
        }
    }

    /// The Python type name, for error messages (`int`, `float`, `str`, `bool`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
        }
    }

    /// Python's `==`: `1 == 1.0 == True` are all equal, strings equal only strings.
    ///
    /// KerasTuner tests conditions (`values[name] in parent_values`) and choice membership
    /// with Python's `==`, so tunelab does too; the derived `PartialEq` stays structural
    /// (`Int(1) != Float(1.0)`), which is what duplicate detection wants.
    pub fn py_eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Str(_), _) | (_, Value::Str(_)) => false,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (a, b) => match (a.numeric(), b.numeric()) {
                (Some(x), Some(y)) => x == y,
                _ => false,
            },
        }
    }

    /// The value as a Python number would compare (`True` is 1).
    fn numeric(&self) -> Option<f64> {
        match self {
            Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Str(_) => None,
        }
    }

    /// The scalar as a JSON value (a non-finite float, which JSON cannot hold, becomes null).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Value::Str(s) => serde_json::Value::String(s.clone()),
        }
    }

    /// Reads a JSON scalar; `what` names the field in the error for anything else.
    pub fn from_json(v: &serde_json::Value, what: &str) -> Result<Value> {
        match v {
            serde_json::Value::Bool(b) => Ok(Value::Bool(*b)),
            serde_json::Value::String(s) => Ok(Value::Str(s.clone())),
            serde_json::Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Ok(Value::Int(i))
                } else if n.is_u64() {
                    Err(Error::parse(format!(
                        "`{what}`: {n} does not fit in a 64-bit integer"
                    )))
                } else {
                    n.as_f64().map(Value::Float).ok_or_else(|| {
                        Error::parse(format!("`{what}`: {n} is not a usable number"))
                    })
                }
            }
            other => Err(Error::parse(format!(
                "`{what}` must be a bool, a number or a string, got {other}"
            ))),
        }
    }
}

/// Python's `str()`: like [`Value::repr`] but a string prints without quotes.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => f.write_str(s),
            other => f.write_str(&other.repr()),
        }
    }
}

/// Python's `repr()` of a `float`: the shortest digits that read back to the same number,
/// in positional notation when the decimal exponent is in [-4, 16), otherwise as
/// `d.ddde±XX` with at least two exponent digits; always with a `.0` when integral
/// (`1.0`, `0.0001`, `1e-05`, `1e+16`, `inf`, `nan`).
pub fn py_float(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let sign = if x.is_sign_negative() { "-" } else { "" };
    // Rust's `{:e}` prints the shortest round-trip digits, the same digits Python's repr
    // picks; only the layout around them differs.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let exp: i32 = exp.parse().unwrap_or(0);
    // Python's `decpt`: the position of the decimal point relative to the digit string.
    let decpt = exp + 1;
    let n = digits.len() as i32;
    let body = if decpt <= -4 || decpt > 16 {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let e = decpt - 1;
        let esign = if e < 0 { '-' } else { '+' };
        format!("{first}{frac}e{esign}{:02}", e.abs())
    } else if decpt <= 0 {
        format!("0.{}{digits}", "0".repeat((-decpt) as usize))
    } else if decpt >= n {
        format!("{digits}{}.0", "0".repeat((decpt - n) as usize))
    } else {
        let (int_part, frac) = digits.split_at(decpt as usize);
        format!("{int_part}.{frac}")
    };
    format!("{sign}{body}")
}

/// Python's `repr()` of a `str`: single quotes unless the text holds a single quote and no
/// double quote; backslashes, the chosen quote and control characters escaped.
pub fn py_str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || (0x7f..0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `repr()` of a list of values: `['relu', 'tanh']`, `[1, 2]`, `[]`.
pub fn py_list_repr(values: &[Value]) -> String {
    let items: Vec<String> = values.iter().map(Value::repr).collect();
    format!("[{}]", items.join(", "))
}

// --- Python's set order -------------------------------------------------------------------
//
// KerasTuner's `.values` for an Int/Float without a step is `tuple({...10 samples...})`: a
// Python set, so its order is CPython's hash-table slot order. GridSearch walks `.values` in
// that order, so tunelab reproduces the table: Python's numeric hash, then the set's open
// addressing (9 linear probes, then perturbed jumps) and its growth from 8 slots.

/// 2**61 - 1, the modulus of Python's numeric hash.
const PY_HASH_MODULUS: u64 = (1 << 61) - 1;
const PY_HASH_BITS: i32 = 61;

/// Python's `hash()` of an `int`.
fn py_hash_int(i: i64) -> i64 {
    let m = (i.unsigned_abs() % PY_HASH_MODULUS) as i64;
    let h = if i < 0 { -m } else { m };
    if h == -1 {
        -2
    } else {
        h
    }
}

/// Python's `hash()` of a `float` (equal to the int's hash when the float is integral).
fn py_hash_float(v: f64) -> i64 {
    if v.is_nan() {
        // Python 3.10+ hashes NaN by identity; any fixed slot will do for ordering.
        return 0;
    }
    if v.is_infinite() {
        return if v > 0.0 { 314_159 } else { -314_159 };
    }
    let (mut m, mut e) = libm::frexp(v);
    let mut sign: i64 = 1;
    if m < 0.0 {
        sign = -1;
        m = -m;
    }
    let mut x: u64 = 0;
    while m != 0.0 {
        x = ((x << 28) & PY_HASH_MODULUS) | (x >> (PY_HASH_BITS - 28));
        m *= 268_435_456.0;
        e -= 28;
        let y = m as u64;
        m -= y as f64;
        x += y;
        if x >= PY_HASH_MODULUS {
            x -= PY_HASH_MODULUS;
        }
    }
    let e = if e >= 0 {
        e % PY_HASH_BITS
    } else {
        PY_HASH_BITS - 1 - ((-1 - e) % PY_HASH_BITS)
    };
    x = ((x << e) & PY_HASH_MODULUS) | (x >> (PY_HASH_BITS - e));
    let h = (x as i64).wrapping_mul(sign);
    if h == -1 {
        -2
    } else {
        h
    }
}

/// Python's `hash()` of a scalar value.
fn py_hash(v: &Value) -> i64 {
    match v {
        Value::Bool(b) => i64::from(*b),
        Value::Int(i) => py_hash_int(*i),
        Value::Float(f) => py_hash_float(*f),
        Value::Str(s) => {
            // Python salts string hashes per process, so their set order is not
            // reproducible anyway; a stable FNV hash keeps tunelab deterministic.
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            for b in s.bytes() {
                h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
            h as i64
        }
    }
}

/// The order in which `tuple(set(values))` lists `values` in CPython (duplicates, by
/// Python's `==`, dropped; the first occurrence kept).
pub fn py_set_order(values: &[Value]) -> Vec<Value> {
    const LINEAR_PROBES: usize = 9;
    const PERTURB_SHIFT: u32 = 5;
    const MIN_SIZE: usize = 8;

    // Slots hold (hash, index into `values`).
    fn insert_clean(table: &mut [Option<(i64, usize)>], hash: i64, item: usize) {
        let mask = table.len() - 1;
        let mut perturb = hash as u64;
        let mut i = (hash as u64 as usize) & mask;
        loop {
            if table[i].is_none() {
                table[i] = Some((hash, item));
                return;
            }
            if i + LINEAR_PROBES <= mask {
                for j in 1..=LINEAR_PROBES {
                    if table[i + j].is_none() {
                        table[i + j] = Some((hash, item));
                        return;
                    }
                }
            }
            perturb >>= PERTURB_SHIFT;
            i = (i
                .wrapping_mul(5)
                .wrapping_add(1)
                .wrapping_add(perturb as usize))
                & mask;
        }
    }

    let mut table: Vec<Option<(i64, usize)>> = vec![None; MIN_SIZE];
    let mut used = 0usize;
    'next: for (item, v) in values.iter().enumerate() {
        let hash = py_hash(v);
        let mask = table.len() - 1;
        let mut perturb = hash as u64;
        let mut i = (hash as u64 as usize) & mask;
        let slot = loop {
            let probes = if i + LINEAR_PROBES <= mask {
                LINEAR_PROBES
            } else {
                0
            };
            let mut found = None;
            for j in 0..=probes {
                match table[i + j] {
                    None => {
                        found = Some(i + j);
                        break;
                    }
                    Some((h, k)) if h == hash && values[k].py_eq(v) => continue 'next,
                    Some(_) => {}
                }
            }
            if let Some(s) = found {
                break s;
            }
            perturb >>= PERTURB_SHIFT;
            i = (i
                .wrapping_mul(5)
                .wrapping_add(1)
                .wrapping_add(perturb as usize))
                & mask;
        };
        table[slot] = Some((hash, item));
        used += 1;
        // CPython grows the table once it is 60% full, to the first power of two above
        // four times the number of entries, re-inserting in slot order.
        if used * 5 >= mask * 3 {
            let min_used = used * 4;
            let mut size = MIN_SIZE;
            while size <= min_used {
                size <<= 1;
            }
            let old = std::mem::replace(&mut table, vec![None; size]);
            for (h, k) in old.into_iter().flatten() {
                insert_clean(&mut table, h, k);
            }
        }
    }
    table
        .into_iter()
        .flatten()
        .map(|(_, k)| values[k].clone())
        .collect()
}

// --- Values ---------------------------------------------------------------------------------

/// Hyperparameter values by name, in insertion order (a Python `dict`).
///
/// Serialized as a JSON object whose keys keep that order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Values {
    entries: Vec<(String, Value)>,
}

impl Values {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.entries.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Sets `name`; a new name goes last, an existing one keeps its place (like a `dict`).
    pub fn set(&mut self, name: impl Into<String>, value: Value) {
        let name = name.into();
        match self.entries.iter_mut().find(|(k, _)| *k == name) {
            Some((_, v)) => *v = value,
            None => self.entries.push((name, value)),
        }
    }

    /// Removes `name`, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let i = self.entries.iter().position(|(k, _)| k == name)?;
        Some(self.entries.remove(i).1)
    }

    /// `(name, value)` pairs in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> + '_ {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The names in insertion order.
    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `name` has a value.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The map as a JSON object (keys sorted: `serde_json::Value` does not keep order; use
    /// `serde_json::to_string(&values)` for an ordered document).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.entries
                .iter()
                .map(|(k, v)| (k.clone(), v.to_json()))
                .collect(),
        )
    }

    /// Reads a JSON object of scalars; `what` names the field in errors.
    pub fn from_json(v: &serde_json::Value, what: &str) -> Result<Values> {
        let obj = v
            .as_object()
            .ok_or_else(|| Error::parse(format!("`{what}` must be a JSON object, got {v}")))?;
        let mut out = Values::new();
        for (k, val) in obj {
            out.set(k.clone(), Value::from_json(val, &format!("{what}.{k}"))?);
        }
        Ok(out)
    }
}

impl<K: Into<String>> FromIterator<(K, Value)> for Values {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Self {
        let mut out = Values::new();
        for (k, v) in iter {
            out.set(k, v);
        }
        out
    }
}

/// Python's `repr()` of the dict: `{'units': 32, 'activation': 'relu'}`.
impl fmt::Display for Values {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = self
            .entries
            .iter()
            .map(|(k, v)| format!("{}: {}", py_str_repr(k), v.repr()))
            .collect();
        write!(f, "{{{}}}", items.join(", "))
    }
}

impl Serialize for Values {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (k, v) in &self.entries {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Values {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct ValuesVisitor;
        impl<'de> Visitor<'de> for ValuesVisitor {
            type Value = Values;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object of hyperparameter values")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut access: A,
            ) -> std::result::Result<Values, A::Error> {
                let mut out = Values::new();
                while let Some((k, v)) = access.next_entry::<String, Value>()? {
                    out.set(k, v);
                }
                Ok(out)
            }
        }
        deserializer.deserialize_map(ValuesVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_repr_matches_python() {
        // Each pair was printed by CPython 3.11's repr().
        let cases = [
            (0.0001, "0.0001"),
            (1e-5, "1e-05"),
            (0.1, "0.1"),
            (1.0, "1.0"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (0.01, "0.01"),
            (123.456, "123.456"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1.5e16, "1.5e+16"),
            (1.2345e-7, "1.2345e-07"),
            (0.30000000000000004, "0.30000000000000004"),
            (0.6000000000000001, "0.6000000000000001"),
            (2.5e-4, "0.00025"),
            (9.99e-5, "9.99e-05"),
            (1e100, "1e+100"),
            (-2.5, "-2.5"),
            (1e22, "1e+22"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (0.9665500223636627, "0.9665500223636627"),
            (12345678901234567.0, "1.2345678901234568e+16"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
        ];
        for (x, want) in cases {
            assert_eq!(py_float(x), want, "repr of {x:e}");
        }
    }

    #[test]
    fn value_repr_and_str() {
        assert_eq!(Value::from("relu").repr(), "'relu'");
        assert_eq!(Value::from("relu").to_string(), "relu");
        assert_eq!(Value::from(true).repr(), "True");
        assert_eq!(Value::from(false).to_string(), "False");
        assert_eq!(Value::from(32).repr(), "32");
        assert_eq!(Value::from(1e-4).to_string(), "0.0001");
        assert_eq!(Value::from("it's").repr(), "\"it's\"");
        assert_eq!(Value::from("a'b\"c").repr(), "'a\\'b\"c'");
        assert_eq!(Value::from("tab\there\\").repr(), "'tab\\there\\\\'");
        assert_eq!(
            py_list_repr(&["relu".into(), "tanh".into()]),
            "['relu', 'tanh']"
        );
        assert_eq!(py_list_repr(&[]), "[]");
    }

    #[test]
    fn accessors() {
        assert_eq!(Value::Int(3).as_f64(), Some(3.0));
        assert_eq!(Value::Float(3.0).as_i64(), Some(3));
        assert_eq!(Value::Float(3.5).as_i64(), None);
        assert_eq!(Value::Bool(true).as_f64(), None);
        assert_eq!(Value::Int(1).as_bool(), Some(true));
        assert_eq!(Value::Int(2).as_bool(), None);
        assert_eq!(Value::from("x").as_str(), Some("x"));
        assert_eq!(Value::Int(1).as_str(), None);
        assert_eq!(Value::from(2i32), Value::Int(2));
        assert_eq!(Value::from(String::from("s")), Value::Str("s".into()));
    }

    #[test]
    fn python_equality() {
        assert!(Value::Int(1).py_eq(&Value::Float(1.0)));
        assert!(Value::Bool(true).py_eq(&Value::Int(1)));
        assert!(Value::Bool(false).py_eq(&Value::Float(0.0)));
        assert!(!Value::Int(1).py_eq(&Value::from("1")));
        assert!(!Value::Float(f64::NAN).py_eq(&Value::Float(f64::NAN)));
        assert_ne!(Value::Int(1), Value::Float(1.0));
    }

    #[test]
    fn json_shapes() {
        let v: Value = serde_json::from_str("1.0").unwrap();
        assert_eq!(v, Value::Float(1.0));
        let v: Value = serde_json::from_str("1").unwrap();
        assert_eq!(v, Value::Int(1));
        let v: Value = serde_json::from_str("true").unwrap();
        assert_eq!(v, Value::Bool(true));
        let v: Value = serde_json::from_str("\"a\"").unwrap();
        assert_eq!(v, Value::from("a"));
        assert_eq!(serde_json::to_string(&Value::Float(1.0)).unwrap(), "1.0");
        assert!(Value::from_json(&serde_json::json!([1]), "x").is_err());
        assert!(Value::from_json(&serde_json::json!(u64::MAX), "x").is_err());
    }

    #[test]
    fn values_keep_insertion_order() {
        let mut v = Values::new();
        v.set("b", 1.into());
        v.set("a", "x".into());
        v.set("b", 2.into());
        assert_eq!(v.keys().collect::<Vec<_>>(), ["b", "a"]);
        assert_eq!(v.get("b"), Some(&Value::Int(2)));
        assert_eq!(v.to_string(), "{'b': 2, 'a': 'x'}");
        let s = serde_json::to_string(&v).unwrap();
        assert_eq!(s, r#"{"b":2,"a":"x"}"#);
        let back: Values = serde_json::from_str(r#"{"z":1,"a":0.5,"m":true}"#).unwrap();
        assert_eq!(back.keys().collect::<Vec<_>>(), ["z", "a", "m"]);
        assert_eq!(back.remove_clone("a"), Some(Value::Float(0.5)));
        assert!(v.contains("a") && !v.contains("c"));
        assert_eq!(v.len(), 2);
        assert!(!v.is_empty());
        assert_eq!(v.remove("a"), Some(Value::from("x")));
        assert_eq!(v.remove("a"), None);
        let collected: Values = vec![("x", Value::Int(1))].into_iter().collect();
        assert_eq!(collected.len(), 1);
        assert_eq!(
            Values::from_json(&serde_json::json!({"a": 1}), "values")
                .unwrap()
                .get("a"),
            Some(&Value::Int(1))
        );
        assert!(Values::from_json(&serde_json::json!([1]), "values").is_err());
        assert!(Values::from_json(&serde_json::json!({"a": null}), "values").is_err());
    }

    impl Values {
        fn remove_clone(&self, name: &str) -> Option<Value> {
            let mut c = self.clone();
            c.remove(name)
        }
    }

    #[test]
    fn python_hashes() {
        // hash() values printed by CPython 3.11.
        assert_eq!(py_hash_int(-1), -2);
        assert_eq!(py_hash_int(5), 5);
        assert_eq!(py_hash_float(1.0), 1);
        assert_eq!(py_hash_float(0.5), 1152921504606846976);
        assert_eq!(py_hash_float(0.1), 230584300921369408);
        assert_eq!(py_hash_float(-0.1), -230584300921369408);
        assert_eq!(py_hash_float(1e-4), 936979306793984537);
        assert_eq!(py_hash_float(1e300), 1224995262755759164);
    }

    #[test]
    fn set_order_matches_cpython() {
        // tuple({...}) as CPython 3.11 prints it.
        let ints: Vec<Value> = [1, 3, 5, 7, 12, 20, 31, 50, 80]
            .iter()
            .map(|&i| Value::Int(i))
            .collect();
        let got: Vec<i64> = py_set_order(&ints)
            .iter()
            .filter_map(Value::as_i64)
            .collect();
        assert_eq!(got, [1, 3, 5, 7, 12, 80, 50, 20, 31]);
        let dup = py_set_order(&[Value::Int(2), Value::Float(2.0), Value::Int(3)]);
        assert_eq!(dup, [Value::Int(2), Value::Int(3)]);
    }
}
