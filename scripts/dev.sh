#!/usr/bin/env bash
# Set up a Python 3.12+ virtual environment in .venv and run the model or the tests.
#   bash scripts/dev.sh run [SCENARIO] [options]   install, then run a scenario (default: March 2016)
#   bash scripts/dev.sh test [pytest options]      install with test tools, then run the test suite
# Finds a 3.12+ interpreter on PATH (python3.14 ... python3) or, failing that, in pyenv.
set -euo pipefail
cd "$(dirname "$0")/.."

is_new_enough() {
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

find_python() {
  local candidate
  if [ -n "${PYTHON:-}" ] && is_new_enough "$PYTHON"; then echo "$PYTHON"; return 0; fi
  for candidate in python3.14 python3.13 python3.12 python3 python; do
    if command -v "$candidate" >/dev/null 2>&1 && is_new_enough "$candidate"; then
      command -v "$candidate"; return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    local root version
    root="$(pyenv root)"
    for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.[0-9]+(\.[0-9]+)?$' | sort -t. -k1,1n -k2,2n -k3,3n -r); do
      candidate="$root/versions/$version/bin/python3"
      if [ -x "$candidate" ] && is_new_enough "$candidate"; then echo "$candidate"; return 0; fi
    done
  fi
  return 1
}

setup() {
  local extras="$1" stamp python
  if [ ! -x .venv/bin/python ] || ! is_new_enough .venv/bin/python; then
    python="$(find_python)" || {
      echo "error: Python 3.12 or newer is needed and none was found (tried python3.14..python3 and pyenv)." >&2
      echo "Hint: install Python 3.12+, or set PYTHON=/path/to/python3.12." >&2
      exit 1
    }
    echo "using $("$python" -V) at $python" >&2
    rm -rf .venv
    "$python" -m venv .venv
  fi
  stamp=".venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)-$extras"
  if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip >&2
    if [ "$extras" = "dev" ]; then
      .venv/bin/python -m pip install --quiet -e ".[dev]" >&2
    else
      .venv/bin/python -m pip install --quiet -e . >&2
    fi
    rm -f .venv/.installed-*
    touch "$stamp"
    if [ "$extras" = "dev" ]; then touch "${stamp%-dev}-"; fi
  fi
}

command="${1:-run}"
shift || true
case "$command" in
  run)
    setup ""
    exec .venv/bin/python cli.py run "$@"
    ;;
  test)
    setup dev
    exec .venv/bin/python -m pytest "$@"
    ;;
  *)
    echo "usage: bash scripts/dev.sh run [SCENARIO] [options] | test [pytest options]" >&2
    exit 2
    ;;
esac
