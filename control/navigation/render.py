"""A PNG picture of an occupancy grid with a path, robot poses and labels, for docs and reports."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from control.navigation.approach import Pose2D
from control.navigation.astar import PlannedPath
from control.navigation.grid import OccupancyGrid

FREE_RGB = (1.0, 1.0, 1.0)
INFLATED_RGB = (0.86, 0.88, 0.93)  # within the inflation radius: allowed, but dearer
FORBIDDEN_RGB = (0.68, 0.70, 0.76)  # within the robot radius: the robot's centre may not go here
OCCUPIED_RGB = (0.15, 0.15, 0.18)


def draw_map(
    grid: OccupancyGrid,
    *,
    out: Path,
    path: PlannedPath | Sequence[tuple[float, float]] | None = None,
    poses: Sequence[Pose2D] | None = None,
    labels: Mapping[str, tuple[float, float]] | None = None,
    robot_radius: float = 0.25,
    inflation_radius: float = 0.55,
    title: str | None = None,
    pixels_per_metre: float = 60.0,
) -> Path:
    """Write the picture to ``out`` (PNG) and return ``out``.

    Occupied cells are dark, the forbidden and inflation zones shaded; the path is a line, each
    pose an arrow (a dot where its yaw is free), each label its text at its point.
    """
    clearance = grid.clearance()
    image = np.empty((*grid.shape, 3))
    image[...] = FREE_RGB
    image[clearance < inflation_radius] = INFLATED_RGB
    image[clearance < robot_radius] = FORBIDDEN_RGB
    image[grid.occupied] = OCCUPIED_RGB
    min_x, min_y, max_x, max_y = grid.bounds()
    dpi = 100.0
    figure = Figure(figsize=((max_x - min_x) * pixels_per_metre / dpi, (max_y - min_y) * pixels_per_metre / dpi + 0.4))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.imshow(image, origin="lower", extent=(min_x, max_x, min_y, max_y), interpolation="nearest")
    if path is not None:
        points = np.asarray(path.points if isinstance(path, PlannedPath) else path, dtype=np.float64).reshape(-1, 2)
        axes.plot(points[:, 0], points[:, 1], "-o", color="tab:blue", markersize=3, linewidth=2)
    for pose in poses or ():
        if pose.yaw is None:
            axes.plot(pose.x, pose.y, "o", color="tab:red", markersize=5)
        else:
            axes.annotate(
                "",
                xy=(pose.x + 0.3 * math.cos(pose.yaw), pose.y + 0.3 * math.sin(pose.yaw)),
                xytext=(pose.x, pose.y),
                arrowprops={"arrowstyle": "->", "color": "tab:red", "linewidth": 1.5},
            )
    for text, (x, y) in (labels or {}).items():
        axes.text(x, y, text, fontsize=8, ha="center", va="center", color="tab:green")
    axes.set_xlim(min_x, max_x)
    axes.set_ylim(min_y, max_y)
    axes.set_aspect("equal")
    axes.set_xlabel("x (m)")
    axes.set_ylabel("y (m)")
    if title:
        axes.set_title(title)
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, format="png", dpi=dpi)
    return out
