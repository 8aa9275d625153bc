//! A compact binary file for weights (and optimizer slots) with a JSON header: saved models
//! (spec::saved), the tuner's
//! best-epoch checkpoints and the per-epoch resume points of a running trial.
//!
//! Layout: `TLCK` magic, u32 little-endian header length, the JSON header
//! (`{"shapes": [[...], ...], "meta": {...}}`), then every array's f32 values little-endian.

use crate::error::{Error, Result};
use crate::nn::callbacks::TrainingState;
use crate::tensor::Tensor;
use serde_json::{json, Value};

const MAGIC: &[u8; 4] = b"TLCK";

/// Encodes `arrays` and free-form `meta`.
pub fn encode(arrays: &[Tensor], meta: &Value) -> Result<Vec<u8>> {
    let shapes: Vec<&[usize]> = arrays.iter().map(|t| t.shape()).collect();
    let header = serde_json::to_vec(&json!({"shapes": shapes, "meta": meta}))?;
    let total: usize = arrays.iter().map(|t| t.len()).sum();
    let mut out = Vec::with_capacity(8 + header.len() + 4 * total);
    out.extend_from_slice(MAGIC);
    let len = u32::try_from(header.len())
        .map_err(|_| Error::invalid("checkpoint header", header.len(), "under 4 GiB"))?;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&header);
    for t in arrays {
        for v in t.data() {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    Ok(out)
}

/// Decodes what [`encode`] wrote.
pub fn decode(bytes: &[u8]) -> Result<(Vec<Tensor>, Value)> {
    let bad = |m: &str| Error::parse(format!("checkpoint: {m}"));
    if bytes.len() < 8 || &bytes[..4] != MAGIC {
        return Err(bad("not a tunelab checkpoint (bad magic)"));
    }
    let len = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
    let body = bytes
        .get(8..8 + len)
        .ok_or_else(|| bad("truncated header"))?;
    let header: Value = serde_json::from_slice(body).map_err(|e| bad(&e.to_string()))?;
    let shapes: Vec<Vec<usize>> = header
        .get("shapes")
        .and_then(|s| serde_json::from_value(s.clone()).ok())
        .ok_or_else(|| bad("header lacks shapes"))?;
    let mut pos = 8 + len;
    let mut arrays = Vec::with_capacity(shapes.len());
    for shape in shapes {
        let n = shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .ok_or_else(|| bad("shape too large"))?;
        let end = n
            .checked_mul(4)
            .and_then(|b| b.checked_add(pos))
            .ok_or_else(|| bad("shape too large"))?;
        let raw = bytes.get(pos..end).ok_or_else(|| {
            bad(&format!(
                "truncated data: {} bytes expected, {} found",
                end - pos,
                bytes.len().saturating_sub(pos)
            ))
        })?;
        let data = raw
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        arrays.push(Tensor::new(shape, data)?);
        pos = end;
    }
    Ok((arrays, header.get("meta").cloned().unwrap_or(Value::Null)))
}

/// Encodes weights and the optimizer's state (a resume point, an execution job, an epoch
/// report): the arrays are the weights, then every variable's slots; `meta` gains `n_weights`,
/// `slots_per_weight` and the state's scalars.
pub fn encode_state(
    weights: &[Tensor],
    state: Option<&TrainingState>,
    mut meta: Value,
) -> Result<Vec<u8>> {
    let mut arrays = weights.to_vec();
    meta["n_weights"] = json!(weights.len());
    meta["slots_per_weight"] = json!(0);
    if let Some(state) = state {
        let per = state.slots.first().map_or(0, |s| s.len());
        for s in &state.slots {
            for v in s {
                arrays.push(Tensor::vector(v.clone()));
            }
        }
        meta["slots_per_weight"] = json!(per);
        meta["iterations"] = json!(state.iterations);
        meta["learning_rate"] = json!(state.learning_rate);
        meta["u_product"] = json!(state.u_product);
    }
    encode(&arrays, &meta)
}

/// Decodes what [`encode_state`] wrote: the weights, the optimizer state (if one was stored)
/// and the header's meta.
pub fn decode_state(bytes: &[u8]) -> Result<(Vec<Tensor>, Option<TrainingState>, Value)> {
    let (mut arrays, meta) = decode(bytes)?;
    let n = meta.get("n_weights").and_then(|n| n.as_u64()).unwrap_or(0) as usize;
    if n > arrays.len() {
        return Err(Error::parse(format!(
            "checkpoint: {n} weights announced, {} arrays stored",
            arrays.len()
        )));
    }
    let slots = arrays.split_off(n);
    let state = training_state_from(&meta, &slots);
    Ok((arrays, state, meta))
}

fn training_state_from(meta: &Value, slots: &[Tensor]) -> Option<TrainingState> {
    let per = meta.get("slots_per_weight")?.as_u64()? as usize;
    if per == 0 {
        return None;
    }
    Some(TrainingState {
        iterations: meta.get("iterations")?.as_u64()?,
        learning_rate: meta.get("learning_rate")?.as_f64()? as f32,
        u_product: meta.get("u_product")?.as_f64()? as f32,
        slots: slots
            .chunks(per)
            .map(|c| c.iter().map(|t| t.data().to_vec()).collect())
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_damage() {
        let a = vec![
            Tensor::new(vec![2, 3], vec![1.0, -2.0, 3.5, 0.0, 1e-8, 7.0]).unwrap(),
            Tensor::vector(vec![0.25; 3]),
        ];
        let bytes = encode(&a, &json!({"epoch": 4})).unwrap();
        let (b, meta) = decode(&bytes).unwrap();
        assert_eq!(a, b);
        assert_eq!(meta["epoch"], 4);
        assert!(decode(&bytes[..bytes.len() - 2])
            .unwrap_err()
            .to_string()
            .contains("truncated data"));
        assert!(decode(b"nope").is_err());
    }
}
