from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from perception.geometry import invert, make_transform
from robot_agent.tf_buffer import (
    ConnectivityError,
    ExtrapolationError,
    FrameNotFoundError,
    TransformBuffer,
)

S = 1_000_000_000


def yaw_transform(x: float, y: float, yaw: float) -> np.ndarray:
    return make_transform((x, y, 0.0), Rotation.from_euler("z", yaw).as_quat())


def robot_buffer() -> TransformBuffer:
    """map -> odom (static), odom -> base_link (timed: driving along x), base_link -> camera (static)."""
    buffer = TransformBuffer(cache_time_s=10.0)
    buffer.set_transform("map", "odom", 0, yaw_transform(1.0, 0.0, 0.0), static=True)
    buffer.set_transform("base_link", "camera", 0, make_transform((0.0, 0.0, 1.2)), static=True)
    for t in range(5):
        buffer.set_transform("odom", "base_link", t * S, yaw_transform(float(t), 0.0, 0.1 * t))
    return buffer


def test_chain_through_static_and_timed_transforms() -> None:
    buffer = robot_buffer()
    camera_in_map = buffer.lookup("map", "camera", 2 * S)
    np.testing.assert_allclose(camera_in_map[:3, 3], [3.0, 0.0, 1.2], atol=1e-12)
    # The inverse lookup is the inverse matrix.
    np.testing.assert_allclose(buffer.lookup("camera", "map", 2 * S), invert(camera_in_map), atol=1e-12)
    # A point one metre ahead of the base, in odom.
    point = buffer.lookup("odom", "base_link", 2 * S) @ np.array([1.0, 0.0, 0.0, 1.0])
    np.testing.assert_allclose(point[:2], [2.0 + np.cos(0.2), np.sin(0.2)], atol=1e-12)


def test_interpolation_between_stamps() -> None:
    buffer = robot_buffer()
    halfway = buffer.lookup("odom", "base_link", int(2.5 * S))
    np.testing.assert_allclose(halfway[:3, 3], [2.5, 0.0, 0.0], atol=1e-12)
    yaw = Rotation.from_matrix(halfway[:3, :3]).as_euler("xyz")[2]
    assert yaw == pytest.approx(0.25)


def test_stamp_zero_means_latest_common_time() -> None:
    buffer = robot_buffer()
    buffer.set_transform("map", "person", 2 * S, yaw_transform(0.0, 5.0, 0.0))
    latest = buffer.lookup("map", "base_link")
    np.testing.assert_allclose(latest[:3, 3], [5.0, 0.0, 0.0], atol=1e-12)
    # base_link is known to 4 s, person only at 2 s: the common time is 2 s.
    common = buffer.lookup("person", "base_link")
    np.testing.assert_allclose(common[:3, 3], [3.0, -5.0, 0.0], atol=1e-12)


def test_errors_name_what_is_wrong() -> None:
    buffer = robot_buffer()
    with pytest.raises(FrameNotFoundError, match="gripper"):
        buffer.lookup("map", "gripper")
    with pytest.raises(ExtrapolationError, match=r"requested 9\.000 s"):
        buffer.lookup("map", "base_link", 9 * S)
    buffer.set_transform("world", "table", 0, np.eye(4), static=True)
    with pytest.raises(ConnectivityError, match="not connected"):
        buffer.lookup("map", "table")
    assert not buffer.can_transform("map", "table")
    assert buffer.can_transform("map", "camera")
    with pytest.raises(ValueError):
        buffer.set_transform("a", "a", 0, np.eye(4))
    with pytest.raises(ValueError):
        buffer.set_transform("a", "b", 0, np.full((4, 4), np.nan))


def test_old_transforms_leave_the_cache_and_a_new_parent_replaces_the_old() -> None:
    buffer = TransformBuffer(cache_time_s=2.0)
    for t in range(10):
        buffer.set_transform("odom", "base_link", t * S, yaw_transform(float(t), 0.0, 0.0))
    with pytest.raises(ExtrapolationError):
        buffer.lookup("odom", "base_link", 5 * S)
    assert buffer.can_transform("odom", "base_link", 8 * S)
    buffer.set_transform("map", "base_link", 10 * S, np.eye(4))
    assert buffer.can_transform("map", "base_link")
    assert buffer.latest_stamp("map", "base_link") == 10 * S
    assert buffer.latest_stamp("odom", "base_link") is None


def test_same_frame_and_static_only_lookups() -> None:
    buffer = robot_buffer()
    np.testing.assert_array_equal(buffer.lookup("camera", "camera"), np.eye(4))
    np.testing.assert_allclose(buffer.lookup("base_link", "camera", 123)[:3, 3], [0.0, 0.0, 1.2])
    assert {"map", "odom", "base_link", "camera"} <= buffer.frames()
