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
    json!({"epoch": h.epoch, "history": h})
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
    h
}

pub(super) fn merge_histories(a: &History, b: &History) -> History {
    let mut out = a.clone();
    out.epoch.extend(&b.epoch);
    for (k, v) in &b.history {
        match out.history.iter_mut().find(|(kk, _)| kk == k) {
            Some((_, vals)) => vals.extend(v),
            None => out.history.push((k.clone(), v.clone())),
        }
    }
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
