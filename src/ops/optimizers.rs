//! Keras's optimizers: their arguments and defaults, gradient clipping, decoupled weight
//! decay and each algorithm's update rule, written to match Keras 3 step for step.

use crate::error::{Error, Result};
use crate::math;
use crate::ops::losses::normalize;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The optimizer algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerKind {
    Sgd,
    Adam,
    Adamw,
    Rmsprop,
    Adagrad,
    Adadelta,
    Adamax,
    Nadam,
}

/// Accepted optimizer names.
pub const OPTIMIZER_NAMES: &[&str] = &[
    "sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "adamax", "nadam",
];

impl OptimizerKind {
    /// Resolves `"adam"`, `"Adam"`, `"RMSprop"`, ...
    pub fn parse(name: &str) -> Result<Self> {
        use OptimizerKind::*;
        Ok(match normalize(name).as_str() {
            "sgd" => Sgd,
            "adam" => Adam,
            "adamw" => Adamw,
            "rmsprop" => Rmsprop,
            "adagrad" => Adagrad,
            "adadelta" => Adadelta,
            "adamax" => Adamax,
            "nadam" => Nadam,
            _ => return Err(Error::unknown("optimizer", name, OPTIMIZER_NAMES)),
        })
    }

    /// The Keras name in lower case.
    pub fn name(self) -> &'static str {
        OPTIMIZER_NAMES[self as usize]
    }

    /// Number of state slots kept per variable.
    pub fn slots(self) -> usize {
        use OptimizerKind::*;
        match self {
            Sgd | Adagrad => 1,
            Adadelta | Adamax | Nadam => 2,
            Adam | Adamw | Rmsprop => 3,
        }
    }
}

/// An optimizer with every Keras argument; fields a given algorithm does not use are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Optimizer {
    pub kind: OptimizerKind,
    pub learning_rate: f32,
    /// sgd, rmsprop
    pub momentum: f32,
    /// sgd
    pub nesterov: bool,
    /// adam, adamw, adamax, nadam
    pub beta_1: f32,
    pub beta_2: f32,
    pub epsilon: f32,
    /// adam, adamw
    pub amsgrad: bool,
    /// rmsprop, adadelta
    pub rho: f32,
    /// rmsprop
    pub centered: bool,
    /// adagrad
    pub initial_accumulator_value: f32,
    /// Decoupled weight decay (all optimizers; adamw defaults to 0.004).
    pub weight_decay: Option<f32>,
    pub clipnorm: Option<f32>,
    pub clipvalue: Option<f32>,
    pub global_clipnorm: Option<f32>,
}

impl Optimizer {
    /// An optimizer with Keras's defaults for `kind`.
    pub fn new(kind: OptimizerKind) -> Self {
        use OptimizerKind::*;
        Optimizer {
            kind,
            learning_rate: match kind {
                Sgd => 0.01,
                _ => 0.001,
            },
            momentum: 0.0,
            nesterov: false,
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            amsgrad: false,
            rho: if kind == Adadelta { 0.95 } else { 0.9 },
            centered: false,
            initial_accumulator_value: 0.1,
            weight_decay: if kind == Adamw { Some(0.004) } else { None },
            clipnorm: None,
            clipvalue: None,
            global_clipnorm: None,
        }
    }

    /// An optimizer by name with Keras's defaults.
    pub fn from_name(name: &str) -> Result<Self> {
        Ok(Self::new(OptimizerKind::parse(name)?))
    }

    /// Sets the learning rate.
    pub fn learning_rate(mut self, lr: f32) -> Self {
        self.learning_rate = lr;
        self
    }

    /// Builds from a name and a Keras-style config object (`{"learning_rate": 0.01, ...}`).
    pub fn from_config(name: &str, config: &Map<String, Value>) -> Result<Self> {
        let mut o = Self::from_name(name)?;
        let allowed = o.argument_names();
        for (k, v) in config {
            let num = || -> Result<f32> {
                v.as_f64()
                    .map(|f| f as f32)
                    .ok_or_else(|| Error::invalid(format!("optimizer.{k}"), v, "a number"))
            };
            let opt_num = || -> Result<Option<f32>> {
                if v.is_null() {
                    Ok(None)
                } else {
                    num().map(Some)
                }
            };
            let flag = || -> Result<bool> {
                v.as_bool()
                    .ok_or_else(|| Error::invalid(format!("optimizer.{k}"), v, "true or false"))
            };
            if !allowed.contains(&k.as_str()) && k != "name" {
                return Err(Error::unknown(
                    format!("{} argument", o.kind.name()),
                    k.as_str(),
                    &allowed,
                ));
            }
            match k.as_str() {
                "learning_rate" => o.learning_rate = num()?,
                "momentum" => o.momentum = num()?,
                "nesterov" => o.nesterov = flag()?,
                "beta_1" => o.beta_1 = num()?,
                "beta_2" => o.beta_2 = num()?,
                "epsilon" => o.epsilon = num()?,
                "amsgrad" => o.amsgrad = flag()?,
                "rho" => o.rho = num()?,
                "centered" => o.centered = flag()?,
                "initial_accumulator_value" => o.initial_accumulator_value = num()?,
                "weight_decay" => o.weight_decay = opt_num()?,
                "clipnorm" => o.clipnorm = opt_num()?,
                "clipvalue" => o.clipvalue = opt_num()?,
                "global_clipnorm" => o.global_clipnorm = opt_num()?,
                _ => {}
            }
        }
        o.validate()?;
        Ok(o)
    }

    /// The Keras constructor arguments this optimizer takes.
    pub fn argument_names(&self) -> Vec<&'static str> {
        use OptimizerKind::*;
        let mut v = vec!["learning_rate"];
        v.extend_from_slice(match self.kind {
            Sgd => &["momentum", "nesterov"][..],
            Adam | Adamw => &["beta_1", "beta_2", "epsilon", "amsgrad"],
            Rmsprop => &["rho", "momentum", "epsilon", "centered"],
            Adagrad => &["initial_accumulator_value", "epsilon"],
            Adadelta => &["rho", "epsilon"],
            Adamax | Nadam => &["beta_1", "beta_2", "epsilon"],
        });
        v.extend_from_slice(&["weight_decay", "clipnorm", "clipvalue", "global_clipnorm"]);
        v
    }

    /// The arguments as Keras would print them in `get_config()`.
    pub fn config(&self) -> Value {
        let mut m = Map::new();
        for k in self.argument_names() {
            let v = match k {
                "learning_rate" => Value::from(self.learning_rate),
                "momentum" => Value::from(self.momentum),
                "nesterov" => Value::from(self.nesterov),
                "beta_1" => Value::from(self.beta_1),
                "beta_2" => Value::from(self.beta_2),
                "epsilon" => Value::from(self.epsilon),
                "amsgrad" => Value::from(self.amsgrad),
                "rho" => Value::from(self.rho),
                "centered" => Value::from(self.centered),
                "initial_accumulator_value" => Value::from(self.initial_accumulator_value),
                "weight_decay" => self.weight_decay.map_or(Value::Null, Value::from),
                "clipnorm" => self.clipnorm.map_or(Value::Null, Value::from),
                "clipvalue" => self.clipvalue.map_or(Value::Null, Value::from),
                "global_clipnorm" => self.global_clipnorm.map_or(Value::Null, Value::from),
                _ => Value::Null,
            };
            m.insert(k.to_string(), v);
        }
        Value::Object(m)
    }

    /// Checks every argument against Keras's allowed range.
    pub fn validate(&self) -> Result<()> {
        let pos = |f: &str, v: f32| -> Result<()> {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(Error::invalid(f, v, "a finite float > 0"))
            }
        };
        let unit = |f: &str, v: f32| -> Result<()> {
            if (0.0..1.0).contains(&v) {
                Ok(())
            } else {
                Err(Error::invalid(f, v, "a float in [0, 1)"))
            }
        };
        pos("learning_rate", self.learning_rate)?;
        if !(self.momentum.is_finite() && self.momentum >= 0.0) {
            return Err(Error::invalid("momentum", self.momentum, "a float >= 0"));
        }
        unit("beta_1", self.beta_1)?;
        unit("beta_2", self.beta_2)?;
        unit("rho", self.rho)?;
        pos("epsilon", self.epsilon)?;
        if !(self.initial_accumulator_value.is_finite() && self.initial_accumulator_value >= 0.0) {
            return Err(Error::invalid(
                "initial_accumulator_value",
                self.initial_accumulator_value,
                "a float >= 0",
            ));
        }
        if let Some(w) = self.weight_decay {
            if !(w.is_finite() && w >= 0.0) {
                return Err(Error::invalid("weight_decay", w, "a float >= 0 or null"));
            }
        }
        for (f, v) in [
            ("clipnorm", self.clipnorm),
            ("clipvalue", self.clipvalue),
            ("global_clipnorm", self.global_clipnorm),
        ] {
            if let Some(v) = v {
                pos(f, v)?;
            }
        }
        if self.clipnorm.is_some() as u8
            + self.clipvalue.is_some() as u8
            + self.global_clipnorm.is_some() as u8
            > 1
        {
            return Err(Error::invalid(
                "clipnorm/clipvalue/global_clipnorm",
                "more than one set",
                "at most one of them, as in Keras",
            ));
        }
        Ok(())
    }

    /// Initial value of each state slot (adagrad's accumulator starts at
    /// `initial_accumulator_value`, everything else at zero).
    pub fn slot_init(&self, slot: usize) -> f32 {
        if self.kind == OptimizerKind::Adagrad && slot == 0 {
            self.initial_accumulator_value
        } else {
            0.0
        }
    }

    /// The per-step scalars shared by every variable: `iterations` is the number of updates
    /// already applied; `u_product` is Nadam's running momentum product before this step.
    pub fn step_info(&self, iterations: u64, learning_rate: f32, u_product: f32) -> StepInfo {
        let t = (iterations + 1) as f32;
        let nadam_u = |step: f32| self.beta_1 * (1.0 - 0.5 * math::powf(0.96f32, step));
        let u_t = nadam_u(t);
        StepInfo {
            lr: learning_rate,
            t,
            beta_1_power: math::powf(self.beta_1, t),
            beta_2_power: math::powf(self.beta_2, t),
            u_t,
            u_t_1: nadam_u(t + 1.0),
            u_product_t: u_product * u_t,
        }
    }

    /// Applies clipping to all gradients of one step (Keras clips before weight decay and update).
    pub fn clip(&self, grads: &mut [Vec<f32>]) {
        if let Some(c) = self.clipnorm {
            for g in grads.iter_mut() {
                let n = g.iter().map(|v| v * v).sum::<f32>().sqrt();
                if n > 0.0 {
                    let s = c / n.max(c);
                    g.iter_mut().for_each(|v| *v *= s);
                }
            }
        }
        if let Some(c) = self.global_clipnorm {
            let n = grads
                .iter()
                .flat_map(|g| g.iter())
                .map(|v| v * v)
                .sum::<f32>()
                .sqrt();
            if n > 0.0 {
                let s = c * (1.0 / n).min(1.0 / c);
                grads.iter_mut().flatten().for_each(|v| *v *= s);
            }
        }
        if let Some(c) = self.clipvalue {
            grads.iter_mut().flatten().for_each(|v| *v = v.clamp(-c, c));
        }
    }

    /// One variable's update: decoupled weight decay, then the algorithm's rule. On x86-64
    /// the same loops are compiled a second time with AVX-512 enabled and picked at run time
    /// (the update is memory-bound and otherwise runs at SSE2 width).
    pub fn update(&self, s: &StepInfo, w: &mut [f32], g: &[f32], slots: &mut [Vec<f32>]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F, checked just above.
            unsafe { self.update_avx512(s, w, g, slots) };
            return;
        }
        self.update_portable(s, w, g, slots);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn update_avx512(&self, s: &StepInfo, w: &mut [f32], g: &[f32], slots: &mut [Vec<f32>]) {
        self.update_portable(s, w, g, slots);
    }

    #[inline(always)]
    fn update_portable(&self, s: &StepInfo, w: &mut [f32], g: &[f32], slots: &mut [Vec<f32>]) {
        if let Some(wd) = self.weight_decay {
            if wd != 0.0 {
                let f = wd * s.lr;
                w.iter_mut().for_each(|v| *v -= *v * f);
            }
        }
        let lr = s.lr;
        use OptimizerKind::*;
        match self.kind {
            Sgd => {
                if self.momentum == 0.0 {
                    for (wv, &gv) in w.iter_mut().zip(g) {
                        *wv -= gv * lr;
                    }
                } else {
                    let mu = self.momentum;
                    let m = &mut slots[0];
                    for ((wv, &gv), mv) in w.iter_mut().zip(g).zip(m.iter_mut()) {
                        *mv = *mv * mu - gv * lr;
                        if self.nesterov {
                            *wv += *mv * mu - gv * lr;
                        } else {
                            *wv += *mv;
                        }
                    }
                }
            }
            Adam | Adamw => {
                let alpha = lr * (1.0 - s.beta_2_power).sqrt() / (1.0 - s.beta_1_power);
                let (b1, b2, eps) = (self.beta_1, self.beta_2, self.epsilon);
                let (m, rest) = slots.split_at_mut(1);
                let (v, vhat) = rest.split_at_mut(1);
                let (m, v, vhat) = (&mut m[0], &mut v[0], &mut vhat[0]);
                if self.amsgrad {
                    for ((((wi, &gi), mi), vi), hi) in w
                        .iter_mut()
                        .zip(g)
                        .zip(m.iter_mut())
                        .zip(v.iter_mut())
                        .zip(vhat.iter_mut())
                    {
                        *mi += (gi - *mi) * (1.0 - b1);
                        *vi += (gi * gi - *vi) * (1.0 - b2);
                        *hi = hi.max(*vi);
                        *wi -= (*mi * alpha) / (hi.sqrt() + eps);
                    }
                } else {
                    for (((wi, &gi), mi), vi) in
                        w.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut())
                    {
                        *mi += (gi - *mi) * (1.0 - b1);
                        *vi += (gi * gi - *vi) * (1.0 - b2);
                        *wi -= (*mi * alpha) / (vi.sqrt() + eps);
                    }
                }
            }
            Rmsprop => {
                let (rho, eps, mu) = (self.rho, self.epsilon, self.momentum);
                let (vel, rest) = slots.split_at_mut(1);
                let (mom, avg) = rest.split_at_mut(1);
                let (vel, mom, avg) = (&mut vel[0], &mut mom[0], &mut avg[0]);
                for i in 0..w.len() {
                    let gv = g[i];
                    vel[i] = rho * vel[i] + (1.0 - rho) * gv * gv;
                    let den = if self.centered {
                        avg[i] = rho * avg[i] + (1.0 - rho) * gv;
                        vel[i] - avg[i] * avg[i] + eps
                    } else {
                        vel[i] + eps
                    };
                    let inc = lr * gv / den.sqrt();
                    if mu > 0.0 {
                        mom[i] = mu * mom[i] + inc;
                        w[i] -= mom[i];
                    } else {
                        w[i] -= inc;
                    }
                }
            }
            Adagrad => {
                let acc = &mut slots[0];
                for i in 0..w.len() {
                    acc[i] += g[i] * g[i];
                    w[i] -= lr * g[i] / (acc[i] + self.epsilon).sqrt();
                }
            }
            Adadelta => {
                let (rho, eps) = (self.rho, self.epsilon);
                let (ag, ad) = slots.split_at_mut(1);
                let (ag, ad) = (&mut ag[0], &mut ad[0]);
                for i in 0..w.len() {
                    ag[i] = rho * ag[i] + (1.0 - rho) * g[i] * g[i];
                    let delta = -(ad[i] + eps).sqrt() * g[i] / (ag[i] + eps).sqrt();
                    ad[i] = rho * ad[i] + (1.0 - rho) * delta * delta;
                    w[i] += lr * delta;
                }
            }
            Adamax => {
                let (b1, b2, eps) = (self.beta_1, self.beta_2, self.epsilon);
                let (m, u) = slots.split_at_mut(1);
                let (m, u) = (&mut m[0], &mut u[0]);
                for i in 0..w.len() {
                    m[i] += (g[i] - m[i]) * (1.0 - b1);
                    u[i] = (b2 * u[i]).max(g[i].abs());
                    w[i] -= (lr * m[i]) / ((1.0 - s.beta_1_power) * (u[i] + eps));
                }
            }
            Nadam => {
                let (b1, b2, eps) = (self.beta_1, self.beta_2, self.epsilon);
                let (m, v) = slots.split_at_mut(1);
                let (m, v) = (&mut m[0], &mut v[0]);
                for i in 0..w.len() {
                    let gv = g[i];
                    m[i] += (gv - m[i]) * (1.0 - b1);
                    v[i] += (gv * gv - v[i]) * (1.0 - b2);
                    let m_hat = s.u_t_1 * m[i] / (1.0 - s.u_product_t * s.u_t_1)
                        + (1.0 - s.u_t) * gv / (1.0 - s.u_product_t);
                    let v_hat = v[i] / (1.0 - s.beta_2_power);
                    w[i] -= (m_hat * lr) / (v_hat.sqrt() + eps);
                }
            }
        }
    }
}

/// Scalars of one optimizer step, shared by all variables.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepInfo {
    pub lr: f32,
    /// 1-based step number.
    pub t: f32,
    pub beta_1_power: f32,
    pub beta_2_power: f32,
    /// Nadam's momentum schedule at t and t + 1, and the product up to t.
    pub u_t: f32,
    pub u_t_1: f32,
    pub u_product_t: f32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_keras() {
        assert_eq!(Optimizer::from_name("sgd").unwrap().learning_rate, 0.01);
        assert_eq!(Optimizer::from_name("Adam").unwrap().learning_rate, 0.001);
        assert_eq!(
            Optimizer::from_name("adamw").unwrap().weight_decay,
            Some(0.004)
        );
        assert_eq!(Optimizer::from_name("adadelta").unwrap().rho, 0.95);
        let e = Optimizer::from_name("adamm").unwrap_err().to_string();
        assert!(
            e.contains("unknown optimizer `adamm`") && e.contains("rmsprop"),
            "{e}"
        );
    }

    #[test]
    fn config_is_checked() {
        let mut cfg = Map::new();
        cfg.insert("learning_rate".into(), Value::from(-1.0));
        let e = Optimizer::from_config("adam", &cfg)
            .unwrap_err()
            .to_string();
        assert!(e.contains("learning_rate") && e.contains("> 0"), "{e}");
        let mut cfg = Map::new();
        cfg.insert("momentum".into(), Value::from(0.9));
        let e = Optimizer::from_config("adam", &cfg)
            .unwrap_err()
            .to_string();
        assert!(e.contains("momentum") && e.contains("beta_1"), "{e}");
    }

    #[test]
    fn adam_first_step_moves_by_learning_rate() {
        // After one step Adam's update is lr * g / (|g| + eps'), i.e. about lr in magnitude.
        let o = Optimizer::from_name("adam").unwrap();
        let s = o.step_info(0, o.learning_rate, 1.0);
        let mut w = vec![1.0, 1.0];
        let mut slots = vec![vec![0.0; 2]; 3];
        o.update(&s, &mut w, &[0.5, -2.0], &mut slots);
        assert!(
            (w[0] - 0.999).abs() < 1e-6 && (w[1] - 1.001).abs() < 1e-6,
            "{w:?}"
        );
    }

    #[test]
    fn clipping() {
        let mut o = Optimizer::from_name("sgd").unwrap();
        o.clipnorm = Some(1.0);
        let mut g = vec![vec![3.0, 4.0], vec![0.1, 0.0]];
        o.clip(&mut g);
        assert!((g[0][0] - 0.6).abs() < 1e-6 && (g[1][0] - 0.1).abs() < 1e-7);
        o.clipnorm = None;
        o.clipvalue = Some(0.5);
        let mut g = vec![vec![3.0, -4.0]];
        o.clip(&mut g);
        assert_eq!(g[0], vec![0.5, -0.5]);
    }
}
