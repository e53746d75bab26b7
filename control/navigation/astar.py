"""A* path planning on an occupancy grid for a round robot, keeping to the middle of free space."""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Sequence
from enum import Enum
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from control.navigation.grid import BoolArray, FloatArray, OccupancyGrid

START_SNAP_M = 0.3  # a start in the forbidden zone moves to the nearest allowed cell this close
_EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)
_SHORTCUT_PATIENCE = 10  # failed lines in a row before a shortcut stops growing


class NoPathReason(Enum):
    START_BLOCKED = "start"
    GOAL_BLOCKED = "goal"
    NO_PATH = "no_path"


class NoPathError(Exception):
    """No path: ``reason`` says whether the start or the goal is blocked or they are not connected."""

    def __init__(self, reason: NoPathReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class PlannedPath(NamedTuple):
    points: list[tuple[float, float]]  # map-frame waypoints, the start first
    length_m: float


def allowed_cells(grid: OccupancyGrid, robot_radius: float) -> BoolArray:
    """Cells where the robot's centre may be: free, with clearance >= robot_radius."""
    return np.asarray((grid.clearance() >= robot_radius) & ~grid.occupied, dtype=bool)


def plan_path(
    grid: OccupancyGrid,
    start_xy: tuple[float, float],
    goal_xy: tuple[float, float],
    robot_radius: float = 0.25,
    inflation_radius: float = 0.55,
    cost_weight: float = 3.0,
    goal_tolerance: float = 0.3,
) -> PlannedPath:
    """The cheapest 8-connected path from start to goal, simplified to line-of-sight waypoints.

    Cells closer than ``robot_radius`` to an obstacle are forbidden. Between ``robot_radius`` and
    ``inflation_radius`` a cell's cost per metre is 1 + cost_weight * p^2, with p growing from 0
    at the inflation radius to 1 at the robot radius. A start in the forbidden zone moves to the
    nearest allowed cell within START_SNAP_M, a goal to one within ``goal_tolerance`` (the path
    then ends there). Raises NoPathError.
    """
    if not (0.0 <= robot_radius <= inflation_radius):
        raise ValueError(f"need 0 <= robot_radius <= inflation_radius, got {robot_radius}, {inflation_radius}")
    if cost_weight < 0.0 or goal_tolerance < 0.0:
        raise ValueError(f"cost_weight and goal_tolerance must be >= 0, got {cost_weight}, {goal_tolerance}")
    clearance = grid.clearance()
    allowed = allowed_cells(grid, robot_radius)
    start = _snap(grid, allowed, start_xy, START_SNAP_M)
    if start is None:
        where = "is off the map" if not grid.contains(*start_xy) else f"has no free cell within {START_SNAP_M} m"
        raise NoPathError(NoPathReason.START_BLOCKED, f"the start {_fmt(start_xy)} {where}")
    components, _ = ndimage.label(allowed, structure=_EIGHT_CONNECTED)
    reachable = np.asarray(components == components[start], dtype=bool)
    goal = _snap(grid, reachable, goal_xy, goal_tolerance)
    if goal is None:
        if _snap(grid, allowed, goal_xy, goal_tolerance) is None:
            where = "is off the map" if not grid.contains(*goal_xy) else f"has no free cell within {goal_tolerance} m"
            raise NoPathError(NoPathReason.GOAL_BLOCKED, f"the goal {_fmt(goal_xy)} is blocked: it {where}")
        raise NoPathError(NoPathReason.NO_PATH, f"no path from {_fmt(start_xy)} to {_fmt(goal_xy)}: not connected")

    multiplier = _cost_multiplier(clearance, allowed, robot_radius, inflation_radius, cost_weight)
    cells, costs = _astar(grid, allowed, multiplier, start, goal)
    waypoints = _shortcut(grid, multiplier, cells, costs)
    points = [(float(start_xy[0]), float(start_xy[1]))]
    if grid.world_to_cell(*start_xy) != start:
        points.append(grid.cell_to_world(*start))  # leave the forbidden zone by the snapped cell
    points += [grid.cell_to_world(*cell) for cell in waypoints[1:-1]]
    goal_free = grid.world_to_cell(*goal_xy) == goal
    points.append((float(goal_xy[0]), float(goal_xy[1])) if goal_free else grid.cell_to_world(*goal))
    points = [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]
    if len(points) == 1:
        points.append(points[0])
    return PlannedPath(points, polyline_length(points))


def path_blocked(
    grid: OccupancyGrid, points: Sequence[tuple[float, float]], robot_radius: float, from_xy: tuple[float, float]
) -> float | None:
    """Metres along the path, from the point nearest ``from_xy``, to the first forbidden cell on it
    (clearance below ``robot_radius``, or off the grid); None when the rest of the path is free.
    A robot that stands in the forbidden zone (parked beside furniture) may leave it: forbidden
    cells from where it is up to START_SNAP_M along the path do not count, as in plan_path."""
    path = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(path) == 0:
        return None
    if len(path) == 1:
        path = np.vstack([path, path])
    starts, ends = path[:-1], path[1:]
    here = np.asarray(from_xy, dtype=np.float64)
    directions = ends - starts
    squared = np.maximum((directions**2).sum(axis=1), 1e-12)
    t = np.clip(((here - starts) * directions).sum(axis=1) / squared, 0.0, 1.0)
    projections = starts + t[:, None] * directions
    nearest = int(np.argmin(((projections - here) ** 2).sum(axis=1)))
    remaining = np.vstack([projections[nearest], path[nearest + 1 :]])
    samples, distances = _sample_polyline(remaining, grid.resolution / 2)
    forbidden = grid.clearance_at(samples) < robot_radius
    leaving = np.logical_and.accumulate(forbidden) & (distances <= START_SNAP_M)
    blocked = np.flatnonzero(forbidden & ~leaving)
    return float(distances[blocked[0]]) if len(blocked) else None


def polyline_length(points: Sequence[tuple[float, float]]) -> float:
    return float(sum(math.dist(a, b) for a, b in itertools.pairwise(points)))


def _fmt(xy: tuple[float, float]) -> str:
    return f"({xy[0]:.2f}, {xy[1]:.2f})"


def _snap(grid: OccupancyGrid, candidates: BoolArray, xy: tuple[float, float], radius: float) -> tuple[int, int] | None:
    """The candidate cell nearest a map point, within ``radius`` of it; None if there is none."""
    if not grid.contains(*xy):
        return None
    row, col = grid.world_to_cell(*xy)
    rows, cols = grid.shape
    if candidates[row, col]:
        return row, col
    reach = math.ceil(radius / grid.resolution)
    row0, row1 = max(row - reach, 0), min(row + reach + 1, rows)
    col0, col1 = max(col - reach, 0), min(col + reach + 1, cols)
    window = candidates[row0:row1, col0:col1]
    centre_x = grid.origin[0] + (np.arange(col0, col1) + 0.5) * grid.resolution - xy[0]
    centre_y = grid.origin[1] + (np.arange(row0, row1) + 0.5) * grid.resolution - xy[1]
    distance = np.hypot(centre_x[None, :], centre_y[:, None])
    distance[~window | (distance > radius)] = np.inf
    best = int(np.argmin(distance))
    if not np.isfinite(distance.flat[best]):
        return None
    return row0 + best // window.shape[1], col0 + best % window.shape[1]


def _cost_multiplier(
    clearance: FloatArray, allowed: BoolArray, robot_radius: float, inflation_radius: float, cost_weight: float
) -> FloatArray:
    """Cost per metre of entering each cell: 1 in the open, more near obstacles, inf where forbidden."""
    band = inflation_radius - robot_radius
    closeness = np.clip((inflation_radius - clearance) / band, 0.0, 1.0) if band > 0 else np.zeros_like(clearance)
    return np.where(allowed, 1.0 + cost_weight * closeness**2, np.inf)


def _astar(
    grid: OccupancyGrid,
    allowed: BoolArray,
    multiplier: FloatArray,
    start: tuple[int, int],
    goal: tuple[int, int],
) -> tuple[list[tuple[int, int]], list[float]]:
    """Cells from start to goal (connected, both allowed) and the cost to reach each."""
    # A border of blocked cells lets neighbours be flat-index offsets without bounds checks.
    padded_allowed = np.pad(allowed, 1, constant_values=False)
    rows, cols = padded_allowed.shape
    resolution = grid.resolution
    goal_row, goal_col = goal[0] + 1, goal[1] + 1
    d_row = np.abs(np.arange(rows) - goal_row)[:, None]
    d_col = np.abs(np.arange(cols) - goal_col)[None, :]
    octile = resolution * (np.maximum(d_row, d_col) + (math.sqrt(2) - 1) * np.minimum(d_row, d_col))
    heuristic: list[float] = octile.ravel().tolist()
    step_cost: list[float] = np.pad(multiplier, 1, constant_values=np.inf).ravel().tolist()
    closed = bytearray((~padded_allowed).ravel().tobytes())
    diagonal = resolution * math.sqrt(2)
    neighbours = [
        (-cols, resolution),
        (cols, resolution),
        (-1, resolution),
        (1, resolution),
        (-cols - 1, diagonal),
        (-cols + 1, diagonal),
        (cols - 1, diagonal),
        (cols + 1, diagonal),
    ]
    source = (start[0] + 1) * cols + start[1] + 1
    target = goal_row * cols + goal_col
    cost = [math.inf] * (rows * cols)
    parent = [-1] * (rows * cols)
    cost[source] = 0.0
    frontier = [(heuristic[source], source)]
    pop, push = heapq.heappop, heapq.heappush
    while frontier:
        _, current = pop(frontier)
        if closed[current]:
            continue
        if current == target:
            break
        closed[current] = 1
        base = cost[current]
        for offset, length in neighbours:
            neighbour = current + offset
            if closed[neighbour]:
                continue
            candidate = base + length * step_cost[neighbour]
            if candidate < cost[neighbour]:
                cost[neighbour] = candidate
                parent[neighbour] = current
                push(frontier, (candidate + heuristic[neighbour], neighbour))
    chain = [target]
    while chain[-1] != source:
        chain.append(parent[chain[-1]])
    chain.reverse()
    return [(index // cols - 1, index % cols - 1) for index in chain], [cost[index] for index in chain]


def _sample_polyline(points: npt.NDArray[np.float64], spacing: float) -> tuple[FloatArray, FloatArray]:
    """Points along a polyline at most ``spacing`` apart, its vertices included, and their arc lengths."""
    samples, distances, travelled = [points[:1]], [np.zeros(1)], 0.0
    for a, b in itertools.pairwise(points):
        length = float(np.hypot(*(b - a)))
        count = max(math.ceil(length / spacing), 1)
        t = np.arange(1, count + 1) / count
        samples.append(a + t[:, None] * (b - a))
        distances.append(travelled + t * length)
        travelled += length
    return np.vstack(samples), np.concatenate(distances)


def _line_cost(grid: OccupancyGrid, multiplier: FloatArray, a: tuple[int, int], b: tuple[int, int]) -> float:
    """The cost of the straight line between two cell centres, sampled every half cell, each sample
    costing like the cell it enters: exact for runs of cells the A* steps would take."""
    steps = 2 * max(abs(b[0] - a[0]), abs(b[1] - a[1]))
    t = np.arange(steps + 1) / steps
    # On a cell edge, take the cell ahead: nudge each sample a hair towards b.
    rows = np.floor(a[0] + 0.5 + t * (b[0] - a[0]) + 1e-9 * np.sign(b[0] - a[0])).astype(np.intp)
    cols = np.floor(a[1] + 0.5 + t * (b[1] - a[1]) + 1e-9 * np.sign(b[1] - a[1])).astype(np.intp)
    length = grid.resolution * math.hypot(b[0] - a[0], b[1] - a[1])
    return float(length * multiplier[rows[1:], cols[1:]].sum() / steps)


def _shortcut(
    grid: OccupancyGrid, multiplier: FloatArray, cells: list[tuple[int, int]], costs: list[float]
) -> list[tuple[int, int]]:
    """Drop cells the path can skip: a straight line replaces a stretch if it is free and no dearer.

    Comparing costs, not only freedom, keeps the path away from corners and door frames.
    """
    kept = [0]
    while kept[-1] < len(cells) - 1:
        anchor = kept[-1]
        reach, misses = anchor + 1, 0
        for candidate in range(anchor + 2, len(cells)):
            stretch = costs[candidate] - costs[anchor]
            if _line_cost(grid, multiplier, cells[anchor], cells[candidate]) <= stretch * (1 + 1e-6):
                reach, misses = candidate, 0
            else:
                misses += 1  # a line can fail on a stair of cells and pass again further on
                if misses > _SHORTCUT_PATIENCE:
                    break
        kept.append(reach)
    return [cells[index] for index in kept]
