//! Many `tunelab tune` workers on one study in a SQL database (SQLite, and PostgreSQL when the
//! test command gives one): the trial count holds, numbers and configurations are not
//! repeated, a worker killed with SIGKILL has its trial taken over from its last epoch,
//! Hyperband keeps KerasTuner's schedule, and bad input gets a clear error with nothing written.
//!
//! PostgreSQL: `TUNELAB_TEST_POSTGRES` is the URL of a throwaway server's maintenance database
//! (scripts/pg-throwaway.sh starts one); each test makes a database of its own there. Without
//! it the PostgreSQL tests say they skip, and fail when `TUNELAB_REQUIRE_POSTGRES=1`.
#![cfg(all(feature = "sql", not(target_arch = "wasm32")))]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_tunelab");

const SPEC: &str = r#"{"layers": [
  {"class_name": "Dense", "config": {"units": {"hp": "Int", "name": "units", "min_value": 2, "max_value": 64},
     "activation": {"hp": "Choice", "name": "act", "values": ["relu", "tanh"]}}},
  {"class_name": "Dense", "config": {"units": 2, "activation": "softmax"}}],
 "compile": {"optimizer": {"class_name": "adam", "config": {"learning_rate":
     {"hp": "Float", "name": "lr", "min_value": 1e-4, "max_value": 1e-1, "sampling": "log"}}},
  "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}}"#;

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tunelab-sql-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write_spec(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

/// A database for one test, with a way to read it back.
enum Backend {
    Sqlite(PathBuf),
    Postgres { url: String },
}

impl Backend {
    fn sqlite(dir: &Path) -> Backend {
        Backend::Sqlite(dir.join("study.db"))
    }

    /// A fresh database on the test server; `None` (said) when there is no server.
    fn postgres(name: &str) -> Option<Backend> {
        let Ok(admin) = std::env::var("TUNELAB_TEST_POSTGRES") else {
            if std::env::var("TUNELAB_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                panic!("TUNELAB_REQUIRE_POSTGRES=1 but TUNELAB_TEST_POSTGRES is not set");
            }
            eprintln!("skipping the PostgreSQL part: TUNELAB_TEST_POSTGRES is not set");
            return None;
        };
        let db = format!("tl_{name}");
        let mut c = postgres::Client::connect(&admin, postgres::NoTls).expect("test server");
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {db}"))
            .unwrap();
        c.batch_execute(&format!("CREATE DATABASE {db}")).unwrap();
        let (base, _) = admin.rsplit_once('/').unwrap();
        Some(Backend::Postgres {
            url: format!("{base}/{db}"),
        })
    }

    fn url(&self) -> String {
        match self {
            Backend::Sqlite(p) => format!("sqlite:///{}", p.display()),
            Backend::Postgres { url } => url.clone(),
        }
    }

    /// Rows of a query whose columns are all text.
    fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        match self {
            Backend::Sqlite(p) => {
                use rusqlite::types::ValueRef;
                let c = rusqlite::Connection::open(p).unwrap();
                let mut s = c.prepare(sql).unwrap();
                let n = s.column_count();
                s.query_map([], |r| {
                    (0..n)
                        .map(|i| {
                            Ok(match r.get_ref(i)? {
                                ValueRef::Null => String::new(),
                                ValueRef::Integer(x) => x.to_string(),
                                ValueRef::Real(x) => x.to_string(),
                                ValueRef::Text(t) | ValueRef::Blob(t) => {
                                    String::from_utf8_lossy(t).into_owned()
                                }
                            })
                        })
                        .collect::<rusqlite::Result<Vec<_>>>()
                })
                .unwrap()
                .map(|r| r.unwrap())
                .collect()
            }
            Backend::Postgres { url } => {
                let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
                c.query(sql, &[])
                    .unwrap()
                    .iter()
                    .map(|r| {
                        (0..r.len())
                            .map(|i| match *r.columns()[i].type_() {
                                postgres::types::Type::INT8 => {
                                    r.get::<_, Option<i64>>(i).map(|x| x.to_string())
                                }
                                postgres::types::Type::INT4 => {
                                    r.get::<_, Option<i32>>(i).map(|x| x.to_string())
                                }
                                _ => r.get::<_, Option<String>>(i),
                            })
                            .map(Option::unwrap_or_default)
                            .collect()
                    })
                    .collect()
            }
        }
    }

    fn exec(&self, sql: &str) {
        match self {
            Backend::Sqlite(p) => rusqlite::Connection::open(p)
                .unwrap()
                .execute_batch(sql)
                .unwrap(),
            Backend::Postgres { url } => postgres::Client::connect(url, postgres::NoTls)
                .unwrap()
                .batch_execute(sql)
                .unwrap(),
        }
    }

    /// A count, or `None` while the tables are not there yet.
    fn try_count(&self, sql: &str) -> Option<usize> {
        let n: i64 = match self {
            Backend::Sqlite(p) => rusqlite::Connection::open(p)
                .ok()?
                .query_row(sql, [], |r| r.get(0))
                .ok()?,
            Backend::Postgres { url } => postgres::Client::connect(url, postgres::NoTls)
                .ok()?
                .query_one(sql, &[])
                .ok()?
                .get(0),
        };
        Some(n as usize)
    }

    fn count(&self, sql: &str) -> usize {
        self.rows(sql)[0][0].parse().unwrap()
    }
}

fn tune(args: &[String]) -> Command {
    let mut c = Command::new(BIN);
    c.arg("tune").args(args);
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

/// Starts `n` workers at once and waits for all of them.
fn workers(n: usize, args: &[String]) -> Vec<Output> {
    let children: Vec<_> = (0..n).map(|_| tune(args).spawn().unwrap()).collect();
    children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect()
}

fn check_ok(outs: &[Output]) {
    for o in outs {
        assert!(
            o.status.success(),
            "a worker failed ({}): {}\n{}",
            o.status,
            String::from_utf8_lossy(&o.stderr),
            String::from_utf8_lossy(&o.stdout)
        );
    }
}

fn args(spec: &str, url: &str, study: &str, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = [
        spec,
        "--dataset",
        "circle",
        "--storage",
        url,
        "--study-name",
        study,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

/// The study's trials as (number, state) and each trial's params as one string.
fn trials_of(b: &Backend, study: &str) -> (Vec<(usize, String)>, Vec<String>) {
    let of_study =
        format!("t.study_id = (SELECT study_id FROM studies WHERE study_name = '{study}')");
    let trials = b
        .rows(&format!(
            "SELECT CAST(t.number AS TEXT), CAST(t.state AS TEXT) FROM trials t WHERE {of_study} ORDER BY t.number"
        ))
        .into_iter()
        .map(|r| (r[0].parse().unwrap(), r[1].clone()))
        .collect();
    let params = b.rows(&format!(
        "SELECT CAST(t.number AS TEXT), p.param_name, CAST(p.param_value AS TEXT) FROM trials t \
         JOIN trial_params p ON p.trial_id = t.trial_id WHERE {of_study} ORDER BY t.number, p.param_name"
    ));
    let mut configs: Vec<(usize, String)> = Vec::new();
    for r in params {
        let n: usize = r[0].parse().unwrap();
        let kv = format!("{}={};", r[1], r[2]);
        match configs.last_mut() {
            Some((m, s)) if *m == n => s.push_str(&kv),
            _ => configs.push((n, kv)),
        }
    }
    (trials, configs.into_iter().map(|(_, s)| s).collect())
}

fn four_workers_share_forty_trials(b: &Backend, dir: &Path) {
    let spec = write_spec(dir, "spec.json", SPEC);
    for tuner in ["random", "bayesian"] {
        let a = args(
            &spec,
            &b.url(),
            tuner,
            &[
                "--tuner",
                tuner,
                "--max-trials",
                "40",
                "--epochs",
                "10",
                "--json",
            ],
        );
        let outs = workers(4, &a);
        check_ok(&outs);
        let (trials, configs) = trials_of(b, tuner);
        assert_eq!(trials.len(), 40, "{tuner}: {trials:?}");
        let numbers: Vec<usize> = trials.iter().map(|(n, _)| *n).collect();
        assert_eq!(numbers, (0..40).collect::<Vec<_>>(), "{tuner}");
        assert!(
            trials.iter().all(|(_, s)| s == "COMPLETE"),
            "{tuner}: {trials:?}"
        );
        let mut unique = configs.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(configs.len(), 40, "{tuner}: every trial has params");
        assert_eq!(unique.len(), 40, "{tuner}: a configuration was repeated");
        let workers = b.count(&format!(
            "SELECT COUNT(DISTINCT a.value_json) FROM trial_system_attributes a JOIN trials t \
             ON a.trial_id = t.trial_id WHERE a.\"key\" = 'tunelab:worker' AND t.study_id = \
             (SELECT study_id FROM studies WHERE study_name = '{tuner}')"
        ));
        assert!(
            workers >= 2,
            "{tuner}: only {workers} worker(s) took trials"
        );
        // Every worker prints the whole study it saw at its end: 40 trials, none repeated.
        for o in &outs {
            let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            let n = doc["trials"].as_array().unwrap().len();
            assert_eq!(n, 40, "{tuner}: a worker's --json holds {n} trials");
        }
    }
}

#[test]
fn sqlite_four_workers_share_forty_trials() {
    let dir = temp_dir("four");
    four_workers_share_forty_trials(&Backend::sqlite(&dir), &dir);
}

#[test]
fn postgres_four_workers_share_forty_trials() {
    let dir = temp_dir("four-pg");
    if let Some(b) = Backend::postgres("four") {
        four_workers_share_forty_trials(&b, &dir);
    }
}

/// A worker killed with SIGKILL in the middle of a trial: two others take the trial over once
/// its heartbeat is older than the grace period, and resume it from its last stored epoch.
fn killed_worker_is_taken_over(b: &Backend, dir: &Path) {
    let spec = write_spec(dir, "spec.json", SPEC);
    let a = args(
        &spec,
        &b.url(),
        "killed",
        &[
            "--max-trials",
            "4",
            "--epochs",
            "400",
            "--heartbeat-interval",
            "0.3",
            "--grace-period",
            "1.5",
        ],
    );
    let mut victim = tune(&a).spawn().unwrap();
    let started = Instant::now();
    // Wait until the victim has stored a resume point (an epoch done), then kill it.
    loop {
        let stored = b
            .try_count("SELECT COUNT(*) FROM tunelab_files WHERE path LIKE 'trial_%/resume_0.bin'");
        if stored.is_some_and(|n| n > 0) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the worker stored no epoch in 60 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    victim.kill().unwrap(); // SIGKILL
    let out = victim.wait_with_output().unwrap();
    assert!(!out.status.success());
    let (before, _) = trials_of(b, "killed");
    let running: Vec<usize> = before
        .iter()
        .filter(|(_, s)| s == "RUNNING")
        .map(|(n, _)| *n)
        .collect();
    assert_eq!(
        running.len(),
        1,
        "the killed trial is left running: {before:?}"
    );
    let outs = workers(2, &a);
    check_ok(&outs);
    let (after, _) = trials_of(b, "killed");
    assert_eq!(after.len(), 4, "{after:?}");
    assert!(after.iter().all(|(_, s)| s == "COMPLETE"), "{after:?}");
    let said: String = outs
        .iter()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .collect();
    let id = format!("{}", running[0]);
    let line = said
        .lines()
        .find(|l| l.starts_with("Resuming trial") && l.contains(&format!("trial {id},")))
        .unwrap_or_else(|| panic!("no worker resumed trial {id}:\n{said}"));
    assert!(line.contains("after epoch"), "{line}");
    // Its learning curve has every epoch once, from the victim's epochs and the survivor's.
    let steps = b.count(&format!(
        "SELECT COUNT(*) FROM trial_intermediate_values v JOIN trials t ON v.trial_id = t.trial_id \
         WHERE t.number = {id} AND t.study_id = (SELECT study_id FROM studies WHERE study_name = 'killed')"
    ));
    assert_eq!(steps, 400);
}

#[test]
fn sqlite_killed_worker_is_taken_over() {
    let dir = temp_dir("killed");
    killed_worker_is_taken_over(&Backend::sqlite(&dir), &dir);
}

#[test]
fn postgres_killed_worker_is_taken_over() {
    let dir = temp_dir("killed-pg");
    if let Some(b) = Backend::postgres("killed") {
        killed_worker_is_taken_over(&b, &dir);
    }
}

/// Hyperband's trials as (epochs, initial_epoch, round), sorted.
fn schedule(b: &Backend, study: &str) -> Vec<(i64, i64, i64)> {
    let mut s: Vec<(i64, i64, i64)> = b
        .rows(&format!(
            "SELECT e.value_json, i.value_json, r.value_json FROM trials t \
             JOIN trial_user_attributes e ON e.trial_id = t.trial_id AND e.\"key\" = 'tuner/epochs' \
             JOIN trial_user_attributes i ON i.trial_id = t.trial_id AND i.\"key\" = 'tuner/initial_epoch' \
             JOIN trial_user_attributes r ON r.trial_id = t.trial_id AND r.\"key\" = 'tuner/round' \
             WHERE t.state = 'COMPLETE' AND t.study_id = (SELECT study_id FROM studies WHERE study_name = '{study}')"
        ))
        .iter()
        .map(|r| {
            (
                r[0].parse().unwrap(),
                r[1].parse().unwrap(),
                r[2].parse().unwrap(),
            )
        })
        .collect();
    s.sort();
    s
}

fn hyperband_keeps_its_schedule(b: &Backend, dir: &Path) {
    let spec = write_spec(dir, "spec.json", SPEC);
    let hb = [
        "--tuner",
        "hyperband",
        "--max-epochs",
        "9",
        "--factor",
        "3",
        "--objective",
        "val_accuracy",
    ];
    check_ok(&workers(1, &args(&spec, &b.url(), "one", &hb)));
    check_ok(&workers(3, &args(&spec, &b.url(), "three", &hb)));
    let one = schedule(b, "one");
    let three = schedule(b, "three");
    // KerasTuner's schedule for max_epochs 9, factor 3: brackets of 9, 5 and 3 new trials.
    assert_eq!(one.len(), 23, "{one:?}");
    assert_eq!(three, one);
    let total = b.count(
        "SELECT COUNT(*) FROM trials WHERE study_id = (SELECT study_id FROM studies WHERE study_name = 'three')",
    );
    assert_eq!(total, 23);
}

#[test]
fn sqlite_hyperband_three_workers_keep_its_schedule() {
    let dir = temp_dir("hb");
    hyperband_keeps_its_schedule(&Backend::sqlite(&dir), &dir);
}

#[test]
fn postgres_hyperband_three_workers_keep_its_schedule() {
    let dir = temp_dir("hb-pg");
    if let Some(b) = Backend::postgres("hb") {
        hyperband_keeps_its_schedule(&b, &dir);
    }
}

/// `tunelab tune ARGS` exits `code` (2: a usage error, found before any work; 1: the work
/// failed, here the study in the database refused it) with all of `needles` in its message.
fn fails_with(args: &[String], code: i32, needles: &[&str]) -> String {
    let out = tune(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "expected {n:?} in: {err}");
    }
    err
}

fn bad_input(b: &Backend, dir: &Path) {
    let spec = write_spec(dir, "spec.json", SPEC);
    let url = b.url();
    check_ok(&workers(
        1,
        &args(&spec, &url, "s", &["--max-trials", "3", "--epochs", "2"]),
    ));
    let trials = || b.count("SELECT COUNT(*) FROM trials");
    // Another search space under the same study name: refused, nothing written.
    let other = write_spec(
        dir,
        "other.json",
        &SPEC.replace("\"max_value\": 64", "\"max_value\": 32"),
    );
    let before = trials();
    fails_with(
        &args(&other, &url, "s", &["--max-trials", "6", "--epochs", "2"]),
        1,
        &["search space", "units", "--study-name"],
    );
    assert_eq!(trials(), before);
    // Another tuner: refused.
    fails_with(
        &args(
            &spec,
            &url,
            "s",
            &["--tuner", "bayesian", "--max-trials", "6"],
        ),
        1,
        &["tuner", "RandomSearch"],
    );
    assert_eq!(trials(), before);
    // The other objective direction: refused.
    fails_with(
        &args(
            &spec,
            &url,
            "s",
            &["--objective", "val_accuracy", "--max-trials", "6"],
        ),
        1,
        &["objective", "MINIMIZE"],
    );
    assert_eq!(trials(), before);
    // A study that Optuna made (no tunelab mark): refused.
    b.exec("INSERT INTO studies (study_name) VALUES ('made_by_optuna')");
    fails_with(
        &args(&spec, &url, "made_by_optuna", &["--max-trials", "3"]),
        1,
        &["made_by_optuna", "Optuna", "--study-name"],
    );
    // A schema of another Optuna version: refused, no study added.
    b.exec("UPDATE alembic_version SET version_num = 'v3.0.0.d'");
    let studies = b.count("SELECT COUNT(*) FROM studies");
    fails_with(
        &args(&spec, &url, "new_study", &["--max-trials", "3"]),
        1,
        &["v3.0.0.d", "v3.2.0.a", "optuna storage upgrade"],
    );
    assert_eq!(b.count("SELECT COUNT(*) FROM studies"), studies);
    assert_eq!(trials(), before);
}

#[test]
fn sqlite_bad_input_is_refused_with_nothing_written() {
    let dir = temp_dir("bad");
    bad_input(&Backend::sqlite(&dir), &dir);
    let spec = write_spec(&dir, "spec.json", SPEC);
    // Not a database at all.
    let junk = dir.join("junk.db");
    std::fs::write(
        &junk,
        b"this is not a database, just some text of some length....",
    )
    .unwrap();
    fails_with(
        &args(&spec, &format!("sqlite:///{}", junk.display()), "s", &[]),
        1,
        &["--storage", "not a database"],
    );
    // A folder that does not exist.
    fails_with(
        &args(&spec, "sqlite:///no/such/folder/x.db", "s", &[]),
        1,
        &["cannot open --storage", "no/such/folder/x.db"],
    );
    // A scheme tunelab does not speak, its password hidden.
    let err = fails_with(
        &args(&spec, "mysql://me:secret@localhost/db", "s", &[]),
        2,
        &["--storage", "sqlite:///PATH", "postgresql://"],
    );
    assert!(!err.contains("secret"), "{err}");
    // Study options without --storage.
    let mut a = vec![spec.clone(), "--dataset".into(), "circle".into()];
    a.extend(["--study-name".to_string(), "x".to_string()]);
    fails_with(&a, 2, &["--study-name", "only with --storage"]);
}

#[test]
fn postgres_bad_input_is_refused_with_nothing_written() {
    let dir = temp_dir("bad-pg");
    if let Some(b) = Backend::postgres("bad") {
        bad_input(&b, &dir);
    }
    let spec = write_spec(&dir, "spec.json", SPEC);
    // Nothing listens on port 1: a clear error, quickly.
    fails_with(
        &args(&spec, "postgresql://tunelab@127.0.0.1:1/study", "s", &[]),
        1,
        &["cannot connect to --storage postgresql://tunelab@127.0.0.1:1/study"],
    );
    // Wrong credentials (the test server asks `tunelab_pw` for a password), the password
    // never shown.
    if let Ok(admin) = std::env::var("TUNELAB_TEST_POSTGRES") {
        let host = admin
            .split_once('@')
            .map(|(_, h)| h.split('/').next().unwrap_or(h).to_string())
            .unwrap();
        let err = fails_with(
            &args(
                &spec,
                &format!("postgresql://tunelab_pw:wrong-secret@{host}/postgres"),
                "s",
                &[],
            ),
            1,
            &[
                "cannot connect",
                "password authentication failed",
                "tunelab_pw:***@",
            ],
        );
        assert!(!err.contains("wrong-secret"), "{err}");
    }
}
