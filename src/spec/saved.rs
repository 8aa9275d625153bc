//! A trained model in one file (Keras's `model.save` / `keras.models.load_model`): the model's
//! spec, the input shape it was built for, its weights and its optimizer's state, in the
//! checkpoint format (`nn::checkpoint`: a JSON header, then the arrays as little-endian f32).
//! The same bytes come out of the CLI (`tunelab fit --save`), the Rust API and the npm
//! package, and each reads the others'.
//!
//! [`tfjs_layers_model`] writes TensorFlow.js's LayersModel format instead (`model.json` and
//! one weights file), which `tf.loadLayersModel` reads.

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::nn::checkpoint;
use crate::nn::layers::{Layer, NORMALIZATION_EPSILON};
use crate::nn::model::Sequential;
use crate::ops::activations::Activation;
use crate::spec::ModelSpec;
use crate::tensor::Tensor;
use serde_json::{json, Value};

/// The header's `format` of a saved model.
pub const MODEL_FORMAT: &str = "tunelab.model";
/// The version written; readers accept this one.
pub const MODEL_VERSION: u64 = 1;

/// The bytes of a saved model (the model must be built: trained, or given an input shape).
pub fn model_to_bytes<B: Backend>(model: &Sequential<B>) -> Result<Vec<u8>> {
    let shape = model.built_input_shape().ok_or_else(|| {
        Error::state("save: the model is not built yet (fit it, or build it with an input shape)")
    })?;
    let spec = ModelSpec::of(model);
    let meta = json!({
        "format": MODEL_FORMAT,
        "version": MODEL_VERSION,
        "tunelab": env!("CARGO_PKG_VERSION"),
        "spec": spec.to_value(),
        "input_shape": shape,
    });
    checkpoint::encode_state(&model.get_weights()?, model.training_state().as_ref(), meta)
}

/// A model from [`model_to_bytes`]'s bytes, on the CPU, built and loaded (optimizer state
/// included, so training continues where it stopped).
pub fn model_from_bytes(bytes: &[u8]) -> Result<Sequential> {
    let (weights, state, meta) = checkpoint::decode_state(bytes)
        .map_err(|e| Error::parse(format!("not a saved tunelab model: {e}")))?;
    match meta.get("format").and_then(Value::as_str) {
        Some(MODEL_FORMAT) => {}
        Some(other) => {
            return Err(Error::invalid(
                "model file",
                format!("format {other:?}"),
                format!(
                    "a saved model ({MODEL_FORMAT:?}); a tuner's checkpoint holds weights only"
                ),
            ))
        }
        None => {
            return Err(Error::invalid(
                "model file",
                "a file without a format",
                "a model written by model.save / tunelab fit --save",
            ))
        }
    }
    let version = meta.get("version").and_then(Value::as_u64).unwrap_or(0);
    if version != MODEL_VERSION {
        return Err(Error::invalid(
            "model file version",
            version,
            format!(
                "{MODEL_VERSION} (written by tunelab {})",
                env!("CARGO_PKG_VERSION")
            ),
        ));
    }
    let spec = ModelSpec::from_value(meta.get("spec").unwrap_or(&Value::Null))
        .map_err(|e| Error::parse(format!("saved model's spec: {e}")))?;
    let shape: Vec<usize> = meta
        .get("input_shape")
        .and_then(|s| serde_json::from_value(s.clone()).ok())
        .ok_or_else(|| Error::parse("saved model: no input_shape"))?;
    let mut model = spec.build(0)?;
    if !model.is_built() {
        model.build(&shape)?;
    }
    model.set_weights(&weights)?;
    if let Some(state) = state {
        model.set_training_state(&state)?;
    }
    Ok(model)
}

/// Saves a model to `path` (see [`model_to_bytes`]).
pub fn save_model<B: Backend>(
    model: &Sequential<B>,
    path: impl AsRef<std::path::Path>,
) -> Result<()> {
    let p = path.as_ref();
    std::fs::write(p, model_to_bytes(model)?)
        .map_err(|e| Error::Io(format!("cannot write the model to {}: {e}", p.display())))
}

/// Loads a model saved by [`save_model`] (or by the npm package's `model.save()`).
pub fn load_model(path: impl AsRef<std::path::Path>) -> Result<Sequential> {
    let p = path.as_ref();
    let bytes = std::fs::read(p)
        .map_err(|e| Error::Io(format!("cannot read the model {}: {e}", p.display())))?;
    model_from_bytes(&bytes).map_err(|e| match e {
        Error::Parse(m) => Error::Parse(format!("{}: {m}", p.display())),
        e => e,
    })
}

/// TensorFlow.js's LayersModel: `model.json` (a Keras `Sequential` topology and a weights
/// manifest naming `weights_file`) and the weights file's bytes (little-endian f32, in the
/// manifest's order). `tf.loadLayersModel` reads the pair and predicts as tunelab does.
pub fn tfjs_layers_model<B: Backend>(
    model: &Sequential<B>,
    weights_file: &str,
) -> Result<(Value, Vec<u8>)> {
    let shape = model.built_input_shape().ok_or_else(|| {
        Error::state("export: the model is not built yet (fit it, or build it with an input shape)")
    })?;
    let weights = model.get_weights()?;
    let mut layers = Vec::new();
    let mut manifest = Vec::new();
    let mut data = Vec::new();
    let mut next = weights.iter();
    let mut counts = std::collections::HashMap::<&str, usize>::new();
    let mut unique = |base: &'static str, given: &Option<String>| -> String {
        if let Some(n) = given {
            return n.clone();
        }
        let c = counts.entry(base).or_insert(0);
        *c += 1;
        if *c == 1 {
            base.to_string()
        } else {
            format!("{base}_{}", *c - 1)
        }
    };
    // TF.js's Flatten refuses a sample that is already flat: such a Flatten is left out.
    let mut rank = shape.len();
    let mut first = true;
    for layer in model.layers() {
        if matches!(layer, Layer::Flatten { .. }) && rank == 1 {
            continue;
        }
        if !matches!(layer, Layer::Normalization(_)) {
            rank = 1;
        }
        let mut extra: Option<Value> = None;
        // TF.js has no Normalization layer: it becomes a Dense layer with a diagonal kernel
        // (1 / std) and a bias (-mean / std), the same affine map.
        let mut synthesized: Vec<Tensor> = Vec::new();
        let (class, mut config, params): (&str, Value, Vec<&str>) = match layer {
            Layer::Normalization(n) => {
                let mut take = || {
                    next.next().ok_or_else(|| {
                        Error::state("export: fewer weights than the layers declare")
                    })
                };
                let (mean, var, _count) = (take()?, take()?, take()?);
                let f = match n.axis {
                    Some(_) => shape.last().copied().unwrap_or(1),
                    None => 1,
                };
                let f = if rank == 1 { shape.iter().product() } else { f };
                let (mut kernel, mut bias) = (vec![0f32; f * f], vec![0f32; f]);
                for j in 0..f {
                    let k = if mean.len() == 1 { 0 } else { j };
                    let inv = 1.0 / var.data()[k].max(0.0).sqrt().max(NORMALIZATION_EPSILON);
                    kernel[j * f + j] = inv;
                    bias[j] = -mean.data()[k] * inv;
                }
                synthesized = vec![
                    Tensor::new(vec![f, f], kernel)?,
                    Tensor::new(vec![f], bias)?,
                ];
                (
                    "Dense",
                    json!({"name": unique("normalization", &n.name), "units": f, "activation": "linear",
                           "use_bias": true, "trainable": false, "dtype": "float32",
                           "kernel_initializer": {"class_name": "Zeros", "config": {}},
                           "bias_initializer": {"class_name": "Zeros", "config": {}},
                           "kernel_regularizer": null, "bias_regularizer": null,
                           "activity_regularizer": null, "kernel_constraint": null,
                           "bias_constraint": null}),
                    vec!["kernel", "bias"],
                )
            }
            Layer::Dense(d) => {
                let name = unique("dense", &d.name);
                let params = if d.use_bias {
                    vec!["kernel", "bias"]
                } else {
                    vec!["kernel"]
                };
                let (act, after) = tfjs_activation(d.activation)?;
                extra = after;
                (
                    "Dense",
                    json!({"name": name, "units": d.units, "activation": act,
                           "use_bias": d.use_bias, "trainable": true, "dtype": "float32",
                           "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}},
                           "bias_initializer": {"class_name": "Zeros", "config": {}},
                           "kernel_regularizer": null, "bias_regularizer": null,
                           "activity_regularizer": null, "kernel_constraint": null,
                           "bias_constraint": null}),
                    params,
                )
            }
            Layer::Dropout(d) => (
                "Dropout",
                json!({"name": unique("dropout", &d.name), "rate": d.rate, "trainable": true,
                       "dtype": "float32"}),
                vec![],
            ),
            Layer::Flatten { name } => (
                "Flatten",
                json!({"name": unique("flatten", name), "trainable": true, "dtype": "float32"}),
                vec![],
            ),
            Layer::Activation { activation, name } => {
                let (act, after) = tfjs_activation(*activation)?;
                extra = after;
                (
                    "Activation",
                    json!({"name": unique("activation", name), "activation": act,
                           "trainable": true, "dtype": "float32"}),
                    vec![],
                )
            }
        };
        if std::mem::take(&mut first) {
            let mut batch_shape: Vec<Value> = vec![Value::Null];
            batch_shape.extend(shape.iter().map(|&d| json!(d)));
            config["batch_input_shape"] = Value::Array(batch_shape);
        }
        let name = config["name"].as_str().unwrap_or("layer").to_string();
        let mut own = synthesized.iter();
        for p in params {
            let w = match own.next() {
                Some(w) => w,
                None => next
                    .next()
                    .ok_or_else(|| Error::state("export: fewer weights than the layers declare"))?,
            };
            manifest.push(
                json!({"name": format!("{name}/{p}"), "shape": w.shape(), "dtype": "float32"}),
            );
            for v in w.data() {
                data.extend_from_slice(&v.to_le_bytes());
            }
        }
        layers.push(json!({"class_name": class, "config": config}));
        if let Some(mut l) = extra {
            l["config"]["name"] = json!(unique("leaky_re_lu", &None));
            layers.push(l);
        }
    }
    if next.next().is_some() {
        return Err(Error::state("export: more weights than the layers declare"));
    }
    let model_json = json!({
        "format": "layers-model",
        "generatedBy": format!("tunelab {}", env!("CARGO_PKG_VERSION")),
        "convertedBy": null,
        "modelTopology": {
            "class_name": "Sequential",
            "config": {"name": "sequential", "layers": layers},
            "keras_version": "tfjs-layers 4.22.0",
            "backend": "tensor_flow.js",
        },
        "weightsManifest": [{"paths": [weights_file], "weights": manifest}],
    });
    Ok((model_json, data))
}

/// TensorFlow.js's name for an activation, or the layer that stands for it: `leaky_relu`
/// becomes a linear activation followed by a `LeakyReLU` layer with tunelab's slope; `exponential`
/// (none in TF.js) and `hard_sigmoid` (TF.js computes Keras 2's) are refused.
fn tfjs_activation(a: Activation) -> Result<(&'static str, Option<Value>)> {
    Ok(match a {
        Activation::HardSigmoid => {
            return Err(Error::invalid(
                "activation",
                "hard_sigmoid",
                "an activation TensorFlow.js computes the same way: its hardSigmoid is Keras 2's \
                 clip(0.2x + 0.5), tunelab's is Keras 3's relu6(x + 3) / 6 (use sigmoid, or \
                 save with --save for tunelab)",
            ))
        }
        Activation::Silu => ("swish", None),
        Activation::LeakyRelu => (
            "linear",
            Some(json!({"class_name": "LeakyReLU", "config": {"alpha": crate::ops::activations::LEAKY_SLOPE, "trainable": true, "dtype": "float32"}})),
        ),
        Activation::Exponential => {
            return Err(Error::invalid(
                "activation",
                "exponential",
                "an activation TensorFlow.js has (every other tunelab activation): it has no exponential",
            ))
        }
        a => (a.name(), None),
    })
}

/// Writes [`tfjs_layers_model`] into `dir` as `model.json` and `weights.bin`.
pub fn save_tfjs<B: Backend>(
    model: &Sequential<B>,
    dir: impl AsRef<std::path::Path>,
) -> Result<()> {
    let dir = dir.as_ref();
    let (json, bin) = tfjs_layers_model(model, "weights.bin")?;
    let io = |e: std::io::Error| Error::Io(format!("cannot write to {}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(io)?;
    std::fs::write(dir.join("model.json"), serde_json::to_vec_pretty(&json)?).map_err(io)?;
    std::fs::write(dir.join("weights.bin"), bin).map_err(io)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Tensor;

    fn trained() -> Sequential {
        let spec = ModelSpec::parse(
            r#"{"layers": [{"class_name": "Dense", "config": {"units": 5, "activation": "tanh"}},
                {"class_name": "Dropout", "config": {"rate": 0.1}},
                {"class_name": "Dense", "config": {"units": 3, "activation": "softmax"}}],
                "compile": {"optimizer": "adam", "loss": "categorical_crossentropy", "metrics": ["accuracy"]}}"#,
        )
        .unwrap();
        let mut m = spec.build(1).unwrap();
        let x = Tensor::new(vec![6, 2], (0..12).map(|i| i as f32 / 12.0).collect()).unwrap();
        let y =
            crate::data::one_hot(&Tensor::vector(vec![0., 1., 2., 0., 1., 2.]), Some(3)).unwrap();
        let args = crate::nn::model::FitArgs {
            epochs: 2,
            verbose: 0,
            ..Default::default()
        };
        m.fit(&x, &y, &args, &mut []).unwrap();
        m
    }

    #[test]
    fn a_saved_model_predicts_and_trains_on_as_the_original() {
        let mut m = trained();
        let bytes = model_to_bytes(&m).unwrap();
        let mut back = model_from_bytes(&bytes).unwrap();
        let x = Tensor::new(vec![2, 2], vec![0.1, 0.9, 0.5, 0.2]).unwrap();
        assert_eq!(
            m.predict(&x, None).unwrap(),
            back.predict(&x, None).unwrap()
        );
        assert_eq!(m.get_weights().unwrap(), back.get_weights().unwrap());
        assert_eq!(m.iterations(), back.iterations());
        // A tuner checkpoint is not a model.
        let ck = checkpoint::encode(&m.get_weights().unwrap(), &json!({"value": 1})).unwrap();
        let e = model_from_bytes(&ck).err().unwrap().to_string();
        assert!(e.contains("model file"), "{e}");
        assert!(model_from_bytes(b"junk").is_err());
    }

    #[test]
    fn tfjs_export_lists_every_weight() {
        let m = trained();
        let (j, bin) = tfjs_layers_model(&m, "w.bin").unwrap();
        let w = &j["weightsManifest"][0]["weights"];
        assert_eq!(w.as_array().unwrap().len(), 4);
        assert_eq!(w[0]["name"], "dense/kernel");
        assert_eq!(w[2]["name"], "dense_1/kernel");
        assert_eq!(bin.len(), 4 * (2 * 5 + 5 + 5 * 3 + 3));
        let layers = &j["modelTopology"]["config"]["layers"];
        assert_eq!(layers[0]["config"]["batch_input_shape"], json!([null, 2]));
        assert_eq!(layers[1]["class_name"], "Dropout");
    }
}
