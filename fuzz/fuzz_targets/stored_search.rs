//! A stored search (oracle.json and trial_*/trial.json, as a crash or a hand edit may leave
//! them): loading it into each of the four oracles, then asking for the next trial, gives
//! trials or an explained error. The input is oracle.json, then a NUL byte, then one
//! trial.json that every listed trial id reads (with its `trial_id` set to that id when the
//! document is a JSON object).
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use tunelab::hp::HyperParameters;
use tunelab::tuner::{
    Algorithm, BayesianOptimization, GridSearch, Hyperband, MemoryStorage, Oracle, OracleConfig,
    RandomSearch, Storage, Trial, TrialStatus,
};

fuzz_target!(|data: &[u8]| {
    let (oracle_doc, trial_doc) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    if let Some(v) = common::json(trial_doc) {
        match Trial::from_json(&v) {
            Ok(t) => {
                let back = Trial::from_json(&t.to_json()).expect("a written trial reads back");
                assert_eq!(back.to_json(), t.to_json());
            }
            Err(e) => common::explained(&e),
        }
    }
    let pick = data.first().copied().unwrap_or(0) % 4;
    let algorithm: Box<dyn Algorithm> = match pick {
        0 => Box::new(RandomSearch),
        1 => Box::new(GridSearch::new()),
        2 => Box::new(Hyperband::new(9, 3, Some(1)).expect("valid settings")),
        _ => Box::new(BayesianOptimization::default()),
    };
    let mut storage = MemoryStorage::new();
    let ids: Vec<String> = common::json(oracle_doc)
        .and_then(|v| v.get("trial_ids").cloned())
        .and_then(|a| serde_json::from_value(a).ok())
        .unwrap_or_default();
    storage.write("oracle.json", oracle_doc).expect("memory");
    for id in ids.iter().take(50) {
        let doc = match common::json(trial_doc) {
            Some(serde_json::Value::Object(mut m)) => {
                m.insert("trial_id".into(), id.clone().into());
                serde_json::to_vec(&m).expect("a JSON object")
            }
            _ => trial_doc.to_vec(),
        };
        if let Err(e) = storage.write(&format!("trial_{id}/trial.json"), &doc) {
            return common::explained(&e);
        }
    }
    let config = OracleConfig {
        max_trials: Some(5),
        ..Default::default()
    };
    let mut oracle =
        Oracle::new(config, algorithm, HyperParameters::new()).expect("valid settings");
    oracle.set_storage(Box::new(storage));
    match oracle.load() {
        Ok(_) => {
            for i in 0..3 {
                match oracle.create_trial() {
                    Ok(mut t) => {
                        // Stopped (max_trials) or Idle (a Hyperband round waiting): nothing
                        // to run.
                        if t.status != TrialStatus::Running {
                            break;
                        }
                        if i % 2 == 0 {
                            t.status = TrialStatus::Completed;
                            t.metrics = vec![("default_objective".into(), i as f64)];
                        } else {
                            t.status = TrialStatus::Failed;
                            t.message = Some("failed on purpose".into());
                        }
                        let id = t.trial_id.clone();
                        if let Err(e) = oracle.end_trial(t) {
                            common::explained(&e);
                        }
                        if let Err(e) = oracle.save(Some(&id)) {
                            common::explained(&e);
                        }
                        match oracle.trial(&id) {
                            Ok(t) => assert!(t.is_some(), "trial {id} was created"),
                            Err(e) => common::explained(&e),
                        }
                    }
                    Err(e) => {
                        common::explained(&e);
                        break;
                    }
                }
            }
            if let Err(e) = oracle.get_best_trials(3) {
                common::explained(&e);
            }
        }
        Err(e) => common::explained(&e),
    }
});
