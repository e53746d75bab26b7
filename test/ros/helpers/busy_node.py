"""A node whose short timer callback (in the spinning thread) runs nearly all the time and turns
an interrupt into an ordinary error, as rclpy's message conversion does: Ctrl-C must still stop it."""

from __future__ import annotations

import sys
import time

from rclpy.node import Node

from robot_agent.node_main import run_node


class BusyNode(Node):
    def __init__(self) -> None:
        super().__init__("busy")
        self.create_timer(0.001, self.work)
        self._said = False

    def work(self) -> None:
        if not self._said:
            self.get_logger().info("busy node works")
            self._said = True
        try:
            time.sleep(0.05)
        except KeyboardInterrupt as interrupt:  # what a C extension does with an exception it cannot pass on
            raise RuntimeError("Unable to convert call argument '0' to Python object") from interrupt


if __name__ == "__main__":
    sys.exit(run_node(BusyNode, threads=2))
