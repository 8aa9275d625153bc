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
source scripts/venv.sh
cached_venv tunelab-venv tests/notebook "JupyterLab, Notebook 7, anywidget, numpy, pandas"
"$venv/bin/python" -m pip freeze --disable-pip-version-check | grep -iE '^(jupyterlab|anywidget|ipywidgets|numpy|pandas)==' | tr '\n' ' '
echo
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps --force-reinstall "$wheel"

echo "==> python/tests (the Python side, no browser)"
"$venv/bin/python" -m unittest discover -s python/tests

echo "==> JupyterLab in Chromium"
TUNELAB_VENV="$venv" node --test --test-concurrency=1 tests/notebook/jupyterlab.test.mjs
