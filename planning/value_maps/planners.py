"""Planners over composed value maps: end-effector waypoints from a start point to the target set.

``plan_greedy`` is VoxPoser's baseline, written from the paper's description: steepest descent on
the cost volume over the 26-neighbourhood from the start voxel, one voxel per step, until it
reaches the target set (success), makes ``max_steps`` steps, or stands on a voxel with no lower
neighbour ("local minimum"). It never steps into an obstacle core (the one change to the
baseline: a path through an obstacle is not a path).

``plan_search`` is the default: a two-level Dijkstra search, optimal on the voxels it searches.

1. Coarse level. The grid is cut into blocks of ``factor`` voxels per axis (4 on 100^3, so 25^3
   blocks). Optimistically, a block is passable when it holds a free (non-core) voxel; its weight
   is the mean step weight of its free voxels, raised by its share of core voxels. Dijkstra
   (``scipy.sparse.csgraph``) over the 26-connected blocks gives the best block route. Every free
   voxel path maps onto a block path, so no block route means no path at all.
2. Fine level. Dijkstra over the free voxels (26-connected, ``scipy.sparse.csgraph``) inside a
   corridor: the route's blocks and their 26 neighbours (about 15 000 voxels).
3. When the target cannot be reached in that corridor (the optimistic route crossed a wall
   thinner than a block), a conservative block route, through wholly free blocks only, gives the
   next corridor. When that fails too, a labelling of free space tells whether the target is
   connected to the start at all ("no path" if not); if it is, the last resort is an exact search
   of every free voxel (slow: about 1.5 s and 0.7 GB on 100^3; no scene of the benchmark needs it).

Both levels minimise path length weighted by ``1 + avoidance_weight * avoidance_gain * avoidance``
per voxel. The distance-to-target term of the cost volume is what greedy descent needs to move; a
search has the target set as its goal, and adding that term to the step cost would only bend paths
toward the target early. Obstacle cores are impassable. The result is optimal within the corridor
searched (and the coarse route is optimal on the blocks); it is not guaranteed optimal on the
full grid.

Both planners then smooth the voxel path: Gaussian smoothing along the path with pinned ends; a
smoothed path that enters an obstacle core is smoothed less (down to none), then resampled to
``spacing``. Per waypoint, the speed scale, the gripper state and the wrist yaw are read from the
maps. ``cost`` is the sum of the cost volume over the path's voxels (comparable between planners).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt
from scipy import ndimage
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from planning.value_maps.compose import ComposedMaps
from planning.value_maps.grid import BoolVolume, FloatArray, IndexArray, Volume, VoxelGrid

BoolArray = npt.NDArray[np.bool_]

OFFSETS: IndexArray = np.array(
    [(dx, dy, dz) for dx in (-1, 0, 1) for dy in (-1, 0, 1) for dz in (-1, 0, 1) if (dx, dy, dz) != (0, 0, 0)],
    dtype=np.int64,
)
DEFAULT_SPACING = 0.015  # metres between waypoints
DEFAULT_SMOOTHING = 0.03  # metres: the Gaussian's sigma along the path
BLOCK_CORE_PENALTY = 4.0  # a block's weight grows by this times its share of core voxels
NO_PATH = "no path: the target is cut off from the start by obstacles"


@dataclass(frozen=True, eq=False)
class ManipulationPath:
    """End-effector waypoints (map frame, metres), start to goal, and what to do along them."""

    success: bool
    reason: str  # empty on success
    waypoints: FloatArray  # (K, 3)
    speed_scale: FloatArray  # (K,) in (0, 1]
    gripper_open: BoolArray  # (K,)
    wrist_yaw: FloatArray  # (K,) radians, NaN where free
    planner: str
    voxels: IndexArray = field(default_factory=lambda: np.zeros((0, 3), dtype=np.int64))  # the raw voxel path
    cost: float = 0.0  # sum of the cost volume over the voxel path
    length: float = 0.0  # metres along the waypoints
    expanded: int = 0  # voxels (and blocks) the planner settled or stepped on
    stats: dict[str, float] = field(default_factory=dict)
    rotation_mode: str = "top_down"


# ----------------------------------------------------------------------------------------------
# Shared: start checks, smoothing, sampling the maps along the path


def _step_lengths(voxel_size: FloatArray) -> FloatArray:
    return np.asarray(np.linalg.norm(OFFSETS * voxel_size, axis=1), dtype=np.float64)


def _start_problem(maps: ComposedMaps, start: FloatArray) -> str:
    if start.shape != (3,) or not np.all(np.isfinite(start)):
        return "the start must be three finite numbers"
    if not bool(maps.grid.contains(start)):
        return "the start lies outside the grid"
    i, j, k = (int(v) for v in maps.grid.world_to_index(start))
    if maps.impassable[i, j, k]:
        return "the start lies inside an obstacle"
    return ""


def resample(points: FloatArray, spacing: float) -> FloatArray:
    """A polyline resampled at equal arc-length steps of at most ``spacing``, ends kept."""
    if len(points) < 2:
        return np.array(points, dtype=np.float64)
    seg = np.linalg.norm(np.diff(points, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    total = float(arc[-1])
    if total <= 0.0:
        return np.array(points[:1], dtype=np.float64)
    count = max(2, math.ceil(total / spacing) + 1)
    s = np.linspace(0.0, total, count)
    return np.asarray(np.stack([np.interp(s, arc, points[:, axis]) for axis in range(3)], axis=1), dtype=np.float64)


def _smooth(points: FloatArray, sigma: float) -> FloatArray:
    """Gaussian smoothing along a polyline (sigma in samples) with both ends pinned (odd reflection)."""
    if sigma <= 0.0 or len(points) < 3:
        return np.array(points, dtype=np.float64)
    pad = min(len(points) - 1, math.ceil(3 * sigma))
    padded = np.pad(points, ((pad, pad), (0, 0)), mode="reflect", reflect_type="odd")
    smoothed = ndimage.gaussian_filter1d(padded, sigma, axis=0, mode="nearest", truncate=3.0)[pad:-pad]
    smoothed[0], smoothed[-1] = points[0], points[-1]
    return np.asarray(smoothed, dtype=np.float64)


def hits(grid: VoxelGrid, mask: BoolVolume, points: FloatArray) -> bool:
    """Whether the polyline through the points enters a voxel of the mask (sampled at a quarter voxel)."""
    dense = resample(points, 0.25 * float(grid.voxel_size.min()))
    index = grid.nearest_index(dense)
    return bool(mask[index[:, 0], index[:, 1], index[:, 2]].any())


def _finish(
    maps: ComposedMaps,
    start: FloatArray,
    voxels: IndexArray,
    *,
    planner: str,
    success: bool,
    reason: str,
    expanded: int,
    stats: dict[str, float],
    spacing: float,
    smoothing: float,
) -> ManipulationPath:
    grid = maps.grid
    raw = grid.index_to_world(voxels) if len(voxels) else start[None, :]
    raw[0] = start
    step = 0.5 * float(grid.voxel_size.min())
    dense = resample(raw, step)
    sigma = smoothing / step
    smoothed = _smooth(dense, sigma)
    level = 0
    while sigma > 0.0 and hits(grid, maps.impassable, smoothed):
        level += 1
        sigma = sigma / 2.0 if sigma >= 1.0 else 0.0
        smoothed = _smooth(dense, sigma)
    waypoints = resample(smoothed, spacing)
    cost = float(maps.cost[voxels[:, 0], voxels[:, 1], voxels[:, 2]].sum()) if len(voxels) else 0.0
    length = float(np.linalg.norm(np.diff(waypoints, axis=0), axis=1).sum()) if len(waypoints) > 1 else 0.0
    return ManipulationPath(
        success=success,
        reason=reason,
        waypoints=waypoints,
        speed_scale=np.asarray(maps.sample("velocity", waypoints), dtype=np.float64),
        gripper_open=np.asarray(maps.sample("gripper", waypoints)) >= 0.5,
        wrist_yaw=np.asarray(maps.sample("rotation", waypoints), dtype=np.float64),
        planner=planner,
        voxels=voxels,
        cost=cost,
        length=length,
        expanded=expanded,
        stats={**stats, "smoothing_sigma_m": sigma * step, "smoothing_reductions": float(level)},
        rotation_mode=maps.rotation_mode.value,
    )


def _failure(maps: ComposedMaps, start: FloatArray, planner: str, reason: str) -> ManipulationPath:
    point = start.reshape(1, 3) if start.size == 3 and np.all(np.isfinite(start)) else np.zeros((0, 3))
    return ManipulationPath(
        success=False,
        reason=reason,
        waypoints=point.astype(np.float64),
        speed_scale=np.ones(len(point)),
        gripper_open=np.ones(len(point), dtype=bool),
        wrist_yaw=np.full(len(point), np.nan),
        planner=planner,
        rotation_mode=maps.rotation_mode.value,
    )


# ----------------------------------------------------------------------------------------------
# The baseline: greedy steepest descent


def plan_greedy(
    maps: ComposedMaps,
    start: npt.ArrayLike,
    max_steps: int = 300,
    *,
    spacing: float = DEFAULT_SPACING,
    smoothing: float = DEFAULT_SMOOTHING,
) -> ManipulationPath:
    """VoxPoser's greedy descent of the cost volume (see the module docstring)."""
    started = time.perf_counter()
    p = np.asarray(start, dtype=np.float64).reshape(-1)
    problem = _start_problem(maps, p)
    if problem:
        return _failure(maps, p, "greedy", problem)
    shape = np.asarray(maps.grid.shape)
    cost, blocked, target = maps.cost, maps.impassable, maps.target
    current = maps.grid.world_to_index(p)
    path = [current]
    reason = ""
    for _ in range(max_steps):
        if target[current[0], current[1], current[2]]:
            break
        neighbours = current + OFFSETS
        neighbours = neighbours[np.all((neighbours >= 0) & (neighbours < shape), axis=1)]
        i, j, k = neighbours[:, 0], neighbours[:, 1], neighbours[:, 2]
        neighbours = neighbours[~blocked[i, j, k]]
        if not len(neighbours):
            reason = "local minimum"
            break
        values = cost[neighbours[:, 0], neighbours[:, 1], neighbours[:, 2]]
        best = int(np.argmin(values))
        if values[best] >= cost[current[0], current[1], current[2]]:
            reason = "local minimum"
            break
        current = neighbours[best]
        path.append(current)
    arrived = bool(target[current[0], current[1], current[2]])
    if not arrived and not reason:
        reason = f"no target within {max_steps} steps"
    stats = {"plan_s": time.perf_counter() - started, "steps": float(len(path) - 1)}
    return _finish(
        maps,
        p,
        np.asarray(path, dtype=np.int64),
        planner="greedy",
        success=arrived,
        reason="" if arrived else reason,
        expanded=len(path),
        stats=stats,
        spacing=spacing,
        smoothing=smoothing,
    )


# ----------------------------------------------------------------------------------------------
# The default: two-level Dijkstra


def _graph(
    coords: IndexArray, shape: tuple[int, ...], node_weight: FloatArray, step: FloatArray
) -> tuple[csr_matrix, npt.NDArray[np.int32]]:
    """The 26-connected graph of the nodes at ``coords`` of a box of ``shape``, and the box's node ids.

    An edge costs its length x the mean weight of its two nodes. The ids are padded by one voxel on
    every side (so that neighbours need no bounds checks): node ``n`` is at ``ids[coords[n] + 1]``.
    """
    padded = tuple(n + 2 for n in shape)
    ids = np.full(padded, -1, dtype=np.int32)
    ids[coords[:, 0] + 1, coords[:, 1] + 1, coords[:, 2] + 1] = np.arange(len(coords), dtype=np.int32)
    strides = np.array([padded[1] * padded[2], padded[2], 1], dtype=np.int64)
    flat = (coords + 1) @ strides
    table = ids.reshape(-1)[flat[:, None] + (OFFSETS @ strides)[None, :]]
    valid = table >= 0
    data = (step[None, :] * (0.5 * (node_weight[:, None] + node_weight[table])))[valid]
    indptr = np.zeros(len(coords) + 1, dtype=np.int64)
    np.cumsum(valid.sum(axis=1), out=indptr[1:])
    return csr_matrix((data, table[valid], indptr), shape=(len(coords), len(coords))), ids


def _backtrack(predecessors: npt.NDArray[np.int32], end: int) -> list[int]:
    chain = [end]
    while predecessors[chain[-1]] >= 0:
        chain.append(int(predecessors[chain[-1]]))
    chain.reverse()
    return chain


@dataclass
class _Coarse:
    shape: tuple[int, int, int]
    coords: IndexArray  # (B, 3) passable blocks
    ids: npt.NDArray[np.int32]  # block -> node id, -1 when impassable
    graph: csr_matrix


def _block_sum(volume: npt.NDArray[np.float32], factor: int) -> npt.NDArray[np.float32]:
    """Sums over blocks of ``factor`` voxels per axis (the shape a multiple of factor); strided adds are fast."""
    for axis in range(3):
        parts = [volume[(slice(None),) * axis + (slice(k, None, factor),)] for k in range(factor)]
        total = parts[0].copy()
        for part in parts[1:]:
            total += part
        volume = total
    return volume


@dataclass
class _Blocks:
    """Per-block sums of the voxels, free voxels and weights of free voxels."""

    factor: int
    shape: tuple[int, int, int]
    size: npt.NDArray[np.float64]
    free: npt.NDArray[np.float64]
    weight: npt.NDArray[np.float64]

    @classmethod
    def of(cls, blocked: BoolVolume, weight: Volume, factor: int) -> _Blocks:
        shape = blocked.shape
        coarse_shape = (-(-shape[0] // factor), -(-shape[1] // factor), -(-shape[2] // factor))
        free = (~blocked).astype(np.float32)
        weighted = free * weight
        ones = np.ones(shape, dtype=np.float32)
        pad = [(0, c * factor - n) for c, n in zip(coarse_shape, shape, strict=True)]
        if any(after for _, after in pad):
            free, weighted, ones = np.pad(free, pad), np.pad(weighted, pad), np.pad(ones, pad)
        return cls(
            factor,
            coarse_shape,
            _block_sum(ones, factor).astype(np.float64),
            _block_sum(free, factor).astype(np.float64),
            _block_sum(weighted, factor).astype(np.float64),
        )

    def graph(self, voxel_size: FloatArray, conservative: bool, keep: IndexArray) -> _Coarse:
        """The 26-connected graph of the blocks.

        Optimistic: a block is passable when it holds a free voxel, and dearer by its share of
        core voxels. Conservative: only wholly free blocks (and the ``keep`` blocks) are passable.
        """
        passable = self.free > 0.5
        if conservative:
            passable &= self.free > self.size - 0.5
            passable[keep[:, 0], keep[:, 1], keep[:, 2]] = self.free[keep[:, 0], keep[:, 1], keep[:, 2]] > 0.5
        mean = self.weight / np.maximum(self.free, 1.0)
        block_weight = mean * (1.0 + BLOCK_CORE_PENALTY * (1.0 - self.free / self.size))
        coords = np.argwhere(passable)
        node_weight = block_weight[coords[:, 0], coords[:, 1], coords[:, 2]]
        graph, padded_ids = _graph(coords, self.shape, node_weight, _step_lengths(voxel_size * self.factor))
        return _Coarse(self.shape, coords, padded_ids[1:-1, 1:-1, 1:-1], graph)


def _coarse_route(coarse: _Coarse, start_block: IndexArray, goal_blocks: IndexArray) -> tuple[IndexArray | None, int]:
    """The cheapest block route from the start block to a goal block (None if there is none), and blocks settled."""
    source = int(coarse.ids[start_block[0], start_block[1], start_block[2]])
    goals = coarse.ids[goal_blocks[:, 0], goal_blocks[:, 1], goal_blocks[:, 2]]
    goals = goals[goals >= 0]
    if source < 0 or not len(goals):
        return None, 0
    distances, predecessors = dijkstra(coarse.graph, indices=source, return_predecessors=True)
    settled = int(np.isfinite(distances).sum())
    if not np.isfinite(distances[goals]).any():
        return None, settled
    end = int(goals[np.argmin(distances[goals])])
    return coarse.coords[_backtrack(predecessors, end)], settled


def _tube(shape: tuple[int, int, int], route: IndexArray) -> BoolArray:
    """The route's blocks and their 26 neighbours."""
    blocks = np.zeros(shape, dtype=bool)
    blocks[route[:, 0], route[:, 1], route[:, 2]] = True
    return np.asarray(ndimage.binary_dilation(blocks, structure=np.ones((3, 3, 3), dtype=bool)))


def _fine_search(
    blocks: BoolArray,
    factor: int,
    free: BoolVolume,
    weight: Volume,
    target: BoolVolume,
    start: IndexArray,
    step: FloatArray,
) -> tuple[IndexArray | None, int, int]:
    """Dijkstra over the free voxels of the given blocks, from start to the nearest target voxel.

    Works on the bounding box of the blocks. Returns the voxel path (None when no target voxel is
    reached), the voxels settled and the voxels searched.
    """
    occupied = np.nonzero(blocks)
    low = np.array([int(a.min()) for a in occupied]) * factor
    high = np.minimum((np.array([int(a.max()) for a in occupied]) + 1) * factor, free.shape)
    box = (slice(int(low[0]), int(high[0])), slice(int(low[1]), int(high[1])), slice(int(low[2]), int(high[2])))
    sub = blocks[tuple(slice(int(lo // factor), int(-(-hi // factor))) for lo, hi in zip(low, high, strict=True))]
    expanded = sub.repeat(factor, axis=0).repeat(factor, axis=1).repeat(factor, axis=2)
    shape = tuple(int(h - lo) for lo, h in zip(low, high, strict=True))
    region = expanded[: shape[0], : shape[1], : shape[2]] & free[box]
    coords = np.argwhere(region)
    local_weight = weight[box][coords[:, 0], coords[:, 1], coords[:, 2]].astype(np.float64)
    graph, ids = _graph(coords, shape, local_weight, step)
    s = start - low
    distances, predecessors = dijkstra(graph, indices=int(ids[s[0] + 1, s[1] + 1, s[2] + 1]), return_predecessors=True)
    goals = ids[1:-1, 1:-1, 1:-1][target[box] & region]
    reached = goals[np.isfinite(distances[goals])]
    settled = int(np.isfinite(distances).sum())
    if not len(reached):
        return None, settled, len(coords)
    end = int(reached[np.argmin(distances[reached])])
    return coords[_backtrack(predecessors, end)] + low, settled, len(coords)


def _connected(free: BoolVolume, target: BoolVolume, start: IndexArray) -> bool:
    """Whether a target voxel lies in the start's 26-connected component of free space."""
    labels, _ = ndimage.label(free, structure=np.ones((3, 3, 3), dtype=bool))
    own = labels[start[0], start[1], start[2]]
    return bool(own > 0 and np.any(labels[target] == own))


def default_factor(shape: tuple[int, ...]) -> int:
    """Block size for the coarse level: about 25 blocks along the longest axis."""
    return max(1, round(max(shape) / 25))


def plan_search(
    maps: ComposedMaps,
    start: npt.ArrayLike,
    *,
    factor: int | None = None,
    avoidance_gain: float = 3.0,
    spacing: float = DEFAULT_SPACING,
    smoothing: float = DEFAULT_SMOOTHING,
) -> ManipulationPath:
    """Two-level Dijkstra from the start to the nearest target voxel (see the module docstring)."""
    started = time.perf_counter()
    p = np.asarray(start, dtype=np.float64).reshape(-1)
    problem = _start_problem(maps, p)
    if problem:
        return _failure(maps, p, "search", problem)
    grid = maps.grid
    f = default_factor(grid.shape) if factor is None else int(factor)
    if f < 1:
        raise ValueError(f"factor must be >= 1, got {factor}")
    start_voxel = grid.world_to_index(p)
    weight = (1.0 + np.float32(maps.avoidance_weight * avoidance_gain) * maps.avoidance).astype(np.float32)
    free = ~maps.impassable
    step = _step_lengths(grid.voxel_size)
    stats: dict[str, float] = {"factor": float(f)}

    blocks = _Blocks.of(maps.impassable, weight, f)
    start_block = start_voxel // f
    goal_blocks = np.unique(np.argwhere(maps.target) // f, axis=0)
    keep = np.concatenate([start_block[None, :], goal_blocks])
    route, expanded = _coarse_route(blocks.graph(grid.voxel_size, False, keep), start_block, goal_blocks)
    stats["coarse_s"] = time.perf_counter() - started
    if route is None:  # every voxel path maps onto a block path: there is none
        stats["plan_s"] = time.perf_counter() - started
        failed = _failure(maps, p, "search", NO_PATH)
        return replace(failed, expanded=expanded, stats=stats)

    def conservative() -> BoolArray | None:
        nonlocal expanded
        safe, settled = _coarse_route(blocks.graph(grid.voxel_size, True, keep), start_block, goal_blocks)
        expanded += settled
        return None if safe is None else _tube(blocks.shape, safe)

    def everything() -> BoolArray | None:
        if not _connected(free, maps.target, start_voxel):
            return None
        return np.ones(blocks.shape, dtype=bool)

    corridors: list[Callable[[], BoolArray | None]] = [lambda: _tube(blocks.shape, route), conservative, everything]
    if f == 1:
        corridors = [everything]
    voxels: IndexArray | None = None
    searched_blocks: BoolArray | None = None
    for attempt, corridor in enumerate(corridors, start=1):
        chosen = corridor()
        if chosen is None or (searched_blocks is not None and np.array_equal(chosen, searched_blocks)):
            continue
        voxels, settled, searched = _fine_search(chosen, f, free, weight, maps.target, start_voxel, step)
        searched_blocks = chosen
        expanded += settled
        stats["corridors"] = float(attempt)
        stats[f"corridor_{attempt}_voxels"] = float(searched)
        if voxels is not None:
            break
    stats["plan_s"] = time.perf_counter() - started
    if voxels is None:
        failed = _failure(maps, p, "search", NO_PATH)
        return replace(failed, expanded=expanded, stats=stats)
    return _finish(
        maps,
        p,
        voxels,
        planner="search",
        success=True,
        reason="",
        expanded=expanded,
        stats=stats,
        spacing=spacing,
        smoothing=smoothing,
    )


Planner = Callable[[ComposedMaps, npt.ArrayLike], ManipulationPath]
PLANNERS: dict[str, Planner] = {"search": plan_search, "greedy": plan_greedy}
DEFAULT_PLANNER = "search"


def plan(maps: ComposedMaps, start: npt.ArrayLike, planner: str = DEFAULT_PLANNER) -> ManipulationPath:
    """Plan with a planner of :data:`PLANNERS` by name."""
    try:
        chosen = PLANNERS[planner]
    except KeyError:
        raise ValueError(f"unknown planner {planner!r}; known: {', '.join(sorted(PLANNERS))}") from None
    return chosen(maps, start)
