"""An object's oriented 3D box from what RGB-D views show of it, fused over the views of a track.

One view's evidence (``ViewEvidence``, built by perception.measure): the visible surface points in the
map frame, free-space segments (the pieces near the object of rays that pass just outside its
silhouette and end on something farther, such as the table behind it: the object is not on them),
the camera's position, and the height of the surface it stands on where that is seen just under it.

The box (``estimate_box``), from the evidence of one view or of several:

1. Height: top = the highest visible point; bottom = the support's height where one is seen at most
   ``support_gap_m`` under the lowest point (what it stands on), else the lowest point.
2. Footprint: the convex hull of the points' xy. Where a camera sees the top, its points give the
   whole footprint; the hull's edges that face a camera are the outline actually seen (the others
   close what was not seen).
3. Orientation: the minimum-area rectangle around the hull (cv2.minAreaRect), unless the seen outline
   does not lie on its sides (RMS distance over ``min_round_rms_m``): then, among the hull-edge
   orientations with the smallest rectangles, the one whose sides the outline lies on best. Seen from
   outside a corner, two faces make a triangle whose smallest rectangles are the faces' and the
   diagonal's, and only the faces' has the outline on its sides.
4. Round things: a least-squares circle (Kasa) through the seen outline. A cylinder's wall and a
   sphere's near equator lie on a circle, a box's faces do not; where the circle's RMS distance is
   under ``sure_round_ratio`` times the minimum-area rectangle's, or ``round_ratio`` times that of
   the best rectangle of step 3, the footprint is the circle's square, 2r x 2r around its centre,
   yaw 0.
5. Hidden sides: a side of the rectangle that no camera is in front of may hide more of the object.
   Let f be how far beyond it the nearest free segment passes (within the side's length, between
   bottom and top): the object ends somewhere in [0, f] beyond it, so the side moves out by
   e = min(f / 2, a - b) (a: the extent along the side, b: across it; no deeper than wide). A top seen
   to its far edge has free rays a pixel beyond it (f of a few millimetres); a box seen face-on has
   none behind it (f infinite): then the side stays where it was seen, as the box is never assumed
   deeper than the evidence says, and the next look from elsewhere adds what it sees. No side ends up
   thinner than ``min_extent_m``.
6. Canonical form: size = (extent along the box's x axis, across it, height) with size[0] >= size[1],
   yaw = heading of that x axis in [-pi/2, pi/2).

``ExtentAccumulator`` (one per track) keeps the footprint points of all views as ``cell_m`` cells in xy
(the mean of the points in each; the cells double in size beyond ``max_cells``), the free segments,
cameras and heights of the last ``max_views`` views, and the box of all of it (top: the highest of the
views' tops, bottom: the median of their bottoms). A view from where a kept view was taken that shows
nothing outside the box is not folded in again; one whose points lie mostly outside the box (someone
pushed the object) starts it afresh, as the tracker does when the object moved far.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
HALF_PI = math.pi / 2
CANDIDATES = 8  # rectangle orientations compared by how well the seen outline lies on their sides


@dataclass(frozen=True)
class ExtentSettings:
    cell_m: float = 0.005  # footprint cells in xy
    max_cells: int = 4096  # more: cells double in size
    max_views: int = 8  # free segments, cameras and heights of this many views are kept
    support_gap_m: float = 0.04  # a surface seen this far under the lowest point is what the object stands on
    min_extent_m: float = 0.01  # no footprint side is thinner
    boundary_step_m: float = 0.003  # hull boundary sampling for the circle fit
    round_ratio: float = 0.5  # circle RMS under this times the best rectangle's: round
    sure_round_ratio: float = 0.2  # ... under this times the minimum-area one's: round without comparing others
    min_round_rms_m: float = 0.0015  # a rectangle fitting better than this is a box
    pushed_fraction: float = 0.3  # of a new view's points this far outside the box ...
    pushed_distance_m: float = 0.02  # ... by this much: the object was pushed, start afresh
    new_view_m: float = 0.05  # a camera this far from those of the kept views sees anew
    new_part_m: float = 0.005  # a view from a kept viewpoint counts only where it shows this much outside


@dataclass(frozen=True)
class ViewEvidence:
    """What one view shows of one object, map frame."""

    points: Array  # (N, 3) visible surface points
    free: Array  # (S, 2, 3) free-space segments near the object (start, end)
    viewpoint: Array  # (3,) camera position
    support: float | None = None  # height of the surface seen just under the object

    def bottom(self, settings: ExtentSettings) -> float:
        """The support's height where it is seen just under the lowest point, else that point's."""
        low = float(self.points[:, 2].min())
        if self.support is not None and low - settings.support_gap_m <= self.support <= low + 0.005:
            return min(self.support, low)
        return low

    def object_points(self, settings: ExtentSettings) -> Array:
        """The points without the support's own pixels at the mask's rim."""
        if self.support is None or self.bottom(settings) != self.support:
            return self.points
        above = self.points[:, 2] > self.support + 0.003
        return self.points[above] if above.sum() >= 3 else self.points

    def box(self, settings: ExtentSettings | None = None) -> Box:
        """The box this view alone shows."""
        settings = settings or ExtentSettings()
        points = self.object_points(settings)
        top, bottom = float(points[:, 2].max()), self.bottom(settings)
        return estimate_box(points[:, :2], top, bottom, self.viewpoint[None, :], self.free, settings)


@dataclass(frozen=True)
class Box:
    """An oriented box: size = (along its x axis, across, height), size[0] >= size[1]; yaw of its x
    axis in [-pi/2, pi/2). ``round``: the footprint is a circle's square (any yaw would do)."""

    centre: Array
    size: Array
    yaw: float
    round: bool = False

    def axes(self) -> tuple[Array, Array]:
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        return np.array([c, s]), np.array([-s, c])

    def outside(self, xy: Array) -> Array:
        """How far each xy point lies outside the footprint (0 inside)."""
        along, across = self.axes()
        offset = xy - self.centre[:2]
        du = np.abs(offset @ along) - self.size[0] / 2
        dv = np.abs(offset @ across) - self.size[1] / 2
        return np.asarray(np.hypot(np.maximum(du, 0.0), np.maximum(dv, 0.0)), dtype=np.float64)


def canonical(centre: Array, length: float, width: float, height: float, yaw: float, round_: bool = False) -> Box:
    """The box with size[0] >= size[1] and yaw in [-pi/2, pi/2)."""
    if width > length:
        length, width, yaw = width, length, yaw + HALF_PI
    yaw = (yaw + HALF_PI) % math.pi - HALF_PI
    return Box(np.asarray(centre, dtype=np.float64), np.array([length, width, height]), float(yaw), round_)


def convex_hull(xy: Array) -> Array:
    """The convex hull's vertices of (N, 2) points (cv2), counter-clockwise."""
    hull = cv2.convexHull(xy.astype(np.float32), clockwise=False).reshape(-1, 2).astype(np.float64)
    if len(hull) >= 3:
        (ax, ay), (bx, by), (cx, cy) = hull[0], hull[1], hull[2]
        if (bx - ax) * (cy - by) - (by - ay) * (cx - bx) < 0:
            hull = hull[::-1]
    return hull


def _outline(hull: Array, cameras: Array, step: float) -> tuple[Array, Array]:
    """Points every ``step`` along the edges of a counter-clockwise convex polygon that some camera
    faces (all edges for a camera over it), and the polygon's edge vectors."""
    edges = np.roll(hull, -1, axis=0) - hull
    lengths = np.hypot(edges[:, 0], edges[:, 1])
    if np.hypot(cameras[:, 0], cameras[:, 1]).min() <= np.hypot(hull[:, 0], hull[:, 1]).max():
        facing = lengths > 1e-9
    else:  # outward normal (ey, -ex) towards a camera
        middles = hull + edges / 2
        towards = (cameras[:, None, 0] - middles[:, 0]) * edges[:, 1] - (cameras[:, None, 1] - middles[:, 1]) * edges[
            :, 0
        ]
        facing = (lengths > 1e-9) & (towards > 0).any(axis=0)
    counts = np.ceil(lengths[facing] / step).astype(int).clip(min=1)
    index = np.repeat(np.flatnonzero(facing), counts)
    fraction = (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + 0.5) / counts.repeat(counts)
    return hull[index] + fraction[:, None] * edges[index], edges


def fit_circle(xy: Array) -> tuple[Array, float, float]:
    """Centre, radius and RMS distance of the least-squares circle through the points (Kasa's fit:
    x^2 + y^2 = 2 a x + 2 b y + c, linear in a, b, c)."""
    design = np.column_stack([xy, np.ones(len(xy))])
    solution = np.linalg.solve(design.T @ design + 1e-12 * np.eye(3), design.T @ (xy**2).sum(axis=1))
    centre = solution[:2] / 2
    radius = math.sqrt(max(float(solution[2] + centre @ centre), 1e-12))
    offset = xy - centre
    residual = np.hypot(offset[:, 0], offset[:, 1]) - radius
    return centre, radius, float(np.sqrt(np.mean(residual**2)))


@dataclass(frozen=True)
class _Rectangle:
    centre: Array  # xy
    yaw: float  # of its first axis
    half: Array  # half extents along its axes
    rms: float  # RMS distance of the outline the cameras see to its sides


def _gaps(near: Array, c: Array, s: Array, middle: Array, half: Array) -> Array:
    """RMS distance of the outline points to the sides of rectangles (one per column: axis angle's
    cosine c and sine s, centre and half extents in the rotated frame), for points inside them."""
    nu = near[:, :1] * c + near[:, 1:] * s - middle[0]
    nv = near[:, 1:] * c - near[:, :1] * s - middle[1]
    gap = np.minimum(half[0] - np.abs(nu), half[1] - np.abs(nv)).clip(min=0.0)
    return np.asarray(np.sqrt(np.mean(gap**2, axis=0)), dtype=np.float64)


def _min_area_rectangle(hull: Array, near: Array) -> _Rectangle:
    """The minimum-area rectangle around the hull (cv2) and how well the seen outline lies on it."""
    _, _, degrees = cv2.minAreaRect(hull.astype(np.float32))
    angle = math.radians(degrees) % HALF_PI
    c, s = math.cos(angle), math.sin(angle)
    u, v = hull[:, 0] * c + hull[:, 1] * s, hull[:, 1] * c - hull[:, 0] * s
    middle = np.array([[(u.max() + u.min()) / 2], [(v.max() + v.min()) / 2]])
    half = np.array([[(u.max() - u.min()) / 2], [(v.max() - v.min()) / 2]])
    rms = float(_gaps(near, np.array([c]), np.array([s]), middle, half)[0]) if len(near) else 0.0
    centre = middle[0, 0] * np.array([c, s]) + middle[1, 0] * np.array([-s, c])
    return _Rectangle(centre, angle, half[:, 0].copy(), rms)


def _rectangle(hull: Array, edges: Array, near: Array, first: _Rectangle) -> _Rectangle:
    """Among the hull-edge orientations with the ``CANDIDATES`` smallest rectangles, the rectangle whose
    sides the seen outline ``near`` lies on best (RMS distance to half a millimetre, then area), if it
    does better than the minimum-area one, ``first``."""
    angles = np.unique(np.round(np.mod(np.arctan2(edges[:, 1], edges[:, 0]), HALF_PI), 4))
    cs, ss = np.cos(angles), np.sin(angles)
    us, vs = hull[:, :1] * cs + hull[:, 1:] * ss, hull[:, 1:] * cs - hull[:, :1] * ss  # (M, C)
    low, high = np.stack([us.min(axis=0), vs.min(axis=0)]), np.stack([us.max(axis=0), vs.max(axis=0)])
    halves, middles = (high - low) / 2, (high + low) / 2
    area = halves[0] * halves[1]
    keep = np.argsort(area)[:CANDIDATES]
    scores = _gaps(near, cs[keep], ss[keep], middles[:, keep], halves[:, keep])
    pick = int(np.lexsort((area[keep], np.round(scores / 5e-4)))[0])
    if scores[pick] >= first.rms:
        return first
    best = keep[pick]
    c, s = float(cs[best]), float(ss[best])
    centre = middles[0, best] * np.array([c, s]) + middles[1, best] * np.array([-s, c])
    return _Rectangle(centre, float(angles[best]), halves[:, best].copy(), float(scores[pick]))


def _round(circle: tuple[Array, float, float], rect: _Rectangle, ratio: float) -> bool:
    """Whether the circle (centre, radius, RMS distance) fits the seen outline ``ratio`` times better
    than the rectangle does, and could be the footprint (its centre inside, no wider than the hull)."""
    centre, radius, rms = circle
    plausible = float(np.hypot(*(centre - rect.centre))) <= radius <= float(2 * rect.half.max())
    return plausible and rms < ratio * rect.rms


def _free_beyond(free: Array, lines: Array, low: float, high: float) -> Array:
    """For each side (a row of ``lines``: outward normal x, y, its offset from the origin, the side's
    direction x, y, its middle's offset along that direction, its half length), how far beyond it the
    nearest free segment passes within the side's length and between heights low and high; inf where
    none does."""
    if not len(free) or not len(lines):
        return np.full(len(lines), math.inf)
    start, delta = free[:, 0], free[:, 1] - free[:, 0]
    normal, offset, along = lines[:, 0:2], lines[:, 2:3], lines[:, 3:5]
    span = (lines[:, 5:6] - lines[:, 6:7], lines[:, 5:6] + lines[:, 6:7])
    beyond0 = normal @ start[:, :2].T - offset  # (K, S)
    beyond_slope = normal @ delta[:, :2].T
    t0, t1 = np.zeros(beyond0.shape), np.ones(beyond0.shape)
    for value0, slope, lower, upper in (
        (beyond0, beyond_slope, 0.0, math.inf),
        (along @ start[:, :2].T, along @ delta[:, :2].T, *span),
        (start[None, :, 2], delta[None, :, 2], low, high),
    ):
        # Narrow [t0, t1] to where value0 + slope * t lies in [lower, upper].
        with np.errstate(divide="ignore", invalid="ignore"):
            a, b = (lower - value0) / slope, (upper - value0) / slope
        flat = np.abs(slope) < 1e-12
        inside = (value0 >= lower) & (value0 <= upper)
        t0 = np.maximum(t0, np.where(flat, np.where(inside, -np.inf, np.inf), np.minimum(a, b)))
        t1 = np.minimum(t1, np.where(flat, np.where(inside, np.inf, -np.inf), np.maximum(a, b)))
    first = np.minimum(beyond0 + beyond_slope * t0, beyond0 + beyond_slope * t1)
    return np.asarray(np.where(t0 <= t1, first, np.inf).min(axis=1), dtype=np.float64)


def estimate_box(
    xy: Array, top: float, bottom: float, cameras: Array, free: Array, settings: ExtentSettings | None = None
) -> Box:
    """The box of footprint points ``xy`` (N, 2) between heights bottom and top, seen from ``cameras``
    (K, 2 or 3) with free-space segments ``free`` (S, 2, 3)."""
    settings = settings or ExtentSettings()
    origin = xy.sum(axis=0) / len(xy)
    cameras = np.asarray(cameras, dtype=np.float64).reshape(len(cameras), -1)[:, :2] - origin
    height = max(top - bottom, 0.0)
    z = (top + bottom) / 2
    hull = convex_hull(xy - origin)
    if len(hull) < 3:  # all on a line (one face seen edge-on): a rectangle of no width along it
        middle = (hull[0] + hull[-1]) / 2
        direction = hull[-1] - hull[0]
        length = float(np.hypot(*direction))
        away = middle - cameras[0]
        yaw = math.atan2(direction[1], direction[0]) if length > 0 else math.atan2(away[1], away[0]) + HALF_PI
        rect = _Rectangle(middle, yaw, np.array([length / 2, 0.0]), 0.0)
    else:
        near, edges = _outline(hull, cameras, settings.boundary_step_m)
        rect = _min_area_rectangle(hull, near)
        if rect.rms > settings.min_round_rms_m:  # the seen outline is not on it: round, or a corner seen
            circle = fit_circle(near) if len(near) >= 8 else None
            if circle is None or not _round(circle, rect, settings.sure_round_ratio):
                rect = _rectangle(hull, edges, near, rect)  # the faces' orientation where a corner is seen
                if (
                    circle is None
                    or rect.rms <= settings.min_round_rms_m
                    or not _round(circle, rect, settings.round_ratio)
                ):
                    circle = None
            if circle is not None:
                centre, radius = origin + circle[0], circle[1]
                return canonical(np.array([*centre, z]), 2 * radius, 2 * radius, height, 0.0, round_=True)
    half, centre = rect.half, rect.centre
    c, s = math.cos(rect.yaw), math.sin(rect.yaw)
    # The four sides +along, -along, +across, -across: normal, offset, direction, its middle, half length.
    normals = np.array([[c, s], [-c, -s], [-s, c], [s, -c]])
    offsets = normals @ centre + np.repeat(half, 2)
    directions = normals[[2, 3, 0, 1]]
    lines = np.column_stack([normals, offsets, directions, directions @ centre, np.repeat(half[::-1], 2)])
    hidden = np.all(cameras @ normals.T < offsets, axis=0)  # no camera is in front of the side
    grow = np.zeros(4)
    if hidden.any():
        local = free.reshape(-1, 2, 3) - np.array([*origin, 0.0])
        room = np.full(4, math.inf)
        room[hidden] = _free_beyond(local, lines[hidden], bottom, top)
        square = 2 * np.repeat(half[::-1] - half, 2)  # grown to a square footprint at most
        bounded = hidden & np.isfinite(room)
        grow[bounded] = np.clip(np.minimum(square[bounded], room[bounded] / 2), 0.0, None)
    for axis in (0, 1):  # at least min_extent_m thick, grown on the side no camera sees
        deficit = settings.min_extent_m - (2 * half[axis] + grow[2 * axis] + grow[2 * axis + 1])
        if deficit > 0:
            pair = hidden[2 * axis : 2 * axis + 2]
            share = pair / pair.sum() if pair.any() else np.array([0.5, 0.5])
            grow[2 * axis : 2 * axis + 2] += deficit * share
    length = 2 * half[0] + grow[0] + grow[1]
    width = 2 * half[1] + grow[2] + grow[3]
    centre = origin + centre + ((grow[0] - grow[1]) * normals[0] + (grow[2] - grow[3]) * normals[2]) / 2
    return canonical(np.array([*centre, z]), float(length), float(width), height, rect.yaw)


@dataclass
class _ViewRecord:
    viewpoint: Array
    free: Array
    top: float
    bottom: float


class ExtentAccumulator:
    """A track's footprint evidence over views and the box it gives (see the module's docstring)."""

    def __init__(self, settings: ExtentSettings | None = None) -> None:
        self.settings = settings or ExtentSettings()
        self.box: Box | None = None  # of all views so far
        self.cell_m = self.settings.cell_m  # doubled while there are more than max_cells cells
        self._keys = np.zeros(0, dtype=np.int64)
        self._sums = np.zeros((0, 2))  # sum of the xy points in each cell
        self._counts = np.zeros(0)
        self._views: deque[_ViewRecord] = deque(maxlen=self.settings.max_views)

    @property
    def views(self) -> int:
        return len(self._views)

    def footprint(self) -> Array:
        """The footprint cells' points (mean xy of the points in each)."""
        return np.asarray(self._sums / self._counts[:, None], dtype=np.float64)

    def reset(self) -> None:
        self.box = None
        self.cell_m = self.settings.cell_m
        self._keys, self._sums, self._counts = np.zeros(0, dtype=np.int64), np.zeros((0, 2)), np.zeros(0)
        self._views.clear()

    def fold(self, evidence: ViewEvidence | None, size: Array, yaw: float) -> tuple[Array, float]:
        """Fold in a view where there is its evidence and return the box's size and yaw; without
        evidence, ``size`` and ``yaw`` (an observation's own)."""
        if evidence is None:
            return np.array(size, dtype=np.float64), float(yaw)
        box = self.add(evidence)
        return box.size.copy(), box.yaw

    def add(self, evidence: ViewEvidence) -> Box:
        """Fold in one view; returns the box of all views so far."""
        settings = self.settings
        points = evidence.object_points(settings)
        if self.box is not None:
            outside = self.box.outside(points[:, :2])
            if np.mean(outside > settings.pushed_distance_m) > settings.pushed_fraction:
                self.reset()
            elif not self._new_viewpoint(evidence.viewpoint) and np.all(outside <= settings.new_part_m):
                return self.box  # the same view again, showing nothing beyond the box
        self._add_cells(points[:, :2])
        top, bottom = float(points[:, 2].max()), evidence.bottom(settings)
        self._views.append(_ViewRecord(evidence.viewpoint.copy(), evidence.free.reshape(-1, 2, 3), top, bottom))
        views = list(self._views)
        self.box = estimate_box(
            self.footprint(),
            max(v.top for v in views),
            float(np.median([v.bottom for v in views])),
            np.array([v.viewpoint for v in views]),
            np.concatenate([v.free for v in views]),
            settings,
        )
        return self.box

    def _new_viewpoint(self, camera: Array) -> bool:
        return all(float(np.linalg.norm(camera - v.viewpoint)) > self.settings.new_view_m for v in self._views)

    def _add_cells(self, xy: Array) -> None:
        self._merge(
            np.concatenate([self._keys, self._cell_keys(xy)]),
            np.concatenate([self._sums, xy]),
            np.concatenate([self._counts, np.ones(len(xy))]),
        )
        while len(self._keys) > self.settings.max_cells:
            self.cell_m *= 2
            self._merge(self._cell_keys(self.footprint()), self._sums, self._counts)

    def _cell_keys(self, xy: Array) -> npt.NDArray[np.int64]:
        cells = np.floor(xy / self.cell_m).astype(np.int64) + (1 << 30)
        return np.asarray((cells[:, 0] << 31) | cells[:, 1], dtype=np.int64)

    def _merge(self, keys: npt.NDArray[np.int64], sums: Array, counts: Array) -> None:
        unique, inverse = np.unique(keys, return_inverse=True)
        count = len(unique)
        self._keys = unique
        self._sums = np.column_stack([np.bincount(inverse, sums[:, 0], count), np.bincount(inverse, sums[:, 1], count)])
        self._counts = np.bincount(inverse, counts, count).astype(np.float64)
