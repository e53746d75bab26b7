"""Live obstacles from a depth camera: what stands in the robot's way but is not in the map.

Each depth frame is back-projected on a coarse pixel grid into the map frame; points between
the floor and the robot's height, away from the robot itself, are obstacles. Obstacles are kept
for ``memory_s`` and dropped sooner when a newer frame sees through the spot where they stood.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from perception.camera import CameraIntrinsics
from perception.geometry import Matrix4, invert

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ObstacleSettings:
    stride: int = 8  # every stride-th pixel in each direction
    min_height: float = 0.05  # m above the floor; lower is floor
    max_height: float = 1.4  # m; higher cannot hit the robot
    max_range: float = 3.0  # m from the camera
    robot_clearance: float = 0.45  # m around the base centre: the robot's own body and arm
    memory_s: float = 5.0
    see_through_margin: float = 0.15  # m: a newer depth this much beyond a kept point clears it


def depth_points(
    depth: npt.NDArray[np.floating], intrinsics: CameraIntrinsics, camera_pose: Matrix4, stride: int
) -> FloatArray:
    """Map-frame points (N, 3) of valid depth pixels on a ``stride`` grid (optical frame: z forward)."""
    rows, cols = np.mgrid[stride // 2 : depth.shape[0] : stride, stride // 2 : depth.shape[1] : stride]
    z = depth[rows, cols].astype(np.float64)
    valid = np.isfinite(z) & (z > 0)
    u, v, z = cols[valid], rows[valid], z[valid]
    x = (u - intrinsics.cx) * z / intrinsics.fx
    y = (v - intrinsics.cy) * z / intrinsics.fy
    camera_points = np.column_stack([x, y, z])
    return np.asarray(camera_points @ camera_pose[:3, :3].T + camera_pose[:3, 3], dtype=np.float64)


class LiveObstacles:
    """Obstacle points seen lately, in the map frame. Thread-safe: frames arrive on a ROS callback."""

    def __init__(self, settings: ObstacleSettings | None = None) -> None:
        self.settings = settings or ObstacleSettings()
        self._points = np.zeros((0, 2))
        self._stamps = np.zeros(0)
        self._lock = threading.Lock()

    def add_frame(
        self,
        depth: npt.NDArray[np.floating],
        intrinsics: CameraIntrinsics,
        camera_pose: Matrix4,
        base_xy: tuple[float, float],
        stamp: float,
    ) -> int:
        """Add one depth frame's obstacles; the number of obstacle points it held."""
        s = self.settings
        points = depth_points(depth, intrinsics, camera_pose, s.stride)
        ranges = np.linalg.norm(points - camera_pose[:3, 3], axis=1)
        from_robot = np.hypot(points[:, 0] - base_xy[0], points[:, 1] - base_xy[1])
        keep = (
            (points[:, 2] >= s.min_height)
            & (points[:, 2] <= s.max_height)
            & (ranges <= s.max_range)
            & (from_robot >= s.robot_clearance)
        )
        new = points[keep, :2]
        with self._lock:
            kept = self._points, self._stamps
            alive = kept[1] >= stamp - s.memory_s
            old_points, old_stamps = kept[0][alive], kept[1][alive]
            if len(old_points):
                seen_through = self._seen_through(old_points, depth, intrinsics, camera_pose)
                old_points, old_stamps = old_points[~seen_through], old_stamps[~seen_through]
            self._points = np.vstack([old_points, new])
            self._stamps = np.concatenate([old_stamps, np.full(len(new), stamp)])
        return len(new)

    def points(self, now: float) -> FloatArray:
        """Obstacle points (N, 2) seen within ``memory_s`` of ``now``."""
        with self._lock:
            return np.array(self._points[self._stamps >= now - self.settings.memory_s], dtype=np.float64)

    def _seen_through(
        self, points_xy: FloatArray, depth: npt.NDArray[np.floating], intrinsics: CameraIntrinsics, camera_pose: Matrix4
    ) -> npt.NDArray[np.bool_]:
        """Kept points that the new frame sees beyond: the line of sight passes where they stood.

        Kept points are columns; each is tested at mid obstacle height.
        """
        s = self.settings
        height = (s.min_height + s.max_height) / 2
        world = np.column_stack([points_xy, np.full(len(points_xy), height)])
        to_camera = invert(camera_pose)
        camera = world @ to_camera[:3, :3].T + to_camera[:3, 3]
        in_front = camera[:, 2] > 0.1
        u = np.full(len(camera), -1)
        v = np.full(len(camera), -1)
        u[in_front] = np.round(intrinsics.fx * camera[in_front, 0] / camera[in_front, 2] + intrinsics.cx).astype(int)
        v[in_front] = np.round(intrinsics.fy * camera[in_front, 1] / camera[in_front, 2] + intrinsics.cy).astype(int)
        inside = in_front & (u >= 0) & (u < depth.shape[1]) & (v >= 0) & (v < depth.shape[0])
        result = np.zeros(len(camera), dtype=bool)
        measured = depth[v[inside], u[inside]].astype(np.float64)
        result[inside] = np.isfinite(measured) & (measured > camera[inside, 2] + s.see_through_margin)
        return result
