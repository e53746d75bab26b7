"""A node whose timer callback (on the executor's pool) blocks until the process is killed: a node that never stops."""

from __future__ import annotations

import sys
import threading

from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node

from robot_agent.node_main import run_node


class StuckNode(Node):
    def __init__(self) -> None:
        super().__init__("stuck")
        self._never = threading.Event()
        self.create_timer(0.05, self.block_forever, callback_group=ReentrantCallbackGroup())

    def block_forever(self) -> None:
        self.get_logger().info("stuck node blocks")
        self._never.wait()


if __name__ == "__main__":
    sys.exit(run_node(StuckNode, threads=2))
