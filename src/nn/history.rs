//! Logs (ordered name -> value maps, as Keras's `logs` dicts) and the `History` that `fit`
//! returns.

use serde::ser::{Serialize, SerializeMap, Serializer};

/// An ordered map of metric names to values: `loss` first, then metrics in compile order,
/// then the `val_` entries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Logs(pub Vec<(String, f32)>);

impl Logs {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<f32> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }
    /// Sets `key`, replacing an existing entry in place.
    pub fn set(&mut self, key: impl Into<String>, v: f32) {
        let key = key.into();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(e) => e.1 = v,
            None => self.0.push((key, v)),
        }
    }
    /// Entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, f32)> {
        self.0.iter().map(|(k, v)| (k.as_str(), *v))
    }
    /// Keys in order.
    pub fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| k.as_str()).collect()
    }
}

impl Serialize for Logs {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// What `fit` returns: per-epoch values of every logged quantity, as Keras's
/// `History.history`, plus the epoch indices.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// Key -> one value per epoch that logged it (validation keys only on validation epochs).
    pub history: Vec<(String, Vec<f32>)>,
    /// 0-based indices of the epochs that ran.
    pub epoch: Vec<usize>,
    /// Key -> the epochs it was logged at, for the keys not logged at every epoch (validation
    /// keys with `validation_freq > 1`); see [`History::epochs_of`].
    pub sparse: Vec<(String, Vec<usize>)>,
}

impl History {
    /// Appends one epoch's logs.
    pub fn record(&mut self, epoch: usize, logs: &Logs) {
        let before = self.epoch.len();
        // A key logged at every epoch so far that misses this one becomes sparse: its values
        // so far belong to the last epochs.
        for (k, vals) in &self.history {
            if logs.get(k).is_none() && !self.sparse.iter().any(|(s, _)| s == k) {
                let from = before.saturating_sub(vals.len());
                self.sparse.push((k.clone(), self.epoch[from..].to_vec()));
            }
        }
        self.epoch.push(epoch);
        for (k, v) in logs.iter() {
            match self.history.iter_mut().find(|(hk, _)| hk == k) {
                Some((_, vals)) => vals.push(v),
                None => {
                    self.history.push((k.to_string(), vec![v]));
                    // First logged after the first epoch: sparse from the start.
                    if before > 0 {
                        self.sparse.push((k.to_string(), Vec::new()));
                    }
                }
            }
            if let Some((_, epochs)) = self.sparse.iter_mut().find(|(s, _)| s == k) {
                epochs.push(epoch);
            }
        }
    }

    /// The epochs at which `key` was logged, one per value of [`History::get`].
    pub fn epochs_of(&self, key: &str) -> Vec<usize> {
        if let Some((_, e)) = self.sparse.iter().find(|(k, _)| k == key) {
            return e.clone();
        }
        let n = self.get(key).map_or(0, <[f32]>::len);
        self.epoch[self.epoch.len().saturating_sub(n)..].to_vec()
    }

    /// Every key's value at `epoch` (the keys logged then).
    pub fn at_epoch(&self, epoch: usize) -> Vec<(String, f32)> {
        self.history
            .iter()
            .filter_map(|(k, v)| {
                let i = self.epochs_of(k).iter().position(|&e| e == epoch)?;
                Some((k.clone(), *v.get(i)?))
            })
            .collect()
    }
    /// The values of `key`.
    pub fn get(&self, key: &str) -> Option<&[f32]> {
        self.history
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_slice())
    }
    /// Keys in the order they were first logged.
    pub fn keys(&self) -> Vec<&str> {
        self.history.iter().map(|(k, _)| k.as_str()).collect()
    }
}

impl Serialize for History {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.history.len()))?;
        for (k, v) in &self.history {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}
