//! The search algorithms, one file each.

pub mod asha;
pub mod bayesian;
pub mod bohb;
pub mod gp;
pub mod grid;
pub mod hyperband;
pub mod random;

pub use asha::Asha;
pub use bayesian::BayesianOptimization;
pub use bohb::ModelSampler;
pub use grid::GridSearch;
pub use hyperband::Hyperband;
pub use random::RandomSearch;

use crate::error::{Error, Result};
use serde_json::Value;

/// Refuses to resume a multi-fidelity project (`kind`: "ASHA", "Hyperband", "BOHB") whose
/// saved `state` has other budgets: its trials' rungs and brackets were laid out for them, and
/// read with others they would be misread (an option is honoured or refused, never dropped).
pub(crate) fn same_budgets(state: &Value, kind: &str, now: &[(&str, usize)]) -> Result<()> {
    for &(key, value) in now {
        if let Some(saved) = state.get(key).and_then(Value::as_u64) {
            if saved != value as u64 {
                return Err(Error::invalid(
                    key,
                    value,
                    format!(
                        "{saved}, the value this {kind} project was started with (or pass overwrite)"
                    ),
                ));
            }
        }
    }
    Ok(())
}
