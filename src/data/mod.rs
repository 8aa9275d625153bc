//! Where training data comes from and the few things done to it before a model sees it.
//!
//! A [`Dataset`] is a pair of host tensors, inputs `x` and targets `y`, with one sample per row.
//! Data arrives from the built-in sets ([`builtin`]: TensorFlow Playground's six 2-D problems in
//! [`playground`], the 8x8 handwritten [`digits`]), from text ([`csv`]) or from NumPy files
//! ([`npy`]). The helpers here follow Keras where Keras has a rule: [`split_validation`] keeps the
//! last fraction of the samples for validation, exactly as `fit(validation_split=...)` does, and
//! [`one_hot`] is `keras.utils.to_categorical`.

pub mod csv;
pub mod digits;
pub mod npy;
pub mod playground;

use crate::error::{Error, Result};
use crate::tensor::Tensor;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

/// Inputs and targets of a supervised problem: row `i` of `x` goes with row `i` of `y`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Inputs, shape `[n, ...]`.
    pub x: Tensor,
    /// Targets, shape `[n, ...]` (class ids, one-hot rows or regression values).
    pub y: Tensor,
}

impl Dataset {
    /// Pairs `x` with `y` after checking that both have a sample axis of the same, non-zero length
    /// and hold only finite values.
    ///
    /// ```
    /// use tunelab::{data::Dataset, Tensor};
    /// let x = Tensor::new(vec![3, 2], vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
    /// let y = Tensor::new(vec![3, 1], vec![0.0, 1.0, 0.0]).unwrap();
    /// assert_eq!(Dataset::new(x, y).unwrap().len(), 3);
    /// ```
    pub fn new(x: Tensor, y: Tensor) -> Result<Dataset> {
        if x.shape().is_empty() || y.shape().is_empty() {
            return Err(Error::data(format!(
                "x and y need a sample axis, got x of shape {:?} and y of shape {:?}",
                x.shape(),
                y.shape()
            )));
        }
        if x.rows() != y.rows() {
            return Err(Error::shape(
                format!(
                    "the dataset: y must have as many samples as x ({} in x, {} in y)",
                    x.rows(),
                    y.rows()
                ),
                &[x.rows()],
                &[y.rows()],
            ));
        }
        if x.rows() == 0 {
            return Err(Error::data("the dataset holds no samples"));
        }
        x.check_finite("x")?;
        y.check_finite("y")?;
        Ok(Dataset { x, y })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.x.rows()
    }

    /// True when there are no samples (never the case for a `Dataset` built by [`Dataset::new`]).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Largest class count [`one_hot`] infers on its own; more needs an explicit `num_classes`.
const MAX_INFERRED_CLASSES: usize = 65_536;

/// One-hot rows from integer class ids, like `keras.utils.to_categorical`.
///
/// `labels` has shape `[n]` or `[n, 1]` and holds whole numbers `0, 1, 2, ...` stored as `f32`.
/// The result has shape `[n, C]` with `C = num_classes`, or `max(label) + 1` when `None`.
///
/// ```
/// use tunelab::{data::one_hot, Tensor};
/// let y = one_hot(&Tensor::vector(vec![2.0, 0.0]), Some(3)).unwrap();
/// assert_eq!(y.shape(), &[2, 3]);
/// assert_eq!(y.data(), &[0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
/// ```
pub fn one_hot(labels: &Tensor, num_classes: Option<usize>) -> Result<Tensor> {
    let shape = labels.shape();
    let ok_shape = shape.len() == 1 || (shape.len() == 2 && shape.get(1) == Some(&1));
    if !ok_shape {
        return Err(Error::invalid(
            "labels",
            format!("a tensor of shape {shape:?}"),
            "class ids of shape [n] or [n, 1]",
        ));
    }
    let values = labels.data();
    if values.is_empty() {
        return Err(Error::data("one_hot: there are no labels"));
    }
    let mut max_label = 0usize;
    for (i, &v) in values.iter().enumerate() {
        if !v.is_finite() || v.fract() != 0.0 {
            return Err(Error::data(format!(
                "label of sample {i} is {v}, which is not a whole number; class ids must be 0, 1, 2, ..."
            )));
        }
        if v < 0.0 {
            return Err(Error::data(format!(
                "label of sample {i} is {v}; class ids must not be negative"
            )));
        }
        // Whole, finite and non-negative: the cast is exact up to f32's 2^24 integer range.
        max_label = max_label.max(v as usize);
    }
    let classes = match num_classes {
        Some(0) => {
            return Err(Error::invalid(
                "num_classes",
                0,
                "an integer >= 1 (or None to infer it)",
            ))
        }
        Some(c) => {
            if let Some((i, v)) = values.iter().enumerate().find(|(_, &v)| v as usize >= c) {
                return Err(Error::data(format!(
                    "label of sample {i} is {v}, but num_classes is {c}, so class ids must be below {c}"
                )));
            }
            c
        }
        None => {
            let c = max_label + 1;
            if c > MAX_INFERRED_CLASSES {
                return Err(Error::data(format!(
                    "the largest label is {max_label}, which would make {c} classes; pass num_classes \
                     explicitly if that many classes is intended"
                )));
            }
            c
        }
    };
    let n = values.len();
    let total = n.checked_mul(classes).ok_or_else(|| {
        Error::invalid(
            "num_classes",
            classes,
            "a class count small enough for the one-hot array to fit in memory",
        )
    })?;
    let mut out = vec![0.0f32; total];
    for (row, &v) in out.chunks_exact_mut(classes).zip(values) {
        if let Some(cell) = row.get_mut(v as usize) {
            *cell = 1.0;
        }
    }
    Tensor::new(vec![n, classes], out)
}

/// Splits off the last `validation_split` fraction of the samples as validation data, the way
/// Keras's `fit(validation_split=...)` does (before any shuffling). Returns `(train, validation)`.
///
/// The split index is `floor(n * (1 - validation_split))`, as in Keras 3's
/// `train_validation_split`. Keras computes it in double precision from the number the user typed;
/// so that `0.2` means the same here as in Python, the `f32` is first turned back into its shortest
/// decimal form ("0.2") and read as an `f64`.
///
/// `validation_split` must lie in `[0, 1)`, and both parts must end up non-empty (so `0.0` is an
/// error here: a caller with no validation split should not call this).
///
/// ```
/// use tunelab::{data::{split_validation, Dataset}, Tensor};
/// let x = Tensor::new(vec![10, 1], (0..10).map(|v| v as f32).collect()).unwrap();
/// let ds = Dataset::new(x.clone(), x).unwrap();
/// let (train, val) = split_validation(&ds, 0.2).unwrap();
/// assert_eq!((train.len(), val.len()), (8, 2));
/// assert_eq!(val.x.data(), &[8.0, 9.0]);
/// ```
pub fn split_validation(ds: &Dataset, validation_split: f32) -> Result<(Dataset, Dataset)> {
    if !(validation_split.is_finite() && (0.0..1.0).contains(&validation_split)) {
        return Err(Error::invalid(
            "validation_split",
            validation_split,
            "a float in [0, 1)",
        ));
    }
    let n = ds.len();
    let split_at = split_index(n, validation_split);
    if split_at == 0 || split_at >= n {
        return Err(Error::data(format!(
            "the training data holds {n} samples, which is not enough to split it into a training \
             and a validation set with validation_split={validation_split}; provide more data or \
             another validation_split"
        )));
    }
    let train = Dataset {
        x: ds.x.slice_rows(0, split_at),
        y: ds.y.slice_rows(0, split_at),
    };
    let val = Dataset {
        x: ds.x.slice_rows(split_at, n),
        y: ds.y.slice_rows(split_at, n),
    };
    Ok((train, val))
}

/// `floor(n * (1 - split))` in `f64`, with `split` read back from its shortest decimal form.
fn split_index(n: usize, split: f32) -> usize {
    let split64: f64 = split.to_string().parse().unwrap_or(f64::from(split));
    let at = (n as f64 * (1.0 - split64)).floor();
    if at <= 0.0 {
        0
    } else {
        at as usize
    }
}

/// The samples of `ds` in a random order fixed by `seed` (the same on every platform, wasm32
/// included: `StdRng` from rand 0.9 and a Fisher-Yates shuffle).
pub fn shuffled(ds: &Dataset, seed: u64) -> Dataset {
    let mut idx: Vec<usize> = (0..ds.len()).collect();
    let mut rng = StdRng::seed_from_u64(seed);
    idx.shuffle(&mut rng);
    Dataset {
        x: ds.x.gather_rows(&idx),
        y: ds.y.gather_rows(&idx),
    }
}

/// The playground's train/test split: the row indices `0..n` in a random order fixed by `seed`
/// (as [`shuffled`] orders them), the first `round(n * train_percent / 100)` (at least one, and
/// one fewer than `n` at most) for training and the rest for validation. The page, the npm
/// package (`splitIndices`) and `tunelab tune --train-percent` all split through this one
/// function, so the same data set, percent and seed give the same rows everywhere.
///
/// ```
/// let (train, test) = tunelab::data::holdout_indices(10, 80.0, 3).unwrap();
/// assert_eq!((train.len(), test.len()), (8, 2));
/// let mut all: Vec<usize> = train.iter().chain(&test).copied().collect();
/// all.sort();
/// assert_eq!(all, (0..10).collect::<Vec<_>>());
/// ```
pub fn holdout_indices(
    n: usize,
    train_percent: f64,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>)> {
    if !(train_percent.is_finite() && train_percent > 0.0 && train_percent < 100.0) {
        return Err(Error::invalid(
            "train_percent",
            train_percent,
            "a number above 0 and below 100",
        ));
    }
    if n < 2 {
        return Err(Error::data(format!(
            "the data set holds {n} row(s): it needs at least 2 (one to train on, one to validate)"
        )));
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut StdRng::seed_from_u64(seed));
    let n_train = ((n as f64 * train_percent / 100.0).round() as usize).clamp(1, n - 1);
    let test = order.split_off(n_train);
    Ok((order, test))
}

/// [`holdout_indices`] applied to `ds`: `(train, validation)`.
pub fn holdout(ds: &Dataset, train_percent: f64, seed: u64) -> Result<(Dataset, Dataset)> {
    let (train, test) = holdout_indices(ds.len(), train_percent, seed)?;
    Ok((
        Dataset {
            x: ds.x.gather_rows(&train),
            y: ds.y.gather_rows(&train),
        },
        Dataset {
            x: ds.x.gather_rows(&test),
            y: ds.y.gather_rows(&test),
        },
    ))
}

/// The fixed seed of the built-in digits' sample order (the same on every machine and run).
pub const DIGITS_ORDER_SEED: u64 = 1797;

/// Names accepted by [`builtin`].
pub const BUILTIN: &[&str] = &[
    "circle",
    "xor",
    "gauss",
    "spiral",
    "reg-plane",
    "reg-gauss",
    "digits",
];

/// A built-in data set by name (see [`BUILTIN`]).
///
/// * `"circle"`, `"xor"`, `"gauss"`, `"spiral"`, `"reg-plane"`, `"reg-gauss"`: TensorFlow
///   Playground's problems with Playground's sample counts (500 for classification, 1200 for
///   regression), `noise` in percent (0..=50, as on Playground's slider) and `seed`; x is
///   `[n, 2]`, y is `[n, 1]` (0/1 classes or regression values). See [`playground`].
/// * `"digits"`: the 1,797 8x8 handwritten digits, x `[1797, 64]` scaled to `[0, 1]` (pixel counts
///   divided by 16) and y the class ids `[1797, 1]`; `noise` and `seed` are ignored. The samples
///   come in one fixed shuffled order ([`DIGITS_ORDER_SEED`]): the raw file is grouped by
///   writer, so Keras's `validation_split` (the last 20%) on the raw order would validate on
///   writers never seen in training. Use [`digits::load_digits`] for the file's own order.
pub fn builtin(name: &str, noise: f32, seed: u64) -> Result<Dataset> {
    if name == "digits" {
        let raw = digits::load_digits()?;
        let scaled: Vec<f32> = raw.x.data().iter().map(|v| v / 16.0).collect();
        let x = Tensor::new(raw.x.shape().to_vec(), scaled)?;
        return Ok(shuffled(&Dataset::new(x, raw.y)?, DIGITS_ORDER_SEED));
    }
    if !BUILTIN.contains(&name) {
        return Err(Error::unknown("dataset", name, BUILTIN));
    }
    let problem = playground::Playground::parse(name)?;
    problem.generate(problem.default_samples(), noise, seed)
}

/// How far apart the input columns' scales are: the largest column's root mean square over
/// the smallest non-zero one's, with their indices (`None` for fewer than two non-constant
/// columns). Columns whose scales differ by orders of magnitude train badly without a
/// Normalization layer (scikit-learn's wine table: proline in the thousands next to hue below
/// one); the CLI warns above [`SCALE_WARNING_RATIO`].
pub fn scale_spread(x: &Tensor) -> Option<(f32, usize, usize)> {
    let f = x.cols();
    let rows = x.rows();
    if f < 2 || rows == 0 {
        return None;
    }
    let mut sq = vec![0f64; f];
    for (i, v) in x.data().iter().enumerate() {
        sq[i % f] += (*v as f64) * (*v as f64);
    }
    let rms: Vec<(usize, f64)> = sq
        .iter()
        .map(|s| (s / rows as f64).sqrt())
        .enumerate()
        .filter(|(_, r)| *r > 0.0 && r.is_finite())
        .collect();
    let hi = rms.iter().max_by(|a, b| a.1.total_cmp(&b.1))?;
    let lo = rms.iter().min_by(|a, b| a.1.total_cmp(&b.1))?;
    if hi.0 == lo.0 {
        return None;
    }
    Some(((hi.1 / lo.1) as f32, hi.0, lo.0))
}

/// The spread of column scales ([`scale_spread`]) above which the CLI suggests `--normalize`.
pub const SCALE_WARNING_RATIO: f32 = 100.0;

#[cfg(test)]
mod tests {
    use super::*;

    fn counting(n: usize) -> Dataset {
        let x = Tensor::new(vec![n, 2], (0..2 * n).map(|v| v as f32).collect()).unwrap();
        let y = Tensor::new(vec![n, 1], (0..n).map(|v| v as f32).collect()).unwrap();
        Dataset::new(x, y).unwrap()
    }

    #[test]
    fn holdout_is_the_same_split_for_the_same_seed_and_refuses_bad_percents() {
        let (a, b) = holdout_indices(500, 60.0, 4).unwrap();
        assert_eq!((a.len(), b.len()), (300, 200));
        assert_eq!(holdout_indices(500, 60.0, 4).unwrap(), (a.clone(), b));
        assert_ne!(holdout_indices(500, 60.0, 5).unwrap().0, a);
        // at least one row on each side
        assert_eq!(holdout_indices(3, 1.0, 0).unwrap().0.len(), 1);
        assert_eq!(holdout_indices(3, 99.0, 0).unwrap().1.len(), 1);
        for bad in [0.0, 100.0, -5.0, f64::NAN] {
            let e = holdout_indices(10, bad, 0).unwrap_err().to_string();
            assert!(e.contains("train_percent"), "{e}");
        }
        assert!(holdout_indices(1, 50.0, 0).is_err());
        let (train, val) = holdout(&counting(10), 80.0, 1).unwrap();
        assert_eq!((train.len(), val.len()), (8, 2));
    }

    #[test]
    fn dataset_checks_rows_emptiness_and_finiteness() {
        let x = Tensor::zeros(&[3, 2]);
        let e = Dataset::new(x.clone(), Tensor::zeros(&[2, 1])).unwrap_err();
        assert!(
            matches!(&e, Error::ShapeMismatch { expected, got, .. } if expected == &[3] && got == &[2]),
            "{e}"
        );
        assert!(e.to_string().contains("(3 in x, 2 in y)"), "{e}");
        let e = Dataset::new(Tensor::zeros(&[0, 2]), Tensor::zeros(&[0, 1])).unwrap_err();
        assert!(matches!(e, Error::Data(_)));
        let bad = Tensor::new(vec![3, 1], vec![0.0, f32::INFINITY, 1.0]).unwrap();
        let e = Dataset::new(x.clone(), bad).unwrap_err().to_string();
        assert!(
            e.contains("y holds a non-finite value") && e.contains("sample 1"),
            "{e}"
        );
        let badx = Tensor::new(vec![1, 2], vec![f32::NAN, 0.0]).unwrap();
        let e = Dataset::new(badx, Tensor::zeros(&[1]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("x holds a non-finite value"), "{e}");
        let e = Dataset::new(Tensor::new(vec![], vec![1.0]).unwrap(), Tensor::zeros(&[1]));
        assert!(e.is_err());
        let ds = Dataset::new(x, Tensor::zeros(&[3])).unwrap();
        assert_eq!(ds.len(), 3);
        assert!(!ds.is_empty());
    }

    #[test]
    fn one_hot_matches_to_categorical() {
        let y = one_hot(&Tensor::vector(vec![0.0, 2.0, 1.0]), None).unwrap();
        assert_eq!(y.shape(), &[3, 3]);
        assert_eq!(y.data(), &[1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
        let col = Tensor::new(vec![2, 1], vec![1.0, 0.0]).unwrap();
        let y = one_hot(&col, Some(4)).unwrap();
        assert_eq!(y.shape(), &[2, 4]);
        assert_eq!(y.data(), &[0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn one_hot_rejects_bad_labels_with_their_position() {
        let e = one_hot(&Tensor::vector(vec![0.0, 1.5]), None).unwrap_err();
        let m = e.to_string();
        assert!(m.contains("sample 1") && m.contains("1.5"), "{m}");
        let m = one_hot(&Tensor::vector(vec![0.0, 0.0, -1.0]), None)
            .unwrap_err()
            .to_string();
        assert!(m.contains("sample 2") && m.contains("-1"), "{m}");
        let m = one_hot(&Tensor::vector(vec![0.0, 3.0]), Some(3))
            .unwrap_err()
            .to_string();
        assert!(m.contains("sample 1") && m.contains("3"), "{m}");
        assert!(one_hot(&Tensor::vector(vec![f32::NAN]), None).is_err());
        assert!(one_hot(&Tensor::vector(vec![0.0]), Some(0)).is_err());
        assert!(one_hot(&Tensor::zeros(&[2, 2]), None).is_err());
        assert!(one_hot(&Tensor::vector(vec![1e9]), None).is_err());
        assert!(one_hot(&Tensor::vector(vec![]), None).is_err());
    }

    #[test]
    fn validation_split_takes_the_last_samples_like_keras() {
        let ds = counting(10);
        let (train, val) = split_validation(&ds, 0.2).unwrap();
        assert_eq!(train.len(), 8);
        assert_eq!(val.len(), 2);
        assert_eq!(val.y.data(), &[8.0, 9.0]);
        assert_eq!(val.x.data(), &[16.0, 17.0, 18.0, 19.0]);
        assert_eq!(train.x.shape(), &[8, 2]);
        // Values computed with Keras 3.15's train_validation_split:
        // int(math.floor(n * (1.0 - split))) with split as the Python float typed.
        for (n, split, keras_split_at) in [
            (10usize, 0.1f32, 9usize),
            (10, 0.3, 7),
            (10, 0.7, 3),
            (7, 0.5, 3),
            (100, 0.29, 71),
            (1000, 0.1, 900),
            (3, 0.34, 1),
            (500, 0.15, 425),
            (1797, 0.2, 1437),
            (1797, 0.25, 1347),
            (100, 0.07, 93),
            // Read naively as f64, the f32 0.2 is 0.20000000298..., which would give 7 here.
            (10, 0.2, 8),
            (5, 0.2, 4),
            // Double rounding makes these one less than the exact rational answer, in Keras too.
            (25, 0.56, 10),
            (20, 0.8, 3),
            (20, 0.9, 1),
        ] {
            assert_eq!(split_index(n, split), keras_split_at, "n={n} split={split}");
        }
    }

    #[test]
    fn validation_split_rejects_bad_fractions_and_empty_parts() {
        let ds = counting(10);
        for bad in [-0.1f32, 1.0, 1.5, f32::NAN, f32::INFINITY] {
            let e = split_validation(&ds, bad).unwrap_err();
            assert!(matches!(e, Error::InvalidArgument { .. }), "{e}");
            assert!(e.to_string().contains("a float in [0, 1)"), "{e}");
        }
        assert!(matches!(split_validation(&ds, 0.0), Err(Error::Data(_))));
        assert!(matches!(split_validation(&ds, 0.95), Err(Error::Data(_))));
        assert!(matches!(
            split_validation(&counting(1), 0.5),
            Err(Error::Data(_))
        ));
    }

    #[test]
    fn shuffle_is_a_seeded_permutation() {
        let ds = counting(50);
        let a = shuffled(&ds, 7);
        let b = shuffled(&ds, 7);
        let c = shuffled(&ds, 8);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, ds);
        // Rows stay paired: x row i is (2k, 2k+1) where y is k.
        for i in 0..a.len() {
            let k = a.y.row(i)[0];
            assert_eq!(a.x.row(i), &[2.0 * k, 2.0 * k + 1.0]);
        }
        let mut ys: Vec<f32> = a.y.data().to_vec();
        ys.sort_by(f32::total_cmp);
        assert_eq!(ys, ds.y.data());
    }

    #[test]
    fn builtin_sets() {
        let d = builtin("digits", 0.0, 0).unwrap();
        assert_eq!(d.x.shape(), &[1797, 64]);
        assert_eq!(d.y.shape(), &[1797, 1]);
        assert!(d.x.data().iter().all(|&v| (0.0..=1.0).contains(&v)));
        assert_eq!(d.x.data().iter().cloned().fold(0.0, f32::max), 1.0);
        // The same samples as the file, in the fixed shuffled order: same label counts, and
        // the file's first digit (pixels 0 0 5 13 ...) is somewhere in it.
        let raw = digits::load_digits().unwrap();
        let count = |y: &Tensor, c: f32| y.data().iter().filter(|&&v| v == c).count();
        for c in 0..10 {
            assert_eq!(count(&d.y, c as f32), count(&raw.y, c as f32));
        }
        let first: Vec<f32> = raw.x.row(0).iter().map(|v| v / 16.0).collect();
        assert!((0..d.len()).any(|i| d.x.row(i) == first.as_slice()));
        assert_ne!(
            d.x.row(0),
            first.as_slice(),
            "shuffled, not the file's order"
        );
        assert_eq!(
            builtin("digits", 0.0, 9).unwrap(),
            d,
            "the order does not depend on seed"
        );
        let c = builtin("circle", 0.0, 1).unwrap();
        assert_eq!(c.x.shape(), &[500, 2]);
        let r = builtin("reg-gauss", 10.0, 1).unwrap();
        assert_eq!(r.y.shape(), &[1200, 1]);
        for name in BUILTIN {
            assert!(builtin(name, 5.0, 3).is_ok(), "{name}");
        }
        let e = builtin("moons", 0.0, 0).unwrap_err();
        assert_eq!(e, Error::unknown("dataset", "moons", BUILTIN));
        assert!(builtin("xor", 60.0, 0).is_err());
    }
}
