//! KerasTuner 1.4.7's hyperparameters, rebuilt: the value creators a hypermodel calls
//! (`Int`, `Float`, `Choice`, `Boolean`, `Fixed`), name and conditional scopes, the search
//! space with the current trial's values, and the value <-> probability mapping every
//! search algorithm samples through.
//!
//! ```
//! use tunelab::hp::{HyperParameters, Sampling};
//! # fn main() -> tunelab::Result<()> {
//! let mut hp = HyperParameters::new();
//! let units = hp.int("units", 32, 512).step(32).get()?;
//! let lr = hp.float("lr", 1e-4, 1e-2).sampling(Sampling::Log).get()?;
//! assert_eq!((units, lr), (32, 1e-4)); // a fresh space returns the defaults
//! # Ok(())
//! # }
//! ```
//!
//! Where tunelab deliberately differs from KerasTuner 1.4.7 (each noted at the method):
//! - values stay in `[min_value, max_value]` (KerasTuner can step a hair outside through a
//!   log grid's counting tolerance or rounding near p = 0 or 1);
//! - a linear Float grid value maps back to its own probability bucket (KerasTuner's exact
//!   floor division sends e.g. 0.5 on a 0.1 grid to 0.4's bucket);
//! - `value_to_prob` is clamped to [0, 1] and never raises; `try_value_to_prob` reports;
//! - a linear step must be > 0, numbers finite, and an Int/Float default within range;
//! - an inactive hp's builder `get()` returns its default (`get_active()` gives KerasTuner's
//!   `None`); `merge(.., true)` replaces in place instead of appending a duplicate;
//!   `ensure_active_values` fills defaults (`ensure_active_values_with` samples, as KerasTuner);
//! - a Float's step prints as a float (`10.0`) even when written as an int.
//!
//! Kept as KerasTuner has them, though surprising: a `Choice` of booleans becomes the ints
//! 1/0; `Float(0, 1, step=0.1)` has no 1.0 (Python's `1.0 // 0.1 == 9.0`); an unstepped
//! hp's grid is in Python's set order; a nested scope's parent must be registered under the
//! same open conditions.
//!
//! Files: [`value`] (Python values, their printing, ordered value maps),
//! [`hyperparameter`] (one hp: validation, sampling, grids, serialization),
//! [`hyperparameters`] (the container, scopes, summaries, JSON).

pub mod hyperparameter;
pub mod hyperparameters;
pub mod value;

pub use hyperparameter::{
    index_to_prob, prob_to_index, Condition, HpKind, HyperParameter, Sampling, MAX_GRID_VALUES,
};
pub use hyperparameters::{BooleanHp, ChoiceHp, FixedHp, FloatHp, HyperParameters, IntHp};
pub use value::{py_float, py_list_repr, py_set_order, py_str_repr, Value, Values};

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes the fixture's typed strings (`i:32`, `f:0.1`, `s:relu`, `b:True`, `n:`).
    fn dec(s: &str) -> Option<Value> {
        let (t, x) = s.split_once(':').unwrap();
        match t {
            "i" => Some(Value::Int(x.parse().unwrap())),
            "f" => Some(Value::Float(x.parse().unwrap())),
            "s" => Some(Value::Str(x.to_string())),
            "b" => Some(Value::Bool(x == "True")),
            _ => None,
        }
    }

    /// Every number below was computed by KerasTuner 1.4.7 itself (`kt_1_4_7_cases.json`:
    /// 26 hps, each with `prob_to_value` at 20 probabilities, `value_to_prob` of each result,
    /// `.values`, `.default` and the summary config line).
    #[test]
    fn matches_keras_tuner_1_4_7() {
        let cases: serde_json::Value =
            serde_json::from_str(include_str!("kt_1_4_7_cases.json")).unwrap();
        let cases = cases.as_array().unwrap();
        assert_eq!(cases.len(), 26);
        for case in cases {
            let hp = HyperParameter::from_json(&case["hp"], "hp").unwrap();
            let name = hp.name.clone();
            // KerasTuner keeps a Float's step as written (`step=10` prints `10`); tunelab's
            // step is an f64 and prints `10.0`.
            let mut summary = case["summary"].as_str().unwrap().to_string();
            if hp.class_name() == "Float" {
                summary = summary
                    .replace("'step': 10,", "'step': 10.0,")
                    .replace("'step': 3,", "'step': 3.0,");
            }
            assert_eq!(hp.summary_config(), summary, "{name}");
            let default = dec(case["default"].as_str().unwrap()).unwrap();
            assert!(hp.default_value().py_eq(&default), "{name} default");

            let grid: Vec<Value> = case["grid"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| dec(g.as_str().unwrap()).unwrap())
                .collect();
            let ours = hp.grid_values();
            assert_eq!(ours.len(), grid.len(), "{name} grid {ours:?} vs {grid:?}");
            for (i, (a, b)) in ours.iter().zip(&grid).enumerate() {
                // Int(1, 2**32 - 1, step=2, log): KerasTuner's last value is 2**32, past
                // max_value; tunelab clamps it.
                if name == "j" && i == grid.len() - 1 {
                    assert_eq!(*a, Value::Int(4_294_967_295));
                    continue;
                }
                assert!(a.py_eq(b), "{name} grid[{i}]: {a:?} vs {b:?}");
            }

            let ps = case["p"].as_array().unwrap();
            let values = case["value"].as_array().unwrap();
            let probs = case["prob"].as_array().unwrap();
            for ((p, v), q) in ps.iter().zip(values).zip(probs) {
                let p: f64 = p.as_str().unwrap().parse().unwrap();
                let want = dec(v.as_str().unwrap()).unwrap();
                let got = hp.prob_to_value(p);
                // KerasTuner can step out of [min_value, max_value] (a log grid's counting
                // tolerance, p a hair below 1 rounding up to max_value + 1, reverse_log at
                // p = 0 computing max + min - max a hair below min); tunelab clamps.
                match (&hp.kind, &want) {
                    (HpKind::Int { max_value, .. }, Value::Int(w)) if w > max_value => {
                        assert_eq!(got, Value::Int(*max_value), "{name}: p {p}");
                        continue;
                    }
                    (
                        HpKind::Float {
                            min_value,
                            max_value,
                            ..
                        },
                        Value::Float(w),
                    ) if w < min_value || w > max_value => {
                        assert_eq!(got, Value::Float(w.clamp(*min_value, *max_value)));
                        continue;
                    }
                    _ => {}
                }
                assert_eq!(got, want, "{name}: prob_to_value({p})");
                let kt_q: f64 = q.as_str().unwrap().parse().unwrap();
                let our_q = hp.value_to_prob(&got);
                if (our_q - kt_q).abs() <= 1e-12 || (kt_q > 1.0 && our_q == 1.0) {
                    continue;
                }
                // The one deliberate difference: a linear Float grid value that KerasTuner's
                // exact floor division puts one bucket low.
                let n = hp.grid_len() as f64;
                assert!(
                    matches!(
                        hp.kind,
                        HpKind::Float {
                            step: Some(_),
                            sampling: Sampling::Linear,
                            ..
                        }
                    ) && (our_q - kt_q - 1.0 / n).abs() < 1e-12,
                    "{name}: value_to_prob({got:?}) = {our_q}, KerasTuner {kt_q}"
                );
                assert_eq!(hp.prob_to_value(our_q), got);
            }
        }
    }
}
