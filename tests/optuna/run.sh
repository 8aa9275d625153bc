#!/usr/bin/env bash
# The Optuna test: Optuna's own readers (optuna.load_study, optuna-dashboard's API) on studies
# that `tunelab tune --storage` wrote, with SQLite and the throwaway PostgreSQL server of
# scripts/pg.sh (TUNELAB_TEST_POSTGRES). The venv is made from PyPI and cached under
# ~/.cache/tunelab-optuna-venv/<hash of the requirements and the Python version>; when the pinned
# versions cannot be installed (the registry moved on) it falls back to requirements-ranges.txt
# and says so. TUNELAB_BIN names the tunelab binary (default: target/release/tunelab).
set -euo pipefail
cd "$(dirname "$0")/../.."
py=${PYTHON:-python3}
key=$( (cat tests/optuna/requirements.txt tests/optuna/requirements-ranges.txt; "$py" -c 'import sys; print(sys.version)') | sha256sum | cut -c1-16)
cache="${XDG_CACHE_HOME:-$HOME/.cache}/tunelab-optuna-venv"
venv="$cache/$key"
if [ ! -f "$venv/.complete" ]; then
  echo "tunelab: making the Optuna test's venv in $venv (optuna, optuna-dashboard, psycopg from PyPI; under a minute, cached afterwards)"
  rm -rf "$venv"
  mkdir -p "$cache"
  "$py" -m venv "$venv" || { echo "tunelab: '$py -m venv' failed (on Debian: apt-get install python3-venv)" >&2; exit 1; }
  if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check -r tests/optuna/requirements.txt; then
    echo "note: the pinned versions of tests/optuna/requirements.txt did not install (the registry moved on?);" \
      "falling back to the ranges of tests/optuna/requirements-ranges.txt" >&2
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r tests/optuna/requirements-ranges.txt
  fi
  touch "$venv/.complete"
fi
"$venv/bin/python" -m pip freeze --disable-pip-version-check | grep -iE '^(optuna|optuna-dashboard|sqlalchemy|psycopg)==' | tr '\n' ' '
echo
export TUNELAB_BIN="${TUNELAB_BIN:-$PWD/target/release/tunelab}"
"$venv/bin/python" -m unittest discover -v -s tests/optuna -p "test_*.py"
