#!/usr/bin/env bash
# The README's two commands as a newcomer runs them, without wiping this machine: clones the
# current commit into a temporary folder and runs there
#   1. bash scripts/serve.sh   until the page answers on its port (then stops the server),
#   2. CI=true bash scripts/test.sh   until it passes,
# with an empty CARGO_HOME (so no cargo-installed tool, no registry cache: wasm-bindgen-cli and
# Trunk are built from source again), a PATH that keeps the Rust toolchain, Node and the system
# but none of the tools the scripts install, a fresh node_modules and an empty npm cache. It prints
# how long each stage took. Not part of the test command: it took 22 minutes on 2 cores (2026-12-07).
#
#   bash scripts/fresh-check.sh            # the commit at HEAD (commit your changes first)
#   KEEP=1 bash scripts/fresh-check.sh     # keep the temporary folder (it is kept on failure)
#   PORT=8090 ...                          # the port for the served page (default 8088)
#
# System packages (Chromium, Mesa's Vulkan driver) cannot be taken away from a running machine:
# scripts/test.sh installs them with apt-get when they are missing, which this check only
# exercises on a machine that lacks them.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
commit=$(git rev-parse HEAD)
port=${PORT:-8088}
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "note: uncommitted changes are not part of the check; it runs commit $commit" >&2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tunelab-fresh.XXXXXX")
echo "fresh check of $commit in $work"
git clone --quiet --no-hardlinks "$repo" "$work/tunelab"
git -C "$work/tunelab" checkout --quiet "$commit"

# An empty cargo home (registry, git cache, installed tools); rustup's toolchains stay where they
# are (RUSTUP_HOME), reached through the proxies linked below.
export RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup}
old_cargo_bin=${CARGO_HOME:-$HOME/.cargo}/bin
export CARGO_HOME=$work/cargo-home
export CARGO_INSTALL_ROOT=$CARGO_HOME
unset CARGO_TARGET_DIR RUSTC_WRAPPER
mkdir -p "$work/toolchain" "$CARGO_HOME/bin"
for t in cargo rustc rustup rustdoc rustfmt cargo-fmt cargo-clippy clippy-driver; do
  if [ -x "$old_cargo_bin/$t" ]; then
    ln -s "$old_cargo_bin/$t" "$work/toolchain/$t"
  elif command -v "$t" >/dev/null; then
    ln -s "$(command -v "$t")" "$work/toolchain/$t"
  fi
done
# PATH: the new cargo bin, the toolchain proxies, then every old entry except the old cargo bin
# and any folder holding a tool the scripts install.
installed=(wasm-bindgen wasm-bindgen-test-runner trunk cargo-fuzz wasm-opt)
new_path="$CARGO_HOME/bin:$work/toolchain"
IFS=: read -r -a entries <<<"$PATH"
for d in "${entries[@]}"; do
  [ -n "$d" ] && [ "$d" != "$old_cargo_bin" ] || continue
  skip=
  for t in "${installed[@]}"; do [ -e "$d/$t" ] && skip=1; done
  [ -z "$skip" ] && new_path="$new_path:$d"
done
export PATH=$new_path
for t in "${installed[@]}"; do
  if command -v "$t" >/dev/null; then
    echo "fresh check: $t is still on PATH ($(command -v "$t"))" >&2
    exit 1
  fi
done
export npm_config_cache=$work/npm-cache
# pip's cache and the notebook test's venv (tests/notebook/run.sh keeps it under
# $XDG_CACHE_HOME/tunelab-venv) start empty too: JupyterLab and the rest come from PyPI.
export XDG_CACHE_HOME=$work/xdg-cache
export PIP_CACHE_DIR=$work/pip-cache
unset TUNELAB_REQUIRE_GPU

cd "$work/tunelab"
stage_names=()
stage_secs=()
record() { stage_names+=("$1"); stage_secs+=("$2"); }
report() {
  echo
  echo "fresh check of $commit: stage times"
  local i
  for i in "${!stage_names[@]}"; do
    printf '  %-48s %6d s  (%d min %02d s)\n' "${stage_names[$i]}" "${stage_secs[$i]}" \
      $((stage_secs[i] / 60)) $((stage_secs[i] % 60))
  done
}

# 1. serve.sh until the page answers.
start=$SECONDS
setsid bash scripts/serve.sh --port "$port" >"$work/serve.log" 2>&1 &
server=$!
stop_server() { kill -- -"$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
trap stop_server EXIT
answered=
while kill -0 "$server" 2>/dev/null && [ $((SECONDS - start)) -lt 3600 ]; do
  if curl -sf "http://127.0.0.1:$port/" -o "$work/page.html" 2>/dev/null && grep -q tunelab "$work/page.html"; then
    answered=1
    break
  fi
  sleep 5
done
record "1. bash scripts/serve.sh: page answers on :$port" $((SECONDS - start))
stop_server
trap - EXIT
if [ -z "$answered" ]; then
  report
  echo "fresh check: the page never answered on port $port; the last lines of $work/serve.log:" >&2
  tail -n 30 "$work/serve.log" >&2
  exit 1
fi
grep -E '^tunelab:' "$work/serve.log" | sed 's/^/  serve.sh said: /' || true

# 2. the test command, as CI runs it.
start=$SECONDS
if CI=true bash scripts/test.sh >"$work/test.log" 2>&1; then ok=1; else ok=; fi
record "2. CI=true bash scripts/test.sh" $((SECONDS - start))
grep -E '^tunelab:' "$work/test.log" | sed 's/^/  test.sh said: /' || true
report
if [ -z "$ok" ]; then
  echo "fresh check: the test command failed; the last lines of $work/test.log:" >&2
  tail -n 40 "$work/test.log" >&2
  exit 1
fi
echo "fresh check passed"
if [ -z "${KEEP:-}" ]; then
  cd /
  rm -rf "$work"
else
  echo "kept $work"
fi
