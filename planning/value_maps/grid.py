"""The voxel grid of a value map, the scene it is composed from, and the workspace box around a task.

A :class:`VoxelGrid` is an axis-aligned box of the map frame (lower and upper corner, metres) cut
into ``shape`` voxels (100 x 100 x 100 by default, as in VoxPoser). Voxel ``(i, j, k)`` has its
centre at ``lower + (index + 0.5) * voxel_size``. Volumes on the grid are float32 arrays of
``shape``, indexed ``[i, j, k]`` along x, y, z.

A :class:`SceneItem` is what composition needs of an object: an id, a label, a box (centre, size,
yaw about z) and whether it is fragile. Boxes are handled as oriented boxes (yaw included exactly);
roll and pitch are ignored. :func:`items_from_scene_graph` builds the items from the perception
scene graph.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from perception.scene_graph import PARTS_ATTRIBUTE, ObjectKind, PartBox, SceneGraph, SceneObject, parse_parts

FloatArray = npt.NDArray[np.float64]
Volume = npt.NDArray[np.float32]
BoolVolume = npt.NDArray[np.bool_]
IndexArray = npt.NDArray[np.int64]

ScalarT = TypeVar("ScalarT", bound=np.generic)

DEFAULT_SHAPE: tuple[int, int, int] = (100, 100, 100)
MIN_VOXELS_PER_AXIS = 8
DEFAULT_ITEM_SIZE = 0.05  # metres, for objects the scene graph gives no size
FRAGILE_MATERIALS = frozenset({"glass", "ceramic", "porcelain", "crystal"})
TRUE_WORDS = frozenset({"true", "yes", "1"})


def _vector3(value: npt.ArrayLike, name: str) -> tuple[float, float, float]:
    array = np.asarray(value, dtype=np.float64).reshape(-1)
    if array.shape != (3,) or not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be three finite numbers, got {value!r}")
    return float(array[0]), float(array[1]), float(array[2])


@dataclass(frozen=True)
class VoxelGrid:
    """An axis-aligned box of the map frame cut into voxels; see the module docstring."""

    lower: tuple[float, float, float]
    upper: tuple[float, float, float]
    shape: tuple[int, int, int] = DEFAULT_SHAPE

    def __post_init__(self) -> None:
        lower = _vector3(self.lower, "lower")
        upper = _vector3(self.upper, "upper")
        shape = tuple(int(n) for n in self.shape)
        if len(shape) != 3 or any(n < MIN_VOXELS_PER_AXIS for n in shape):
            raise ValueError(f"a voxel grid needs at least {MIN_VOXELS_PER_AXIS} voxels per axis, got {self.shape}")
        if any(u <= lo for lo, u in zip(lower, upper, strict=True)):
            raise ValueError(f"the upper corner {upper} must lie above the lower corner {lower} on every axis")
        object.__setattr__(self, "lower", lower)
        object.__setattr__(self, "upper", upper)
        object.__setattr__(self, "shape", shape)

    @property
    def lower_array(self) -> FloatArray:
        return np.asarray(self.lower, dtype=np.float64)

    @property
    def upper_array(self) -> FloatArray:
        return np.asarray(self.upper, dtype=np.float64)

    @property
    def voxel_size(self) -> FloatArray:
        """Edge lengths of one voxel along x, y, z (metres)."""
        return (self.upper_array - self.lower_array) / np.asarray(self.shape, dtype=np.float64)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def axis_centres(self, axis: int) -> FloatArray:
        """Centres of the voxels along one axis (0, 1, 2 for x, y, z)."""
        return self.lower[axis] + (np.arange(self.shape[axis], dtype=np.float64) + 0.5) * float(self.voxel_size[axis])

    def index_to_world(self, index: npt.ArrayLike) -> FloatArray:
        """Centres of voxels, (..., 3) integer (or fractional) indices to (..., 3) metres."""
        return self.lower_array + (np.asarray(index, dtype=np.float64) + 0.5) * self.voxel_size

    def world_to_index(self, points: npt.ArrayLike) -> IndexArray:
        """The voxel that holds each point, (..., 3) metres to (..., 3) int64; not clamped."""
        scaled = (np.asarray(points, dtype=np.float64) - self.lower_array) / self.voxel_size
        return np.floor(scaled).astype(np.int64)

    def contains(self, points: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """Whether each point (..., 3) lies in the box (lower corner included, upper excluded)."""
        p = np.asarray(points, dtype=np.float64)
        result: npt.NDArray[np.bool_] = np.all((p >= self.lower_array) & (p < self.upper_array), axis=-1)
        return result

    def contains_index(self, index: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        i = np.asarray(index)
        result: npt.NDArray[np.bool_] = np.all((i >= 0) & (i < np.asarray(self.shape)), axis=-1)
        return result

    def clamp_index(self, index: npt.ArrayLike) -> IndexArray:
        """Indices clipped into the grid."""
        return np.clip(np.asarray(index, dtype=np.int64), 0, np.asarray(self.shape, dtype=np.int64) - 1)

    def clamp(self, points: npt.ArrayLike) -> FloatArray:
        """Points clipped into the box (onto the outermost voxel centres)."""
        half = 0.5 * self.voxel_size
        return np.clip(np.asarray(points, dtype=np.float64), self.lower_array + half, self.upper_array - half)

    def nearest_index(self, points: npt.ArrayLike) -> IndexArray:
        """The voxel of each point, clamped into the grid."""
        return self.clamp_index(self.world_to_index(points))

    def zeros(self) -> Volume:
        return np.zeros(self.shape, dtype=np.float32)

    def full(self, value: float) -> Volume:
        return np.full(self.shape, value, dtype=np.float32)

    def sample(self, volume: npt.NDArray[ScalarT], points: npt.ArrayLike) -> npt.NDArray[ScalarT]:
        """Nearest-voxel values of a volume at points (..., 3); points outside take the nearest edge voxel."""
        if volume.shape != self.shape:
            raise ValueError(f"volume of shape {volume.shape} does not match the grid {self.shape}")
        index = self.nearest_index(points)
        values: npt.NDArray[ScalarT] = volume[index[..., 0], index[..., 1], index[..., 2]]
        return values


def _yaw_from_quaternion(q: FloatArray) -> float:
    x, y, z, w = (float(v) for v in q)
    return math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


@dataclass(frozen=True, eq=False)
class SceneItem:
    """An object as composition sees it: an oriented box (yaw about z) and a few facts.

    ``kind`` is ``"object"`` or ``"furniture"`` (from the scene graph), informational only.
    ``parts``, when given, are the solid boxes the item is made of (a table's top and legs, a
    shelf's boards, sides and back): centre and full size in the item's own frame (origin at
    its centre, x along its yaw). Obstacles are their parts; everything else uses the box.
    """

    id: str
    label: str
    center: FloatArray
    size: FloatArray
    yaw: float = 0.0
    fragile: bool = False
    kind: str = "object"
    parts: tuple[PartBox, ...] = ()

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("a scene item needs a non-empty id")
        center = np.asarray(_vector3(self.center, f"center of {self.id!r}"), dtype=np.float64)
        size = np.asarray(_vector3(self.size, f"size of {self.id!r}"), dtype=np.float64)
        if np.any(size < 0.0):
            raise ValueError(f"size of {self.id!r} must not be negative, got {size.tolist()}")
        if not math.isfinite(self.yaw):
            raise ValueError(f"yaw of {self.id!r} must be finite")
        center.flags.writeable = False
        size.flags.writeable = False
        parts = tuple(
            (_vector3(c, f"a part centre of {self.id!r}"), _vector3(s, f"a part size of {self.id!r}"))
            for c, s in self.parts
        )
        if any(min(s) <= 0.0 for _, s in parts):
            raise ValueError(f"parts of {self.id!r} need positive sizes")
        object.__setattr__(self, "center", center)
        object.__setattr__(self, "size", size)
        object.__setattr__(self, "parts", parts)
        object.__setattr__(self, "yaw", float(self.yaw))

    @property
    def half(self) -> FloatArray:
        return 0.5 * self.size

    @property
    def top(self) -> float:
        return float(self.center[2] + 0.5 * self.size[2])

    @property
    def bottom(self) -> float:
        return float(self.center[2] - 0.5 * self.size[2])

    def axes_xy(self) -> tuple[FloatArray, FloatArray]:
        """The box's local x and y axes in the map frame (unit vectors in the xy plane)."""
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        return np.array([c, s, 0.0]), np.array([-s, c, 0.0])

    def support(self, direction: npt.ArrayLike) -> float:
        """How far the box reaches from its centre along a horizontal unit direction."""
        d = np.asarray(direction, dtype=np.float64)
        ax, ay = self.axes_xy()
        return float(abs(d @ ax) * self.half[0] + abs(d @ ay) * self.half[1] + abs(d[2]) * self.half[2])

    def bounds(self, margin: float = 0.0) -> tuple[FloatArray, FloatArray]:
        """Axis-aligned bounds of the (yawed) box grown by a margin."""
        c, s = abs(math.cos(self.yaw)), abs(math.sin(self.yaw))
        hx, hy, hz = (float(v) for v in self.half)
        extent = np.array([c * hx + s * hy, s * hx + c * hy, hz]) + margin
        return self.center - extent, self.center + extent

    def solids(self) -> list[SceneItem]:
        """The solid boxes of the item: its parts placed in the map frame, or the item itself."""
        if not self.parts:
            return [self]
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        return [
            SceneItem(
                id=f"{self.id}/{index}",
                label=self.label,
                center=self.center + np.array([c * x - s * y, s * x + c * y, z]),
                size=np.array(size),
                yaw=self.yaw,
                fragile=self.fragile,
                kind=self.kind,
            )
            for index, ((x, y, z), size) in enumerate(self.parts)
        ]


def items_from_scene_graph(
    graph: SceneGraph | Iterable[SceneObject],
    *,
    default_size: float = DEFAULT_ITEM_SIZE,
    kinds: Sequence[ObjectKind] = (ObjectKind.OBJECT, ObjectKind.FURNITURE),
) -> list[SceneItem]:
    """Scene items for the objects of a scene graph (objects and furniture; places and rooms are not bodies).

    Sizes that are zero (or missing) on an axis get ``default_size``; yaw comes from the orientation
    quaternion; an object is fragile when its attributes say ``fragile: true`` or its ``material`` is
    glass, ceramic, porcelain or crystal. A node's ``parts`` attribute (perception.scene_graph.format_parts)
    becomes the item's parts; one that does not parse leaves the item a solid box.
    """
    objects = graph.objects.values() if isinstance(graph, SceneGraph) else graph
    items = []
    for obj in objects:
        if obj.kind not in kinds:
            continue
        size = np.asarray(obj.size, dtype=np.float64).reshape(3)
        size = np.where(np.isfinite(size) & (size > 0.0), size, default_size)
        orientation = np.asarray(obj.orientation, dtype=np.float64).reshape(4)
        fragile = (
            obj.attributes.get("fragile", "").strip().lower() in TRUE_WORDS
            or obj.attributes.get("material", "").strip().lower() in FRAGILE_MATERIALS
        )
        items.append(
            SceneItem(
                id=obj.id,
                label=obj.label,
                center=obj.position,
                size=size,
                yaw=_yaw_from_quaternion(orientation) if np.any(orientation != 0.0) else 0.0,
                fragile=fragile,
                kind=ObjectKind(obj.kind).name.lower(),
                parts=_parts_of(obj),
            )
        )
    return items


def _parts_of(obj: SceneObject) -> tuple[PartBox, ...]:
    text = obj.attributes.get(PARTS_ATTRIBUTE, "")
    try:
        return tuple(parse_parts(text)) if text.strip() else ()
    except ValueError:
        return ()  # the whole box is the safe reading


def workspace_around(
    points: npt.ArrayLike,
    margin: float = 0.15,
    shape: tuple[int, int, int] = DEFAULT_SHAPE,
    *,
    items: Iterable[SceneItem] = (),
    min_extent: float = 0.4,
    cubic: bool = True,
    floor: float | None = None,
) -> VoxelGrid:
    """The grid box that covers the given points (e.g. the end-effector start and the target) and items.

    Every point and every item's box is covered with ``margin`` to spare; each side is at least
    ``min_extent`` long. With ``cubic`` the box is a cube (equal voxels when the shape is equal on
    every axis, as in VoxPoser). ``floor`` raises the lower z to that height when it lies below it
    (e.g. the floor or the table top the arm never goes below).
    """
    p = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    if p.size == 0 or not np.all(np.isfinite(p)):
        raise ValueError("workspace_around needs at least one finite point")
    if margin < 0.0 or min_extent <= 0.0:
        raise ValueError("margin must be >= 0 and min_extent > 0")
    low, high = p.min(axis=0), p.max(axis=0)
    for item in items:
        item_low, item_high = item.bounds()
        low, high = np.minimum(low, item_low), np.maximum(high, item_high)
    low, high = low - margin, high + margin
    centre = 0.5 * (low + high)
    extent = np.maximum(high - low, min_extent)
    if cubic:
        extent = np.full(3, float(extent.max()))
    low, high = centre - 0.5 * extent, centre + 0.5 * extent
    if floor is not None and low[2] < floor:
        shift = floor - low[2]
        low[2] += shift
        if not cubic:
            high[2] = max(high[2], low[2] + min_extent)
        else:
            high[2] += shift
    return VoxelGrid(_vector3(low, "lower"), _vector3(high, "upper"), shape)
