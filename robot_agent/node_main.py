"""The main() of every robot_agent node: init, spin a multithreaded executor, shut down cleanly."""

from __future__ import annotations

import signal
from collections.abc import Callable

import rclpy
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.node import Node


def run_node(make_node: Callable[[], Node], args: list[str] | None = None) -> int:
    """Run one node until Ctrl-C or shutdown; 1 when it cannot start (the reason is logged)."""
    rclpy.init(args=args)
    node: Node | None = None
    executor = MultiThreadedExecutor()
    try:
        node = make_node()
        executor.add_node(node)
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except Exception as error:  # noqa: BLE001  # a node that cannot start says why and exits 1
        rclpy.logging.get_logger("robot_agent").fatal(f"{type(error).__name__}: {error}")
        return 1
    finally:
        # A second Ctrl-C (a terminal or `ros2 launch` signals the whole process group) must not
        # cut the clean-up short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        executor.shutdown(timeout_sec=2.0)
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return 0
