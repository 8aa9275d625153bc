//! The KerasTuner getting-started guide's `build_model` (Flatten, 1-3 Dense layers of 32-512
//! units with relu/tanh, optional Dropout 0.25, Dense 10 softmax, adam with a log-sampled
//! learning rate), shared by the examples that include it with `#[path]`.

use tunelab::hp::{HyperParameters, Sampling};
use tunelab::nn::*;
use tunelab::Result;

/// The guide's hypermodel function.
pub fn build_model(hp: &mut HyperParameters) -> Result<Sequential> {
    let mut model = Sequential::new();
    model.add(flatten());
    for i in 0..hp.int("num_layers", 1, 3).get()? {
        let units = hp.int(&format!("units_{i}"), 32, 512).step(32).get()?;
        let act = hp
            .choice("activation", vec!["relu".into(), "tanh".into()])
            .get()?;
        model.add(
            Dense::new(units as usize)
                .activation(Activation::parse(act.as_str().unwrap_or("relu"))?),
        );
    }
    if hp.boolean("dropout").get()? {
        model.add(Dropout::new(0.25));
    }
    model.add(Dense::new(10).activation(Activation::Softmax));
    let lr = hp.float("lr", 1e-4, 1e-2).sampling(Sampling::Log).get()?;
    model.compile(
        Optimizer::from_name("adam")?.learning_rate(lr as f32),
        Loss::from_name("categorical_crossentropy")?,
        &["accuracy"],
    )?;
    Ok(model)
}
