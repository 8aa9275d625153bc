//! What a tuner shows and exports: KerasTuner's live display, `search_space_summary`,
//! `results_summary`, and every trial as JSON or CSV.

use crate::error::{Error, Result};
use crate::hp::{py_float, Value as HpValue};
use crate::tuner::objective::ObjectiveSpec;
use crate::tuner::storage::Storage;
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

    /// All trials as JSON: `{"trials": [...], "best_hyperparameters": {...}}`, each trial with
    /// `trial_id`, `status`, `hyperparameters` (the values it used), `hyperband` (its schedule
    /// from the `tuner/` values: `epochs`, `initial_epoch`, `bracket`, `round` and `parent`,
    /// the trial it continues; `null` outside Hyperband), `score`, `best_step`, `metrics` (of
    /// the best epoch), `message`, `seconds`, `device` and `curves` (per execution, each
    /// metric's value by epoch). The page's JSON export is this.
    pub fn trials_json(&self) -> Result<Value> {
        let best = self.oracle.get_best_trials(1)?;
        Ok(trials_document(&self.oracle.trials()?, best.first()))
    }

    /// All trials as CSV, one row each: `trial_id`, `status`, `score`, `best_step`, every
    /// hyperparameter and every metric seen in any trial (empty where a trial did not use it),
    /// `device`, `message`. Text that a spreadsheet would run as a formula is defused (see
    /// [`csv_text`]); numbers are written as they are.
    pub fn trials_csv(&self) -> Result<String> {
        Ok(trials_csv_of(&self.oracle.trials()?))
    }
}

/// Every trial stored in `storage` (its `trial_N/trial.json` files), in trial order: what
/// [`trials_document`] and [`trials_csv_of`] export while a search holds the tuner (the page's
/// export buttons during a search).
pub fn stored_trials(storage: &dyn Storage) -> Result<Vec<Trial>> {
    let mut trials = Vec::new();
    for path in storage.list("trial_")? {
        if !path.ends_with("/trial.json") {
            continue;
        }
        let Some(bytes) = storage.read(&path)? else {
            continue;
        };
        let v: Value =
            serde_json::from_slice(&bytes).map_err(|e| Error::parse(format!("{path}: {e}")))?;
        trials.push(Trial::from_json(&v).map_err(|e| Error::parse(format!("{path}: {e}")))?);
    }
    // ids are numbers written with leading zeros (or, in old projects, without): by length,
    // then text, puts "9" before "10"
    trials.sort_by(|a, b| (a.trial_id.len(), &a.trial_id).cmp(&(b.trial_id.len(), &b.trial_id)));
    Ok(trials)
}

/// The completed trial with the best score for `objective`, if any (as the oracle ranks).
pub fn best_of<'a>(trials: &'a [Trial], objective: &ObjectiveSpec) -> Option<&'a Trial> {
    trials
        .iter()
        .filter(|t| t.status == TrialStatus::Completed && t.score.is_some())
        .fold(None, |best: Option<&Trial>, t| match best {
            Some(b)
                if !objective.better(t.score.unwrap_or(f64::NAN), b.score.unwrap_or(f64::NAN)) =>
            {
                Some(b)
            }
            _ => Some(t),
        })
}

/// The trials export: `{"trials": [...], "best_hyperparameters": {...} | null}`, each trial as
/// [`Tuner::trials_json`] describes. The CLI's `--json`, the npm package's `trialsJSON()` and
/// the page's "Trials (JSON)" button all write this.
pub fn trials_document(trials: &[Trial], best: Option<&Trial>) -> Value {
    let list: Vec<Value> = trials.iter().map(trial_json).collect();
    let best = best.map(|t| json!(t.used_values())).unwrap_or(Value::Null);
    json!({"trials": list, "best_hyperparameters": best})
}

/// The trials as CSV (see [`Tuner::trials_csv`]): the CLI's `--csv`, the npm package's
/// `trialsCSV()` and the page's "Trials (CSV)" button.
pub fn trials_csv_of(all: &[Trial]) -> String {
    let mut hp_names: Vec<String> = Vec::new();
    let mut metric_names: Vec<String> = Vec::new();
    for t in all {
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
    let mut header: Vec<String> = ["trial_id", "status", "score", "best_step"]
        .iter()
        .map(|h| csv_text(h))
        .collect();
    header.extend(hp_names.iter().map(|h| csv_text(h)));
    header.extend(metric_names.iter().map(|m| csv_text(m)));
    header.push(csv_text("device"));
    header.push(csv_text("message"));
    let mut out = header.join(",") + "\n";
    for t in all {
        let values = t.used_values();
        let mut row = vec![
            csv_text(&t.trial_id),
            csv_text(t.status.as_str()),
            t.score.map(py_float).unwrap_or_default(),
            t.best_step.map(|s| s.to_string()).unwrap_or_default(),
        ];
        for h in &hp_names {
            row.push(values.get(h).map(csv_value).unwrap_or_default());
        }
        for m in &metric_names {
            row.push(t.metric(m).map(py_float).unwrap_or_default());
        }
        row.push(t.device.as_deref().map(csv_text).unwrap_or_default());
        row.push(t.message.as_deref().map(csv_text).unwrap_or_default());
        out += &row.join(",");
        out.push('\n');
    }
    out
}

/// One trial of [`Tuner::trials_json`].
fn trial_json(t: &Trial) -> Value {
    let metrics: serde_json::Map<String, Value> = t
        .metrics
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let curves: Vec<Value> = t
        .curves
        .iter()
        .map(|c| Value::Object(c.iter().map(|(k, v)| (k.clone(), json!(v))).collect()))
        .collect();
    json!({
        "trial_id": t.trial_id,
        "status": t.status.as_str(),
        "hyperparameters": t.used_values(),
        "hyperband": hyperband_of(t),
        "score": t.score,
        "best_step": t.best_step,
        "metrics": metrics,
        "message": t.message,
        "seconds": t.seconds,
        "device": t.device,
        "curves": curves,
    })
}

/// A Hyperband trial's schedule, from the `tuner/` values the oracle gave it; `null` for a
/// trial of another oracle.
fn hyperband_of(t: &Trial) -> Value {
    let values = t.hyperparameters.values();
    let mut out = serde_json::Map::new();
    for (key, name) in [
        ("tuner/epochs", "epochs"),
        ("tuner/initial_epoch", "initial_epoch"),
        ("tuner/bracket", "bracket"),
        ("tuner/round", "round"),
        ("tuner/trial_id", "parent"),
    ] {
        if let Some(v) = values.get(key) {
            out.insert(name.to_string(), v.to_json());
        }
    }
    if out.is_empty() {
        Value::Null
    } else {
        Value::Object(out)
    }
}

/// A CSV cell of text. Text that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
/// gets a leading apostrophe, so that a spreadsheet opening the file shows it instead of
/// running it as a formula (CSV injection); such a cell, and one holding a quote, a comma or
/// a line break, is quoted, its quotes doubled. Numbers are not text: a negative number stays
/// a number (write numbers as they are).
pub(crate) fn csv_text(s: &str) -> String {
    let guarded = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if guarded {
        format!("\"'{}\"", s.replace('"', "\"\""))
    } else if s.contains(['"', ',', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A hyperparameter's value as a CSV cell: numbers as they are, text (strings, booleans)
/// through [`csv_text`].
fn csv_value(v: &HpValue) -> String {
    match v {
        HpValue::Int(_) | HpValue::Float(_) => v.to_string(),
        HpValue::Bool(_) | HpValue::Str(_) => csv_text(&v.to_string()),
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

    #[test]
    fn csv_text_defuses_formulas_and_quotes_as_the_page_did() {
        // A leading = + - @ tab or CR: an apostrophe, and quoted.
        assert_eq!(csv_text("=cmd|' /C calc'!A0"), "\"'=cmd|' /C calc'!A0\"");
        assert_eq!(csv_text("=1+1"), "\"'=1+1\"");
        assert_eq!(csv_text("+1"), "\"'+1\"");
        assert_eq!(csv_text("-relu"), "\"'-relu\"");
        assert_eq!(csv_text("@x"), "\"'@x\"");
        assert_eq!(csv_text("\tx"), "\"'\tx\"");
        assert_eq!(csv_text("\rx"), "\"'\rx\"");
        // Quotes doubled, commas and line breaks quoted, nothing prefixed.
        assert_eq!(csv_text("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_text("a,b"), "\"a,b\"");
        assert_eq!(csv_text("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(csv_text("=\"x\",1"), "\"'=\"\"x\"\",1\"");
        // Plain text as it is; a formula character later in the text is harmless.
        assert_eq!(csv_text("relu"), "relu");
        assert_eq!(csv_text("a=b"), "a=b");
        assert_eq!(csv_text(""), "");
        // Numbers are never prefixed: a negative one stays a number.
        assert_eq!(csv_value(&HpValue::Float(-0.5)), "-0.5");
        assert_eq!(csv_value(&HpValue::Int(-3)), "-3");
        assert_eq!(csv_value(&HpValue::Str("-relu".into())), "\"'-relu\"");
        assert_eq!(csv_value(&HpValue::Str("-0.5".into())), "\"'-0.5\"");
        assert_eq!(csv_value(&HpValue::Bool(false)), "False");
    }

    #[test]
    fn trials_csv_guards_text_cells_and_keeps_numbers() {
        use crate::error::Error;
        use crate::nn::model::FitArgs;
        use crate::tensor::Tensor;
        use crate::tuner::hypermodel::FitResult;
        use crate::tuner::oracle::OracleConfig;
        use crate::tuner::oracles::GridSearch;
        use crate::tuner::tuner::TunerConfig;
        let mut tuner = Tuner::from_fn(
            Box::new(GridSearch::new()),
            |trial: &mut Trial| {
                let hp = &mut trial.hyperparameters;
                let act = hp
                    .choice("act", vec![HpValue::from("-relu"), HpValue::from("=1+1")])
                    .get()?;
                hp.fixed("lr", -0.5).get()?;
                match act.as_str() {
                    Some("-relu") => Ok(FitResult::Value(-0.25)),
                    _ => Err(Error::FailedTrial("@bad, \"quoted\"\nline".into())),
                }
            },
            None,
            TunerConfig {
                oracle: OracleConfig {
                    max_trials: None,
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .unwrap();
        tuner
            .search(
                &Tensor::zeros(&[1, 1]),
                &Tensor::zeros(&[1, 1]),
                &FitArgs::default(),
            )
            .unwrap();
        let csv = tuner.trials_csv().unwrap();
        assert_eq!(
            csv,
            "trial_id,status,score,best_step,act,lr,default_objective,device,message\n\
             0000,COMPLETED,-0.25,,\"'-relu\",-0.5,-0.25,cpu,\n\
             0001,FAILED,,,\"'=1+1\",-0.5,,cpu,\"'@bad, \"\"quoted\"\"\nline\"\n"
        );
        let j = tuner.trials_json().unwrap();
        let t = &j["trials"][1];
        assert_eq!(t["hyperparameters"]["act"], "=1+1");
        assert_eq!(t["message"], "@bad, \"quoted\"\nline");
        assert_eq!(t["hyperband"], Value::Null);
        assert_eq!(j["trials"][0]["score"], -0.25);
        // What a search in progress exports (read from the storage) is the same document.
        let stored = stored_trials(tuner.oracle.storage()).unwrap();
        let objective = crate::tuner::objective::ObjectiveSpec::default();
        assert_eq!(trials_document(&stored, best_of(&stored, &objective)), j);
        assert_eq!(trials_csv_of(&stored), csv);
    }
}
