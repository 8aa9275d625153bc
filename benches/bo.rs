//! Search algorithms on test functions with known minima, as "tune any function" searches:
//! Branin, Hartmann6, six-hump camel, Goldstein-Price and Rosenbrock 4-D; 50 trials, 30 seeds
//! each (override with BO_TRIALS / BO_SEEDS). Prints median and mean simple regret (best value
//! found minus the known minimum) and seconds per trial for every oracle.
//!
//! Run: `cargo bench --bench bo`, or `bash benches/bo.sh` to print KerasTuner's
//! BayesianOptimization and Optuna's TPE on the same functions, trials and seeds beside it.

use std::f64::consts::PI;
use std::time::Instant;
use tunelab::nn::FitArgs;
use tunelab::tuner::*;
use tunelab::Tensor;

type Func = fn(&[f64]) -> f64;
/// (name, function, bounds, known minimum)
type Problem = (&'static str, Func, Vec<(f64, f64)>, f64);
type MakeOracle = fn() -> Box<dyn Algorithm>;

fn branin(x: &[f64]) -> f64 {
    let (x1, x2) = (x[0], x[1]);
    (x2 - 5.1 / (4.0 * PI * PI) * x1 * x1 + 5.0 / PI * x1 - 6.0).powi(2)
        + 10.0 * (1.0 - 1.0 / (8.0 * PI)) * x1.cos()
        + 10.0
}

fn hartmann6(x: &[f64]) -> f64 {
    const A: [[f64; 6]; 4] = [
        [10.0, 3.0, 17.0, 3.5, 1.7, 8.0],
        [0.05, 10.0, 17.0, 0.1, 8.0, 14.0],
        [3.0, 3.5, 1.7, 10.0, 17.0, 8.0],
        [17.0, 8.0, 0.05, 10.0, 0.1, 14.0],
    ];
    const P: [[f64; 6]; 4] = [
        [1312.0, 1696.0, 5569.0, 124.0, 8283.0, 5886.0],
        [2329.0, 4135.0, 8307.0, 3736.0, 1004.0, 9991.0],
        [2348.0, 1451.0, 3522.0, 2883.0, 3047.0, 6650.0],
        [4047.0, 8828.0, 8732.0, 5743.0, 1091.0, 381.0],
    ];
    const ALPHA: [f64; 4] = [1.0, 1.2, 3.0, 3.2];
    -(0..4)
        .map(|i| {
            let s: f64 = (0..6)
                .map(|j| A[i][j] * (x[j] - 1e-4 * P[i][j]).powi(2))
                .sum();
            ALPHA[i] * (-s).exp()
        })
        .sum::<f64>()
}

fn camel(x: &[f64]) -> f64 {
    let (x1, x2) = (x[0], x[1]);
    (4.0 - 2.1 * x1 * x1 + x1.powi(4) / 3.0) * x1 * x1 + x1 * x2 + (-4.0 + 4.0 * x2 * x2) * x2 * x2
}

fn goldstein_price(x: &[f64]) -> f64 {
    let (x1, x2) = (x[0], x[1]);
    let a = 1.0
        + (x1 + x2 + 1.0).powi(2)
            * (19.0 - 14.0 * x1 + 3.0 * x1 * x1 - 14.0 * x2 + 6.0 * x1 * x2 + 3.0 * x2 * x2);
    let b = 30.0
        + (2.0 * x1 - 3.0 * x2).powi(2)
            * (18.0 - 32.0 * x1 + 12.0 * x1 * x1 + 48.0 * x2 - 36.0 * x1 * x2 + 27.0 * x2 * x2);
    a * b
}

fn rosenbrock4(x: &[f64]) -> f64 {
    (0..3)
        .map(|i| 100.0 * (x[i + 1] - x[i] * x[i]).powi(2) + (x[i] - 1.0).powi(2))
        .sum()
}

fn functions() -> Vec<Problem> {
    vec![
        ("branin", branin, vec![(-5.0, 10.0), (0.0, 15.0)], 0.397887),
        ("hartmann6", hartmann6, vec![(0.0, 1.0); 6], -3.32237),
        ("camel", camel, vec![(-3.0, 3.0), (-2.0, 2.0)], -1.0316),
        (
            "goldstein_price",
            goldstein_price,
            vec![(-2.0, 2.0); 2],
            3.0,
        ),
        ("rosenbrock4", rosenbrock4, vec![(-5.0, 10.0); 4], 0.0),
    ]
}

fn oracles() -> Vec<(&'static str, MakeOracle)> {
    vec![
        ("tunelab_random", || Box::new(RandomSearch)),
        (
            "tunelab_bayes",
            || Box::new(BayesianOptimization::default()),
        ),
    ]
}

/// Best value found by one search.
fn search(
    make: fn() -> Box<dyn Algorithm>,
    f: Func,
    bounds: &[(f64, f64)],
    trials: usize,
    seed: u64,
) -> (f64, usize) {
    let bounds = bounds.to_vec();
    let mut tuner = Tuner::from_fn(
        make(),
        move |trial: &mut Trial| {
            let mut x = Vec::with_capacity(bounds.len());
            for (i, (lo, hi)) in bounds.iter().enumerate() {
                x.push(
                    trial
                        .hyperparameters
                        .float(&format!("x{i}"), *lo, *hi)
                        .get()?,
                );
            }
            Ok(FitResult::Value(f(&x)))
        },
        None,
        TunerConfig {
            oracle: OracleConfig {
                max_trials: Some(trials),
                seed,
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .expect("tuner");
    tuner
        .search(
            &Tensor::zeros(&[1, 1]),
            &Tensor::zeros(&[1, 1]),
            &FitArgs::default(),
        )
        .expect("search");
    let best = tuner.get_best_trials(1).unwrap()[0].score.expect("score");
    (best, tuner.oracle.trial_count())
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let trials = env("BO_TRIALS", 50);
    let seeds = env("BO_SEEDS", 30);
    println!(
        "{:<16}{:<17}{:>14}{:>14}{:>10}",
        "oracle", "function", "median regret", "mean regret", "s/trial"
    );
    for (oname, make) in oracles() {
        for (fname, f, bounds, fstar) in functions() {
            let start = Instant::now();
            let mut n = 0;
            let mut regrets: Vec<f64> = (0..seeds as u64)
                .map(|s| {
                    let (best, k) = search(make, f, &bounds, trials, s);
                    n += k;
                    best - fstar
                })
                .collect();
            regrets.sort_by(f64::total_cmp);
            let median = if regrets.len() % 2 == 1 {
                regrets[regrets.len() / 2]
            } else {
                (regrets[regrets.len() / 2 - 1] + regrets[regrets.len() / 2]) / 2.0
            };
            let mean = regrets.iter().sum::<f64>() / regrets.len() as f64;
            let per = start.elapsed().as_secs_f64() / n.max(1) as f64;
            println!("{oname:<16}{fname:<17}{median:>14.6}{mean:>14.6}{per:>10.4}");
        }
    }
}
