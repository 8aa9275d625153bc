//! The hypermodel of a JSON spec with hyperparameters inside (docs/tuning.md): what
//! `tunelab tune SPEC.json`, the npm package's `specHypermodel` and the playground page search.
//! Beside `layers` and `compile`, the spec may hold `fit` with `batch_size` and `epochs`,
//! each a number or a hyperparameter (KerasTuner tunes them in `HyperModel.fit`).

use crate::error::{Error, Result};
use crate::hp::HyperParameters;
use crate::nn::model::{FitArgs, Sequential};
use crate::spec::{hyper, ModelSpec};
use crate::tuner::tuner::HyperModel;
use serde_json::Value;

/// The keys a spec's `fit` may hold.
pub const FIT_KEYS: &[&str] = &["batch_size", "epochs"];

/// A hypermodel from a spec (see the module's documentation).
pub struct SpecHyperModel {
    spec: Value,
}

impl SpecHyperModel {
    /// The hypermodel of `spec` (a JSON object). Its hyperparameters are checked when the
    /// tuner declares them; what the spec builds is checked per trial: a trial whose model
    /// cannot be built fails with the reason, and the search stops after
    /// `max_consecutive_failed_trials` such failures.
    pub fn new(spec: Value) -> Result<Self> {
        if !spec.is_object() {
            return Err(Error::invalid(
                "spec",
                "not an object",
                "a JSON object with layers and compile",
            ));
        }
        Ok(SpecHyperModel { spec })
    }

    /// From the spec's JSON text.
    pub fn parse(text: &str) -> Result<Self> {
        let v: Value = serde_json::from_str(text)
            .map_err(|e| Error::parse(format!("model spec is not valid JSON: {e}")))?;
        Self::new(v)
    }

    /// The spec as given.
    pub fn spec(&self) -> &Value {
        &self.spec
    }
}

/// A resolved spec without its `fit`, and the `fit`.
fn split(mut plain: Value) -> (Value, Option<Value>) {
    let fit = plain.as_object_mut().and_then(|m| m.remove("fit"));
    (plain, fit.filter(|f| !f.is_null()))
}

/// Applies a resolved `fit` to the fit arguments.
fn apply_fit(fit: Option<&Value>, args: &mut FitArgs) -> Result<()> {
    let Some(fit) = fit else { return Ok(()) };
    let m = fit
        .as_object()
        .ok_or_else(|| Error::invalid("fit", fit, "an object with batch_size and epochs"))?;
    for (k, v) in m {
        let n = v
            .as_u64()
            .filter(|&n| n >= 1 || k == "epochs")
            .ok_or_else(|| Error::invalid(format!("fit.{k}"), v, "an integer >= 1"))?;
        match k.as_str() {
            "batch_size" => args.batch_size = Some(n as usize),
            "epochs" => args.epochs = n as usize,
            _ => return Err(Error::unknown("fit key", k, FIT_KEYS)),
        }
    }
    Ok(())
}

impl HyperModel for SpecHyperModel {
    /// Every hp of the spec (a bad definition is an error here, before the search); what the
    /// spec builds is checked per trial.
    fn declare_hyperparameters(&mut self, hp: &mut HyperParameters) -> Result<()> {
        hyper::resolve(&self.spec, hp).map(|_| ())
    }

    fn populate_builds(&self) -> bool {
        false
    }

    fn build(&mut self, hp: &mut HyperParameters) -> Result<Sequential> {
        let (model, _) = split(hyper::resolve(&self.spec, hp)?);
        ModelSpec::from_value(&model)?.build(0)
    }

    fn fit_args(&mut self, hp: &mut HyperParameters, args: &mut FitArgs) -> Result<()> {
        let (_, fit) = split(hyper::resolve(&self.spec, hp)?);
        apply_fit(fit.as_ref(), args)
    }

    fn default_fit(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(fit: Value) -> Value {
        json!({
            "layers": [{"class_name": "Dense", "config": {"units": 2, "activation": "softmax"}}],
            "compile": {"optimizer": "adam", "loss": "sparse_categorical_crossentropy"},
            "fit": fit,
        })
    }

    #[test]
    fn fit_section_sets_batch_size_and_epochs_per_trial() {
        let mut hm = SpecHyperModel::new(spec(json!({
            "batch_size": {"hp": "Choice", "name": "batch_size", "values": [16, 64]},
            "epochs": 3
        })))
        .unwrap();
        let mut hp = HyperParameters::new();
        hm.build(&mut hp).unwrap();
        let mut args = FitArgs::default();
        hm.fit_args(&mut hp, &mut args).unwrap();
        assert_eq!((args.batch_size, args.epochs), (Some(16), 3));
        assert!(hp.values().get("batch_size").is_some());
    }

    #[test]
    fn a_bad_fit_section_is_refused_with_its_key() {
        let refused = |fit: Value| {
            let mut hm = SpecHyperModel::new(spec(fit)).unwrap();
            let mut hp = HyperParameters::new();
            hm.fit_args(&mut hp, &mut FitArgs::default())
                .unwrap_err()
                .to_string()
        };
        let e = refused(json!({"batch": 3}));
        assert!(
            e.contains("batch") && e.contains("batch_size, epochs"),
            "{e}"
        );
        let e = refused(json!({"batch_size": 0}));
        assert!(e.contains("fit.batch_size") && e.contains(">= 1"), "{e}");
        assert!(SpecHyperModel::parse("[1]").is_err());
    }

    #[test]
    fn a_model_that_cannot_be_built_fails_its_trials_not_the_tuner() {
        let mut bad = spec(json!({"epochs": 1}));
        bad["layers"][0]["config"]["activation"] = json!("no_such_activation");
        bad["layers"][0]["config"]["units"] =
            json!({"hp": "Int", "name": "units", "min_value": 1, "max_value": 50});
        let hm = SpecHyperModel::new(bad).unwrap();
        let mut t = crate::tuner::Tuner::new(
            Box::new(crate::tuner::RandomSearch),
            Box::new(hm),
            None,
            crate::tuner::TunerConfig {
                verbose: false,
                ..Default::default()
            },
        )
        .unwrap();
        let x = crate::Tensor::new(vec![4, 1], vec![0.0, 1.0, 2.0, 3.0]).unwrap();
        let y = crate::Tensor::new(vec![4, 1], vec![0.0, 1.0, 0.0, 1.0]).unwrap();
        let e = t
            .search(&x, &y, &FitArgs::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("Number of consecutive failures exceeded the limit of 3")
                && e.contains("no_such_activation"),
            "{e}"
        );
    }
}
