"""A 2D occupancy grid in the map frame, built from a scenario and updated with live obstacles."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from sim.mjcf import wall_segments
from sim.scenario import Furniture, Scenario

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
Cell = tuple[int, int]  # (row, col): row counts along y, col along x

_EDGE_EPSILON = 1e-6  # a rectangle that only touches a cell's edge does not occupy it


class OccupancyGrid:
    """Occupied cells of the floor, ``occupied[row, col]`` with rows along y and columns along x.

    ``origin`` is the map point of the lower-left corner of cell (0, 0). ``barriers`` marks the
    occupied cells the arm cannot reach across (walls, outside the rooms), unlike furniture tops.
    The arrays are read-only, so the clearance can be cached.
    """

    def __init__(
        self,
        occupied: npt.ArrayLike,
        resolution: float = 0.05,
        origin: tuple[float, float] = (0.0, 0.0),
        barriers: npt.ArrayLike | None = None,
    ) -> None:
        cells = np.array(occupied, dtype=bool)
        if cells.ndim != 2 or cells.size == 0:
            raise ValueError(f"occupied must be a non-empty 2D array, got shape {cells.shape}")
        if not (math.isfinite(resolution) and resolution > 0.0):
            raise ValueError(f"resolution must be a positive number of metres, got {resolution}")
        if not all(math.isfinite(v) for v in origin):
            raise ValueError(f"origin must be finite, got {origin}")
        walls = np.zeros_like(cells) if barriers is None else np.array(barriers, dtype=bool)
        if walls.shape != cells.shape:
            raise ValueError(f"barriers has shape {walls.shape}, occupied {cells.shape}")
        cells |= walls
        cells.flags.writeable = False
        walls.flags.writeable = False
        self.occupied: BoolArray = cells
        self.barriers: BoolArray = walls
        self.resolution = float(resolution)
        self.origin = (float(origin[0]), float(origin[1]))
        self._clearance: FloatArray | None = None

    def __repr__(self) -> str:
        rows, cols = self.shape
        return f"OccupancyGrid({rows}x{cols} cells of {self.resolution} m, origin {self.origin})"

    @property
    def shape(self) -> tuple[int, int]:
        rows, cols = self.occupied.shape
        return rows, cols

    def bounds(self) -> tuple[float, float, float, float]:
        """min x, min y, max x, max y of the grid's area."""
        rows, cols = self.shape
        x0, y0 = self.origin
        return x0, y0, x0 + cols * self.resolution, y0 + rows * self.resolution

    def contains(self, x: float, y: float) -> bool:
        """Whether the map point lies on the grid."""
        min_x, min_y, max_x, max_y = self.bounds()
        return min_x <= x < max_x and min_y <= y < max_y

    def world_to_cell(self, x: float, y: float) -> Cell:
        """The (row, col) of the cell holding a map point; it may lie off the grid (see ``contains``)."""
        return (
            math.floor((y - self.origin[1]) / self.resolution),
            math.floor((x - self.origin[0]) / self.resolution),
        )

    def cell_to_world(self, row: int, col: int) -> tuple[float, float]:
        """The map point at a cell's centre."""
        return self.origin[0] + (col + 0.5) * self.resolution, self.origin[1] + (row + 0.5) * self.resolution

    def cells_of(self, points_xy: npt.ArrayLike) -> tuple[IntArray, IntArray, BoolArray]:
        """Rows, columns and on-grid flags of (N, 2) map points (non-finite points are off the grid)."""
        points = np.asarray(points_xy, dtype=np.float64).reshape(-1, 2)
        finite = np.asarray(np.isfinite(points).all(axis=1), dtype=bool)
        scaled = np.where(finite[:, None], (points - np.asarray(self.origin)) / self.resolution, -1.0)
        rows = np.floor(scaled[:, 1]).astype(np.intp)
        cols = np.floor(scaled[:, 0]).astype(np.intp)
        height, width = self.shape
        inside = finite & (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
        return rows, cols, inside

    def clearance(self) -> FloatArray:
        """Metres from each cell's centre to the nearest occupied cell's edge (0 on occupied cells).

        Exact for obstacles along the grid axes, within half a cell diagonally. Computed once.
        """
        if self._clearance is None:
            if self.occupied.any():
                centres = np.asarray(ndimage.distance_transform_edt(~self.occupied), dtype=np.float64)
                clearance = np.where(self.occupied, 0.0, centres * self.resolution - self.resolution / 2)
            else:
                clearance = np.full(self.shape, np.inf)
            clearance.flags.writeable = False
            self._clearance = clearance
        return self._clearance

    def clearance_at(self, points_xy: npt.ArrayLike) -> FloatArray:
        """The clearance of the cells holding (N, 2) map points; 0 off the grid."""
        rows, cols, inside = self.cells_of(points_xy)
        values = np.zeros(len(rows))
        values[inside] = self.clearance()[rows[inside], cols[inside]]
        return values

    def with_obstacles(self, points_xy: npt.ArrayLike) -> OccupancyGrid:
        """A copy with the cells holding (N, 2) map points occupied; points off the grid are ignored."""
        rows, cols, inside = self.cells_of(points_xy)
        occupied = self.occupied.copy()
        occupied[rows[inside], cols[inside]] = True
        return OccupancyGrid(occupied, self.resolution, self.origin, self.barriers)

    @classmethod
    def from_scenario(cls, scenario: Scenario, resolution: float = 0.05, padding: float = 0.5) -> OccupancyGrid:
        """The rooms plus ``padding`` on every side: walls (with door openings), furniture footprints
        and everything outside the rooms are occupied. Objects are not: they stand on furniture."""
        if not (math.isfinite(padding) and padding >= 0.0):
            raise ValueError(f"padding must be a non-negative number of metres, got {padding}")
        min_x, min_y, max_x, max_y = scenario.bounds()
        origin = (min_x - padding, min_y - padding)
        cols = math.ceil((max_x - min_x + 2 * padding) / resolution - _EDGE_EPSILON)
        rows = math.ceil((max_y - min_y + 2 * padding) / resolution - _EDGE_EPSILON)
        xs = origin[0] + (np.arange(cols) + 0.5) * resolution
        ys = origin[1] + (np.arange(rows) + 0.5) * resolution
        inside_rooms = np.zeros((rows, cols), dtype=bool)
        for room in scenario.rooms:
            in_x = (xs >= room.min[0]) & (xs <= room.max[0])
            in_y = (ys >= room.min[1]) & (ys <= room.max[1])
            inside_rooms |= in_y[:, None] & in_x[None, :]
        barriers = ~inside_rooms
        half = scenario.walls.thickness / 2
        for x0, y0, x1, y1 in wall_segments(scenario):
            # As in the MJCF model: the wall box reaches half a thickness past the segment's ends.
            box = (min(x0, x1) - half, min(y0, y1) - half, max(x0, x1) + half, max(y0, y1) + half)
            _mark_box(barriers, origin, resolution, box)
        occupied = barriers.copy()
        for piece in scenario.furniture:
            _mark_footprint(occupied, origin, resolution, piece)
        return cls(occupied, resolution, origin, barriers)


def _cell_span(low: float, high: float, origin: float, resolution: float, count: int) -> tuple[int, int]:
    """The first and one-past-last index of the cells overlapping [low, high] along one axis."""
    first = math.floor((low - origin) / resolution + _EDGE_EPSILON)
    end = math.ceil((high - origin) / resolution - _EDGE_EPSILON)
    return max(first, 0), min(end, count)


def _mark_box(
    cells: BoolArray, origin: tuple[float, float], resolution: float, box: tuple[float, float, float, float]
) -> None:
    """Occupy the cells overlapping an axis-aligned box (min x, min y, max x, max y)."""
    rows, cols = cells.shape
    col0, col1 = _cell_span(box[0], box[2], origin[0], resolution, cols)
    row0, row1 = _cell_span(box[1], box[3], origin[1], resolution, rows)
    cells[row0:row1, col0:col1] = True


def _mark_footprint(cells: BoolArray, origin: tuple[float, float], resolution: float, piece: Furniture) -> None:
    """Occupy the cells overlapping a piece's oriented footprint (a separating-axis test per cell)."""
    (fx, fy, yaw), (length, width) = piece.pose, piece.size[:2]
    c, s = math.cos(yaw), math.sin(yaw)
    half_x = (abs(c) * length + abs(s) * width) / 2  # the footprint's axis-aligned half extents
    half_y = (abs(s) * length + abs(c) * width) / 2
    rows, cols = cells.shape
    col0, col1 = _cell_span(fx - half_x, fx + half_x, origin[0], resolution, cols)
    row0, row1 = _cell_span(fy - half_y, fy + half_y, origin[1], resolution, rows)
    if col0 >= col1 or row0 >= row1:
        return
    dx = origin[0] + (np.arange(col0, col1) + 0.5) * resolution - fx
    dy = origin[1] + (np.arange(row0, row1) + 0.5) * resolution - fy
    along = c * dx[None, :] + s * dy[:, None]  # cell centres in the piece's frame
    across = -s * dx[None, :] + c * dy[:, None]
    cell_half = resolution / 2 * (abs(c) + abs(s))  # a cell's half extent along the piece's axes
    overlaps = (np.abs(along) < length / 2 + cell_half - _EDGE_EPSILON) & (
        np.abs(across) < width / 2 + cell_half - _EDGE_EPSILON
    )
    cells[row0:row1, col0:col1] |= overlaps
