#!/usr/bin/env bash
# Runs the SGEMM benchmark (tunelab and matrixmultiply) and its NumPy/OpenBLAS peer, both
# single-threaded, and prints one table with the ratio tunelab / numpy per shape.
# Usage: benches/matmul.sh   (from anywhere; needs cargo and python3 with numpy)
set -euo pipefail
cd "$(dirname "$0")/.."

rust_out=$(mktemp)
py_out=$(mktemp)
trap 'rm -f "$rust_out" "$py_out"' EXIT

cargo bench --bench matmul >"$rust_out"
OPENBLAS_NUM_THREADS=1 python3 benches/peers/numpy_matmul.py >"$py_out"

# Join on the size label (first column); the header rows are skipped.
awk '
    NR == FNR { if (FNR > 1) numpy[$1] = $2; next }
    FNR == 1 {
        printf "%-20s %14s %16s %14s %14s\n", "size", "tunelab_GFLOPs", "matrixmult_GFLOPs", "numpy_GFLOPs", "tunelab/numpy"
        next
    }
    {
        np = ($1 in numpy) ? numpy[$1] : 0
        ratio = np > 0 ? sprintf("%.2f", $2 / np) : "n/a"
        printf "%-20s %14s %16s %14s %14s\n", $1, $2, $3, (np > 0 ? np : "n/a"), ratio
    }
' "$py_out" "$rust_out"
