"""KerasTuner's BayesianOptimization and Optuna's TPESampler on the benchmark functions of
benches/bo.rs: the same functions and bounds, 50 trials, seeds 0..29, minimising; prints the
same table (median and mean simple regret, seconds per trial).

Run: `python3 benches/peers/bo_peers.py [--seeds N] [--trials N] [--only kerastuner|optuna]
[--functions branin,camel,...]`
(needs `pip install keras-tuner keras jax optuna`)."""
import argparse
import math
import os
import shutil
import statistics
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
import numpy as np

A6 = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
               [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]], dtype=float)
P6 = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                      [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]], dtype=float)
ALPHA6 = np.array([1.0, 1.2, 3.0, 3.2])


def branin(x):
    x1, x2 = x
    return ((x2 - 5.1 / (4 * math.pi ** 2) * x1 ** 2 + 5 / math.pi * x1 - 6) ** 2
            + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x1) + 10)


def hartmann6(x):
    x = np.asarray(x)
    return float(-np.sum(ALPHA6 * np.exp(-np.sum(A6 * (x - P6) ** 2, axis=1))))


def camel(x):
    x1, x2 = x
    return (4 - 2.1 * x1 ** 2 + x1 ** 4 / 3) * x1 ** 2 + x1 * x2 + (-4 + 4 * x2 ** 2) * x2 ** 2


def goldstein_price(x):
    x1, x2 = x
    a = 1 + (x1 + x2 + 1) ** 2 * (19 - 14 * x1 + 3 * x1 ** 2 - 14 * x2 + 6 * x1 * x2 + 3 * x2 ** 2)
    b = 30 + (2 * x1 - 3 * x2) ** 2 * (18 - 32 * x1 + 12 * x1 ** 2 + 48 * x2 - 36 * x1 * x2 + 27 * x2 ** 2)
    return a * b


def rosenbrock4(x):
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (x[i] - 1) ** 2 for i in range(3))


FUNCTIONS = [
    ("branin", branin, [(-5, 10), (0, 15)], 0.397887),
    ("hartmann6", hartmann6, [(0, 1)] * 6, -3.32237),
    ("camel", camel, [(-3, 3), (-2, 2)], -1.0316),
    ("goldstein_price", goldstein_price, [(-2, 2)] * 2, 3.0),
    ("rosenbrock4", rosenbrock4, [(-5, 10)] * 4, 0.0),
]


def run_kerastuner(fn, bounds, trials, seed):
    import keras_tuner

    class Tuner(keras_tuner.BayesianOptimization):
        def run_trial(self, trial, **kwargs):
            hp = trial.hyperparameters
            x = [hp.Float(f"x{i}", lo, hi) for i, (lo, hi) in enumerate(bounds)]
            return fn(x)

    d = tempfile.mkdtemp()
    try:
        t = Tuner(max_trials=trials, seed=seed, overwrite=True, directory=d, project_name="p")
        t.search(verbose=0)
        scores = [tr.score for tr in t.oracle.trials.values() if tr.score is not None]
        return min(scores), len(scores)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def run_optuna(fn, bounds, trials, seed):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial):
        return fn([trial.suggest_float(f"x{i}", lo, hi) for i, (lo, hi) in enumerate(bounds)])

    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=trials)
    return study.best_value, len(study.trials)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--only", choices=["kerastuner", "optuna"])
    ap.add_argument("--functions", help="comma-separated subset, e.g. branin,camel")
    args = ap.parse_args()
    functions = FUNCTIONS
    if args.functions:
        wanted = args.functions.split(",")
        functions = [f for f in FUNCTIONS if f[0] in wanted]
    runners = [("kerastuner_bo", run_kerastuner), ("optuna_tpe", run_optuna)]
    if args.only:
        runners = [r for r in runners if r[0].startswith(args.only)]
    print(f"{'oracle':<16}{'function':<17}{'median regret':>14}{'mean regret':>14}{'s/trial':>10}")
    for name, runner in runners:
        for fname, fn, bounds, fstar in functions:
            regrets = []
            start = time.perf_counter()
            n = 0
            for seed in range(args.seeds):
                best, k = runner(fn, bounds, args.trials, seed)
                regrets.append(best - fstar)
                n += k
            per = (time.perf_counter() - start) / max(n, 1)
            print(f"{name:<16}{fname:<17}{statistics.median(regrets):>14.6g}{statistics.mean(regrets):>14.6g}{per:>10.4f}",
                  flush=True)


if __name__ == "__main__":
    main()
