//! Keras's weight initializers. Each draws from an explicit seeded RNG, so the same seed
//! gives the same model on every platform (Keras's own random streams cannot be matched;
//! the distributions and their scales are Keras's).

use crate::error::{Error, Result};
use crate::ops::losses::normalize;
use rand::{Rng, RngCore};
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// An initializer, by its Keras name.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Initializer {
    GlorotUniform,
    GlorotNormal,
    HeUniform,
    HeNormal,
    LecunNormal,
    LecunUniform,
    /// Normal with mean 0 and `stddev` (Keras default 0.05).
    RandomNormal {
        stddev: f32,
    },
    /// Uniform in [minval, maxval] (Keras default [-0.05, 0.05]).
    RandomUniform {
        minval: f32,
        maxval: f32,
    },
    Zeros,
    Ones,
}

/// Every accepted initializer name.
pub const INITIALIZER_NAMES: &[&str] = &[
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
    "lecun_normal",
    "lecun_uniform",
    "random_normal",
    "random_uniform",
    "zeros",
    "ones",
];

/// `stddev` of a truncated (at two standard deviations) unit normal, which variance-scaling
/// initializers divide by so the truncated draw keeps the intended variance.
const TRUNCATION_CORRECTION: f32 = 0.879_625_7;

impl Initializer {
    /// Resolves a Keras name (`"glorot_uniform"` or `"GlorotUniform"`), with Keras's defaults.
    pub fn parse(name: &str) -> Result<Self> {
        use Initializer::*;
        Ok(match normalize(name).as_str() {
            "glorotuniform" => GlorotUniform,
            "glorotnormal" => GlorotNormal,
            "heuniform" => HeUniform,
            "henormal" => HeNormal,
            "lecunnormal" => LecunNormal,
            "lecununiform" => LecunUniform,
            "randomnormal" => RandomNormal { stddev: 0.05 },
            "randomuniform" => RandomUniform {
                minval: -0.05,
                maxval: 0.05,
            },
            "zeros" | "zero" => Zeros,
            "ones" | "one" => Ones,
            _ => return Err(Error::unknown("initializer", name, INITIALIZER_NAMES)),
        })
    }

    /// The Keras name.
    pub fn name(&self) -> &'static str {
        use Initializer::*;
        match self {
            GlorotUniform => "glorot_uniform",
            GlorotNormal => "glorot_normal",
            HeUniform => "he_uniform",
            HeNormal => "he_normal",
            LecunNormal => "lecun_normal",
            LecunUniform => "lecun_uniform",
            RandomNormal { .. } => "random_normal",
            RandomUniform { .. } => "random_uniform",
            Zeros => "zeros",
            Ones => "ones",
        }
    }

    /// `len` values for a weight with `fan_in` inputs and `fan_out` outputs.
    pub fn sample(
        &self,
        len: usize,
        fan_in: usize,
        fan_out: usize,
        rng: &mut dyn RngCore,
    ) -> Vec<f32> {
        use Initializer::*;
        let (fi, fo) = (fan_in.max(1) as f32, fan_out.max(1) as f32);
        let uniform = |limit: f32, rng: &mut dyn RngCore| -> Vec<f32> {
            (0..len).map(|_| rng.random_range(-limit..=limit)).collect()
        };
        let truncated = |std: f32, rng: &mut dyn RngCore| -> Vec<f32> {
            (0..len)
                .map(|_| loop {
                    let v: f32 = StandardNormal.sample(rng);
                    if v.abs() <= 2.0 {
                        break v * std / TRUNCATION_CORRECTION;
                    }
                })
                .collect()
        };
        match *self {
            GlorotUniform => uniform((6.0 / (fi + fo)).sqrt(), rng),
            GlorotNormal => truncated((2.0 / (fi + fo)).sqrt(), rng),
            HeUniform => uniform((6.0 / fi).sqrt(), rng),
            HeNormal => truncated((2.0 / fi).sqrt(), rng),
            LecunNormal => truncated((1.0 / fi).sqrt(), rng),
            LecunUniform => uniform((3.0 / fi).sqrt(), rng),
            RandomNormal { stddev } => (0..len)
                .map(|_| {
                    let v: f32 = StandardNormal.sample(rng);
                    v * stddev
                })
                .collect(),
            RandomUniform { minval, maxval } => (0..len)
                .map(|_| minval + (maxval - minval) * rng.random::<f32>())
                .collect(),
            Zeros => vec![0.0; len],
            Ones => vec![1.0; len],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    fn moments(v: &[f32]) -> (f32, f32) {
        let n = v.len() as f32;
        let m = v.iter().sum::<f32>() / n;
        (m, v.iter().map(|x| (x - m) * (x - m)).sum::<f32>() / n)
    }

    #[test]
    fn variances_follow_keras_scaling() {
        let mut rng = StdRng::seed_from_u64(1);
        let (fi, fo) = (200, 100);
        let cases = [
            ("glorot_uniform", 2.0f32 / 300.0),
            ("glorot_normal", 2.0 / 300.0),
            ("he_uniform", 2.0 / 200.0),
            ("he_normal", 2.0 / 200.0),
            ("lecun_normal", 1.0 / 200.0),
            ("lecun_uniform", 1.0 / 200.0),
            ("random_normal", 0.0025),
            ("random_uniform", 0.1 * 0.1 / 12.0),
        ];
        for (name, var) in cases {
            let v = Initializer::parse(name)
                .unwrap()
                .sample(fi * fo, fi, fo, &mut rng);
            let (m, s2) = moments(&v);
            assert!(m.abs() < 0.01 * var.sqrt() * 10.0, "{name} mean {m}");
            assert!(
                (s2 / var - 1.0).abs() < 0.03,
                "{name} variance {s2} vs {var}"
            );
        }
        let z = Initializer::Zeros.sample(3, 1, 1, &mut rng);
        assert_eq!(z, vec![0.0; 3]);
        assert!(Initializer::parse("glorot").is_err());
    }
}
