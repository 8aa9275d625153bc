#!/usr/bin/env bash
# The getting-started guide's search on the built-in digits (num_layers 1-3, units 32-512
# step 32, relu/tanh, dropout, lr 1e-4..1e-2 log; RandomSearch, objective val_accuracy):
# 3 trials x 2 executions x 2 epochs and 10 trials x 1 execution x 20 epochs, with `tunelab
# tune` and with KerasTuner + Keras (JAX CPU) when keras-tuner is installed (pip install
# keras-tuner keras jax), side by side for each seed in SEEDS (default "1 2 3"), then the means
# and ratios. tunelab takes PARALLEL trials per batch, each on a thread (default: two per core).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
python3 benches/peers/search_side_by_side.py
