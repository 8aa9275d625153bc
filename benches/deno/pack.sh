#!/usr/bin/env bash
# Fills the folder that benches/deno/gpu-machine.sh needs on a machine with a GPU and no browser,
# no node and no internet (run here, from anywhere in the repository):
#
#   bash benches/deno/pack.sh [FOLDER]        # FOLDER defaults to .devcarry/ at the repository root
#
# It holds the Deno release (the npm tarball @deno/linux-x64-glibc, DENO_TGZ) and, under files/,
# copies of the git-ignored files the run loads, at their paths in the repository: tunelab's
# built package (pkg/tunelab.js, pkg/wasm/tunelab_wasm.js, pkg/wasm/tunelab_wasm_bg.wasm) and
# the TensorFlow.js 4.22 files that benches/deno/tfjs.js and bench.js load (three UMD bundles
# and the SIMD .wasm of the wasm backend). Everything else the run needs is tracked in git.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEST="${1:-$ROOT/.devcarry}"
DENO_TGZ="${DENO_TGZ:-/tmp/denodl/deno-linux-x64-glibc-2.9.6.tgz}"

FILES=(
  pkg/tunelab.js
  pkg/wasm/tunelab_wasm.js
  pkg/wasm/tunelab_wasm_bg.wasm
  benches/browser/node_modules/@tensorflow/tfjs/dist/tf.es2017.min.js
  benches/browser/node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.es2017.min.js
  benches/browser/node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm
  benches/browser/node_modules/@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.es2017.min.js
)

missing=0
for f in "${FILES[@]}"; do
  if [[ ! -f "$ROOT/$f" ]]; then
    echo "missing: $f (pkg/: bash scripts/build-npm.sh; TF.js: npm install --prefix benches/browser)" >&2
    missing=1
  fi
done
if [[ ! -f "$DENO_TGZ" ]]; then
  echo "missing: the Deno tarball $DENO_TGZ (set DENO_TGZ)" >&2
  missing=1
fi
((missing == 0)) || exit 2

rm -rf "$DEST/files"
mkdir -p "$DEST/files"
rm -f "$DEST"/deno-*.tgz
cp "$DENO_TGZ" "$DEST/"
for f in "${FILES[@]}"; do
  mkdir -p "$DEST/files/$(dirname "$f")"
  cp "$ROOT/$f" "$DEST/files/$f"
done
# What the files are (gpu-machine.sh prints it, so a report names the build it measured).
{
  echo "packed: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "deno: $(basename "$DENO_TGZ")"
  (cd "$DEST/files" && sha256sum "${FILES[@]}")
} >"$DEST/MANIFEST"

du -ah "$DEST" | sort -k2
echo "total: $(du -sh "$DEST" | cut -f1) ($(du -sb "$DEST" | cut -f1) bytes) in $DEST"
