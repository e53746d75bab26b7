"""A PNG of value maps: slices of the cost, affordance and avoidance, with planned paths projected."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from planning.value_maps.compose import ComposedMaps
from planning.value_maps.grid import FloatArray
from planning.value_maps.planners import ManipulationPath

AXES = {"x": 0, "y": 1, "z": 2}
LAYERS = (("cost", "viridis"), ("affordance", "Greens"), ("avoidance", "magma"))
PATH_COLOURS = ("tab:cyan", "tab:orange", "tab:pink", "tab:olive")


def _slice(volume: np.ndarray, axis: int, index: int) -> np.ndarray:
    return np.asarray(np.take(volume, index, axis=axis), dtype=np.float64)


def _default_heights(maps: ComposedMaps, paths: Sequence[ManipulationPath], normal: int) -> list[float]:
    """The start of the first path, the target and half-way; spread around the target when they coincide."""
    grid = maps.grid
    goal = float(maps.target_centroid()[normal])
    begin = float(paths[0].waypoints[0, normal]) if paths and len(paths[0].waypoints) else goal
    if abs(begin - goal) < 3.0 * float(grid.voxel_size[normal]):
        spread = 0.15 * (grid.upper[normal] - grid.lower[normal])
        return [goal + spread, goal, goal - spread]
    return [begin, 0.5 * (begin + goal), goal]


def render_slices(
    maps: ComposedMaps,
    path: ManipulationPath | Sequence[ManipulationPath] | None = None,
    out_png: str | Path = "value_maps.png",
    *,
    axis: str = "z",
    heights: Sequence[float] | None = None,
    title: str | None = None,
) -> Path:
    """Write a grid of slices to ``out_png`` and return its path.

    Rows are the cost, affordance and avoidance; columns are slices normal to ``axis`` at
    ``heights`` (metres; by default the start of the first path, the target and half-way between)
    and one cross slice through the target (normal to y when ``axis`` is z, else normal to z).
    Obstacle cores are outlined in white, the target set in green; each path is drawn projected
    onto every slice, with its start (circle) and end (star).
    """
    # matplotlib loads here, not at import: nodes that never render start faster.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    if axis not in AXES:
        raise ValueError(f"axis must be one of x, y, z, got {axis!r}")
    normal = AXES[axis]
    grid = maps.grid
    paths = [path] if isinstance(path, ManipulationPath) else list(path or [])
    target = maps.target_centroid()
    if heights is None:
        heights = _default_heights(maps, paths, normal)
    cross = 1 if normal == 2 else 2
    slices: list[tuple[int, float]] = [(normal, float(h)) for h in heights] + [(cross, float(target[cross]))]

    columns, rows = len(slices), len(LAYERS)
    figure = Figure(figsize=(3.3 * columns + 0.8, 3.0 * rows + 0.6), dpi=100)
    FigureCanvasAgg(figure)
    panels = figure.subplots(rows, columns, squeeze=False)
    for column, (slice_axis, coordinate) in enumerate(slices):
        index = int(grid.nearest_index(np.where(np.arange(3) == slice_axis, coordinate, grid.lower_array))[slice_axis])
        shown = [a for a in range(3) if a != slice_axis]  # image x, image y
        extent = (grid.lower[shown[0]], grid.upper[shown[0]], grid.lower[shown[1]], grid.upper[shown[1]])
        letters = "xyz"
        cores = _slice(maps.impassable, slice_axis, index)
        targets = _slice(maps.target, slice_axis, index)
        centre = grid.axis_centres(slice_axis)[index]
        for row, (layer, colour_map) in enumerate(LAYERS):
            panel = panels[row][column]
            image = _slice(getattr(maps, layer), slice_axis, index)
            shown_image = panel.imshow(image.T, origin="lower", extent=extent, cmap=colour_map, interpolation="nearest")
            if cores.any():
                panel.contour(cores.T, levels=[0.5], colors="white", linewidths=0.8, extent=extent)
            if targets.any():
                panel.contour(targets.T, levels=[0.5], colors="lime", linewidths=1.0, extent=extent)
            for number, planned in enumerate(paths):
                points: FloatArray = planned.waypoints
                if not len(points):
                    continue
                colour = PATH_COLOURS[number % len(PATH_COLOURS)]
                style = "-" if planned.success else "--"
                panel.plot(points[:, shown[0]], points[:, shown[1]], style, color=colour, linewidth=1.4)
                panel.plot(points[0, shown[0]], points[0, shown[1]], "o", color=colour, markersize=4)
                panel.plot(points[-1, shown[0]], points[-1, shown[1]], "*", color=colour, markersize=7)
            panel.set_title(f"{layer} at {letters[slice_axis]} = {centre:.2f} m", fontsize=9)
            panel.set_xlabel(f"{letters[shown[0]]} (m)", fontsize=8)
            panel.set_ylabel(f"{letters[shown[1]]} (m)", fontsize=8)
            panel.tick_params(labelsize=7)
            if column == columns - 1:
                figure.colorbar(shown_image, ax=panel, fraction=0.046, pad=0.04)
    handles = [
        Line2D([], [], color="white", linewidth=0.8, label="obstacle cores"),
        Line2D([], [], color="lime", linewidth=1.0, label="target set"),
    ]
    for number, planned in enumerate(paths):
        outcome = "ok" if planned.success else f"failed: {planned.reason}"
        colour = PATH_COLOURS[number % len(PATH_COLOURS)]
        handles.append(Line2D([], [], color=colour, label=f"{planned.planner} ({outcome})"))
    figure.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, facecolor="0.85")
    figure.suptitle(title or "Value maps", fontsize=11)
    figure.tight_layout(rect=(0.0, 0.05, 1.0, 0.97))
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, format="png")
    return out
