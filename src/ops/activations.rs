//! Keras's activation functions with their derivatives. Forward and backward work on whole
//! row-major blocks so a backend can run them in one pass; softmax is taken over each row.

use crate::error::{Error, Result};
use crate::math;
use crate::ops::losses::{normalize, sigmoid, softplus};
use serde::{Deserialize, Serialize};

/// An activation, by its Keras name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    #[default]
    Linear,
    Relu,
    Tanh,
    Sigmoid,
    Softmax,
    Elu,
    Selu,
    Gelu,
    LeakyRelu,
    Softplus,
    Softsign,
    Swish,
    Silu,
    HardSigmoid,
    Exponential,
}

/// Every accepted activation name.
pub const ACTIVATION_NAMES: &[&str] = &[
    "linear",
    "relu",
    "tanh",
    "sigmoid",
    "softmax",
    "elu",
    "selu",
    "gelu",
    "leaky_relu",
    "softplus",
    "softsign",
    "swish",
    "silu",
    "hard_sigmoid",
    "exponential",
];

const SELU_ALPHA: f32 = 1.673_263_2;
const SELU_SCALE: f32 = 1.050_701;
/// Keras 3's default `negative_slope` for the "leaky_relu" activation.
pub const LEAKY_SLOPE: f32 = 0.2;

impl Activation {
    /// Resolves a Keras name (`None` and `""` mean linear, as in Keras).
    pub fn parse(name: &str) -> Result<Self> {
        use Activation::*;
        Ok(match normalize(name).as_str() {
            "" | "linear" | "none" => Linear,
            "relu" => Relu,
            "tanh" => Tanh,
            "sigmoid" => Sigmoid,
            "softmax" => Softmax,
            "elu" => Elu,
            "selu" => Selu,
            "gelu" => Gelu,
            "leakyrelu" => LeakyRelu,
            "softplus" => Softplus,
            "softsign" => Softsign,
            "swish" => Swish,
            "silu" => Silu,
            "hardsigmoid" => HardSigmoid,
            "exponential" => Exponential,
            _ => return Err(Error::unknown("activation", name, ACTIVATION_NAMES)),
        })
    }

    /// The Keras name.
    pub fn name(self) -> &'static str {
        use Activation::*;
        match self {
            Linear => "linear",
            Relu => "relu",
            Tanh => "tanh",
            Sigmoid => "sigmoid",
            Softmax => "softmax",
            Elu => "elu",
            Selu => "selu",
            Gelu => "gelu",
            LeakyRelu => "leaky_relu",
            Softplus => "softplus",
            Softsign => "softsign",
            Swish => "swish",
            Silu => "silu",
            HardSigmoid => "hard_sigmoid",
            Exponential => "exponential",
        }
    }

    /// y = f(z) for a block of `rows` x `cols` values (`cols` matters for softmax only).
    pub fn forward(self, z: &[f32], y: &mut [f32], cols: usize) {
        use Activation::*;
        match self {
            Softmax => {
                for (zr, yr) in z.chunks(cols.max(1)).zip(y.chunks_mut(cols.max(1))) {
                    let m = zr.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
                    let mut s = 0.0;
                    for (o, &v) in yr.iter_mut().zip(zr) {
                        *o = math::exp(v - m);
                        s += *o;
                    }
                    let inv = 1.0 / s;
                    yr.iter_mut().for_each(|o| *o *= inv);
                }
            }
            Linear => y.copy_from_slice(z),
            Relu => {
                for (o, &v) in y.iter_mut().zip(z) {
                    *o = v.max(0.0);
                }
            }
            _ => {
                for (o, &v) in y.iter_mut().zip(z) {
                    *o = self.scalar(v);
                }
            }
        }
    }

    fn scalar(self, x: f32) -> f32 {
        use Activation::*;
        match self {
            Linear | Softmax => x,
            Relu => x.max(0.0),
            Tanh => math::tanh(x),
            Sigmoid => sigmoid(x),
            Elu => {
                if x > 0.0 {
                    x
                } else {
                    math::exp_m1(x)
                }
            }
            Selu => {
                if x > 0.0 {
                    SELU_SCALE * x
                } else {
                    SELU_SCALE * SELU_ALPHA * math::exp_m1(x)
                }
            }
            Gelu => 0.5 * x * (1.0 + libm::erff(x * std::f32::consts::FRAC_1_SQRT_2)),
            LeakyRelu => {
                if x >= 0.0 {
                    x
                } else {
                    LEAKY_SLOPE * x
                }
            }
            Softplus => softplus(x),
            Softsign => x / (1.0 + x.abs()),
            Swish | Silu => x * sigmoid(x),
            HardSigmoid => (x / 6.0 + 0.5).clamp(0.0, 1.0),
            Exponential => math::exp(x),
        }
    }

    /// f'(z) given z and y = f(z) (not used for softmax).
    fn derivative(self, z: f32, y: f32) -> f32 {
        use Activation::*;
        match self {
            Linear | Softmax => 1.0,
            Relu => {
                if z > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Tanh => 1.0 - y * y,
            Sigmoid => y * (1.0 - y),
            Elu => {
                if z > 0.0 {
                    1.0
                } else {
                    y + 1.0
                }
            }
            Selu => {
                if z > 0.0 {
                    SELU_SCALE
                } else {
                    y + SELU_SCALE * SELU_ALPHA
                }
            }
            Gelu => {
                let cdf = 0.5 * (1.0 + libm::erff(z * std::f32::consts::FRAC_1_SQRT_2));
                let pdf = math::exp(-0.5 * z * z) * 0.398_942_3;
                cdf + z * pdf
            }
            LeakyRelu => {
                if z >= 0.0 {
                    1.0
                } else {
                    LEAKY_SLOPE
                }
            }
            Softplus => sigmoid(z),
            Softsign => {
                let d = 1.0 + z.abs();
                1.0 / (d * d)
            }
            Swish | Silu => {
                let s = sigmoid(z);
                s + z * s * (1.0 - s)
            }
            HardSigmoid => {
                if z > -3.0 && z < 3.0 {
                    1.0 / 6.0
                } else {
                    0.0
                }
            }
            Exponential => y,
        }
    }

    /// dz = dy * f'(z), with softmax's row Jacobian: dz = y * (dy - sum(dy * y)).
    pub fn backward(self, z: &[f32], y: &[f32], dy: &[f32], dz: &mut [f32], cols: usize) {
        use Activation::*;
        match self {
            Linear => dz.copy_from_slice(dy),
            Softmax => {
                let c = cols.max(1);
                for ((yr, dyr), dzr) in y.chunks(c).zip(dy.chunks(c)).zip(dz.chunks_mut(c)) {
                    let dot: f32 = yr.iter().zip(dyr).map(|(a, b)| a * b).sum();
                    for ((o, &yv), &g) in dzr.iter_mut().zip(yr).zip(dyr) {
                        *o = yv * (g - dot);
                    }
                }
            }
            Relu => {
                for ((o, &zv), &g) in dz.iter_mut().zip(z).zip(dy) {
                    *o = if zv > 0.0 { g } else { 0.0 };
                }
            }
            _ => {
                for (((o, &zv), &yv), &g) in dz.iter_mut().zip(z).zip(y).zip(dy) {
                    *o = g * self.derivative(zv, yv);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn all() -> Vec<Activation> {
        ACTIVATION_NAMES
            .iter()
            .map(|n| Activation::parse(n).unwrap())
            .collect()
    }

    #[test]
    fn names_round_trip() {
        for a in all() {
            assert_eq!(Activation::parse(a.name()).unwrap(), a);
        }
        let e = Activation::parse("rleu").unwrap_err().to_string();
        assert!(e.contains("`rleu`") && e.contains("leaky_relu"), "{e}");
    }

    #[test]
    fn known_values() {
        let mut y = [0.0; 3];
        Activation::Softmax.forward(&[1.0, 2.0, 3.0], &mut y, 3);
        assert!((y[2] - 0.665_240_9).abs() < 1e-6);
        Activation::Gelu.forward(&[1.0, -1.0, 0.0], &mut y, 3);
        assert!((y[0] - 0.841_344_7).abs() < 1e-6 && (y[1] + 0.158_655_3).abs() < 1e-6);
        Activation::Selu.forward(&[1.0, -1.0, 0.0], &mut y, 3);
        assert!((y[0] - 1.050_701).abs() < 1e-6 && (y[1] + 1.111_330_7).abs() < 1e-5);
        Activation::HardSigmoid.forward(&[1.0, -4.0, 4.0], &mut y, 3);
        assert_eq!(y, [1.0 / 6.0 + 0.5, 0.0, 1.0]);
        Activation::LeakyRelu.forward(&[-1.0, 2.0, 0.0], &mut y, 3);
        assert_eq!(y, [-0.2, 2.0, 0.0]);
    }

    /// Finite differences of sum(w * f(z)) against backward(dy = w), for every activation.
    #[test]
    fn gradients_match_finite_differences() {
        let cols = 4;
        let z: Vec<f32> = (0..12).map(|i| -2.3 + 0.41 * i as f32).collect();
        let w: Vec<f32> = (0..12).map(|i| 0.3 + 0.17 * (i % 5) as f32).collect();
        for a in all() {
            let mut y = vec![0.0; 12];
            a.forward(&z, &mut y, cols);
            let mut dz = vec![0.0; 12];
            a.backward(&z, &y, &w, &mut dz, cols);
            let f = |z: &[f32]| -> f64 {
                let mut y = vec![0.0; 12];
                a.forward(z, &mut y, cols);
                y.iter()
                    .zip(&w)
                    .map(|(a, b)| (*a as f64) * (*b as f64))
                    .sum()
            };
            for j in 0..12 {
                let h = 1e-3;
                let mut zp = z.clone();
                zp[j] += h;
                let fp = f(&zp);
                zp[j] -= 2.0 * h;
                let fd = (fp - f(&zp)) / (2.0 * h as f64);
                assert!(
                    (fd - dz[j] as f64).abs() < 3e-3 * (1.0 + fd.abs()),
                    "{} at {}: analytic {} vs fd {fd}",
                    a.name(),
                    z[j],
                    dz[j]
                );
            }
        }
    }
}
