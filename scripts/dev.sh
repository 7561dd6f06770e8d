#!/usr/bin/env bash
# Set up a Python 3.12+ virtual environment in .venv and run the model or the tests.
#   bash scripts/dev.sh run [SCENARIO] [options]   install, then run a scenario (default: March 2016)
#   bash scripts/dev.sh test [pytest options]      install with test tools, then run the test suite
#   bash scripts/dev.sh lint                       ruff check and ruff format --check (CI runs it first)
#   bash scripts/dev.sh test-latest [pytest opts]  the suite against the newest releases, in .venv-latest
#   bash scripts/dev.sh lock [--upgrade]           regenerate requirements/lock.txt from pyproject.toml (every
#                                                  extra); existing pins are kept unless --upgrade is given
# `run` and `test` install the exact versions of requirements/lock.txt (the versions the suite was last
# green with); pyproject.toml keeps only lower bounds, for people who pip install the package.
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

LOCK=requirements/lock.txt

make_venv() {  # make_venv FOLDER: a 3.12+ virtual environment in FOLDER, kept if it is already one
  local folder="$1" python
  if [ ! -x "$folder/bin/python" ] || ! is_new_enough "$folder/bin/python"; then
    python="$(find_python)" || {
      echo "error: Python 3.12 or newer is needed and none was found (tried python3.14..python3 and pyenv)." >&2
      echo "Hint: install Python 3.12+, or set PYTHON=/path/to/python3.12." >&2
      exit 1
    }
    echo "using $("$python" -V) at $python" >&2
    rm -rf "$folder"
    "$python" -m venv "$folder"
  fi
}

setup() {
  local extras="$1" stamp
  make_venv .venv
  stamp=".venv/.installed-$(cat pyproject.toml "$LOCK" | sha256sum | cut -c1-16)-$extras"
  if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip >&2
    if [ "$extras" = "dev" ]; then
      .venv/bin/python -m pip install --quiet --constraint "$LOCK" -e ".[dev]" >&2
    else
      .venv/bin/python -m pip install --quiet --constraint "$LOCK" -e . >&2
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
  lint)
    setup dev
    .venv/bin/ruff check .
    exec .venv/bin/ruff format --check .
    ;;
  test-latest)
    # Drift on purpose: the newest release of every dependency that pyproject.toml allows, no lock.
    make_venv .venv-latest
    .venv-latest/bin/python -m pip install --quiet --upgrade pip >&2
    .venv-latest/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e ".[dev]" >&2
    .venv-latest/bin/python -m pip list --format=freeze 2>/dev/null | grep -v '^negotiation-sim' \
      | diff <(grep -E '^[A-Za-z0-9._-]+==' "$LOCK" | sed 's/ *;.*//' | sort -fu) <(sort -f) \
      | sed -n 's/^> /newer than the lock: /p' >&2 || true
    exec .venv-latest/bin/python -m pytest "$@"
    ;;
  lock)
    # uv resolves for every platform and Python 3.12+; it runs from a throwaway environment.
    make_venv .venv-lock
    .venv-lock/bin/python -m pip install --quiet uv >&2
    # Pins already in the lock are kept (only new or changed requirements are resolved); pass --upgrade
    # (bash scripts/dev.sh lock --upgrade) to take the newest releases pyproject.toml allows.
    exec .venv-lock/bin/uv pip compile pyproject.toml --all-extras --universal --python-version 3.12 \
      --output-file "$LOCK" "$@"
    ;;
  *)
    echo "usage: bash scripts/dev.sh run [SCENARIO] [options] | test [pytest options] | lint | test-latest | lock [--upgrade]" >&2
    exit 2
    ;;
esac
