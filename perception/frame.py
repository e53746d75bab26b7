"""One synchronised RGB-D frame in the perception core's terms, and the detector interface."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from perception.camera import CameraIntrinsics
from perception.geometry import Matrix4


@dataclass(frozen=True)
class OracleSegmentation:
    """SIMULATION ONLY: the simulator's instance mask and what each instance is."""

    mask: npt.NDArray[np.uint16]  # (H, W), 0 background
    objects: dict[int, tuple[str, str]]  # instance id -> (object id, label)


@dataclass(frozen=True)
class RGBDFrame:
    stamp_ns: int
    color: npt.NDArray[np.uint8]  # (H, W, 3) rgb
    depth: npt.NDArray[np.float32]  # (H, W) metres, NaN where there is no reading
    intrinsics: CameraIntrinsics
    camera_pose: Matrix4  # T_map_camera: the optical frame (z forward, x right, y down) in the map
    oracle: OracleSegmentation | None = None


@dataclass
class Detection:
    """A 2D detection: which pixels, what it is, how sure, and what said so."""

    label: str
    mask: npt.NDArray[np.bool_]  # (H, W)
    score: float  # 0..1
    source: str  # the detector: "color", "sim_oracle", "open_vocab"
    attributes: dict[str, str] = field(default_factory=dict)  # e.g. {"color": "red"}
    true_id: str | None = None  # the simulator's object id (sim_oracle only; for evaluation)
    # Every class that fits, with its score (the label's own included); empty: only ``label`` fits.
    label_scores: dict[str, float] = field(default_factory=dict)


class DetectorError(RuntimeError):
    """A detector cannot work (e.g. model weights are missing); the message says what to do."""


class Detector(Protocol):
    """Finds objects in a frame. ``queries`` are labels the planner is interested in (open vocabulary)."""

    name: str

    def detect(self, frame: RGBDFrame, queries: list[str] | None = None) -> list[Detection]: ...
