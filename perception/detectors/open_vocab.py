"""Open-vocabulary detection with OWLv2 or OWL-ViT (transformers): text queries in, depth-hugging masks out.

The model comes from a local directory (``model_dir``: config.json, weights, processor files) or from
the Hugging Face cache (``model_id``), always with ``local_files_only=True``: nothing is downloaded.
torch and transformers are imported when a detector is built, so importing this module stays cheap.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from perception.frame import Detection, DetectorError, RGBDFrame

DEFAULT_MODEL_ID = "google/owlv2-base-patch16-ensemble"
# Used when detect() gets no queries: the labelled objects of the built-in worlds.
DEFAULT_QUERIES = (
    "cup", "mug", "bowl", "plate", "bottle", "apple", "orange", "lemon", "banana", "ball", "book", "box",
    "cereal box", "juice carton", "folder", "notepad", "marker", "stapler", "sponge", "pillow", "remote control",
    "glasses case", "paper",
)  # fmt: skip
_PROVIDE = (
    "Provide a model directory holding config.json, the weights (model.safetensors) and the processor files "
    "(preprocessor_config.json, tokenizer.json or vocab.json and merges.txt), e.g. written by save_pretrained of "
    "Owlv2ForObjectDetection and Owlv2Processor on a machine with network access, and pass it as model_dir."
)

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels


def box_to_mask(box: Box, depth: npt.NDArray[np.float32], depth_band_m: float) -> npt.NDArray[np.bool_] | None:
    """The pixels of a box that belong to the object: depth within ``depth_band_m`` of the depth at the box's
    centre (the median over its central half, which the object fills), connected to that centre.
    None when the box is empty in the image or has no depth."""
    height, width = depth.shape
    c0, r0 = max(math.floor(box[0]), 0), max(math.floor(box[1]), 0)
    c1, r1 = min(math.ceil(box[2]), width), min(math.ceil(box[3]), height)
    if c1 - c0 < 2 or r1 - r0 < 2:
        return None
    roi = depth[r0:r1, c0:c1]
    h, w = roi.shape
    centre = roi[h // 4 : h - h // 4, w // 4 : w - w // 4]
    values = centre[np.isfinite(centre)]
    if values.size == 0:
        values = roi[np.isfinite(roi)]
        if values.size == 0:
            return None
    near = (np.abs(roi - np.median(values)) <= depth_band_m).astype(np.uint8)  # NaN compares False
    count, labels = cv2.connectedComponents(near, connectivity=4)
    if count < 2:
        return None
    # Keep the region that covers most of the box's centre: background at a similar depth elsewhere goes.
    central = labels[h // 4 : h - h // 4, w // 4 : w - w // 4]
    votes = np.bincount(central.ravel(), minlength=count)
    votes[0] = 0
    keep = int(votes.argmax()) if votes.any() else int(np.bincount(labels.ravel(), minlength=count)[1:].argmax()) + 1
    mask = np.zeros(depth.shape, dtype=np.bool_)
    mask[r0:r1, c0:c1] = labels == keep
    return mask


def _iou(box: npt.NDArray[np.float64], others: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    x0 = np.maximum(box[0], others[:, 0])
    y0 = np.maximum(box[1], others[:, 1])
    x1 = np.minimum(box[2], others[:, 2])
    y1 = np.minimum(box[3], others[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    return np.asarray(inter / np.maximum(area + areas - inter, 1e-9), dtype=np.float64)


def non_maximum_suppression(
    boxes: npt.NDArray[np.float64], scores: npt.NDArray[np.float64], labels: npt.NDArray[np.int64], iou: float
) -> list[int]:
    """Indices of the boxes kept, best first: a box overlapping a better one of its label by more than ``iou`` goes."""
    order = list(np.argsort(-scores, kind="stable"))
    kept: list[int] = []
    while order:
        best = order.pop(0)
        kept.append(int(best))
        if not order:
            break
        rest = np.array(order)
        same = labels[rest] == labels[best]
        overlap = _iou(boxes[best], boxes[rest])
        order = [int(i) for i in rest[~(same & (overlap > iou))]]
    return kept


class OpenVocabDetector:
    """OWLv2 / OWL-ViT detection of free-text queries; on CUDA when available, else CPU."""

    name = "open_vocab"

    def __init__(
        self,
        model_dir: str | Path | None = None,
        model_id: str = DEFAULT_MODEL_ID,
        queries: Sequence[str] = DEFAULT_QUERIES,
        score_threshold: float = 0.1,
        depth_band_m: float = 0.15,
        nms_iou: float = 0.5,
        max_detections: int = 50,
        device: str | None = None,
    ) -> None:
        if not 0.0 <= score_threshold <= 1.0:
            raise ValueError(f"score_threshold must lie in [0, 1], got {score_threshold}")
        if depth_band_m <= 0 or max_detections < 1:
            raise ValueError("depth_band_m must be positive and max_detections at least 1")
        self.queries = [q for q in queries if q.strip()]
        if not self.queries:
            raise ValueError("give at least one default query")
        self.score_threshold = score_threshold
        self.depth_band_m = depth_band_m
        self.nms_iou = nms_iou
        self.max_detections = max_detections
        source, model_type = self._locate(model_dir, model_id)
        self.source = source

        import torch
        from transformers import Owlv2ForObjectDetection, Owlv2Processor, OwlViTForObjectDetection, OwlViTProcessor

        classes: dict[str, tuple[Any, Any]] = {
            "owlv2": (Owlv2ForObjectDetection, Owlv2Processor),
            "owlvit": (OwlViTForObjectDetection, OwlViTProcessor),
        }
        if model_type not in classes:
            raise DetectorError(
                f"open_vocab needs an OWLv2 or OWL-ViT model, but {source} holds a {model_type!r} model. {_PROVIDE}"
            )
        model_class, processor_class = classes[model_type]
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            self._processor = processor_class.from_pretrained(source, local_files_only=True)
            self._model = model_class.from_pretrained(source, local_files_only=True).to(self.device).eval()
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise DetectorError(f"open_vocab could not load the model in {source}: {error}. {_PROVIDE}") from error

    @staticmethod
    def _locate(model_dir: str | Path | None, model_id: str) -> tuple[str, str]:
        """Where the model is (a directory or a cached model id) and its model_type; DetectorError when absent."""
        if model_dir is not None:
            config = Path(model_dir).expanduser() / "config.json"
            if not config.is_file():
                raise DetectorError(f"open_vocab found no model: {config} does not exist. {_PROVIDE}")
            source = str(config.parent)
        else:
            from huggingface_hub import constants, try_to_load_from_cache

            cached = try_to_load_from_cache(model_id, "config.json")
            if not isinstance(cached, str):
                raise DetectorError(
                    f"open_vocab found no model: {model_id} is not in the Hugging Face cache "
                    f"({constants.HF_HUB_CACHE}) and nothing is downloaded. {_PROVIDE}"
                )
            config, source = Path(cached), model_id
        try:
            model_type = str(json.loads(config.read_text(encoding="utf-8")).get("model_type", ""))
        except (OSError, ValueError) as error:
            raise DetectorError(f"open_vocab cannot read {config}: {error}. {_PROVIDE}") from error
        return source, model_type

    def detect(self, frame: RGBDFrame, queries: list[str] | None = None) -> list[Detection]:
        import torch

        texts = [q.strip() for q in (queries or self.queries) if q.strip()] or self.queries
        height, width = frame.depth.shape
        inputs = self._processor(text=[texts], images=frame.color, return_tensors="pt").to(self.device)
        with torch.inference_mode():
            outputs = self._model(**inputs)
        # Boxes in this image's pixels (OWLv2's square padding is undone by the processor).
        result = self._processor.post_process_grounded_object_detection(
            outputs, threshold=self.score_threshold, target_sizes=[(height, width)]
        )[0]
        scores = result["scores"].detach().float().cpu().numpy().astype(np.float64)
        labels = result["labels"].detach().cpu().numpy().astype(np.int64)
        boxes = result["boxes"].detach().float().cpu().numpy().astype(np.float64)
        top = np.argsort(-scores, kind="stable")[: 6 * self.max_detections]
        detections: list[Detection] = []
        for index in non_maximum_suppression(boxes[top], scores[top], labels[top], self.nms_iou):
            i = int(top[index])
            x0, y0, x1, y1 = (float(v) for v in boxes[i])
            mask = box_to_mask((x0, y0, x1, y1), frame.depth, self.depth_band_m)
            if mask is None:
                continue
            score = float(np.clip(scores[i], 0.0, 1.0))
            detections.append(Detection(label=texts[int(labels[i])], mask=mask, score=score, source=self.name))
            if len(detections) == self.max_detections:
                break
        return detections
