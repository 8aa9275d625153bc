#!/usr/bin/env bash
# The playground page on http://127.0.0.1:8080: installs what is missing (the wasm32 target,
# wasm-bindgen-cli, Trunk, the npm packages), then `trunk serve --release` (rebuilds on change).
# Extra arguments go to trunk serve (for example --port 9000).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh
ensure_wasm_target
ensure_wasm_bindgen
ensure_trunk
ensure_npm
exec trunk serve --release "$@"
