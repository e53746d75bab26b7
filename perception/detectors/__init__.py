"""Detectors: RGB-D frame in, labelled masks out (the ``Detector`` protocol of perception.frame).

- ``color``: classical HSV colour and shape segmentation for the embedded worlds (no model, no oracle);
- ``sim_oracle``: the simulator's instance segmentation (simulation only);
- ``open_vocab``: OWLv2 / OWL-ViT open-vocabulary detection from local weights.

Submodules are imported on demand: open_vocab pulls in torch and transformers.
"""

from __future__ import annotations

from typing import Any

from perception.frame import Detector

DETECTOR_NAMES = ("color", "sim_oracle", "open_vocab")


def label_is_wanted(label: str, queries: list[str] | None) -> bool:
    """Whether a closed-set label answers the planner's queries: no queries wants all, and a query
    names a label when it equals it or ends with it (``"red cup"`` names ``cup``)."""
    if not queries:
        return True
    label = label.lower()
    return any(q.strip().lower() == label or q.strip().lower().endswith(" " + label) for q in queries)


def make_detector(name: str, **options: Any) -> Detector:
    """The detector called ``name``, built with ``options`` (its constructor's keyword arguments)."""
    if name == "color":
        from perception.detectors.color import ColorDetector

        return ColorDetector(**options)
    if name == "sim_oracle":
        from perception.detectors.oracle import OracleDetector

        return OracleDetector(**options)
    if name == "open_vocab":
        from perception.detectors.open_vocab import OpenVocabDetector

        return OpenVocabDetector(**options)
    raise ValueError(f"unknown detector {name!r}; detectors: {', '.join(DETECTOR_NAMES)}")
