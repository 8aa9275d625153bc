//! The six toy problems of TensorFlow Playground (playground.tensorflow.org), regenerated with the
//! same geometry so that a model tuned here faces the data people know from that page.
//!
//! The formulas follow `src/dataset.ts` of github.com/tensorflow/playground (`classifyCircleData`,
//! `classifyXORData`, `classifyTwoGaussData`, `classifySpiralData`, `regressPlane`,
//! `regressGaussian`); the sample counts and the percent noise scale follow its `playground.ts`.
//! Two things differ on purpose:
//!
//! * **Random numbers.** Playground draws from the browser's `Math.random` (reseeded through
//!   seedrandom); that stream cannot be reproduced from Rust, so the points are not the page's
//!   points. They come from rand 0.9's `StdRng::seed_from_u64(seed)` instead, which gives the same
//!   data for the same seed on every platform (native and wasm32).
//! * **Class labels.** Playground labels classes -1 and +1 (it trains with a tanh output and a
//!   squared loss). tunelab outputs **0 and 1** (Playground's -1 becomes 0), because Keras's
//!   `binary_crossentropy` and a sigmoid output expect 0/1 targets. Regression targets are
//!   Playground's values unchanged (they lie in [-1, 1]).
//!
//! Like the page, [`Playground::generate`] shuffles the points right after generating them, so
//! taking the last fraction as validation data (Keras's `validation_split`) does not pick a single
//! class.

use super::Dataset;
use crate::error::{Error, Result};
use crate::math;
use crate::tensor::Tensor;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::f64::consts::PI;

/// Playground's sample count for the classification problems (`NUM_SAMPLES_CLASSIFY`).
pub const NUM_SAMPLES_CLASSIFY: usize = 500;
/// Playground's sample count for the regression problems (`NUM_SAMPLES_REGRESS`).
pub const NUM_SAMPLES_REGRESS: usize = 1200;

/// One of TensorFlow Playground's data sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Playground {
    /// Class 1 inside a disc of radius 2.5, class 0 on a ring of radii 3.5 to 5.
    Circle,
    /// Four quadrants of [-5.3, 5.3]²: class 1 where x1·x2 >= 0.
    Xor,
    /// Two Gaussian blobs around (2, 2) (class 1) and (-2, -2) (class 0).
    Gauss,
    /// Two interleaved spirals, 1.75 turns each.
    Spiral,
    /// Regression on a plane: y = (x1 + x2) / 10 over [-6, 6]².
    RegPlane,
    /// Regression on six Gaussian bumps of height ±1 over [-6, 6]².
    RegGauss,
}

/// All problems, in the order of [`NAMES`].
const ALL: [Playground; 6] = [
    Playground::Circle,
    Playground::Xor,
    Playground::Gauss,
    Playground::Spiral,
    Playground::RegPlane,
    Playground::RegGauss,
];

/// The names [`Playground::parse`] accepts.
pub const NAMES: &[&str] = &["circle", "xor", "gauss", "spiral", "reg-plane", "reg-gauss"];

/// What the noise argument allows (used in error messages).
const NOISE_ALLOWED: &str = "a number in [0, 50] (percent, as on TensorFlow Playground's slider)";

impl Playground {
    /// The problem called `name` (one of [`NAMES`]).
    pub fn parse(name: &str) -> Result<Self> {
        ALL.iter()
            .copied()
            .find(|p| p.name() == name)
            .ok_or_else(|| Error::unknown("dataset", name, NAMES))
    }

    /// The name [`Playground::parse`] reads back.
    pub fn name(&self) -> &'static str {
        match self {
            Playground::Circle => "circle",
            Playground::Xor => "xor",
            Playground::Gauss => "gauss",
            Playground::Spiral => "spiral",
            Playground::RegPlane => "reg-plane",
            Playground::RegGauss => "reg-gauss",
        }
    }

    /// True for the two regression problems, false for the four 0/1 classification problems.
    pub fn is_regression(&self) -> bool {
        matches!(self, Playground::RegPlane | Playground::RegGauss)
    }

    /// The number of samples the page uses: 500 for classification, 1200 for regression.
    pub fn default_samples(&self) -> usize {
        if self.is_regression() {
            NUM_SAMPLES_REGRESS
        } else {
            NUM_SAMPLES_CLASSIFY
        }
    }

    /// Generates the data set: x of shape `[n, 2]`, y of shape `[n, 1]`.
    ///
    /// `noise` is on the scale of Playground's slider, in percent from 0 to 50; like the page it
    /// is divided by 100 before it enters the formulas. y holds class ids 0/1 for classification
    /// (Playground's -1 becomes 0) and Playground's target value for regression.
    ///
    /// `n` is `num_samples`, except that the circle, gauss and spiral problems build two halves
    /// of `ceil(num_samples / 2)` points each, as Playground's loops do, so an odd count gives
    /// one sample more. The samples come shuffled (seeded by `seed`), as on the page.
    ///
    /// ```
    /// use tunelab::data::playground::Playground;
    /// let ds = Playground::Spiral.generate(500, 0.0, 42).unwrap();
    /// assert_eq!(ds.x.shape(), &[500, 2]);
    /// assert_eq!(ds.y.data().iter().filter(|&&c| c == 1.0).count(), 250);
    /// ```
    pub fn generate(&self, num_samples: usize, noise: f32, seed: u64) -> Result<Dataset> {
        if num_samples == 0 {
            return Err(Error::invalid(
                "num_samples",
                num_samples,
                "an integer >= 1",
            ));
        }
        if !(0.0..=50.0).contains(&noise) {
            return Err(Error::invalid("noise", noise, NOISE_ALLOWED));
        }
        let noise = f64::from(noise) / 100.0;
        let mut rng = StdRng::seed_from_u64(seed);
        let mut points = match self {
            Playground::Circle => circle(&mut rng, num_samples, noise),
            Playground::Xor => xor(&mut rng, num_samples, noise),
            Playground::Gauss => two_gauss(&mut rng, num_samples, noise),
            Playground::Spiral => spiral(&mut rng, num_samples, noise),
            Playground::RegPlane => reg_plane(&mut rng, num_samples, noise),
            Playground::RegGauss => reg_gauss(&mut rng, num_samples, noise),
        };
        points.shuffle(&mut rng);
        let classify = !self.is_regression();
        let n = points.len();
        let mut x = Vec::with_capacity(2 * n);
        let mut y = Vec::with_capacity(n);
        for p in &points {
            x.push(p.x as f32);
            x.push(p.y as f32);
            y.push(if classify {
                if p.label > 0.0 {
                    1.0
                } else {
                    0.0
                }
            } else {
                p.label as f32
            });
        }
        Dataset::new(Tensor::new(vec![n, 2], x)?, Tensor::new(vec![n, 1], y)?)
    }
}

/// A generated point with Playground's label (-1/+1 or a regression value).
#[derive(Debug, Clone, Copy)]
struct Point {
    x: f64,
    y: f64,
    label: f64,
}

/// Uniform on `[a, b)`: `Math.random() * (b - a) + a`, as Playground's `randUniform`.
fn uniform(rng: &mut StdRng, a: f64, b: f64) -> f64 {
    rng.random::<f64>() * (b - a) + a
}

/// Playground's `normalRandom(mean, variance)`: Marsaglia's polar method (a Box-Muller variant).
/// Playground only rejects `s > 1`; `s == 0` is rejected here too, as it would give NaN.
fn normal(rng: &mut StdRng, mean: f64, variance: f64) -> f64 {
    loop {
        let v1 = 2.0 * rng.random::<f64>() - 1.0;
        let v2 = 2.0 * rng.random::<f64>() - 1.0;
        let s = v1 * v1 + v2 * v2;
        if s > 0.0 && s <= 1.0 {
            let z = (-2.0 * math::ln(s) / s).sqrt() * v1;
            return mean + variance.sqrt() * z;
        }
    }
}

/// The iterations of Playground's `for (i = 0; i < numSamples / 2; i++)` (float division).
fn half(num_samples: usize) -> usize {
    num_samples.div_ceil(2)
}

fn circle(rng: &mut StdRng, num_samples: usize, noise: f64) -> Vec<Point> {
    let radius = 5.0;
    let label_of = |x: f64, y: f64| {
        if (x * x + y * y).sqrt() < radius * 0.5 {
            1.0
        } else {
            -1.0
        }
    };
    let mut points = Vec::with_capacity(2 * half(num_samples));
    // Positive points inside the circle, then negative points on the outer ring.
    for (r_min, r_max) in [(0.0, radius * 0.5), (radius * 0.7, radius)] {
        for _ in 0..half(num_samples) {
            let r = uniform(rng, r_min, r_max);
            let angle = uniform(rng, 0.0, 2.0 * PI);
            let x = r * math::sin(angle);
            let y = r * math::cos(angle);
            let noise_x = uniform(rng, -radius, radius) * noise;
            let noise_y = uniform(rng, -radius, radius) * noise;
            let label = label_of(x + noise_x, y + noise_y);
            points.push(Point { x, y, label });
        }
    }
    points
}

fn xor(rng: &mut StdRng, num_samples: usize, noise: f64) -> Vec<Point> {
    let padding = 0.3;
    let pad = |v: f64| if v > 0.0 { v + padding } else { v - padding };
    (0..num_samples)
        .map(|_| {
            let x = pad(uniform(rng, -5.0, 5.0));
            let y = pad(uniform(rng, -5.0, 5.0));
            let noise_x = uniform(rng, -5.0, 5.0) * noise;
            let noise_y = uniform(rng, -5.0, 5.0) * noise;
            let label = if (x + noise_x) * (y + noise_y) >= 0.0 {
                1.0
            } else {
                -1.0
            };
            Point { x, y, label }
        })
        .collect()
}

fn two_gauss(rng: &mut StdRng, num_samples: usize, noise: f64) -> Vec<Point> {
    // d3.scale.linear().domain([0, .5]).range([0.5, 4]) applied to the noise.
    let variance = 0.5 + noise / 0.5 * (4.0 - 0.5);
    let mut points = Vec::with_capacity(2 * half(num_samples));
    for (c, label) in [(2.0, 1.0), (-2.0, -1.0)] {
        for _ in 0..half(num_samples) {
            let x = normal(rng, c, variance);
            let y = normal(rng, c, variance);
            points.push(Point { x, y, label });
        }
    }
    points
}

fn spiral(rng: &mut StdRng, num_samples: usize, noise: f64) -> Vec<Point> {
    // Playground's n is numSamples / 2 as a float; the loop runs while i < n.
    let n = num_samples as f64 / 2.0;
    let mut points = Vec::with_capacity(2 * half(num_samples));
    for (delta_t, label) in [(0.0, 1.0), (PI, -1.0)] {
        for i in 0..half(num_samples) {
            let i = i as f64;
            let r = i / n * 5.0;
            let t = 1.75 * i / n * 2.0 * PI + delta_t;
            let x = r * math::sin(t) + uniform(rng, -1.0, 1.0) * noise;
            let y = r * math::cos(t) + uniform(rng, -1.0, 1.0) * noise;
            points.push(Point { x, y, label });
        }
    }
    points
}

/// `regressPlane`'s target: d3's linear scale from [-10, 10] to [-1, 1] of `x + y`.
fn plane_label(x: f64, y: f64) -> f64 {
    (x + y) / 10.0
}

/// `regressGaussian`'s bumps: centre x, centre y, sign.
const GAUSSIANS: [(f64, f64, f64); 6] = [
    (-4.0, 2.5, 1.0),
    (0.0, 2.5, -1.0),
    (4.0, 2.5, 1.0),
    (-4.0, -2.5, -1.0),
    (0.0, -2.5, 1.0),
    (4.0, -2.5, -1.0),
];

/// `regressGaussian`'s target: of the six bumps `sign * clamp(1 - dist / 2, 0, 1)`, the one
/// largest in absolute value (the first on ties, 0 when all are 0).
fn gauss_label(x: f64, y: f64) -> f64 {
    let mut label: f64 = 0.0;
    for (cx, cy, sign) in GAUSSIANS {
        let d = ((x - cx).powi(2) + (y - cy).powi(2)).sqrt();
        // d3.scale.linear().domain([0, 2]).range([1, 0]).clamp(true)
        let new_label = sign * (1.0 - d / 2.0).clamp(0.0, 1.0);
        if new_label.abs() > label.abs() {
            label = new_label;
        }
    }
    label
}

fn regression(
    rng: &mut StdRng,
    num_samples: usize,
    noise: f64,
    label_of: fn(f64, f64) -> f64,
) -> Vec<Point> {
    let radius = 6.0;
    (0..num_samples)
        .map(|_| {
            let x = uniform(rng, -radius, radius);
            let y = uniform(rng, -radius, radius);
            let noise_x = uniform(rng, -radius, radius) * noise;
            let noise_y = uniform(rng, -radius, radius) * noise;
            let label = label_of(x + noise_x, y + noise_y);
            Point { x, y, label }
        })
        .collect()
}

fn reg_plane(rng: &mut StdRng, num_samples: usize, noise: f64) -> Vec<Point> {
    regression(rng, num_samples, noise, plane_label)
}

fn reg_gauss(rng: &mut StdRng, num_samples: usize, noise: f64) -> Vec<Point> {
    regression(rng, num_samples, noise, gauss_label)
}

/// The feature names [`features`] accepts: tunelab's names, then Playground's ids for the same
/// seven features.
pub const FEATURE_NAMES: &[&str] = &[
    "x1", "x2", "x1^2", "x2^2", "x1x2", "sin(x1)", "sin(x2)", "x", "y", "xSquared", "ySquared",
    "xTimesY", "sinX", "sinY",
];

/// Playground's input features computed from the two coordinates of `x` (shape `[n, 2]`), one
/// output column per name, in the order given.
///
/// Names: `"x1"`, `"x2"`, `"x1^2"`, `"x2^2"`, `"x1x2"`, `"sin(x1)"`, `"sin(x2)"`, or Playground's
/// own ids `"x"`, `"y"`, `"xSquared"`, `"ySquared"`, `"xTimesY"`, `"sinX"`, `"sinY"`.
///
/// ```
/// use tunelab::{data::playground::features, Tensor};
/// let x = Tensor::new(vec![1, 2], vec![2.0, 3.0]).unwrap();
/// let f = features(&x, &["x1", "x2^2", "xTimesY"]).unwrap();
/// assert_eq!(f.data(), &[2.0, 9.0, 6.0]);
/// ```
pub fn features(x: &Tensor, names: &[&str]) -> Result<Tensor> {
    if x.shape().len() != 2 || x.cols() != 2 {
        return Err(Error::shape(
            "Playground features input (x must be [n, 2])",
            &[x.rows(), 2],
            x.shape(),
        ));
    }
    if names.is_empty() {
        return Err(Error::invalid(
            "features",
            "an empty list",
            format!("one or more of: {}", FEATURE_NAMES.join(", ")),
        ));
    }
    let fs: Vec<fn(f32, f32) -> f32> = names
        .iter()
        .map(|&name| feature_fn(name).ok_or_else(|| Error::unknown("feature", name, FEATURE_NAMES)))
        .collect::<Result<_>>()?;
    let mut out = Vec::with_capacity(x.rows() * fs.len());
    for p in x.data().chunks_exact(2) {
        if let [a, b] = *p {
            out.extend(fs.iter().map(|f| f(a, b)));
        }
    }
    Tensor::new(vec![x.rows(), fs.len()], out)
}

fn feature_fn(name: &str) -> Option<fn(f32, f32) -> f32> {
    let f: fn(f32, f32) -> f32 = match name {
        "x1" | "x" => |a, _| a,
        "x2" | "y" => |_, b| b,
        "x1^2" | "xSquared" => |a, _| a * a,
        "x2^2" | "ySquared" => |_, b| b * b,
        "x1x2" | "xTimesY" => |a, b| a * b,
        "sin(x1)" | "sinX" => |a, _| math::sin(a),
        "sin(x2)" | "sinY" => |_, b| math::sin(b),
        _ => return None,
    };
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(ds: &Dataset) -> Vec<(f32, f32, f32)> {
        (0..ds.len())
            .map(|i| (ds.x.row(i)[0], ds.x.row(i)[1], ds.y.row(i)[0]))
            .collect()
    }

    fn count(ds: &Dataset, class: f32) -> usize {
        ds.y.data().iter().filter(|&&c| c == class).count()
    }

    #[test]
    fn names_round_trip() {
        for (p, name) in ALL.iter().zip(NAMES) {
            assert_eq!(p.name(), *name);
            assert_eq!(Playground::parse(name).unwrap(), *p);
        }
        assert_eq!(
            Playground::parse("spirals").unwrap_err(),
            Error::unknown("dataset", "spirals", NAMES)
        );
        assert!(Playground::RegGauss.is_regression());
        assert!(!Playground::Xor.is_regression());
        assert_eq!(Playground::Circle.default_samples(), 500);
        assert_eq!(Playground::RegPlane.default_samples(), 1200);
    }

    #[test]
    fn circle_geometry_without_noise() {
        let ds = Playground::Circle.generate(500, 0.0, 1).unwrap();
        assert_eq!(ds.x.shape(), &[500, 2]);
        assert_eq!(ds.y.shape(), &[500, 1]);
        assert_eq!(count(&ds, 1.0), 250);
        assert_eq!(count(&ds, 0.0), 250);
        for (x, y, c) in points(&ds) {
            let r = (x * x + y * y).sqrt();
            if c == 1.0 {
                assert!(r < 2.5 + 1e-5, "class 1 at radius {r}");
            } else {
                assert!(
                    (3.5 - 1e-5..=5.0 + 1e-5).contains(&r),
                    "class 0 at radius {r}"
                );
            }
        }
    }

    #[test]
    fn circle_noise_flips_some_labels_but_not_the_geometry() {
        let ds = Playground::Circle.generate(500, 50.0, 3).unwrap();
        let flipped = points(&ds)
            .into_iter()
            .filter(|&(x, y, c)| ((x * x + y * y).sqrt() < 2.5) != (c == 1.0))
            .count();
        assert!(flipped > 10 && flipped < 250, "{flipped}");
        for (x, y, _) in points(&ds) {
            assert!((x * x + y * y).sqrt() <= 5.0 + 1e-5);
        }
    }

    #[test]
    fn xor_quadrants_and_padding() {
        let ds = Playground::Xor.generate(500, 0.0, 5).unwrap();
        assert_eq!(ds.len(), 500);
        for (x, y, c) in points(&ds) {
            assert!(x.abs() >= 0.3 - 1e-6 && x.abs() <= 5.3 + 1e-5, "{x}");
            assert!(y.abs() >= 0.3 - 1e-6 && y.abs() <= 5.3 + 1e-5, "{y}");
            assert_eq!(c, if x * y >= 0.0 { 1.0 } else { 0.0 });
        }
        let ones = count(&ds, 1.0);
        assert!((200..300).contains(&ones), "{ones}");
    }

    #[test]
    fn gauss_blobs_have_playground_variance() {
        let ds = Playground::Gauss.generate(500, 0.0, 9).unwrap();
        assert_eq!(count(&ds, 1.0), 250);
        for class in [0.0f32, 1.0] {
            let centre = if class == 1.0 { 2.0 } else { -2.0 };
            let pts: Vec<(f32, f32, f32)> =
                points(&ds).into_iter().filter(|p| p.2 == class).collect();
            let n = pts.len() as f32;
            let mx = pts.iter().map(|p| p.0).sum::<f32>() / n;
            let var = pts.iter().map(|p| (p.0 - mx).powi(2)).sum::<f32>() / n;
            assert!((mx - centre).abs() < 0.25, "mean {mx}");
            // Variance 0.5 at noise 0.
            assert!((var - 0.5).abs() < 0.15, "variance {var}");
        }
        // At noise 50 % the variance is 4.
        let ds = Playground::Gauss.generate(2000, 50.0, 9).unwrap();
        let xs: Vec<f32> = points(&ds)
            .into_iter()
            .filter(|p| p.2 == 1.0)
            .map(|p| p.0)
            .collect();
        let m = xs.iter().sum::<f32>() / xs.len() as f32;
        let var = xs.iter().map(|v| (v - m).powi(2)).sum::<f32>() / xs.len() as f32;
        assert!((var - 4.0).abs() < 0.6, "variance {var}");
    }

    #[test]
    fn spiral_counts_and_shape() {
        let ds = Playground::Spiral.generate(500, 0.0, 2).unwrap();
        assert_eq!(count(&ds, 1.0), 250);
        assert_eq!(count(&ds, 0.0), 250);
        // Without noise every point lies on r = 5 i / n at angle t = 1.75 * 2 pi * i / n (+ pi).
        let mut on_spiral = 0;
        for (x, y, c) in points(&ds) {
            let r = (x * x + y * y).sqrt();
            assert!(r < 5.0);
            let i = r / 5.0 * 250.0;
            assert!(
                (i - i.round()).abs() < 1e-3,
                "radius {r} is not on the grid"
            );
            let t = 1.75 * 2.0 * std::f32::consts::PI * i.round() / 250.0
                + if c == 1.0 { 0.0 } else { std::f32::consts::PI };
            let (ex, ey) = (r * math::sin(t), r * math::cos(t));
            assert!((ex - x).abs() < 1e-3 && (ey - y).abs() < 1e-3);
            on_spiral += 1;
        }
        assert_eq!(on_spiral, 500);
        // An odd count gives two halves of ceil(n / 2), as in Playground's loop.
        assert_eq!(Playground::Spiral.generate(7, 0.0, 2).unwrap().len(), 8);
        assert_eq!(Playground::Xor.generate(7, 0.0, 2).unwrap().len(), 7);
    }

    #[test]
    fn reg_plane_formula() {
        let ds = Playground::RegPlane.generate(1200, 0.0, 4).unwrap();
        assert_eq!(ds.x.shape(), &[1200, 2]);
        for (x, y, t) in points(&ds) {
            assert!(x.abs() <= 6.0 && y.abs() <= 6.0);
            assert!((t - (x + y) / 10.0).abs() < 1e-6, "{t} vs {x} + {y}");
        }
        let noisy = Playground::RegPlane.generate(1200, 30.0, 4).unwrap();
        let off = points(&noisy)
            .into_iter()
            .filter(|&(x, y, t)| (t - (x + y) / 10.0).abs() > 1e-3)
            .count();
        assert!(off > 1000, "{off}");
    }

    #[test]
    fn reg_gauss_formula() {
        assert_eq!(gauss_label(-4.0, 2.5), 1.0);
        assert_eq!(gauss_label(0.0, 2.5), -1.0);
        assert_eq!(gauss_label(4.0, -2.5), -1.0);
        assert_eq!(gauss_label(0.0, -1.5), 0.5);
        assert_eq!(gauss_label(6.0, 6.0), 0.0);
        let ds = Playground::RegGauss.generate(1200, 0.0, 4).unwrap();
        for (x, y, t) in points(&ds) {
            assert!((-1.0..=1.0).contains(&t));
            assert!((t - gauss_label(f64::from(x), f64::from(y)) as f32).abs() < 1e-5);
        }
    }

    #[test]
    fn seeds_and_arguments() {
        for p in ALL {
            let a = p.generate(100, 10.0, 11).unwrap();
            assert_eq!(a, p.generate(100, 10.0, 11).unwrap(), "{}", p.name());
            assert_ne!(a, p.generate(100, 10.0, 12).unwrap(), "{}", p.name());
        }
        let e = Playground::Circle.generate(10, 51.0, 0).unwrap_err();
        assert_eq!(e, Error::invalid("noise", 51.0, NOISE_ALLOWED));
        assert!(Playground::Circle.generate(10, -1.0, 0).is_err());
        assert!(Playground::Circle.generate(10, f32::NAN, 0).is_err());
        assert!(Playground::Circle.generate(0, 0.0, 0).is_err());
        // The samples come shuffled: the first 250 are not all one class.
        let ds = Playground::Circle.generate(500, 0.0, 1).unwrap();
        let first: f32 = ds.y.data()[..250].iter().sum();
        assert!(first > 50.0 && first < 200.0, "{first}");
    }

    #[test]
    fn feature_columns() {
        let x = Tensor::new(vec![2, 2], vec![1.0, 2.0, -0.5, 3.0]).unwrap();
        let f = features(
            &x,
            &["x1", "x2", "x1^2", "x2^2", "x1x2", "sin(x1)", "sin(x2)"],
        )
        .unwrap();
        assert_eq!(f.shape(), &[2, 7]);
        assert_eq!(
            f.row(0),
            &[
                1.0,
                2.0,
                1.0,
                4.0,
                2.0,
                math::sin(1.0f32),
                math::sin(2.0f32)
            ]
        );
        let g = features(
            &x,
            &["x", "y", "xSquared", "ySquared", "xTimesY", "sinX", "sinY"],
        )
        .unwrap();
        assert_eq!(f, g);
        assert_eq!(features(&x, &["x2"]).unwrap().data(), &[2.0, 3.0]);
        let e = features(&x, &["x3"]).unwrap_err();
        assert_eq!(e, Error::unknown("feature", "x3", FEATURE_NAMES));
        assert!(features(&Tensor::zeros(&[2, 3]), &["x1"]).is_err());
        assert!(features(&Tensor::zeros(&[4]), &["x1"]).is_err());
        assert!(features(&x, &[]).is_err());
    }
}
