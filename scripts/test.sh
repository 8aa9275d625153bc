#!/usr/bin/env bash
# Every test of tunelab, from a fresh machine: installs what is missing (idempotently), then
# formatting, lints (native and wasm32), the wasm32 build, and all tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

step() { printf '\n==> %s\n' "$*"; }

step "toolchain"
if ! command -v cargo >/dev/null; then
  echo "cargo not found: install Rust with rustup (https://rustup.rs) first" >&2
  exit 1
fi
have_component() { rustup component list --installed 2>/dev/null | grep -q "^$1"; }
have_component rustfmt || rustup component add rustfmt
have_component clippy || rustup component add clippy
rustup target list --installed | grep -q '^wasm32-unknown-unknown$' || rustup target add wasm32-unknown-unknown
cargo --version

step "cargo fmt --check"
cargo fmt --all -- --check

step "clippy (native, all targets)"
cargo clippy --all-targets -- -D warnings

step "clippy (wasm32-unknown-unknown, all targets)"
cargo clippy --all-targets --target wasm32-unknown-unknown -- -D warnings

step "build the library for wasm32-unknown-unknown"
RUSTFLAGS="-D warnings -C target-feature=+simd128" cargo build --lib --release --target wasm32-unknown-unknown

step "tests (release: the training tests run real fits)"
cargo test --release

step "all tests passed"
