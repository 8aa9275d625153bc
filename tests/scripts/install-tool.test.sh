#!/usr/bin/env bash
# Tests of scripts/tools.sh's install helpers: a locked install that fails (simulated by
# TUNELAB_SIMULATE_LOCKED_FAILURE, or by a cargo that cannot resolve the locked lockfile) is
# retried unlocked and succeeds; an install that cannot succeed exits non-zero with one line
# naming the tool, the version and what to try. The success cases use a stand-in `cargo`/`npm`
# that records its arguments (a real install takes minutes); the failure case runs the real
# cargo against crates.io with a version that does not exist.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/tunelab-install-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0
pass() { echo "ok - $1"; }
fail() { echo "not ok - $1" >&2; failures=$((failures + 1)); }

# A stand-in cargo: records each call; with STUB_LOCKED_FAILS=1 a --locked install fails with
# cargo's resolution error; with STUB_ALWAYS_FAILS=1 every install fails.
mkdir -p "$work/stub"
cat >"$work/stub/cargo" <<'STUB'
#!/usr/bin/env bash
echo "$*" >>"$STUB_CALLS"
if [ -n "${STUB_ALWAYS_FAILS:-}" ] || { [ -n "${STUB_LOCKED_FAILS:-}" ] && [[ " $* " == *" --locked "* ]]; }; then
  echo 'error: failed to select a version for the requirement `webpki-roots = "^1.0.10"` (locked to 1.0.11)' >&2
  exit 101
fi
echo "  Installed package \`$2 v$4\`"
STUB
sed -e 's/--locked/ci/' "$work/stub/cargo" >"$work/stub/npm"
chmod +x "$work/stub/cargo" "$work/stub/npm"

# run_helper NAME FUNCTION ARGS...: runs a tools.sh function in a fresh shell with the stubs on
# PATH, as test.sh runs it (set -euo pipefail); output in $work/NAME.out, status in $work/NAME.rc.
run_helper() {
  local name=$1
  shift
  : >"$work/$name.calls"
  set +e
  (
    set -euo pipefail
    cd "${HELPER_DIR:-$root}"
    export PATH="$work/stub:$PATH" STUB_CALLS="$work/$name.calls" TMPDIR="$work"
    source "$root/scripts/tools.sh"
    "$@"
    echo "after the helper"
  ) >"$work/$name.out" 2>&1
  echo $? >"$work/$name.rc"
  set -e
}

# 1. The locked attempt fails as simulated by the environment; the unlocked one runs and succeeds.
TUNELAB_SIMULATE_LOCKED_FAILURE=1 run_helper simulated install_cargo_tool fake-tool 1.2.3 1
if [ "$(cat "$work/simulated.rc")" = 0 ] && grep -q 'after the helper' "$work/simulated.out" \
  && grep -q '^tunelab: the locked install of fake-tool 1.2.3 failed .*retrying without --locked' "$work/simulated.out" \
  && [ "$(cat "$work/simulated.calls")" = "install fake-tool --version 1.2.3" ]; then
  pass "a simulated locked failure is retried unlocked and succeeds"
else
  fail "a simulated locked failure is retried unlocked and succeeds"; cat "$work/simulated.out" "$work/simulated.calls" >&2
fi

# 2. cargo itself cannot resolve the locked lockfile; the unlocked attempt succeeds.
STUB_LOCKED_FAILS=1 run_helper drift install_cargo_tool fake-tool 1.2.3 1
if [ "$(cat "$work/drift.rc")" = 0 ] && grep -q 'after the helper' "$work/drift.out" \
  && grep -q '^tunelab: installing fake-tool 1.2.3 from source (cargo install), a one-time step of about 1 minutes' "$work/drift.out" \
  && grep -q 'failed (error: failed to select a version for the requirement `webpki-roots' "$work/drift.out" \
  && [ "$(sed -n 1p "$work/drift.calls")" = "install --locked fake-tool --version 1.2.3" ] \
  && [ "$(sed -n 2p "$work/drift.calls")" = "install fake-tool --version 1.2.3" ]; then
  pass "a locked install that cannot resolve is retried unlocked and succeeds"
else
  fail "a locked install that cannot resolve is retried unlocked and succeeds"; cat "$work/drift.out" "$work/drift.calls" >&2
fi

# 3. Both attempts fail (the stand-in): non-zero, the script stops, one line with tool, version, hint.
STUB_ALWAYS_FAILS=1 run_helper broken install_cargo_tool fake-tool 1.2.3 1
if [ "$(cat "$work/broken.rc")" != 0 ] && ! grep -q 'after the helper' "$work/broken.out" \
  && [ "$(wc -l <"$work/broken.calls")" = 2 ] \
  && tail -n 1 "$work/broken.out" | grep -q '^tunelab: could not install fake-tool 1.2.3 (error: failed to select a version.*); full log in .*; try: check that crates.io answers'; then
  pass "an install that fails locked and unlocked stops with a one-line hint"
else
  fail "an install that fails locked and unlocked stops with a one-line hint"; cat "$work/broken.out" >&2
fi

# 4. The real cargo, a version crates.io does not have: both attempts fail, one line with the hint.
mkdir -p "$work/root"
set +e
(
  set -euo pipefail
  export CARGO_INSTALL_ROOT="$work/root" TMPDIR="$work"
  source scripts/tools.sh
  install_cargo_tool trunk 9999.0.0 1
  echo "after the helper"
) >"$work/real.out" 2>&1
rc=$?
set -e
if [ "$rc" != 0 ] && ! grep -q 'after the helper' "$work/real.out" \
  && grep -q '^tunelab: the locked install of trunk 9999.0.0 failed' "$work/real.out" \
  && tail -n 1 "$work/real.out" | grep -q '^tunelab: could not install trunk 9999.0.0 (error: .*); full log in .*; try: '; then
  pass "the real cargo: a version that does not exist stops with a one-line hint"
else
  fail "the real cargo: a version that does not exist stops with a one-line hint"; cat "$work/real.out" >&2
fi

# 5. npm ci fails (simulated): npm install without the lockfile runs and succeeds.
mkdir -p "$work/npmproj"
cp package.json package-lock.json "$work/npmproj/"
HELPER_DIR="$work/npmproj" TUNELAB_SIMULATE_NPM_CI_FAILURE=1 run_helper npm ensure_npm
if [ "$(cat "$work/npm.rc")" = 0 ] && grep -q '^tunelab: npm ci failed .*retrying with npm install --no-package-lock' "$work/npm.out" \
  && [ "$(cat "$work/npm.calls")" = "install --no-audit --no-fund --no-package-lock" ]; then
  pass "a failed npm ci is retried with npm install --no-package-lock"
else
  fail "a failed npm ci is retried with npm install --no-package-lock"; cat "$work/npm.out" >&2
fi

[ "$failures" = 0 ] || { echo "$failures install-helper test(s) failed" >&2; exit 1; }
echo "install helper: all tests passed"
