#!/usr/bin/env bash
# The asynchronous worker pool measured on real training (not simulated): the getting-started
# search (examples/guide_search.json) on the built-in digits with ASHA (max_epochs 27, factor
# 3, MAX_TRIALS trials, default 60) and PARALLEL workers (default: the cores), once taking
# trials in batches (--schedule batches: each batch waits for its slowest trial) and once
# asynchronously (--schedule async, ASHA's default), for each seed in SEEDS (default "1 2 3"),
# alternating, then the mean wall times and their ratio. Run it on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin tunelab
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
python3 - "${PARALLEL:-$(nproc)}" "${MAX_TRIALS:-60}" ${SEEDS:-1 2 3} <<'PY'
import json, os, subprocess, sys, tempfile, time
parallel, max_trials, seeds = sys.argv[1], sys.argv[2], sys.argv[3:]
walls = {"batches": [], "async": []}
print("| seed | schedule | wall s | trials | best val_accuracy |\n|---:|---|---:|---:|---:|")
with tempfile.TemporaryDirectory() as d:
    for seed in seeds:
        for schedule in walls:
            t0 = time.perf_counter()
            out = subprocess.run(
                ["target/release/tunelab", "tune", "examples/guide_search.json", "--dataset", "digits",
                 "--device", "cpu", "--objective", "val_accuracy", "--tuner", "asha", "--max-epochs", "27", "--max-trials", max_trials,
                 "--seed", seed, "--parallel-trials", parallel, "--schedule", schedule,
                 "--directory", d, "--project-name", f"{schedule}-{seed}", "--overwrite", "--json"],
                check=True, capture_output=True, text=True).stdout
            wall = time.perf_counter() - t0
            walls[schedule].append(wall)
            trials = json.loads(out)["trials"]
            best = max(t["score"] or 0 for t in trials)
            print(f"| {seed} | {schedule} | {wall:.1f} | {len(trials)} | {best:.4f} |")
b, a = (sum(walls[k]) / len(walls[k]) for k in ("batches", "async"))
print(f"\nmean wall time: batches {b:.1f} s, async {a:.1f} s; batches / async = {b / a:.2f}x "
      f"({parallel} workers, {os.cpu_count()} cores)")
PY
