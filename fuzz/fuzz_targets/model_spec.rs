//! The model spec parser (`ModelSpec::parse`, the `--model` file and the JS `modelFromJSON`):
//! whatever it accepts round-trips through `to_value` and builds (small models are built and
//! run on two rows of zeros).
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use tunelab::nn::layers::Layer;
use tunelab::spec::ModelSpec;
use tunelab::Tensor;

fuzz_target!(|data: &[u8]| {
    let Some(text) = common::text(data) else {
        return;
    };
    let spec = match ModelSpec::parse(text) {
        Ok(s) => s,
        Err(e) => return common::explained(&e),
    };
    let again = ModelSpec::from_value(&spec.to_value()).expect("a parsed spec reads back");
    assert_eq!(again.to_value(), spec.to_value());
    // Build and run the model when it is small (the size limits themselves are checked by
    // build, which must refuse the large ones with an error before allocating).
    let inputs: usize = spec
        .input_shape
        .as_ref()
        .map_or(4, |s| s.iter().fold(1usize, |a, &d| a.saturating_mul(d)));
    let mut weights = 0usize;
    let mut width = inputs;
    for l in &spec.layers {
        if let Layer::Dense(d) = l {
            weights = weights.saturating_add(width.saturating_mul(d.units));
            width = d.units;
        }
    }
    if inputs > 4096 || weights > 1 << 20 {
        if let Err(e) = spec.build(7) {
            common::explained(&e);
        }
        return;
    }
    match spec.build(7) {
        Ok(mut model) => {
            let shape = spec.input_shape.clone().unwrap_or_else(|| vec![4]);
            let mut full = vec![2];
            full.extend(&shape);
            let x = Tensor::zeros(&full);
            if let Err(e) = model.predict(&x, Some(2)) {
                common::explained(&e);
            }
        }
        Err(e) => common::explained(&e),
    }
});
