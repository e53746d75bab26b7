"""Pinhole camera model of an RGB-D camera."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class CameraIntrinsics:
    """Intrinsics of one camera image, as sensor_msgs/CameraInfo carries them."""

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    distortion_model: str = "plumb_bob"
    distortion: tuple[float, ...] = field(default=(0.0, 0.0, 0.0, 0.0, 0.0))

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"image size must be positive, got {self.width}x{self.height}")
        if not (math.isfinite(self.fx) and math.isfinite(self.fy) and self.fx > 0 and self.fy > 0):
            raise ValueError(f"focal lengths must be positive and finite, got fx={self.fx}, fy={self.fy}")
        if not (math.isfinite(self.cx) and math.isfinite(self.cy)):
            raise ValueError(f"the principal point must be finite, got cx={self.cx}, cy={self.cy}")
        if not all(math.isfinite(d) for d in self.distortion):
            raise ValueError(f"distortion coefficients must be finite, got {self.distortion}")

    @property
    def matrix(self) -> npt.NDArray[np.float64]:
        """The 3x3 camera matrix K."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    @classmethod
    def from_fov(cls, width: int, height: int, vertical_fov_deg: float) -> CameraIntrinsics:
        """Square pixels, principal point at the image centre."""
        f = 0.5 * height / np.tan(np.radians(vertical_fov_deg) / 2.0)
        return cls(width, height, float(f), float(f), (width - 1) / 2.0, (height - 1) / 2.0)
