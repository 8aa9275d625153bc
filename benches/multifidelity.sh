#!/usr/bin/env bash
# Every tunelab tuner on the learning-curve tables (benches/multifidelity.rs), then the peers
# (benches/peers/mf_peers.py, in a cached venv of KerasTuner, Keras on JAX, Optuna and
# matplotlib from PyPI; PEERS=0 skips them) and the plot. Each runs both data sets in parallel
# at the lowest priority (SEEDS=30, PARTS=epochs,wall, TUNERS=... by default: see
# benches/multifidelity.rs; the peers take SEEDS too, and both parts: one worker's epochs, 4
# simulated workers' wall time).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --bench multifidelity --no-run
mkdir -p target/multifidelity
pids=()
for t in digits mnist; do
  TABLES=$t nice -n 19 cargo bench --bench multifidelity > target/multifidelity/$t.md 2>/dev/null &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
cat target/multifidelity/digits.md target/multifidelity/mnist.md
if [ "${PEERS:-1}" = 1 ]; then
  source scripts/venv.sh
  cached_venv tunelab-mf-venv benches/peers/mf "KerasTuner, Keras, JAX, Optuna, matplotlib"
  pids=()
  for t in digits mnist; do
    nice -n 19 "$venv/bin/python" benches/peers/mf_peers.py --seeds "${SEEDS:-30}" --tables $t \
      > target/multifidelity/peers_$t.md &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  cat target/multifidelity/peers_digits.md target/multifidelity/peers_mnist.md | tee target/multifidelity/peers.md
  "$venv/bin/python" benches/peers/mf_plot.py
fi
