//! A compact binary file for weights (and optimizer slots) with a JSON header: the tuner's
//! best-epoch checkpoints and the per-epoch resume points of a running trial.
//!
//! Layout: `TLCK` magic, u32 little-endian header length, the JSON header
//! (`{"shapes": [[...], ...], "meta": {...}}`), then every array's f32 values little-endian.

use crate::error::{Error, Result};
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
