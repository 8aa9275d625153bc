//! A search kept in a SQL database in Optuna's RDB schema, shared by many worker processes
//! (feature `sql`, native only).
//!
//! `SqlStorage` is a [`Storage`]: the tuner's documents map onto Optuna's tables:
//! - `oracle.json` (the search's shared state: trial list, retry queue, the algorithm's own
//!   state such as Hyperband's brackets) is the study system attribute `tunelab:oracle`;
//! - `trial_N/trial.json` becomes the Optuna trial number N: its state, start and end times,
//!   params with their distributions, value, per-epoch intermediate values (the objective of
//!   every epoch), user attributes (metrics at the best epoch, best step, Hyperband's
//!   `tuner/*` schedule, seconds, device, message) and the whole document as the trial system
//!   attribute `tunelab:trial`;
//! - everything else (per-epoch resume points, best-epoch checkpoints) goes into the table
//!   `tunelab_files`, which Optuna ignores.
//!
//! Workers coordinate through the database only: [`Storage::lock`] is a transaction that
//! holds the study's row (PostgreSQL `SELECT ... FOR UPDATE`, SQLite `BEGIN IMMEDIATE`), inside
//! which the tuner re-reads the search, decides and saves; a background thread writes each
//! running trial's heartbeat into `trial_heartbeats`; a running trial whose heartbeat is older
//! than the grace period is handed to the next worker that asks, which resumes it from its
//! last stored epoch.

mod db;

use crate::error::{Error, Result};
use crate::hp::hyperparameter::{HpKind, HyperParameter, Sampling};
use crate::hp::HyperParameters;
use crate::tuner::checkpoint;
use crate::tuner::objective::{Direction, ObjectiveSpec};
use crate::tuner::storage::Storage;
use db::{Db, Url, V};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The Alembic revision of the schema written here: Optuna 3.2 to 5.0 use it unchanged.
pub const OPTUNA_SCHEMA_REVISION: &str = "v3.2.0.a";
/// Optuna's `SCHEMA_VERSION` for that revision (its `version_info` row).
const OPTUNA_SCHEMA_VERSION: i64 = 12;
/// The Optuna release whose schema this is, recorded as `version_info.library_version`.
const OPTUNA_LIBRARY_VERSION: &str = "5.0.0";
/// The study system attribute that marks a study as tunelab's.
const MARK: &str = "tunelab:version";

/// How workers watch each other.
#[derive(Debug, Clone, Copy)]
pub struct SqlOptions {
    /// Seconds between a running trial's heartbeats.
    pub heartbeat_interval: f64,
    /// A running trial whose last heartbeat is older than this many seconds is taken over.
    pub grace_period: f64,
}

impl Default for SqlOptions {
    fn default() -> Self {
        SqlOptions {
            heartbeat_interval: 10.0,
            grace_period: 60.0,
        }
    }
}

/// A study in a SQL database (see the module's documentation).
pub struct SqlStorage {
    db: RefCell<Db>,
    url: Url,
    study_id: i64,
    study_name: String,
    objective: RefCell<Option<ObjectiveSpec>>,
    /// Inside the lock: every trial document of the study, read in one query (the tuner
    /// re-reads them all for each decision), kept up to date by writes.
    docs: RefCell<Option<std::collections::HashMap<i64, Vec<u8>>>>,
    /// Trial numbers to their rows (`trials.trial_id`), once seen.
    rows: RefCell<std::collections::HashMap<i64, i64>>,
    heart: Heartbeat,
    options: SqlOptions,
}

/// The tables, with `{id}` (an auto-numbered key), `{enum:NAME:LEN}`, `{datetime}`,
/// `{float}` and `{blob}` filled in for the dialect. Columns, keys and constraints are those
/// Optuna's models declare.
const SCHEMA: &str = r#"
CREATE TABLE studies (
    study_id {id},
    study_name VARCHAR(512) NOT NULL
);
CREATE UNIQUE INDEX ix_studies_study_name ON studies (study_name);
CREATE TABLE version_info (
    version_info_id INTEGER NOT NULL PRIMARY KEY CHECK (version_info_id = 1),
    schema_version INTEGER,
    library_version VARCHAR(256)
);
CREATE TABLE study_directions (
    study_direction_id {id},
    direction {enum:studydirection:8} NOT NULL,
    study_id INTEGER NOT NULL REFERENCES studies (study_id),
    objective INTEGER NOT NULL,
    UNIQUE (study_id, objective)
);
CREATE TABLE study_user_attributes (
    study_user_attribute_id {id},
    study_id INTEGER REFERENCES studies (study_id),
    "key" VARCHAR(512),
    value_json TEXT,
    UNIQUE (study_id, "key")
);
CREATE TABLE study_system_attributes (
    study_system_attribute_id {id},
    study_id INTEGER REFERENCES studies (study_id),
    "key" VARCHAR(512),
    value_json TEXT,
    UNIQUE (study_id, "key")
);
CREATE TABLE trials (
    trial_id {id},
    number INTEGER,
    study_id INTEGER REFERENCES studies (study_id),
    state {enum:trialstate:8} NOT NULL,
    datetime_start {datetime},
    datetime_complete {datetime}
);
CREATE INDEX ix_trials_study_id ON trials (study_id);
CREATE TABLE trial_user_attributes (
    trial_user_attribute_id {id},
    trial_id INTEGER REFERENCES trials (trial_id),
    "key" VARCHAR(512),
    value_json TEXT,
    UNIQUE (trial_id, "key")
);
CREATE TABLE trial_system_attributes (
    trial_system_attribute_id {id},
    trial_id INTEGER REFERENCES trials (trial_id),
    "key" VARCHAR(512),
    value_json TEXT,
    UNIQUE (trial_id, "key")
);
CREATE TABLE trial_params (
    param_id {id},
    trial_id INTEGER REFERENCES trials (trial_id),
    param_name VARCHAR(512),
    param_value {float},
    distribution_json TEXT,
    UNIQUE (trial_id, param_name)
);
CREATE TABLE trial_values (
    trial_value_id {id},
    trial_id INTEGER NOT NULL REFERENCES trials (trial_id),
    objective INTEGER NOT NULL,
    value {float},
    value_type {enum:trialvaluetype:7} NOT NULL,
    UNIQUE (trial_id, objective)
);
CREATE TABLE trial_intermediate_values (
    trial_intermediate_value_id {id},
    trial_id INTEGER NOT NULL REFERENCES trials (trial_id),
    step INTEGER NOT NULL,
    intermediate_value {float},
    intermediate_value_type {enum:trialintermediatevaluetype:7} NOT NULL,
    UNIQUE (trial_id, step)
);
CREATE TABLE trial_heartbeats (
    trial_heartbeat_id {id},
    trial_id INTEGER NOT NULL REFERENCES trials (trial_id),
    heartbeat {datetime} NOT NULL,
    UNIQUE (trial_id)
);
CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
CREATE TABLE tunelab_files (
    study_id INTEGER NOT NULL REFERENCES studies (study_id),
    path VARCHAR(512) NOT NULL,
    data {blob} NOT NULL,
    PRIMARY KEY (study_id, path)
);
"#;

/// PostgreSQL's enum types, as SQLAlchemy creates them for Optuna's models.
const PG_ENUMS: &str = "
CREATE TYPE studydirection AS ENUM ('NOT_SET', 'MINIMIZE', 'MAXIMIZE');
CREATE TYPE trialstate AS ENUM ('RUNNING', 'COMPLETE', 'PRUNED', 'FAIL', 'WAITING');
CREATE TYPE trialvaluetype AS ENUM ('FINITE', 'INF_POS', 'INF_NEG');
CREATE TYPE trialintermediatevaluetype AS ENUM ('FINITE', 'INF_POS', 'INF_NEG', 'NAN');
";

fn schema_sql(postgres: bool) -> String {
    let mut s = SCHEMA.to_string();
    let enums = [
        ("studydirection", 8),
        ("trialstate", 8),
        ("trialvaluetype", 7),
        ("trialintermediatevaluetype", 7),
    ];
    for (name, len) in enums {
        let token = format!("{{enum:{name}:{len}}}");
        let ty = if postgres {
            name.to_string()
        } else {
            format!("VARCHAR({len})")
        };
        s = s.replace(&token, &ty);
    }
    let (id, datetime, float, blob) = if postgres {
        (
            "SERIAL PRIMARY KEY",
            "TIMESTAMP WITHOUT TIME ZONE",
            "DOUBLE PRECISION",
            "BYTEA",
        )
    } else {
        ("INTEGER NOT NULL PRIMARY KEY", "DATETIME", "FLOAT", "BLOB")
    };
    s = s
        .replace("{id}", id)
        .replace("{datetime}", datetime)
        .replace("{float}", float)
        .replace("{blob}", blob);
    if postgres {
        format!("{PG_ENUMS}{s}")
    } else {
        s
    }
}

/// Writes the running trials' heartbeats from a thread of its own (with its own connection),
/// so a long epoch never looks like a dead worker.
struct Heartbeat {
    running: Arc<Mutex<Vec<i64>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Heartbeat {
    fn start(url: &Url, interval: f64) -> Heartbeat {
        let running: Arc<Mutex<Vec<i64>>> = Arc::default();
        let stop: Arc<AtomicBool> = Arc::default();
        let (r, s, u) = (running.clone(), stop.clone(), url.clone());
        let thread = std::thread::spawn(move || {
            let mut db: Option<Db> = None;
            let mut warned = false;
            let step = std::time::Duration::from_millis(50);
            let mut waited = 0.0;
            while !s.load(Ordering::SeqCst) {
                std::thread::sleep(step);
                waited += step.as_secs_f64();
                if waited < interval {
                    continue;
                }
                waited = 0.0;
                let ids = r.lock().map(|v| v.clone()).unwrap_or_default();
                if ids.is_empty() {
                    continue;
                }
                let result = (|| -> Result<()> {
                    if db.is_none() {
                        db = Some(Db::open(&u)?);
                    }
                    let Some(d) = db.as_mut() else {
                        return Ok(());
                    };
                    for id in ids {
                        beat(d, id)?;
                    }
                    Ok(())
                })();
                if let Err(e) = result {
                    db = None;
                    if !warned {
                        eprintln!("warning: cannot write a heartbeat ({e}); retrying");
                        warned = true;
                    }
                }
            }
        });
        Heartbeat {
            running,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn beat(db: &mut Db, trial_row: i64) -> Result<()> {
    let now = db.now_sql();
    db.exec(
        &format!(
            "INSERT INTO trial_heartbeats (trial_id, heartbeat) VALUES ($1, {now}) \
             ON CONFLICT (trial_id) DO UPDATE SET heartbeat = excluded.heartbeat"
        ),
        &[V::I(trial_row)],
    )?;
    Ok(())
}

/// This process, as `host:pid`.
fn worker_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into());
    format!("{}:{}", host.trim(), std::process::id())
}

/// Where an attribute goes: Optuna's four attribute tables share one shape.
#[derive(Clone, Copy)]
enum Attrs {
    Study,
    TrialUser,
    TrialSystem,
}

/// Sets attribute `key` of the study or trial `owner` to `json_text` (JSON, as Optuna stores it).
fn put_attr(db: &mut Db, table: Attrs, owner: i64, key: &str, json_text: String) -> Result<()> {
    let (table, owner_column) = match table {
        Attrs::Study => ("study_system_attributes", "study_id"),
        Attrs::TrialUser => ("trial_user_attributes", "trial_id"),
        Attrs::TrialSystem => ("trial_system_attributes", "trial_id"),
    };
    db.exec(
        &format!(
            "INSERT INTO {table} ({owner_column}, \"key\", value_json) VALUES ($1, $2, $3) \
             ON CONFLICT ({owner_column}, \"key\") DO UPDATE SET value_json = excluded.value_json"
        ),
        &[V::I(owner), V::T(key.into()), V::T(json_text)],
    )?;
    Ok(())
}

/// The trial number in `trial_<id>/trial.json` (ids are zero-padded numbers).
fn trial_doc_number(path: &str) -> Option<i64> {
    let id = path.strip_prefix("trial_")?.strip_suffix("/trial.json")?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    id.parse().ok()
}

impl SqlStorage {
    /// Opens (or creates) study `study_name` in the database at `url`, creating Optuna's
    /// tables in an empty database. `direction` is the objective's: a new study records it;
    /// an existing study must have the same one.
    pub fn open(
        url: &str,
        study_name: &str,
        objective: &ObjectiveSpec,
        options: SqlOptions,
    ) -> Result<SqlStorage> {
        let direction = objective.direction();
        if study_name.is_empty() || study_name.len() > 512 {
            return Err(Error::invalid(
                "--study-name",
                study_name,
                "a name of 1 to 512 characters",
            ));
        }
        for (field, v) in [
            ("heartbeat_interval", options.heartbeat_interval),
            ("grace_period", options.grace_period),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::invalid(field, v, "a number of seconds > 0"));
            }
        }
        if options.grace_period <= options.heartbeat_interval {
            return Err(Error::invalid(
                "grace_period",
                options.grace_period,
                format!(
                    "more seconds than heartbeat_interval ({})",
                    options.heartbeat_interval
                ),
            ));
        }
        let url = Url::parse(url)?;
        let mut db = Db::open(&url)?;
        let shown = url.shown();
        begin(&mut db, None)?;
        let opened = (|| -> Result<i64> {
            ensure_schema(&mut db, &shown)?;
            open_study(&mut db, &shown, study_name, direction, objective.name())
        })();
        let study_id = match opened {
            Ok(id) => {
                db.batch("COMMIT")?;
                id
            }
            Err(e) => {
                let _ = db.batch("ROLLBACK");
                return Err(e);
            }
        };
        let heart = Heartbeat::start(&url, options.heartbeat_interval);
        Ok(SqlStorage {
            db: RefCell::new(db),
            url,
            study_id,
            study_name: study_name.to_string(),
            objective: RefCell::new(None),
            docs: RefCell::new(None),
            rows: RefCell::default(),
            heart,
            options,
        })
    }

    /// The study's name.
    pub fn study_name(&self) -> &str {
        &self.study_name
    }

    fn trial_row(&self, number: i64) -> Result<Option<i64>> {
        if let Some(row) = self.rows.borrow().get(&number) {
            return Ok(Some(*row));
        }
        let rows = self.db.borrow_mut().query(
            "SELECT trial_id FROM trials WHERE study_id = $1 AND number = $2",
            &[V::I(self.study_id), V::I(number)],
        )?;
        let row = rows.first().and_then(|r| r[0].int());
        if let Some(row) = row {
            self.rows.borrow_mut().insert(number, row);
        }
        Ok(row)
    }

    fn objective(&self) -> Result<Option<ObjectiveSpec>> {
        if self.objective.borrow().is_none() {
            if let Some(bytes) = self.read("oracle.json")? {
                let v: Value = serde_json::from_slice(&bytes)
                    .map_err(|e| Error::parse(format!("oracle.json: {e}")))?;
                if let Some(o) = v.get("objective") {
                    *self.objective.borrow_mut() = serde_json::from_value(o.clone()).ok();
                }
            }
        }
        Ok(self.objective.borrow().clone())
    }

    /// Mirrors a trial document into Optuna's tables.
    fn write_trial(&self, number: i64, data: &[u8]) -> Result<()> {
        let doc: Value = serde_json::from_slice(data)
            .map_err(|e| Error::parse(format!("trial {number}: {e}")))?;
        let text = String::from_utf8_lossy(data).into_owned();
        let status = doc.get("status").and_then(|s| s.as_str()).unwrap_or("");
        let state = match status {
            "COMPLETED" => "COMPLETE",
            "FAILED" => "FAIL",
            // An invalid trial waits for its retry.
            "INVALID" => "WAITING",
            _ => "RUNNING",
        };
        let ended = matches!(state, "COMPLETE" | "FAIL");
        let objective = self.objective()?;
        let mut db = self.db.borrow_mut();
        let now = db.now_sql();
        let found = db.query(
            "SELECT trial_id FROM trials WHERE study_id = $1 AND number = $2",
            &[V::I(self.study_id), V::I(number)],
        )?;
        let row = match found.first().and_then(|r| r[0].int()) {
            Some(row) => {
                let complete = if ended {
                    format!(", datetime_complete = COALESCE(datetime_complete, {now})")
                } else {
                    ", datetime_complete = NULL".to_string()
                };
                db.exec(
                    &format!("UPDATE trials SET state = $1{complete} WHERE trial_id = $2"),
                    &[V::T(state.into()), V::I(row)],
                )?;
                row
            }
            None => {
                let complete = if ended { now.clone() } else { "NULL".into() };
                let r = db.query(
                    &format!(
                        "INSERT INTO trials (number, study_id, state, datetime_start, datetime_complete) \
                         VALUES ($1, $2, $3, {now}, {complete}) RETURNING trial_id"
                    ),
                    &[V::I(number), V::I(self.study_id), V::T(state.into())],
                )?;
                r.first()
                    .and_then(|r| r[0].int())
                    .ok_or_else(|| Error::state("the database returned no trial_id"))?
            }
        };
        if state == "RUNNING" && found.is_empty() {
            beat(&mut db, row)?;
        }
        // Params: the active hyperparameters with Optuna's distributions.
        db.exec("DELETE FROM trial_params WHERE trial_id = $1", &[V::I(row)])?;
        let hps = doc.get("hyperparameters");
        let values = hps
            .and_then(|h| h.get("values"))
            .and_then(|v| v.as_object());
        let used: Option<Vec<String>> = doc
            .get("used")
            .and_then(|u| serde_json::from_value(u.clone()).ok());
        let mut user: Vec<(String, Value)> = Vec::new();
        let parsed = hps.and_then(|h| HyperParameters::from_json(h).ok());
        let mut named: Vec<String> = Vec::new();
        if let (Some(values), Some(parsed)) = (values, &parsed) {
            for hp in parsed.space() {
                // One param per name: the definition whose conditions hold.
                if named.contains(&hp.name) || !hp.is_active(parsed.raw_values()) {
                    continue;
                }
                let Some(v) = values.get(&hp.name) else {
                    continue;
                };
                if hp.name.starts_with("tuner/") {
                    continue;
                }
                if used.as_ref().is_some_and(|u| !u.contains(&hp.name)) {
                    continue;
                }
                named.push(hp.name.clone());
                if let Some((internal, dist)) = distribution(hp, v) {
                    db.exec(
                        "INSERT INTO trial_params (trial_id, param_name, param_value, distribution_json) \
                         VALUES ($1, $2, $3, $4)",
                        &[V::I(row), V::T(hp.name.clone()), V::F(internal), V::T(dist)],
                    )?;
                }
            }
            for (k, v) in values {
                if k.starts_with("tuner/") {
                    user.push((k.clone(), v.clone()));
                }
            }
        }
        // The value.
        db.exec("DELETE FROM trial_values WHERE trial_id = $1", &[V::I(row)])?;
        if state == "COMPLETE" {
            if let Some(score) = doc.get("score").and_then(|s| s.as_f64()) {
                let (value, ty) = finite_or_inf(score);
                db.exec(
                    "INSERT INTO trial_values (trial_id, objective, value, value_type) VALUES ($1, 0, $2, $3)",
                    &[V::I(row), value, V::T(ty.into())],
                )?;
            }
        }
        // Intermediate values: the objective at every epoch (the mean over executions).
        if let Some(obj) = &objective {
            let initial = values
                .and_then(|v| v.get("tuner/initial_epoch"))
                .and_then(|v| v.as_i64())
                .unwrap_or(0);
            let curves = doc.get("curves").and_then(|c| c.as_array());
            if let Some(curves) = curves.filter(|c| !c.is_empty()) {
                let per_epoch = objective_curve(obj, curves);
                write_intermediate(&mut db, row, initial, &per_epoch)?;
            }
        }
        // Attributes.
        for key in [
            "metrics",
            "best_step",
            "seconds",
            "device",
            "message",
            "attempts",
        ] {
            if let Some(v) = doc.get(key).filter(|v| !v.is_null()) {
                put_attr(&mut db, Attrs::TrialUser, row, key, v.to_string())?;
            }
        }
        for (k, v) in &user {
            put_attr(&mut db, Attrs::TrialUser, row, k, v.to_string())?;
        }
        let id = json!(doc.get("trial_id")).to_string();
        put_attr(&mut db, Attrs::TrialSystem, row, "tunelab:trial_id", id)?;
        put_attr(&mut db, Attrs::TrialSystem, row, "tunelab:trial", text)?;
        Ok(())
    }

    /// A live resume point of execution 0: its history so far becomes the trial's intermediate
    /// values, so a dashboard shows the learning curve while the trial trains.
    fn write_progress(&self, number: i64, data: &[u8]) -> Result<()> {
        let Some(obj) = self.objective()? else {
            return Ok(());
        };
        let Some(row) = self.trial_row(number)? else {
            return Ok(());
        };
        let Ok((_, _, meta)) = checkpoint::decode_state(data) else {
            return Ok(());
        };
        let Some(history) = meta.get("history").and_then(|h| h.get("history")) else {
            return Ok(());
        };
        let first = meta
            .get("history")
            .and_then(|h| h.get("epoch"))
            .and_then(|e| e.as_array())
            .and_then(|e| e.first())
            .and_then(|e| e.as_i64())
            .unwrap_or(0);
        // One epoch more than the last resume point: only its value is new.
        let per_epoch = objective_curve(&obj, std::slice::from_ref(history));
        let Some(last) = per_epoch.last() else {
            return Ok(());
        };
        let step = first + per_epoch.len() as i64 - 1;
        let (value, ty) = if last.is_nan() {
            (V::Null, "NAN")
        } else {
            finite_or_inf(*last)
        };
        self.db.borrow_mut().exec(
            "INSERT INTO trial_intermediate_values (trial_id, step, intermediate_value, intermediate_value_type) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (trial_id, step) DO UPDATE SET \
             intermediate_value = excluded.intermediate_value, intermediate_value_type = excluded.intermediate_value_type",
            &[V::I(row), V::I(step), value, V::T(ty.into())],
        )?;
        Ok(())
    }
}

fn finite_or_inf(v: f64) -> (V, &'static str) {
    if v.is_finite() {
        (V::F(v), "FINITE")
    } else if v > 0.0 {
        (V::Null, "INF_POS")
    } else {
        (V::Null, "INF_NEG")
    }
}

/// The objective per epoch, averaged over the executions' curves (`{metric: [per epoch]}`).
fn objective_curve(obj: &ObjectiveSpec, curves: &[Value]) -> Vec<f64> {
    let mut sums: Vec<(f64, usize)> = Vec::new();
    for c in curves {
        let Some(m) = c.as_object() else { continue };
        let len = m
            .values()
            .filter_map(|v| v.as_array().map(|a| a.len()))
            .max()
            .unwrap_or(0);
        for i in 0..len {
            let at: Vec<(String, f64)> = m
                .iter()
                .filter_map(|(k, v)| {
                    let x = v.as_array()?.get(i)?;
                    Some((k.clone(), x.as_f64().unwrap_or(f64::NAN)))
                })
                .collect();
            if let Some(v) = obj.value(&at) {
                if sums.len() <= i {
                    sums.resize(i + 1, (0.0, 0));
                }
                sums[i].0 += v;
                sums[i].1 += 1;
            }
        }
    }
    sums.into_iter()
        .map(|(s, n)| if n == 0 { f64::NAN } else { s / n as f64 })
        .collect()
}

fn write_intermediate(db: &mut Db, row: i64, first_step: i64, values: &[f64]) -> Result<()> {
    db.exec(
        "DELETE FROM trial_intermediate_values WHERE trial_id = $1",
        &[V::I(row)],
    )?;
    // Up to 100 rows a statement (4 parameters a row).
    for (c, chunk) in values.chunks(100).enumerate() {
        let mut sql = String::from(
            "INSERT INTO trial_intermediate_values (trial_id, step, intermediate_value, intermediate_value_type) VALUES ",
        );
        let mut params = Vec::with_capacity(chunk.len() * 4);
        for (i, v) in chunk.iter().enumerate() {
            let (value, ty) = if v.is_nan() {
                (V::Null, "NAN")
            } else {
                finite_or_inf(*v)
            };
            let k = i * 4;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("(${}, ${}, ${}, ${})", k + 1, k + 2, k + 3, k + 4));
            params.extend([
                V::I(row),
                V::I(first_step + (c * 100 + i) as i64),
                value,
                V::T(ty.into()),
            ]);
        }
        db.exec(&sql, &params)?;
    }
    Ok(())
}

/// Optuna's internal value and distribution JSON for one hyperparameter's value.
fn distribution(hp: &HyperParameter, v: &Value) -> Option<(f64, String)> {
    let categorical = |choices: Vec<Value>| -> Option<(f64, String)> {
        let i = choices
            .iter()
            .position(|c| c == v || c.as_f64() == v.as_f64() && c.is_number())?;
        Some((
            i as f64,
            json!({"name": "CategoricalDistribution", "attributes": {"choices": choices}})
                .to_string(),
        ))
    };
    match &hp.kind {
        HpKind::Int {
            min_value,
            max_value,
            step,
            sampling,
        } => {
            let log = *sampling == Sampling::Log;
            // Optuna's log distributions take no step; its steps start at `low`.
            let step = if log { 1 } else { step.unwrap_or(1).max(1) };
            let high = min_value + (max_value - min_value) / step * step;
            Some((
                v.as_f64()?,
                json!({"name": "IntDistribution", "attributes":
                    {"log": log, "step": step, "low": min_value, "high": high}})
                .to_string(),
            ))
        }
        HpKind::Float {
            min_value,
            max_value,
            step,
            sampling,
        } => {
            let log = *sampling == Sampling::Log;
            let step = if log { None } else { *step };
            let high = match step {
                Some(s) if s > 0.0 => min_value + ((max_value - min_value) / s).floor() * s,
                _ => *max_value,
            };
            Some((
                v.as_f64()?,
                json!({"name": "FloatDistribution", "attributes":
                    {"step": step, "low": min_value, "high": high.max(*min_value), "log": log}})
                .to_string(),
            ))
        }
        HpKind::Choice { values, .. } => categorical(values.iter().map(|x| x.to_json()).collect()),
        HpKind::Boolean => categorical(vec![json!(false), json!(true)]),
        HpKind::Fixed { value } => categorical(vec![value.to_json()]),
    }
}

/// Starts the transaction that serialises the workers: SQLite takes the write lock at once;
/// PostgreSQL locks the study's row (or, before there is one, a transaction-level advisory lock).
fn begin(db: &mut Db, study_id: Option<i64>) -> Result<()> {
    if db.is_postgres() {
        db.batch("BEGIN")?;
        match study_id {
            Some(id) => {
                db.query(
                    "SELECT study_id FROM studies WHERE study_id = $1 FOR UPDATE",
                    &[V::I(id)],
                )?;
            }
            None => {
                db.exec("SELECT pg_advisory_xact_lock(74657561)", &[])?;
            }
        }
        Ok(())
    } else {
        db.batch("BEGIN IMMEDIATE")
    }
}

fn table_exists(db: &mut Db, name: &str) -> Result<bool> {
    let rows = if db.is_postgres() {
        db.query(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1",
            &[V::T(name.into())],
        )?
    } else {
        db.query(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1",
            &[V::T(name.into())],
        )?
    };
    Ok(!rows.is_empty())
}

/// Creates Optuna's tables in a database that has none; checks the revision of one that has.
fn ensure_schema(db: &mut Db, shown: &str) -> Result<()> {
    if table_exists(db, "alembic_version")? {
        let rows = db.query("SELECT version_num FROM alembic_version", &[])?;
        let found: Vec<String> = rows
            .iter()
            .filter_map(|r| r[0].text().map(str::to_string))
            .collect();
        if found != [OPTUNA_SCHEMA_REVISION] {
            return Err(Error::invalid(
                "--storage",
                format!(
                    "{shown} (Optuna schema revision {})",
                    if found.is_empty() {
                        "none".to_string()
                    } else {
                        found.join(", ")
                    }
                ),
                format!(
                    "a database in Optuna's schema revision {OPTUNA_SCHEMA_REVISION} (Optuna 3.2 to \
                     {OPTUNA_LIBRARY_VERSION}): upgrade it with `optuna storage upgrade --storage URL`, \
                     or use an empty database"
                ),
            ));
        }
        if !table_exists(db, "tunelab_files")? {
            let blob = if db.is_postgres() { "BYTEA" } else { "BLOB" };
            db.batch(&format!(
                "CREATE TABLE tunelab_files (study_id INTEGER NOT NULL REFERENCES studies (study_id), \
                 path VARCHAR(512) NOT NULL, data {blob} NOT NULL, PRIMARY KEY (study_id, path));"
            ))?;
        }
        return Ok(());
    }
    for t in ["studies", "trials"] {
        if table_exists(db, t)? {
            return Err(Error::invalid(
                "--storage",
                shown,
                format!(
                    "an empty database or one in Optuna's schema: this one has a table `{t}` but \
                     no `alembic_version`"
                ),
            ));
        }
    }
    db.batch(&schema_sql(db.is_postgres()))?;
    db.exec(
        "INSERT INTO alembic_version (version_num) VALUES ($1)",
        &[V::T(OPTUNA_SCHEMA_REVISION.into())],
    )?;
    db.exec(
        "INSERT INTO version_info (version_info_id, schema_version, library_version) VALUES (1, $1, $2)",
        &[
            V::I(OPTUNA_SCHEMA_VERSION),
            V::T(OPTUNA_LIBRARY_VERSION.into()),
        ],
    )?;
    Ok(())
}

fn open_study(
    db: &mut Db,
    shown: &str,
    name: &str,
    direction: Direction,
    metric: &str,
) -> Result<i64> {
    let dir = match direction {
        Direction::Max => "MAXIMIZE",
        Direction::Min => "MINIMIZE",
    };
    let rows = db.query(
        "SELECT study_id FROM studies WHERE study_name = $1",
        &[V::T(name.into())],
    )?;
    if let Some(id) = rows.first().and_then(|r| r[0].int()) {
        let mark = db.query(
            "SELECT value_json FROM study_system_attributes WHERE study_id = $1 AND \"key\" = $2",
            &[V::I(id), V::T(MARK.into())],
        )?;
        if mark.is_empty() {
            return Err(Error::invalid(
                "--study-name",
                name,
                format!(
                    "a study that tunelab created: study {name:?} in {shown} was made by Optuna \
                     (or another program), whose trials tunelab cannot continue; choose another \
                     --study-name"
                ),
            ));
        }
        let dirs = db.query(
            "SELECT direction FROM study_directions WHERE study_id = $1 ORDER BY objective",
            &[V::I(id)],
        )?;
        let found: Vec<String> = dirs
            .iter()
            .filter_map(|r| r[0].text().map(str::to_string))
            .collect();
        if found != [dir] {
            return Err(Error::invalid(
                "objective",
                format!("{} (direction {dir})", direction.as_str()),
                format!(
                    "the direction of study {name:?}, {}: use the objective it was started with, \
                     or another --study-name",
                    found.join(", ")
                ),
            ));
        }
        return Ok(id);
    }
    let id = db
        .query(
            "INSERT INTO studies (study_name) VALUES ($1) RETURNING study_id",
            &[V::T(name.into())],
        )?
        .first()
        .and_then(|r| r[0].int())
        .ok_or_else(|| Error::state("the database returned no study_id"))?;
    db.exec(
        "INSERT INTO study_directions (direction, study_id, objective) VALUES ($1, $2, 0)",
        &[V::T(dir.into()), V::I(id)],
    )?;
    let version = json!(env!("CARGO_PKG_VERSION")).to_string();
    put_attr(db, Attrs::Study, id, MARK, version)?;
    // Optuna's name for the objective, which its plots and the dashboard show.
    let names = json!([metric]).to_string();
    put_attr(db, Attrs::Study, id, "study:metric_names", names)?;
    Ok(id)
}

impl Storage for SqlStorage {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let mut db = self.db.borrow_mut();
        let rows = if path == "oracle.json" {
            db.query(
                "SELECT value_json FROM study_system_attributes WHERE study_id = $1 AND \"key\" = 'tunelab:oracle'",
                &[V::I(self.study_id)],
            )?
        } else if let Some(n) = trial_doc_number(path) {
            if let Some(docs) = self.docs.borrow().as_ref() {
                return Ok(docs.get(&n).cloned());
            }
            db.query(
                "SELECT a.value_json FROM trial_system_attributes a JOIN trials t ON a.trial_id = t.trial_id \
                 WHERE t.study_id = $1 AND t.number = $2 AND a.\"key\" = 'tunelab:trial'",
                &[V::I(self.study_id), V::I(n)],
            )?
        } else {
            db.query(
                "SELECT data FROM tunelab_files WHERE study_id = $1 AND path = $2",
                &[V::I(self.study_id), V::T(path.into())],
            )?
        };
        Ok(rows
            .into_iter()
            .next()
            .and_then(|mut r| r.remove(0).into_bytes()))
    }

    fn write(&mut self, path: &str, data: &[u8]) -> Result<()> {
        crate::tuner::storage::fault_before_write(data)?;
        if path == "oracle.json" {
            let text =
                std::str::from_utf8(data).map_err(|e| Error::parse(format!("oracle.json: {e}")))?;
            if let Ok(v) = serde_json::from_str::<Value>(text) {
                if let Some(o) = v.get("objective") {
                    *self.objective.borrow_mut() = serde_json::from_value(o.clone()).ok();
                }
            }
            return put_attr(
                &mut self.db.borrow_mut(),
                Attrs::Study,
                self.study_id,
                "tunelab:oracle",
                text.to_string(),
            );
        }
        if let Some(n) = trial_doc_number(path) {
            self.write_trial(n, data)?;
            if let Some(docs) = self.docs.borrow_mut().as_mut() {
                docs.insert(n, data.to_vec());
            }
            return Ok(());
        }
        self.db.borrow_mut().exec(
            "INSERT INTO tunelab_files (study_id, path, data) VALUES ($1, $2, $3) \
             ON CONFLICT (study_id, path) DO UPDATE SET data = excluded.data",
            &[V::I(self.study_id), V::T(path.into()), V::B(data.to_vec())],
        )?;
        // `trial_N/resume_0.bin`: execution 0's progress, shown as intermediate values.
        if let Some(id) = path
            .strip_prefix("trial_")
            .and_then(|p| p.strip_suffix("/resume_0.bin"))
        {
            if let Ok(n) = id.parse::<i64>() {
                self.write_progress(n, data)?;
            }
        }
        Ok(())
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let mut db = self.db.borrow_mut();
        let mut out = Vec::new();
        let oracle = db.query(
            "SELECT 1 FROM study_system_attributes WHERE study_id = $1 AND \"key\" = 'tunelab:oracle'",
            &[V::I(self.study_id)],
        )?;
        if !oracle.is_empty() {
            out.push("oracle.json".to_string());
        }
        for r in db.query(
            "SELECT a.value_json FROM trial_system_attributes a JOIN trials t ON a.trial_id = t.trial_id \
             WHERE t.study_id = $1 AND a.\"key\" = 'tunelab:trial_id' ORDER BY t.number",
            &[V::I(self.study_id)],
        )? {
            if let Some(Value::String(id)) = r[0].text().and_then(|t| serde_json::from_str(t).ok())
            {
                out.push(format!("trial_{id}/trial.json"));
            }
        }
        for r in db.query(
            "SELECT path FROM tunelab_files WHERE study_id = $1 ORDER BY path",
            &[V::I(self.study_id)],
        )? {
            if let Some(p) = r[0].text() {
                out.push(p.to_string());
            }
        }
        out.retain(|p| p.starts_with(prefix));
        Ok(out)
    }

    fn clear(&mut self) -> Result<()> {
        self.rows.borrow_mut().clear();
        let mut db = self.db.borrow_mut();
        let sid = V::I(self.study_id);
        let of_trials = "trial_id IN (SELECT trial_id FROM trials WHERE study_id = $1)";
        for table in [
            "trial_params",
            "trial_values",
            "trial_intermediate_values",
            "trial_user_attributes",
            "trial_system_attributes",
            "trial_heartbeats",
        ] {
            db.exec(
                &format!("DELETE FROM {table} WHERE {of_trials}"),
                std::slice::from_ref(&sid),
            )?;
        }
        db.exec(
            "DELETE FROM trials WHERE study_id = $1",
            std::slice::from_ref(&sid),
        )?;
        db.exec(
            "DELETE FROM tunelab_files WHERE study_id = $1",
            std::slice::from_ref(&sid),
        )?;
        db.exec(
            "DELETE FROM study_system_attributes WHERE study_id = $1 AND \"key\" = 'tunelab:oracle'",
            &[sid],
        )?;
        Ok(())
    }

    fn location(&self) -> String {
        format!("{} (study {})", self.url.shown(), self.study_name)
    }

    fn shared(&self) -> bool {
        true
    }

    fn lock(&mut self) -> Result<()> {
        let mut db = self.db.borrow_mut();
        begin(&mut db, Some(self.study_id))?;
        let rows = db.query(
            "SELECT t.number, a.value_json FROM trial_system_attributes a JOIN trials t ON a.trial_id = t.trial_id \
             WHERE t.study_id = $1 AND a.\"key\" = 'tunelab:trial'",
            &[V::I(self.study_id)],
        );
        match rows {
            Ok(rows) => {
                let docs = rows
                    .into_iter()
                    .filter_map(|mut r| {
                        let doc = r.pop()?.into_bytes()?;
                        Some((r.first()?.int()?, doc))
                    })
                    .collect();
                *self.docs.borrow_mut() = Some(docs);
                Ok(())
            }
            Err(e) => {
                let _ = db.batch("ROLLBACK");
                Err(e)
            }
        }
    }

    fn unlock(&mut self, commit: bool) -> Result<()> {
        *self.docs.borrow_mut() = None;
        self.db
            .borrow_mut()
            .batch(if commit { "COMMIT" } else { "ROLLBACK" })
    }

    fn abandoned(&mut self) -> Result<Vec<usize>> {
        let mut db = self.db.borrow_mut();
        let age_beat = db.age_sql("h.heartbeat");
        let age_start = db.age_sql("t.datetime_start");
        let mine = self
            .heart
            .running
            .lock()
            .map(|v| v.clone())
            .unwrap_or_default();
        let rows = db.query(
            &format!(
                "SELECT t.number, t.trial_id, {age_beat}, {age_start} FROM trials t \
                 LEFT JOIN trial_heartbeats h ON h.trial_id = t.trial_id \
                 WHERE t.study_id = $1 AND t.state = $2"
            ),
            &[V::I(self.study_id), V::T("RUNNING".into())],
        )?;
        let grace = self.options.grace_period;
        Ok(rows
            .iter()
            .filter(|r| !r[1].int().is_some_and(|id| mine.contains(&id)))
            .filter(|r| match r[2].float() {
                Some(age) => age > grace,
                None => r[3].float().is_none_or(|a| a > grace),
            })
            .filter_map(|r| r[0].int().map(|n| n as usize))
            .collect())
    }

    fn set_running(&mut self, numbers: &[usize]) -> Result<()> {
        let mut rows = Vec::new();
        for &n in numbers {
            if let Some(row) = self.trial_row(n as i64)? {
                rows.push(row);
            }
        }
        let fresh: Vec<i64> = {
            let old = self
                .heart
                .running
                .lock()
                .map(|v| v.clone())
                .unwrap_or_default();
            rows.iter().filter(|r| !old.contains(r)).copied().collect()
        };
        for row in fresh {
            let mut db = self.db.borrow_mut();
            beat(&mut db, row)?;
            // Which worker runs it (the last one, after a takeover).
            let worker = json!(worker_name()).to_string();
            put_attr(&mut db, Attrs::TrialSystem, row, "tunelab:worker", worker)?;
        }
        if let Ok(mut r) = self.heart.running.lock() {
            *r = rows;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_fills_every_token() {
        for pg in [false, true] {
            let s = schema_sql(pg);
            assert!(!s.contains('{'), "{s}");
            assert_eq!(s.matches("CREATE TABLE").count(), 14);
        }
        assert!(schema_sql(true).contains("CREATE TYPE trialstate"));
    }

    #[test]
    fn trial_paths() {
        assert_eq!(trial_doc_number("trial_03/trial.json"), Some(3));
        assert_eq!(trial_doc_number("trial_03/checkpoint.bin"), None);
        assert_eq!(trial_doc_number("trial_x/trial.json"), None);
    }

    #[test]
    fn distributions_follow_optuna() {
        let hp = HyperParameter::new(
            "units",
            HpKind::Int {
                min_value: 32,
                max_value: 500,
                step: Some(32),
                sampling: Sampling::Linear,
            },
        );
        let (v, d) = distribution(&hp, &json!(64)).unwrap();
        assert_eq!(v, 64.0);
        assert!(
            d.contains("\"high\":480") && d.contains("\"step\":32"),
            "{d}"
        );
        let hp = HyperParameter::new(
            "act",
            HpKind::Choice {
                values: vec!["relu".into(), "tanh".into()],
                ordered: false,
            },
        );
        let (v, d) = distribution(&hp, &json!("tanh")).unwrap();
        assert_eq!(v, 1.0);
        assert!(d.contains("CategoricalDistribution"), "{d}");
    }

    #[test]
    fn objective_per_epoch_is_the_mean_over_executions() {
        let obj = ObjectiveSpec::Single(crate::tuner::objective::Objective::new(
            "val_loss",
            Direction::Min,
        ));
        let c = vec![
            json!({"loss": [1.0, 0.5], "val_loss": [2.0, 1.0]}),
            json!({"loss": [1.0, 0.5], "val_loss": [4.0, 3.0]}),
        ];
        assert_eq!(objective_curve(&obj, &c), vec![3.0, 2.0]);
    }
}
