//! Property tests (issue 9) of the readers that take user input: CSV, .npy, the model spec,
//! stored hyperparameters and stored trials. Well-formed input reads back to what was written;
//! malformed input of any shape is an `Error` whose message names where it is wrong, never a
//! panic. `scripts/fuzz.sh` runs the same readers under cargo-fuzz for far longer.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use rand::{rngs::StdRng, SeedableRng};
use serde_json::{json, Value as Json};
use tunelab::data::csv::{csv_header, parse_csv};
use tunelab::data::npy::{read_npy, write_npy};
use tunelab::hp::HyperParameters;
use tunelab::spec::ModelSpec;
use tunelab::tuner::{Trial, TrialStatus};
use tunelab::{Error, Tensor};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    }
}

fn explained(e: &Error) -> String {
    let m = e.to_string();
    assert!(!m.trim().is_empty(), "{e:?}");
    m
}

// ---------------------------------------------------------------------------------------------
// CSV

/// A column name that needs quoting now and then (a comma, a quote, a space).
fn column_name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_ ,\"]{0,7}"
}

fn quote(s: &str) -> String {
    if s.contains([',', '"']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn table() -> impl Strategy<Value = (Vec<String>, Vec<Vec<f32>>)> {
    (1usize..6, 1usize..25).prop_flat_map(|(cols, rows)| {
        (
            prop::collection::hash_set(column_name(), cols + 1).prop_map(|s| {
                s.into_iter()
                    .map(|n| n.trim().to_string())
                    .collect::<Vec<_>>()
            }),
            prop::collection::vec(
                prop::collection::vec(
                    prop_oneof![
                        -1e6f32..1e6f32,
                        any::<i16>().prop_map(f32::from),
                        Just(0.0f32)
                    ],
                    cols + 1,
                ),
                rows,
            ),
        )
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn csv_tables_read_back_exactly(
        (names, rows) in table(),
        crlf in any::<bool>(),
        bom in any::<bool>(),
        trailing in any::<bool>(),
        blank_after in any::<Option<usize>>(),
    ) {
        // Names must stay distinct and non-empty once trimmed.
        let mut uniq = names.clone();
        uniq.sort();
        uniq.dedup();
        prop_assume!(uniq.len() == names.len() && names.iter().all(|n| !n.is_empty()));
        let nl = if crlf { "\r\n" } else { "\n" };
        let mut text = String::new();
        if bom {
            text.push('\u{feff}');
        }
        text += &names.iter().map(|n| quote(n)).collect::<Vec<_>>().join(",");
        for (i, r) in rows.iter().enumerate() {
            text += nl;
            text += &r.iter().map(|v| format!("{v}")).collect::<Vec<_>>().join(",");
            if blank_after.map(|b| b % rows.len()) == Some(i) {
                text += nl;
            }
        }
        if trailing {
            text += nl;
        }
        let label = names.last().unwrap();
        let t = parse_csv(&text, Some(label), None).unwrap();
        prop_assert_eq!(&t.feature_names[..], &names[..names.len() - 1]);
        prop_assert_eq!(t.x.shape(), &[rows.len(), names.len() - 1]);
        let want_x: Vec<f32> = rows.iter().flat_map(|r| r[..r.len() - 1].to_vec()).collect();
        let want_y: Vec<f32> = rows.iter().map(|r| r[r.len() - 1]).collect();
        prop_assert_eq!(t.x.data(), &want_x[..]);
        let y = t.y.unwrap();
        prop_assert_eq!(y.data(), &want_y[..]);
        let (header, n) = csv_header(&text).unwrap();
        prop_assert_eq!(header, names);
        prop_assert_eq!(n, rows.len());
    }

    #[test]
    fn any_csv_text_is_a_table_or_an_error_naming_the_line(
        text in "[a-c0-9,\"\r\n .e+\\-]{0,160}",
        label in prop::option::of("[a-c]"),
    ) {
        match parse_csv(&text, label.as_deref(), None) {
            Ok(t) => {
                prop_assert_eq!(t.x.shape()[1], t.feature_names.len());
                prop_assert!(t.x.data().iter().all(|v| v.is_finite()));
            }
            Err(e) => {
                let m = explained(&e);
                prop_assert!(
                    m.contains("line") || m.contains("column") || m.contains("empty")
                        || m.contains("header"),
                    "{}", m
                );
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // .npy

    #[test]
    fn npy_arrays_read_back_and_every_cut_is_an_error(
        shape in prop::collection::vec(0usize..5, 0..4),
        seed in any::<u64>(),
        flip in any::<(usize, u8)>(),
    ) {
        let n: usize = shape.iter().product();
        let data: Vec<f32> = (0..n).map(|i| ((seed as usize ^ i) % 1000) as f32 * 0.25 - 100.0).collect();
        let t = Tensor::new(shape.clone(), data).unwrap();
        let bytes = write_npy(&t);
        prop_assert_eq!(read_npy(&bytes).unwrap(), t);
        for cut in [0, 5, 9, bytes.len() / 2, bytes.len().saturating_sub(1)] {
            if cut < bytes.len() && (n > 0 || cut < bytes.len() - 1) {
                if let Err(e) = read_npy(&bytes[..cut]) {
                    explained(&e);
                } else {
                    // Only a cut inside the header's trailing padding can still parse, and
                    // then it must be an empty array.
                    prop_assert_eq!(n, 0);
                }
            }
        }
        let mut bad = bytes.clone();
        let at = flip.0 % bad.len();
        bad[at] ^= flip.1 | 1;
        if let Err(e) = read_npy(&bad) {
            explained(&e);
        }
    }

    // -----------------------------------------------------------------------------------------
    // Model spec

    #[test]
    fn model_specs_read_back_and_bad_fields_are_named(
        layers in prop::collection::vec((1usize..64, 0usize..4, any::<bool>()), 1..6),
        which in any::<prop::sample::Index>(),
        bad in prop_oneof![
            Just(json!(-3)), Just(json!("many")), Just(json!(1e12)), Just(json!(null)),
            Just(json!([1])), Just(json!({"hp": "Int"})), Just(json!(0))
        ],
    ) {
        let acts = ["relu", "tanh", "sigmoid", "linear"];
        let mut list = Vec::new();
        for (units, act, dropout) in &layers {
            list.push(json!({"class_name": "Dense", "config": {"units": units, "activation": acts[*act]}}));
            if *dropout {
                list.push(json!({"class_name": "Dropout", "config": {"rate": 0.25}}));
            }
        }
        let spec = json!({"input_shape": [3], "layers": list, "compile": {
            "optimizer": "adam", "loss": "mse", "metrics": ["mae"]}});
        let parsed = ModelSpec::from_value(&spec).unwrap();
        let again = ModelSpec::from_value(&parsed.to_value()).unwrap();
        prop_assert_eq!(again.to_value(), parsed.to_value());
        let mut m = parsed.build(1).unwrap();
        let out = m.predict(&Tensor::zeros(&[2, 3]), None).unwrap();
        prop_assert_eq!(out.shape(), &[2, layers.last().unwrap().0]);

        // One Dense layer's units replaced by something that is not a unit count.
        let dense: Vec<usize> = list.iter().enumerate()
            .filter(|(_, l)| l["class_name"] == "Dense").map(|(i, _)| i).collect();
        let i = dense[which.index(dense.len())];
        let mut broken = spec.clone();
        broken["layers"][i]["config"]["units"] = bad;
        let e = ModelSpec::from_value(&broken).unwrap_err();
        let m = explained(&e);
        let path = format!("layers[{i}].config.units");
        prop_assert!(m.contains(&path), "{} lacks {}", m, path);
    }

    // -----------------------------------------------------------------------------------------
    // Stored hyperparameters

    #[test]
    fn stored_hyperparameters_round_trip_and_sample_in_bounds(
        lo in -50i64..50, span in 0i64..200, step in 1i64..7,
        flo in 1e-5f64..1.0, fmul in 1.0f64..1e3, log in any::<bool>(),
        choices in prop::collection::vec("[a-z]{1,5}", 1..5),
        seed in any::<u64>(),
    ) {
        let mut choices = choices;
        choices.sort();
        choices.dedup();
        let mut hp = HyperParameters::new();
        hp.int("i", lo, lo + span).step(step).get().unwrap();
        hp.float("f", flo, flo * fmul)
            .sampling(if log { tunelab::hp::Sampling::Log } else { tunelab::hp::Sampling::Linear })
            .get().unwrap();
        hp.choice("c", choices.iter().map(|s| tunelab::hp::Value::from(s.as_str())).collect()).get().unwrap();
        hp.boolean("b").get().unwrap();
        let stored = hp.to_json();
        let back = HyperParameters::from_json(&stored).unwrap();
        prop_assert_eq!(back.to_json(), stored.clone());
        let mut rng = StdRng::seed_from_u64(seed);
        for h in back.space() {
            let v = h.random_sample(&mut rng);
            match h.name.as_str() {
                "i" => {
                    let x = v.as_i64().unwrap();
                    prop_assert!(x >= lo && x <= lo + span && (x - lo) % step == 0, "{}", x);
                }
                "f" => {
                    let x = v.as_f64().unwrap();
                    prop_assert!(x >= flo * (1.0 - 1e-12) && x <= flo * fmul * (1.0 + 1e-12), "{}", x);
                }
                "c" => prop_assert!(choices.iter().any(|c| Some(c.as_str()) == v.as_str())),
                _ => prop_assert!(v.as_bool().is_some()),
            }
        }
        // min above max in a stored Int: an error naming the field.
        let mut broken = stored;
        broken["space"][0]["config"]["min_value"] = json!(lo + span + 1);
        let e = HyperParameters::from_json(&broken).unwrap_err();
        let m = explained(&e);
        prop_assert!(m.contains("min_value") && m.contains('i'), "{}", m);
    }

    // -----------------------------------------------------------------------------------------
    // Stored trials

    #[test]
    fn stored_trials_round_trip_with_nan_and_reject_damage_by_name(
        metrics in prop::collection::vec(prop_oneof![-1e3f64..1e3, Just(f64::NAN), Just(f64::INFINITY)], 1..4),
        epochs in prop::collection::vec(prop_oneof![-1e3f64..1e3, Just(f64::NAN)], 0..6),
        drop_key in prop::sample::select(vec!["trial_id", "hyperparameters", "status"]),
    ) {
        let mut hp = HyperParameters::new();
        hp.int("units", 1, 8).get().unwrap();
        let mut t = Trial::new("07", hp);
        t.status = TrialStatus::Completed;
        t.metrics = metrics.iter().enumerate().map(|(i, v)| (format!("m{i}"), *v)).collect();
        t.curves = vec![vec![("loss".into(), epochs.clone())]];
        let doc = serde_json::to_vec(&t.to_json()).unwrap();
        let back = Trial::from_json(&serde_json::from_slice::<Json>(&doc).unwrap()).unwrap();
        prop_assert_eq!(back.metrics.len(), t.metrics.len(), "every metric kept");
        for ((_, a), (_, b)) in back.metrics.iter().zip(&t.metrics) {
            prop_assert!(a == b || (!b.is_finite() && a.is_nan()), "{} vs {}", a, b);
        }
        let curve = &back.curves[0][0].1;
        prop_assert_eq!(curve.len(), epochs.len(), "one value per epoch, NaN included");
        let mut damaged = t.to_json();
        damaged.as_object_mut().unwrap().remove(drop_key);
        let e = Trial::from_json(&damaged).unwrap_err();
        let m = explained(&e);
        prop_assert!(m.contains(drop_key) || m.contains("space"), "{} lacks {}", m, drop_key);
    }
}
