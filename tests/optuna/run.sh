#!/usr/bin/env bash
# The Optuna test: Optuna's own readers (optuna.load_study, optuna-dashboard's API) on studies
# that `tunelab tune --storage` wrote, with SQLite and the throwaway PostgreSQL server of
# scripts/pg.sh (TUNELAB_TEST_POSTGRES). The venv is made from PyPI and cached under
# ~/.cache/tunelab-optuna-venv/<hash of the requirements and the Python version>; when the pinned
# versions cannot be installed (the registry moved on) it falls back to requirements-ranges.txt
# and says so. TUNELAB_BIN names the tunelab binary (default: target/release/tunelab).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/venv.sh
cached_venv tunelab-optuna-venv tests/optuna "optuna, optuna-dashboard, psycopg"
"$venv/bin/python" -m pip freeze --disable-pip-version-check | grep -iE '^(optuna|optuna-dashboard|sqlalchemy|psycopg)==' | tr '\n' ' '
echo
export TUNELAB_BIN="${TUNELAB_BIN:-$PWD/target/release/tunelab}"
"$venv/bin/python" -m unittest discover -v -s tests/optuna -p "test_*.py"
