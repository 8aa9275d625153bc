//! A trial: one set of hyperparameter values, its status, the metrics of its best epoch
//! (averaged over executions), its score, and the learning curves of each execution.

use crate::error::{Error, Result};
use crate::hp::{HyperParameters, Values};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// KerasTuner's trial states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TrialStatus {
    Running,
    Idle,
    /// Crashed; may be retried.
    Invalid,
    Stopped,
    Completed,
    Failed,
}

impl TrialStatus {
    /// KerasTuner's spelling ("COMPLETED", ...).
    pub fn as_str(self) -> &'static str {
        match self {
            TrialStatus::Running => "RUNNING",
            TrialStatus::Idle => "IDLE",
            TrialStatus::Invalid => "INVALID",
            TrialStatus::Stopped => "STOPPED",
            TrialStatus::Completed => "COMPLETED",
            TrialStatus::Failed => "FAILED",
        }
    }
}

/// Per-epoch logs of one execution (metric name -> values by epoch).
pub type Curves = Vec<(String, Vec<f64>)>;

/// One trial of a search.
#[derive(Debug, Clone)]
pub struct Trial {
    pub trial_id: String,
    /// The space as it was when the trial was created, and the trial's values.
    pub hyperparameters: HyperParameters,
    /// Metrics of the best epoch, averaged over executions (KerasTuner's reduction).
    pub metrics: Vec<(String, f64)>,
    pub score: Option<f64>,
    pub best_step: Option<usize>,
    pub status: TrialStatus,
    pub message: Option<String>,
    /// Learning curves, one per execution (tunelab keeps them for plots and export).
    pub curves: Vec<Curves>,
    /// Seconds spent running the trial.
    pub seconds: f64,
    /// How many times the trial has been run (retries of an invalid trial add one).
    pub attempts: usize,
    /// The hps the trial's model actually read, when known. Summaries show only these
    /// (KerasTuner shows every hp of the space, loop hps a trial never used included).
    pub used: Option<Vec<String>>,
    /// Where the trial trained ("cpu", "webgpu (adapter, backend)").
    pub device: Option<String>,
}

impl Trial {
    /// A new running trial.
    pub fn new(trial_id: impl Into<String>, hyperparameters: HyperParameters) -> Self {
        Trial {
            trial_id: trial_id.into(),
            hyperparameters,
            metrics: Vec::new(),
            score: None,
            best_step: None,
            status: TrialStatus::Running,
            message: None,
            curves: Vec::new(),
            seconds: 0.0,
            attempts: 0,
            used: None,
            device: None,
        }
    }

    /// The values the trial used: its active values, limited to the hps its model read when
    /// that is known; bookkeeping values outside the space (Hyperband's `tuner/...`) stay.
    pub fn used_values(&self) -> Values {
        let all = self.hyperparameters.values();
        let Some(used) = &self.used else {
            return all;
        };
        let space = self.hyperparameters.space();
        all.iter()
            .filter(|(k, _)| used.iter().any(|u| u == k) || !space.iter().any(|h| h.name == *k))
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    /// A metric of the best epoch.
    pub fn metric(&self, name: &str) -> Option<f64> {
        self.metrics
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| *v)
    }

    /// KerasTuner's `Trial.summary()` text: only the values the trial actually used.
    pub fn summary(&self) -> String {
        let mut s = format!("Trial {} summary\nHyperparameters:\n", self.trial_id);
        let values = self.used_values();
        if values.is_empty() {
            s += "default configuration\n";
        } else {
            for (k, v) in values.iter() {
                s += &format!("{k}: {v}\n");
            }
        }
        if let Some(score) = self.score {
            s += &format!("Score: {}\n", crate::hp::py_float(score));
        }
        if let Some(m) = &self.message {
            s += m;
            s.push('\n');
        }
        s
    }

    /// The trial as the JSON document stored in `trial_<id>/trial.json`.
    pub fn to_json(&self) -> Value {
        let metrics: serde_json::Map<String, Value> = self
            .metrics
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let curves: Vec<Value> = self
            .curves
            .iter()
            .map(|c| Value::Object(c.iter().map(|(k, v)| (k.clone(), json!(v))).collect()))
            .collect();
        json!({
            "trial_id": self.trial_id,
            "hyperparameters": self.hyperparameters.to_json(),
            "metrics": metrics,
            "score": self.score,
            "best_step": self.best_step,
            "status": self.status,
            "message": self.message,
            "curves": curves,
            "seconds": self.seconds,
            "attempts": self.attempts,
            "used": self.used,
            "device": self.device,
        })
    }

    /// Reads a stored trial (NaN and infinite values were written as null and read back as
    /// NaN, so a curve keeps one value per epoch).
    pub fn from_json(v: &Value) -> Result<Self> {
        let field = |k: &str| -> Result<&Value> {
            v.get(k)
                .ok_or_else(|| Error::parse(format!("trial.json lacks `{k}`")))
        };
        let trial_id = field("trial_id")?
            .as_str()
            .ok_or_else(|| Error::parse("trial.json `trial_id` is not a string"))?
            .to_string();
        let hyperparameters = HyperParameters::from_json(field("hyperparameters")?)?;
        let metrics = match v.get("metrics") {
            Some(Value::Object(m)) => m
                .iter()
                .filter_map(|(k, x)| number(x).map(|f| (k.clone(), f)))
                .collect(),
            _ => Vec::new(),
        };
        let status: TrialStatus = serde_json::from_value(field("status")?.clone())
            .map_err(|e| Error::parse(format!("trial.json `status`: {e}")))?;
        let curves = match v.get("curves") {
            Some(Value::Array(a)) => a
                .iter()
                .map(|c| match c {
                    Value::Object(m) => m
                        .iter()
                        .map(|(k, vals)| {
                            let vs = vals
                                .as_array()
                                .map(|a| a.iter().filter_map(number).collect())
                                .unwrap_or_default();
                            (k.clone(), vs)
                        })
                        .collect(),
                    _ => Vec::new(),
                })
                .collect(),
            _ => Vec::new(),
        };
        Ok(Trial {
            trial_id,
            hyperparameters,
            metrics,
            score: v.get("score").and_then(|s| s.as_f64()),
            best_step: v
                .get("best_step")
                .and_then(|s| s.as_u64())
                .map(|s| s as usize),
            status,
            message: v
                .get("message")
                .and_then(|m| m.as_str())
                .map(|m| m.to_string()),
            curves,
            seconds: v.get("seconds").and_then(|s| s.as_f64()).unwrap_or(0.0),
            attempts: v.get("attempts").and_then(|s| s.as_u64()).unwrap_or(0) as usize,
            used: v
                .get("used")
                .and_then(|u| serde_json::from_value(u.clone()).ok()),
            device: v
                .get("device")
                .and_then(|d| d.as_str())
                .map(|d| d.to_string()),
        })
    }
}

/// A stored number: null stands for NaN (JSON has no NaN); other types are not numbers.
fn number(x: &Value) -> Option<f64> {
    match x {
        Value::Null => Some(f64::NAN),
        _ => x.as_f64(),
    }
}
