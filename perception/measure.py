"""From a 2D detection and depth to a 3D observation in the map frame.

Only the detected pixels are back-projected (the rim of a large mask and every other pixel inside
it); where the depth is noisy, from local planes fitted in inverse depth. The points are voxelised
and cleaned of outliers (open3d); the pixels just outside the mask tell where the object is not
(their rays pass it and end farther) and what it stands on. From these ``perception.extent`` makes
the object's oriented box, and the observation's centre is the box's. docs/perception.md, "Sizes",
has the steps.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt
import open3d as o3d

from perception.camera import CameraIntrinsics
from perception.colors import dominant_color
from perception.extent import ExtentSettings, ViewEvidence
from perception.frame import Detection, RGBDFrame
from perception.geometry import Matrix4

Points = npt.NDArray[np.float64]


@dataclass
class Observation:
    """A detection measured in 3D, map frame: an oriented box (perception.extent.Box's convention)."""

    label: str
    position: npt.NDArray[np.float64]  # the box's centre
    size: npt.NDArray[np.float64]  # extent along the box's x axis, across it, height; size[0] >= size[1]
    yaw: float  # heading of the box's x axis, radians in [-pi/2, pi/2)
    range_m: float  # distance from the camera, for the noise model
    score: float
    source: str
    attributes: dict[str, str] = field(default_factory=dict)
    points: Points = field(default_factory=lambda: np.zeros((0, 3)))  # voxel centroids of the visible surface
    true_id: str | None = None
    label_scores: dict[str, float] = field(default_factory=dict)  # Detection.label_scores
    evidence: ViewEvidence | None = None  # what the view showed, for the track's fused box

    def class_scores(self) -> dict[str, float]:
        """Score per class that fits: the detector's alternatives, or just the label."""
        return dict(self.label_scores) if self.label_scores else {self.label: self.score}


@dataclass(frozen=True)
class MeasureSettings:
    voxel_size: float = 0.01  # metres
    min_points: int = 15  # voxels after cleaning; fewer is not an object
    outlier_neighbours: int = 12
    outlier_std_ratio: float = 2.0
    min_depth: float = 0.15
    max_depth: float = 4.0  # beyond this, depth of a consumer RGB-D camera is too coarse to place objects
    stride_px: int = 2  # inside the mask's rim, every stride-th pixel each way is measured ...
    dense_below_px: int = 400  # ... in masks of this many pixels or more
    smooth_px: int = 3  # the object's depth comes from local planes over this radius (noise) ...
    noise_floor_m: float = 0.0005  # ... where the depth inside its mask is noisier than this
    ring_px: int = 3  # free space and the support are looked for this many pixels around the mask
    free_margin_m: float = 0.02  # a ring pixel this much farther than the object beside it sees past it
    behind_m: float = 0.3  # free space is kept this far behind the object's nearest point
    max_free_rays: int = 160
    extent: ExtentSettings = field(default_factory=ExtentSettings)


def backproject(depth: npt.NDArray[np.float32], mask: npt.NDArray[np.bool_], intrinsics: CameraIntrinsics) -> Points:
    """Camera-frame points (optical: z forward, x right, y down) of the masked pixels with depth."""
    v, u = np.nonzero(mask & np.isfinite(depth))
    return pixel_points(u, v, depth[v, u].astype(np.float64), intrinsics)


def pixel_points(
    u: npt.NDArray[np.intp], v: npt.NDArray[np.intp], z: npt.NDArray[np.float64], intrinsics: CameraIntrinsics
) -> Points:
    """Camera-frame points of pixels (u, v) at optical depths z."""
    x = (u - intrinsics.cx) * z / intrinsics.fx
    y = (v - intrinsics.cy) * z / intrinsics.fy
    return np.stack([x, y, z], axis=-1)


def transform_points(points: Points, pose: Matrix4) -> Points:
    transformed: Points = points @ pose[:3, :3].T + pose[:3, 3]
    return transformed


def clean_points(points: Points, settings: MeasureSettings) -> tuple[Points, npt.NDArray[np.bool_]]:
    """Voxel centroids without statistical outliers (open3d), and which points lie in kept voxels."""
    cells = np.floor(points / settings.voxel_size).astype(np.int64)
    cells -= cells.min(axis=0)
    span = cells.max(axis=0) + 1
    keys = (cells[:, 0] * span[1] + cells[:, 1]) * span[2] + cells[:, 2]
    unique, inverse = np.unique(keys, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(unique)).astype(np.float64)
    centroids = np.column_stack([np.bincount(inverse, points[:, i], len(unique)) for i in range(3)]) / counts[:, None]
    kept = np.ones(len(unique), dtype=bool)
    if len(centroids) > settings.outlier_neighbours:
        cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(centroids))
        _, indices = cloud.remove_statistical_outlier(settings.outlier_neighbours, settings.outlier_std_ratio)
        kept[:] = False
        kept[np.asarray(indices, dtype=np.intp)] = True
    return centroids[kept], kept[inverse]


def smooth_depth(
    depth: npt.NDArray[np.float32], mask: npt.NDArray[np.bool_], at: npt.NDArray[np.bool_], radius: int
) -> npt.NDArray[np.float64]:
    """Depths (in np.nonzero order) of the pixels ``at`` of the mask from a plane fitted to each one's
    neighbourhood within the mask.

    A plane's inverse depth is affine in the pixel coordinates, so a local least-squares fit of 1/z
    over the (2 radius + 1)^2 window keeps planes exact, also at the mask's rim where the window is
    one-sided, while the noise (mostly along the ray) averages out. Pixels with too few neighbours
    keep their reading.
    """
    rows, cols = depth.shape
    v, u = np.mgrid[0:rows, 0:cols].astype(np.float64)
    weight = mask.astype(np.float64)
    inverse = np.where(mask, 1.0 / np.where(mask, depth, 1.0), 0.0)
    wu, wv = weight * u, weight * v
    moments = np.stack([weight, wu, wv, wu * u, wu * v, wv * v, inverse, inverse * u, inverse * v], axis=-1)
    size = (2 * radius + 1, 2 * radius + 1)
    sums = cv2.boxFilter(moments, cv2.CV_64F, size, normalize=False, borderType=cv2.BORDER_CONSTANT)
    n, su, sv, suu, suv, svv, sw, swu, swv = sums[at].T
    pu, pv = u[at], v[at]
    # Normal equations of w = a + b (u - pu) + c (v - pv), moments about the pixel itself.
    du, dv = su - n * pu, sv - n * pv
    duu = suu - 2 * pu * su + n * pu * pu
    duv = suv - pu * sv - pv * su + n * pu * pv
    dvv = svv - 2 * pv * sv + n * pv * pv
    wu, wv = swu - pu * sw, swv - pv * sw
    # Cramer's rule for a alone: the fitted inverse depth at the pixel.
    minor_uu, minor_uv, minor_vv = duu * dvv - duv * duv, du * dvv - duv * dv, du * duv - duu * dv
    determinant = n * minor_uu - du * minor_uv + dv * minor_vv
    numerator = sw * minor_uu - du * (wu * dvv - duv * wv) + dv * (wu * duv - duu * wv)
    solvable = (n >= 6) & (np.abs(determinant) > 1e-6 * n**3)
    fitted = numerator / np.where(solvable, determinant, 1.0)
    readings = depth[at].astype(np.float64)
    return np.asarray(np.where(solvable & (fitted > 0), 1.0 / np.where(fitted > 0, fitted, 1.0), readings))


def depth_noise(depth: npt.NDArray[np.float32], mask: npt.NDArray[np.bool_]) -> float:
    """The depth noise inside the mask (m, standard deviation): from the second differences along rows
    of the inverse depth, which are zero on planes and tiny on the curved faces of things the size of
    a cup, so what remains is noise."""
    inverse = np.where(mask, 1.0 / np.where(mask, depth, 1.0), np.nan)
    second = np.abs(inverse[:, 2:] - 2 * inverse[:, 1:-1] + inverse[:, :-2])
    second = second[np.isfinite(second)]
    if len(second) < 10:
        return 0.0
    # median |N(0, sqrt(6) s)| = 0.6745 sqrt(6) s; back to depth through dz = z^2 dw
    median = float(np.partition(second, len(second) // 2)[len(second) // 2])
    return median / (0.6745 * math.sqrt(6.0)) / float(inverse[mask].mean()) ** 2


def sampled(mask: npt.NDArray[np.bool_], settings: MeasureSettings) -> npt.NDArray[np.bool_]:
    """The mask's rim and, inside it, every ``stride_px``-th pixel each way (all of a small mask): the
    footprint's extremes lie on the silhouette, the inside only needs to be sampled."""
    stride = settings.stride_px
    if stride <= 1 or mask.sum() < settings.dense_below_px:
        return mask
    inner = cv2.erode(mask.view(np.uint8), np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0)
    grid = np.zeros_like(mask)
    grid[::stride, ::stride] = True
    return np.asarray(mask & ((inner == 0) | grid), dtype=np.bool_)


def valid_depth(frame: RGBDFrame, settings: MeasureSettings) -> npt.NDArray[np.bool_]:
    """Pixels whose depth is a reading within the trusted range (compute once per frame)."""
    depth = frame.depth
    with np.errstate(invalid="ignore"):
        return np.isfinite(depth) & (depth >= settings.min_depth) & (depth <= settings.max_depth)


@functools.cache
def _disc(radius: int) -> npt.NDArray[np.uint8]:
    return np.asarray(cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1)), dtype=np.uint8)


def around_mask(
    depth: npt.NDArray[np.float32],
    mask: npt.NDArray[np.bool_],
    valid: npt.NDArray[np.bool_],
    intrinsics: CameraIntrinsics,
    pose: Matrix4,
    settings: MeasureSettings,
) -> tuple[Points, Points]:
    """What the pixels within ``ring_px`` outside the mask show: free-space segments (S, 2, 3), the
    pieces near the object of the rays that end ``free_margin_m`` or more behind the object's surface
    beside them, and the heights (R,) in the map of what the others see (the support, occluders)."""
    kernel = _disc(settings.ring_px)
    ring = (cv2.dilate(np.ascontiguousarray(mask, dtype=np.uint8), kernel) > 0) & ~mask & valid
    surface = np.where(mask & valid, depth, np.float32(np.inf))
    beside = cv2.erode(surface, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=np.inf)  # nearest object depth
    v, u = np.nonzero(ring & np.isfinite(beside))
    seen = depth[v, u].astype(np.float64)
    near = beside[v, u].astype(np.float64)
    past = seen > near + settings.free_margin_m
    others = pixel_points(u[~past], v[~past], seen[~past], intrinsics) @ pose[2, :3] + pose[2, 3]
    u, v, seen, near = u[past], v[past], seen[past], near[past]
    if len(u) > settings.max_free_rays:
        pick = np.linspace(0, len(u) - 1, settings.max_free_rays).round().astype(np.intp)
        u, v, seen, near = u[pick], v[pick], seen[pick], near[pick]
    start = near - settings.free_margin_m
    end = np.minimum(seen - settings.free_margin_m / 2, float(surface.min()) + settings.behind_m)
    keep = end > start
    u, v, start, end = u[keep], v[keep], start[keep], end[keep]
    ends = pixel_points(np.concatenate([u, u]), np.concatenate([v, v]), np.concatenate([start, end]), intrinsics)
    free = transform_points(ends, pose).reshape(2, -1, 3).transpose(1, 0, 2)
    return np.ascontiguousarray(free), others


def support_height(heights: npt.NDArray[np.float64], low: float, settings: MeasureSettings) -> float | None:
    """The height of the surface seen beside the object just under its lowest point ``low`` (what it
    stands on), from the heights the pixels around it see; None where too few see one."""
    under = heights[(heights >= low - settings.extent.support_gap_m) & (heights <= low + 0.005)]
    return float(np.partition(under, len(under) // 2)[len(under) // 2]) if len(under) >= 5 else None


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
    # Work inside the mask's bounding box and the ring around it, not over the whole frame.
    x, y, width, height = cv2.boundingRect(detection.mask.view(np.uint8))
    if width == 0 or height == 0:
        return None
    rows, cols = frame.depth.shape
    pad = settings.ring_px
    x0, y0, x1, y1 = max(x - pad, 0), max(y - pad, 0), min(x + width + pad, cols), min(y + height + pad, rows)
    window = (slice(y0, y1), slice(x0, x1))
    mask, valid, depth = detection.mask[window], in_range[window], frame.depth[window]
    k = frame.intrinsics
    shifted = CameraIntrinsics(x1 - x0, y1 - y0, k.fx, k.fy, k.cx - x0, k.cy - y0, k.distortion_model, k.distortion)
    seen = mask & valid
    at = sampled(seen, settings)
    v, u = np.nonzero(at)
    smooth = settings.smooth_px > 0 and depth_noise(depth, seen) > settings.noise_floor_m
    z = smooth_depth(depth, seen, at, settings.smooth_px) if smooth else depth[v, u].astype(np.float64)
    camera_points = pixel_points(u, v, z, shifted)
    if len(camera_points) < settings.min_points:
        return None
    map_points = transform_points(camera_points, frame.camera_pose)
    voxels, kept = clean_points(map_points, settings)
    if len(voxels) < settings.min_points:
        return None
    points = map_points[kept]
    free, heights = around_mask(depth, mask, valid, shifted, frame.camera_pose, settings)
    camera_position = frame.camera_pose[:3, 3].copy()
    support = support_height(heights, float(points[:, 2].min()), settings)
    evidence = ViewEvidence(points, free, camera_position, support)
    box = evidence.box(settings.extent)
    attributes = dict(detection.attributes)
    if "color" not in attributes:
        name = dominant_color(frame.color[window], mask & valid)
        if name is not None:
            attributes["color"] = name
    return Observation(
        label=detection.label,
        position=box.centre,
        size=box.size,
        yaw=box.yaw,
        range_m=float(np.linalg.norm(box.centre - camera_position)),
        score=detection.score,
        source=detection.source,
        attributes=attributes,
        points=voxels,
        true_id=detection.true_id,
        label_scores=dict(detection.label_scores),
        evidence=evidence,
    )
