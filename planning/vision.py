"""Camera images for vision-language planning: the colour frame the planner sends with the scene data.

The planner core never sees a ROS message: a node hands it an :data:`ImageSource`, a function that
returns the latest frame as a :class:`CameraImage` (converted only when a model request is made).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

VISION_MODES = ("auto", "on", "off")
MAX_IMAGE_SIDE = 1024  # larger frames are scaled down before encoding: models resize them anyway


def check_vision_mode(mode: str) -> str:
    """``mode`` if it is auto, on or off; ValueError otherwise."""
    if mode not in VISION_MODES:
        raise ValueError(f"vision must be one of {', '.join(VISION_MODES)}, not {mode!r}.")
    return mode


@dataclass(frozen=True)
class CameraImage:
    """One colour frame: an (H, W, 3) uint8 RGB array, or PNG/JPEG bytes already encoded."""

    pixels: npt.NDArray[np.uint8] | None = None
    encoded: bytes | None = None
    stamp_ns: int = 0

    def __post_init__(self) -> None:
        if (self.pixels is None) == (self.encoded is None):
            raise ValueError("A camera image needs either pixels or encoded bytes.")
        if self.pixels is not None:
            shape = self.pixels.shape
            if self.pixels.dtype != np.uint8 or len(shape) != 3 or shape[2] != 3 or 0 in shape:
                raise ValueError(f"Camera image pixels must be a non-empty (H, W, 3) uint8 array, not {shape}.")
        elif not self.encoded:
            raise ValueError("Encoded camera image bytes must not be empty.")

    def png(self, max_side: int = MAX_IMAGE_SIDE) -> bytes:
        """The image as PNG bytes (pixels scaled down to at most ``max_side``); encoded bytes as they are."""
        if self.encoded is not None:
            return self.encoded
        assert self.pixels is not None
        from PIL import Image

        image = Image.fromarray(np.ascontiguousarray(self.pixels))
        if max(image.size) > max_side:
            image.thumbnail((max_side, max_side))
        out = io.BytesIO()
        image.save(out, format="PNG")
        return out.getvalue()


ImageSource = Callable[[], "CameraImage | None"]
"""The latest colour frame, or None when there is none yet."""
