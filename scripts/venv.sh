# A test's Python venv from PyPI, cached (sourced by tests/notebook/run.sh and
# tests/optuna/run.sh):
#
#   source scripts/venv.sh; cached_venv CACHE_NAME REQ_DIR "what it holds"
#
# sets `venv` to ~/.cache/CACHE_NAME/<hash of REQ_DIR's requirements.txt and
# requirements-ranges.txt and the Python version>, made on first use: pip upgraded, the pinned
# requirements.txt installed, or, when those pins no longer install (the registry moved on),
# the ranges of requirements-ranges.txt, saying so. PYTHON picks the interpreter (python3).
cached_venv() {
  local name=$1 req=$2 what=$3 py=${PYTHON:-python3} key cache
  key=$( (cat "$req/requirements.txt" "$req/requirements-ranges.txt"; "$py" -c 'import sys; print(sys.version)') | sha256sum | cut -c1-16)
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/$name"
  venv="$cache/$key"
  [ -f "$venv/.complete" ] && return 0
  echo "tunelab: making a venv in $venv ($what from PyPI; about a minute, cached afterwards)"
  rm -rf "$venv"
  mkdir -p "$cache"
  "$py" -m venv "$venv" || { echo "tunelab: '$py -m venv' failed (on Debian: apt-get install python3-venv)" >&2; return 1; }
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip || echo "note: could not upgrade pip in the venv; going on with $("$venv/bin/python" -m pip --version)"
  if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req/requirements.txt"; then
    echo "note: the pinned versions of $req/requirements.txt did not install (the registry moved on?);" \
      "falling back to the ranges of $req/requirements-ranges.txt" >&2
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req/requirements-ranges.txt" || return 1
  fi
  touch "$venv/.complete"
}
