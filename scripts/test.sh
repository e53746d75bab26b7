#!/usr/bin/env bash
# Everything `make test` checks, in the environment (run it through scripts/in-env).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

section() { printf '\n==> %s\n' "$*"; }

section "ruff (lint and format)"
ruff check .
ruff format --check .

section "mypy (strict, Python 3.10 semantics)"
mypy

section "Syntax of Python 3.10 and 3.12 (robots run Humble on 3.10, Jazzy on 3.12)"
for version in 3.10 3.12; do
  interpreter=""
  for candidate in "$HOME"/.pyenv/versions/"$version".*/bin/python "/usr/bin/python$version" "$(command -v "python$version" || true)"; do
    if [[ -x "$candidate" ]] && "$candidate" --version >/dev/null 2>&1; then interpreter=$candidate; break; fi
  done
  if [[ -n "$interpreter" ]]; then
    "$interpreter" -m compileall -q robot_agent perception planning control test launch
    echo "python $version: ok"
  else
    echo "python $version: not installed here, skipped"
  fi
done

section "Core unit tests under Python 3.10 (scripts/core-tests-py310.txt)"
if [[ -x .venv-py310/bin/python ]]; then
  mapfile -t core_tests < <(grep -v '^#' scripts/core-tests-py310.txt | grep -v '^$')
  PYTHONPATH="$PWD" .venv-py310/bin/python -m pytest -q -p no:cacheprovider "${core_tests[@]}"
else
  echo "no .venv-py310 (no Python 3.10 on this machine): skipped"
fi

section "pytest (unit, ros, e2e)"
python -m pytest "$@"
