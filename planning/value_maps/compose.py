"""Composition: a validated spec, a grid and a scene become the value maps and the cost a planner descends.

The cost is VoxPoser's: ``distance_weight`` (2) x the distance to the target set normalised to
[0, 1] plus ``avoidance_weight`` (1) x the blurred avoidance. Beside it ``impassable`` marks the
obstacle cores (obstacle boxes and cloud points grown by ``core_margin``), which the planners never
enter. Obstacles are, with ``avoid_all``, every item but the excluded ones (plus the point cloud),
and the items in ``avoid``. Excluded are the ``moving`` object, the ``ignore`` list, and the target
object of ``at`` and ``inside`` (the target lies in its box); for the other relations the target
object stays an obstacle but the target region is cut out of its avoidance and core. An item both
excluded and listed in ``avoid`` is excluded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from planning.value_maps.grid import BoolVolume, FloatArray, SceneItem, Volume, VoxelGrid
from planning.value_maps.maps import (
    affordance_map,
    avoidance_map,
    distance_to,
    gripper_map,
    item_mask,
    obstacle_cores,
    rotation_map,
    velocity_map,
)
from planning.value_maps.spec import Relation, RotationMode, SpecError, ValueMapSpec, parse_spec

EXCLUDED_CLOUD_MARGIN = 0.02  # cloud points this near an excluded item belong to it


@dataclass(frozen=True, eq=False)
class ComposedMaps:
    """The value maps of one spec on one grid, and the cost the planners use."""

    grid: VoxelGrid
    spec: ValueMapSpec
    observer_yaw: float
    affordance: Volume
    avoidance: Volume
    rotation: Volume  # wrist yaw, radians; NaN where free
    rotation_mode: RotationMode
    velocity: Volume
    gripper: Volume  # 1 open, 0 closed
    target: BoolVolume  # the voxels of maximal affordance
    target_distance: Volume  # metres to the target set
    cost: Volume
    impassable: BoolVolume  # obstacle cores
    distance_weight: float
    avoidance_weight: float
    target_item: SceneItem | None
    obstacles: tuple[str, ...]  # ids of the items treated as obstacles

    def sample(self, name: str, points: npt.ArrayLike) -> npt.NDArray[Any]:
        """Nearest-voxel values of one of the volumes (e.g. ``"velocity"``) at points (..., 3)."""
        volume = getattr(self, name)
        if not isinstance(volume, np.ndarray) or volume.shape != self.grid.shape:
            raise ValueError(f"{name!r} is not a volume of the composed maps")
        return self.grid.sample(volume, points)

    def target_centroid(self) -> FloatArray:
        """The mean of the target voxels' centres (metres)."""
        return np.asarray(self.grid.index_to_world(np.argwhere(self.target)).mean(axis=0), dtype=np.float64)


def _describe_known(items: Sequence[SceneItem]) -> str:
    if not items:
        return "the scene is empty"
    names = [item.id if item.label in ("", item.id) else f"{item.id} ({item.label})" for item in items]
    return "known: " + ", ".join(sorted(names))


def resolve(items: Sequence[SceneItem], name: str) -> SceneItem | str:
    """The item a name means (an id first, else the one item with that label), or why none."""
    for item in items:
        if item.id == name:
            return item
    labelled = [item for item in items if item.label == name]
    if len(labelled) == 1:
        return labelled[0]
    if labelled:
        return f"{name!r} matches several items ({', '.join(sorted(i.id for i in labelled))}); use an id"
    return f"unknown object {name!r}"


def _resolve_all(spec: ValueMapSpec, items: Sequence[SceneItem]) -> dict[str, SceneItem]:
    found: dict[str, SceneItem] = {}
    problems = []
    for path, name in spec.object_references():
        item = resolve(items, name)
        if isinstance(item, str):
            problems.append(f"at {path}: {item}")
        else:
            found[name] = item
    if problems:
        raise SpecError(problems, _describe_known(items))
    return found


def _outside(points: FloatArray, items: Iterable[SceneItem], margin: float) -> FloatArray:
    keep = np.ones(len(points), dtype=bool)
    for item in items:
        c, s = np.cos(item.yaw), np.sin(item.yaw)
        d = points - item.center
        local = np.stack([c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1], d[:, 2]], axis=1)
        keep &= ~np.all(np.abs(local) <= item.half + margin, axis=1)
    return points[keep]


def compose(
    spec: ValueMapSpec | object,
    grid: VoxelGrid,
    items: Sequence[SceneItem],
    observer_yaw: float = 0.0,
    cloud: npt.ArrayLike | None = None,
    *,
    distance_weight: float = 2.0,
    avoidance_weight: float = 1.0,
    blur_sigma: float = 0.03,
    core_margin: float = 0.01,
    target_clearance: float = 0.08,
) -> ComposedMaps:
    """Compose the value maps of a spec (a :class:`ValueMapSpec`, or raw data for :func:`parse_spec`).

    ``observer_yaw`` is the robot base's yaw in the map frame (for left/right/front/behind);
    ``cloud`` an optional (N, 3) cloud of obstacle points. The avoidance fades linearly to 0 within
    ``target_clearance`` metres of the target set, so that a target beside an obstacle (an object on
    a table) lies at the bottom of the cost; the obstacle cores stay. Raises :class:`SpecError` when the spec
    names objects the scene lacks (listing the known ones) or its target lies outside the grid.
    """
    if not isinstance(spec, ValueMapSpec):
        spec = parse_spec(spec)
    if len({item.id for item in items}) != len(items):
        raise ValueError("scene items need distinct ids")
    named = _resolve_all(spec, items)
    a = spec.affordance
    target_item = named[a.object] if a.object is not None else None
    try:
        affordance = affordance_map(
            grid,
            target_item,
            a.relation,
            observer_yaw=observer_yaw,
            offset=a.offset,
            distance=a.distance,
            tolerance=a.tolerance,
            point=a.point,
        )
    except ValueError as error:
        raise SpecError(f"at $.affordance: {error}") from None
    target = affordance >= affordance.max()

    excluded = {named[n].id for n in (*([spec.moving] if spec.moving else []), *spec.ignore)}
    if target_item is not None and a.relation in (Relation.AT, Relation.INSIDE):
        excluded.add(target_item.id)
    margins: dict[str, float] = {}
    if spec.avoid_all:
        margins = {item.id: spec.avoid_margin for item in items if item.id not in excluded}
    for avoid in spec.avoid:
        if named[avoid.object].id not in excluded:
            margins[named[avoid.object].id] = avoid.margin
    obstacles = [(item, margins[item.id]) for item in items if item.id in margins]
    points = None
    if cloud is not None and spec.avoid_all:
        raw = np.asarray(cloud, dtype=np.float64).reshape(-1, 3)
        points = _outside(raw, [item for item in items if item.id in excluded], EXCLUDED_CLOUD_MARGIN)

    avoidance = avoidance_map(
        grid, obstacles, points, cloud_margin=spec.avoid_margin, sigma=blur_sigma, keep_clear=target
    )
    impassable = obstacle_cores(grid, [item for item, _ in obstacles], points, core_margin)
    impassable &= ~target
    target_distance = distance_to(grid, target)
    if target_clearance > 0.0:
        avoidance *= np.clip(target_distance / np.float32(target_clearance), 0.0, 1.0)
    peak = float(target_distance.max())
    normalised = target_distance / np.float32(peak) if peak > 0.0 else target_distance
    cost = (np.float32(distance_weight) * normalised + np.float32(avoidance_weight) * avoidance).astype(np.float32)

    r = spec.rotation
    rotation = rotation_map(
        grid,
        yaw=r.yaw,
        align_with=named[r.yaw_from] if r.yaw_from is not None else None,
        radius=r.radius,
        mode=r.mode,
        observer_yaw=observer_yaw,
    )
    v = spec.velocity
    slow = [(named[s.object], s.radius, s.scale) for s in v.slow_near]
    if v.fragile_scale < 1.0:
        moving_id = named[spec.moving].id if spec.moving else None
        slow += [(item, v.fragile_radius, v.fragile_scale) for item in items if item.fragile and item.id != moving_id]
    velocity = velocity_map(grid, v.scale, slow)
    g = spec.gripper
    gripper = gripper_map(grid, g.open, at_target=g.at_target, target_distance=target_distance, radius=g.radius)
    return ComposedMaps(
        grid=grid,
        spec=spec,
        observer_yaw=float(observer_yaw),
        affordance=affordance,
        avoidance=avoidance,
        rotation=rotation,
        rotation_mode=r.mode,
        velocity=velocity,
        gripper=gripper,
        target=target,
        target_distance=target_distance,
        cost=cost,
        impassable=impassable,
        distance_weight=distance_weight,
        avoidance_weight=avoidance_weight,
        target_item=target_item,
        obstacles=tuple(item.id for item, _ in obstacles),
    )


def occupied_by(grid: VoxelGrid, items: Iterable[SceneItem], margin: float = 0.0) -> BoolVolume:
    """Voxels inside any of the items' boxes grown by ``margin`` (for checks and pictures)."""
    mask = np.zeros(grid.shape, dtype=bool)
    for item in items:
        mask |= item_mask(grid, item, margin)
    return mask
