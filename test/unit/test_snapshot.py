from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from sim.snapshot import colorize_depth, main, snapshot


def test_snapshot_saves_camera_depth_and_topdown_pictures(tmp_path: Path) -> None:
    paths = snapshot("apartment", tmp_path, robot_pose=(2.5, 2.6, -1.5708), tilt=-0.6)
    assert set(paths) == {"color", "depth", "topdown"}
    color = np.asarray(Image.open(paths["color"]))
    assert color.shape == (480, 640, 3)
    assert (color[:, :, 0] > 180).any() and color.std() > 10  # the red cup, and not a blank frame
    for name in ("depth", "topdown"):
        with Image.open(paths[name]) as picture:
            assert picture.width > 300 and picture.height > 200


def test_colorized_depth_marks_missing_readings_black() -> None:
    depth = np.array([[np.nan, 1.0], [2.0, 4.0]], dtype=np.float32)
    rgb = colorize_depth(depth, 4.0)
    assert rgb.shape == (2, 2, 3) and rgb.dtype == np.uint8
    assert (rgb[0, 0] == 0).all() and not (rgb[1, 1] == rgb[0, 1]).all()


def test_cli_reports_an_invalid_world(tmp_path: Path, capsys: object) -> None:
    assert main(["--world", "castle", "--out", str(tmp_path)]) == 2
