# Enter robot_agent's environment in this shell:   source scripts/env.sh
# It activates .venv, sources the system ROS 2 (when set up against /opt/ros) and the install
# space with the interfaces, and keeps DDS discovery on this machine unless you chose otherwise:
#   ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST (Jazzy and newer), ROS_LOCALHOST_ONLY=1 (Humble).
# On a robot that talks to other machines, export ROS_AUTOMATIC_DISCOVERY_RANGE=SUBNET (or, on
# Humble, ROS_LOCALHOST_ONLY=0) before sourcing.
_ra_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
_ra_venv=${VENV:-$_ra_root/.venv}
if [[ ! -x "$_ra_venv/bin/python" ]]; then
  echo "robot_agent: no environment at $_ra_venv; run 'make setup' first." >&2
  return 1 2>/dev/null || exit 1
fi
_ra_saved_opts=$-
set +u  # ROS and colcon setup scripts read unset variables
if [[ -f "$_ra_venv/.robot_agent_ros_setup" ]]; then
  # shellcheck disable=SC1090
  source "$(cat "$_ra_venv/.robot_agent_ros_setup")"
fi
# shellcheck disable=SC1091
source "$_ra_venv/bin/activate"
if [[ "$(cat "$_ra_venv/.robot_agent_ros_mode" 2>/dev/null)" == wheels ]]; then
  # The venv is the ROS prefix of the PyPI wheels.
  case ":${AMENT_PREFIX_PATH:-}:" in *":$VIRTUAL_ENV:"*) ;; *) export AMENT_PREFIX_PATH=$VIRTUAL_ENV${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH} ;; esac
  case ":${CMAKE_PREFIX_PATH:-}:" in *":$VIRTUAL_ENV:"*) ;; *) export CMAKE_PREFIX_PATH=$VIRTUAL_ENV${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH} ;; esac
fi
if [[ -z "${ROBOT_AGENT_SKIP_INSTALL_SPACE:-}" && -f "$_ra_root/install/setup.bash" ]]; then
  # shellcheck disable=SC1091
  source "$_ra_root/install/setup.bash"
fi
export ROS_AUTOMATIC_DISCOVERY_RANGE=${ROS_AUTOMATIC_DISCOVERY_RANGE:-LOCALHOST}
if [[ "${ROS_DISTRO:-}" == humble ]]; then export ROS_LOCALHOST_ONLY=${ROS_LOCALHOST_ONLY:-1}; fi
# Large camera frames over shared memory (config/fastdds_profile.xml explains why).
if [[ "${ROS_DISTRO:-}" == humble ]]; then  # Fast DDS 2.6
  export FASTRTPS_DEFAULT_PROFILES_FILE=${FASTRTPS_DEFAULT_PROFILES_FILE:-$_ra_root/config/fastdds_profile.xml}
else
  export FASTDDS_DEFAULT_PROFILES_FILE=${FASTDDS_DEFAULT_PROFILES_FILE:-$_ra_root/config/fastdds_profile.xml}
fi
export ROBOT_AGENT_ROOT=$_ra_root
[[ $_ra_saved_opts == *u* ]] && set -u
unset _ra_root _ra_venv _ra_saved_opts
