#!/usr/bin/env bash
# Makes the learning-curve tables of issue 23 (benches/data/lc_*.csv.gz) with the engine's own
# training (examples/lc_table.rs), one thread, at the lowest priority: 250 configurations of
# the getting-started space on digits and 150 on the first 2,500 MNIST digits, 27 epochs each
# (0.75 s and 2 s per configuration on an idle core of the 2-core development machine, 2-3x
# that while other builds share it; the committed tables took about 20 minutes).
# DIGITS=N MNIST=N change the sample sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --example lc_table
mkdir -p benches/data
nice -n 19 target/release/examples/lc_table digits "${DIGITS:-250}" 27 1 benches/data/lc_digits.csv
gzip -9 -n -f benches/data/lc_digits.csv
nice -n 19 target/release/examples/lc_table mnist:2500 "${MNIST:-150}" 27 2 benches/data/lc_mnist.csv
gzip -9 -n -f benches/data/lc_mnist.csv
ls -l benches/data/lc_*.csv.gz
