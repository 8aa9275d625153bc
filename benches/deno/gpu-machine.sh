#!/usr/bin/env bash
# The browser benchmark on a machine with a GPU but no browser, no node and no internet: Deno's
# WebGPU (wgpu on the Vulkan driver) instead of Chromium's. Run it there from the repository root:
#
#   bash benches/deno/gpu-machine.sh [FOLDER]     # FOLDER: what benches/deno/pack.sh filled (.devcarry/)
#
# It unpacks Deno from FOLDER (or uses $DENO), copies FOLDER/files/ (pkg/ and the TF.js files)
# into the working tree, prints Deno's version, the Vulkan loader's view and the WebGPU adapter,
# then runs benches/deno/run.js: the report on stdout, progress on stderr. The environment passes
# through: BENCH_MODELS, BENCH_CELLS, BENCH_CELL_TIMEOUT_S, BENCH_MIN_MS, BENCH_TFJS_WEBGPU_CAP,
# BENCH_TFJS_YIELD (see benches/deno/run.js), and DENO_WEBGPU_BACKEND (default here: vulkan; Deno's
# own default allows every backend). libvulkan.so.1 and the driver's ICD must already be
# usable (e.g. LD_LIBRARY_PATH, VK_ICD_FILENAMES); this script installs nothing.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
CARRY="${1:-.devcarry}"
[[ -d "$CARRY" ]] || { echo "no folder $CARRY (fill it with benches/deno/pack.sh)" >&2; exit 2; }
CARRY="$(cd "$CARRY" && pwd)"
WORK="${TMPDIR:-/tmp}/tunelab-deno"
mkdir -p "$WORK"

# Deno: $DENO, FOLDER/deno, or the binary inside FOLDER/deno-*.tgz (the npm package's tarball).
if [[ -n "${DENO:-}" ]]; then
  :
elif [[ -x "$CARRY/deno" ]]; then
  DENO="$CARRY/deno"
else
  tgz="$(ls "$CARRY"/deno-*.tgz 2>/dev/null | head -n1)"
  [[ -n "$tgz" ]] || { echo "no deno-*.tgz in $CARRY and no \$DENO" >&2; exit 2; }
  rm -rf "$WORK/pkg" && mkdir -p "$WORK/pkg"
  tar -xzf "$tgz" -C "$WORK/pkg" || exit 2
  DENO="$(find "$WORK/pkg" -type f -name deno | head -n1)"
  chmod +x "$DENO"
fi
export DENO_DIR="${DENO_DIR:-$WORK/cache}" DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
# Vulkan only: with every backend allowed (Deno's default), wgpu falls back to OpenGL/EGL when
# Vulkan finds no driver, and the adapter's info looks the same (only the backend differs).
export DENO_WEBGPU_BACKEND="${DENO_WEBGPU_BACKEND:-vulkan}"

# The git-ignored files, at their places in the tree.
if [[ -d "$CARRY/files" ]]; then
  cp -R "$CARRY/files/." "$ROOT/" || exit 2
fi

echo "== deno --version"
"$DENO" --version || exit 2
[[ -f "$CARRY/MANIFEST" ]] && { echo "== $CARRY/MANIFEST"; head -n3 "$CARRY/MANIFEST"; }
echo "== GPU and Vulkan"
command -v nvidia-smi >/dev/null && nvidia-smi -L
echo "DENO_WEBGPU_BACKEND=$DENO_WEBGPU_BACKEND LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-} VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-} VK_DRIVER_FILES=${VK_DRIVER_FILES:-}"
ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>/dev/null
echo "== WebGPU adapter (Deno's navigator.gpu)"
"$DENO" eval --no-config --allow-env=DENO_WEBGPU_BACKEND '
const a = await navigator.gpu?.requestAdapter({ powerPreference: "high-performance" });
if (!a) {
  console.log(`no WebGPU adapter (DENO_WEBGPU_BACKEND=${Deno.env.get("DENO_WEBGPU_BACKEND")}): is libvulkan.so.1 on the library path, and an ICD for the driver installed?`);
  Deno.exit(3);
}
const i = a.info;
console.log(JSON.stringify({ vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description, isFallbackAdapter: i.isFallbackAdapter, features: [...a.features].sort(), maxBufferSize: a.limits.maxBufferSize, maxStorageBufferBindingSize: a.limits.maxStorageBufferBindingSize }));
' 2>&1 | grep -v '^error: XDG_RUNTIME_DIR is invalid'
((PIPESTATUS[0] == 0)) || exit 3

echo "== benchmark"
exec "$DENO" run --no-config --allow-read=. --allow-run --allow-env benches/deno/run.js
