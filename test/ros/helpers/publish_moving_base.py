"""Test helper process: map -> odom static (x + 1 m); odom -> base_link driving along +x at 1 m/s
and turning at 0.1 rad/s, at stamps 1 s to 5 s. It waits for a /tf subscriber, publishes the five
timed transforms once, and stays up until SIGINT.
"""

from __future__ import annotations

import sys

from rclpy.node import Node
from scipy.spatial.transform import Rotation

from perception.geometry import Matrix4, make_transform
from robot_agent.node_main import run_node
from robot_agent.ros_wait import wait_for_subscribers
from robot_agent.tf import StaticTransformBroadcaster, TransformBroadcaster, transform_stamped

S = 1_000_000_000


def base_pose(t: float) -> Matrix4:
    return make_transform((t, 0.0, 0.0), Rotation.from_euler("z", 0.1 * t).as_quat())


class MovingBase(Node):
    def __init__(self) -> None:
        super().__init__("moving_base")
        self.static = StaticTransformBroadcaster(self)
        self.static.send([transform_stamped("map", "odom", make_transform((1.0, 0.0, 0.0)), 0)])
        self.timed = TransformBroadcaster(self)
        wait_for_subscribers(self.timed.publisher, 1, 20.0)
        self.timed.send(transform_stamped("odom", "base_link", base_pose(t), t * S) for t in range(1, 6))
        self.get_logger().info("published")


if __name__ == "__main__":
    sys.exit(run_node(MovingBase))
