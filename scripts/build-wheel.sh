#!/usr/bin/env bash
# Builds the Python package (python/, an anywidget with the engine inside) into a wheel in
# python/dist/, offline apart from PyPI (pip fetches the build backend, hatchling):
#   1. the npm package (engine .wasm + JS): scripts/build-npm.sh into python/build/pkg, or the
#      one already built in DIR with --pkg DIR (scripts/test.sh passes the pkg/ it has just built);
#   2. python/js/build.mjs (esbuild from node_modules): the widget's ES module with the worker
#      and the gzipped .wasm inside, the engine's catalog and the guide's spec, into
#      python/src/tunelab/static/;
#   3. pip wheel (hatchling; the version is read from Cargo.toml).
# Prints the wheel's path and size.
set -euo pipefail
cd "$(dirname "$0")/.."
pkg=""
while [ $# -gt 0 ]; do
  case "$1" in
    --pkg) pkg="$2"; shift 2 ;;
    *) echo "usage: bash scripts/build-wheel.sh [--pkg DIR]  (DIR: an npm package built by scripts/build-npm.sh)" >&2; exit 2 ;;
  esac
done
if [ -z "$pkg" ]; then
  pkg=python/build/pkg
  bash scripts/build-npm.sh "$pkg"
fi
for f in tunelab.js wasm/tunelab_wasm.js wasm/tunelab_wasm_bg.wasm; do
  [ -f "$pkg/$f" ] || { echo "build-wheel: $pkg/$f is missing (build it with bash scripts/build-npm.sh $pkg)" >&2; exit 1; }
done
[ -x node_modules/.bin/esbuild ] || { echo "build-wheel: esbuild is missing: run npm ci at the repository root" >&2; exit 1; }
TUNELAB_PKG="$pkg" node python/js/build.mjs

# pip: this Python's, else a build venv of our own (Debian's python3 may come without pip).
py=${PYTHON:-python3}
if ! "$py" -m pip --version >/dev/null 2>&1; then
  venv="${XDG_CACHE_HOME:-$HOME/.cache}/tunelab-build-venv"
  [ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
  py="$venv/bin/python"
fi
rm -rf python/dist
"$py" -m pip wheel --no-deps --disable-pip-version-check -q -w python/dist ./python
wheel=$(ls python/dist/tunelab-*.whl)
version=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n1)
case "$(basename "$wheel")" in
  "tunelab-$version-"*) ;;
  *) echo "build-wheel: $wheel does not carry Cargo.toml's version $version" >&2; exit 1 ;;
esac
echo "wheel: $wheel $(stat -c %s "$wheel") bytes"
