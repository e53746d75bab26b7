"""Publish one static transform on /tf_static, like tf2_ros's static_transform_publisher.

    python -m robot_agent.nodes.static_transform_publisher --x 0.1 --yaw 1.57 \
        --frame-id base_link --child-frame-id camera_link

Angles in radians (roll, pitch, yaw about fixed x, y, z axes).
"""

from __future__ import annotations

import argparse
import sys

from rclpy.node import Node
from scipy.spatial.transform import Rotation

from perception.geometry import make_transform
from robot_agent.node_main import run_node
from robot_agent.tf import StaticTransformBroadcaster, transform_stamped


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for axis in ("x", "y", "z", "roll", "pitch", "yaw"):
        parser.add_argument(f"--{axis}", type=float, default=0.0)
    parser.add_argument("--frame-id", required=True, help="parent frame")
    parser.add_argument("--child-frame-id", required=True, help="child frame")
    return parser.parse_args(argv)


class StaticTransformPublisher(Node):
    def __init__(self, options: argparse.Namespace) -> None:
        super().__init__("static_transform_publisher")
        rotation = Rotation.from_euler("xyz", [options.roll, options.pitch, options.yaw]).as_quat()
        matrix = make_transform((options.x, options.y, options.z), rotation)
        self._broadcaster = StaticTransformBroadcaster(self)
        stamp = self.get_clock().now().nanoseconds
        self._broadcaster.send([transform_stamped(options.frame_id, options.child_frame_id, matrix, stamp)])
        self.get_logger().info(f"{options.frame_id} -> {options.child_frame_id} published on /tf_static")


def main(argv: list[str] | None = None) -> None:
    options = parse_arguments(sys.argv[1:] if argv is None else argv)
    sys.exit(run_node(lambda: StaticTransformPublisher(options)))


if __name__ == "__main__":
    main()
