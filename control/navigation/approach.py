"""Base poses from which the robot can act: the target at the arm's side, or a free spot in a room.

The arm extends to the robot's right from the mast: in base_link the grasp centre lies at
x = MAST_XY[0], y = MAST_XY[1] - grasp_reach(arm), for an extension ``arm`` in the joint's range.
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from control.navigation.grid import FloatArray, OccupancyGrid
from sim.robot import JOINTS, MAST_XY, grasp_reach
from sim.scenario import Furniture, Room

ARM_MIN = JOINTS["joint_arm"].lower
ARM_MAX = JOINTS["joint_arm"].upper
PREFERRED_ARM = (ARM_MIN + ARM_MAX) / 2  # the middle of the range leaves room either way


class Pose2D(NamedTuple):
    x: float
    y: float
    yaw: float | None = None  # None: any heading will do


def to_base_link(pose: Pose2D, point_xy: tuple[float, float]) -> tuple[float, float]:
    """A map point in the base_link frame of a robot at ``pose``."""
    if pose.yaw is None:
        raise ValueError(f"pose {pose} has no yaw: base_link is undefined")
    c, s = math.cos(pose.yaw), math.sin(pose.yaw)
    dx, dy = point_xy[0] - pose.x, point_xy[1] - pose.y
    return c * dx + s * dy, -s * dx + c * dy


def grasp_point(pose: Pose2D, arm: float) -> tuple[float, float]:
    """The map point of the grasp centre for an arm extension, wrist yaw 0."""
    if pose.yaw is None:
        raise ValueError(f"pose {pose} has no yaw: the arm's direction is undefined")
    bx, by = MAST_XY[0], MAST_XY[1] - grasp_reach(arm)
    c, s = math.cos(pose.yaw), math.sin(pose.yaw)
    return pose.x + c * bx - s * by, pose.y + s * bx + c * by


def arm_extension_for(pose: Pose2D, target_xy: tuple[float, float]) -> float:
    """The arm extension whose grasp centre is nearest the target (may lie outside the joint range)."""
    _, y = to_base_link(pose, target_xy)
    return MAST_XY[1] - y - grasp_reach(0.0)


def reach_poses(
    grid: OccupancyGrid,
    target_xy: tuple[float, float],
    robot_radius: float = 0.25,
    yaw_samples: int = 32,
    arm_samples: int = 7,
    arm_margin: float = 0.03,
    arm_heading: float | None = None,
    max_skew: float = math.pi / 12,
) -> list[Pose2D]:
    """Base poses that put the target on the arm's line within reach, best first.

    Samples ``yaw_samples`` headings and ``arm_samples`` extensions kept ``arm_margin`` inside the
    joint's range; keeps poses whose base cell has clearance >= robot_radius and whose arm does not
    cross a wall. Sorted by closeness to the preferred extension, then by clearance. With
    ``arm_heading`` (map radians) only poses whose arm points within ``max_skew`` of it.
    """
    directions = None if arm_heading is None else (np.array([arm_heading]), max_skew)
    return _best_reach_poses(
        grid,
        np.asarray([target_xy], dtype=np.float64),
        robot_radius,
        yaw_samples,
        arm_samples,
        arm_margin,
        arm_directions=directions,
    )


def furniture_poses(
    grid: OccupancyGrid,
    furniture: Furniture,
    robot_radius: float = 0.25,
    inset: float = 0.1,
    spacing: float = 0.15,
    max_skew: float = math.pi / 6,
    yaw_samples: int = 32,
    arm_samples: int = 7,
    arm_margin: float = 0.03,
) -> list[Pose2D]:
    """Poses to place onto or pick from a piece: reach poses for points along its top's edges,
    ``inset`` inside them and about ``spacing`` apart, with the arm within ``max_skew`` of square
    to the edge it reaches over. Best first, one per base cell and heading."""
    targets, inward = _edge_targets(furniture, inset, spacing)
    return _best_reach_poses(
        grid, targets, robot_radius, yaw_samples, arm_samples, arm_margin, arm_directions=(inward, max_skew)
    )


def arm_extension_over(pose: Pose2D, furniture: Furniture, inset: float = 0.1) -> float | None:
    """The arm extension nearest the preferred one that holds the grasp centre over the piece's top,
    ``inset`` inside its edges; None if no extension in the joint's range does."""
    (fx, fy, fyaw), (length, width) = furniture.pose, furniture.size[:2]
    retracted, extended = grasp_point(pose, 0.0), grasp_point(pose, 1.0)  # the grasp centre moves linearly
    c, s = math.cos(fyaw), math.sin(fyaw)
    low, high = ARM_MIN, ARM_MAX
    for axis, half in (((c, s), length / 2 - inset + 1e-9), ((-s, c), width / 2 - inset + 1e-9)):
        start = axis[0] * (retracted[0] - fx) + axis[1] * (retracted[1] - fy)
        rate = axis[0] * (extended[0] - retracted[0]) + axis[1] * (extended[1] - retracted[1])
        if abs(rate) < 1e-12:
            if abs(start) > half:
                return None
            continue
        first, second = sorted(((-half - start) / rate, (half - start) / rate))
        low, high = max(low, first), min(high, second)
    return None if low > high else min(max(PREFERRED_ARM, low), high)


def _edge_targets(furniture: Furniture, inset: float, spacing: float) -> tuple[FloatArray, FloatArray]:
    """Map points along each edge of a piece's top, ``inset`` inside it and at most ``spacing``
    apart (corners on both their edges), and the map heading pointing inward across each edge."""
    (fx, fy, yaw), (length, width) = furniture.pose, furniture.size[:2]
    half_x, half_y = max(length / 2 - inset, 0.0), max(width / 2 - inset, 0.0)
    corners = np.array([(-half_x, -half_y), (half_x, -half_y), (half_x, half_y), (-half_x, half_y), (-half_x, -half_y)])
    inward_local = (math.pi / 2, math.pi, -math.pi / 2, 0.0)  # across the edges: -y, +x, +y, -x in turn
    points, headings = [], []
    for (a, b), inward in zip(itertools.pairwise(corners), inward_local, strict=True):
        count = max(math.ceil(float(np.hypot(*(b - a))) / spacing), 1)
        points.append(a + (np.arange(count + 1) / count)[:, None] * (b - a))
        headings.append(np.full(count + 1, yaw + inward))
    local = np.vstack(points)
    c, s = math.cos(yaw), math.sin(yaw)
    world = np.column_stack([fx + c * local[:, 0] - s * local[:, 1], fy + s * local[:, 0] + c * local[:, 1]])
    return world, np.concatenate(headings)


def room_pose(
    grid: OccupancyGrid, room: Room, robot_radius: float = 0.25, comfortable_clearance: float = 0.6
) -> Pose2D | None:
    """A free point in the room near its centre, heading free; None if the room has no free cell.

    Of the room's cells with clearance >= robot_radius, those with the most clearance (up to
    ``comfortable_clearance``) qualify; the one nearest the centre wins.
    """
    rows, cols = grid.shape
    xs = grid.origin[0] + (np.arange(cols) + 0.5) * grid.resolution
    ys = grid.origin[1] + (np.arange(rows) + 0.5) * grid.resolution
    in_x = (xs >= room.min[0]) & (xs <= room.max[0])
    in_y = (ys >= room.min[1]) & (ys <= room.max[1])
    clearance = np.where(in_y[:, None] & in_x[None, :] & ~grid.occupied, grid.clearance(), 0.0)
    best = float(clearance.max())
    if best < robot_radius or best <= 0.0:
        return None
    qualified = clearance >= min(best, comfortable_clearance)
    centre_x, centre_y = (room.min[0] + room.max[0]) / 2, (room.min[1] + room.max[1]) / 2
    distance = np.hypot(xs[None, :] - centre_x, ys[:, None] - centre_y)
    row, col = np.unravel_index(int(np.argmin(np.where(qualified, distance, np.inf))), grid.shape)
    x, y = grid.cell_to_world(int(row), int(col))
    return Pose2D(x, y, None)


def _best_reach_poses(
    grid: OccupancyGrid,
    targets: npt.NDArray[np.float64],
    robot_radius: float,
    yaw_samples: int,
    arm_samples: int,
    arm_margin: float,
    arm_directions: tuple[FloatArray, float] | None = None,
) -> list[Pose2D]:
    """Reach poses for any of the targets, best first, one per base cell and heading.

    ``arm_directions``: a map heading per target and the most the arm's heading may differ from it.
    """
    if yaw_samples < 1 or arm_samples < 1:
        raise ValueError(f"need at least one yaw and one arm sample, got {yaw_samples}, {arm_samples}")
    low, high = ARM_MIN + arm_margin, ARM_MAX - arm_margin
    if low > high:
        raise ValueError(f"arm_margin {arm_margin} leaves no extension in [{ARM_MIN}, {ARM_MAX}]")
    arms = np.linspace(low, high, arm_samples) if arm_samples > 1 else np.array([PREFERRED_ARM])
    yaw_index = np.arange(yaw_samples)
    yaws = np.arctan2(np.sin(2 * np.pi * yaw_index / yaw_samples), np.cos(2 * np.pi * yaw_index / yaw_samples))
    # Every combination of target, heading and extension, flattened.
    target, heading, arm = (a.ravel() for a in np.meshgrid(np.arange(len(targets)), yaw_index, arms, indexing="ij"))
    c, s = np.cos(yaws[heading]), np.sin(yaws[heading])
    grasp_x, grasp_y = MAST_XY[0], MAST_XY[1] - grasp_reach(0.0) - arm  # the target in base_link
    base_x = targets[target, 0] - (c * grasp_x - s * grasp_y)
    base_y = targets[target, 1] - (s * grasp_x + c * grasp_y)
    clearance = grid.clearance_at(np.column_stack([base_x, base_y]))
    mast = np.column_stack([base_x + c * MAST_XY[0] - s * MAST_XY[1], base_y + s * MAST_XY[0] + c * MAST_XY[1]])
    free = (clearance >= robot_radius) & ~_crosses_barrier(grid, mast, targets[target])
    if arm_directions is not None:
        wanted, max_skew = arm_directions
        arm_heading = yaws[heading] - math.pi / 2  # the arm extends along base_link's -y
        skew = np.abs(np.angle(np.exp(1j * (arm_heading - wanted[target]))))
        free &= skew <= max_skew + 1e-9
    order = np.flatnonzero(free)
    order = order[np.lexsort((-clearance[order], np.abs(arm[order] - PREFERRED_ARM)))]
    rows, cols, _ = grid.cells_of(np.column_stack([base_x[order], base_y[order]]))
    seen: set[tuple[int, int, int]] = set()
    poses = []
    for index, row, col in zip(order.tolist(), rows.tolist(), cols.tolist(), strict=True):
        key = (row, col, int(heading[index]))
        if key not in seen:
            seen.add(key)
            poses.append(Pose2D(float(base_x[index]), float(base_y[index]), float(yaws[heading[index]])))
    return poses


def _crosses_barrier(grid: OccupancyGrid, starts: FloatArray, ends: FloatArray) -> npt.NDArray[np.bool_]:
    """For each segment, whether it passes a barrier cell (a wall): sampled every half cell."""
    if not grid.barriers.any() or len(starts) == 0:
        return np.zeros(len(starts), dtype=bool)
    longest = float(np.hypot(*(ends - starts).T).max())
    t = np.linspace(0.0, 1.0, max(math.ceil(2 * longest / grid.resolution), 1) + 1)
    samples = starts[:, None, :] + t[None, :, None] * (ends - starts)[:, None, :]
    rows, cols, inside = grid.cells_of(samples.reshape(-1, 2))
    hits = np.ones(len(rows), dtype=bool)  # off the grid counts as a wall
    hits[inside] = grid.barriers[rows[inside], cols[inside]]
    return np.asarray(hits.reshape(len(starts), len(t)).any(axis=1), dtype=bool)
