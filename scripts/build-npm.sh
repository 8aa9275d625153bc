#!/usr/bin/env bash
# Builds the npm package into pkg/ (ES module + .wasm + TypeScript declarations), offline:
# cargo (wasm32, simd128), wasm-bindgen (the CLI at Cargo.lock's version), wasm-opt from npm's
# binaryen when node_modules has it (`npm ci` at the repository root), then the JS sources in js/.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-pkg}
cargo build --release --lib --no-default-features --target wasm32-unknown-unknown
rm -rf "$out"
mkdir -p "$out/wasm"
wasm-bindgen --target web --out-dir "$out/wasm" --out-name tunelab_wasm \
  target/wasm32-unknown-unknown/release/tunelab.wasm
if [ -x node_modules/.bin/wasm-opt ]; then
  node_modules/.bin/wasm-opt -O3 --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$out/wasm/tunelab_wasm_bg.wasm" -o "$out/wasm/tunelab_wasm_bg.wasm"
else
  echo "note: node_modules/.bin/wasm-opt not found (npm ci installs binaryen); the .wasm is not optimised" >&2
fi
cp js/tunelab.js js/tunelab.d.ts js/package.json js/README.md LICENSE "$out/"
for f in widget.js widget-worker.js widget.d.ts embed.html; do
  [ -f "js/$f" ] && cp "js/$f" "$out/"
done
wasm_bytes=$(stat -c %s "$out/wasm/tunelab_wasm_bg.wasm")
gz=$(cat "$out/wasm/tunelab_wasm_bg.wasm" "$out/wasm/tunelab_wasm.js" "$out/tunelab.js" | gzip -9 | wc -c)
echo "package in $out: wasm $wasm_bytes bytes; wasm + JS gzipped $gz bytes"
