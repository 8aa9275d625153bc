//! Keras's weight regularizers: a penalty added to the loss and its gradient added to the
//! weight's gradient.

use crate::error::{Error, Result};
use crate::ops::losses::normalize;
use serde::{Deserialize, Serialize};

/// `l1 * sum(|w|) + l2 * sum(w^2)`; Keras's L1, L2 and L1L2 are the cases of this one form.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Regularizer {
    #[serde(default)]
    pub l1: f32,
    #[serde(default)]
    pub l2: f32,
}

/// Accepted regularizer names.
pub const REGULARIZER_NAMES: &[&str] = &["l1", "l2", "l1_l2"];

impl Regularizer {
    /// Keras's `L1(l1=0.01)`.
    pub fn l1(l1: f32) -> Self {
        Regularizer { l1, l2: 0.0 }
    }
    /// Keras's `L2(l2=0.01)`.
    pub fn l2(l2: f32) -> Self {
        Regularizer { l1: 0.0, l2 }
    }
    /// Keras's `L1L2(l1, l2)`.
    pub fn l1_l2(l1: f32, l2: f32) -> Self {
        Regularizer { l1, l2 }
    }

    /// A regularizer by name with Keras's default factors (`"l1"`, `"l2"`: 0.01;
    /// `"l1_l2"`: 0.01 each; Keras 3 itself refuses that string).
    pub fn parse(name: &str) -> Result<Self> {
        match normalize(name).as_str() {
            "l1" => Ok(Self::l1(0.01)),
            "l2" => Ok(Self::l2(0.01)),
            "l1l2" => Ok(Self::l1_l2(0.01, 0.01)),
            _ => Err(Error::unknown("regularizer", name, REGULARIZER_NAMES)),
        }
    }

    /// Checks the factors are finite and not negative.
    pub fn validate(&self) -> Result<()> {
        for (f, v) in [("l1", self.l1), ("l2", self.l2)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::invalid(f, v, "a finite float >= 0"));
            }
        }
        Ok(())
    }

    /// The penalty for weights `w`.
    pub fn penalty(&self, w: &[f32]) -> f32 {
        let mut s = 0.0f32;
        if self.l1 != 0.0 {
            s += self.l1 * w.iter().map(|v| v.abs()).sum::<f32>();
        }
        if self.l2 != 0.0 {
            s += self.l2 * w.iter().map(|v| v * v).sum::<f32>();
        }
        s
    }

    /// Adds the penalty's gradient to `grad`.
    pub fn add_grad(&self, w: &[f32], grad: &mut [f32]) {
        for (g, &v) in grad.iter_mut().zip(w) {
            let s = if v > 0.0 {
                1.0
            } else if v < 0.0 {
                -1.0
            } else {
                0.0
            };
            *g += self.l1 * s + 2.0 * self.l2 * v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn penalty_and_gradient() {
        let r = Regularizer::l1_l2(0.1, 0.5);
        let w = [1.0, -2.0, 0.5];
        assert!((r.penalty(&w) - (0.1 * 3.5 + 0.5 * 5.25)).abs() < 1e-6);
        let mut g = [0.0; 3];
        r.add_grad(&w, &mut g);
        for j in 0..3 {
            let h = 1e-3;
            let mut wp = w;
            wp[j] += h;
            let fp = r.penalty(&wp);
            wp[j] -= 2.0 * h;
            let fd = (fp - r.penalty(&wp)) / (2.0 * h);
            assert!((fd - g[j]).abs() < 1e-2, "{j}: {fd} vs {}", g[j]);
        }
        assert!(Regularizer::parse("l3").is_err());
        assert!(Regularizer::l2(-1.0).validate().is_err());
    }
}
