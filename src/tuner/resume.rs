//! Resume points and checkpoints as stored: histories to and from JSON, what an interrupted
//! trial stored, a trial's best weights.

use crate::error::Result;
use crate::nn::history::History;
use crate::tensor::Tensor;
use crate::tuner::checkpoint;
use crate::tuner::storage::Storage;
use crate::tuner::trial::Curves;
use serde_json::{json, Value};

pub(super) fn curves_of(h: &History) -> Curves {
    h.history
        .iter()
        .map(|(k, v)| (k.clone(), v.iter().map(|x| *x as f64).collect()))
        .collect()
}

pub(crate) fn history_to_json(h: &History) -> Value {
    if h.sparse.is_empty() {
        return json!({"epoch": h.epoch, "history": h});
    }
    let sparse: serde_json::Map<String, Value> = h
        .sparse
        .iter()
        .map(|(k, e)| (k.clone(), json!(e)))
        .collect();
    json!({"epoch": h.epoch, "history": h, "sparse": sparse})
}

pub(crate) fn history_from_json(v: &Value) -> History {
    let mut h = History {
        epoch: v
            .get("epoch")
            .and_then(|e| serde_json::from_value(e.clone()).ok())
            .unwrap_or_default(),
        ..Default::default()
    };
    if let Some(Value::Object(m)) = v.get("history") {
        for (k, vals) in m {
            let vs: Vec<f32> = vals
                .as_array()
                .map(|a| {
                    // NaN and infinities are stored as null: they read back as NaN, so
                    // every epoch keeps its place.
                    a.iter()
                        .map(|x| x.as_f64().map_or(f32::NAN, |x| x as f32))
                        .collect()
                })
                .unwrap_or_default();
            h.history.push((k.clone(), vs));
        }
    }
    if let Some(Value::Object(m)) = v.get("sparse") {
        for (k, e) in m {
            if let Ok(epochs) = serde_json::from_value::<Vec<usize>>(e.clone()) {
                h.sparse.push((k.clone(), epochs));
            }
        }
    }
    h
}

pub(super) fn merge_histories(a: &History, b: &History) -> History {
    // Each key's epochs in both parts, so a key sparse in either stays correctly placed.
    let mut keys: Vec<&str> = a.keys();
    for k in b.keys() {
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let logged: Vec<(String, Vec<usize>)> = keys
        .iter()
        .map(|k| {
            let mut e = a.epochs_of(k);
            e.extend(b.epochs_of(k));
            (k.to_string(), e)
        })
        .collect();
    let mut out = a.clone();
    out.epoch.extend(&b.epoch);
    for (k, v) in &b.history {
        match out.history.iter_mut().find(|(kk, _)| kk == k) {
            Some((_, vals)) => vals.extend(v),
            None => out.history.push((k.clone(), v.clone())),
        }
    }
    out.sparse = logged
        .into_iter()
        .filter(|(_, e)| *e != out.epoch)
        .collect();
    out
}

/// What `storage` holds of a trial that was interrupted while it trained (a page reload): the
/// hyperparameter values and the history of its first execution up to its last completed
/// epoch; `None` when it stored no resume point. Needs no tuner: a surface reads it while the
/// tuner is busy searching.
pub fn interrupted(storage: &dyn Storage, trial_id: &str) -> Result<Option<(Value, History)>> {
    let Some(bytes) = storage.read(&format!("trial_{trial_id}/resume_0.bin"))? else {
        return Ok(None);
    };
    let (_, meta) = checkpoint::decode(&bytes)?;
    let history = history_from_json(meta.get("history").unwrap_or(&Value::Null));
    Ok(Some((
        meta.get("values").cloned().unwrap_or(json!({})),
        history,
    )))
}

/// A trial's stored weights in `storage`: those of its best epoch (its checkpoint), once it has
/// ended; `None` before.
pub fn trial_weights(storage: &dyn Storage, trial_id: &str) -> Result<Option<Vec<Tensor>>> {
    Ok(load_checkpoint(storage, &format!("trial_{trial_id}/checkpoint.bin"))?.map(|(w, _)| w))
}

pub(super) fn load_checkpoint(
    storage: &dyn Storage,
    path: &str,
) -> Result<Option<(Vec<Tensor>, Value)>> {
    match storage.read(path)? {
        Some(b) => Ok(Some(checkpoint::decode(&b)?)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::history::Logs;

    fn history(epochs: std::ops::Range<usize>) -> History {
        let mut h = History::default();
        for e in epochs {
            let mut logs = Logs::default();
            logs.set("loss", e as f32);
            if e % 2 == 1 {
                logs.set("val_loss", e as f32);
            }
            h.record(e, &logs);
        }
        h
    }

    #[test]
    fn sparse_keys_survive_json_and_merging() {
        let a = history(0..3);
        let back = history_from_json(&history_to_json(&a));
        assert_eq!(back, a);
        assert_eq!(back.epochs_of("val_loss"), vec![1]);
        let merged = merge_histories(&a, &history(3..6));
        assert_eq!(merged, history(0..6));
        assert_eq!(merged.epochs_of("val_loss"), vec![1, 3, 5]);
    }
}
