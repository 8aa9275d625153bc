"""The getting-started guide's search, tunelab (`tunelab tune`, the CLI) and KerasTuner 1.4 +
Keras 3 (JAX, CPU) side by side on the same machine, in one run: RandomSearch on the digits,
3 trials x 2 executions x 2 epochs and 10 trials x 1 execution x 20 epochs, for each seed in
SEEDS (default 1 2 3). Prints each run's wall time and best val_accuracy, the means, and the
ratios (KerasTuner wall / tunelab wall; best val_accuracy difference in points).

The two draw different random hyperparameters (different RNGs) and hold out a different
random fifth of the same 1,797 digits, so a single run's best val_accuracy is noisy; the
means over seeds are what to compare. Run through benches/tune.sh (which builds the CLI)."""
import json
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
here = os.path.dirname(os.path.abspath(__file__))
root = os.path.abspath(os.path.join(here, "..", ".."))
sys.path.insert(0, here)
seeds = [int(s) for s in os.environ.get("SEEDS", "1 2 3").split()]
# Trials per batch: two per core, so that a batch's slowest trial leaves fewer cores idle.
parallel = os.environ.get("PARALLEL", str(2 * (os.cpu_count() or 1)))
# SEARCHES="3x2x2 10x1x20" (trials x executions x epochs) picks the searches.
SEARCHES = [tuple(int(n) for n in s.split("x")) for s in os.environ.get("SEARCHES", "3x2x2 10x1x20").split()]


def tunelab(trials, execs, epochs, seed, directory):
    start = time.perf_counter()
    out = subprocess.run(
        [os.path.join(root, "target", "release", "tunelab"), "tune", os.path.join(root, "examples", "guide_search.json"),
         "--dataset", "digits", "--objective", "val_accuracy", "--max-trials", str(trials),
         "--executions-per-trial", str(execs), "--epochs", str(epochs), "--directory", directory,
         "--project-name", f"s{trials}_{seed}", "--overwrite", "--seed", str(seed), "--parallel-trials", parallel, "--json"],
        check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - start
    res = json.loads(out.strip().splitlines()[-1])
    return wall, max(t["score"] for t in res["trials"] if t["score"] is not None)


def kerastuner(trials, execs, epochs, seed, x, y, split):
    import keras_tuner
    from kerastuner_search import build_model
    start = time.perf_counter()
    tuner = keras_tuner.RandomSearch(build_model, objective="val_accuracy", max_trials=trials,
                                     executions_per_trial=execs, overwrite=True, seed=seed,
                                     directory=tempfile.mkdtemp(), project_name=f"s{trials}_{seed}")
    tuner.search(x[:split], y[:split], epochs=epochs, validation_data=(x[split:], y[split:]), verbose=0)
    wall = time.perf_counter() - start
    return wall, tuner.oracle.get_best_trials(1)[0].score


def main():
    have_kt = True
    try:
        from kerastuner_search import tunelab_digits
        x, y = tunelab_digits()
        split = int(len(x) * 0.8)
    except ImportError as e:
        have_kt = False
        print(f"(KerasTuner not installed: {e}; pip install keras-tuner keras jax)")
    directory = tempfile.mkdtemp()
    print(f"tunelab --parallel-trials {parallel}; seeds {seeds}")
    for trials, execs, epochs in SEARCHES:
        rows = {"tunelab": [], "kerastuner": []}
        for seed in seeds:
            rows["tunelab"].append(tunelab(trials, execs, epochs, seed, directory))
            if have_kt:
                rows["kerastuner"].append(kerastuner(trials, execs, epochs, seed, x, y, split))
        name = f"{trials} trials x {execs} exec x {epochs} epochs"
        for who, rs in rows.items():
            for seed, (wall, best) in zip(seeds, rs):
                print(f"{who:<11} {name}  seed {seed}  wall {wall:7.2f} s  best val_accuracy {best:.4f}")
        mean = {who: (sum(r[0] for r in rs) / len(rs), sum(r[1] for r in rs) / len(rs)) for who, rs in rows.items() if rs}
        for who, (wall, best) in mean.items():
            print(f"{who:<11} {name}  mean  wall {wall:7.2f} s  best val_accuracy {best:.4f}")
        if "kerastuner" in mean:
            ratio = mean["kerastuner"][0] / mean["tunelab"][0]
            diff = 100 * (mean["tunelab"][1] - mean["kerastuner"][1])
            print(f"ratio       {name}  tunelab is {ratio:.1f}x faster; best val_accuracy {diff:+.1f} points")
            if len(seeds) > 1:
                # The per-seed differences' spread: how far the mean difference is from noise.
                d = [100 * (a[1] - b[1]) for a, b in zip(rows["tunelab"], rows["kerastuner"])]
                m = sum(d) / len(d)
                se = (sum((v - m) ** 2 for v in d) / (len(d) - 1) / len(d)) ** 0.5
                print(f"difference  {name}  {m:+.2f} points, standard error {se:.2f} over {len(d)} seeds")
        sys.stdout.flush()


main()
