#!/usr/bin/env bash
# The getting-started guide's search on the built-in digits (num_layers 1-3, units 32-512
# step 32, relu/tanh, dropout, lr 1e-4..1e-2 log; RandomSearch, objective val_accuracy):
# 3 trials x 2 executions x 2 epochs, and 10 trials x 1 execution x 20 epochs. Prints wall
# time and best val_accuracy for tunelab, then for KerasTuner + Keras (JAX CPU) when
# keras-tuner is installed (pip install keras-tuner keras jax scikit-learn).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
dir=$(mktemp -d)
run() {
  local trials=$1 execs=$2 epochs=$3
  local start
  start=$(python3 -c 'import time; print(time.time())')
  best=$(./target/release/tunelab tune examples/guide_search.json --dataset digits \
    --objective val_accuracy --max-trials "$trials" --executions-per-trial "$execs" \
    --epochs "$epochs" --directory "$dir" --project-name "b$trials" --overwrite --seed 1 --json \
    | tail -1 | python3 -c 'import json,sys; print(max(t["score"] for t in json.load(sys.stdin)["trials"] if t["score"] is not None))')
  wall=$(python3 -c "import time; print(time.time() - $start)")
  printf "tunelab     %2d trials x %d exec x %2d epochs  wall %7.2f s  best val_accuracy %.4f\n" \
    "$trials" "$execs" "$epochs" "$wall" "$best"
}
run 3 2 2
run 10 1 20
rm -rf "$dir"
if KERAS_BACKEND=jax python3 -c "import keras_tuner" 2>/dev/null; then
  KERAS_BACKEND=jax python3 benches/peers/kerastuner_search.py
fi
