#!/usr/bin/env bash
# Every tunelab tuner on the learning-curve tables (benches/multifidelity.rs), both data sets
# in parallel at the lowest priority. SEEDS=30 by default.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --bench multifidelity --no-run
mkdir -p target/multifidelity
for t in digits mnist; do
  TABLES=$t nice -n 19 cargo bench --bench multifidelity > target/multifidelity/$t.md 2>/dev/null &
done
wait
cat target/multifidelity/digits.md target/multifidelity/mnist.md
