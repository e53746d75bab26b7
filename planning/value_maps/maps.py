"""Value-map primitives: each builds one float32 volume on a :class:`VoxelGrid`.

- affordance: 1 in the target region (relative to an object, or around a point), 0 elsewhere;
- avoidance: 1 within a margin of obstacles, Gaussian-blurred and normalised to [0, 1];
- rotation: the wrist yaw to use (radians), NaN where the spec leaves it free;
- velocity: a speed scale in (0, 1];
- gripper: 1 open, 0 closed.

Boxes are oriented boxes (yaw about z). Work is done on the window of voxels each box can reach,
not on the whole grid, so that a scene of many small objects composes quickly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from planning.value_maps.grid import BoolVolume, FloatArray, SceneItem, Volume, VoxelGrid
from planning.value_maps.spec import DEFAULT_DISTANCE, GripperAction, Relation, RotationMode

Window = tuple[slice, slice, slice]
SIDE_RELATIONS = (Relation.LEFT_OF, Relation.RIGHT_OF, Relation.IN_FRONT_OF, Relation.BEHIND)


def _window(grid: VoxelGrid, low: FloatArray, high: FloatArray) -> Window | None:
    """Voxels whose centres lie in [low, high]; None when there are none."""
    vs = grid.voxel_size
    start = np.ceil((low - grid.lower_array) / vs - 0.5 - 1e-9).astype(np.int64)
    stop = np.floor((high - grid.lower_array) / vs - 0.5 + 1e-9).astype(np.int64) + 1
    start = np.clip(start, 0, grid.shape)
    stop = np.clip(stop, 0, grid.shape)
    if np.any(stop <= start):
        return None
    return (slice(int(start[0]), int(stop[0])), slice(int(start[1]), int(stop[1])), slice(int(start[2]), int(stop[2])))


def _window_centres(grid: VoxelGrid, window: Window) -> tuple[FloatArray, FloatArray, FloatArray]:
    x = grid.axis_centres(0)[window[0]][:, None, None]
    y = grid.axis_centres(1)[window[1]][None, :, None]
    z = grid.axis_centres(2)[window[2]][None, None, :]
    return x, y, z


def box_distance(
    grid: VoxelGrid, center: npt.ArrayLike, half: npt.ArrayLike, yaw: float, reach: float
) -> tuple[Window, npt.NDArray[np.float32]] | None:
    """Distance (metres, 0 inside) from voxel centres to an oriented box, on the window within ``reach`` of it."""
    c = np.asarray(center, dtype=np.float64)
    h = np.asarray(half, dtype=np.float64)
    cos, sin = abs(math.cos(yaw)), abs(math.sin(yaw))
    extent = np.array([cos * h[0] + sin * h[1], sin * h[0] + cos * h[1], h[2]]) + reach
    window = _window(grid, c - extent, c + extent)
    if window is None:
        return None
    x, y, z = _window_centres(grid, window)
    dx, dy = x - c[0], y - c[1]
    u = math.cos(yaw) * dx + math.sin(yaw) * dy
    v = -math.sin(yaw) * dx + math.cos(yaw) * dy
    qu = np.maximum(np.abs(u) - h[0], 0.0)
    qv = np.maximum(np.abs(v) - h[1], 0.0)
    qz = np.maximum(np.abs(z - c[2]) - h[2], 0.0)
    return window, np.sqrt(qu * qu + qv * qv + qz * qz).astype(np.float32)


def item_distance(grid: VoxelGrid, item: SceneItem, reach: float) -> tuple[Window, npt.NDArray[np.float32]] | None:
    """:func:`box_distance` for a scene item."""
    return box_distance(grid, item.center, item.half, item.yaw, reach)


def item_mask(grid: VoxelGrid, item: SceneItem, margin: float = 0.0) -> BoolVolume:
    """Voxels whose centres lie within ``margin`` of the item's box."""
    mask = np.zeros(grid.shape, dtype=bool)
    found = item_distance(grid, item, margin)
    if found is not None:
        window, distance = found
        mask[window] |= distance <= margin + 1e-9
    return mask


def _ball(grid: VoxelGrid, mask: BoolVolume, centre: FloatArray, radius: float) -> None:
    found = box_distance(grid, centre, np.zeros(3), 0.0, radius)
    if found is not None:
        window, distance = found
        mask[window] |= distance <= radius + 1e-9


def _slab(grid: VoxelGrid, mask: BoolVolume, centre: FloatArray, half: FloatArray, yaw: float) -> None:
    found = box_distance(grid, centre, half, yaw, 0.0)
    if found is not None:
        window, distance = found
        mask[window] |= distance <= 1e-9


def observer_directions(observer_yaw: float) -> dict[Relation, FloatArray]:
    """Unit directions of the side relations in the map frame, seen by an observer with this yaw.

    The observer looks along its yaw; "left" is to its left, "in front of" is the side facing it.
    """
    forward = np.array([math.cos(observer_yaw), math.sin(observer_yaw), 0.0])
    left = np.array([-math.sin(observer_yaw), math.cos(observer_yaw), 0.0])
    return {Relation.LEFT_OF: left, Relation.RIGHT_OF: -left, Relation.IN_FRONT_OF: -forward, Relation.BEHIND: forward}


def relation_distance(item: SceneItem, relation: Relation, distance: float | None) -> float:
    """The relation's distance: the given one, or its default (inside: a quarter of the height below the rim)."""
    if distance is not None:
        return distance
    if relation is Relation.INSIDE:
        return 0.25 * float(item.size[2])
    return DEFAULT_DISTANCE[relation]


def target_region(
    grid: VoxelGrid,
    item: SceneItem | None,
    relation: Relation = Relation.AT,
    *,
    observer_yaw: float = 0.0,
    offset: npt.ArrayLike = (0.0, 0.0, 0.0),
    distance: float | None = None,
    tolerance: float = 0.02,
    point: npt.ArrayLike | None = None,
) -> BoolVolume:
    """The voxels of the target region; see :func:`affordance_map`. Raises ValueError when it misses the grid."""
    shift = np.asarray(offset, dtype=np.float64).reshape(3)
    mask = np.zeros(grid.shape, dtype=bool)
    centres: list[FloatArray] = []
    if item is None:
        if point is None:
            raise ValueError("a target needs an item or a point")
        centres.append(np.asarray(point, dtype=np.float64).reshape(3) + shift)
        _ball(grid, mask, centres[-1], tolerance)
    elif relation is Relation.AT:
        centres.append(item.center + shift)
        _ball(grid, mask, centres[-1], tolerance)
    elif relation in (Relation.ABOVE, Relation.INSIDE):
        gap = relation_distance(item, relation, distance)
        z = item.top + gap if relation is Relation.ABOVE else max(item.top - gap, item.bottom + tolerance)
        centre = np.array([item.center[0], item.center[1], z]) + shift
        half = np.array([max(0.5 * item.half[0], tolerance), max(0.5 * item.half[1], tolerance), tolerance])
        centres.append(centre)
        _slab(grid, mask, centre, half, item.yaw)
    else:
        gap = relation_distance(item, relation, distance)
        directions = observer_directions(observer_yaw)
        chosen = [Relation.LEFT_OF, Relation.RIGHT_OF] if relation is Relation.BESIDE else [relation]
        for side in chosen:
            u = directions[side]
            centres.append(item.center + u * (item.support(u) + gap) + shift)
            _ball(grid, mask, centres[-1], tolerance)
    if not mask.any():
        inside = [c for c in centres if bool(grid.contains(c))]
        if not inside:
            where = "the point" if item is None else f"{relation.value} {item.id}"
            raise ValueError(
                f"the target region ({where}, around {np.round(centres[0], 3).tolist()}) lies outside the grid "
                f"{np.round(grid.lower_array, 3).tolist()}..{np.round(grid.upper_array, 3).tolist()}"
            )
        for c in inside:  # a region smaller than a voxel: its voxel
            i, j, k = (int(v) for v in grid.nearest_index(c))
            mask[i, j, k] = True
    return mask


def affordance_map(
    grid: VoxelGrid,
    item: SceneItem | None,
    relation: Relation = Relation.AT,
    *,
    observer_yaw: float = 0.0,
    offset: npt.ArrayLike = (0.0, 0.0, 0.0),
    distance: float | None = None,
    tolerance: float = 0.02,
    point: npt.ArrayLike | None = None,
) -> Volume:
    """1 in the target region, 0 elsewhere; the target set is the voxels of maximal affordance.

    Regions (``offset`` shifts each; ``tolerance`` is their radius or half-thickness):

    - ``at``: a ball around the item's centre; with no item, a ball around ``point``;
    - ``above``: a slab ``distance`` over the item's top, over the inner half of its footprint;
    - ``inside``: the same slab ``distance`` below its rim (within its top part);
    - ``left_of``, ``right_of``, ``in_front_of``, ``behind``: a ball ``distance`` beyond the item's
      side in that direction as the observer sees it, at the item's centre height; ``beside`` is
      both the left and the right ball.

    A region smaller than a voxel becomes its voxel; a region wholly outside the grid is a ValueError.
    """
    region = target_region(
        grid,
        item,
        relation,
        observer_yaw=observer_yaw,
        offset=offset,
        distance=distance,
        tolerance=tolerance,
        point=point,
    )
    return region.astype(np.float32)


def cloud_occupancy(grid: VoxelGrid, cloud: npt.ArrayLike | None) -> BoolVolume:
    """Voxels that hold at least one point of an (N, 3) cloud; points outside the grid are dropped."""
    occupied = np.zeros(grid.shape, dtype=bool)
    if cloud is None:
        return occupied
    points = np.asarray(cloud, dtype=np.float64).reshape(-1, 3)
    points = points[np.all(np.isfinite(points), axis=1)]
    index = grid.world_to_index(points)
    index = index[grid.contains_index(index)]
    occupied[index[:, 0], index[:, 1], index[:, 2]] = True
    return occupied


def dilate(grid: VoxelGrid, mask: BoolVolume, radius: float) -> BoolVolume:
    """Voxels within ``radius`` metres (Euclidean, between centres) of a mask, computed on its bounding window."""
    result: BoolVolume = mask.copy()
    if radius <= 0.0 or not mask.any():
        return result
    reach = np.ceil(radius / grid.voxel_size).astype(np.int64) + 1
    occupied = np.nonzero(mask)
    low = np.maximum(np.array([int(a.min()) for a in occupied]) - reach, 0)
    high = np.minimum(np.array([int(a.max()) for a in occupied]) + reach + 1, grid.shape)
    window = (slice(int(low[0]), int(high[0])), slice(int(low[1]), int(high[1])), slice(int(low[2]), int(high[2])))
    distance = ndimage.distance_transform_edt(~mask[window], sampling=grid.voxel_size)
    result[window] |= distance <= radius + 1e-9
    return result


def obstacle_zone(
    grid: VoxelGrid,
    obstacles: Sequence[tuple[SceneItem, float]],
    cloud: npt.ArrayLike | None = None,
    cloud_margin: float = 0.05,
) -> BoolVolume:
    """Voxels within each obstacle's margin of its solid boxes, and within ``cloud_margin`` of a cloud point."""
    zone = dilate(grid, cloud_occupancy(grid, cloud), cloud_margin)
    for item, margin in obstacles:
        for solid in item.solids():
            found = item_distance(grid, solid, margin)
            if found is not None:
                window, distance = found
                zone[window] |= distance <= margin + 1e-9
    return zone


def blur_normalise(grid: VoxelGrid, zone: BoolVolume, sigma: float) -> Volume:
    """A zone Gaussian-blurred (sigma in metres, as in VoxPoser) and scaled so that its maximum is 1."""
    volume = zone.astype(np.float32)
    if sigma > 0.0 and zone.any():
        volume = ndimage.gaussian_filter(volume, sigma=(sigma / grid.voxel_size).tolist(), truncate=3.0)
    peak = float(volume.max()) if volume.size else 0.0
    if peak > 0.0:
        volume *= np.float32(1.0 / peak)
    return volume.astype(np.float32, copy=False)


def avoidance_map(
    grid: VoxelGrid,
    obstacles: Sequence[tuple[SceneItem, float]],
    cloud: npt.ArrayLike | None = None,
    *,
    cloud_margin: float = 0.05,
    sigma: float = 0.03,
    keep_clear: BoolVolume | None = None,
) -> Volume:
    """Avoidance in [0, 1]: the obstacle zone (each (item, margin), and the cloud) blurred and normalised.

    ``keep_clear`` (e.g. the target region) is taken out of the zone before the blur and set to 0 after.
    """
    zone = obstacle_zone(grid, obstacles, cloud, cloud_margin)
    if keep_clear is not None:
        zone &= ~keep_clear
    volume = blur_normalise(grid, zone, sigma)
    if keep_clear is not None:
        volume[keep_clear] = 0.0
    return volume


def obstacle_cores(
    grid: VoxelGrid, items: Sequence[SceneItem], cloud: npt.ArrayLike | None = None, core_margin: float = 0.01
) -> BoolVolume:
    """Impassable voxels: each item's solid boxes and each cloud point, grown by ``core_margin``."""
    cores = dilate(grid, cloud_occupancy(grid, cloud), core_margin)
    for item in items:
        for solid in item.solids():
            cores |= item_mask(grid, solid, core_margin)
    return cores


def wrap_angle(angle: float, period: float = 2.0 * math.pi) -> float:
    """The angle wrapped into (-period / 2, period / 2]."""
    wrapped = (angle + 0.5 * period) % period - 0.5 * period
    return 0.5 * period if wrapped == -0.5 * period else wrapped


def grasp_yaw(item: SceneItem, mode: RotationMode = RotationMode.TOP_DOWN, observer_yaw: float = 0.0) -> float:
    """The wrist yaw for an item.

    top_down: the yaw of the fingers' closing axis, across the item's shorter horizontal side
    (gripper symmetry: in (-pi/2, pi/2]). side: the approach heading, the observer's yaw.
    """
    if mode is RotationMode.SIDE:
        return wrap_angle(observer_yaw)
    yaw = item.yaw if item.size[0] <= item.size[1] else item.yaw + 0.5 * math.pi
    return wrap_angle(yaw, math.pi)


def rotation_map(
    grid: VoxelGrid,
    *,
    yaw: float | None = None,
    align_with: SceneItem | None = None,
    radius: float = 0.15,
    mode: RotationMode = RotationMode.TOP_DOWN,
    observer_yaw: float = 0.0,
) -> Volume:
    """Wrist yaw per voxel (radians; NaN where free).

    A fixed ``yaw`` applies everywhere; ``align_with`` sets :func:`grasp_yaw` within ``radius`` of the
    item's box; with neither the yaw is free everywhere.
    """
    if yaw is not None:
        return grid.full(yaw)
    volume = grid.full(math.nan)
    if align_with is not None:
        found = item_distance(grid, align_with, radius)
        if found is not None:
            window, distance = found
            near = distance <= radius + 1e-9
            volume[window][near] = grasp_yaw(align_with, mode, observer_yaw)
    return volume


def velocity_map(
    grid: VoxelGrid, scale: float = 1.0, slow_near: Sequence[tuple[SceneItem, float, float]] = ()
) -> Volume:
    """Speed scale per voxel: ``scale`` everywhere, times the lowest ``(item, radius, scale)`` within reach."""
    if not 0.0 < scale <= 1.0:
        raise ValueError(f"a speed scale must lie in (0, 1], got {scale}")
    volume = grid.full(1.0)
    for item, radius, factor in slow_near:
        if not 0.0 < factor <= 1.0:
            raise ValueError(f"a speed scale must lie in (0, 1], got {factor}")
        found = item_distance(grid, item, radius)
        if found is not None:
            window, distance = found
            part = volume[window]
            part[distance <= radius + 1e-9] = np.minimum(part[distance <= radius + 1e-9], factor)
    volume *= np.float32(scale)
    return volume


def gripper_map(
    grid: VoxelGrid,
    open_gripper: bool = True,
    *,
    at_target: GripperAction = GripperAction.KEEP,
    target_distance: npt.NDArray[np.floating] | None = None,
    radius: float = 0.03,
) -> Volume:
    """1 (open) or 0 (closed) per voxel: ``open_gripper`` on the way, ``at_target`` within ``radius`` of the target."""
    volume = grid.full(1.0 if open_gripper else 0.0)
    if at_target is not GripperAction.KEEP:
        if target_distance is None:
            raise ValueError("a gripper action at the target needs the distance to the target")
        volume[target_distance <= radius + 1e-6] = 1.0 if at_target is GripperAction.OPEN else 0.0
    return volume


def distance_to(grid: VoxelGrid, mask: BoolVolume) -> Volume:
    """Euclidean distance (metres) from each voxel centre to the nearest voxel of a non-empty mask."""
    if not mask.any():
        raise ValueError("distance to an empty set")
    distance: Volume = ndimage.distance_transform_edt(~mask, sampling=grid.voxel_size).astype(np.float32)
    return distance
