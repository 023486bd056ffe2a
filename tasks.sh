#!/usr/bin/env bash
# Set-up and the two everyday jobs, on a fresh machine with only Python (>= 3.12) and pip:
#   bash tasks.sh run [key=value ...]   create .venv, install, run the default scenario
#   bash tasks.sh test [pytest args]    create .venv, install with test extras (and Debian's chromium for
#                                       the browser test), run the whole test suite
#   bash tasks.sh viz [--port P]        the teaching app in a browser (python -m sim.viz)
#   bash tasks.sh docs [build]          the documentation site: executes the notebooks at small settings into
#                                       build/notebooks, then serves the site (mkdocs serve, http://127.0.0.1:8000)
#                                       or builds it into build/site (mkdocs build --strict)
set -euo pipefail
cd "$(dirname "$0")"

find_python() {
  for cand in ${PYTHON:-} python3.12 python3 python; do
    if command -v "$cand" >/dev/null 2>&1 &&
       "$cand" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      echo "$cand"; return 0
    fi
  done
  echo "error: Python >= 3.12 not found (set PYTHON=/path/to/python3.12)" >&2
  return 1
}

install() {  # install the project (with extras "$1") unless already installed from this pyproject.toml
  local extras="$1" stamp=".venv/.installed-${1:-base}"
  if [ ! -x .venv/bin/python ]; then
    "$(find_python)" -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
  fi
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install --quiet -e ".${extras:+[$extras]}"
    touch "$stamp"
  fi
  # With PYTHONDONTWRITEBYTECODE set (as on some CI and cluster images) Python never writes the project's
  # bytecode and compiles its modules again in every process: about 0.1 s more for each run, sweep worker
  # and compile partner. pip compiles what it installs, but not an editable project: compiled here (a few
  # hundredths of a second when nothing changed; Python itself reads bytecode only if it matches the source).
  if [ -n "${PYTHONDONTWRITEBYTECODE:-}" ]; then
    .venv/bin/python -m compileall -q sim >/dev/null
  fi
}

ensure_chromium() {  # Debian's chromium for the browser test of the teaching app (tests/e2e/test_viz.py)
  [ -x /usr/bin/chromium ] && return 0
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium fonts-liberation
}

cmd="${1:-run}"
shift || true
case "$cmd" in
  run)
    install ""
    exec .venv/bin/python -m sim "$@" ;;
  test)
    install "test"
    ensure_chromium
    exec .venv/bin/python -m pytest -n 2 "$@" ;;
  viz)
    install "viz"
    exec .venv/bin/python -m sim.viz "$@" ;;
  docs)
    install "docs"
    export SIM_DOCS_NOTEBOOKS=build/notebooks NO_MKDOCS_2_WARNING=1  # docs_hooks.py renders the executed copies
    if [ "${1:-}" = build ]; then
      shift
      .venv/bin/python -m tests.support.notebooks "$SIM_DOCS_NOTEBOOKS"  # every notebook, afresh
      exec .venv/bin/python -m mkdocs build --strict "$@"
    fi
    .venv/bin/python -m tests.support.notebooks --missing "$SIM_DOCS_NOTEBOOKS"  # those not executed yet
    exec .venv/bin/python -m mkdocs serve "$@" ;;
  *)
    echo "usage: bash tasks.sh run|test|viz|docs [args]" >&2; exit 2 ;;
esac
