#!/usr/bin/env bash
# Trials per second of a study shared through a SQL database, with 1, 2 and 4 `tunelab tune`
# workers, SQLite and PostgreSQL (a throwaway server from scripts/pg.sh), against one process
# keeping the study in a directory (the default storage), on small models: the circle data set,
# a searched 2-64 unit layer; 120 trials of 2 epochs (where the storage's own cost shows), then
# 40 trials of 100 epochs (where training dominates and workers add up).
#
#   bash benches/shared_storage.sh
#
# Prints a Markdown table per setting: wall seconds, trials/s, and the time each trial costs
# over the directory storage's (1 worker).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=$PWD/target/release/tunelab
source scripts/pg.sh
pg_start >/dev/null
work=$(mktemp -d)
trap 'pg_stop; rm -rf "$work"' EXIT
cat >"$work/spec.json" <<'EOF'
{"layers": [
  {"class_name": "Dense", "config": {"units": {"hp": "Int", "name": "units", "min_value": 2, "max_value": 64},
     "activation": {"hp": "Choice", "name": "act", "values": ["relu", "tanh"]}}},
  {"class_name": "Dense", "config": {"units": 2, "activation": "softmax"}}],
 "compile": {"optimizer": {"class_name": "adam", "config": {"learning_rate":
     {"hp": "Float", "name": "lr", "min_value": 1e-4, "max_value": 1e-1, "sampling": "log"}}},
  "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}}
EOF
psql_bin=$(pg_bin)/psql

now() { date +%s.%N; }

# run LABEL WORKERS ARGS...: prints the wall seconds of WORKERS workers started together.
run() {
  local workers=$1
  shift
  local t0 t1 pids=()
  t0=$(now)
  for _ in $(seq "$workers"); do
    "$bin" tune "${common[@]}" "$@" >/dev/null 2>"$work/err" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || { cat "$work/err" >&2; exit 1; }; done
  t1=$(now)
  echo "$t1 - $t0" | bc -l
}

bench() {
  local trials=$1 epochs=$2 rows=() dir_secs secs per extra url
  common=("$work/spec.json" --dataset circle --max-trials "$trials" --epochs "$epochs" --json)
  dir_secs=$(run 1 --directory "$work/dir" --project-name "bench$epochs" --overwrite)
  rows+=("| directory (one process) | 1 | $(printf %.2f "$dir_secs") | $(echo "$trials / $dir_secs" | bc -l | xargs printf %.1f) | - |")
  for backend in sqlite postgresql; do
    for workers in 1 2 4; do
      case $backend in
        sqlite) url="sqlite:///$work/bench-$epochs-$workers.db" ;;
        postgresql)
          "$psql_bin" -h 127.0.0.1 -p "$PG_PORT" -U tunelab -d postgres -qc "CREATE DATABASE bench_${epochs}_$workers" >/dev/null
          url="postgresql://tunelab@127.0.0.1:$PG_PORT/bench_${epochs}_$workers" ;;
      esac
      secs=$(run "$workers" --storage "$url" --study-name bench)
      per=$(echo "$trials / $secs" | bc -l)
      if [ "$workers" = 1 ]; then
        extra=$(echo "($secs - $dir_secs) * 1000 / $trials" | bc -l | xargs printf "%+.1f ms")
      else
        extra="-"
      fi
      rows+=("| $backend | $workers | $(printf %.2f "$secs") | $(printf %.1f "$per") | $extra |")
    done
  done
  echo
  echo "$trials trials of $epochs epochs (circle, 2-64 units), $(nproc) cores:"
  echo
  echo "| storage | workers | seconds | trials/s | per trial over the directory |"
  echo "| --- | --- | --- | --- | --- |"
  printf '%s\n' "${rows[@]}"
}

bench 120 2
bench 40 100
