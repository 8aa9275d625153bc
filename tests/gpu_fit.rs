//! Whole-fit parity of the WebGPU path against the CPU reference: the same model, data and
//! seed trained on both must give the same per-epoch losses and metrics (within 1e-3
//! relative: f32 sums in another order, over many steps) for every optimizer, and the same
//! final weights. Runs natively on whatever adapter wgpu finds (Mesa's lavapipe in CI);
//! without one every test prints why and returns.

#![cfg(not(target_arch = "wasm32"))]

use tunelab::data;
use tunelab::gpu::{Device, Gpu};
use tunelab::nn::*;
use tunelab::Tensor;

mod common;
use common::gpu;

fn close(a: f32, b: f32, rel: f32) -> bool {
    if a.is_nan() && b.is_nan() {
        return true;
    }
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-3)
}

fn assert_histories(cpu: &History, gpu: &History, rel: f32, what: &str) {
    let mut keys = cpu.keys();
    keys.sort();
    let mut gk = gpu.keys();
    gk.sort();
    assert_eq!(keys, gk, "{what}: history keys");
    for k in keys {
        let (a, b) = (cpu.get(k).unwrap(), gpu.get(k).unwrap());
        assert_eq!(a.len(), b.len(), "{what}: {k} length");
        // Accuracy-like metrics count samples: one prediction that flips between float
        // roundings moves them by 1/n, so they get an absolute allowance of 0.5%.
        let counted = k.contains("accuracy") || k.contains("precision") || k.contains("recall");
        for (e, (x, y)) in a.iter().zip(b).enumerate() {
            let ok = if counted {
                (x - y).abs() <= 0.005
            } else {
                close(*x, *y, rel)
            };
            assert!(
                ok,
                "{what}: {k} epoch {e}: cpu {x} vs gpu {y}\ncpu {a:?}\ngpu {b:?}"
            );
        }
    }
}

/// Final weights agree in relative L2 norm per tensor (1%): adaptive optimizers turn float
/// noise in a near-zero gradient into a full-size step for that one weight (Adam's update is
/// scale-free), so single elements may move apart while the tensor as a whole agrees.
fn assert_weights(c: &Sequential, g: &Sequential, what: &str) {
    for (i, (a, b)) in c
        .get_weights()
        .unwrap()
        .iter()
        .zip(g.get_weights().unwrap())
        .enumerate()
    {
        let diff: f32 = a
            .data()
            .iter()
            .zip(b.data())
            .map(|(p, q)| (p - q) * (p - q))
            .sum::<f32>()
            .sqrt();
        let norm: f32 = a.data().iter().map(|p| p * p).sum::<f32>().sqrt().max(1e-6);
        assert!(
            diff / norm < 1e-2,
            "{what}: weights[{i}] differ by {} of their norm",
            diff / norm
        );
    }
}

fn model(opt: Optimizer, loss: &str, layers: Vec<Layer>, metrics: &[&str]) -> Sequential {
    let mut m = Sequential::new().seed(11);
    for l in layers {
        m.add(l);
    }
    m.compile(opt, Loss::from_name(loss).unwrap(), metrics)
        .unwrap();
    m
}

fn digits() -> (Tensor, Tensor) {
    let ds = data::builtin("digits", 0.0, 0).unwrap();
    let y = data::one_hot(&ds.y, Some(10)).unwrap();
    (ds.x.slice_rows(0, 600), y.slice_rows(0, 600))
}

fn both(
    mk: &dyn Fn() -> Sequential,
    x: &Tensor,
    y: &Tensor,
    args: &FitArgs,
) -> (History, History, Sequential, Sequential) {
    let mut c = mk();
    let hc = c.fit(x, y, args, &mut []).unwrap();
    let mut g = mk();
    g.set_device(Device::Webgpu);
    let hg = g.fit(x, y, args, &mut []).unwrap();
    assert!(g.device().starts_with("webgpu"), "{}", g.device());
    (hc, hg, c, g)
}

#[test]
fn every_optimizer_matches_the_cpu_fit() {
    if gpu().is_none() {
        return;
    }
    let (x, y) = digits();
    let args = FitArgs {
        epochs: 3,
        batch_size: Some(50),
        verbose: 0,
        validation_split: 0.2,
        ..Default::default()
    };
    for name in [
        "sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "adamax", "nadam",
    ] {
        let mk = || {
            model(
                Optimizer::from_name(name).unwrap().learning_rate(0.01),
                "categorical_crossentropy",
                vec![
                    Dense::new(33).activation(Activation::Relu).into(),
                    Dense::new(10).activation(Activation::Softmax).into(),
                ],
                &["accuracy"],
            )
        };
        let (hc, hg, c, g) = both(&mk, &x, &y, &args);
        assert_histories(&hc, &hg, 2e-3, name);
        assert_weights(&c, &g, name);
    }
}

fn xor() -> (Tensor, Tensor) {
    let ds = data::builtin("xor", 0.1, 3).unwrap();
    (ds.x.slice_rows(0, 200), ds.y.slice_rows(0, 200))
}

fn regression() -> (Tensor, Tensor) {
    let ds = data::builtin("reg-plane", 0.1, 5).unwrap();
    (ds.x.slice_rows(0, 200), ds.y.slice_rows(0, 200))
}

fn quick(epochs: usize, bs: usize) -> FitArgs {
    FitArgs {
        epochs,
        batch_size: Some(bs),
        verbose: 0,
        ..Default::default()
    }
}

#[test]
fn optimizer_options_match() {
    if gpu().is_none() {
        return;
    }
    let (x, y) = xor();
    let mut opts: Vec<(&str, Optimizer)> = Vec::new();
    let mut o = Optimizer::from_name("sgd").unwrap();
    o.momentum = 0.9;
    opts.push(("sgd momentum", o.clone()));
    o.nesterov = true;
    opts.push(("sgd nesterov", o));
    let mut o = Optimizer::from_name("adam").unwrap();
    o.amsgrad = true;
    opts.push(("adam amsgrad", o));
    let mut o = Optimizer::from_name("rmsprop").unwrap();
    o.centered = true;
    o.momentum = 0.5;
    opts.push(("rmsprop centered momentum", o));
    let mut o = Optimizer::from_name("adam").unwrap();
    o.clipnorm = Some(0.05);
    opts.push(("adam clipnorm", o));
    let mut o = Optimizer::from_name("sgd").unwrap();
    o.global_clipnorm = Some(0.1);
    opts.push(("sgd global_clipnorm", o));
    let mut o = Optimizer::from_name("rmsprop").unwrap();
    o.clipvalue = Some(0.01);
    opts.push(("rmsprop clipvalue", o));
    let mut o = Optimizer::from_name("sgd").unwrap();
    o.weight_decay = Some(0.05);
    opts.push(("sgd weight_decay", o));
    for (name, opt) in opts {
        let mk = || {
            model(
                opt.clone().learning_rate(0.02),
                "binary_crossentropy",
                vec![
                    Dense::new(9).activation(Activation::Tanh).into(),
                    Dense::new(5).activation(Activation::Relu).into(),
                    Dense::new(1).activation(Activation::Sigmoid).into(),
                ],
                &["accuracy"],
            )
        };
        let (hc, hg, c, g) = both(&mk, &x, &y, &quick(4, 16));
        assert_histories(&hc, &hg, 2e-3, name);
        assert_weights(&c, &g, name);
    }
}

#[test]
fn every_loss_matches() {
    if gpu().is_none() {
        return;
    }
    let (xc, yc) = xor();
    let (xr, yr) = regression();
    let y01 = Tensor::new(
        yc.shape().to_vec(),
        yc.data()
            .iter()
            .map(|v| if *v > 0.5 { 1.0 } else { 0.0 })
            .collect(),
    )
    .unwrap();
    let y2 = data::one_hot(&y01, Some(2)).unwrap();
    let cases: Vec<(&str, Loss, Activation, usize, &Tensor, &Tensor)> = vec![
        (
            "mse",
            Loss::from_name("mse").unwrap(),
            Activation::Linear,
            1,
            &xr,
            &yr,
        ),
        (
            "mae",
            Loss::from_name("mae").unwrap(),
            Activation::Linear,
            1,
            &xr,
            &yr,
        ),
        (
            "mape",
            Loss::from_name("mape").unwrap(),
            Activation::Linear,
            1,
            &xr,
            &yr,
        ),
        (
            "msle",
            Loss::from_name("msle").unwrap(),
            Activation::Softplus,
            1,
            &xr,
            &yr,
        ),
        (
            "huber",
            Loss::from_name("huber").unwrap(),
            Activation::Linear,
            1,
            &xr,
            &yr,
        ),
        (
            "log_cosh",
            Loss::from_name("log_cosh").unwrap(),
            Activation::Linear,
            1,
            &xr,
            &yr,
        ),
        (
            "bce",
            Loss::from_name("bce").unwrap(),
            Activation::Sigmoid,
            1,
            &xc,
            &y01,
        ),
        (
            "bce logits smoothing",
            Loss::from_name("bce")
                .unwrap()
                .from_logits(true)
                .label_smoothing(0.1),
            Activation::Linear,
            1,
            &xc,
            &y01,
        ),
        (
            "cce",
            Loss::from_name("cce").unwrap(),
            Activation::Softmax,
            2,
            &xc,
            &y2,
        ),
        (
            "cce logits smoothing",
            Loss::from_name("cce")
                .unwrap()
                .from_logits(true)
                .label_smoothing(0.2),
            Activation::Linear,
            2,
            &xc,
            &y2,
        ),
        (
            "scce",
            Loss::from_name("scce").unwrap(),
            Activation::Softmax,
            2,
            &xc,
            &y01,
        ),
        (
            "scce logits",
            Loss::from_name("scce").unwrap().from_logits(true),
            Activation::Linear,
            2,
            &xc,
            &y01,
        ),
        (
            "hinge",
            Loss::from_name("hinge").unwrap(),
            Activation::Tanh,
            1,
            &xc,
            &y01,
        ),
        (
            "kld",
            Loss::from_name("kld").unwrap(),
            Activation::Softmax,
            2,
            &xc,
            &y2,
        ),
    ];
    for (name, loss, act, units, x, y) in cases {
        let mk = || {
            let mut m = Sequential::new().seed(3);
            m.add(Dense::new(7).activation(Activation::Relu));
            m.add(Dense::new(units).activation(act));
            m.compile_full(
                Optimizer::from_name("adam").unwrap().learning_rate(0.01),
                loss.clone(),
                if loss.kind == tunelab::ops::losses::LossKind::SparseCategoricalCrossentropy {
                    &["accuracy"]
                } else {
                    &["mae"]
                },
                &[],
                Vec::new(),
            )
            .unwrap();
            m
        };
        let (hc, hg, c, g) = both(&mk, x, y, &quick(3, 20));
        assert_histories(&hc, &hg, 2e-3, name);
        assert_weights(&c, &g, name);
    }
}

#[test]
fn every_activation_matches() {
    if gpu().is_none() {
        return;
    }
    let (x, y) = xor();
    for &act in tunelab::ops::activations::ACTIVATION_NAMES {
        let a = Activation::parse(act).unwrap();
        let mk = || {
            model(
                Optimizer::from_name("sgd").unwrap().learning_rate(0.05),
                "binary_crossentropy",
                vec![
                    Dense::new(6).activation(a).into(),
                    // exp(exp(x)) overflows: one exponential layer is enough to test it
                    Dense::new(4)
                        .activation(if act == "exponential" {
                            Activation::Tanh
                        } else {
                            a
                        })
                        .into(),
                    Dense::new(1).activation(Activation::Sigmoid).into(),
                ],
                &["accuracy"],
            )
        };
        let (hc, hg, c, g) = both(&mk, &x, &y, &quick(3, 25));
        assert_histories(&hc, &hg, 2e-3, act);
        assert_weights(&c, &g, act);
    }
}

#[test]
fn dropout_regularizers_weights_and_shapes_match() {
    if gpu().is_none() {
        return;
    }
    let (x, y) = xor();
    let sw: Vec<f32> = (0..x.rows()).map(|i| 0.5 + (i % 3) as f32 * 0.5).collect();
    let mut cw = std::collections::HashMap::new();
    cw.insert(1usize, 2.0f32);
    let cases: Vec<(&str, Vec<Layer>, FitArgs)> = vec![
        (
            "dropout everywhere",
            vec![
                Dropout::new(0.1).into(),
                Dense::new(40).activation(Activation::Relu).into(),
                Dropout::new(0.3).into(),
                Dense::new(20).activation(Activation::Tanh).into(),
                Dropout::new(0.2).seed(9).into(),
                Dense::new(1).activation(Activation::Sigmoid).into(),
            ],
            quick(3, 32),
        ),
        (
            "regularizers",
            vec![
                Dense::new(12)
                    .activation(Activation::Relu)
                    .kernel_regularizer(Regularizer::l1_l2(0.01, 0.02))
                    .bias_regularizer(Regularizer::l2(0.1))
                    .into(),
                Dense::new(1)
                    .activation(Activation::Sigmoid)
                    .kernel_regularizer(Regularizer::l1(0.01))
                    .into(),
            ],
            FitArgs {
                validation_split: 0.25,
                ..quick(3, 32)
            },
        ),
        (
            "sample and class weights, no bias, activation layer",
            vec![
                Dense::new(12).use_bias(false).into(),
                Layer::Activation {
                    activation: Activation::Elu,
                    name: None,
                },
                Dense::new(1).activation(Activation::Sigmoid).into(),
            ],
            FitArgs {
                sample_weight: Some(sw.clone()),
                class_weight: Some(cw.clone()),
                ..quick(3, 32)
            },
        ),
        (
            "one-row batches, wide and narrow layers",
            vec![
                Dense::new(300).activation(Activation::Relu).into(),
                Dense::new(1).activation(Activation::Relu).into(),
                Dense::new(37).activation(Activation::Tanh).into(),
                Dense::new(1).activation(Activation::Sigmoid).into(),
            ],
            FitArgs {
                epochs: 1,
                batch_size: Some(1),
                verbose: 0,
                ..Default::default()
            },
        ),
        (
            "steps_per_epoch across epochs, no shuffle, validation batches",
            vec![
                Dense::new(70).activation(Activation::Gelu).into(),
                Dense::new(1).activation(Activation::Sigmoid).into(),
            ],
            FitArgs {
                steps_per_epoch: Some(7),
                shuffle: false,
                validation_split: 0.3,
                validation_batch_size: Some(17),
                ..quick(3, 33)
            },
        ),
    ];
    for (name, layers, args) in cases {
        let mk = || {
            model(
                Optimizer::from_name("adam").unwrap().learning_rate(0.01),
                "binary_crossentropy",
                layers.clone(),
                &["accuracy", "mse"],
            )
        };
        let (hc, hg, c, g) = both(&mk, &x, &y, &args);
        assert_histories(&hc, &hg, 2e-3, name);
        assert_weights(&c, &g, name);
        assert_eq!(c.iterations(), g.iterations(), "{name}");
    }
}

#[test]
fn callbacks_see_the_same_epochs() {
    if gpu().is_none() {
        return;
    }
    let (x, y) = xor();
    let args = FitArgs {
        validation_split: 0.3,
        ..quick(25, 16)
    };
    let run = |dev: Device| {
        let mut m = model(
            Optimizer::from_name("adam").unwrap().learning_rate(0.05),
            "binary_crossentropy",
            vec![
                Dense::new(8).activation(Activation::Tanh).into(),
                Dense::new(1).activation(Activation::Sigmoid).into(),
            ],
            &["accuracy"],
        );
        m.set_device(dev);
        let mut es = EarlyStopping::new("val_loss")
            .patience(2)
            .restore_best_weights(true);
        let mut lr = ReduceLROnPlateau::new("val_loss")
            .unwrap()
            .patience(1)
            .factor(0.5)
            .unwrap();
        let h = m.fit(&x, &y, &args, &mut [&mut es, &mut lr]).unwrap();
        let lr_now = m.optimizer().unwrap().learning_rate;
        (
            h,
            m.get_weights().unwrap(),
            m.iterations(),
            lr_now,
            m.evaluate(&x, &y, None, None, false).unwrap().loss(),
        )
    };
    let (hc, wc, ic, _, lc) = run(Device::Cpu);
    let (hg, wg, ig, _, lg) = run(Device::Webgpu);
    assert_histories(&hc, &hg, 2e-3, "early stopping");
    assert_eq!(ic, ig);
    assert!(close(lc, lg, 2e-3), "{lc} vs {lg}");
    for (a, b) in wc.iter().zip(&wg) {
        for (p, q) in a.data().iter().zip(b.data()) {
            assert!((p - q).abs() < 5e-3, "{p} vs {q}");
        }
    }
}

#[test]
fn a_group_trains_each_model_as_if_alone() {
    if gpu().is_none() {
        return;
    }
    let (x, y) = xor();
    let specs: Vec<(Vec<Layer>, Optimizer)> = vec![
        (
            vec![
                Dense::new(8).activation(Activation::Relu).into(),
                Dense::new(1).activation(Activation::Sigmoid).into(),
            ],
            Optimizer::from_name("adam").unwrap().learning_rate(0.01),
        ),
        (
            vec![
                Dense::new(33).activation(Activation::Tanh).into(),
                Dropout::new(0.2).into(),
                Dense::new(5).activation(Activation::Elu).into(),
                Dense::new(1).activation(Activation::Sigmoid).into(),
            ],
            Optimizer::from_name("sgd").unwrap().learning_rate(0.1),
        ),
        (
            vec![
                Dense::new(3).activation(Activation::Sigmoid).into(),
                Dense::new(1).activation(Activation::Sigmoid).into(),
            ],
            Optimizer::from_name("rmsprop")
                .unwrap()
                .learning_rate(0.003),
        ),
        (
            vec![
                Dense::new(64)
                    .activation(Activation::Relu)
                    .kernel_regularizer(Regularizer::l2(0.01))
                    .into(),
                Dense::new(64).activation(Activation::Relu).into(),
                Dense::new(1).activation(Activation::Sigmoid).into(),
            ],
            Optimizer::from_name("nadam").unwrap().learning_rate(0.002),
        ),
    ];
    let mk = |i: usize| {
        let mut m = Sequential::new().seed(100 + i as u64);
        for l in &specs[i].0 {
            m.add(l.clone());
        }
        m.compile(
            specs[i].1.clone(),
            Loss::from_name("bce").unwrap(),
            &["accuracy"],
        )
        .unwrap();
        m.set_device(Device::Webgpu);
        m
    };
    let args = FitArgs {
        validation_split: 0.2,
        ..quick(4, 20)
    };
    let mut alone = Vec::new();
    for i in 0..specs.len() {
        let mut m = mk(i);
        let h = m.fit(&x, &y, &args, &mut []).unwrap();
        let mut c = mk(i);
        c.set_device(Device::Cpu);
        let hc = c.fit(&x, &y, &args, &mut []).unwrap();
        assert_histories(&hc, &h, 2e-3, &format!("model {i} alone vs cpu"));
        alone.push((h, m));
    }
    let mut models: Vec<Sequential> = (0..specs.len()).map(mk).collect();
    let mut refs: Vec<&mut Sequential> = models.iter_mut().collect();
    let mut no_callbacks: Vec<&mut [&mut dyn Callback]> =
        (0..specs.len()).map(|_| &mut [][..]).collect();
    let hs = Sequential::fit_group(&mut refs, &x, &y, &args, &mut no_callbacks).unwrap();
    for (i, (h, (ha, ma))) in hs.iter().zip(&alone).enumerate() {
        assert_histories(ha, h, 1e-5, &format!("model {i} in a group vs alone"));
        assert_weights(ma, &models[i], &format!("model {i} in a group vs alone"));
    }
}

#[test]
fn device_choice_is_explained() {
    let Some(g) = gpu() else { return };
    let (x, y) = xor();
    // Two Dropout layers in a row: the GPU path runs one Dropout after each Dense layer.
    let layers = || -> Vec<Layer> {
        vec![
            Dense::new(4).activation(Activation::Relu).into(),
            Dropout::new(0.1).into(),
            Dropout::new(0.1).into(),
            Dense::new(1).activation(Activation::Sigmoid).into(),
        ]
    };
    let mut m = model(Optimizer::from_name("sgd").unwrap(), "bce", layers(), &[]);
    m.set_device(Device::Webgpu);
    let err = m
        .fit(&x, &y, &quick(1, 32), &mut [])
        .unwrap_err()
        .to_string();
    assert!(err.contains("device") && err.contains("Dropout"), "{err}");
    let mut m = model(Optimizer::from_name("sgd").unwrap(), "bce", layers(), &[]);
    m.set_device(Device::Auto);
    m.fit(&x, &y, &quick(1, 32), &mut []).unwrap();
    assert_eq!(m.device(), "cpu");
    let note = m.device_note().unwrap();
    if !tunelab::gpu::hardware_possible() {
        assert!(note.contains("no GPU device"), "{note}");
    } else if g.is_software() {
        assert!(note.contains("software"), "{note}");
    } else {
        assert!(note.contains("Dropout"), "{note}");
    }
    assert!(Device::parse("tpu")
        .unwrap_err()
        .to_string()
        .contains("cpu, webgpu, auto"));
}

#[test]
fn a_lost_device_is_an_error_not_a_panic() {
    // A private GPU, so the simulated loss does not reach other tests.
    let Some(g) = common::adapter_or_skip(Gpu::new(), common::required()) else {
        return;
    };
    let (x, y) = xor();
    let mut net = tunelab::gpu::group::Net {
        in_w: 2,
        target_cols: 1,
        input_dropout: None,
        dense: vec![],
        loss: Loss::from_name("bce").unwrap(),
        optimizer: Optimizer::from_name("sgd").unwrap(),
    };
    net.dense.push(tunelab::gpu::group::DenseSpec {
        units: 1,
        act: Activation::Sigmoid,
        bias: true,
        kernel_reg: None,
        bias_reg: None,
        dropout: None,
    });
    let sizes = tunelab::gpu::group::Sizes {
        max_rows: 8,
        train_rows: 8,
        val_rows: 0,
        steps: 1,
    };
    let dl = tunelab::gpu::group::DataLayout {
        y: x.len(),
        ..Default::default()
    };
    let group =
        tunelab::gpu::group::Group::new(&g, vec![net], &[x.data(), y.data()], dl, sizes, 0, 2)
            .unwrap();
    g.simulate_loss();
    let err = group.run(&[]).unwrap_err();
    assert!(matches!(err, tunelab::Error::Device(_)), "{err}");
    assert!(err.to_string().contains("lost"), "{err}");
}

#[test]
fn evaluate_and_predict_run_on_the_gpu_and_match() {
    if gpu().is_none() {
        return;
    }
    let (x, y) = digits();
    let mk = || {
        model(
            Optimizer::from_name("adam").unwrap(),
            "categorical_crossentropy",
            vec![
                Dense::new(20)
                    .activation(Activation::Relu)
                    .kernel_regularizer(Regularizer::l2(0.01))
                    .into(),
                Dropout::new(0.5).into(),
                Dense::new(10).activation(Activation::Softmax).into(),
            ],
            &["accuracy", "mse"],
        )
    };
    let mut c = mk();
    c.fit(&x, &y, &quick(2, 64), &mut []).unwrap();
    let mut g = mk();
    g.set_device(Device::Webgpu);
    g.build(&[64]).unwrap();
    g.set_weights(&c.get_weights().unwrap()).unwrap();
    for bs in [None, Some(7), Some(1000)] {
        let pc = c.predict(&x, bs).unwrap();
        let pg = g.predict(&x, bs).unwrap();
        assert_eq!(pc.shape(), pg.shape());
        for (a, b) in pc.data().iter().zip(pg.data()) {
            assert!((a - b).abs() < 1e-5, "predict {bs:?}: {a} vs {b}");
        }
        let ec = c.evaluate(&x, &y, bs, None, true).unwrap();
        let eg = g.evaluate(&x, &y, bs, None, true).unwrap();
        let (Evaluation::Dict(lc), Evaluation::Dict(lg)) = (ec, eg) else {
            panic!("dicts")
        };
        for (k, v) in lc.iter() {
            let w = lg.get(k).unwrap();
            assert!(close(v, w, 1e-4), "evaluate {bs:?} {k}: {v} vs {w}");
        }
    }
    assert!(g.device().starts_with("webgpu"));
}

/// A Normalization layer on the GPU: the input arrives standardized, so a normalized model
/// trains as on the CPU; a group that mixes normalized and plain models (two inputs) trains each
/// as it trains alone.
#[test]
fn normalization_on_the_gpu_and_in_mixed_groups() {
    let Some(_g) = gpu() else { return };
    let (x, y) = regression();
    // Columns of very different scales.
    let mut x = x;
    for (i, v) in x.data_mut().iter_mut().enumerate() {
        if i % 2 == 0 {
            *v = *v * 300.0 + 1000.0;
        }
    }
    let mk = |normalize: bool| {
        let mut layers: Vec<Layer> = Vec::new();
        if normalize {
            layers.push(Normalization::new().into());
        }
        layers.push(Dense::new(8).activation(Activation::Tanh).into());
        layers.push(Dense::new(1).into());
        model(
            Optimizer::from_name("adam").unwrap(),
            "mse",
            layers,
            &["mae"],
        )
    };
    let args = FitArgs {
        validation_split: 0.2,
        ..quick(3, 16)
    };
    let (hc, hg, c, g) = both(&|| mk(true), &x, &y, &args);
    assert_histories(&hc, &hg, 2e-3, "normalized model, cpu vs gpu");
    assert_weights(&c, &g, "normalized model, cpu vs gpu");
    let mut alone = Vec::new();
    for normalize in [true, false] {
        let mut m = mk(normalize);
        m.set_device(Device::Webgpu);
        alone.push(m.fit(&x, &y, &args, &mut []).unwrap());
    }
    let mut models = vec![mk(true), mk(false)];
    for m in &mut models {
        m.set_device(Device::Webgpu);
    }
    let mut refs: Vec<&mut Sequential> = models.iter_mut().collect();
    let mut no_callbacks: Vec<&mut [&mut dyn Callback]> = vec![&mut [][..], &mut [][..]];
    let hs = Sequential::fit_group(&mut refs, &x, &y, &args, &mut no_callbacks).unwrap();
    for (i, (h, ha)) in hs.iter().zip(&alone).enumerate() {
        assert_histories(ha, h, 1e-5, &format!("model {i} in a mixed group vs alone"));
    }
    assert!(models[0].normalization().unwrap().1.is_adapted());
}
