//! The Keras training surface used as a library: fit options, callbacks, evaluate / predict /
//! on-batch methods, user-defined metrics, and the errors bad input must produce.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use tunelab::data;
use tunelab::nn::metrics::MeanMetricWrapper;
use tunelab::nn::*;
use tunelab::{Error, Tensor};

fn xor_data() -> (Tensor, Tensor) {
    let ds = data::builtin("xor", 0.0, 1).unwrap();
    (ds.x, ds.y)
}

fn classifier(lr: f32) -> Sequential {
    let mut m = Sequential::new().seed(7);
    m.add(Dense::new(8).activation(Activation::Tanh));
    m.add(Dense::new(1).activation(Activation::Sigmoid));
    m.compile(
        Optimizer::from_name("adam").unwrap().learning_rate(lr),
        Loss::from_name("binary_crossentropy").unwrap(),
        &["accuracy"],
    )
    .unwrap();
    m
}

fn quiet(epochs: usize) -> FitArgs {
    FitArgs {
        epochs,
        verbose: 0,
        ..Default::default()
    }
}

#[test]
fn fit_learns_xor_and_history_has_keras_keys() {
    let (x, y) = xor_data();
    let mut m = classifier(0.05);
    let args = FitArgs {
        validation_split: 0.2,
        ..quiet(30)
    };
    let h = m.fit(&x, &y, &args, &mut []).unwrap();
    let mut keys = h.keys();
    keys.sort();
    assert_eq!(keys, ["accuracy", "loss", "val_accuracy", "val_loss"]);
    assert_eq!(h.epoch, (0..30).collect::<Vec<_>>());
    let acc = h.get("val_accuracy").unwrap();
    assert!(acc[29] > 0.9, "{acc:?}");
    // 500 samples, 20% held out, batch 32 -> 13 steps per epoch
    assert_eq!(m.iterations(), 30 * 13);
}

#[test]
fn seeds_make_runs_repeatable() {
    let (x, y) = xor_data();
    let run = |seed| {
        let mut m = classifier(0.05).seed(seed);
        m.fit(&x, &y, &quiet(3), &mut []).unwrap();
        m.get_weights().unwrap()
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2));
}

#[test]
fn validation_freq_initial_epoch_and_steps_per_epoch() {
    let (x, y) = xor_data();
    let mut m = classifier(0.01);
    let args = FitArgs {
        epochs: 6,
        initial_epoch: 2,
        validation_split: 0.2,
        validation_freq: 2,
        steps_per_epoch: Some(5),
        verbose: 0,
        ..Default::default()
    };
    let h = m.fit(&x, &y, &args, &mut []).unwrap();
    assert_eq!(h.epoch, vec![2, 3, 4, 5]);
    assert_eq!(h.get("loss").unwrap().len(), 4);
    // validation on 1-based epochs divisible by 2: epochs 4 and 6
    assert_eq!(h.get("val_loss").unwrap().len(), 2);
    assert_eq!(m.iterations(), 4 * 5);
}

#[test]
fn early_stopping_stops_and_restores_best_weights() {
    let (x, y) = xor_data();
    let mut m = classifier(0.5); // a learning rate that makes val_loss bounce
    let mut es = EarlyStopping::new("val_loss")
        .patience(2)
        .restore_best_weights(true);
    let mut best = BestWeights::new("val_loss", Mode::Min);
    let h = m
        .fit(
            &x,
            &y,
            &FitArgs {
                validation_split: 0.3,
                ..quiet(200)
            },
            &mut [&mut es, &mut best],
        )
        .unwrap();
    let val = h.get("val_loss").unwrap();
    assert!(val.len() < 200, "stopped early");
    assert_eq!(es.stopped_epoch, val.len() - 1);
    let best_i = val
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .unwrap()
        .0;
    assert_eq!(es.best_epoch, best_i);
    assert!(
        val.len() - 1 - best_i >= 2,
        "patience 2 after the best epoch"
    );
    let (be, bv, bw) = best.best().unwrap();
    assert_eq!(be, best_i);
    assert_eq!(bv, val[best_i]);
    // restore_best_weights put the best epoch's weights back
    assert_eq!(m.get_weights().unwrap(), bw.to_vec());
}

#[test]
fn reduce_lr_on_plateau_and_terminate_on_nan() {
    let (x, y) = xor_data();
    let mut m = classifier(0.01);
    let mut r = ReduceLROnPlateau::new("loss")
        .unwrap()
        .factor(0.5)
        .unwrap()
        .patience(0);
    // With min_delta 10 no epoch after the first counts as an improvement, and with patience 0
    // each of them halves the rate. Keras logs the rate the epoch ran with, before reducing it.
    r.min_delta = 10.0;
    let h = m.fit(&x, &y, &quiet(4), &mut [&mut r]).unwrap();
    let lrs = h.get("learning_rate").unwrap();
    assert_eq!(lrs, &[0.01, 0.01, 0.005, 0.0025]);
    assert_eq!(ModelAccess::learning_rate(&m), 0.00125);

    // A learning rate this large makes the loss overflow quickly.
    let mut m = Sequential::new().seed(1);
    m.add(Dense::new(4).activation(Activation::Exponential));
    m.add(Dense::new(1));
    m.compile(
        Optimizer::from_name("sgd").unwrap().learning_rate(1e6),
        Loss::from_name("mse").unwrap(),
        &[],
    )
    .unwrap();
    let mut t = TerminateOnNaN::default();
    let h = m.fit(&x, &y, &quiet(50), &mut [&mut t]).unwrap();
    assert!(t.terminated_at.is_some());
    assert!(h.epoch.len() < 50);
}

#[test]
fn lambda_callback_sees_every_epoch_and_batch() {
    let (x, y) = xor_data();
    let mut m = classifier(0.01);
    let epochs = Rc::new(RefCell::new(Vec::new()));
    let batches = Rc::new(RefCell::new(0usize));
    let (e2, b2) = (epochs.clone(), batches.clone());
    let mut cb = LambdaCallback {
        on_epoch_end: Some(Box::new(move |e, logs| {
            e2.borrow_mut().push((e, logs.get("loss").unwrap()))
        })),
        on_batch_end: Some(Box::new(move |_, _| *b2.borrow_mut() += 1)),
        ..Default::default()
    };
    let h = m
        .fit(
            &x,
            &y,
            &FitArgs {
                batch_size: Some(100),
                ..quiet(3)
            },
            &mut [&mut cb],
        )
        .unwrap();
    assert_eq!(*batches.borrow(), 15);
    let seen = epochs.borrow();
    assert_eq!(seen.iter().map(|p| p.0).collect::<Vec<_>>(), vec![0, 1, 2]);
    assert_eq!(
        seen.iter().map(|p| p.1).collect::<Vec<_>>(),
        h.get("loss").unwrap()
    );
}

#[test]
fn evaluate_predict_and_on_batch_methods() {
    let (x, y) = xor_data();
    let mut m = classifier(0.05);
    m.fit(&x, &y, &quiet(5), &mut []).unwrap();
    let p = m.predict(&x, Some(64)).unwrap();
    assert_eq!(p.shape(), &[500, 1]);
    assert!(p.data().iter().all(|v| (0.0..=1.0).contains(v)));
    let pb = m.predict_on_batch(&x.slice_rows(0, 10)).unwrap();
    assert_eq!(pb.data(), &p.data()[..10]);

    let Evaluation::List(v) = m.evaluate(&x, &y, None, None, false).unwrap() else {
        panic!("loss + 1 metric is a list")
    };
    let Evaluation::Dict(d) = m.evaluate(&x, &y, Some(7), None, true).unwrap() else {
        panic!("return_dict gives a dict")
    };
    assert_eq!(d.keys(), ["loss", "accuracy"]);
    assert!(
        (v[0] - d.get("loss").unwrap()).abs() < 1e-5,
        "batch size does not change the mean"
    );
    // accuracy from predictions by hand
    let hits = p
        .data()
        .iter()
        .zip(y.data())
        .filter(|(p, t)| ((**p > 0.5) as u8 as f32) == **t)
        .count();
    assert!((d.get("accuracy").unwrap() - hits as f32 / 500.0).abs() < 1e-6);

    let before = m.get_weights().unwrap();
    let t = m
        .test_on_batch(&x.slice_rows(0, 32), &y.slice_rows(0, 32), None, false)
        .unwrap();
    assert_eq!(
        m.get_weights().unwrap(),
        before,
        "test_on_batch does not train"
    );
    let r = m
        .train_on_batch(
            &x.slice_rows(0, 32),
            &y.slice_rows(0, 32),
            None,
            None,
            false,
        )
        .unwrap();
    assert!(
        (r.loss() - t.loss()).abs() < 1e-5,
        "train_on_batch reports the loss before its step"
    );
    assert_ne!(m.get_weights().unwrap(), before);

    let mut plain = Sequential::new();
    plain.add(Dense::new(1));
    plain
        .compile(
            Optimizer::from_name("sgd").unwrap(),
            Loss::from_name("mse").unwrap(),
            &[],
        )
        .unwrap();
    assert!(matches!(
        plain.evaluate(&x, &y, None, None, false).unwrap(),
        Evaluation::Scalar(_)
    ));
}

#[test]
fn user_defined_metric_and_weighted_metrics() {
    let (x, y) = xor_data();
    let mut m = Sequential::new().seed(3);
    m.add(Dense::new(1).activation(Activation::Sigmoid));
    let above = MeanMetricWrapper::new("mean_prediction", |_t: &[f32], p: &[f32]| p[0]);
    m.compile_full(
        Optimizer::from_name("sgd").unwrap(),
        Loss::from_name("binary_crossentropy").unwrap(),
        &["accuracy"],
        &["accuracy"],
        vec![Box::new(above)],
    )
    .unwrap();
    let mut cw = HashMap::new();
    cw.insert(1usize, 3.0f32);
    let h = m
        .fit(
            &x,
            &y,
            &FitArgs {
                class_weight: Some(cw),
                shuffle: false,
                ..quiet(1)
            },
            &mut [],
        )
        .unwrap();
    let mut keys = h.keys();
    keys.sort();
    assert_eq!(
        keys,
        ["accuracy", "loss", "mean_prediction", "weighted_accuracy"]
    );
    let mp = h.get("mean_prediction").unwrap()[0];
    assert!(mp > 0.0 && mp < 1.0);
}

#[test]
fn keras_history_from_set_weights_and_get_weights_order() {
    let mut m = Sequential::new();
    m.add(Dense::new(3));
    m.add(Dense::new(2).use_bias(false));
    m.build(&[4]).unwrap();
    let w = m.get_weights().unwrap();
    let shapes: Vec<&[usize]> = w.iter().map(|t| t.shape()).collect();
    assert_eq!(shapes, vec![&[4, 3][..], &[3][..], &[3, 2][..]]);
    let e = m.set_weights(&w[..2]).unwrap_err().to_string();
    assert!(e.contains("exactly 3 arrays"), "{e}");
    let mut bad = w.clone();
    bad[2] = Tensor::zeros(&[2, 3]);
    let e = m.set_weights(&bad).unwrap_err().to_string();
    assert!(e.contains("weights[2]: expected (3, 2), got (2, 3)"), "{e}");
}

fn err(r: Result<impl std::fmt::Debug, Error>) -> String {
    r.unwrap_err().to_string()
}

#[test]
fn bad_input_gives_errors_that_name_the_problem() {
    // unknown names list the valid ones
    assert!(
        err(Activation::parse("rleu")).contains("valid activation names are: linear, relu, tanh")
    );
    assert!(err(Loss::from_name("cross")).contains("valid loss names are: mean_squared_error, mse"));
    assert!(err(Optimizer::from_name("adan")).contains("valid optimizer names are: sgd, adam"));
    assert!(
        err(get_metric("acuracy", &[1, 1], &[1, 1]).map(|m| m.name().to_string()))
            .contains("unknown metric `acuracy`")
    );
    assert!(err(tunelab::spec::ModelSpec::parse(
        r#"{"layers": [{"class_name": "Conv2D"}]}"#
    ))
    .contains(
        "unknown layer `Conv2D`; valid layer names are: Dense, Dropout, Flatten, Activation"
    ));
    let mut m = classifier(0.01);
    assert!(err(m.compile(
        Optimizer::from_name("adam").unwrap(),
        Loss::from_name("mse").unwrap(),
        &["accurcy"]
    ))
    .contains("unknown metric `accurcy`"));
    let mut m = classifier(0.01);

    let (x, y) = xor_data();
    // shape mismatches say both shapes
    let y3 = Tensor::zeros(&[500, 3]);
    let e = err(m.fit(&x, &y3, &quiet(1), &mut []));
    assert!(e.contains("expected (500, 1), got (500, 3)"), "{e}");
    let e = err(m.fit(&x, &y.slice_rows(0, 10), &quiet(1), &mut []));
    assert!(e.contains("x has 500 samples but y has 10"), "{e}");
    let e = err(m.predict(&Tensor::zeros(&[4, 3]), None));
    assert!(e.contains("expected (2,), got (3,)"), "{e}");
    // empty data
    let e = err(m.fit(
        &Tensor::zeros(&[0, 2]),
        &Tensor::zeros(&[0, 1]),
        &quiet(1),
        &mut [],
    ));
    assert!(e.contains("empty"), "{e}");
    // NaN and infinite inputs
    let mut xn = x.clone();
    xn.data_mut()[7] = f32::NAN;
    let e = err(m.fit(&xn, &y, &quiet(1), &mut []));
    assert!(
        e.contains("non-finite value (NaN) at sample 3, column 1"),
        "{e}"
    );
    let mut yi = y.clone();
    yi.data_mut()[0] = f32::INFINITY;
    assert!(err(m.fit(&x, &yi, &quiet(1), &mut [])).contains("non-finite value (inf)"));
    // validation_split outside [0, 1), batch_size 0, other bad arguments
    for vs in [-0.1, 1.0, 2.0] {
        let e = err(m.fit(
            &x,
            &y,
            &FitArgs {
                validation_split: vs,
                ..quiet(1)
            },
            &mut [],
        ));
        assert!(
            e.contains("`validation_split`") && e.contains("[0, 1)"),
            "{e}"
        );
    }
    let e = err(m.fit(
        &x,
        &y,
        &FitArgs {
            batch_size: Some(0),
            ..quiet(1)
        },
        &mut [],
    ));
    assert_eq!(
        e,
        "invalid value for `batch_size`: 0 (allowed: an integer >= 1)"
    );
    let e = err(m.fit(
        &x,
        &y,
        &FitArgs {
            sample_weight: Some(vec![1.0; 3]),
            ..quiet(1)
        },
        &mut [],
    ));
    assert!(
        e.contains("sample_weight: expected (500,), got (3,)"),
        "{e}"
    );
    let e = err(m.predict(&x, Some(0)));
    assert!(e.contains("batch_size"), "{e}");
    // the model still works after all of that
    assert!(m.fit(&x, &y, &quiet(1), &mut []).is_ok());
    // fit before compile
    let mut raw = Sequential::new();
    raw.add(Dense::new(1));
    assert!(err(raw.fit(&x, &y, &quiet(1), &mut [])).contains("must be compiled"));
    // bad layer arguments
    let mut d = Sequential::new();
    d.add(Dense::new(0));
    assert!(err(d.build(&[2])).contains("`layers[0].units`: 0"));
    let mut d = Sequential::new();
    d.add(Dropout::new(1.0));
    assert!(err(d.build(&[2])).contains("`layers[0].rate`: 1"));
}

#[test]
fn repeated_metric_names_get_keras_suffixes() {
    let (x, y) = xor_data();
    let mut m = Sequential::new();
    m.add(Dense::new(1).activation(Activation::Sigmoid));
    m.compile_full(
        Optimizer::from_name("sgd").unwrap(),
        Loss::from_name("binary_crossentropy").unwrap(),
        &["mae", "mae", "acc"],
        &["mae", "auc"],
        Vec::new(),
    )
    .unwrap();
    let h = m.fit(&x, &y, &quiet(1), &mut []).unwrap();
    assert_eq!(
        h.keys(),
        ["loss", "mae", "mae_1", "acc", "weighted_mae", "auc"]
    );
    assert_eq!(h.get("mae"), h.get("mae_1"));
}

#[test]
fn absurd_layer_sizes_are_refused_before_allocating() {
    let mut m = Sequential::new();
    m.add(Dense::new(1 << 20));
    let e = err(m.build(&[1 << 12]));
    assert!(
        e.contains("`layers[0].units`: 1048576") && e.contains("at most 65536 units"),
        "{e}"
    );
}
