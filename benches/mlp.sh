#!/usr/bin/env bash
# MLP training throughput, tunelab beside Keras 3 (JAX, CPU), in one run on one machine.
set -euo pipefail
cd "$(dirname "$0")/.."
ours=$(cargo bench --bench mlp 2>/dev/null)
theirs=$(KERAS_BACKEND=jax python3 benches/peers/keras_mlp.py 2>/dev/null)
echo "$ours"
echo "$theirs"
paste <(echo "$ours" | tail -2 | awk '{print $NF}') <(echo "$theirs" | tail -2 | awk '{print $NF}') \
  | awk 'BEGIN{split("64-128-64-10 784-256-128-10", n, " ")} {printf "%-16s tunelab/keras = %.2fx\n", n[NR], $1/$2}'
