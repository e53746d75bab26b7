"""Naming the dominant colour of an object's pixels (the attribute people use: "the red cup")."""

from __future__ import annotations

import colorsys

import numpy as np
import numpy.typing as npt

# Hue sectors (degrees) of saturated colours; red wraps around 0.
HUE_NAMES = ((15, "red"), (40, "orange"), (70, "yellow"), (160, "green"), (255, "blue"), (290, "purple"), (340, "pink"))


def color_name(rgb: tuple[float, float, float]) -> str:
    """A common colour name for an RGB triple in 0..255."""
    hue, lightness, saturation = colorsys.rgb_to_hls(*(c / 255.0 for c in rgb))
    if saturation < 0.25 or lightness < 0.08 or lightness > 0.92:
        if lightness < 0.2:
            return "black"
        return "white" if lightness > 0.75 else "gray"
    degrees = hue * 360.0
    if 15 <= degrees < 40 and lightness < 0.35:
        return "brown"
    for limit, name in HUE_NAMES:
        if degrees < limit:
            return name
    return "red"


def dominant_color(color: npt.NDArray[np.uint8], mask: npt.NDArray[np.bool_]) -> str | None:
    """The name of the median colour of the masked pixels, or None when there are none."""
    pixels = color[mask]
    if len(pixels) == 0:
        return None
    median = np.median(pixels.astype(np.float64), axis=0)
    return color_name((float(median[0]), float(median[1]), float(median[2])))
