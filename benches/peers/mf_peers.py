"""The multi-fidelity peers on tunelab's learning-curve tables (benches/multifidelity.rs plays
tunelab's tuners on the same tables): KerasTuner's Hyperband and BayesianOptimization (their
run_trial reads the table), Optuna's TPE with its HyperbandPruner (an objective reporting every
epoch's val_accuracy and stopping when pruned) and Optuna's plain TPE (27 epochs a trial).

Counted as benches/multifidelity.rs counts: a trial asks for a configuration and epochs (from
KerasTuner's tuner/initial_epoch, warm-started, to tuner/epochs; Optuna: from 0 until pruned or
27) and gets the nearest recorded configuration's curve; its score is its best val_accuracy over
the epochs it trained, credited when the trial ends; the budget is epochs trained in all. The
search stops once 10x max_epochs epochs are spent. Prints best val_accuracy after 1x, 3x and
10x max_epochs (median [quartiles] over the seeds) and writes the curves to
target/multifidelity/peers_curves_NAME.csv.

Then, as benches/multifidelity.rs times tunelab's tuners, each peer with 4 workers in simulated
time (wall_kerastuner: KerasTuner's distributed mode, one oracle answering each worker's
create_trial; wall_optuna: ask/tell with 4 trials in flight, each reporting epoch by epoch): a
row's epochs take its median epoch time, the budget is 20x max_epochs, and the time to target
is when the first trial to reach the target val_accuracy (the top 5% of the table's
configurations) ends. Prints the median [quartiles] time to target and writes the wall-time
curves to target/multifidelity/peers_curves_NAME_wall.csv.

Run: `bash benches/multifidelity.sh` (or, in the venv it makes, `python benches/peers/mf_peers.py
[--seeds 30] [--tables digits,mnist] [--only kerastuner|optuna] [--parts epochs,wall]`).
"""
import argparse
import gzip
import math
import os
import shutil
import sys
import tempfile

os.environ.setdefault("KERAS_BACKEND", "jax")
import numpy as np

MAX_EPOCHS = 27
BUDGET = 10 * MAX_EPOCHS


def read_table(path):
    with gzip.open(path, "rt") as f:
        header = f.readline()
        n_val = float([w for w in header.split() if w.startswith("val=")][0][4:])
        f.readline()
        rows = np.array([[float(x) for x in line.split(",")] for line in f if line.strip()])
    configs = rows[:, :7]
    acc = rows[:, 7:7 + MAX_EPOCHS] / n_val
    # Each configuration's median epoch time (seconds), as benches/multifidelity.rs times it.
    epoch_s = np.median(rows[:, 7 + MAX_EPOCHS:7 + 2 * MAX_EPOCHS], axis=1) / 1e3
    return configs, acc, epoch_s


def target_of(acc):
    """benches/multifidelity.rs's target: the top 5% of the table's configurations."""
    best = np.sort(acc.max(axis=1))
    return float(best[int(len(best) * 0.95)])


def nearest(configs, c):
    """The row nearest to c, with benches/multifidelity.rs's distance."""
    d = ((configs[:, 0] - c[0]) / 2.0) ** 2
    for i in range(3):
        both = i < np.minimum(configs[:, 0], c[0])
        d += np.where(both, ((configs[:, 1 + i] - c[1 + i]) / 480.0) ** 2, 0.0)
    d += (configs[:, 4] - c[4]) ** 2 + (configs[:, 5] - c[5]) ** 2
    d += ((np.log(configs[:, 6]) - math.log(c[6])) / math.log(100.0)) ** 2
    return int(np.argmin(d))


class Ledger:
    """Trials in the order they ended: (epochs trained, score)."""

    def __init__(self):
        self.trials = []

    @property
    def spent(self):
        return sum(e for e, _ in self.trials)

    def best_after(self, epochs):
        spent, best = 0, 0.0
        for e, s in self.trials:
            spent += e
            if spent > epochs:
                break
            best = max(best, s)
        return best


def config_of(get):
    n = int(get("num_layers"))
    return [n, get("units_0"), get("units_1"), get("units_2"),
            1.0 if get("activation") == "tanh" else 0.0, 1.0 if get("dropout") else 0.0, get("lr")]


def run_kerastuner(kind, configs, acc, seed):
    import keras_tuner as kt

    ledger = Ledger()
    base = kt.Hyperband if kind == "hyperband" else kt.BayesianOptimization

    # The space declared up front (a tuner without a hypermodel starts with an empty space
    # and creates no trial).
    space = kerastuner_space()

    class TableTuner(base):
        def run_trial(self, trial, *args, **kwargs):
            hp = trial.hyperparameters
            to = int(hp.values.get("tuner/epochs", MAX_EPOCHS))
            start = int(hp.values.get("tuner/initial_epoch", 0))
            row = nearest(configs, config_of(hp.get))
            score = float(acc[row, start:to].max())
            ledger.trials.append((to - start, score))
            if ledger.spent >= BUDGET:
                self.oracle.max_trials = len(self.oracle.trials)
            return {"val_accuracy": score}

    d = tempfile.mkdtemp(prefix="tunelab-mf-kt-")
    try:
        common = dict(hyperparameters=space, objective="val_accuracy", seed=kerastuner_seed(seed), directory=d, project_name="p", overwrite=True)
        if kind == "hyperband":
            t = TableTuner(max_epochs=MAX_EPOCHS, factor=3, hyperband_iterations=100, **common)
        else:
            t = TableTuner(max_trials=1000, **common)
        t.search(verbose=0)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return ledger


def run_optuna(kind, configs, acc, seed):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    ledger = Ledger()

    def objective(trial):
        c = config_of(lambda k: {
            "num_layers": lambda: trial.suggest_int("num_layers", 1, 3),
            "units_0": lambda: trial.suggest_int("units_0", 32, 512, step=32),
            "units_1": lambda: trial.suggest_int("units_1", 32, 512, step=32),
            "units_2": lambda: trial.suggest_int("units_2", 32, 512, step=32),
            "activation": lambda: trial.suggest_categorical("activation", ["relu", "tanh"]),
            "dropout": lambda: trial.suggest_categorical("dropout", [False, True]),
            "lr": lambda: trial.suggest_float("lr", 1e-4, 1e-2, log=True),
        }[k]())
        row = nearest(configs, c)
        best = 0.0
        for e in range(MAX_EPOCHS):
            best = max(best, float(acc[row, e]))
            if kind == "tpe+hyperband":
                trial.report(float(acc[row, e]), e + 1)
                if trial.should_prune():
                    ledger.trials.append((e + 1, best))
                    raise optuna.TrialPruned()
        ledger.trials.append((MAX_EPOCHS, best))
        return best

    def stop(study, _trial):
        if ledger.spent >= BUDGET:
            study.stop()

    pruner = (optuna.pruners.HyperbandPruner(min_resource=1, max_resource=MAX_EPOCHS, reduction_factor=3)
              if kind == "tpe+hyperband" else optuna.pruners.NopPruner())
    # A fixed study name: the HyperbandPruner puts trials in brackets by a hash of it.
    study = optuna.create_study(study_name=f"mf-{seed}", direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=seed), pruner=pruner)
    study.optimize(objective, n_trials=100000, callbacks=[stop])
    return ledger


WORKERS = 4
WALL_BUDGET = 20 * MAX_EPOCHS


def kerastuner_seed(seed):
    """KerasTuner's seed for run `seed`: its oracle seeds each value it draws with a counter
    that starts at the seed and goes up by one per hyperparameter (7 per configuration here), so
    seeds s and s + 7 draw the same configurations one trial apart. Runs 100,003 apart share no
    draw (a run of 20x max_epochs makes fewer than 300 configurations)."""
    return 1 + 100_003 * seed


def kerastuner_space():
    import keras_tuner as kt

    space = kt.HyperParameters()
    space.Int("num_layers", 1, 3)
    for i in range(3):
        space.Int(f"units_{i}", 32, 512, step=32)
    space.Choice("activation", ["relu", "tanh"])
    space.Boolean("dropout")
    space.Float("lr", 1e-4, 1e-2, sampling="log")
    return space


def wall_kerastuner(kind, configs, acc, epoch_s, seed):
    """KerasTuner's distributed mode in simulated time: WORKERS workers (tuner ids), one oracle.
    A free worker calls the oracle's create_trial; its trial trains tuner/epochs -
    tuner/initial_epoch epochs of the nearest row (that many times the row's median epoch
    time), then the worker reports (update_trial) and ends it (end_trial), as BaseTuner.search
    does. An IDLE answer leaves the worker waiting for the next trial to end (KerasTuner's
    Hyperband gives one only when its last bracket waits for running trials: before that, a
    round that cannot be filled yet opens the next bracket). Events in time order, ties by worker; free workers ask
    in worker order, as tuner::simulate does. No new trial starts once the trials started
    have WALL_BUDGET epochs in all. Returns [(end, score, epochs)] in end order."""
    import keras_tuner as kt
    from keras_tuner.src.engine import trial as trial_module

    base = kt.Hyperband if kind == "hyperband" else kt.BayesianOptimization

    class TableTuner(base):
        def run_trial(self, trial, *args, **kwargs):
            raise RuntimeError("the simulation drives the oracle itself")

    d = tempfile.mkdtemp(prefix="tunelab-mf-kt-")
    try:
        common = dict(hyperparameters=kerastuner_space(), objective="val_accuracy", seed=kerastuner_seed(seed),
                      directory=d, project_name="p", overwrite=True)
        if kind == "hyperband":
            t = TableTuner(max_epochs=MAX_EPOCHS, factor=3, hyperband_iterations=100, **common)
        else:
            t = TableTuner(max_trials=1000, **common)
        oracle = t.oracle
        oracle.verbose = 0
        now, spent, stopped = 0.0, 0, False
        running = {}  # worker -> (end, start, epochs, score, trial)
        events = []
        while True:
            if not stopped:
                for w in range(WORKERS):
                    if w in running:
                        continue
                    if spent >= WALL_BUDGET:
                        stopped = True
                        break
                    trial = oracle.create_trial(f"worker{w}")
                    if trial.status == trial_module.TrialStatus.STOPPED:
                        stopped = True
                        break
                    if trial.status == trial_module.TrialStatus.IDLE:
                        break
                    hp = trial.hyperparameters
                    to = int(hp.values.get("tuner/epochs", MAX_EPOCHS))
                    start = int(hp.values.get("tuner/initial_epoch", 0))
                    row = nearest(configs, config_of(hp.get))
                    score = float(acc[row, start:to].max())
                    spent += to - start
                    running[w] = (now + epoch_s[row] * (to - start), now, to - start, score, trial)
            if not running:
                break
            w = min(running, key=lambda k: (running[k][0], k))
            end, _start, epochs, score, trial = running.pop(w)
            now = end
            oracle.update_trial(trial.trial_id, {"val_accuracy": score})
            trial.status = trial_module.TrialStatus.COMPLETED
            oracle.end_trial(trial)
            events.append((end, score, epochs))
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return events


def wall_optuna(kind, configs, acc, epoch_s, seed):
    """Optuna with WORKERS workers on one study in simulated time (ask/tell): each worker asks
    for a trial, then trains it epoch by epoch (each epoch the nearest row's median epoch
    time), reporting every epoch and asking should_prune (HyperbandPruner) as the objective of
    run_optuna does; the earliest epoch to end is processed first, ties by worker. A trial
    ends pruned or after MAX_EPOCHS epochs (told its best val_accuracy); its score, the best
    val_accuracy over the epochs it trained, counts when it ends. No new trial starts once
    WALL_BUDGET epochs have been trained in all (an Optuna trial's length is not known when it
    starts). Returns [(end, score, epochs)] in end order."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    pruner = (optuna.pruners.HyperbandPruner(min_resource=1, max_resource=MAX_EPOCHS, reduction_factor=3)
              if kind == "tpe+hyperband" else optuna.pruners.NopPruner())
    study = optuna.create_study(study_name=f"mf-{seed}", direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=seed), pruner=pruner)

    def start(now):
        trial = study.ask()
        c = [trial.suggest_int("num_layers", 1, 3)]
        c += [trial.suggest_int(f"units_{i}", 32, 512, step=32) for i in range(3)]
        c.append(1.0 if trial.suggest_categorical("activation", ["relu", "tanh"]) == "tanh" else 0.0)
        c.append(1.0 if trial.suggest_categorical("dropout", [False, True]) else 0.0)
        c.append(trial.suggest_float("lr", 1e-4, 1e-2, log=True))
        row = nearest(configs, c)
        # [end of the epoch now training, epochs done, best so far, row, trial]
        return [now + epoch_s[row], 0, 0.0, row, trial]

    now, spent = 0.0, 0
    running = {}
    events = []
    while True:
        for w in range(WORKERS):
            if w not in running and spent < WALL_BUDGET:
                running[w] = start(now)
        if not running:
            break
        w = min(running, key=lambda k: (running[k][0], k))
        r = running[w]
        now = r[0]
        row, trial = r[3], r[4]
        v = float(acc[row, r[1]])
        r[1] += 1
        r[2] = max(r[2], v)
        spent += 1
        pruned = False
        if kind == "tpe+hyperband":
            trial.report(v, r[1])
            pruned = trial.should_prune()
        if pruned or r[1] == MAX_EPOCHS:
            if pruned:
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            else:
                study.tell(trial, r[2])
            del running[w]
            events.append((now, r[2], r[1]))
        else:
            r[0] = now + epoch_s[row]
    return events


def quartiles(v):
    """benches/multifidelity.rs's quartiles (linear interpolation; infinities kept)."""
    v = sorted(v)

    def q(p):
        x = p * (len(v) - 1)
        i, f = int(math.floor(x)), x - math.floor(x)
        if i + 1 < len(v) and f > 0:
            return v[i] * (1 - f) + v[i + 1] * f
        return v[i]

    return q(0.25), q(0.5), q(0.75)


def time_to(events, target):
    return next((e for e, s, _ in sorted(events, key=lambda x: x[0]) if s >= target), math.inf)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--tables", default="digits,mnist")
    ap.add_argument("--only", choices=["kerastuner", "optuna"])
    ap.add_argument("--parts", default="epochs,wall")
    a = ap.parse_args()
    peers = []
    if a.only != "optuna":
        peers += [("KerasTuner hyperband", run_kerastuner, wall_kerastuner, "hyperband"),
                  ("KerasTuner bayesian", run_kerastuner, wall_kerastuner, "bayesian")]
    if a.only != "kerastuner":
        peers += [("Optuna TPE+HyperbandPruner", run_optuna, wall_optuna, "tpe+hyperband"),
                  ("Optuna TPE", run_optuna, wall_optuna, "tpe")]
    os.makedirs("target/multifidelity", exist_ok=True)
    for name in a.tables.split(","):
        configs, acc, epoch_s = read_table(f"benches/data/lc_{name}.csv.gz")
        target = target_of(acc)
        print(f"\n## {name}: peers ({len(configs)} configurations, {a.seeds} seeds)\n")
        if "epochs" in a.parts:
            print("best val_accuracy after epochs spent, one worker: median [25%, 75%]\n")
            print(f"| tuner | 1x ({MAX_EPOCHS}) | 3x ({3 * MAX_EPOCHS}) | 10x ({10 * MAX_EPOCHS}) |")
            print("|---|---|---|---|")
            with open(f"target/multifidelity/peers_curves_{name}.csv", "w") as out:
                out.write("tuner,axis,x,q25,median,q75\n")
                for label, run, _, kind in peers:
                    ledgers = [run(kind, configs, acc, s) for s in range(a.seeds)]
                    cells = []
                    for b in (MAX_EPOCHS, 3 * MAX_EPOCHS, 10 * MAX_EPOCHS):
                        v = [l.best_after(b) for l in ledgers]
                        q = np.percentile(v, [25, 50, 75])
                        cells.append(f"{q[1]:.4f} [{q[0]:.4f}, {q[2]:.4f}]")
                    print(f"| {label} | " + " | ".join(cells) + " |", flush=True)
                    for x in range(1, BUDGET + 1, 3):
                        q = np.percentile([l.best_after(x) for l in ledgers], [25, 50, 75])
                        out.write(f"{label},epochs,{x},{q[0]},{q[1]},{q[2]}\n")
        if "wall" not in a.parts:
            continue
        print(f"\nwall time to val_accuracy >= {target:.4f} with {WORKERS} simulated workers (epoch budget "
              f"{WALL_BUDGET}): median [25%, 75%] simulated seconds, runs that reached it\n")
        print("| tuner | schedule | time to target | reached |")
        print("|---|---|---|---|")
        with open(f"target/multifidelity/peers_curves_{name}_wall.csv", "w") as out:
            out.write("tuner,axis,x,q25,median,q75\n")
            for label, _, wall, kind in peers:
                runs = [wall(kind, configs, acc, epoch_s, s) for s in range(a.seeds)]
                times = [time_to(r, target) for r in runs]
                reached = sum(math.isfinite(t) for t in times)
                lo, med, hi = quartiles(times)
                how = "distributed" if label.startswith("KerasTuner") else "ask/tell, 4 in flight"
                print(f"| {label} | {how} | {med:.1f} s [{lo:.1f}, {hi:.1f}] | {reached}/{a.seeds} |", flush=True)
                end = max(max(e for e, _, _ in r) for r in runs)
                for i in range(101):
                    t = end * i / 100
                    best = [max([s for e, s, _ in r if e <= t], default=0.0) for r in runs]
                    lo, med, hi = quartiles(best)
                    out.write(f"{label},wall,{t},{lo},{med},{hi}\n")


if __name__ == "__main__":
    sys.exit(main())
