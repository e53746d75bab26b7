"""Classical colour-and-shape detector for the embedded worlds: no model, no oracle.

Pipeline per frame: HSV threshold per named colour (located on a half-resolution copy, then done at
full resolution inside that colour's box) -> opening and closing -> pixels without depth removed ->
connected components, cut where depth steps (so same-coloured objects at different depths part) ->
cues (pixel area, minimum-area-rectangle aspect and fill, circularity, and the metric height and
horizontal extents of the 3D points in the map frame) -> the class whose cue ranges fit best, or
nothing. A component cut by the image border or by something nearer is judged on upper bounds only
and kept only when a single class fits. About 2-6 ms per 640x480 frame on two CPU cores.

Classes come from a YAML file (``config/color_classes.yaml`` by default) with two keys:
``colors`` (name -> list of OpenCV HSV ranges, H 0-179) and ``classes`` (label, colours, shape
and cue ranges); ``settings`` is optional. The schema is the pydantic models below.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import numpy.typing as npt
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from perception.detectors import label_is_wanted
from perception.frame import Detection, DetectorError, RGBDFrame

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "config" / "color_classes.yaml"

Range = tuple[float, float]
Image = npt.NDArray[Any]  # what OpenCV returns: uint8 masks and images
_EXTENTS = ("height_m", "length_m", "width_m")
Shape = Literal["cylinder", "sphere", "box", "any"]

# 2D cue ranges a shape implies unless a class sets them: a sphere's outline is a disc.
_SHAPE_DEFAULTS: dict[str, dict[str, Range]] = {"sphere": {"circularity": (0.8, 1.0), "aspect": (1.0, 1.35)}}


class ColorConfigError(DetectorError, ValueError):
    """The colour classes file is invalid; the message names the file, the key and what is wrong."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _ordered(value: Range) -> Range:
    if not value[0] <= value[1]:
        raise ValueError(f"range [{value[0]}, {value[1]}] must be [low, high] with low <= high")
    return value


class HsvRange(_Model):
    """One box in OpenCV's HSV space (H 0-179, S and V 0-255), bounds inclusive."""

    h: tuple[int, int]
    s: tuple[int, int] = (80, 255)
    v: tuple[int, int] = (40, 255)

    @field_validator("h")
    @classmethod
    def _hue(cls, value: tuple[int, int]) -> tuple[int, int]:
        if not 0 <= value[0] <= value[1] <= 179:
            raise ValueError(f"hue range {list(value)} must satisfy 0 <= low <= high <= 179 (a red needs two ranges)")
        return value

    @field_validator("s", "v")
    @classmethod
    def _byte(cls, value: tuple[int, int]) -> tuple[int, int]:
        if not 0 <= value[0] <= value[1] <= 255:
            raise ValueError(f"range {list(value)} must satisfy 0 <= low <= high <= 255")
        return value


class ColorClass(_Model):
    """An object class: the colours it comes in and the ranges its cues fall in (a bound left out: no limit)."""

    label: str = Field(min_length=1)
    colors: list[str] = Field(min_length=1)
    shape: Shape = "any"
    min_area_px: int = Field(default=40, ge=1)  # hard limits on the component's pixel count
    max_area_px: int = Field(default=200_000, ge=1)
    aspect: Range | None = None  # long / short side of the minimum-area rectangle, >= 1
    fill: Range | None = None  # pixels / minimum-area rectangle area
    circularity: Range | None = None  # 4 pi area / perimeter^2
    height_m: Range | None = None  # vertical extent of the 3D points
    length_m: Range | None = None  # horizontal extent along the main axis of the points
    width_m: Range | None = None  # horizontal extent across it

    _ranges = field_validator("aspect", "fill", "circularity", "height_m", "length_m", "width_m")(
        lambda value: None if value is None else _ordered(value)
    )

    @model_validator(mode="after")
    def _areas(self) -> ColorClass:
        if self.min_area_px > self.max_area_px:
            raise ValueError(f"min_area_px {self.min_area_px} exceeds max_area_px {self.max_area_px}")
        return self

    def cue_ranges(self) -> dict[str, Range]:
        ranges = dict(_SHAPE_DEFAULTS.get(self.shape, {}))
        for name in ("aspect", "fill", "circularity", "height_m", "length_m", "width_m"):
            value = getattr(self, name)
            if value is not None:
                ranges[name] = value
        return ranges


class Settings(_Model):
    min_score: float = Field(default=0.3, ge=0.0, le=1.0)  # components whose best class scores less are dropped
    tolerance: float = Field(default=0.5, gt=0.0)  # a cue's fit falls to 0 this far (relative) outside its range
    open_px: int = Field(default=3, ge=1, le=15)  # opening kernel: removes anti-aliased slivers
    close_px: int = Field(default=3, ge=1, le=15)  # closing kernel: fills specular holes
    depth_jump_m: float = Field(default=0.05, gt=0.0)  # a step this large between neighbours splits a blob
    depth_jump_relative: float = Field(default=0.04, ge=0.0)  # ... or this fraction of the depth, if larger


class ColorClassesConfig(_Model):
    colors: dict[str, list[HsvRange]]
    classes: list[ColorClass] = Field(min_length=1)
    settings: Settings = Settings()

    @field_validator("colors")
    @classmethod
    def _colors(cls, value: dict[str, list[HsvRange]]) -> dict[str, list[HsvRange]]:
        if not value:
            raise ValueError("name at least one colour")
        for name, ranges in value.items():
            if not ranges:
                raise ValueError(f"colour {name!r} has no HSV range")
        return value

    @model_validator(mode="after")
    def _known_colors(self) -> ColorClassesConfig:
        for index, entry in enumerate(self.classes):
            unknown = [c for c in entry.colors if c not in self.colors]
            if unknown:
                raise ValueError(
                    f"classes.{index} ({entry.label}): unknown colour {unknown[0]!r}; colours: {', '.join(self.colors)}"
                )
        return self


def load_color_classes(source: str | Path | Mapping[str, Any] | None = None) -> ColorClassesConfig:
    """Validate a colour classes file (a path) or an already parsed document (a mapping)."""
    where = "color classes"
    if source is None or isinstance(source, (str, Path)):
        path = Path(source) if source is not None else DEFAULT_CONFIG
        where = str(path)
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise ColorConfigError(f"cannot read the colour classes file {path}: {error.strerror}") from error
        except yaml.YAMLError as error:
            raise ColorConfigError(f"{path} is not valid YAML: {error}") from error
    else:
        document = dict(source)
    if not isinstance(document, dict):
        raise ColorConfigError(f"{where}: expected a mapping with the keys colors and classes")
    try:
        return ColorClassesConfig.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        more = f" (and {error.error_count() - 1} more problems)" if error.error_count() > 1 else ""
        raise ColorConfigError(f"{where}: {key + ': ' if key else ''}{message}{more}") from error


def _fit(value: float, bounds: Range, tolerance: float) -> float:
    """1 inside the range, falling linearly to 0 at ``tolerance`` (relative to the bound) outside it."""
    low, high = bounds
    if value < low:
        return max(0.0, 1.0 - (low - value) / (tolerance * max(low, 1e-6)))
    if value > high:
        return max(0.0, 1.0 - (value - high) / (tolerance * max(high, 1e-6)))
    return 1.0


def _extent(values: npt.NDArray[np.float64]) -> float:
    """Spread of values without the lowest and highest 1 % (stray pixels)."""
    trim = values.size // 100
    ends = np.partition(values, (trim, values.size - 1 - trim))
    return float(ends[values.size - 1 - trim] - ends[trim])


class ColorDetector:
    """Finds objects of saturated colours by HSV thresholds and shape cues; needs no oracle."""

    name = "color"

    def __init__(self, config: str | Path | Mapping[str, Any] | ColorClassesConfig | None = None) -> None:
        self.config = config if isinstance(config, ColorClassesConfig) else load_color_classes(config)
        settings = self.config.settings
        self._open = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (settings.open_px, settings.open_px))
        self._close = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (settings.close_px, settings.close_px))
        self._bounds = {
            name: [
                (np.array([r.h[0], r.s[0], r.v[0]], np.uint8), np.array([r.h[1], r.s[1], r.v[1]], np.uint8))
                for r in ranges
            ]
            for name, ranges in self.config.colors.items()
        }
        # Only colours some class uses are thresholded.
        self._classes_of: dict[str, list[ColorClass]] = {}
        for entry in self.config.classes:
            for color in entry.colors:
                self._classes_of.setdefault(color, []).append(entry)
        self._min_area = min(c.min_area_px for c in self.config.classes)

    @property
    def labels(self) -> list[str]:
        return sorted({c.label for c in self.config.classes})

    def detect(self, frame: RGBDFrame, queries: list[str] | None = None) -> list[Detection]:
        color, depth = frame.color, frame.depth
        if color.ndim != 3 or color.shape[2] != 3 or depth.shape != color.shape[:2]:
            raise DetectorError(f"color {color.shape} and depth {depth.shape} must be (H, W, 3) and (H, W)")
        wanted = {c.label for c in self.config.classes if label_is_wanted(c.label, queries)}
        if not wanted:
            return []
        hsv = cv2.cvtColor(color, cv2.COLOR_RGB2HSV)
        # Where each colour is, found at a quarter of the pixels: full-resolution work stays in those boxes.
        coarse = cv2.resize(hsv, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_NEAREST)
        valid = cv2.compare(depth, depth, cv2.CMP_EQ)  # 255 where there is depth (NaN != NaN)
        pad = max(self.config.settings.open_px, self.config.settings.close_px) + 2
        height, width = depth.shape
        detections: list[Detection] = []
        for color_name, colored_classes in self._classes_of.items():
            classes = [c for c in colored_classes if c.label in wanted]
            if not classes:
                continue
            found = self._threshold(coarse, color_name)
            if 4 * cv2.countNonZero(found) < self._min_area // 2:
                continue
            x, y, w, h = cv2.boundingRect(found)
            x0, y0 = max(2 * x - pad, 0), max(2 * y - pad, 0)
            x1, y1 = min(2 * (x + w) + pad, width), min(2 * (y + h) + pad, height)
            mask = self._threshold(hsv[y0:y1, x0:x1], color_name)
            mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self._open)
            mask = cv2.bitwise_and(cv2.morphologyEx(mask, cv2.MORPH_CLOSE, self._close), valid[y0:y1, x0:x1])
            for component in self._components(mask, depth[y0:y1, x0:x1]):
                detection = self._classify(component, color_name, classes, frame, (x0, y0))
                if detection is not None:
                    detections.append(detection)
        detections.sort(key=lambda d: -d.score)
        return detections

    def _threshold(self, hsv: Image, color_name: str) -> Image:
        ranges = self._bounds[color_name]
        mask = cv2.inRange(hsv, ranges[0][0], ranges[0][1])
        for low, high in ranges[1:]:
            mask = cv2.bitwise_or(mask, cv2.inRange(hsv, low, high))
        return mask

    def _components(
        self, mask: Image, depth: npt.NDArray[np.float32]
    ) -> list[tuple[npt.NDArray[np.bool_], tuple[int, int]]]:
        """Connected components as (mask inside its bounding box, box origin).

        Colour is anti-aliased at outlines but depth is not, so a component's outline holds pixels whose
        depth is the background's. Pixels on the far side of a depth step are dropped: that trims those,
        and cuts apart objects of one colour that overlap in the image at different depths.
        """
        settings = self.config.settings
        count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        pieces: list[tuple[npt.NDArray[np.bool_], tuple[int, int]]] = []
        for index in range(1, count):
            x, y, w, h, area = (int(v) for v in stats[index])
            if area < self._min_area:
                continue
            piece = labels[y : y + h, x : x + w] == index
            z = np.where(piece, depth[y : y + h, x : x + w], np.nan)
            far = np.zeros_like(piece)
            for axis in (0, 1):
                first = z[:-1, :] if axis == 0 else z[:, :-1]
                second = z[1:, :] if axis == 0 else z[:, 1:]
                step = second - first  # NaN (not compared) where either pixel is outside the component
                jump = np.abs(step) > np.maximum(
                    settings.depth_jump_m, settings.depth_jump_relative * np.fmin(first, second)
                )
                if axis == 0:
                    far[1:, :] |= jump & (step > 0)
                    far[:-1, :] |= jump & (step < 0)
                else:
                    far[:, 1:] |= jump & (step > 0)
                    far[:, :-1] |= jump & (step < 0)
            if not far.any():
                pieces.append((piece, (x, y)))
                continue
            # 4-connectivity: a one-pixel cut must not be crossed diagonally.
            sub_count, sub_labels, sub_stats, _ = cv2.connectedComponentsWithStats(
                (piece & ~far).astype(np.uint8), connectivity=4
            )
            for sub in range(1, sub_count):
                sx, sy, sw, sh, sub_area = (int(v) for v in sub_stats[sub])
                if sub_area >= self._min_area:
                    pieces.append((sub_labels[sy : sy + sh, sx : sx + sw] == sub, (x + sx, y + sy)))
        return pieces

    def _cues(self, piece: npt.NDArray[np.bool_], origin: tuple[int, int], frame: RGBDFrame) -> dict[str, float]:
        """Pixel area, 2D shape and metric extents of one component (its mask inside its box at ``origin``)."""
        area = int(piece.sum())
        contours, _ = cv2.findContours(piece.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        contour = max(contours, key=cv2.contourArea)
        perimeter = cv2.arcLength(contour, closed=True)
        (_, _), (side_a, side_b), _ = cv2.minAreaRect(contour)
        # Pixel centres underestimate the outline by half a pixel on each side.
        long_side, short_side = max(side_a, side_b) + 1.0, min(side_a, side_b) + 1.0
        rows, cols = np.nonzero(piece)
        u = cols + origin[0]
        v = rows + origin[1]
        z = frame.depth[v, u].astype(np.float64)
        k = frame.intrinsics
        camera_points = np.stack([(u - k.cx) / k.fx * z, (v - k.cy) / k.fy * z, z])
        pose = frame.camera_pose
        world = pose[:3, :3] @ camera_points + pose[:3, 3:4]
        xy = world[:2] - world[:2].mean(axis=1, keepdims=True)
        # Main horizontal axis of the points: the top eigenvector of their 2x2 covariance.
        _, vectors = np.linalg.eigh(xy @ xy.T)
        along, across = vectors[:, 1] @ xy, vectors[:, 0] @ xy
        # A pixel at depth z covers z / f metres: add one pixel to spreads measured between centres.
        pixel_m = float(np.median(z)) / k.fx
        return {
            "area": float(area),
            "aspect": long_side / short_side,
            "fill": area / (long_side * short_side),
            # The contour runs through outline pixel centres; the outline itself is longer by about pi pixels.
            "circularity": min(1.0, 4.0 * math.pi * area / (perimeter + math.pi) ** 2),
            "height_m": _extent(world[2]) + pixel_m,
            "length_m": _extent(along) + pixel_m,
            "width_m": _extent(across) + pixel_m,
        }

    def _partial(self, piece: npt.NDArray[np.bool_], origin: tuple[int, int], frame: RGBDFrame) -> bool:
        """Whether the object may extend beyond what the component shows: it touches the image border, or
        something nearer borders it (a shelf board, another object)."""
        h, w = piece.shape
        height, width = frame.depth.shape
        x, y = origin
        if x == 0 or y == 0 or x + w == width or y + h == height:
            return True
        x0, y0 = max(x - 1, 0), max(y - 1, 0)
        x1, y1 = min(x + w + 1, width), min(y + h + 1, height)
        padded = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
        padded[y - y0 : y - y0 + h, x - x0 : x - x0 + w] = piece
        depth = frame.depth[y0:y1, x0:x1]
        # The nearest component depth next to each pixel (erosion is a minimum filter).
        inside = np.where(padded > 0, depth, np.inf).astype(np.float32)
        nearest = cv2.erode(inside, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=np.inf)
        ring = (cv2.dilate(padded, np.ones((3, 3), np.uint8)) > 0) & (padded == 0)
        settings = self.config.settings
        with np.errstate(invalid="ignore"):  # inf - inf away from the component, NaN depth: both compare False
            occluding = ring & (
                depth < nearest - np.maximum(settings.depth_jump_m, settings.depth_jump_relative * nearest)
            )
        return bool(occluding.sum() >= 0.05 * ring.sum())

    def _classify(
        self,
        component: tuple[npt.NDArray[np.bool_], tuple[int, int]],
        color_name: str,
        classes: list[ColorClass],
        frame: RGBDFrame,
        roi_origin: tuple[int, int],
    ) -> Detection | None:
        piece, (x, y) = component
        origin = (x + roi_origin[0], y + roi_origin[1])
        cues = self._cues(piece, origin, frame)
        # Seen in part, the extents are lower bounds and the outline says little: only upper bounds count,
        # and the class must be the only one that fits.
        partial = self._partial(piece, origin, frame)
        settings = self.config.settings
        fits: list[tuple[float, ColorClass]] = []
        for entry in classes:
            if not entry.min_area_px <= cues["area"] <= entry.max_area_px:
                continue
            score = 1.0
            for name, (low, high) in entry.cue_ranges().items():
                if partial and name not in _EXTENTS:
                    continue
                score *= _fit(cues[name], (0.0 if partial else low, high), settings.tolerance)
            fits.append((score, entry))
        fits.sort(key=lambda fit: -fit[0])
        if not fits or fits[0][0] < settings.min_score:
            return None
        if partial and len(fits) > 1 and fits[1][0] >= settings.min_score:
            return None
        score, entry = fits[0]
        discount = 0.8 if partial else 1.0  # a part is less sure than a whole
        score *= discount
        mask = np.zeros(frame.depth.shape, dtype=np.bool_)
        h, w = piece.shape
        mask[origin[1] : origin[1] + h, origin[0] : origin[0] + w] = piece
        return Detection(
            label=entry.label,
            mask=mask,
            score=score,
            source=self.name,
            attributes={"color": color_name, "shape": entry.shape},
            # Look-alikes that also fit (a mug for a cup): the tracker weighs them over a track's life.
            label_scores={e.label: fit * discount for fit, e in reversed(fits) if fit >= settings.min_score / 2},
        )
