//! Kill and resume (issue 9): `tunelab tune` killed with SIGKILL at random moments, 20 times,
//! and stopped half-way through writing a file (a checkpoint, a trial, oracle.json), then run
//! again until the search ends. After every interruption the completed trials are all there and
//! unchanged, the numbering continues, and the next run continues the interrupted trial after
//! its last completed epoch; the final trials equal an uninterrupted run's with the same seed.
#![cfg(not(target_arch = "wasm32"))]

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

const SPEC: &str = r#"{
  "layers": [
    {"class_name": "Dense", "config": {"units": {"hp": "Int", "name": "units", "min_value": 16, "max_value": 96, "step": 16}, "activation": "relu"}},
    {"class_name": "Dense", "config": {"units": 10, "activation": "softmax"}}
  ],
  "compile": {
    "optimizer": {"class_name": "adam", "config": {"learning_rate": {"hp": "Float", "name": "lr", "min_value": 0.001, "max_value": 0.03, "sampling": "log"}}},
    "loss": "sparse_categorical_crossentropy",
    "metrics": ["accuracy"]
  }
}"#;

const EPOCHS: usize = 20;

/// A small deterministic generator for the kill moments (xorshift64*).
struct Moments(u64);

impl Moments {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn start(spec: &Path, dir: &Path, out: &Path, env: &[(&str, String)]) -> Child {
    start_with(
        &["--tuner", "random", "--max-trials", "5"],
        spec,
        dir,
        out,
        env,
    )
}

fn start_with(
    tuner: &[&str],
    spec: &Path,
    dir: &Path,
    out: &Path,
    env: &[(&str, String)],
) -> Child {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tunelab"));
    c.arg("tune")
        .arg(spec)
        .args(["--dataset", "digits"])
        .args(tuner)
        .args(["--epochs", &EPOCHS.to_string(), "--seed", "11"])
        .arg("--directory")
        .arg(dir)
        .args(["--project-name", "p", "--device", "cpu"])
        .stdout(std::fs::File::create(out).unwrap())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    c.spawn().unwrap()
}

/// Every stored trial: id -> trial.json (as written; every file must parse).
fn trials(dir: &Path) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir.join("p")) else {
        return out;
    };
    for e in entries {
        let p = e.unwrap().path();
        let f = p.join("trial.json");
        if p.is_dir() && f.exists() {
            let text = std::fs::read_to_string(&f).unwrap();
            let v: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not whole JSON ({e}): {text}", f.display()));
            out.insert(v["trial_id"].as_str().unwrap().to_string(), v);
        }
    }
    out
}

/// What must not change about a trial: its values, status, score and metrics.
fn essence(t: &Value) -> Value {
    serde_json::json!([
        t["trial_id"],
        t["hyperparameters"]["values"],
        t["status"],
        t["score"],
        t["metrics"]
    ])
}

fn completed(ts: &BTreeMap<String, Value>) -> Vec<String> {
    ts.iter()
        .filter(|(_, t)| t["status"] == "COMPLETED")
        .map(|(id, _)| id.clone())
        .collect()
}

/// The last completed epoch (1-based) stored in a running trial's resume point.
fn resume_epoch(dir: &Path, id: &str) -> Option<u64> {
    let bytes = std::fs::read(dir.join("p").join(format!("trial_{id}/resume_0.bin"))).ok()?;
    let (_, meta) = tunelab::tuner::checkpoint::decode(&bytes).ok()?;
    if meta.get("done").and_then(|d| d.as_bool()) == Some(true) {
        return None;
    }
    Some(meta.get("epoch")?.as_u64()? + 1)
}

fn check_against(
    reference: &BTreeMap<String, Value>,
    now: &BTreeMap<String, Value>,
    was: &[String],
) {
    // Numbering continues: ids are 0, 1, 2, ... with no gap and no restart.
    let ids: Vec<&String> = now.keys().collect();
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(id.parse::<usize>().unwrap(), i, "trial ids {ids:?}");
    }
    for id in was {
        let t = now
            .get(id)
            .unwrap_or_else(|| panic!("completed trial {id} was lost"));
        assert_eq!(t["status"], "COMPLETED", "trial {id} was completed");
    }
    for id in completed(now) {
        assert_eq!(essence(&now[&id]), essence(&reference[&id]), "trial {id}");
    }
}

/// After an interruption: checks what is stored against the reference and the trials completed
/// before; returns the completed trials now and the running trial's id with its stored epoch
/// (where the next run must say it continues).
fn after_interruption(
    reference: &BTreeMap<String, Value>,
    dir: &Path,
    was: &[String],
) -> (Vec<String>, Option<(String, u64)>) {
    let now = trials(dir);
    check_against(reference, &now, was);
    let running = now
        .iter()
        .find(|(_, t)| t["status"] == "RUNNING")
        .and_then(|(id, _)| resume_epoch(dir, id).map(|e| (id.clone(), e)));
    (completed(&now), running)
}

#[test]
fn a_search_killed_20_times_ends_as_an_uninterrupted_one() {
    let base: PathBuf = std::env::temp_dir().join(format!("tunelab-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    let spec = base.join("spec.json");
    std::fs::write(&spec, SPEC).unwrap();
    let log = base.join("out.txt");

    // The uninterrupted run.
    let t0 = Instant::now();
    let status = start(&spec, &base.join("ref"), &log, &[]).wait().unwrap();
    let full = t0.elapsed();
    assert!(status.success());
    let reference = trials(&base.join("ref"));
    assert_eq!(completed(&reference).len(), 5);

    let dir = base.join("run");
    let mut moments = Moments(0x9E37_79B9_7F4A_7C15);
    let mut done: Vec<String> = Vec::new();
    let mut kills = 0;
    let mut resumes = 0;
    let mut expect_resume: Option<(String, u64)> = None;
    let check_run = |out: &Path, expect: &Option<(String, u64)>, resumes: &mut usize| {
        if let Some((id, epoch)) = expect {
            let text = std::fs::read_to_string(out).unwrap();
            let line =
                format!("Resuming trial {id}, execution 1 of 1, after epoch {epoch} of {EPOCHS}");
            // A run killed before it got to the trial says nothing; one that continued it or
            // finished a trial (the interrupted one runs first) must say where it went on.
            if text.contains("Resuming") || text.contains(" Complete [") {
                assert!(text.contains(&line), "expected {line:?} in:\n{text}");
                *resumes += 1;
            }
        }
    };

    // 20 kills at random moments, each 1-5% of a whole run after its start (startup included),
    // so that all 20 land before the search ends.
    while kills < 20 {
        let mut child = start(&spec, &dir, &log, &[]);
        let wait = full.mul_f64(0.01 + 0.04 * moments.next());
        std::thread::sleep(wait);
        if child.try_wait().unwrap().is_some() {
            panic!(
                "the search ended before kill {} (make it longer)",
                kills + 1
            );
        }
        child.kill().unwrap();
        child.wait().unwrap();
        kills += 1;
        check_run(&log, &expect_resume, &mut resumes);
        (done, expect_resume) = after_interruption(&reference, &dir, &done);
    }

    // Stopped half-way through writing a file: the n-th write of the run aborts the process
    // with half a temporary file on disk (a checkpoint, a trial.json or oracle.json).
    let mut torn = 0;
    for n in [3u64, 7, 12, 18, 25] {
        let mut child = start(
            &spec,
            &dir,
            &log,
            &[("TUNELAB_FAULT_CRASH_AT_WRITE", n.to_string())],
        );
        let status = child.wait().unwrap();
        if status.success() {
            break; // the search ended first
        }
        torn += 1;
        check_run(&log, &expect_resume, &mut resumes);
        (done, expect_resume) = after_interruption(&reference, &dir, &done);
    }
    assert!(torn >= 3, "only {torn} runs stopped in a write");

    // Then to the end, uninterrupted.
    let status = start(&spec, &dir, &log, &[]).wait().unwrap();
    assert!(status.success());
    check_run(&log, &expect_resume, &mut resumes);
    let end = trials(&dir);
    assert_eq!(
        end.values().map(essence).collect::<Vec<_>>(),
        reference.values().map(essence).collect::<Vec<_>>(),
        "the interrupted search ends with the same trials"
    );
    // Every epoch of every trial is in its curve once.
    for t in end.values() {
        let loss = t["curves"][0]["loss"].as_array().unwrap();
        assert_eq!(loss.len(), EPOCHS, "trial {}", t["trial_id"]);
    }
    assert!(resumes >= 5, "only {resumes} runs continued a trial");
    eprintln!("{kills} kills, {torn} torn writes, {resumes} trials continued after their last epoch; full run {full:?}");
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn a_full_disk_stops_the_search_with_a_clear_error_and_loses_nothing() {
    let base: PathBuf = std::env::temp_dir().join(format!("tunelab-full-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    let spec = base.join("spec.json");
    std::fs::write(&spec, SPEC).unwrap();
    let log = base.join("out.txt");
    assert!(start(&spec, &base.join("ref"), &log, &[])
        .wait()
        .unwrap()
        .success());
    let reference = trials(&base.join("ref"));

    // The disk fills after 2.5 MB have been written: in the third trial.
    let dir = base.join("run");
    let child = start(
        &spec,
        &dir,
        &log,
        &[("TUNELAB_FAULT_DISK_FULL_AFTER", "2500000".into())],
    );
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot write")
            && err.contains("No space left on device")
            && err.contains("run the same command again"),
        "{err}"
    );
    let kept = trials(&dir);
    let done = completed(&kept);
    assert!(
        !done.is_empty() && done.len() < 5,
        "the disk filled mid-search: {done:?}"
    );
    check_against(&reference, &kept, &done);
    // No temporary file is left behind as if it were a document.
    for id in kept.keys() {
        for e in std::fs::read_dir(dir.join("p").join(format!("trial_{id}"))).unwrap() {
            let name = e.unwrap().file_name().into_string().unwrap();
            assert!(!name.ends_with(".tmp"), "{name} left behind");
        }
    }
    // With space again, the search finishes as the uninterrupted one did.
    assert!(start(&spec, &dir, &log, &[]).wait().unwrap().success());
    let end = trials(&dir);
    assert_eq!(
        end.values().map(essence).collect::<Vec<_>>(),
        reference.values().map(essence).collect::<Vec<_>>()
    );
    let _ = std::fs::remove_dir_all(&base);
}

/// BOHB and ASHA killed at random moments: every interruption keeps the completed trials
/// (unchanged), the numbering continues, and the search ends with the same trials as an
/// uninterrupted one (so no trial was lost or run twice: the promotions, warm starts and model
/// proposals are decided again exactly as before).
#[test]
fn bohb_and_asha_killed_resume_without_losing_or_repeating_a_trial() {
    for (name, tuner) in [
        (
            "asha",
            &[
                "--tuner",
                "asha",
                "--max-epochs",
                "27",
                "--max-trials",
                "30",
            ][..],
        ),
        (
            "bohb",
            &[
                "--tuner",
                "bohb",
                "--max-epochs",
                "9",
                "--hyperband-iterations",
                "2",
                "--min-points-in-model",
                "3",
            ][..],
        ),
    ] {
        let base: PathBuf =
            std::env::temp_dir().join(format!("tunelab-kill-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).unwrap();
        let spec = base.join("spec.json");
        std::fs::write(&spec, SPEC).unwrap();
        let log = base.join("out.txt");
        let t0 = Instant::now();
        let status = start_with(tuner, &spec, &base.join("ref"), &log, &[])
            .wait()
            .unwrap();
        let full = t0.elapsed();
        assert!(status.success(), "{name}");
        let reference = trials(&base.join("ref"));
        assert!(completed(&reference).len() >= 16, "{name}");
        let dir = base.join("run");
        let mut moments = Moments(0x2545_F491_4F6C_DD1D);
        let mut done: Vec<String> = Vec::new();
        let mut kills = 0;
        while kills < 8 {
            let mut child = start_with(tuner, &spec, &dir, &log, &[]);
            std::thread::sleep(full.mul_f64(0.02 + 0.06 * moments.next()));
            if child.try_wait().unwrap().is_some() {
                break; // the search ended first
            }
            child.kill().unwrap();
            child.wait().unwrap();
            kills += 1;
            (done, _) = after_interruption(&reference, &dir, &done);
        }
        assert!(kills >= 5, "{name}: only {kills} kills landed");
        let status = start_with(tuner, &spec, &dir, &log, &[]).wait().unwrap();
        assert!(status.success(), "{name}");
        let end = trials(&dir);
        for t in end.values().filter(|t| t["status"] != "COMPLETED") {
            eprintln!(
                "{name}: trial {} {}: {}",
                t["trial_id"], t["status"], t["message"]
            );
        }
        assert_eq!(
            end.values().map(essence).collect::<Vec<_>>(),
            reference.values().map(essence).collect::<Vec<_>>(),
            "{name}: the interrupted search ends with the same trials"
        );
        // No configuration ran twice as a new trial (promotions name their parent).
        let mut seen = std::collections::BTreeSet::new();
        for t in end.values() {
            let v = &t["hyperparameters"]["values"];
            if v.get("tuner/trial_id").is_none() {
                let key = serde_json::json!([v["units"], v["lr"]]).to_string();
                assert!(seen.insert(key), "{name}: trial {} repeats", t["trial_id"]);
            }
        }
        eprintln!("{name}: {kills} kills; full run {full:?}");
        let _ = std::fs::remove_dir_all(&base);
    }
}

/// ASHA in its asynchronous pool of 3 threads, killed at random moments: the trials completed
/// before each kill stay as they were, numbering continues, and the resumed search ends with
/// every trial completed, none lost (max_trials of them) and none run twice (no configuration
/// starts twice, no trial is promoted twice to the same rung). Which trials it runs depends on
/// the order in which the threads finished, so it is not compared with an uninterrupted run.
#[test]
fn asha_in_a_pool_killed_resumes_without_losing_or_repeating_a_trial() {
    let tuner = &[
        "--tuner",
        "asha",
        "--max-epochs",
        "27",
        "--max-trials",
        "30",
        "--parallel-trials",
        "3",
    ][..];
    let base: PathBuf =
        std::env::temp_dir().join(format!("tunelab-kill-pool-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    let spec = base.join("spec.json");
    std::fs::write(&spec, SPEC).unwrap();
    let log = base.join("out.txt");
    let t0 = Instant::now();
    let status = start_with(tuner, &spec, &base.join("ref"), &log, &[])
        .wait()
        .unwrap();
    let full = t0.elapsed();
    assert!(status.success());
    assert_eq!(completed(&trials(&base.join("ref"))).len(), 30);
    let dir = base.join("run");
    let mut moments = Moments(0x9E37_79B9_7F4A_7C15);
    let mut kills = 0;
    let mut before: BTreeMap<String, Value> = BTreeMap::new();
    while kills < 6 {
        let mut child = start_with(tuner, &spec, &dir, &log, &[]);
        std::thread::sleep(full.mul_f64(0.04 + 0.08 * moments.next()));
        if child.try_wait().unwrap().is_some() {
            break;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        kills += 1;
        let now = trials(&dir);
        let ids: Vec<&String> = now.keys().collect();
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(id.parse::<usize>().unwrap(), i, "trial ids {ids:?}");
        }
        for (id, t) in before.iter().filter(|(_, t)| t["status"] == "COMPLETED") {
            assert_eq!(
                essence(&now[id]),
                essence(t),
                "trial {id} changed after kill {kills}"
            );
        }
        before = now;
    }
    assert!(kills >= 4, "only {kills} kills landed");
    let status = start_with(tuner, &spec, &dir, &log, &[]).wait().unwrap();
    assert!(status.success());
    let end = trials(&dir);
    for (id, t) in before.iter().filter(|(_, t)| t["status"] == "COMPLETED") {
        assert_eq!(
            essence(&end[id]),
            essence(t),
            "trial {id} changed at the end"
        );
    }
    assert_eq!(end.len(), 30);
    assert_eq!(completed(&end).len(), 30, "{end:#?}");
    let mut seen = std::collections::BTreeSet::new();
    for t in end.values() {
        let v = &t["hyperparameters"]["values"];
        let key = match v.get("tuner/trial_id") {
            None => serde_json::json!([v["units"], v["lr"]]).to_string(),
            Some(parent) => {
                assert_eq!(end[parent.as_str().unwrap()]["status"], "COMPLETED", "{t}");
                serde_json::json!([parent, v["tuner/epochs"]]).to_string()
            }
        };
        assert!(seen.insert(key), "trial {} repeats", t["trial_id"]);
    }
    eprintln!("asha pool: {kills} kills; full run {full:?}");
    let _ = std::fs::remove_dir_all(&base);
}
