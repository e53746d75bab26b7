"""What an arm skill planned, as a plain record that a host can show (RViz markers, a cloud, a PNG).

A skill that plans a motion on value maps hands a :class:`MotionPlan` to
``SkillContext.publish_motion_plan``: the path, the target region, obstacle voxels (the surface of
the obstacle cores, subsampled) and the cost at a subsample of the voxels, in the frame the maps
were composed in (``base_link`` for the arm's plane, ``map`` for a workspace). The skill server
turns it into messages (robot_agent/conversions.py); nothing here knows ROS. The composed maps and
the planner's path travel along for :func:`save_motion_plan_png`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from planning.value_maps import ComposedMaps, ManipulationPath, render_slices

FloatArray = npt.NDArray[np.float64]

MAX_OBSTACLE_VOXELS = 4000  # obstacle-surface voxels kept for the markers
MAX_CLOUD_POINTS = 20000  # voxels kept for the cost cloud
MAX_TARGET_VOXELS = 2000


@dataclass(frozen=True, eq=False)
class MotionPlan:
    """One planned arm motion (or one workspace composition without a path); see the module docstring."""

    skill: str  # PICK, PLACE, MANIPULATE
    doing: str  # what the motion is for, in words ("moving to red_cup")
    layer: str  # "arm" (the arm's plane) or "workspace" (where an object should go)
    frame_id: str
    stamp: float  # robot clock, seconds
    success: bool
    reason: str  # why planning failed; empty on success
    planner: str
    waypoints: FloatArray  # (K, 3) the path, empty when there is none
    speed_scale: FloatArray  # (K,) from the velocity map
    target: FloatArray  # (N, 3) centres of target voxels
    obstacles: FloatArray  # (M, 3) centres of obstacle-surface voxels
    voxel_size: tuple[float, float, float]
    cloud: FloatArray  # (P, 3) voxel centres
    cloud_cost: FloatArray  # (P,) the cost there
    maps: ComposedMaps | None = field(default=None, repr=False)
    path: ManipulationPath | None = field(default=None, repr=False)


def _subsample(points: FloatArray, limit: int) -> FloatArray:
    """Every n-th point so that at most ``limit`` remain (a deterministic, even thinning)."""
    if len(points) <= limit:
        return points
    stride = int(np.ceil(len(points) / limit))
    return points[::stride]


def motion_plan_of(
    maps: ComposedMaps,
    path: ManipulationPath | None,
    *,
    skill: str,
    doing: str,
    frame_id: str,
    stamp: float,
    layer: str = "arm",
    max_obstacle_voxels: int = MAX_OBSTACLE_VOXELS,
    max_cloud_points: int = MAX_CLOUD_POINTS,
) -> MotionPlan:
    """The record of composed maps and the path planned on them (``path`` None: a composition alone)."""
    grid = maps.grid
    cores = maps.impassable
    surface = cores & ~ndimage.binary_erosion(cores, border_value=0)  # the cores' outer voxels
    obstacles = _subsample(grid.index_to_world(np.argwhere(surface)), max_obstacle_voxels)
    target = _subsample(grid.index_to_world(np.argwhere(maps.target)), MAX_TARGET_VOXELS)
    stride = max(1, int(np.ceil(grid.size / max_cloud_points)))
    flat = np.arange(0, grid.size, stride)
    cloud = grid.index_to_world(np.stack(np.unravel_index(flat, grid.shape), axis=1))
    cost = np.asarray(maps.cost.reshape(-1)[flat], dtype=np.float64)
    waypoints = np.zeros((0, 3)) if path is None else np.asarray(path.waypoints, dtype=np.float64).reshape(-1, 3)
    speeds = np.zeros(0) if path is None else np.asarray(path.speed_scale, dtype=np.float64).reshape(-1)
    size = grid.voxel_size
    return MotionPlan(
        skill=skill,
        doing=doing,
        layer=layer,
        frame_id=frame_id,
        stamp=stamp,
        success=True if path is None else path.success,
        reason="" if path is None else path.reason,
        planner="" if path is None else path.planner,
        waypoints=waypoints,
        speed_scale=speeds,
        target=target,
        obstacles=obstacles,
        voxel_size=(float(size[0]), float(size[1]), float(size[2])),
        cloud=cloud,
        cloud_cost=cost,
        maps=maps,
        path=path,
    )


def save_motion_plan_png(plan: MotionPlan, folder: str | Path, number: int = 0) -> Path | None:
    """Write the PNG slices of the plan's maps (and path) into ``folder``; None when it carries no maps.

    The arm's plane is a thin slab across base_link x, so its slices are taken across x; a
    workspace is sliced across z. The file is named after the number, the skill and what it did.
    """
    if plan.maps is None:
        return None
    words = re.sub(r"[^a-z0-9]+", "_", f"{plan.skill} {plan.layer} {plan.doing}".lower()).strip("_")[:60]
    out = Path(folder) / f"{number:03d}_{words}.png"
    axis = "x" if plan.layer == "arm" else "z"
    paths = [plan.path] if plan.path is not None else []
    outcome = "planned" if plan.success else f"failed: {plan.reason}"
    title = f"{plan.skill}: {plan.doing} ({plan.frame_id}, {outcome})"
    return render_slices(plan.maps, paths, out, axis=axis, title=title[:120])
