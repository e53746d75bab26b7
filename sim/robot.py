"""The robot: a mobile manipulator modelled on Hello Robot's Stretch.

A mobile base (differential by default, holonomic optional), a mast with a lift, a telescoping
arm that extends to the robot's right (-y), a wrist yaw joint, a two-finger parallel gripper that
holds objects by contact and friction only, and a pan-tilt head carrying the RGB-D camera.

The dimensions here are the single source for the MuJoCo model (sim/mjcf.py) and the Gazebo
description (sim/gazebo.py). Link names are the ROS frame names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class JointSpec:
    name: str
    kind: str  # "slide" or "hinge"
    lower: float
    upper: float
    max_velocity: float  # m/s or rad/s
    effort: float  # N or N m


# Controllable joints, with Stretch-like ranges.
JOINTS: dict[str, JointSpec] = {
    j.name: j
    for j in (
        JointSpec("joint_lift", "slide", 0.15, 1.10, 0.3, 200.0),
        JointSpec("joint_arm", "slide", 0.0, 0.52, 0.3, 100.0),
        JointSpec("joint_wrist_yaw", "hinge", -1.75, 4.0, 1.5, 10.0),
        JointSpec("joint_gripper", "slide", 0.0, 0.12, 0.1, 30.0),  # finger separation
        JointSpec("joint_head_pan", "hinge", -4.04, 1.73, 2.0, 5.0),
        JointSpec("joint_head_tilt", "hinge", -1.53, 0.79, 2.0, 5.0),
    )
}

# Trajectory controllers: topic prefix -> the joints a JointTrajectory on it may name.
CONTROLLERS: dict[str, tuple[str, ...]] = {
    "arm_controller": ("joint_lift", "joint_arm", "joint_wrist_yaw"),
    "gripper_controller": ("joint_gripper",),
    "head_controller": ("joint_head_pan", "joint_head_tilt"),
}

# Where each joint starts: arm stowed low and retracted with the gripper turned forward over the
# base (inside its footprint, so nothing sticks out while it drives), gripper open, head looking
# ahead and down.
HOME: dict[str, float] = {
    "joint_lift": 0.6,
    "joint_arm": 0.0,
    "joint_wrist_yaw": math.pi / 2,
    "joint_gripper": 0.10,
    "joint_head_pan": 0.0,
    "joint_head_tilt": -0.5,
}


@dataclass(frozen=True)
class BaseLimits:
    max_linear: float = 0.5  # m/s
    max_angular: float = 1.2  # rad/s
    command_timeout_s: float = 0.5


BASE_LIMITS = BaseLimits()

# Geometry, metres, in base_link (x forward, y left, z up; origin on the floor under the base centre).
BASE_SIZE = (0.34, 0.33, 0.18)  # the base box, its bottom at BASE_CLEARANCE
BASE_CLEARANCE = 0.02
BASE_MASS = 20.0
MAST_XY = (-0.07, 0.10)  # mast axis in base_link
MAST_SIZE = (0.06, 0.06, 1.25)
HEAD_HEIGHT = 1.32  # head pan axis above the floor
CAMERA_OFFSET = (0.04, 0.0, 0.06)  # camera from the tilt axis, in the tilt link
ARM_RETRACTED_REACH = 0.23  # from the mast axis to the wrist axis along -y, arm retracted
ARM_SECTION = (0.06, 0.04)  # x and z extent of the telescoping tube
GRIPPER_LENGTH = 0.16  # wrist axis to the grasp centre
FINGER_SIZE = (0.03, 0.01, 0.05)  # along the gripper, across (closing direction), vertical
GRIPPER_FORCE = 30.0  # N per finger
FINGER_FRICTION = 1.5


def limit_base_velocity(
    linear_x: float, linear_y: float, angular_z: float, base: str
) -> tuple[tuple[float, float, float], list[str]]:
    """The body velocity the base can follow (finite input): a differential base has no sideways
    motion, and speeds are clamped to BASE_LIMITS. Returns it with a note for each change."""
    notes = []
    if base == "differential" and linear_y != 0.0:
        notes.append(f"linear.y {linear_y:g} ignored: the base is differential")
        linear_y = 0.0
    speed = math.hypot(linear_x, linear_y)
    if speed > BASE_LIMITS.max_linear:
        scale = BASE_LIMITS.max_linear / speed
        linear_x, linear_y = linear_x * scale, linear_y * scale
        notes.append(f"linear speed {speed:g} m/s clamped to {BASE_LIMITS.max_linear:g}")
    if abs(angular_z) > BASE_LIMITS.max_angular:
        notes.append(f"angular speed {angular_z:g} rad/s clamped to {BASE_LIMITS.max_angular:g}")
        angular_z = math.copysign(BASE_LIMITS.max_angular, angular_z)
    return (linear_x, linear_y, angular_z), notes


def grasp_reach(arm: float) -> float:
    """Distance along -y from the mast axis to the grasp centre, wrist yaw 0."""
    return ARM_RETRACTED_REACH + arm + GRIPPER_LENGTH


def camera_vertical_fov_rad(fov_deg: float) -> float:
    return math.radians(fov_deg)
