#!/usr/bin/env bash
# The notebook test: tunelab's wheel in real JupyterLab, from PyPI into a venv of its own.
#   1. the wheel (scripts/build-wheel.sh; --pkg DIR reuses an npm package built in DIR);
#   2. a venv with JupyterLab, Notebook 7, anywidget, numpy and pandas from PyPI, cached under
#      ~/.cache/tunelab-venv/<hash of requirements.txt and the Python version> so reruns are fast;
#      when the pinned versions cannot be installed (the registry moved on) it falls back to
#      requirements-ranges.txt and says so;
#   3. the wheel installed into it; python/tests (unittest) there;
#   4. tests/notebook/jupyterlab.test.mjs: JupyterLab on 127.0.0.1 without a token, driven by
#      playwright-core in Chromium (screenshots in test-results/notebook/).
set -euo pipefail
cd "$(dirname "$0")/../.."
pkg_args=()
[ "${1:-}" = "--pkg" ] && pkg_args=(--pkg "$2")

bash scripts/build-wheel.sh "${pkg_args[@]}"
wheel=$(ls python/dist/tunelab-*.whl)

py=${PYTHON:-python3}
"$py" -c 'import sys; assert sys.version_info >= (3, 9), sys.version' || { echo "tunelab notebook test: Python 3.9 or newer is needed ($py)" >&2; exit 1; }
key=$( (cat tests/notebook/requirements.txt tests/notebook/requirements-ranges.txt; "$py" -c 'import sys; print(sys.version)') | sha256sum | cut -c1-16)
cache="${XDG_CACHE_HOME:-$HOME/.cache}/tunelab-venv"
venv="$cache/$key"
if [ ! -f "$venv/.complete" ]; then
  echo "tunelab: making the notebook test's venv in $venv (JupyterLab, Notebook 7, anywidget, numpy, pandas from PyPI; about a minute, cached afterwards)"
  rm -rf "$venv"
  mkdir -p "$cache"
  "$py" -m venv "$venv" || { echo "tunelab: '$py -m venv' failed (on Debian: apt-get install python3-venv)" >&2; exit 1; }
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip || echo "note: could not upgrade pip in the venv; going on with $("$venv/bin/python" -m pip --version)"
  if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check -r tests/notebook/requirements.txt; then
    echo "note: the pinned versions of tests/notebook/requirements.txt did not install (the registry moved on?);" \
      "falling back to the ranges of tests/notebook/requirements-ranges.txt" >&2
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r tests/notebook/requirements-ranges.txt
  fi
  touch "$venv/.complete"
fi
"$venv/bin/python" -m pip freeze --disable-pip-version-check | grep -iE '^(jupyterlab|anywidget|ipywidgets|numpy|pandas)==' | tr '\n' ' '
echo
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps --force-reinstall "$wheel"

echo "==> python/tests (the Python side, no browser)"
"$venv/bin/python" -m unittest discover -s python/tests

echo "==> JupyterLab in Chromium"
TUNELAB_VENV="$venv" node --test --test-concurrency=1 tests/notebook/jupyterlab.test.mjs
