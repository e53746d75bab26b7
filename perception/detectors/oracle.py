"""SIMULATION ONLY: detections read off the simulator's instance segmentation (/sim/oracle/segmentation)."""

from __future__ import annotations

import numpy as np

from perception.detectors import label_is_wanted
from perception.frame import Detection, DetectorError, RGBDFrame


class OracleDetector:
    """One detection per object instance the simulator's segmentation shows, exact masks, score 1."""

    name = "sim_oracle"

    def __init__(self, min_pixels: int = 30) -> None:
        if min_pixels < 1:
            raise ValueError(f"min_pixels must be at least 1, got {min_pixels}")
        self.min_pixels = min_pixels

    def detect(self, frame: RGBDFrame, queries: list[str] | None = None) -> list[Detection]:
        oracle = frame.oracle
        if oracle is None:
            raise DetectorError(
                "sim_oracle needs the simulator's /sim/oracle/segmentation, and this frame has none: "
                "use it only against the embedded simulator, or pick the color or open_vocab detector"
            )
        if oracle.mask.shape != frame.depth.shape:
            raise DetectorError(f"the oracle mask {oracle.mask.shape} and the depth {frame.depth.shape} differ in size")
        counts = np.bincount(oracle.mask.ravel())
        detections: list[Detection] = []
        for instance in np.flatnonzero(counts >= self.min_pixels):
            if instance == 0 or int(instance) not in oracle.objects:
                continue  # background, or an instance the table does not name
            object_id, label = oracle.objects[int(instance)]
            if not label_is_wanted(label, queries):
                continue
            detections.append(
                Detection(label=label, mask=oracle.mask == instance, score=1.0, source=self.name, true_id=object_id)
            )
        return detections
