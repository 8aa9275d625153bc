//! What a tuner shows and exports: KerasTuner's live display, `search_space_summary`,
//! `results_summary`, and every trial as JSON or CSV.

use crate::error::Result;
use crate::hp::{py_float, Value as HpValue};
use crate::tuner::trial::{Trial, TrialStatus};
use crate::tuner::tuner::Tuner;
use serde_json::{json, Value};

/// Seconds as KerasTuner's "00h 01m 51s".
pub fn format_duration(secs: f64) -> String {
    let s = secs.round().max(0.0) as u64;
    format!("{:02}h {:02}m {:02}s", s / 3600, (s % 3600) / 60, s % 60)
}

/// Python's `f"{v:.5g}"` for the live display's numbers.
pub fn format_g5(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if !v.is_finite() {
        return if v.is_nan() {
            "nan".into()
        } else if v > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    let exp = v.abs().log10().floor() as i32;
    // Round to 5 significant digits first: rounding can carry into the next decade.
    let sci = format!("{v:.4e}");
    let (mant, e) = sci.split_once('e').unwrap_or((&sci, "0"));
    let e: i32 = e.parse().unwrap_or(exp);
    if !(-4..5).contains(&e) {
        let mant = mant.trim_end_matches('0').trim_end_matches('.');
        let sign = if e < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", e.abs())
    } else {
        let decimals = (4 - e).max(0) as usize;
        let s = format!("{v:.decimals$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    }
}

fn display_value(v: Option<&HpValue>) -> String {
    match v {
        None => "None".into(),
        Some(HpValue::Int(i)) => format_g5(*i as f64),
        Some(HpValue::Float(f)) => format_g5(*f),
        Some(other) => {
            let s = other.to_string();
            if s.chars().count() > 18 {
                format!("{}...", s.chars().take(15).collect::<String>())
            } else {
                s
            }
        }
    }
}
impl Tuner {
    pub(super) fn say(&mut self, text: &str) {
        if self.config.verbose {
            println!("{text}");
        }
        self.output.push_str(text);
        self.output.push('\n');
        const KEEP: usize = 16 << 10;
        if self.output.len() > 2 * KEEP {
            let mut cut = self.output.len() - KEEP;
            while !self.output.is_char_boundary(cut) {
                cut += 1;
            }
            let at = self.output[cut..].find('\n').map_or(cut, |i| cut + i + 1);
            self.output.drain(..at);
        }
    }
    /// KerasTuner's `search_space_summary()` text.
    pub fn search_space_summary(&self) -> String {
        self.oracle.hyperparameters.search_space_summary()
    }
    pub(super) fn display_trial_begin(&mut self, trial: &Trial) -> Result<()> {
        let n = self
            .oracle
            .number_of(&trial.trial_id)
            .map_or(self.oracle.trial_count(), |p| p + 1);
        let best = match self.oracle.best_entries(1).first() {
            Some(e) => Some(e.values()?),
            None => None,
        };
        let mut s = format!("\nSearch: Running Trial #{n}\n\n");
        let values = trial.hyperparameters.values();
        if values.is_empty() {
            s += "default configuration\n";
        } else {
            s += &format!(
                "{:18}|{:18}|{}\n",
                "Value", "Best Value So Far", "Hyperparameter"
            );
            for (k, v) in values.iter() {
                let b = match &best {
                    Some(bv) => display_value(bv.get(k)),
                    None => "?".into(),
                };
                s += &format!("{:18}|{:18}|{}\n", display_value(Some(v)), b, k);
            }
        }
        self.say(&s);
        Ok(())
    }

    pub(super) fn display_trial_end(&mut self, trial: &Trial) {
        let n = self.oracle.number_of(&trial.trial_id).map_or(0, |p| p + 1);
        let name = self.oracle.config.objective.name().to_string();
        let mut s = format!("Trial {n} Complete [{}]\n", format_duration(trial.seconds));
        if let Some(score) = trial.score {
            s += &format!("{name}: {}\n", py_float(score));
        }
        if trial.status == TrialStatus::Failed || trial.status == TrialStatus::Invalid {
            s += &format!(
                "Trial {} {}: {}\n",
                trial.trial_id,
                trial.status.as_str(),
                trial.message.clone().unwrap_or_default()
            );
        }
        let best = self.oracle.best_entries(1).first().and_then(|t| t.score);
        s += &format!(
            "\nBest {name} So Far: {}\nTotal elapsed time: {}",
            best.map_or("None".to_string(), py_float),
            format_duration(self.started.map_or(0.0, |t| t.elapsed().as_secs_f64()))
        );
        self.say(&s);
    }

    /// KerasTuner's `results_summary(num_trials)` text.
    pub fn results_summary(&self, num_trials: usize) -> Result<String> {
        let mut s = format!(
            "Results summary\nResults in {}\nShowing {num_trials} best trials\n{}\n",
            self.project_dir(),
            self.oracle.config.objective
        );
        for t in self.oracle.get_best_trials(num_trials)? {
            s.push('\n');
            s += &t.summary();
        }
        Ok(s)
    }
    /// All trials as JSON (`{"trials": [...], "best_hyperparameters": {...}}`), hyperparameters
    /// being the values each trial actually used.
    pub fn trials_json(&self) -> Result<Value> {
        let trials: Vec<Value> = self
            .oracle
            .trials()?
            .iter()
            .map(|t| {
                json!({
                    "trial_id": t.trial_id,
                    "status": t.status.as_str(),
                    "hyperparameters": t.used_values(),
                    "score": t.score,
                    "best_step": t.best_step,
                    "metrics": t.metrics.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
                    "message": t.message,
                    "seconds": t.seconds,
                    "device": t.device,
                })
            })
            .collect();
        let best = self
            .oracle
            .get_best_trials(1)?
            .first()
            .map(|t| json!(t.used_values()))
            .unwrap_or(Value::Null);
        Ok(json!({"trials": trials, "best_hyperparameters": best}))
    }

    /// All trials as CSV: id, status, score, best_step, then every hyperparameter and metric
    /// seen in any trial (empty where a trial did not use it).
    pub fn trials_csv(&self) -> Result<String> {
        let all = self.oracle.trials()?;
        let mut hp_names: Vec<String> = Vec::new();
        let mut metric_names: Vec<String> = Vec::new();
        for t in &all {
            for (k, _) in t.used_values().iter() {
                if !hp_names.iter().any(|n| n == k) {
                    hp_names.push(k.to_string());
                }
            }
            for (k, _) in &t.metrics {
                if !metric_names.contains(k) {
                    metric_names.push(k.clone());
                }
            }
        }
        let quote = |s: &str| -> String {
            if s.contains([',', '"', '\n']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        };
        let mut header = vec![
            "trial_id".to_string(),
            "status".into(),
            "score".into(),
            "best_step".into(),
        ];
        header.extend(hp_names.iter().map(|h| quote(h)));
        header.extend(metric_names.iter().map(|m| quote(m)));
        header.push("device".into());
        let mut out = header.join(",") + "\n";
        for t in &all {
            let values = t.used_values();
            let mut row = vec![
                t.trial_id.clone(),
                t.status.as_str().to_string(),
                t.score.map(py_float).unwrap_or_default(),
                t.best_step.map(|s| s.to_string()).unwrap_or_default(),
            ];
            for h in &hp_names {
                row.push(
                    values
                        .get(h)
                        .map(|v| quote(&v.to_string()))
                        .unwrap_or_default(),
                );
            }
            for m in &metric_names {
                row.push(t.metric(m).map(py_float).unwrap_or_default());
            }
            row.push(quote(t.device.as_deref().unwrap_or("")));
            out += &row.join(",");
            out.push('\n');
        }
        Ok(out)
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_g5_and_durations() {
        assert_eq!(format_g5(416.0), "416");
        assert_eq!(format_g5(0.0001324166048504802), "0.00013242");
        assert_eq!(format_g5(1e-5), "1e-05");
        assert_eq!(format_g5(123456.0), "1.2346e+05");
        assert_eq!(format_g5(0.5), "0.5");
        assert_eq!(format_g5(99999.7), "1e+05");
        assert_eq!(format_duration(111.4), "00h 01m 51s");
        assert_eq!(format_duration(3725.0), "01h 02m 05s");
    }
}
