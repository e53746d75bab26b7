"""What the navigation, perception and manipulation skills need from a robot, without ROS.

The skill server implements ``RobotInterface`` over ROS topics (odometry, transforms, /cmd_vel,
joint states, the head, arm and gripper controllers, the scene graph, depth);
``sim.robot_interface`` implements it on the embedded simulator in-process for tests and
benchmarks.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import NamedTuple

from control.arm.trajectory import JointTrajectoryPlan
from control.navigation.approach import Pose2D
from control.navigation.grid import OccupancyGrid
from control.skills import SkillContext, SkillResult
from perception.scene_graph import SceneGraph
from sim.robot import HEAD_HEIGHT, JOINTS, MAST_XY


class BasePose(NamedTuple):
    """The base in the map frame and the robot-clock time (seconds) it was measured at."""

    x: float
    y: float
    yaw: float
    stamp: float


class RobotInterface(ABC):
    """Sensing and commanding the base and the head. Safe to call from the skill's thread."""

    @abstractmethod
    def base_pose(self) -> BasePose | None:
        """The latest pose of the base in the map frame, or None before the first one."""

    @abstractmethod
    def drive(self, linear: float, angular: float) -> None:
        """Command the base's forward and turning speed (m/s, rad/s)."""

    def stop(self) -> None:
        self.drive(0.0, 0.0)

    @abstractmethod
    def point_head(self, pan: float, tilt: float, seconds: float) -> None:
        """Move the head to (pan, tilt) radians within ``seconds``."""

    @abstractmethod
    def head_angles(self) -> tuple[float, float] | None:
        """The head's (pan, tilt) now, or None before the first joint state."""

    @abstractmethod
    def joint_positions(self) -> dict[str, float] | None:
        """Every joint's latest position (joint_states), or None before the first message."""

    @abstractmethod
    def send_trajectory(self, controller: str, plan: JointTrajectoryPlan) -> None:
        """Start ``plan`` on a trajectory controller (arm_controller, gripper_controller), replacing
        the one it runs; time 0 of the plan is now."""

    @abstractmethod
    def scene(self) -> SceneGraph | None:
        """The latest scene graph, or None before the first one."""

    @abstractmethod
    def obstacle_map(self) -> OccupancyGrid | None:
        """The occupancy grid (the map plus obstacles seen lately), or None without a map."""

    @abstractmethod
    def static_map(self) -> OccupancyGrid | None:
        """The map alone, without the obstacles seen lately, or None without a map."""


class PoseNavigator(ABC):
    """Another navigation stack that drives the base to a map pose: Nav2's NavigateToPose on a robot
    that runs Nav2. GOTO and FIND then choose where to stand and delegate the driving to it."""

    name: str = "navigator"

    @abstractmethod
    def navigate(self, goal: Pose2D, context: SkillContext, what: str) -> SkillResult:
        """Drive to ``goal`` (its yaw set); forward progress as feedback, honour the context's cancel
        and deadline. The result's codes are the skills': UNREACHABLE, TIMEOUT, CANCELLED, ..."""


PAN_LIMITS = (JOINTS["joint_head_pan"].lower, JOINTS["joint_head_pan"].upper)
TILT_LIMITS = (JOINTS["joint_head_tilt"].lower, JOINTS["joint_head_tilt"].upper)


def head_angles_towards(pose: BasePose, target: tuple[float, float, float]) -> tuple[float, float] | None:
    """Pan and tilt that point the camera at a map point from ``pose``; None if the pan is out of range.

    The pan axis stands on the mast; a pan outside the joint's range is tried one turn around too.
    """
    c, s = math.cos(pose.yaw), math.sin(pose.yaw)
    head_x = pose.x + c * MAST_XY[0] - s * MAST_XY[1]
    head_y = pose.y + s * MAST_XY[0] + c * MAST_XY[1]
    dx, dy = target[0] - head_x, target[1] - head_y
    bearing = math.atan2(dy, dx) - pose.yaw
    pan = math.atan2(math.sin(bearing), math.cos(bearing))
    tilt = math.atan2(target[2] - HEAD_HEIGHT, math.hypot(dx, dy))
    tilt = min(max(tilt, TILT_LIMITS[0]), TILT_LIMITS[1])
    for candidate in (pan, pan - 2 * math.pi, pan + 2 * math.pi):
        if PAN_LIMITS[0] <= candidate <= PAN_LIMITS[1]:
            return candidate, tilt
    return None
