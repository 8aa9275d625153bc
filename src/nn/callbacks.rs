//! Keras's callbacks: a trait with the train / epoch / batch hooks, and EarlyStopping,
//! TerminateOnNaN, ReduceLROnPlateau, LambdaCallback and an in-memory best-weights checkpoint
//! (what the tuner uses to keep each trial's best epoch).

use crate::error::Result;
use crate::nn::history::Logs;
use crate::tensor::Tensor;

/// What a callback may see and change of the model being trained.
pub trait ModelAccess {
    /// The weights in Keras's order.
    fn get_weights(&self) -> Vec<Tensor>;
    /// Replaces the weights.
    fn set_weights(&mut self, weights: &[Tensor]) -> Result<()>;
    /// Asks `fit` to stop after the current batch or epoch.
    fn stop_training(&mut self);
    /// The optimizer's current learning rate.
    fn learning_rate(&self) -> f32;
    /// Changes the learning rate for the next steps.
    fn set_learning_rate(&mut self, lr: f32);
    /// The optimizer's state (step count, learning rate, slots), so training can be resumed
    /// exactly; `None` before the first step.
    fn training_state(&self) -> Option<TrainingState> {
        None
    }
}

/// Everything besides the weights that an exact resume of training needs.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingState {
    /// Optimizer steps taken (drives bias corrections and dropout masks).
    pub iterations: u64,
    pub learning_rate: f32,
    /// Nadam's running momentum product.
    pub u_product: f32,
    /// Per variable (get_weights order), the optimizer's slots.
    pub slots: Vec<Vec<Vec<f32>>>,
}

/// Hooks called by `fit`. Every method has an empty default.
#[allow(unused_variables)]
pub trait Callback {
    fn on_train_begin(&mut self, model: &mut dyn ModelAccess) -> Result<()> {
        Ok(())
    }
    fn on_train_end(&mut self, model: &mut dyn ModelAccess, logs: &Logs) -> Result<()> {
        Ok(())
    }
    fn on_epoch_begin(&mut self, epoch: usize, model: &mut dyn ModelAccess) -> Result<()> {
        Ok(())
    }
    /// `logs` may be extended (ReduceLROnPlateau adds `learning_rate`, as in Keras).
    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        model: &mut dyn ModelAccess,
    ) -> Result<()> {
        Ok(())
    }
    fn on_train_batch_begin(&mut self, batch: usize, model: &mut dyn ModelAccess) -> Result<()> {
        Ok(())
    }
    fn on_train_batch_end(
        &mut self,
        batch: usize,
        logs: &Logs,
        model: &mut dyn ModelAccess,
    ) -> Result<()> {
        Ok(())
    }
    /// Called by `evaluate` before its first batch.
    fn on_test_begin(&mut self, model: &mut dyn ModelAccess) -> Result<()> {
        Ok(())
    }
    /// Called by `evaluate` after its last batch, with its loss and metrics.
    fn on_test_end(&mut self, model: &mut dyn ModelAccess, logs: &Logs) -> Result<()> {
        Ok(())
    }
    fn on_test_batch_begin(&mut self, batch: usize, model: &mut dyn ModelAccess) -> Result<()> {
        Ok(())
    }
    /// `logs`: the loss and metrics over the batches so far.
    fn on_test_batch_end(
        &mut self,
        batch: usize,
        logs: &Logs,
        model: &mut dyn ModelAccess,
    ) -> Result<()> {
        Ok(())
    }
    /// Called by `predict` before its first batch.
    fn on_predict_begin(&mut self, model: &mut dyn ModelAccess) -> Result<()> {
        Ok(())
    }
    fn on_predict_end(&mut self, model: &mut dyn ModelAccess) -> Result<()> {
        Ok(())
    }
    fn on_predict_batch_begin(&mut self, batch: usize, model: &mut dyn ModelAccess) -> Result<()> {
        Ok(())
    }
    fn on_predict_batch_end(&mut self, batch: usize, model: &mut dyn ModelAccess) -> Result<()> {
        Ok(())
    }
}

/// Whether a monitored quantity improves downwards or upwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `max` for accuracy-like names (acc, auc, precision, recall), `min` otherwise.
    Auto,
    Min,
    Max,
}

impl Mode {
    /// Parses "auto", "min" or "max".
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(Mode::Auto),
            "min" => Ok(Mode::Min),
            "max" => Ok(Mode::Max),
            _ => Err(crate::Error::invalid(
                "mode",
                s,
                "\"auto\", \"min\" or \"max\"",
            )),
        }
    }

    fn resolve(self, monitor: &str) -> bool {
        match self {
            Mode::Min => false,
            Mode::Max => true,
            Mode::Auto => {
                let m = monitor.strip_prefix("val_").unwrap_or(monitor);
                ["acc", "auc", "precision", "recall"]
                    .iter()
                    .any(|k| m.contains(k))
                    && !m.ends_with("loss")
            }
        }
    }
}

/// Stops training when `monitor` stops improving (Keras 3 semantics).
#[derive(Debug, Clone)]
pub struct EarlyStopping {
    pub monitor: String,
    pub min_delta: f32,
    pub patience: usize,
    pub mode: Mode,
    pub baseline: Option<f32>,
    pub restore_best_weights: bool,
    pub start_from_epoch: usize,
    wait: usize,
    best: Option<f32>,
    best_weights: Option<Vec<Tensor>>,
    /// Epoch at which training was stopped (0 if it was not).
    pub stopped_epoch: usize,
    /// Epoch of the best value seen.
    pub best_epoch: usize,
}

impl EarlyStopping {
    /// Keras's defaults: min_delta 0, patience 0, mode auto, no baseline.
    pub fn new(monitor: impl Into<String>) -> Self {
        EarlyStopping {
            monitor: monitor.into(),
            min_delta: 0.0,
            patience: 0,
            mode: Mode::Auto,
            baseline: None,
            restore_best_weights: false,
            start_from_epoch: 0,
            wait: 0,
            best: None,
            best_weights: None,
            stopped_epoch: 0,
            best_epoch: 0,
        }
    }
    /// Sets patience.
    pub fn patience(mut self, p: usize) -> Self {
        self.patience = p;
        self
    }
    /// Sets min_delta.
    pub fn min_delta(mut self, d: f32) -> Self {
        self.min_delta = d.abs();
        self
    }
    /// Sets the mode.
    pub fn mode(mut self, m: Mode) -> Self {
        self.mode = m;
        self
    }
    /// Sets a baseline the monitored value must beat.
    pub fn baseline(mut self, b: f32) -> Self {
        self.baseline = Some(b);
        self
    }
    /// Restores the best epoch's weights when training ends.
    pub fn restore_best_weights(mut self, r: bool) -> Self {
        self.restore_best_weights = r;
        self
    }
    /// Ignores epochs before this one.
    pub fn start_from_epoch(mut self, e: usize) -> Self {
        self.start_from_epoch = e;
        self
    }

    fn improves(&self, v: f32, reference: Option<f32>) -> bool {
        let Some(r) = reference else { return true };
        if self.mode.resolve(&self.monitor) {
            v - self.min_delta > r
        } else {
            v + self.min_delta < r
        }
    }
}

impl Callback for EarlyStopping {
    fn on_train_begin(&mut self, _m: &mut dyn ModelAccess) -> Result<()> {
        self.wait = 0;
        self.stopped_epoch = 0;
        self.best = None;
        self.best_weights = None;
        self.best_epoch = 0;
        Ok(())
    }
    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        m: &mut dyn ModelAccess,
    ) -> Result<()> {
        let Some(current) = logs.get(&self.monitor) else {
            return Ok(());
        };
        if epoch < self.start_from_epoch {
            return Ok(());
        }
        if self.restore_best_weights && self.best_weights.is_none() {
            self.best_weights = Some(m.get_weights());
        }
        self.wait += 1;
        if self.improves(current, self.best) {
            self.best = Some(current);
            self.best_epoch = epoch;
            if self.restore_best_weights {
                self.best_weights = Some(m.get_weights());
            }
            if self.baseline.is_none() || self.improves(current, self.baseline) {
                self.wait = 0;
                return Ok(());
            }
        }
        if self.wait >= self.patience && epoch > 0 {
            self.stopped_epoch = epoch;
            m.stop_training();
        }
        Ok(())
    }
    fn on_train_end(&mut self, m: &mut dyn ModelAccess, _logs: &Logs) -> Result<()> {
        if self.restore_best_weights {
            if let Some(w) = &self.best_weights {
                m.set_weights(w)?;
            }
        }
        Ok(())
    }
}

/// Stops training as soon as a batch loss is NaN or infinite.
#[derive(Debug, Clone, Default)]
pub struct TerminateOnNaN {
    /// The batch that had the invalid loss, if any.
    pub terminated_at: Option<usize>,
}

impl Callback for TerminateOnNaN {
    fn on_train_batch_end(
        &mut self,
        batch: usize,
        logs: &Logs,
        m: &mut dyn ModelAccess,
    ) -> Result<()> {
        if let Some(l) = logs.get("loss") {
            if !l.is_finite() {
                self.terminated_at = Some(batch);
                m.stop_training();
            }
        }
        Ok(())
    }
}

/// Multiplies the learning rate by `factor` when `monitor` has not improved for `patience`
/// epochs (Keras 3 semantics, including `learning_rate` added to the epoch logs).
#[derive(Debug, Clone)]
pub struct ReduceLROnPlateau {
    pub monitor: String,
    pub factor: f32,
    pub patience: usize,
    pub mode: Mode,
    pub min_delta: f32,
    pub cooldown: usize,
    pub min_lr: f32,
    wait: usize,
    cooldown_counter: usize,
    best: Option<f32>,
}

impl ReduceLROnPlateau {
    /// Keras's defaults: factor 0.1, patience 10, min_delta 1e-4, cooldown 0, min_lr 0.
    pub fn new(monitor: impl Into<String>) -> Result<Self> {
        Ok(ReduceLROnPlateau {
            monitor: monitor.into(),
            factor: 0.1,
            patience: 10,
            mode: Mode::Auto,
            min_delta: 1e-4,
            cooldown: 0,
            min_lr: 0.0,
            wait: 0,
            cooldown_counter: 0,
            best: None,
        })
    }
    /// Sets the factor; it must be < 1, as in Keras.
    pub fn factor(mut self, f: f32) -> Result<Self> {
        if !(f > 0.0 && f < 1.0) {
            return Err(crate::Error::invalid("factor", f, "a float in (0, 1)"));
        }
        self.factor = f;
        Ok(self)
    }
    /// Sets patience.
    pub fn patience(mut self, p: usize) -> Self {
        self.patience = p;
        self
    }
    /// Sets the cooldown.
    pub fn cooldown(mut self, c: usize) -> Self {
        self.cooldown = c;
        self
    }
    /// Sets the lowest learning rate.
    pub fn min_lr(mut self, m: f32) -> Self {
        self.min_lr = m;
        self
    }
}

impl Callback for ReduceLROnPlateau {
    fn on_train_begin(&mut self, _m: &mut dyn ModelAccess) -> Result<()> {
        self.wait = 0;
        self.cooldown_counter = 0;
        self.best = None;
        Ok(())
    }
    fn on_epoch_end(&mut self, _e: usize, logs: &mut Logs, m: &mut dyn ModelAccess) -> Result<()> {
        logs.set("learning_rate", m.learning_rate());
        let Some(current) = logs.get(&self.monitor) else {
            return Ok(());
        };
        let max = self.mode.resolve(&self.monitor);
        let better = match self.best {
            None => true,
            Some(b) if max => current > b + self.min_delta,
            Some(b) => current < b - self.min_delta,
        };
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.wait = 0;
        }
        if better {
            self.best = Some(current);
            self.wait = 0;
        } else if self.cooldown_counter == 0 {
            self.wait += 1;
            if self.wait >= self.patience {
                let old = m.learning_rate();
                if old > self.min_lr {
                    m.set_learning_rate((old * self.factor).max(self.min_lr));
                    self.cooldown_counter = self.cooldown;
                    self.wait = 0;
                }
            }
        }
        Ok(())
    }
}

type EpochFn = Box<dyn FnMut(usize, &Logs)>;
type LogsFn = Box<dyn FnMut(&Logs)>;

/// Callbacks from closures, as Keras's `LambdaCallback`.
#[derive(Default)]
pub struct LambdaCallback {
    pub on_epoch_begin: Option<Box<dyn FnMut(usize)>>,
    pub on_epoch_end: Option<EpochFn>,
    pub on_batch_end: Option<EpochFn>,
    pub on_train_begin: Option<Box<dyn FnMut()>>,
    pub on_train_end: Option<LogsFn>,
}

impl Callback for LambdaCallback {
    fn on_train_begin(&mut self, _m: &mut dyn ModelAccess) -> Result<()> {
        if let Some(f) = &mut self.on_train_begin {
            f();
        }
        Ok(())
    }
    fn on_train_end(&mut self, _m: &mut dyn ModelAccess, logs: &Logs) -> Result<()> {
        if let Some(f) = &mut self.on_train_end {
            f(logs);
        }
        Ok(())
    }
    fn on_epoch_begin(&mut self, e: usize, _m: &mut dyn ModelAccess) -> Result<()> {
        if let Some(f) = &mut self.on_epoch_begin {
            f(e);
        }
        Ok(())
    }
    fn on_epoch_end(&mut self, e: usize, logs: &mut Logs, _m: &mut dyn ModelAccess) -> Result<()> {
        if let Some(f) = &mut self.on_epoch_end {
            f(e, logs);
        }
        Ok(())
    }
    fn on_train_batch_end(
        &mut self,
        b: usize,
        logs: &Logs,
        _m: &mut dyn ModelAccess,
    ) -> Result<()> {
        if let Some(f) = &mut self.on_batch_end {
            f(b, logs);
        }
        Ok(())
    }
}

/// Keeps, in memory, the weights of the epoch with the best `monitor` value (the tuner's
/// per-trial best-epoch checkpoint). Optionally restores them when training ends.
#[derive(Debug, Clone)]
pub struct BestWeights {
    pub monitor: String,
    pub mode: Mode,
    pub restore_on_end: bool,
    best: Option<(usize, f32, Vec<Tensor>)>,
}

impl BestWeights {
    /// Tracks `monitor` in `mode`.
    pub fn new(monitor: impl Into<String>, mode: Mode) -> Self {
        BestWeights {
            monitor: monitor.into(),
            mode,
            restore_on_end: false,
            best: None,
        }
    }
    /// Restore the best weights into the model when fit ends.
    pub fn restore_on_end(mut self, r: bool) -> Self {
        self.restore_on_end = r;
        self
    }
    /// The best epoch, its value and weights.
    pub fn best(&self) -> Option<(usize, f32, &[Tensor])> {
        self.best.as_ref().map(|(e, v, w)| (*e, *v, w.as_slice()))
    }
}

impl Callback for BestWeights {
    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        m: &mut dyn ModelAccess,
    ) -> Result<()> {
        let Some(v) = logs.get(&self.monitor) else {
            return Ok(());
        };
        if !v.is_finite() {
            return Ok(());
        }
        let max = self.mode.resolve(&self.monitor);
        let better = match &self.best {
            None => true,
            Some((_, b, _)) => (max && v > *b) || (!max && v < *b),
        };
        if better {
            self.best = Some((epoch, v, m.get_weights()));
        }
        Ok(())
    }
    fn on_train_end(&mut self, m: &mut dyn ModelAccess, _logs: &Logs) -> Result<()> {
        if self.restore_on_end {
            if let Some((_, _, w)) = &self.best {
                m.set_weights(w)?;
            }
        }
        Ok(())
    }
}
