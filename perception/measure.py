"""From a 2D detection and depth to a 3D observation in the map frame.

Only the detected pixels are back-projected. The points are voxel-downsampled and cleaned of
outliers with open3d; the object's centre is estimated from its visible surface assuming a
footprint about as deep as it is wide (the camera sees only the near side).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt
import open3d as o3d

from perception.camera import CameraIntrinsics
from perception.colors import dominant_color
from perception.frame import Detection, RGBDFrame
from perception.geometry import Matrix4

Points = npt.NDArray[np.float64]


@dataclass
class Observation:
    """A detection measured in 3D, map frame."""

    label: str
    position: npt.NDArray[np.float64]  # estimated centre
    size: npt.NDArray[np.float64]  # extent along (view direction, lateral, up)
    yaw: float  # heading of the view direction, radians
    range_m: float  # distance from the camera, for the noise model
    score: float
    source: str
    attributes: dict[str, str] = field(default_factory=dict)
    points: Points = field(default_factory=lambda: np.zeros((0, 3)))
    true_id: str | None = None
    label_scores: dict[str, float] = field(default_factory=dict)  # Detection.label_scores

    def class_scores(self) -> dict[str, float]:
        """Score per class that fits: the detector's alternatives, or just the label."""
        return dict(self.label_scores) if self.label_scores else {self.label: self.score}


@dataclass(frozen=True)
class MeasureSettings:
    voxel_size: float = 0.01  # metres
    min_points: int = 15  # after cleaning; fewer is not an object
    outlier_neighbours: int = 12
    outlier_std_ratio: float = 2.0
    min_depth: float = 0.15
    max_depth: float = 4.0  # beyond this, depth of a consumer RGB-D camera is too coarse to place objects


def backproject(depth: npt.NDArray[np.float32], mask: npt.NDArray[np.bool_], intrinsics: CameraIntrinsics) -> Points:
    """Camera-frame points (optical: z forward, x right, y down) of the masked pixels with depth."""
    v, u = np.nonzero(mask & np.isfinite(depth))
    z = depth[v, u].astype(np.float64)
    x = (u - intrinsics.cx) * z / intrinsics.fx
    y = (v - intrinsics.cy) * z / intrinsics.fy
    return np.stack([x, y, z], axis=1)


def transform_points(points: Points, pose: Matrix4) -> Points:
    transformed: Points = points @ pose[:3, :3].T + pose[:3, 3]
    return transformed


def clean_points(points: Points, settings: MeasureSettings) -> Points:
    """Voxel downsampling and statistical outlier removal (open3d)."""
    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points))
    cloud = cloud.voxel_down_sample(settings.voxel_size)
    if len(cloud.points) > settings.outlier_neighbours:
        cloud, _ = cloud.remove_statistical_outlier(settings.outlier_neighbours, settings.outlier_std_ratio)
    return np.asarray(cloud.points, dtype=np.float64)


def estimate_centre(
    points: Points, camera_position: npt.NDArray[np.float64], voxel_size: float = 0.0
) -> tuple[Points, Points, float]:
    """(centre, size along view/lateral/up, yaw of the view direction) from visible surface points.

    Voxel centroids at an object's rim lie about half a voxel inside it, so widths and heights
    grow by one voxel.
    """
    mean = points.mean(axis=0)
    view = mean[:2] - camera_position[:2]
    norm = float(np.linalg.norm(view))
    view = view / norm if norm > 1e-6 else np.array([1.0, 0.0])
    lateral = np.array([-view[1], view[0]])
    along = points[:, :2] @ view
    across = points[:, :2] @ lateral
    width = float(across.max() - across.min()) + voxel_size
    seen_depth = float(along.max() - along.min())
    # The near surface is seen; assume the far side lies about one width behind it.
    depth_extent = max(width, seen_depth)
    centre_along = float(along.min()) + depth_extent / 2
    centre_across = float(across.max() + across.min()) / 2
    low, high = float(points[:, 2].min()) - voxel_size / 2, float(points[:, 2].max()) + voxel_size / 2
    centre = np.array([*(centre_along * view + centre_across * lateral), (low + high) / 2])
    size = np.array([depth_extent, width, high - low])
    return centre, size, math.atan2(view[1], view[0])


def valid_depth(frame: RGBDFrame, settings: MeasureSettings) -> npt.NDArray[np.bool_]:
    """Pixels whose depth is a reading within the trusted range (compute once per frame)."""
    depth = frame.depth
    with np.errstate(invalid="ignore"):
        return np.isfinite(depth) & (depth >= settings.min_depth) & (depth <= settings.max_depth)


def measure(
    detection: Detection,
    frame: RGBDFrame,
    settings: MeasureSettings | None = None,
    in_range: npt.NDArray[np.bool_] | None = None,
) -> Observation | None:
    """The detection as a 3D observation, or None when too few valid depth points remain."""
    settings = settings or MeasureSettings()
    if in_range is None:
        in_range = valid_depth(frame, settings)
    # Work inside the mask's bounding box, not over the whole frame.
    x, y, width, height = cv2.boundingRect(detection.mask.view(np.uint8))
    if width == 0 or height == 0:
        return None
    window = (slice(y, y + height), slice(x, x + width))
    mask = detection.mask[window] & in_range[window]
    k = frame.intrinsics
    shifted = CameraIntrinsics(width, height, k.fx, k.fy, k.cx - x, k.cy - y, k.distortion_model, k.distortion)
    camera_points = backproject(frame.depth[window], mask, shifted)
    if len(camera_points) < settings.min_points:
        return None
    points = clean_points(transform_points(camera_points, frame.camera_pose), settings)
    if len(points) < settings.min_points:
        return None
    camera_position = frame.camera_pose[:3, 3]
    centre, size, yaw = estimate_centre(points, camera_position, settings.voxel_size)
    attributes = dict(detection.attributes)
    if "color" not in attributes:
        name = dominant_color(frame.color[window], mask)
        if name is not None:
            attributes["color"] = name
    return Observation(
        label=detection.label,
        position=centre,
        size=size,
        yaw=yaw,
        range_m=float(np.linalg.norm(centre - camera_position)),
        score=detection.score,
        source=detection.source,
        attributes=attributes,
        points=points,
        true_id=detection.true_id,
        label_scores=dict(detection.label_scores),
    )
