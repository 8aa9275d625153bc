//! Keras 3's metrics, computed on the host from batches of targets and predictions.
//!
//! A model feeds each batch to [`Metric::update_state`], reads [`Metric::result`] for the logs
//! and calls [`Metric::reset_state`] at the start of every epoch (and of every evaluation).
//! The numbers follow Keras 3 (JAX backend): per-sample metrics are averaged the way
//! `keras.metrics.Mean` does it (weighted sum of values over the sum of weights, kept across
//! batches), confusion-matrix metrics accumulate weighted counts over the epoch, and `"auc"`
//! buckets predictions into Keras's 200 thresholds. [`get_metric`] resolves the strings that
//! `model.compile(metrics=[...])` accepts, including the shape-dependent `"accuracy"`.

use crate::error::{Error, Result};
use crate::math;
use crate::ops::losses::{Loss, LossKind, EPSILON};
use std::fmt;
use std::sync::Arc;

/// A streaming metric: Keras's update_state / result / reset_state. Users implement it for their own metrics.
pub trait Metric: Send {
    /// The name shown in logs, e.g. `"accuracy"` (the model adds prefixes such as `val_`).
    fn name(&self) -> &str;
    /// A batch of `n` samples: y_true row-major [n, ct], y_pred row-major [n, cp]; ct may be 1 for class ids.
    fn update_state(
        &mut self,
        y_true: &[f32],
        y_pred: &[f32],
        n: usize,
        sample_weight: Option<&[f32]>,
    ) -> Result<()>;
    /// The value over everything seen since the last reset.
    fn result(&self) -> f32;
    /// Forgets everything seen (start of an epoch or of an evaluation).
    fn reset_state(&mut self);
    /// A fresh copy with the same configuration and empty state (models clone metrics for validation).
    fn boxed_clone(&self) -> Box<dyn Metric>;
}

/// Every string [`get_metric`] accepts: the ones Keras 3's `metrics.get` knows (class names,
/// their snake_case forms and the short aliases, spelled exactly so, as Keras is
/// case-sensitive here) for the metrics tunelab implements, plus `"accuracy"` / `"acc"`, which
/// match in any letter case, as in Keras's `compile`.
pub const METRIC_NAMES: &[&str] = &[
    "accuracy",
    "acc",
    "binary_accuracy",
    "BinaryAccuracy",
    "categorical_accuracy",
    "CategoricalAccuracy",
    "sparse_categorical_accuracy",
    "SparseCategoricalAccuracy",
    "top_k_categorical_accuracy",
    "TopKCategoricalAccuracy",
    "sparse_top_k_categorical_accuracy",
    "SparseTopKCategoricalAccuracy",
    "mean_squared_error",
    "MeanSquaredError",
    "mse",
    "MSE",
    "mean_absolute_error",
    "MeanAbsoluteError",
    "mae",
    "MAE",
    "mean_absolute_percentage_error",
    "MeanAbsolutePercentageError",
    "mape",
    "MAPE",
    "mean_squared_logarithmic_error",
    "MeanSquaredLogarithmicError",
    "msle",
    "MSLE",
    "root_mean_squared_error",
    "RootMeanSquaredError",
    "log_cosh_error",
    "LogCoshError",
    "cosine_similarity",
    "CosineSimilarity",
    "r2_score",
    "R2Score",
    "binary_crossentropy",
    "BinaryCrossentropy",
    "bce",
    "BCE",
    "categorical_crossentropy",
    "CategoricalCrossentropy",
    "sparse_categorical_crossentropy",
    "SparseCategoricalCrossentropy",
    "kl_divergence",
    "KLDivergence",
    "poisson",
    "Poisson",
    "hinge",
    "Hinge",
    "squared_hinge",
    "SquaredHinge",
    "categorical_hinge",
    "CategoricalHinge",
    "precision",
    "Precision",
    "recall",
    "Recall",
    "auc",
    "AUC",
    "true_positives",
    "TruePositives",
    "false_positives",
    "FalsePositives",
    "true_negatives",
    "TrueNegatives",
    "false_negatives",
    "FalseNegatives",
];

/// Keras's `is_binary_or_sparse_categorical` (keras/src/trainers/compile_utils.py) on full
/// shapes (batch axis included): returns `(is_binary, is_sparse_categorical)`, where binary
/// means y_pred's last axis is 1 and sparse means y_true has fewer axes than y_pred, or a last
/// axis of 1 against a wider y_pred. Binary wins when both hold. `compile` uses it to turn
/// `"accuracy"` (and, for losses, `"crossentropy"`) into a concrete function. `None` when a
/// shape has no axis at all.
pub fn is_binary_or_sparse_categorical(
    y_true_shape: &[usize],
    y_pred_shape: &[usize],
) -> Option<(bool, bool)> {
    let t_last = *y_true_shape.last()?;
    let p_last = *y_pred_shape.last()?;
    let is_binary = p_last == 1;
    let is_sparse = y_true_shape.len() < y_pred_shape.len() || (t_last == 1 && p_last > 1);
    Some((is_binary, is_sparse))
}

/// Which accuracy `"accuracy"` / `"acc"` becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AccuracyKind {
    Binary,
    Sparse,
    Categorical,
}

fn resolve_accuracy(
    identifier: &str,
    y_true_shape: &[usize],
    y_pred_shape: &[usize],
) -> Result<AccuracyKind> {
    match is_binary_or_sparse_categorical(y_true_shape, y_pred_shape) {
        Some((true, _)) => Ok(AccuracyKind::Binary),
        Some((false, true)) => Ok(AccuracyKind::Sparse),
        Some((false, false)) => Ok(AccuracyKind::Categorical),
        None => {
            let batch = y_true_shape
                .first()
                .or(y_pred_shape.first())
                .copied()
                .unwrap_or(1);
            let (which, got) = if y_true_shape.is_empty() {
                ("y_true", y_true_shape)
            } else {
                ("y_pred", y_pred_shape)
            };
            Err(Error::shape(
                format!("metric `{identifier}`: {which} needs a batch axis"),
                &[batch],
                got,
            ))
        }
    }
}

/// Keras's `get_metric`: resolves a string as `compile(metrics=[...])` does. `y_true_shape` and
/// `y_pred_shape` are full shapes including the batch axis (as the data has them: `(n,)` for a
/// flat label vector), used to resolve `"accuracy"` / `"acc"` exactly as
/// keras/src/trainers/compile_utils.py does. The metric's name is the identifier as given.
///
/// `"accuracy"` / `"acc"` (any letter case) become binary accuracy when y_pred's last axis is
/// 1, else sparse categorical accuracy when y_true has fewer axes than y_pred or a last axis of
/// 1, else categorical accuracy. Keras resolves `"crossentropy"` / `"ce"` only for losses, so
/// as metrics they are unknown names here too (see [`is_binary_or_sparse_categorical`] for the
/// loss side). Every other string must be one of [`METRIC_NAMES`], spelled exactly.
///
/// ```
/// use tunelab::nn::metrics::get_metric;
/// let mut m = get_metric("acc", &[4], &[4, 3]).unwrap(); // sparse categorical accuracy
/// m.update_state(&[2.0, 0.0], &[0.1, 0.2, 0.7, 0.5, 0.4, 0.1], 2, None).unwrap();
/// assert_eq!((m.name(), m.result()), ("acc", 1.0));
/// assert!(get_metric("accuracy_score", &[4], &[4, 3]).is_err());
/// ```
pub fn get_metric(
    identifier: &str,
    y_true_shape: &[usize],
    y_pred_shape: &[usize],
) -> Result<Box<dyn Metric>> {
    let name = identifier.to_string();
    let lower = identifier.to_lowercase();
    if lower == "accuracy" || lower == "acc" {
        let f = match resolve_accuracy(identifier, y_true_shape, y_pred_shape)? {
            AccuracyKind::Binary => SampleFn::BinaryAccuracy(0.5),
            AccuracyKind::Sparse => SampleFn::SparseCategoricalAccuracy,
            AccuracyKind::Categorical => SampleFn::CategoricalAccuracy,
        };
        return Ok(Box::new(MeanMetricWrapper::builtin(name, f)));
    }
    let loss = |kind| SampleFn::Loss(Loss::new(kind));
    let mean = |f| -> Box<dyn Metric> { Box::new(MeanMetricWrapper::builtin(name.clone(), f)) };
    let confusion = |which| -> Box<dyn Metric> { Box::new(Confusion::new(name.clone(), which)) };
    use LossKind as L;
    let m = match identifier {
        "binary_accuracy" | "BinaryAccuracy" => mean(SampleFn::BinaryAccuracy(0.5)),
        "categorical_accuracy" | "CategoricalAccuracy" => mean(SampleFn::CategoricalAccuracy),
        "sparse_categorical_accuracy" | "SparseCategoricalAccuracy" => {
            mean(SampleFn::SparseCategoricalAccuracy)
        }
        "top_k_categorical_accuracy" | "TopKCategoricalAccuracy" => mean(SampleFn::TopK(5)),
        "sparse_top_k_categorical_accuracy" | "SparseTopKCategoricalAccuracy" => {
            mean(SampleFn::SparseTopK(5))
        }
        "mean_squared_error" | "MeanSquaredError" | "mse" | "MSE" => {
            mean(loss(L::MeanSquaredError))
        }
        "mean_absolute_error" | "MeanAbsoluteError" | "mae" | "MAE" => {
            mean(loss(L::MeanAbsoluteError))
        }
        "mean_absolute_percentage_error" | "MeanAbsolutePercentageError" | "mape" | "MAPE" => {
            mean(loss(L::MeanAbsolutePercentageError))
        }
        "mean_squared_logarithmic_error" | "MeanSquaredLogarithmicError" | "msle" | "MSLE" => {
            mean(loss(L::MeanSquaredLogarithmicError))
        }
        "root_mean_squared_error" | "RootMeanSquaredError" => {
            let mut m = MeanMetricWrapper::builtin(name.clone(), loss(L::MeanSquaredError));
            m.sqrt_result = true;
            Box::new(m)
        }
        "log_cosh_error" | "LogCoshError" => mean(loss(L::LogCosh)),
        "cosine_similarity" | "CosineSimilarity" => mean(SampleFn::CosineSimilarity),
        "r2_score" | "R2Score" => Box::new(R2Score::new(name.clone())),
        "binary_crossentropy" | "BinaryCrossentropy" | "bce" | "BCE" => {
            mean(loss(L::BinaryCrossentropy))
        }
        "categorical_crossentropy" | "CategoricalCrossentropy" => {
            mean(loss(L::CategoricalCrossentropy))
        }
        "sparse_categorical_crossentropy" | "SparseCategoricalCrossentropy" => {
            mean(loss(L::SparseCategoricalCrossentropy))
        }
        "kl_divergence" | "KLDivergence" => mean(loss(L::KlDivergence)),
        "poisson" | "Poisson" => mean(SampleFn::Poisson),
        "hinge" | "Hinge" => mean(loss(L::Hinge)),
        "squared_hinge" | "SquaredHinge" => mean(SampleFn::SquaredHinge),
        "categorical_hinge" | "CategoricalHinge" => mean(SampleFn::CategoricalHinge),
        "precision" | "Precision" => confusion(Which::Precision),
        "recall" | "Recall" => confusion(Which::Recall),
        "true_positives" | "TruePositives" => confusion(Which::TruePositives),
        "false_positives" | "FalsePositives" => confusion(Which::FalsePositives),
        "true_negatives" | "TrueNegatives" => confusion(Which::TrueNegatives),
        "false_negatives" | "FalseNegatives" => confusion(Which::FalseNegatives),
        "auc" | "AUC" => Box::new(Auc::new(name.clone())),
        _ => return Err(Error::unknown("metric", identifier, METRIC_NAMES)),
    };
    Ok(m)
}

// ---------------------------------------------------------------------------------------------
// Batch checks shared by every built-in metric
// ---------------------------------------------------------------------------------------------

/// Sizes of a checked batch: `n` samples, `ct` target and `cp` prediction values per sample.
#[derive(Debug, Clone, Copy)]
struct Batch {
    n: usize,
    ct: usize,
    cp: usize,
}

/// How target rows must relate to prediction rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Width {
    /// Same width (elementwise metrics).
    Same,
    /// Same width, or one target per sample broadcast over the predictions.
    SameOrOne,
    /// One class id per sample.
    Sparse,
    /// Anything (argmax of the target row; user functions).
    Any,
}

/// Checks sizes; `Ok(None)` for an empty batch (a no-op, as in Keras).
fn check_batch(
    name: &str,
    y_true: &[f32],
    y_pred: &[f32],
    n: usize,
    sample_weight: Option<&[f32]>,
    width: Width,
) -> Result<Option<Batch>> {
    if let Some(w) = sample_weight {
        if w.len() != n {
            return Err(Error::shape(
                format!("metric `{name}` sample_weight"),
                &[n],
                &[w.len()],
            ));
        }
    }
    if n == 0 {
        for (what, v) in [("y_true", y_true), ("y_pred", y_pred)] {
            if !v.is_empty() {
                return Err(Error::shape(
                    format!("metric `{name}` {what} for a batch of 0 samples"),
                    &[0],
                    &[v.len()],
                ));
            }
        }
        return Ok(None);
    }
    for (what, v) in [("y_true", y_true), ("y_pred", y_pred)] {
        if v.is_empty() || v.len() % n != 0 {
            return Err(Error::shape(
                format!(
                    "metric `{name}` {what} (needs a positive multiple of {n} values, one row per sample)"
                ),
                &[n],
                &[v.len()],
            ));
        }
    }
    let (ct, cp) = (y_true.len() / n, y_pred.len() / n);
    let ok = match width {
        Width::Same => ct == cp,
        Width::SameOrOne => ct == cp || ct == 1,
        Width::Sparse => ct == 1,
        Width::Any => true,
    };
    if !ok {
        let what = if width == Width::Sparse {
            format!("metric `{name}` y_true (one class id per sample)")
        } else {
            format!("metric `{name}` y_true vs y_pred")
        };
        let expected = if width == Width::Sparse { 1 } else { cp };
        return Err(Error::shape(what, &[n, expected], &[n, ct]));
    }
    Ok(Some(Batch { n, ct, cp }))
}

/// `x / y`, or 0 where `y` is 0 (Keras's `divide_no_nan`).
fn divide_no_nan(x: f64, y: f64) -> f64 {
    if y == 0.0 {
        0.0
    } else {
        x / y
    }
}

/// `max` that propagates NaN, like `jnp.maximum` / `jnp.max`.
fn nan_max(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else {
        a.max(b)
    }
}

/// `jnp.argmax` of a row: the first NaN if there is one, else the first maximum.
fn argmax(row: &[f32]) -> usize {
    if let Some(i) = row.iter().position(|v| v.is_nan()) {
        return i;
    }
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if let Some(&b) = row.get(best) {
            if v > b {
                best = i;
            }
        }
    }
    best
}

/// Keras's `ops.in_top_k` (JAX backend): the target is in the top `k` when fewer than `k`
/// predictions are strictly greater than the target's, so ties count in the target's favour.
/// A negative target wraps like a Python index; a target outside the row reads as NaN, and a
/// NaN at the target reads as -inf (so it is in the top `k` only when `k` exceeds the number of
/// non-NaN, non -inf predictions).
fn in_top_k(target: i64, row: &[f32], k: usize) -> bool {
    let c = row.len() as i64;
    let idx = if target < 0 { target + c } else { target };
    let at = if (0..c).contains(&idx) {
        row.get(idx as usize).copied().unwrap_or(f32::NAN)
    } else {
        f32::NAN
    };
    let at = if at.is_nan() { f32::NEG_INFINITY } else { at };
    let rank = 1 + row.iter().filter(|&&p| p > at).count();
    rank <= k
}

/// Keras's hinge losses read a batch whose labels are all 0 or 1 as -1 / 1.
fn hinge_labels_binary(y_true: &[f32]) -> bool {
    y_true.iter().all(|&v| v == 0.0 || v == 1.0)
}

// ---------------------------------------------------------------------------------------------
// Mean of a per-sample function
// ---------------------------------------------------------------------------------------------

/// A per-sample function averaged by [`MeanMetricWrapper`].
#[derive(Clone)]
enum SampleFn {
    /// A loss's per-sample values (`mse`, crossentropies, ...).
    Loss(Loss),
    /// 1 where `y_pred > threshold` equals the label, averaged over the row.
    BinaryAccuracy(f32),
    /// argmax of the target row equals argmax of the prediction row.
    CategoricalAccuracy,
    /// The class id equals argmax of the prediction row.
    SparseCategoricalAccuracy,
    /// argmax of the target row is in the top `k` predictions.
    TopK(usize),
    /// The class id is in the top `k` predictions.
    SparseTopK(usize),
    SquaredHinge,
    CategoricalHinge,
    Poisson,
    CosineSimilarity,
    /// A user function of one sample's (y_true row, y_pred row).
    Custom(UserFn),
}

/// A user's per-sample function, shared between a metric and its clones.
type UserFn = Arc<dyn Fn(&[f32], &[f32]) -> f32 + Send + Sync>;

impl SampleFn {
    fn width(&self) -> Width {
        match self {
            SampleFn::Loss(l) if l.sparse_targets() => Width::Sparse,
            SampleFn::Loss(_) => Width::Same,
            SampleFn::BinaryAccuracy(_) => Width::SameOrOne,
            SampleFn::CategoricalAccuracy | SampleFn::TopK(_) | SampleFn::Custom(_) => Width::Any,
            SampleFn::SparseCategoricalAccuracy | SampleFn::SparseTopK(_) => Width::Sparse,
            SampleFn::SquaredHinge
            | SampleFn::CategoricalHinge
            | SampleFn::Poisson
            | SampleFn::CosineSimilarity => Width::Same,
        }
    }

    /// One value per sample of a checked batch.
    fn values(&self, y_true: &[f32], y_pred: &[f32], b: Batch) -> Result<Vec<f32>> {
        if let SampleFn::Loss(l) = self {
            return l.per_sample(y_true, y_pred, b.n);
        }
        let binary_hinge = matches!(self, SampleFn::SquaredHinge) && hinge_labels_binary(y_true);
        let rows = y_true.chunks_exact(b.ct).zip(y_pred.chunks_exact(b.cp));
        let c = b.cp as f32;
        let v = rows
            .map(|(t, p)| match self {
                SampleFn::Loss(_) => 0.0, // handled above
                SampleFn::BinaryAccuracy(threshold) => {
                    let hits = p
                        .iter()
                        .enumerate()
                        .filter(|&(j, &pj)| {
                            let tj = t.get(if t.len() == 1 { 0 } else { j });
                            let tj = tj.copied().unwrap_or(f32::NAN);
                            let pred = if pj > *threshold { 1.0 } else { 0.0 };
                            tj == pred
                        })
                        .count();
                    hits as f32 / c
                }
                SampleFn::CategoricalAccuracy => (argmax(t) == argmax(p)) as u8 as f32,
                SampleFn::SparseCategoricalAccuracy => {
                    (t.first() == Some(&(argmax(p) as f32))) as u8 as f32
                }
                SampleFn::TopK(k) => in_top_k(argmax(t) as i64, p, *k) as u8 as f32,
                // Keras casts the id to int32: truncation toward zero, NaN -> 0, saturating,
                // which is exactly Rust's `as`.
                SampleFn::SparseTopK(k) => {
                    let id = t.first().map_or(i64::MIN, |&v| v as i32 as i64);
                    in_top_k(id, p, *k) as u8 as f32
                }
                SampleFn::SquaredHinge => {
                    let s: f32 = t
                        .iter()
                        .zip(p)
                        .map(|(&tj, &pj)| {
                            let tj = if binary_hinge { 2.0 * tj - 1.0 } else { tj };
                            let m = nan_max(1.0 - tj * pj, 0.0);
                            m * m
                        })
                        .sum();
                    s / c
                }
                SampleFn::CategoricalHinge => {
                    let pos: f32 = t.iter().zip(p).map(|(&tj, &pj)| tj * pj).sum();
                    let neg = t
                        .iter()
                        .zip(p)
                        .map(|(&tj, &pj)| (1.0 - tj) * pj)
                        .fold(f32::NEG_INFINITY, nan_max);
                    nan_max(neg - pos + 1.0, 0.0)
                }
                SampleFn::Poisson => {
                    let s: f32 = t
                        .iter()
                        .zip(p)
                        .map(|(&tj, &pj)| pj - tj * math::ln(pj + EPSILON))
                        .sum();
                    s / c
                }
                SampleFn::CosineSimilarity => {
                    // Keras's l2 normalisation: x * min(rsqrt(sum(x^2)), 1 / epsilon).
                    let inv_norm = |x: &[f32]| {
                        let r = 1.0 / x.iter().map(|v| v * v).sum::<f32>().sqrt();
                        if r.is_nan() {
                            r
                        } else {
                            r.min(1e7)
                        }
                    };
                    let (it, ip) = (inv_norm(t), inv_norm(p));
                    t.iter()
                        .zip(p)
                        .map(|(&tj, &pj)| (tj * it) * (pj * ip))
                        .sum()
                }
                SampleFn::Custom(f) => f(t, p),
            })
            .collect();
        Ok(v)
    }
}

/// A metric that averages a per-sample function (Keras's MeanMetricWrapper); lets users name a closure.
///
/// The result is Keras's `Mean`: the sum of `value * weight` over every sample seen since the
/// last reset, divided by the sum of the weights (the number of samples when no weights are
/// given), and 0 while that sum is 0.
///
/// ```
/// use tunelab::nn::metrics::{MeanMetricWrapper, Metric};
/// let mut m = MeanMetricWrapper::new("abs_first", |t, p| (t[0] - p[0]).abs());
/// m.update_state(&[1.0, 2.0], &[0.0, 0.0], 2, Some(&[3.0, 1.0])).unwrap();
/// assert_eq!(m.result(), (3.0 * 1.0 + 1.0 * 2.0) / 4.0);
/// ```
#[derive(Clone)]
pub struct MeanMetricWrapper {
    name: String,
    f: SampleFn,
    /// Report the square root of the mean (RootMeanSquaredError).
    sqrt_result: bool,
    total: f64,
    count: f64,
}

impl MeanMetricWrapper {
    /// A metric called `name` that averages `f(y_true_row, y_pred_row)` over the samples (rows
    /// may have any widths; `f` sees them as given).
    pub fn new(
        name: impl Into<String>,
        f: impl Fn(&[f32], &[f32]) -> f32 + Send + Sync + 'static,
    ) -> Self {
        Self::builtin(name.into(), SampleFn::Custom(Arc::new(f)))
    }

    fn builtin(name: String, f: SampleFn) -> Self {
        MeanMetricWrapper {
            name,
            f,
            sqrt_result: false,
            total: 0.0,
            count: 0.0,
        }
    }
}

impl fmt::Debug for MeanMetricWrapper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MeanMetricWrapper")
            .field("name", &self.name)
            .field("total", &self.total)
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

impl Metric for MeanMetricWrapper {
    fn name(&self) -> &str {
        &self.name
    }

    fn update_state(
        &mut self,
        y_true: &[f32],
        y_pred: &[f32],
        n: usize,
        sample_weight: Option<&[f32]>,
    ) -> Result<()> {
        let Some(b) = check_batch(&self.name, y_true, y_pred, n, sample_weight, self.f.width())?
        else {
            return Ok(());
        };
        let values = self.f.values(y_true, y_pred, b)?;
        match sample_weight {
            Some(w) => {
                for (&v, &wi) in values.iter().zip(w) {
                    self.total += v as f64 * wi as f64;
                    self.count += wi as f64;
                }
            }
            None => {
                self.total += values.iter().map(|&v| v as f64).sum::<f64>();
                self.count += values.len() as f64;
            }
        }
        Ok(())
    }

    fn result(&self) -> f32 {
        let mean = divide_no_nan(self.total, self.count);
        if self.sqrt_result {
            mean.sqrt() as f32
        } else {
            mean as f32
        }
    }

    fn reset_state(&mut self) {
        self.total = 0.0;
        self.count = 0.0;
    }

    fn boxed_clone(&self) -> Box<dyn Metric> {
        let mut m = self.clone();
        m.reset_state();
        Box::new(m)
    }
}

// ---------------------------------------------------------------------------------------------
// Confusion counts at threshold 0.5: precision, recall, true/false positives/negatives
// ---------------------------------------------------------------------------------------------

/// What a [`Confusion`] metric reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Precision,
    Recall,
    TruePositives,
    FalsePositives,
    TrueNegatives,
    FalseNegatives,
}

/// Keras's Precision / Recall / TruePositives / ... with the default single threshold 0.5:
/// every value of y_pred is one prediction (positive when `> 0.5`), every value of y_true a
/// label (positive when non-zero), weighted by its sample's weight; counts accumulate until
/// reset.
#[derive(Debug, Clone)]
struct Confusion {
    name: String,
    which: Which,
    threshold: f32,
    tp: f64,
    fp: f64,
    tn: f64,
    fn_: f64,
}

impl Confusion {
    fn new(name: String, which: Which) -> Self {
        Confusion {
            name,
            which,
            threshold: 0.5,
            tp: 0.0,
            fp: 0.0,
            tn: 0.0,
            fn_: 0.0,
        }
    }
}

impl Metric for Confusion {
    fn name(&self) -> &str {
        &self.name
    }

    fn update_state(
        &mut self,
        y_true: &[f32],
        y_pred: &[f32],
        n: usize,
        sample_weight: Option<&[f32]>,
    ) -> Result<()> {
        let Some(b) = check_batch(&self.name, y_true, y_pred, n, sample_weight, Width::Same)?
        else {
            return Ok(());
        };
        for (i, (t, p)) in y_true
            .chunks_exact(b.ct)
            .zip(y_pred.chunks_exact(b.cp))
            .enumerate()
        {
            let w = sample_weight
                .and_then(|w| w.get(i))
                .map_or(1.0, |&w| w as f64);
            for (&tj, &pj) in t.iter().zip(p) {
                let label = tj != 0.0; // NaN counts as a positive label, as bool(NaN) does
                let pred = pj > self.threshold;
                match (label, pred) {
                    (true, true) => self.tp += w,
                    (false, true) => self.fp += w,
                    (false, false) => self.tn += w,
                    (true, false) => self.fn_ += w,
                }
            }
        }
        Ok(())
    }

    fn result(&self) -> f32 {
        (match self.which {
            Which::Precision => divide_no_nan(self.tp, self.tp + self.fp),
            Which::Recall => divide_no_nan(self.tp, self.tp + self.fn_),
            Which::TruePositives => self.tp,
            Which::FalsePositives => self.fp,
            Which::TrueNegatives => self.tn,
            Which::FalseNegatives => self.fn_,
        }) as f32
    }

    fn reset_state(&mut self) {
        self.tp = 0.0;
        self.fp = 0.0;
        self.tn = 0.0;
        self.fn_ = 0.0;
    }

    fn boxed_clone(&self) -> Box<dyn Metric> {
        Box::new(Confusion::new(self.name.clone(), self.which))
    }
}

// ---------------------------------------------------------------------------------------------
// AUC
// ---------------------------------------------------------------------------------------------

/// Keras's default number of AUC thresholds.
const AUC_THRESHOLDS: usize = 200;

/// Keras's `AUC()` with its defaults: 200 thresholds, ROC curve, interpolation summation,
/// single label (every value of y_pred is one prediction), probabilities (not logits).
///
/// The thresholds are `[-eps, 1/199, 2/199, ..., 198/199, 1 + eps]`. Being evenly spaced,
/// Keras counts them by bucketing: a prediction clipped to [0, 1] goes to bucket
/// `max(ceil(p * 199) - 1, 0)` (float32 arithmetic; NaN lands in bucket 0), and the counts at
/// threshold `i` are the sums over buckets `>= i`. This does the same.
#[derive(Debug, Clone)]
struct Auc {
    name: String,
    tp: Vec<f64>,
    fp: Vec<f64>,
    tn: Vec<f64>,
    fn_: Vec<f64>,
}

impl Auc {
    fn new(name: String) -> Self {
        Auc {
            name,
            tp: vec![0.0; AUC_THRESHOLDS],
            fp: vec![0.0; AUC_THRESHOLDS],
            tn: vec![0.0; AUC_THRESHOLDS],
            fn_: vec![0.0; AUC_THRESHOLDS],
        }
    }

    /// The thresholds Keras builds (documentation and tests; counting uses buckets).
    #[cfg(test)]
    fn thresholds() -> Vec<f32> {
        let k = AUC_THRESHOLDS;
        let mut t = vec![0.0 - EPSILON];
        t.extend((0..k - 2).map(|i| ((i + 1) as f64 / (k - 1) as f64) as f32));
        t.push(1.0 + EPSILON);
        t
    }
}

impl Metric for Auc {
    fn name(&self) -> &str {
        &self.name
    }

    fn update_state(
        &mut self,
        y_true: &[f32],
        y_pred: &[f32],
        n: usize,
        sample_weight: Option<&[f32]>,
    ) -> Result<()> {
        let Some(b) = check_batch(&self.name, y_true, y_pred, n, sample_weight, Width::Same)?
        else {
            return Ok(());
        };
        let k = AUC_THRESHOLDS;
        let scale = (k - 1) as f32;
        let mut bucket_true = vec![0.0f64; k];
        let mut bucket_false = vec![0.0f64; k];
        let (mut total_true, mut total_false) = (0.0f64, 0.0f64);
        for (i, (t, p)) in y_true
            .chunks_exact(b.ct)
            .zip(y_pred.chunks_exact(b.cp))
            .enumerate()
        {
            let w = sample_weight
                .and_then(|w| w.get(i))
                .map_or(1.0, |&w| w as f64);
            for (&tj, &pj) in t.iter().zip(p) {
                let label = if tj != 0.0 { 1.0 } else { 0.0 };
                let pc = if pj.is_nan() { pj } else { pj.clamp(0.0, 1.0) };
                let bucket = (pc * scale).ceil() - 1.0;
                let idx = if bucket.is_nan() || bucket <= 0.0 {
                    0
                } else {
                    (bucket as usize).min(k - 1)
                };
                let (tl, fl) = (label * w, (1.0 - label) * w);
                bucket_true[idx] += tl;
                bucket_false[idx] += fl;
                total_true += tl;
                total_false += fl;
            }
        }
        let (mut cum_true, mut cum_false) = (0.0, 0.0);
        for i in (0..k).rev() {
            cum_true += bucket_true[i];
            cum_false += bucket_false[i];
            self.tp[i] += cum_true;
            self.fp[i] += cum_false;
            self.tn[i] += total_false - cum_false;
            self.fn_[i] += total_true - cum_true;
        }
        Ok(())
    }

    fn result(&self) -> f32 {
        let k = AUC_THRESHOLDS;
        let recall: Vec<f64> = (0..k)
            .map(|i| divide_no_nan(self.tp[i], self.tp[i] + self.fn_[i]))
            .collect();
        let fpr: Vec<f64> = (0..k)
            .map(|i| divide_no_nan(self.fp[i], self.fp[i] + self.tn[i]))
            .collect();
        let auc: f64 = (0..k - 1)
            .map(|i| (fpr[i] - fpr[i + 1]) * (recall[i] + recall[i + 1]) / 2.0)
            .sum();
        auc as f32
    }

    fn reset_state(&mut self) {
        for v in [&mut self.tp, &mut self.fp, &mut self.tn, &mut self.fn_] {
            v.iter_mut().for_each(|x| *x = 0.0);
        }
    }

    fn boxed_clone(&self) -> Box<dyn Metric> {
        Box::new(Auc::new(self.name.clone()))
    }
}

// ---------------------------------------------------------------------------------------------
// R2Score
// ---------------------------------------------------------------------------------------------

/// Keras's `R2Score()` defaults: per-output coefficient of determination, averaged uniformly
/// over the outputs, accumulated over the epoch (weighted sums of y, y^2 and squared errors
/// per output). An infinite per-output score (zero target variance) counts as 0. NaN before
/// any data.
#[derive(Debug, Clone)]
struct R2Score {
    name: String,
    /// Number of outputs, fixed by the first batch (as Keras builds its variables then).
    cols: Option<usize>,
    sum: Vec<f64>,
    squared_sum: Vec<f64>,
    residual: Vec<f64>,
    count: Vec<f64>,
}

impl R2Score {
    fn new(name: String) -> Self {
        R2Score {
            name,
            cols: None,
            sum: Vec::new(),
            squared_sum: Vec::new(),
            residual: Vec::new(),
            count: Vec::new(),
        }
    }
}

impl Metric for R2Score {
    fn name(&self) -> &str {
        &self.name
    }

    fn update_state(
        &mut self,
        y_true: &[f32],
        y_pred: &[f32],
        n: usize,
        sample_weight: Option<&[f32]>,
    ) -> Result<()> {
        let Some(b) = check_batch(&self.name, y_true, y_pred, n, sample_weight, Width::Same)?
        else {
            return Ok(());
        };
        match self.cols {
            Some(c) if c != b.cp => {
                return Err(Error::shape(
                    format!(
                        "metric `{}` outputs per sample (fixed by the first batch)",
                        self.name
                    ),
                    &[n, c],
                    &[n, b.cp],
                ));
            }
            Some(_) => {}
            None => {
                self.cols = Some(b.cp);
                self.sum = vec![0.0; b.cp];
                self.squared_sum = vec![0.0; b.cp];
                self.residual = vec![0.0; b.cp];
                self.count = vec![0.0; b.cp];
            }
        }
        for (i, (t, p)) in y_true
            .chunks_exact(b.ct)
            .zip(y_pred.chunks_exact(b.cp))
            .enumerate()
        {
            let w = sample_weight
                .and_then(|w| w.get(i))
                .map_or(1.0, |&w| w as f64);
            let cols = self
                .sum
                .iter_mut()
                .zip(self.squared_sum.iter_mut())
                .zip(self.residual.iter_mut())
                .zip(self.count.iter_mut());
            for ((((s, sq), r), c), (&tj, &pj)) in cols.zip(t.iter().zip(p)) {
                let (tj, pj) = (tj as f64, pj as f64);
                *s += tj * w;
                *sq += tj * tj * w;
                *r += (tj - pj) * (tj - pj) * w;
                *c += w;
            }
        }
        Ok(())
    }

    fn result(&self) -> f32 {
        if self.sum.is_empty() {
            return f32::NAN;
        }
        let scores = (0..self.sum.len()).map(|j| {
            let mean = self.sum[j] / self.count[j];
            let total = self.squared_sum[j] - self.sum[j] * mean;
            let raw = 1.0 - self.residual[j] / total;
            if raw.is_infinite() {
                0.0
            } else {
                raw
            }
        });
        (scores.sum::<f64>() / self.sum.len() as f64) as f32
    }

    fn reset_state(&mut self) {
        for v in [
            &mut self.sum,
            &mut self.squared_sum,
            &mut self.residual,
            &mut self.count,
        ] {
            v.iter_mut().for_each(|x| *x = 0.0);
        }
    }

    fn boxed_clone(&self) -> Box<dyn Metric> {
        Box::new(R2Score::new(self.name.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keras's numbers, printed by `KERAS_BACKEND=jax python3 tests/golden/metrics_reference.py`
    /// (Keras 3.15.1, JAX backend, float32).
    #[rustfmt::skip]
    const GOLDEN: &[(&str, f64)] = &[
        ("binary_accuracy.unweighted", 0.32499998807907104),
        ("binary_accuracy.weighted", 0.3340584933757782),
        ("binary_accuracy_multi.unweighted", 0.5750000476837158),
        ("binary_accuracy_multi.weighted", 0.5209788680076599),
        ("binary_accuracy_bcast.unweighted", 0.5249999761581421),
        ("binary_accuracy_bcast.weighted", 0.512248694896698),
        ("categorical_accuracy.unweighted", 0.17499999701976776),
        ("categorical_accuracy.weighted", 0.1547231376171112),
        ("sparse_categorical_accuracy.unweighted", 0.17499999701976776),
        ("sparse_categorical_accuracy.weighted", 0.1547231376171112),
        ("top_k_categorical_accuracy.unweighted", 0.6499999761581421),
        ("top_k_categorical_accuracy.weighted", 0.6292646527290344),
        ("sparse_top_k_categorical_accuracy.unweighted", 0.6499999761581421),
        ("sparse_top_k_categorical_accuracy.weighted", 0.6292646527290344),
        ("mean_squared_error.unweighted", 2.2241945266723633),
        ("mean_squared_error.weighted", 2.8560099601745605),
        ("mean_absolute_error.unweighted", 1.210884690284729),
        ("mean_absolute_error.weighted", 1.417119026184082),
        ("mean_absolute_percentage_error.unweighted", 197.93099975585938),
        ("mean_absolute_percentage_error.weighted", 211.19712829589844),
        ("mean_squared_logarithmic_error.unweighted", 0.28174734115600586),
        ("mean_squared_logarithmic_error.weighted", 0.34614297747612),
        ("root_mean_squared_error.unweighted", 1.4913734197616577),
        ("root_mean_squared_error.weighted", 1.6899733543395996),
        ("log_cosh_error.unweighted", 0.7032180428504944),
        ("log_cosh_error.weighted", 0.8662545084953308),
        ("cosine_similarity.unweighted", 0.1842004656791687),
        ("cosine_similarity.weighted", 0.08754350990056992),
        ("r2_score.unweighted", -0.7157597541809082),
        ("r2_score.weighted", -1.0042469501495361),
        ("binary_crossentropy.unweighted", 0.9259872436523438),
        ("binary_crossentropy.weighted", 1.0818058252334595),
        ("categorical_crossentropy.unweighted", 1.7513763904571533),
        ("categorical_crossentropy.weighted", 1.7232543230056763),
        ("sparse_categorical_crossentropy.unweighted", 1.7513763904571533),
        ("sparse_categorical_crossentropy.weighted", 1.7232543230056763),
        ("kl_divergence.unweighted", 1.0626144409179688),
        ("kl_divergence.weighted", 0.980172336101532),
        ("poisson.unweighted", 1.475517988204956),
        ("poisson.weighted", 1.6170815229415894),
        ("hinge.unweighted", 0.9846258163452148),
        ("hinge.weighted", 0.9201322197914124),
        ("hinge_pm1.unweighted", 0.9592994451522827),
        ("hinge_pm1.weighted", 0.9452927112579346),
        ("squared_hinge.unweighted", 1.2265007495880127),
        ("squared_hinge.weighted", 1.0862452983856201),
        ("squared_hinge_pm1.unweighted", 1.1758480072021484),
        ("squared_hinge_pm1.weighted", 1.1365662813186646),
        ("categorical_hinge.unweighted", 1.285248041152954),
        ("categorical_hinge.weighted", 1.2647325992584229),
        ("precision.unweighted", 0.25),
        ("precision.weighted", 0.34521159529685974),
        ("precision_multi.unweighted", 0.5),
        ("precision_multi.weighted", 0.47281110286712646),
        ("recall.unweighted", 0.29411765933036804),
        ("recall.weighted", 0.32575467228889465),
        ("recall_multi.unweighted", 0.5490196347236633),
        ("recall_multi.weighted", 0.5073182582855225),
        ("true_positives.unweighted", 28.0),
        ("true_positives.weighted", 24.291074752807617),
        ("false_positives.unweighted", 28.0),
        ("false_positives.weighted", 27.08477783203125),
        ("true_negatives.unweighted", 41.0),
        ("true_negatives.weighted", 30.822628021240234),
        ("false_negatives.unweighted", 23.0),
        ("false_negatives.weighted", 23.590261459350586),
        ("auc.unweighted", 0.8255539536476135),
        ("auc.weighted", 0.8362746238708496),
        ("auc_multi.unweighted", 0.5210607051849365),
        ("auc_multi.weighted", 0.5255146622657776),
        ("ties.categorical_accuracy", 0.1666666716337204),
        ("ties.sparse_categorical_accuracy", 0.1666666716337204),
        ("ties.top_k_categorical_accuracy.k1", 0.5),
        ("ties.sparse_top_k_categorical_accuracy.k1", 0.5),
        ("ties.top_k_categorical_accuracy.k5", 0.8333333134651184),
        ("ties.sparse_top_k_categorical_accuracy.k5", 0.8333333134651184),
        ("edge.sparse_top_k_categorical_accuracy.k1", 0.1666666716337204),
        ("edge.sparse_top_k_categorical_accuracy.k5", 0.3333333432674408),
        ("edge.sparse_top_k_categorical_accuracy.k6", 0.6666666865348816),
        ("mean.weighted_first_batch", 1.0),
        ("mean.weighted_two_batches", 6.333333492279053),
        ("mean.all_zero_weights", 0.0),
    ];

    fn golden(key: &str) -> f64 {
        GOLDEN
            .iter()
            .find(|(k, _)| *k == key)
            .map(|&(_, v)| v)
            .unwrap_or_else(|| panic!("no golden value for {key}"))
    }

    fn assert_close(key: &str, got: f32, tol: f64) {
        let want = golden(key);
        let err = (got as f64 - want).abs();
        assert!(
            err <= tol * want.abs().max(1.0),
            "{key}: tunelab {got} vs keras {want} (diff {err:e})"
        );
    }

    /// The generator of tests/golden/metrics_reference.py, bit for bit.
    struct Lcg(u32);

    impl Lcg {
        fn next(&mut self) -> f32 {
            self.0 = self.0.wrapping_mul(1664525).wrapping_add(1013904223);
            (self.0 >> 8) as f32 / 16777216.0
        }

        fn mat(&mut self, rows: usize, cols: usize) -> Mat {
            Mat {
                cols,
                v: (0..rows * cols).map(|_| self.next()).collect(),
            }
        }
    }

    /// Row-major samples.
    #[derive(Clone)]
    struct Mat {
        cols: usize,
        v: Vec<f32>,
    }

    impl Mat {
        fn map(mut self, f: impl Fn(f32) -> f32) -> Mat {
            self.v.iter_mut().for_each(|x| *x = f(*x));
            self
        }

        fn rows(&self) -> usize {
            self.v.len() / self.cols
        }

        fn one_hot(&self, c: usize) -> Mat {
            let mut v = vec![0.0; self.v.len() * c];
            for (i, &id) in self.v.iter().enumerate() {
                v[i * c + id as usize] = 1.0;
            }
            Mat { cols: c, v }
        }
    }

    /// The data sets of the reference script, drawn in the same order.
    struct Data {
        p4: Mat,
        ids4: Mat,
        oh4: Mat,
        p8: Mat,
        ids8: Mat,
        oh8: Mat,
        yb: Mat,
        pb: Mat,
        ym: Mat,
        pm: Mat,
        yr: Mat,
        pr: Mat,
        ycount: Mat,
        ppos: Mat,
        yh: Mat,
        ph: Mat,
        w: Vec<f32>,
        ya: Mat,
        pa: Mat,
        ya3: Mat,
        pa3: Mat,
        wa: Vec<f32>,
    }

    const N: usize = 40;
    const SPLITS: &[usize] = &[0, 16, 32, 40];
    const NA: usize = 500;
    const SPLITS_A: &[usize] = &[0, 200, 450, 500];

    impl Data {
        fn new() -> Data {
            let mut g = Lcg(42);
            let bit = |thr: f32| move |u: f32| if u < thr { 1.0 } else { 0.0 };
            let p4 = g.mat(N, 4);
            let ids4 = g.mat(N, 1).map(|u| (u * 4.0).floor());
            let oh4 = ids4.one_hot(4);
            let p8 = g.mat(N, 8);
            let ids8 = g.mat(N, 1).map(|u| (u * 8.0).floor());
            let oh8 = ids8.one_hot(8);
            let yb = g.mat(N, 1).map(bit(0.5));
            let pb = g.mat(N, 1);
            let ym = g.mat(N, 3).map(bit(0.4));
            let pm = g.mat(N, 3);
            let yr = g.mat(N, 2).map(|u| u * 4.0 - 2.0);
            let pr = g.mat(N, 2).map(|u| u * 4.0 - 2.0);
            let ycount = g.mat(N, 2).map(|u| (u * 5.0).floor());
            let ppos = g.mat(N, 2).map(|u| u * 3.0);
            let yh = g.mat(N, 3).map(|u| if u < 0.5 { -1.0 } else { 1.0 });
            let ph = g.mat(N, 3).map(|u| u * 2.0 - 1.0);
            let mut w: Vec<f32> = g.mat(N, 1).v.iter().map(|u| u * 2.0).collect();
            for wi in w.iter_mut().step_by(7) {
                *wi = 0.0;
            }
            let mut ga = Lcg(7);
            let ya = ga.mat(NA, 1).map(bit(0.3));
            let noise = ga.mat(NA, 1);
            let pa = Mat {
                cols: 1,
                v: ya
                    .v
                    .iter()
                    .zip(&noise.v)
                    .map(|(y, u)| y * 0.3 + u * 0.7)
                    .collect(),
            };
            let ya3 = ga.mat(NA, 3).map(bit(0.5));
            let pa3 = ga.mat(NA, 3).map(|u| u * 1.4 - 0.2);
            let wa = ga.mat(NA, 1).v.iter().map(|u| u * 2.0).collect();
            Data {
                p4,
                ids4,
                oh4,
                p8,
                ids8,
                oh8,
                yb,
                pb,
                ym,
                pm,
                yr,
                pr,
                ycount,
                ppos,
                yh,
                ph,
                w,
                ya,
                pa,
                ya3,
                pa3,
                wa,
            }
        }
    }

    /// Resets, feeds the batches `splits` (with the matching slice of `w`), reads the result.
    fn run(m: &mut dyn Metric, yt: &Mat, yp: &Mat, w: Option<&[f32]>, splits: &[usize]) -> f32 {
        m.reset_state();
        for s in splits.windows(2) {
            let (a, b) = (s[0], s[1]);
            let t = &yt.v[a * yt.cols..b * yt.cols];
            let p = &yp.v[a * yp.cols..b * yp.cols];
            m.update_state(t, p, b - a, w.map(|w| &w[a..b])).unwrap();
        }
        m.result()
    }

    fn shape_of(m: &Mat) -> Vec<usize> {
        vec![m.rows(), m.cols]
    }

    #[test]
    fn every_metric_matches_keras_over_batches_with_and_without_weights() {
        let d = Data::new();
        let cases: Vec<(&str, &str, &Mat, &Mat)> = vec![
            ("binary_accuracy", "binary_accuracy", &d.yb, &d.pb),
            ("binary_accuracy_multi", "binary_accuracy", &d.ym, &d.pm),
            ("binary_accuracy_bcast", "binary_accuracy", &d.yb, &d.pm),
            (
                "categorical_accuracy",
                "categorical_accuracy",
                &d.oh4,
                &d.p4,
            ),
            (
                "sparse_categorical_accuracy",
                "sparse_categorical_accuracy",
                &d.ids4,
                &d.p4,
            ),
            (
                "top_k_categorical_accuracy",
                "top_k_categorical_accuracy",
                &d.oh8,
                &d.p8,
            ),
            (
                "sparse_top_k_categorical_accuracy",
                "sparse_top_k_categorical_accuracy",
                &d.ids8,
                &d.p8,
            ),
            ("mean_squared_error", "mse", &d.yr, &d.pr),
            ("mean_absolute_error", "mae", &d.yr, &d.pr),
            ("mean_absolute_percentage_error", "mape", &d.yr, &d.pr),
            ("mean_squared_logarithmic_error", "msle", &d.yr, &d.pr),
            (
                "root_mean_squared_error",
                "root_mean_squared_error",
                &d.yr,
                &d.pr,
            ),
            ("log_cosh_error", "log_cosh_error", &d.yr, &d.pr),
            ("cosine_similarity", "cosine_similarity", &d.yr, &d.pr),
            ("r2_score", "r2_score", &d.yr, &d.pr),
            ("binary_crossentropy", "bce", &d.ym, &d.pm),
            (
                "categorical_crossentropy",
                "categorical_crossentropy",
                &d.oh4,
                &d.p4,
            ),
            (
                "sparse_categorical_crossentropy",
                "sparse_categorical_crossentropy",
                &d.ids4,
                &d.p4,
            ),
            ("kl_divergence", "kl_divergence", &d.oh4, &d.p4),
            ("poisson", "poisson", &d.ycount, &d.ppos),
            ("hinge", "hinge", &d.ym, &d.ph),
            ("hinge_pm1", "hinge", &d.yh, &d.ph),
            ("squared_hinge", "squared_hinge", &d.ym, &d.ph),
            ("squared_hinge_pm1", "squared_hinge", &d.yh, &d.ph),
            ("categorical_hinge", "categorical_hinge", &d.oh4, &d.p4),
            ("precision", "precision", &d.yb, &d.pb),
            ("precision_multi", "Precision", &d.ym, &d.pm),
            ("recall", "recall", &d.yb, &d.pb),
            ("recall_multi", "Recall", &d.ym, &d.pm),
            ("true_positives", "true_positives", &d.ym, &d.pm),
            ("false_positives", "false_positives", &d.ym, &d.pm),
            ("true_negatives", "true_negatives", &d.ym, &d.pm),
            ("false_negatives", "false_negatives", &d.ym, &d.pm),
        ];
        for (key, name, yt, yp) in cases {
            let mut m = get_metric(name, &shape_of(yt), &shape_of(yp)).unwrap();
            assert_eq!(m.name(), name);
            let got = run(m.as_mut(), yt, yp, None, SPLITS);
            assert_close(&format!("{key}.unweighted"), got, 2e-6);
            let got = run(m.as_mut(), yt, yp, Some(&d.w), SPLITS);
            assert_close(&format!("{key}.weighted"), got, 2e-6);
        }
    }

    #[test]
    fn auc_matches_keras_on_random_data() {
        let d = Data::new();
        for (key, yt, yp) in [("auc", &d.ya, &d.pa), ("auc_multi", &d.ya3, &d.pa3)] {
            let mut m = get_metric("auc", &shape_of(yt), &shape_of(yp)).unwrap();
            let got = run(m.as_mut(), yt, yp, None, SPLITS_A);
            assert_close(&format!("{key}.unweighted"), got, 1e-6);
            let got = run(m.as_mut(), yt, yp, Some(&d.wa), SPLITS_A);
            assert_close(&format!("{key}.weighted"), got, 1e-6);
        }
        // The same data in one batch gives the same counts.
        let mut one = get_metric("AUC", &[NA, 1], &[NA, 1]).unwrap();
        let got = run(one.as_mut(), &d.ya, &d.pa, None, &[0, NA]);
        assert_close("auc.unweighted", got, 1e-6);
        // Perfect separation, reversed, and the thresholds Keras builds.
        let mut m = get_metric("auc", &[4, 1], &[4, 1]).unwrap();
        m.update_state(&[0.0, 0.0, 1.0, 1.0], &[0.1, 0.2, 0.8, 0.9], 4, None)
            .unwrap();
        assert!((m.result() - 1.0).abs() < 1e-6);
        m.reset_state();
        m.update_state(&[1.0, 1.0, 0.0, 0.0], &[0.1, 0.2, 0.8, 0.9], 4, None)
            .unwrap();
        assert!(m.result().abs() < 1e-6);
        let t = Auc::thresholds();
        assert_eq!(t.len(), 200);
        assert_eq!((t[0], t[199]), (-EPSILON, 1.0 + EPSILON));
        assert!((t[1] - 1.0 / 199.0).abs() < 1e-9);
    }

    #[test]
    fn top_k_ties_nan_and_out_of_range_ids_follow_in_top_k() {
        let nan = f32::NAN;
        let ids = Mat {
            cols: 1,
            v: vec![0.0, 1.0, 2.0, 3.0, 5.0, 4.0],
        };
        let pred = Mat {
            cols: 6,
            v: [
                [0.2, 0.2, 0.2, 0.2, 0.2, 0.2],
                [0.2, 0.2, 0.2, 0.2, 0.2, 0.2],
                [0.1, 0.5, 0.5, 0.5, 0.5, 0.5],
                [0.9, 0.8, 0.7, 0.6, 0.5, 0.4],
                [0.9, 0.8, 0.7, 0.6, 0.5, 0.4],
                [nan, 0.1, 0.2, 0.3, 0.4, 0.5],
            ]
            .concat(),
        };
        let oh = ids.one_hot(6);
        let all = &[0, 6];
        let mean = |f| MeanMetricWrapper::builtin("m".into(), f);
        let got = run(
            &mut mean(SampleFn::CategoricalAccuracy),
            &oh,
            &pred,
            None,
            all,
        );
        assert_close("ties.categorical_accuracy", got, 1e-7);
        let mut m = mean(SampleFn::SparseCategoricalAccuracy);
        let got = run(&mut m, &ids, &pred, None, all);
        assert_close("ties.sparse_categorical_accuracy", got, 1e-7);
        for k in [1, 5] {
            let got = run(&mut mean(SampleFn::TopK(k)), &oh, &pred, None, all);
            assert_close(&format!("ties.top_k_categorical_accuracy.k{k}"), got, 1e-7);
            let got = run(&mut mean(SampleFn::SparseTopK(k)), &ids, &pred, None, all);
            let key = format!("ties.sparse_top_k_categorical_accuracy.k{k}");
            assert_close(&key, got, 1e-7);
        }
        let edge_ids = Mat {
            cols: 1,
            v: vec![7.0, -1.0, -7.0, 2.9, nan, -6.0],
        };
        let edge_pred = Mat {
            cols: 6,
            v: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6].repeat(6),
        };
        for k in [1, 5, 6] {
            let mut m = mean(SampleFn::SparseTopK(k));
            let got = run(&mut m, &edge_ids, &edge_pred, None, all);
            let key = format!("edge.sparse_top_k_categorical_accuracy.k{k}");
            assert_close(&key, got, 1e-7);
        }
    }

    #[test]
    fn mean_divides_the_weighted_sum_by_the_sum_of_weights_across_batches() {
        let mut m = get_metric("mse", &[2, 1], &[2, 1]).unwrap();
        m.update_state(&[0.0, 0.0], &[1.0, 2.0], 2, Some(&[1.0, 0.0]))
            .unwrap();
        assert_close("mean.weighted_first_batch", m.result(), 1e-7);
        m.update_state(&[0.0], &[3.0], 1, Some(&[2.0])).unwrap();
        assert_close("mean.weighted_two_batches", m.result(), 1e-7);
        let mut z = get_metric("mse", &[1, 1], &[1, 1]).unwrap();
        z.update_state(&[0.0], &[3.0], 1, Some(&[0.0])).unwrap();
        assert_close("mean.all_zero_weights", z.result(), 0.0);
        // Nothing seen yet: 0, as divide_no_nan gives.
        assert_eq!(get_metric("mae", &[1], &[1]).unwrap().result(), 0.0);
    }

    #[test]
    fn accuracy_resolves_by_shapes_like_compile_utils() {
        use AccuracyKind::*;
        // Expected classes printed by the reference script ("resolve.*" lines).
        let cases: &[(&[usize], &[usize], AccuracyKind)] = &[
            (&[5, 1], &[5, 1], Binary),
            (&[5], &[5, 1], Binary),
            (&[5], &[5, 3], Sparse),
            (&[5, 1], &[5, 3], Sparse),
            (&[5, 3], &[5, 3], Categorical),
            (&[5, 2], &[5, 3], Categorical),
            (&[5], &[5], Categorical),
            (&[1], &[1], Binary),
            (&[5, 3], &[5, 1], Binary),
        ];
        for &(t, p, want) in cases {
            assert_eq!(resolve_accuracy("acc", t, p).unwrap(), want, "{t:?} {p:?}");
        }
        assert!(resolve_accuracy("acc", &[], &[5, 1]).is_err());
        assert!(resolve_accuracy("acc", &[5], &[]).is_err());
        // Behaviour through get_metric, with the name kept as given (any case).
        let mut b = get_metric("ACC", &[2, 1], &[2, 1]).unwrap();
        b.update_state(&[1.0, 0.0], &[0.7, 0.4], 2, None).unwrap();
        assert_eq!((b.name(), b.result()), ("ACC", 1.0));
        let mut s = get_metric("Accuracy", &[2, 1], &[2, 3]).unwrap();
        s.update_state(&[2.0, 0.0], &[0.1, 0.2, 0.7, 0.1, 0.8, 0.1], 2, None)
            .unwrap();
        assert_eq!((s.name(), s.result()), ("Accuracy", 0.5));
        let mut c = get_metric("accuracy", &[2, 3], &[2, 3]).unwrap();
        c.update_state(
            &[0.0, 0.0, 1.0, 0.0, 1.0, 0.0],
            &[0.1, 0.2, 0.7, 0.1, 0.8, 0.1],
            2,
            None,
        )
        .unwrap();
        assert_eq!(c.result(), 1.0);
        assert!(get_metric("accuracy", &[], &[]).is_err());
    }

    /// Bitwise equal, or both NaN.
    fn same(a: f32, b: f32) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    #[test]
    fn reset_state_and_boxed_clone_give_independent_empty_metrics() {
        let d = Data::new();
        for name in METRIC_NAMES {
            let (yt, yp) = match *name {
                n if n.contains("sparse") || n.starts_with("Sparse") => (&d.ids4, &d.p4),
                n if n.to_lowercase().contains("categorical") || n.starts_with("TopK") => {
                    (&d.oh4, &d.p4)
                }
                _ => (&d.ym, &d.pm),
            };
            let mut m = get_metric(name, &shape_of(yt), &shape_of(yp)).unwrap();
            assert_eq!(m.name(), *name);
            let fresh = m.result();
            let full = run(m.as_mut(), yt, yp, Some(&d.w), SPLITS);
            let mut c = m.boxed_clone();
            assert_eq!(c.name(), *name);
            assert!(same(c.result(), fresh), "{name}: clone is empty");
            // Feeding the clone leaves the original alone, and the clone computes the same.
            let again = run(c.as_mut(), yt, yp, Some(&d.w), SPLITS);
            assert_eq!(again.to_bits(), full.to_bits(), "{name}");
            assert_eq!(m.result().to_bits(), full.to_bits(), "{name}");
            c.update_state(&yt.v[..yt.cols], &yp.v[..yp.cols], 1, None)
                .unwrap();
            assert_eq!(m.result().to_bits(), full.to_bits(), "{name}");
            m.reset_state();
            assert!(same(m.result(), fresh), "{name}: reset");
        }
    }

    #[test]
    fn unknown_names_list_the_valid_ones() {
        for bad in [
            "log_cosh",
            "crossentropy",
            "ce",
            "Mse",
            "accuracy_score",
            "",
        ] {
            let e = get_metric(bad, &[4, 1], &[4, 1]).err().unwrap();
            let msg = e.to_string();
            assert!(
                msg.starts_with(&format!("unknown metric `{bad}`; valid metric names are: ")),
                "{msg}"
            );
            assert!(msg.contains("accuracy, acc, binary_accuracy") && msg.contains("auc"));
            assert_eq!(e, Error::unknown("metric", bad, METRIC_NAMES));
        }
    }

    #[test]
    fn user_defined_mean_metric_wrapper() {
        let mut m = MeanMetricWrapper::new("within_half", |t, p| {
            let close = t.iter().zip(p).all(|(a, b)| (a - b).abs() < 0.5);
            if close {
                1.0
            } else {
                0.0
            }
        });
        assert_eq!(m.name(), "within_half");
        m.update_state(&[1.0, 2.0, 3.0, 4.0], &[1.2, 2.9, 3.0, 4.1], 2, None)
            .unwrap();
        assert_eq!(m.result(), 0.5);
        m.update_state(&[0.0, 0.0], &[0.0, 0.0], 1, Some(&[2.0]))
            .unwrap();
        assert_eq!(m.result(), 0.75);
        let mut c = m.boxed_clone();
        assert_eq!(c.result(), 0.0);
        c.update_state(&[0.0, 0.0], &[9.0, 0.0], 1, None).unwrap();
        assert_eq!((c.result(), m.result()), (0.0, 0.75));
        assert!(format!("{m:?}").contains("within_half"));
        let boxed: Box<dyn Metric> = Box::new(m);
        assert_eq!(boxed.name(), "within_half");
    }

    #[test]
    fn bad_batches_are_errors_not_panics() {
        let shapes: &[(&str, usize, usize)] =
            &[("mse", 2, 2), ("sparse_categorical_accuracy", 1, 3)];
        for &(name, ct, cp) in shapes {
            let mut m = get_metric(name, &[2, ct], &[2, cp]).unwrap();
            // Lengths that are not whole rows.
            let e = m.update_state(&[0.0; 3], &[0.0; 4], 2, None).unwrap_err();
            assert!(e.to_string().contains(&format!("metric `{name}`")), "{e}");
            // Wrong number of weights.
            let e = m
                .update_state(&vec![0.0; 2 * ct], &vec![0.0; 2 * cp], 2, Some(&[1.0]))
                .unwrap_err();
            assert!(e.to_string().contains("sample_weight"), "{e}");
            // Empty rows.
            assert!(m.update_state(&[], &[0.0; 4], 2, None).is_err());
        }
        let mut mse = get_metric("mse", &[2, 2], &[2, 2]).unwrap();
        let e = mse.update_state(&[0.0; 2], &[0.0; 4], 2, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "shape mismatch in metric `mse` y_true vs y_pred: expected (2, 2), got (2, 1)"
        );
        let mut sca = get_metric("sparse_categorical_accuracy", &[2, 1], &[2, 3]).unwrap();
        let e = sca.update_state(&[0.0; 6], &[0.0; 6], 2, None).unwrap_err();
        assert!(e.to_string().contains("one class id per sample"), "{e}");
        // An empty batch is a no-op; a batch of 0 samples with values is not.
        assert!(mse.update_state(&[], &[], 0, None).is_ok());
        assert!(mse.update_state(&[1.0], &[], 0, None).is_err());
        assert_eq!(mse.result(), 0.0);
        // Bad class ids in the sparse crossentropy are reported, not panicked on.
        let mut scce = get_metric("sparse_categorical_crossentropy", &[1, 1], &[1, 2]).unwrap();
        assert!(scce.update_state(&[5.0], &[0.5, 0.5], 1, None).is_err());
        // R2 fixes its width with the first batch.
        let mut r2 = get_metric("r2_score", &[2, 2], &[2, 2]).unwrap();
        r2.update_state(&[1.0, 2.0, 3.0, 5.0], &[1.0, 2.0, 3.0, 4.0], 2, None)
            .unwrap();
        assert!(r2.update_state(&[1.0], &[1.0], 1, None).is_err());
        // Every metric survives NaN, infinities and odd values without panicking.
        let odd = [f32::NAN, f32::INFINITY, -f32::INFINITY, -3.0, 0.0, 1e30];
        for name in METRIC_NAMES {
            for (ct, cp) in [(1, 1), (1, 3), (3, 3), (2, 3)] {
                let Ok(mut m) = get_metric(name, &[2, ct], &[2, cp]) else {
                    continue;
                };
                let t: Vec<f32> = (0..2 * ct).map(|i| odd[i % odd.len()]).collect();
                let p: Vec<f32> = (0..2 * cp).map(|i| odd[(i + 1) % odd.len()]).collect();
                let _ = m.update_state(&t, &p, 2, Some(&[f32::NAN, -1.0]));
                let _ = m.result();
            }
        }
    }

    #[test]
    fn in_top_k_and_argmax_helpers() {
        let row = [0.1, 0.2, 0.3];
        assert!(in_top_k(2, &row, 1));
        assert!(in_top_k(-1, &row, 1)); // wraps to 2
        assert!(!in_top_k(3, &row, 3));
        assert!(in_top_k(3, &row, 4)); // out of range: rank = 1 + 3
        assert!(!in_top_k(-4, &row, 3));
        assert_eq!(argmax(&[1.0, 3.0, 3.0]), 1);
        assert_eq!(argmax(&[1.0, f32::NAN, 3.0, f32::NAN]), 1);
    }
}
