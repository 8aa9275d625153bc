//! Objectives: what a search optimises. A name with a direction; a name alone has its
//! direction inferred the way KerasTuner infers it; a list is KerasTuner's summed
//! multi-objective.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Minimise or maximise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Min,
    Max,
}

impl Direction {
    /// "min" or "max".
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "min" => Ok(Direction::Min),
            "max" => Ok(Direction::Max),
            _ => Err(Error::invalid("direction", s, "\"min\" or \"max\"")),
        }
    }
    /// "min" or "max".
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Min => "min",
            Direction::Max => "max",
        }
    }
}

/// One objective: a metric name and a direction (`Objective(name="val_accuracy", direction="max")`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Objective {
    pub name: String,
    pub direction: Direction,
}

/// Metric names KerasTuner maximises (its `_MAX_METRICS` classes and `_MAX_METRIC_FNS`).
const MAX_NAMES: &[&str] = &[
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "true_positives",
    "true_negatives",
    "precision",
    "recall",
    "auc",
    "sensitivity_at_specificity",
    "specificity_at_sensitivity",
];

/// Names of metrics and losses Keras knows that are minimised.
const MIN_NAMES: &[&str] = &[
    "mean_squared_error",
    "mse",
    "mean_absolute_error",
    "mae",
    "mean_absolute_percentage_error",
    "mape",
    "mean_squared_logarithmic_error",
    "msle",
    "root_mean_squared_error",
    "binary_crossentropy",
    "bce",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "kl_divergence",
    "kld",
    "hinge",
    "squared_hinge",
    "categorical_hinge",
    "huber",
    "log_cosh",
    "logcosh",
    "log_cosh_error",
    "poisson",
    "cosine_similarity",
    "false_positives",
    "false_negatives",
];

/// KerasTuner's `infer_metric_direction`: strips one `val_` and one `weighted_` prefix, then
/// looks the name up. `None` when the direction cannot be inferred.
pub fn infer_direction(metric: &str) -> Option<Direction> {
    let m = metric.strip_prefix("val_").unwrap_or(metric);
    let m = m.strip_prefix("weighted_").unwrap_or(m);
    match m {
        "loss" | "crossentropy" | "ce" => Some(Direction::Min),
        "acc" => Some(Direction::Max),
        _ if MAX_NAMES.contains(&m) => Some(Direction::Max),
        _ if MIN_NAMES.contains(&m) => Some(Direction::Min),
        _ => None,
    }
}

impl Objective {
    /// An objective with an explicit direction.
    pub fn new(name: impl Into<String>, direction: Direction) -> Self {
        Objective {
            name: name.into(),
            direction,
        }
    }

    /// An objective from a metric name, direction inferred; unknown names are an error with
    /// KerasTuner's message. `"name:min"` / `"name:max"` give the direction explicitly.
    pub fn parse(spec: &str) -> Result<Self> {
        if let Some((name, dir)) = spec.rsplit_once(':') {
            return Ok(Objective::new(name, Direction::parse(dir)?));
        }
        match infer_direction(spec) {
            Some(d) => Ok(Objective::new(spec, d)),
            None => Err(Error::invalid(
                "objective",
                spec,
                format!(
                    "a known metric. Could not infer optimization direction (\"min\" or \"max\") for unknown metric \"{spec}\". Please specify the objective  asa `keras_tuner.Objective`, for example `keras_tuner.Objective(\"{spec}\", direction=\"min\")`. (In tunelab: Objective::new(\"{spec}\", Direction::Min), or \"{spec}:min\" on the command line.)"
                ),
            )),
        }
    }

    /// Whether `a` is better than `b`.
    pub fn better(&self, a: f64, b: f64) -> bool {
        match self.direction {
            Direction::Max => a > b,
            Direction::Min => a < b,
        }
    }
}

impl fmt::Display for Objective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Objective(name=\"{}\", direction=\"{}\")",
            self.name,
            self.direction.as_str()
        )
    }
}

/// What the search optimises: one objective, KerasTuner's `default_objective` (a number
/// returned by the trial), or several summed (minimised objectives add, maximised subtract).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ObjectiveSpec {
    Single(Objective),
    Multi(Vec<Objective>),
}

impl Default for ObjectiveSpec {
    fn default() -> Self {
        ObjectiveSpec::Single(Objective::new("default_objective", Direction::Min))
    }
}

impl ObjectiveSpec {
    /// The name under which the score is logged ("multi_objective" for several).
    pub fn name(&self) -> &str {
        match self {
            ObjectiveSpec::Single(o) => &o.name,
            ObjectiveSpec::Multi(_) => "multi_objective",
        }
    }

    /// The direction of the score.
    pub fn direction(&self) -> Direction {
        match self {
            ObjectiveSpec::Single(o) => o.direction,
            ObjectiveSpec::Multi(_) => Direction::Min,
        }
    }

    /// The objective as one `Objective` (the multi-objective is minimised).
    pub fn as_objective(&self) -> Objective {
        Objective::new(self.name(), self.direction())
    }

    /// The metric names the score reads.
    pub fn metric_names(&self) -> Vec<&str> {
        match self {
            ObjectiveSpec::Single(o) => vec![o.name.as_str()],
            ObjectiveSpec::Multi(v) => v.iter().map(|o| o.name.as_str()).collect(),
        }
    }

    /// The score from a set of named metric values; `None` when one is missing.
    pub fn value(&self, metrics: &[(String, f64)]) -> Option<f64> {
        let get = |n: &str| metrics.iter().find(|(k, _)| k == n).map(|(_, v)| *v);
        match self {
            ObjectiveSpec::Single(o) => get(&o.name),
            ObjectiveSpec::Multi(v) => {
                let mut s = 0.0;
                for o in v {
                    let x = get(&o.name)?;
                    match o.direction {
                        Direction::Min => s += x,
                        Direction::Max => s -= x,
                    }
                }
                Some(s)
            }
        }
    }

    /// Whether `a` is a better score than `b`.
    pub fn better(&self, a: f64, b: f64) -> bool {
        self.as_objective().better(a, b)
    }
}

impl fmt::Display for ObjectiveSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_objective().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directions_are_inferred_like_kerastuner() {
        assert_eq!(
            Objective::parse("val_accuracy").unwrap().direction,
            Direction::Max
        );
        assert_eq!(
            Objective::parse("val_loss").unwrap().direction,
            Direction::Min
        );
        assert_eq!(
            Objective::parse("val_weighted_acc").unwrap().direction,
            Direction::Max
        );
        assert_eq!(Objective::parse("auc").unwrap().direction, Direction::Max);
        assert_eq!(
            Objective::parse("val_mae").unwrap().direction,
            Direction::Min
        );
        assert_eq!(Objective::parse("ce").unwrap().direction, Direction::Min);
        assert_eq!(
            Objective::parse("score:max").unwrap().direction,
            Direction::Max
        );
        let e = Objective::parse("custom_metric").unwrap_err().to_string();
        assert!(
            e.contains("Could not infer optimization direction (\"min\" or \"max\") for unknown metric \"custom_metric\""),
            "{e}"
        );
        assert_eq!(
            Objective::parse("val_accuracy").unwrap().to_string(),
            "Objective(name=\"val_accuracy\", direction=\"max\")"
        );
    }

    #[test]
    fn multi_objective_sums_with_signs() {
        let m = ObjectiveSpec::Multi(vec![
            Objective::parse("val_loss").unwrap(),
            Objective::parse("val_accuracy").unwrap(),
        ]);
        let v = m
            .value(&[("val_loss".into(), 0.5), ("val_accuracy".into(), 0.75)])
            .unwrap();
        assert_eq!(v, -0.25);
        assert_eq!(m.name(), "multi_objective");
        assert!(m.better(-0.3, -0.25));
        assert_eq!(ObjectiveSpec::default().name(), "default_objective");
    }
}
