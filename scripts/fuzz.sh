#!/usr/bin/env bash
# Fuzzes tunelab's parsers with cargo-fuzz (libFuzzer + AddressSanitizer): the model spec, the
# hypermodel spec, stored hyperparameters, CSV, .npy and a stored search (oracle.json +
# trial.json). Each target runs RUNS executions (default 100000) from a seed corpus made of the
# project's own examples; a crash stops the script with the reproducer under fuzz/artifacts/.
#
#   bash scripts/fuzz.sh                 # every target, 100000 executions each
#   RUNS=1000000 bash scripts/fuzz.sh csv npy
#
# cargo-fuzz needs nightly rustc flags: a nightly toolchain is used when one is installed,
# otherwise the stable one with RUSTC_BOOTSTRAP=1 (the same compiler, its unstable flags
# unlocked). The URL-hash decoder of the page is JavaScript: `npm run fuzz:state` fuzzes it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/tools.sh
ensure_cargo_fuzz

RUNS=${RUNS:-100000}
# LeakSanitizer needs ptrace, which sandboxes often block (it may hang there): off unless asked.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(model_spec hyper_spec hyperparameters csv npy stored_search)

if rustup toolchain list | grep -q '^nightly'; then
  TOOLCHAIN=(+nightly)
else
  TOOLCHAIN=()
  export RUSTC_BOOTSTRAP=1
fi

# Seed corpora from the repository (fuzz/corpus is ignored by git).
seed() {
  local dir=fuzz/corpus/$1
  shift
  mkdir -p "$dir"
  local f
  for f in "$@"; do
    [ -f "$f" ] && cp "$f" "$dir/$(basename "$f")"
  done
  return 0
}
seed model_spec examples/guide_units.json examples/spiral.json examples/digits.json
seed hyper_spec examples/guide_search.json examples/spiral.json examples/digits.json
seed npy tests/data/*.npy
mkdir -p fuzz/corpus/csv fuzz/corpus/hyperparameters fuzz/corpus/stored_search
printf 'y|a,b\na,b,y\n1,2,0\n3,"4",1\n' > fuzz/corpus/csv/label
printf '\xef\xbb\xbfx,y\r\n1e3,-2\r\n\r\n.5,nan\n' > fuzz/corpus/csv/bom
printf '%s' '{"space": [{"class_name": "Int", "config": {"name": "units", "default": null, "conditions": [], "min_value": 32, "max_value": 512, "step": 32, "sampling": "linear"}}, {"class_name": "Float", "config": {"name": "lr", "default": 0.0001, "conditions": [{"class_name": "Parent", "config": {"name": "units", "values": [32]}}], "min_value": 0.0001, "max_value": 0.01, "step": null, "sampling": "log"}}, {"class_name": "Choice", "config": {"name": "act", "default": "relu", "conditions": [], "values": ["relu", "tanh"], "ordered": false}}, {"class_name": "Boolean", "config": {"name": "drop", "default": false, "conditions": []}}, {"class_name": "Fixed", "config": {"name": "f", "conditions": [], "value": 3}}], "values": {"units": 64, "lr": 0.001, "act": "tanh", "drop": true, "f": 3}}' > fuzz/corpus/hyperparameters/space
# A real stored search: oracle.json, NUL, one trial.json.
project=$(mktemp -d)
cargo run --release --quiet -- tune examples/guide_units.json --dataset xor --max-trials 2 \
  --epochs 1 --directory "$project" --project-name p --overwrite >/dev/null
for t in "$project"/p/trial_*/trial.json; do
  { cat "$project/p/oracle.json"; printf '\0'; cat "$t"; } > "fuzz/corpus/stored_search/$(basename "$(dirname "$t")")"
done
rm -rf "$project"

cd fuzz
for t in "${TARGETS[@]}"; do
  echo "== fuzz target $t: $RUNS executions"
  # -rss_limit_mb: a model the limits allow may take a few hundred MB; more is a bug.
  # The status is taken from cargo-fuzz itself (with pipefail, a `| grep ... || true` would
  # hide a crash).
  log=$(mktemp)
  status=0
  cargo "${TOOLCHAIN[@]}" fuzz run --release "$t" "corpus/$t" -- \
    -runs="$RUNS" -max_len=65536 -timeout=10 -rss_limit_mb=3072 -print_final_stats=1 \
    >"$log" 2>&1 || status=$?
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|==|SUMMARY|Done)|panicked|ERROR' "$log" || true
  rm -f "$log"
  [ "$status" -eq 0 ] || { echo "fuzz target $t failed (status $status): see fuzz/artifacts/$t/"; exit 1; }
done
echo "every target ran $RUNS executions without a crash"
