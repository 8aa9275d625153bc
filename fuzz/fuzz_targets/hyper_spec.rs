//! The hypermodel spec (a model spec with hp objects, repeat and when blocks: the page's JSON
//! editor and `specHypermodel`): resolving it with the defaults, then with random values as a
//! trial would, gives a plain spec or an explained error.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use rand::{rngs::StdRng, SeedableRng};
use tunelab::hp::HyperParameters;
use tunelab::spec::{hyper, ModelSpec};

fn check(spec: &serde_json::Value, hp: &mut HyperParameters) {
    match hyper::resolve(spec, hp) {
        Ok(plain) => {
            if let Err(e) = ModelSpec::from_value(&plain) {
                common::explained(&e);
            }
        }
        Err(e) => common::explained(&e),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(spec) = common::json(data) else {
        return;
    };
    let mut hp = HyperParameters::new();
    check(&spec, &mut hp);
    // A trial's turn: values drawn from the space the first pass declared.
    let mut rng = StdRng::seed_from_u64(data.len() as u64);
    for _ in 0..3 {
        let mut trial = HyperParameters::new();
        for h in hp.space() {
            trial.set_value(&h.name, h.random_sample(&mut rng));
        }
        let mut with_space = hp.copy();
        with_space.merge(&trial, true);
        check(&spec, &mut with_space);
    }
});
