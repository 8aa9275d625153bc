//! The engine's transcendental functions (exp, ln, tanh, sin, powf, ...), computed by the
//! `libm` crate on every target. The standard library's `f32::exp` and friends call the
//! platform's C library natively (glibc, macOS's libm) and Rust's own port in wasm; they can
//! differ in the last bit, and over hundreds of epochs a last-bit difference in an activation
//! or a loss grows into another model. Going through one implementation keeps the native CLI,
//! the npm package, the notebook widget and the page on the same numbers
//! (`tests/e2e/one-engine.test.mjs`). `sqrt`, `abs`, `min`/`max` and the arithmetic operators are
//! exact in IEEE 754 and stay as they are. The hyperparameters' log sampling (`hp`) keeps the
//! standard library's functions: natively they are the platform's, as in KerasTuner's Python,
//! and its parity fixtures hold to the last bit.

/// A float type with `libm`'s functions.
pub trait Float: Copy {
    fn exp(self) -> Self;
    fn exp_m1(self) -> Self;
    fn ln(self) -> Self;
    fn ln_1p(self) -> Self;
    fn log10(self) -> Self;
    fn powf(self, y: Self) -> Self;
    fn tanh(self) -> Self;
    fn sin(self) -> Self;
    fn cos(self) -> Self;
}

macro_rules! float {
    ($t:ty, $exp:ident, $expm1:ident, $log:ident, $log1p:ident, $log10:ident, $pow:ident, $tanh:ident, $sin:ident, $cos:ident) => {
        impl Float for $t {
            fn exp(self) -> Self {
                libm::$exp(self)
            }
            fn exp_m1(self) -> Self {
                libm::$expm1(self)
            }
            fn ln(self) -> Self {
                libm::$log(self)
            }
            fn ln_1p(self) -> Self {
                libm::$log1p(self)
            }
            fn log10(self) -> Self {
                libm::$log10(self)
            }
            fn powf(self, y: Self) -> Self {
                libm::$pow(self, y)
            }
            fn tanh(self) -> Self {
                libm::$tanh(self)
            }
            fn sin(self) -> Self {
                libm::$sin(self)
            }
            fn cos(self) -> Self {
                libm::$cos(self)
            }
        }
    };
}

float!(f32, expf, expm1f, logf, log1pf, log10f, powf, tanhf, sinf, cosf);
float!(f64, exp, expm1, log, log1p, log10, pow, tanh, sin, cos);

/// `e^x`.
pub fn exp<T: Float>(x: T) -> T {
    x.exp()
}
/// `e^x - 1`, accurate near 0.
pub fn exp_m1<T: Float>(x: T) -> T {
    x.exp_m1()
}
/// The natural logarithm.
pub fn ln<T: Float>(x: T) -> T {
    x.ln()
}
/// `ln(1 + x)`, accurate near 0.
pub fn ln_1p<T: Float>(x: T) -> T {
    x.ln_1p()
}
/// The base-10 logarithm.
pub fn log10<T: Float>(x: T) -> T {
    x.log10()
}
/// `x^y`.
pub fn powf<T: Float>(x: T, y: T) -> T {
    x.powf(y)
}
/// The hyperbolic tangent.
pub fn tanh<T: Float>(x: T) -> T {
    x.tanh()
}
/// The sine (radians).
pub fn sin<T: Float>(x: T) -> T {
    x.sin()
}
/// The cosine (radians).
pub fn cos<T: Float>(x: T) -> T {
    x.cos()
}

#[cfg(test)]
mod tests {
    #[test]
    fn agrees_with_the_standard_library_closely() {
        for x in [-3.5f32, -0.25, 0.0, 1e-4, 0.7, 2.0, 9.0] {
            assert!((super::exp(x) - x.exp()).abs() <= 1e-6 * x.exp().max(1.0));
            assert!((super::tanh(x) - x.tanh()).abs() <= 1e-6);
            assert!((super::sin(x) - x.sin()).abs() <= 1e-6);
        }
        assert_eq!(super::ln(1.0f64), 0.0);
        assert_eq!(super::powf(2.0f64, 10.0), 1024.0);
    }
}
