//! The 8x8 handwritten digits that scikit-learn ships as `load_digits()`, compiled into the crate
//! so that a first image-classification experiment needs no download (the browser build included).
//!
//! The bytes live in `data/digits.bin` (see `data/README.md` for the source, licence and layout):
//! 1,797 records of 65 bytes, the 64 pixel counts (0..=16, row-major 8x8) followed by the label
//! (0..=9), in scikit-learn's order. The data are the test set of the UCI "Optical Recognition of
//! Handwritten Digits" collection by E. Alpaydin and C. Kaynak.

use super::Dataset;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Number of samples in the data set.
pub const N_SAMPLES: usize = 1797;
/// Number of pixels (features) per sample: an 8x8 image.
pub const N_FEATURES: usize = 64;
/// Number of classes: the digits 0 to 9.
pub const N_CLASSES: usize = 10;

/// Bytes per record: 64 pixels and a label.
const RECORD: usize = N_FEATURES + 1;

/// The shipped file, 1797 x 65 bytes.
static RAW: &[u8] = include_bytes!("../../data/digits.bin");

/// The digits as scikit-learn's `load_digits()` returns them: x holds the raw pixel counts 0..=16
/// as `f32`, shape `[1797, 64]`; y holds the class ids 0..=9, shape `[1797, 1]`.
///
/// Scale x (divide by 16) before training; [`crate::data::builtin`]`("digits", ..)` does that.
///
/// ```
/// let ds = tunelab::data::digits::load_digits().unwrap();
/// assert_eq!(ds.x.shape(), &[1797, 64]);
/// assert_eq!(ds.y.shape(), &[1797, 1]);
/// ```
pub fn load_digits() -> Result<Dataset> {
    decode(RAW)
}

/// Decodes records of 64 pixel bytes and a label byte, checking sizes and value ranges.
fn decode(raw: &[u8]) -> Result<Dataset> {
    if raw.len() != N_SAMPLES * RECORD {
        return Err(Error::data(format!(
            "digits.bin holds {} bytes, expected {} ({N_SAMPLES} records of {RECORD} bytes)",
            raw.len(),
            N_SAMPLES * RECORD
        )));
    }
    let mut x = Vec::with_capacity(N_SAMPLES * N_FEATURES);
    let mut y = Vec::with_capacity(N_SAMPLES);
    for (i, record) in raw.chunks_exact(RECORD).enumerate() {
        let (pixels, label) = record.split_at(N_FEATURES);
        if let Some(p) = pixels.iter().find(|&&p| p > 16) {
            return Err(Error::data(format!(
                "digits.bin: sample {i} has pixel value {p}, outside 0..=16"
            )));
        }
        let label = label.first().copied().unwrap_or(u8::MAX);
        if usize::from(label) >= N_CLASSES {
            return Err(Error::data(format!(
                "digits.bin: sample {i} has label {label}, outside 0..=9"
            )));
        }
        x.extend(pixels.iter().map(|&p| f32::from(p)));
        y.push(f32::from(label));
    }
    Dataset::new(
        Tensor::new(vec![N_SAMPLES, N_FEATURES], x)?,
        Tensor::new(vec![N_SAMPLES, 1], y)?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_scikit_learn() {
        let ds = load_digits().unwrap();
        assert_eq!(ds.len(), N_SAMPLES);
        assert_eq!(ds.x.shape(), &[1797, 64]);
        assert!(ds.x.data().iter().all(|&v| (0.0..=16.0).contains(&v)));
        assert_eq!(ds.x.data().iter().cloned().fold(0.0, f32::max), 16.0);
        // sum(load_digits().data) in scikit-learn 1.9.1.
        assert_eq!(ds.x.data().iter().map(|&v| v as f64).sum::<f64>(), 561718.0);
        // np.bincount(load_digits().target)
        let mut counts = [0usize; 10];
        for &c in ds.y.data() {
            counts[c as usize] += 1;
        }
        assert_eq!(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
        // load_digits().data[0], a zero.
        let first: [f32; 64] = [
            0., 0., 5., 13., 9., 1., 0., 0., 0., 0., 13., 15., 10., 15., 5., 0., 0., 3., 15., 2.,
            0., 11., 8., 0., 0., 4., 12., 0., 0., 8., 8., 0., 0., 5., 8., 0., 0., 9., 8., 0., 0.,
            4., 11., 0., 1., 12., 7., 0., 0., 2., 14., 5., 10., 12., 0., 0., 0., 0., 6., 13., 10.,
            0., 0., 0.,
        ];
        assert_eq!(ds.x.row(0), &first);
        assert_eq!(ds.y.row(0), &[0.0]);
        // The last sample is an 8; the first ten labels are 0..9 in order.
        assert_eq!(ds.y.row(N_SAMPLES - 1), &[8.0]);
        assert_eq!(
            &ds.y.data()[..10],
            &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
        );
    }

    #[test]
    fn corrupt_bytes_are_reported() {
        assert!(decode(&RAW[..100]).is_err());
        let mut bad = RAW.to_vec();
        bad[64] = 10;
        let e = decode(&bad).unwrap_err().to_string();
        assert!(e.contains("sample 0") && e.contains("label 10"), "{e}");
        let mut bad = RAW.to_vec();
        bad[RECORD + 3] = 17;
        let e = decode(&bad).unwrap_err().to_string();
        assert!(e.contains("sample 1") && e.contains("17"), "{e}");
    }
}
