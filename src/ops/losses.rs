//! Keras's losses for dense networks: the per-sample values and their gradients with respect to
//! the model's output. The formulas follow Keras 3 (JAX backend) exactly, including the 1e-7
//! clipping of probabilities, so fits match Keras to float precision. Backends call
//! [`Loss::batch`]; metrics that mirror a loss call [`Loss::per_sample`].

use crate::error::{Error, Result};
use crate::math;
use serde::{Deserialize, Serialize};

/// Keras's fuzz factor (`keras.config.epsilon()`).
pub const EPSILON: f32 = 1e-7;

/// The loss families tunelab knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossKind {
    MeanSquaredError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    Huber,
    LogCosh,
    BinaryCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    Hinge,
    KlDivergence,
}

/// Every accepted loss name (Keras's function names, class names and short aliases).
pub const LOSS_NAMES: &[&str] = &[
    "mean_squared_error",
    "mse",
    "mean_absolute_error",
    "mae",
    "mean_absolute_percentage_error",
    "mape",
    "mean_squared_logarithmic_error",
    "msle",
    "huber",
    "log_cosh",
    "logcosh",
    "binary_crossentropy",
    "bce",
    "categorical_crossentropy",
    "cce",
    "sparse_categorical_crossentropy",
    "scce",
    "hinge",
    "kl_divergence",
    "kld",
    "kullback_leibler_divergence",
];

impl LossKind {
    /// Resolves a Keras name, alias or class name (`"mse"`, `"MeanSquaredError"`, ...).
    pub fn parse(name: &str) -> Result<Self> {
        let n = normalize(name);
        use LossKind::*;
        Ok(match n.as_str() {
            "meansquarederror" | "mse" => MeanSquaredError,
            "meanabsoluteerror" | "mae" => MeanAbsoluteError,
            "meanabsolutepercentageerror" | "mape" => MeanAbsolutePercentageError,
            "meansquaredlogarithmicerror" | "msle" => MeanSquaredLogarithmicError,
            "huber" => Huber,
            "logcosh" => LogCosh,
            "binarycrossentropy" | "bce" => BinaryCrossentropy,
            "categoricalcrossentropy" | "cce" => CategoricalCrossentropy,
            "sparsecategoricalcrossentropy" | "scce" => SparseCategoricalCrossentropy,
            "hinge" => Hinge,
            "kldivergence" | "kld" | "kullbackleiblerdivergence" => KlDivergence,
            _ => return Err(Error::unknown("loss", name, LOSS_NAMES)),
        })
    }

    /// What the targets of this loss look like: `"one_hot"` (a row of class probabilities,
    /// shaped like the output: categorical crossentropy, KL divergence), `"class_ids"` (one
    /// integer column: sparse categorical crossentropy), `"binary"` (0/1: binary
    /// crossentropy, hinge) or `"values"` (regression). The CLI and the notebook widget one-hot
    /// encode class ids for a `"one_hot"` loss.
    pub fn targets(self) -> &'static str {
        use LossKind::*;
        match self {
            CategoricalCrossentropy | KlDivergence => "one_hot",
            SparseCategoricalCrossentropy => "class_ids",
            BinaryCrossentropy | Hinge => "binary",
            _ => "values",
        }
    }

    /// Keras's canonical (function) name, used as the loss's display name.
    pub fn name(self) -> &'static str {
        use LossKind::*;
        match self {
            MeanSquaredError => "mean_squared_error",
            MeanAbsoluteError => "mean_absolute_error",
            MeanAbsolutePercentageError => "mean_absolute_percentage_error",
            MeanSquaredLogarithmicError => "mean_squared_logarithmic_error",
            Huber => "huber",
            LogCosh => "log_cosh",
            BinaryCrossentropy => "binary_crossentropy",
            CategoricalCrossentropy => "categorical_crossentropy",
            SparseCategoricalCrossentropy => "sparse_categorical_crossentropy",
            Hinge => "hinge",
            KlDivergence => "kl_divergence",
        }
    }
}

/// Lowercases and drops `_`, `-` and spaces, so `"MeanSquaredError"` and `"mean_squared_error"` meet.
pub(crate) fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(|c| c.to_lowercase())
        .collect()
}

/// A configured loss: a family plus Keras's arguments.
///
/// ```
/// use tunelab::ops::losses::Loss;
/// let l = Loss::from_name("mse").unwrap();
/// let v = l.per_sample(&[1.0, 2.0], &[0.0, 0.0], 1).unwrap();
/// assert_eq!(v, vec![2.5]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Loss {
    pub kind: LossKind,
    /// Crossentropies only: the model outputs logits rather than probabilities.
    #[serde(default)]
    pub from_logits: bool,
    /// Binary and categorical crossentropy only: smooth the targets towards uniform.
    #[serde(default)]
    pub label_smoothing: f32,
    /// Huber only: where the loss turns from quadratic to linear (Keras default 1.0).
    #[serde(default = "one")]
    pub delta: f32,
}

fn one() -> f32 {
    1.0
}

impl Loss {
    /// A loss with Keras's default arguments.
    pub fn new(kind: LossKind) -> Self {
        Loss {
            kind,
            from_logits: false,
            label_smoothing: 0.0,
            delta: 1.0,
        }
    }

    /// A loss from a Keras name with default arguments.
    pub fn from_name(name: &str) -> Result<Self> {
        Ok(Loss::new(LossKind::parse(name)?))
    }

    /// Sets `from_logits` (crossentropies only).
    pub fn from_logits(mut self, v: bool) -> Self {
        self.from_logits = v;
        self
    }

    /// Sets `label_smoothing` (binary and categorical crossentropy).
    pub fn label_smoothing(mut self, v: f32) -> Self {
        self.label_smoothing = v;
        self
    }

    /// Checks the arguments against what Keras allows.
    pub fn validate(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.label_smoothing) {
            return Err(Error::invalid(
                "label_smoothing",
                self.label_smoothing,
                "a float in [0, 1]",
            ));
        }
        if self.label_smoothing != 0.0
            && !matches!(
                self.kind,
                LossKind::BinaryCrossentropy | LossKind::CategoricalCrossentropy
            )
        {
            return Err(Error::invalid(
                "label_smoothing",
                self.label_smoothing,
                "0 for this loss (only binary_crossentropy and categorical_crossentropy smooth labels)",
            ));
        }
        if !(self.delta.is_finite() && self.delta > 0.0) {
            return Err(Error::invalid("delta", self.delta, "a positive float"));
        }
        Ok(())
    }

    /// The name shown in logs and summaries.
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }

    /// Whether targets are class ids (one column) rather than rows shaped like the output.
    pub fn sparse_targets(&self) -> bool {
        self.kind == LossKind::SparseCategoricalCrossentropy
    }

    /// Checks target and prediction widths for `n` samples: dense losses want equal widths,
    /// the sparse crossentropy wants one class id per sample.
    pub fn check_shapes(&self, y_true_len: usize, y_pred_len: usize, n: usize) -> Result<()> {
        if n == 0 {
            return Err(Error::data("a batch with no samples"));
        }
        let (ct, cp) = (y_true_len / n, y_pred_len / n);
        if self.sparse_targets() {
            if ct != 1 || y_true_len != n {
                return Err(Error::shape(
                    "sparse_categorical_crossentropy targets (one class id per sample)",
                    &[n, 1],
                    &[n, ct],
                ));
            }
        } else if ct != cp || y_true_len != n * ct {
            return Err(Error::shape(
                format!("{} targets vs model output", self.name()),
                &[n, cp],
                &[n, ct],
            ));
        }
        Ok(())
    }

    /// Per-sample loss values for a batch of `n` samples (row-major `y_true`, `y_pred`).
    pub fn per_sample(&self, y_true: &[f32], y_pred: &[f32], n: usize) -> Result<Vec<f32>> {
        self.check_shapes(y_true.len(), y_pred.len(), n)?;
        let hinge = hinge_from_binary(self.kind, y_true);
        let cp = y_pred.len() / n;
        let ct = y_true.len() / n;
        let mut out = Vec::with_capacity(n);
        let mut scratch = vec![0.0; cp];
        for i in 0..n {
            out.push(self.row(
                &y_true[i * ct..(i + 1) * ct],
                &y_pred[i * cp..(i + 1) * cp],
                hinge,
                None,
                &mut scratch,
            )?);
        }
        Ok(out)
    }

    /// The batch loss Keras reports (`sum_over_batch_size`: the sum of weighted per-sample
    /// losses divided by the number of samples) and, when `grad` is given, its gradient with
    /// respect to `y_pred` written there.
    pub fn batch(
        &self,
        y_true: &[f32],
        y_pred: &[f32],
        n: usize,
        sample_weight: Option<&[f32]>,
        mut grad: Option<&mut [f32]>,
    ) -> Result<f32> {
        self.check_shapes(y_true.len(), y_pred.len(), n)?;
        if let Some(w) = sample_weight {
            if w.len() != n {
                return Err(Error::shape("sample_weight", &[n], &[w.len()]));
            }
        }
        let hinge = hinge_from_binary(self.kind, y_true);
        let cp = y_pred.len() / n;
        let ct = y_true.len() / n;
        let inv_n = 1.0 / n as f32;
        let mut total = 0.0f64;
        let mut scratch = vec![0.0; cp];
        for i in 0..n {
            let w = sample_weight.map_or(1.0, |w| w[i]);
            let g = grad.as_deref_mut().map(|g| &mut g[i * cp..(i + 1) * cp]);
            let v = self.row(
                &y_true[i * ct..(i + 1) * ct],
                &y_pred[i * cp..(i + 1) * cp],
                hinge,
                g,
                &mut scratch,
            )?;
            total += (v * w) as f64;
            if let Some(g) = grad.as_deref_mut() {
                for gv in &mut g[i * cp..(i + 1) * cp] {
                    *gv *= w * inv_n;
                }
            }
        }
        Ok((total / n as f64) as f32)
    }

    /// One sample's loss; its gradient (unscaled by weight or batch size) into `grad`.
    fn row(
        &self,
        t: &[f32],
        p: &[f32],
        hinge_binary: bool,
        grad: Option<&mut [f32]>,
        scratch: &mut [f32],
    ) -> Result<f32> {
        let c = p.len() as f32;
        use LossKind::*;
        let mut g_store = grad;
        // Elementwise losses: mean over the last axis of f(t, p).
        let elementwise = |f: &dyn Fn(f32, f32) -> (f32, f32), g: Option<&mut [f32]>| -> f32 {
            let mut s = 0.0f32;
            match g {
                Some(g) => {
                    for j in 0..p.len() {
                        let (v, d) = f(t[j], p[j]);
                        s += v;
                        g[j] = d / c;
                    }
                }
                None => {
                    for j in 0..p.len() {
                        s += f(t[j], p[j]).0;
                    }
                }
            }
            s / c
        };
        let v = match self.kind {
            MeanSquaredError => elementwise(
                &|t, p| {
                    let d = p - t;
                    (d * d, 2.0 * d)
                },
                g_store,
            ),
            MeanAbsoluteError => elementwise(&|t, p| ((p - t).abs(), sign(p - t)), g_store),
            MeanAbsolutePercentageError => elementwise(
                &|t, p| {
                    let den = t.abs().max(EPSILON);
                    (100.0 * (t - p).abs() / den, 100.0 * sign(p - t) / den)
                },
                g_store,
            ),
            MeanSquaredLogarithmicError => elementwise(
                &|t, p| {
                    let pm = p.max(EPSILON);
                    let d = math::ln(pm + 1.0) - math::ln(t.max(EPSILON) + 1.0);
                    let dp = if p > EPSILON { 1.0 / (pm + 1.0) } else { 0.0 };
                    (d * d, 2.0 * d * dp)
                },
                g_store,
            ),
            Huber => {
                let delta = self.delta;
                elementwise(
                    &|t, p| {
                        let e = p - t;
                        let a = e.abs();
                        if a <= delta {
                            (0.5 * e * e, e)
                        } else {
                            (delta * a - 0.5 * delta * delta, delta * sign(e))
                        }
                    },
                    g_store,
                )
            }
            LogCosh => elementwise(
                &|t, p| {
                    let x = p - t;
                    (
                        x + softplus(-2.0 * x) - std::f32::consts::LN_2,
                        math::tanh(x),
                    )
                },
                g_store,
            ),
            Hinge => elementwise(
                &|t, p| {
                    let t = if hinge_binary { 2.0 * t - 1.0 } else { t };
                    let m = 1.0 - t * p;
                    if m > 0.0 {
                        (m, -t)
                    } else {
                        (0.0, 0.0)
                    }
                },
                g_store,
            ),
            KlDivergence => {
                // A sum over the last axis, not a mean.
                let mut s = 0.0;
                for j in 0..p.len() {
                    let tc = t[j].clamp(EPSILON, 1.0);
                    let pc = p[j].clamp(EPSILON, 1.0);
                    s += tc * math::ln(tc / pc);
                    if let Some(g) = g_store.as_deref_mut() {
                        g[j] = if (EPSILON..=1.0).contains(&p[j]) {
                            -tc / pc
                        } else {
                            0.0
                        };
                    }
                }
                s
            }
            BinaryCrossentropy => {
                let ls = self.label_smoothing;
                if self.from_logits {
                    elementwise(
                        &|t, z| {
                            let t = t * (1.0 - ls) + 0.5 * ls;
                            let v = t * softplus(-z) + (1.0 - t) * softplus(z);
                            (v, sigmoid(z) - t)
                        },
                        g_store,
                    )
                } else {
                    elementwise(
                        &|t, p| {
                            let t = t * (1.0 - ls) + 0.5 * ls;
                            let pc = p.clamp(EPSILON, 1.0 - EPSILON);
                            let v = -(t * math::ln(pc) + (1.0 - t) * math::ln(1.0 - pc));
                            let d = if p > EPSILON && p < 1.0 - EPSILON {
                                -t / pc + (1.0 - t) / (1.0 - pc)
                            } else {
                                0.0
                            };
                            (v, d)
                        },
                        g_store,
                    )
                }
            }
            CategoricalCrossentropy | SparseCategoricalCrossentropy => {
                // Targets as a probability row (one-hot for sparse ids), smoothed if asked.
                let k = p.len();
                let tr = &mut *scratch;
                if self.kind == SparseCategoricalCrossentropy {
                    let id = t[0];
                    if !(id >= 0.0 && id.fract() == 0.0 && (id as usize) < k) {
                        return Err(Error::data(format!(
                            "sparse_categorical_crossentropy target {id} is not a class id in [0, {k})"
                        )));
                    }
                    tr.iter_mut().for_each(|v| *v = 0.0);
                    tr[id as usize] = 1.0;
                } else {
                    let ls = self.label_smoothing;
                    for j in 0..k {
                        tr[j] = t[j] * (1.0 - ls) + ls / k as f32;
                    }
                }
                categorical_row(tr, p, self.from_logits, g_store)
            }
        };
        Ok(v)
    }
}

/// Keras's hinge losses turn 0/1 labels into -1/1 when every label of the batch is 0 or 1.
fn hinge_from_binary(kind: LossKind, y_true: &[f32]) -> bool {
    kind == LossKind::Hinge && y_true.iter().all(|&v| v == 0.0 || v == 1.0)
}

/// Crossentropy of one row: `-sum(t * log q)` where q is the softmax of the logits, or the
/// row renormalised to sum 1 and clipped to [eps, 1-eps] (Keras's treatment of probabilities).
fn categorical_row(t: &[f32], p: &[f32], from_logits: bool, grad: Option<&mut [f32]>) -> f32 {
    if from_logits {
        let m = p.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        let sum_exp: f32 = p.iter().map(|&z| math::exp(z - m)).sum();
        let lse = m + math::ln(sum_exp);
        let mut v = 0.0;
        let st: f32 = t.iter().sum();
        for j in 0..p.len() {
            v -= t[j] * (p[j] - lse);
        }
        if let Some(g) = grad {
            for j in 0..p.len() {
                g[j] = (math::exp(p[j] - m) / sum_exp) * st - t[j];
            }
        }
        v
    } else {
        let s: f32 = p.iter().sum();
        let mut v = 0.0;
        let mut gp_dot = 0.0; // sum_i g_i * p_i for the renormalisation's chain rule
        for j in 0..p.len() {
            let q = p[j] / s;
            v -= t[j] * math::ln(q.clamp(EPSILON, 1.0 - EPSILON));
        }
        if let Some(g) = grad {
            for j in 0..p.len() {
                let q = p[j] / s;
                g[j] = if q > EPSILON && q < 1.0 - EPSILON {
                    -t[j] / q
                } else {
                    0.0
                };
                gp_dot += g[j] * p[j];
            }
            for gj in g.iter_mut() {
                *gj = *gj / s - gp_dot / (s * s);
            }
        }
        v
    }
}

fn sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// Numerically stable `log(1 + exp(x))`.
pub(crate) fn softplus(x: f32) -> f32 {
    if x > 0.0 {
        x + math::ln_1p(math::exp(-x))
    } else {
        math::ln_1p(math::exp(x))
    }
}

pub(crate) fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + math::exp(-x))
    } else {
        let e = math::exp(x);
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_losses() -> Vec<Loss> {
        use LossKind::*;
        let mut v: Vec<Loss> = [
            MeanSquaredError,
            MeanAbsoluteError,
            MeanAbsolutePercentageError,
            MeanSquaredLogarithmicError,
            Huber,
            LogCosh,
            BinaryCrossentropy,
            CategoricalCrossentropy,
            SparseCategoricalCrossentropy,
            Hinge,
            KlDivergence,
        ]
        .into_iter()
        .map(Loss::new)
        .collect();
        v.push(Loss::new(BinaryCrossentropy).from_logits(true));
        v.push(Loss::new(CategoricalCrossentropy).from_logits(true));
        v.push(Loss::new(SparseCategoricalCrossentropy).from_logits(true));
        v.push(Loss::new(CategoricalCrossentropy).label_smoothing(0.1));
        v.push(Loss::new(BinaryCrossentropy).label_smoothing(0.2));
        v
    }

    /// Central finite differences (in f64 around f32 evaluations) against the analytic gradient.
    #[test]
    fn gradients_match_finite_differences() {
        let n = 3;
        let c = 4;
        for loss in all_losses() {
            let (y_true, y_pred): (Vec<f32>, Vec<f32>) = match loss.kind {
                LossKind::SparseCategoricalCrossentropy => (
                    vec![0.0, 3.0, 1.0],
                    (0..n * c).map(|i| 0.1 + 0.05 * (i % 5) as f32).collect(),
                ),
                LossKind::BinaryCrossentropy if !loss.from_logits => (
                    (0..n * c).map(|i| (i % 2) as f32).collect(),
                    (0..n * c).map(|i| 0.2 + 0.05 * (i % 7) as f32).collect(),
                ),
                LossKind::CategoricalCrossentropy | LossKind::KlDivergence => (
                    (0..n * c)
                        .map(|i| if i % c == i / c { 1.0 } else { 0.0 })
                        .collect(),
                    (0..n * c).map(|i| 0.1 + 0.07 * (i % 5) as f32).collect(),
                ),
                _ => (
                    (0..n * c).map(|i| 0.5 + 0.3 * (i % 3) as f32).collect(),
                    (0..n * c).map(|i| 0.2 + 0.41 * (i % 4) as f32).collect(),
                ),
            };
            let w = [1.0, 0.5, 2.0];
            let mut g = vec![0.0; n * c];
            loss.batch(&y_true, &y_pred, n, Some(&w), Some(&mut g))
                .unwrap();
            let h = 1e-3f32;
            for j in 0..n * c {
                let mut pp = y_pred.clone();
                pp[j] += h;
                let lp = loss.batch(&y_true, &pp, n, Some(&w), None).unwrap() as f64;
                pp[j] -= 2.0 * h;
                let lm = loss.batch(&y_true, &pp, n, Some(&w), None).unwrap() as f64;
                let fd = (lp - lm) / (2.0 * h as f64);
                let err = (fd - g[j] as f64).abs();
                assert!(
                    err <= 2e-3 * (1.0 + fd.abs()),
                    "{:?} logits={} j={j}: analytic {} vs fd {fd}",
                    loss.kind,
                    loss.from_logits,
                    g[j]
                );
            }
        }
    }

    #[test]
    fn known_values() {
        let mse = Loss::from_name("mse").unwrap();
        assert_eq!(mse.per_sample(&[1.0, 2.0], &[0.0, 0.0], 1).unwrap(), [2.5]);
        let cce = Loss::from_name("categorical_crossentropy").unwrap();
        let v = cce.per_sample(&[0.0, 1.0], &[0.25, 0.75], 1).unwrap()[0];
        assert!((v - (-math::ln(0.75f32))).abs() < 1e-6);
        let hinge = Loss::from_name("hinge").unwrap();
        // 0/1 labels become -1/1: label 0, prediction 0.5 -> max(1 + 0.5, 0) = 1.5
        assert_eq!(hinge.per_sample(&[0.0], &[0.5], 1).unwrap(), [1.5]);
        // sum_over_batch_size: weights multiply, the divisor stays the batch size
        let l = mse.batch(&[0.0, 0.0], &[1.0, 2.0], 2, Some(&[1.0, 0.0]), None);
        assert_eq!(l.unwrap(), 0.5);
    }

    #[test]
    fn bad_names_and_shapes_are_errors() {
        let e = Loss::from_name("msqe").unwrap_err().to_string();
        assert!(e.contains("unknown loss `msqe`") && e.contains("mean_squared_error"));
        let mse = Loss::from_name("mse").unwrap();
        let e = mse
            .per_sample(&[1.0, 2.0, 3.0], &[0.0, 0.0], 1)
            .unwrap_err();
        assert!(e.to_string().contains("expected (1, 2), got (1, 3)"), "{e}");
        let scce = Loss::from_name("sparse_categorical_crossentropy").unwrap();
        assert!(scce.per_sample(&[5.0], &[0.5, 0.5], 1).is_err());
        assert!(Loss::from_name("mse")
            .unwrap()
            .label_smoothing(0.1)
            .validate()
            .is_err());
    }
}
