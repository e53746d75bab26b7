"""ROS-free navigation: occupancy grids of the worlds, A* paths, pure pursuit and approach poses.

No rclpy here: the navigation skill server wraps these for ROS.
"""

from control.navigation.approach import (
    Pose2D,
    arm_extension_for,
    arm_extension_over,
    furniture_poses,
    grasp_point,
    reach_poses,
    room_pose,
    to_base_link,
)
from control.navigation.astar import NoPathError, NoPathReason, PlannedPath, allowed_cells, path_blocked, plan_path
from control.navigation.grid import OccupancyGrid
from control.navigation.pursuit import PurePursuit, PursuitCommand, PursuitParams, wrap_angle
from control.navigation.render import draw_map

__all__ = [
    "NoPathError",
    "NoPathReason",
    "OccupancyGrid",
    "PlannedPath",
    "Pose2D",
    "PurePursuit",
    "PursuitCommand",
    "PursuitParams",
    "allowed_cells",
    "arm_extension_for",
    "arm_extension_over",
    "draw_map",
    "furniture_poses",
    "grasp_point",
    "path_blocked",
    "plan_path",
    "reach_poses",
    "room_pose",
    "to_base_link",
    "wrap_angle",
]
