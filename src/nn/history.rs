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
}

impl History {
    /// Appends one epoch's logs.
    pub fn record(&mut self, epoch: usize, logs: &Logs) {
        self.epoch.push(epoch);
        for (k, v) in logs.iter() {
            match self.history.iter_mut().find(|(hk, _)| hk == k) {
                Some((_, vals)) => vals.push(v),
                None => self.history.push((k.to_string(), vec![v])),
            }
        }
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
