//! Multi-fidelity tuners on real learning curves (issue 23): every tunelab tuner plays on the
//! learning-curve tables of `examples/lc_table.rs` (the getting-started space trained by the
//! engine on digits and on 2,500 MNIST digits, every epoch's val_accuracy and seconds). A trial
//! asks for a configuration and a number of epochs (from `tuner/initial_epoch`, warm-started,
//! to `tuner/epochs`) and gets the nearest recorded configuration's curve: its score is the
//! best val_accuracy over the epochs it trained, its cost those epochs' seconds (each
//! configuration's median epoch time, which smooths the noise of a shared machine).
//!
//! Prints, per data set, best val_accuracy (median [quartiles] over the seeds) after 1x, 3x and
//! 10x max_epochs epochs spent with one worker, then with 4 simulated workers the wall time to
//! a target accuracy (the top 5% of the table's configurations), asynchronous (a free worker
//! asks at once) and in batches (as `Tuner::search` runs `parallel_trials` now).
//!
//! Run: `bash benches/multifidelity.sh` (SEEDS=30 by default; TABLES=digits,mnist). Writes the
//! anytime curves to target/multifidelity/curves_*.csv. DUMP=TUNER prints every trial of that
//! tuner's 4-worker searches to stderr (seed, schedule, id, start, end, epochs, score, values).

use std::io::Write;
use std::process::Command;
use tunelab::hp::{HyperParameters, Sampling, Values};
use tunelab::tuner::simulate::{self, Event, Outcome, Schedule};
use tunelab::tuner::*;

const MAX_EPOCHS: usize = 27;
/// The epochs (in max_epochs) each 4-worker search may spend.
const WALL_BUDGET: usize = 20;

struct Row {
    /// num_layers, units_0..2, activation (0 relu, 1 tanh), dropout, lr.
    config: [f64; 7],
    acc: Vec<f64>,
    /// Median seconds per epoch.
    epoch_s: f64,
}

struct Table {
    name: String,
    rows: Vec<Row>,
    target: f64,
}

fn read_table(name: &str, path: &str) -> Table {
    let out = Command::new("gzip")
        .args(["-dc", path])
        .output()
        .unwrap_or_else(|e| panic!("gzip -dc {path}: {e}"));
    assert!(out.status.success(), "gzip -dc {path} failed");
    let text = String::from_utf8(out.stdout).expect("the table is text");
    let mut lines = text.lines();
    let header = lines.next().expect("a header line");
    let n_val: f64 = header
        .split_whitespace()
        .find_map(|w| w.strip_prefix("val="))
        .and_then(|v| v.parse().ok())
        .expect("val=N in the header");
    lines.next();
    let rows: Vec<Row> = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<f64> = l.split(',').map(|x| x.parse().expect("a number")).collect();
            let e = (f.len() - 7) / 2;
            assert_eq!(e, MAX_EPOCHS, "{path}: {e} epochs");
            let mut ms: Vec<f64> = f[7 + e..].to_vec();
            ms.sort_by(f64::total_cmp);
            Row {
                config: [f[0], f[1], f[2], f[3], f[4], f[5], f[6]],
                acc: f[7..7 + e].iter().map(|c| c / n_val).collect(),
                epoch_s: ms[e / 2] / 1e3,
            }
        })
        .collect();
    let mut best: Vec<f64> = rows
        .iter()
        .map(|r| r.acc.iter().copied().fold(0.0, f64::max))
        .collect();
    best.sort_by(f64::total_cmp);
    let target = best[(best.len() as f64 * 0.95) as usize];
    Table {
        name: name.into(),
        rows,
        target,
    }
}

fn space() -> HyperParameters {
    let mut hp = HyperParameters::new();
    hp.int("num_layers", 1, 3).get().unwrap();
    for i in 0..3 {
        hp.int(&format!("units_{i}"), 32, 512)
            .step(32)
            .get()
            .unwrap();
    }
    hp.choice("activation", vec!["relu".into(), "tanh".into()])
        .get()
        .unwrap();
    hp.boolean("dropout").get().unwrap();
    hp.float("lr", 1e-4, 1e-2)
        .sampling(Sampling::Log)
        .get()
        .unwrap();
    hp
}

/// Distance between two configurations in the unit cube (units of layers past num_layers
/// ignored).
fn distance(a: &[f64; 7], b: &[f64; 7]) -> f64 {
    let mut d = ((a[0] - b[0]) / 2.0).powi(2);
    for i in 0..3 {
        if (i as f64) < a[0].min(b[0]) {
            d += ((a[1 + i] - b[1 + i]) / 480.0).powi(2);
        }
    }
    d += (a[4] - b[4]).powi(2) + (a[5] - b[5]).powi(2);
    d + ((a[6].ln() - b[6].ln()) / (100f64).ln()).powi(2)
}

fn config_of(v: &Values) -> [f64; 7] {
    let num = |k: &str| v.get(k).and_then(|x| x.as_f64()).unwrap_or(0.0);
    [
        num("num_layers"),
        num("units_0"),
        num("units_1"),
        num("units_2"),
        f64::from(v.get("activation").and_then(|x| x.as_str()) == Some("tanh")),
        f64::from(v.get("dropout").and_then(|x| x.as_bool()) == Some(true)),
        num("lr"),
    ]
}

fn nearest<'t>(table: &'t Table, c: &[f64; 7]) -> &'t Row {
    let mut best = &table.rows[0];
    let mut bd = f64::INFINITY;
    for r in &table.rows {
        let d = distance(&r.config, c);
        if d < bd {
            bd = d;
            best = r;
        }
    }
    best
}

type Make = fn() -> Box<dyn Algorithm>;

fn tuners() -> Vec<(&'static str, Make)> {
    fn opt(kind: &str, v: serde_json::Value) -> Box<dyn Algorithm> {
        options::tuner(kind, &v).expect("options").0
    }
    vec![
        ("random", || Box::new(RandomSearch)),
        ("bayesian", || Box::new(BayesianOptimization::default())),
        ("hyperband", || {
            opt(
                "hyperband",
                serde_json::json!({"max_epochs": MAX_EPOCHS, "hyperband_iterations": null}),
            )
        }),
        ("bohb", || {
            // BOHB_OPTIONS (a JSON object) adds options, to compare settings.
            let mut o = serde_json::json!({"max_epochs": MAX_EPOCHS, "hyperband_iterations": null});
            if let Ok(extra) = std::env::var("BOHB_OPTIONS") {
                let extra: serde_json::Value =
                    serde_json::from_str(&extra).expect("BOHB_OPTIONS: JSON");
                if let (Some(m), Some(e)) = (o.as_object_mut(), extra.as_object()) {
                    m.extend(e.clone());
                }
            }
            opt("bohb", o)
        }),
        ("asha", || {
            opt("asha", serde_json::json!({"max_epochs": MAX_EPOCHS}))
        }),
        ("asha+gp", || {
            opt(
                "asha",
                serde_json::json!({"max_epochs": MAX_EPOCHS, "model": "gp"}),
            )
        }),
    ]
}

/// One search: events in end order.
fn play(
    table: &Table,
    make: Make,
    seed: u64,
    workers: usize,
    schedule: Schedule,
    budget: usize,
) -> Vec<Event> {
    let config = OracleConfig {
        objective: ObjectiveSpec::Single(Objective::parse("val_accuracy").unwrap()),
        max_trials: None,
        seed,
        ..Default::default()
    };
    let mut oracle = Oracle::new(config, make(), space()).unwrap();
    simulate::simulate(
        &mut oracle,
        workers,
        schedule,
        Some(budget),
        &mut |t: &Trial| {
            let v = t.hyperparameters.values();
            let int = |k: &str| v.get(k).and_then(|x| x.as_i64());
            let to = int("tuner/epochs")
                .unwrap_or(MAX_EPOCHS as i64)
                .clamp(1, MAX_EPOCHS as i64) as usize;
            let from = int("tuner/initial_epoch")
                .unwrap_or(0)
                .clamp(0, to as i64 - 1) as usize;
            let row = nearest(table, &config_of(&v));
            let score = row.acc[from..to].iter().copied().fold(0.0, f64::max);
            Ok(Outcome {
                metrics: vec![("val_accuracy".into(), score)],
                seconds: row.epoch_s * (to - from) as f64,
                epochs: to - from,
            })
        },
    )
    .unwrap()
}

/// Best score after `epochs` epochs spent (trials counted in the order they started, one
/// worker: start order is end order).
fn best_after_epochs(events: &[Event], epochs: usize) -> f64 {
    let mut spent = 0;
    let mut best: f64 = 0.0;
    for e in events {
        spent += e.epochs;
        if spent > epochs {
            break;
        }
        best = best.max(e.score.unwrap_or(0.0));
    }
    best
}

/// Simulated seconds until the best score reached `target` (None: never).
fn time_to(events: &[Event], target: f64) -> Option<f64> {
    let mut by_end: Vec<&Event> = events.iter().collect();
    by_end.sort_by(|a, b| a.end.total_cmp(&b.end));
    by_end
        .iter()
        .find(|e| e.score.is_some_and(|s| s >= target))
        .map(|e| e.end)
}

fn quartiles(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let x = p * (v.len() - 1) as f64;
        let (i, f) = (x.floor() as usize, x - x.floor());
        if i + 1 < v.len() && f > 0.0 {
            v[i] * (1.0 - f) + v[i + 1] * f
        } else {
            v[i]
        }
    };
    (q(0.25), q(0.5), q(0.75))
}

/// A 90% bootstrap interval of median(a) / median(b), the seeds of each resampled with
/// replacement (2,000 resamples, a fixed seed).
fn ratio_interval(a: &[f64], b: &[f64]) -> (f64, f64) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(23);
    let mut resample = |v: &[f64]| -> f64 {
        let r: Vec<f64> = (0..v.len())
            .map(|_| v[rng.random_range(0..v.len())])
            .collect();
        quartiles(r).1
    };
    let mut ratios: Vec<f64> = (0..2000).map(|_| resample(a) / resample(b)).collect();
    ratios.sort_by(f64::total_cmp);
    (ratios[100], ratios[1899])
}

fn main() {
    let seeds: u64 = std::env::var("SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let which = std::env::var("TABLES").unwrap_or_else(|_| "digits,mnist".into());
    let parts = std::env::var("PARTS").unwrap_or_else(|_| "epochs,wall".into());
    // asha+gp is left out by default: its GP is refitted for each of ASHA's many (mostly
    // 1-epoch) trials, on every trial so far, which made its 30 seeds take most of an hour.
    let only =
        std::env::var("TUNERS").unwrap_or_else(|_| "random,bayesian,hyperband,bohb,asha".into());
    let tuners = || -> Vec<(&'static str, Make)> {
        tuners()
            .into_iter()
            .filter(|(n, _)| only.split(',').any(|o| o == *n))
            .collect()
    };
    let out_dir = std::path::Path::new("target/multifidelity");
    std::fs::create_dir_all(out_dir).unwrap();
    for name in which.split(',') {
        let table = read_table(name, &format!("benches/data/lc_{name}.csv.gz"));
        let mean_epoch: f64 =
            table.rows.iter().map(|r| r.epoch_s).sum::<f64>() / table.rows.len() as f64;
        println!(
            "\n## {} ({} configurations x {MAX_EPOCHS} epochs; target val_accuracy {:.4}, the top 5%; mean epoch {:.0} ms; {seeds} seeds)\n",
            table.name,
            table.rows.len(),
            table.target,
            mean_epoch * 1e3
        );
        let budgets = [MAX_EPOCHS, 3 * MAX_EPOCHS, 10 * MAX_EPOCHS];
        if parts.contains("epochs") {
            println!("best val_accuracy after epochs spent, one worker: median [25%, 75%]\n");
            println!(
                "| tuner | 1x ({}) | 3x ({}) | 10x ({}) |",
                budgets[0], budgets[1], budgets[2]
            );
            println!("|---|---|---|---|");
            let mut curves =
                std::fs::File::create(out_dir.join(format!("curves_{name}_epochs.csv"))).unwrap();
            writeln!(curves, "tuner,axis,x,q25,median,q75").unwrap();
            for (tname, make) in tuners() {
                let runs: Vec<Vec<Event>> = (0..seeds)
                    .map(|s| play(&table, make, s, 1, Schedule::Async, 10 * MAX_EPOCHS))
                    .collect();
                let cells: Vec<String> = budgets
                    .iter()
                    .map(|&b| {
                        let (lo, med, hi) =
                            quartiles(runs.iter().map(|r| best_after_epochs(r, b)).collect());
                        format!("{med:.4} [{lo:.4}, {hi:.4}]")
                    })
                    .collect();
                println!("| {tname} | {} |", cells.join(" | "));
                for x in (1..=10 * MAX_EPOCHS).step_by(3) {
                    let (lo, med, hi) =
                        quartiles(runs.iter().map(|r| best_after_epochs(r, x)).collect());
                    writeln!(curves, "{tname},epochs,{x},{lo},{med},{hi}").unwrap();
                }
            }
        }
        if !parts.contains("wall") {
            continue;
        }
        let mut curves =
            std::fs::File::create(out_dir.join(format!("curves_{name}_wall.csv"))).unwrap();
        writeln!(curves, "tuner,axis,x,q25,median,q75").unwrap();
        // Each tuner and schedule's times to target, one per seed.
        let mut medians: Vec<(String, Vec<f64>)> = Vec::new();
        println!(
            "\nwall time to val_accuracy >= {:.4} with 4 simulated workers (epoch budget {}): median [25%, 75%] simulated seconds, runs that reached it\n",
            table.target,
            WALL_BUDGET * MAX_EPOCHS
        );
        println!("| tuner | schedule | time to target | reached |");
        println!("|---|---|---|---|");
        for (tname, make) in tuners() {
            for schedule in [Schedule::Async, Schedule::Batches] {
                // ASHA's point is not to wait for a batch.
                if tname.starts_with("asha") && schedule == Schedule::Batches {
                    continue;
                }
                let runs: Vec<Vec<Event>> = (0..seeds)
                    .map(|s| play(&table, make, s, 4, schedule, WALL_BUDGET * MAX_EPOCHS))
                    .collect();
                let label = if schedule == Schedule::Async {
                    "async"
                } else {
                    "batches"
                };
                if std::env::var("DUMP").is_ok_and(|d| d == tname) {
                    for (seed, run) in runs.iter().enumerate() {
                        for e in run {
                            eprintln!(
                                "{seed} {label} {} {:.4} {:.4} {} {:?} {}",
                                e.trial_id, e.start, e.end, e.epochs, e.score, e.values
                            );
                        }
                    }
                }
                let times: Vec<f64> = runs
                    .iter()
                    .map(|r| time_to(r, table.target).unwrap_or(f64::INFINITY))
                    .collect();
                let reached = times.iter().filter(|t| t.is_finite()).count();
                let (lo, med, hi) = quartiles(times.clone());
                medians.push((format!("{tname} {label}"), times.clone()));
                println!(
                    "| {tname} | {} | {med:.1} s [{lo:.1}, {hi:.1}] | {reached}/{seeds} |",
                    if schedule == Schedule::Async {
                        "async"
                    } else {
                        "batches"
                    }
                );
                let span = |r: &Vec<Event>| r.iter().map(|e| e.end).fold(0.0, f64::max);
                let end = runs.iter().map(span).fold(0.0, f64::max);
                for i in 0..=100 {
                    let t = end * i as f64 / 100.0;
                    let best: Vec<f64> = runs
                        .iter()
                        .map(|r| {
                            r.iter()
                                .filter(|e| e.end <= t)
                                .filter_map(|e| e.score)
                                .fold(0.0, f64::max)
                        })
                        .collect();
                    let (lo, med, hi) = quartiles(best);
                    let axis = if schedule == Schedule::Async {
                        "wall_async"
                    } else {
                        "wall_batch"
                    };
                    writeln!(curves, "{tname},{axis},{t},{lo},{med},{hi}").unwrap();
                }
            }
        }
        let times = |k: &str| {
            medians
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, t)| t.as_slice())
        };
        for (slow, label) in [
            ("hyperband batches", "Hyperband in batches"),
            (
                "hyperband async",
                "Hyperband with a free worker asking at once",
            ),
        ] {
            if let (Some(hb), Some(asha)) = (times(slow), times("asha async")) {
                let ratio = quartiles(hb.to_vec()).1 / quartiles(asha.to_vec()).1;
                let (lo, hi) = ratio_interval(hb, asha);
                println!(
                    "\nmedian time to target, {label} / ASHA asynchronous: {ratio:.2}x (90% bootstrap interval over the seeds {lo:.2}-{hi:.2}x)"
                );
            }
        }
    }
}
