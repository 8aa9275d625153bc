#!/usr/bin/env bash
# Search algorithms on test functions with known minima, tunelab beside KerasTuner's
# BayesianOptimization and Optuna's TPESampler: same functions, 50 trials, 30 seeds.
# Needs `pip install keras-tuner keras jax optuna` for the peers.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --bench bo 2>/dev/null
KERAS_BACKEND=jax python3 benches/peers/bo_peers.py 2>/dev/null | tail -n +2
