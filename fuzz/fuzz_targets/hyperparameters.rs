//! Stored hyperparameter definitions and values (KerasTuner's `get_config()` JSON, as
//! oracle.json and trial.json hold them): what reads back validates, summarises, samples,
//! enumerates its grid and writes back to the same JSON.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use rand::{rngs::StdRng, SeedableRng};
use tunelab::hp::HyperParameters;

fuzz_target!(|data: &[u8]| {
    let Some(v) = common::json(data) else {
        return;
    };
    let hp = match HyperParameters::from_json(&v) {
        Ok(h) => h,
        Err(e) => return common::explained(&e),
    };
    let written = hp.to_json();
    let back = HyperParameters::from_json(&written).expect("written hyperparameters read back");
    assert_eq!(back.to_json(), written);
    let _ = hp.search_space_summary();
    let _ = hp.values();
    let mut rng = StdRng::seed_from_u64(1);
    let mut filled = hp.copy();
    filled.ensure_active_values_with(&mut rng);
    for h in hp.space() {
        let v = h.random_sample(&mut rng);
        let _ = h.value_to_prob(&v);
        let _ = h.prob_to_value(0.5);
        let _ = h.repr();
        // Grids are enumerated only when small (GridSearch refuses huge ones itself).
        if h.grid_len() <= 10_000 {
            let _ = h.grid_values();
        }
    }
});
