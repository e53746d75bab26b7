"""/tf and /tf_static between processes: latched static transforms, timed ones with interpolation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from rclpy.node import Node
from scipy.spatial.transform import Rotation

from robot_agent.ros_wait import wait_until
from robot_agent.testing import NodeProcess
from robot_agent.tf import TransformListener, make_transform_listener
from robot_agent.tf_buffer import FrameNotFoundError

TIMEOUT_S = 20.0
S = 1_000_000_000
HELPERS = Path(__file__).parent / "helpers"


def test_static_transform_reaches_a_late_listener(node_process: Callable[..., NodeProcess], ros_node: Node) -> None:
    publisher = node_process(
        "robot_agent.nodes.static_transform_publisher",
        *("--x", "0.2", "--z", "1.1", "--yaw", "0.5", "--frame-id", "base_link", "--child-frame-id", "camera_link"),
    )
    wait_until(lambda: ros_node.count_publishers("/tf_static") >= 1, TIMEOUT_S, "a /tf_static publisher")
    listener = make_transform_listener(ros_node)  # created after the transform was sent: it is latched
    wait_until(lambda: listener.can_transform("base_link", "camera_link"), TIMEOUT_S, "the static transform")
    matrix = listener.lookup("base_link", "camera_link")
    np.testing.assert_allclose(matrix[:3, 3], [0.2, 0.0, 1.1], atol=1e-9)
    assert Rotation.from_matrix(matrix[:3, :3]).as_euler("xyz")[2] == pytest.approx(0.5)
    types = dict(ros_node.get_topic_names_and_types())
    assert types["/tf_static"] == ["tf2_msgs/msg/TFMessage"], publisher.output()


def test_timed_transforms_interpolate_across_processes(
    node_process: Callable[..., NodeProcess], ros_node: Node
) -> None:
    listener = TransformListener(ros_node)
    with pytest.raises(FrameNotFoundError):
        listener.lookup("map", "base_link")
    mover = node_process(str(HELPERS / "publish_moving_base.py"))
    wait_until(lambda: listener.can_transform("map", "base_link", 5 * S), TIMEOUT_S, "transforms up to 5 s")
    halfway = listener.lookup("map", "base_link", int(3.5 * S))
    np.testing.assert_allclose(halfway[:3, 3], [4.5, 0.0, 0.0], atol=1e-9)
    assert Rotation.from_matrix(halfway[:3, :3]).as_euler("xyz")[2] == pytest.approx(0.35)
    latest = listener.lookup("map", "base_link")
    np.testing.assert_allclose(latest[:3, 3], [6.0, 0.0, 0.0], atol=1e-9)
    assert dict(ros_node.get_topic_names_and_types())["/tf"] == ["tf2_msgs/msg/TFMessage"], mover.output()
