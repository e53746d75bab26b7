"""The main() of every robot_agent node: init, spin a multithreaded executor, shut down cleanly."""

from __future__ import annotations

import signal
from collections.abc import Callable
from types import FrameType

import rclpy
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

from robot_agent.ros_wait import spin_once

SPIN_PERIOD_S = 0.25  # how often the main thread returns to Python to notice Ctrl-C


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run_node(make_node: Callable[[], Node], args: list[str] | None = None, threads: int | None = None) -> int:
    """Run one node until Ctrl-C, SIGTERM or shutdown; 1 when it cannot start (the reason is logged).

    rclpy's own signal handlers would shut the context down under running callbacks; instead
    SIGINT and SIGTERM raise KeyboardInterrupt here, and the executor, the node and the context
    go down in that order. ``threads``: the executor's threads (default: one per CPU); a node
    whose callbacks block for long (action goals) needs more than it runs at once.
    """
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    node: Node | None = None
    executor = MultiThreadedExecutor(num_threads=threads)
    try:
        node = make_node()
        executor.add_node(node)
        while rclpy.ok():
            spin_once(executor, SPIN_PERIOD_S)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except Exception as error:  # noqa: BLE001  # a node that cannot start says why and exits 1
        rclpy.logging.get_logger("robot_agent").fatal(f"{type(error).__name__}: {error}")
        return 1
    finally:
        # A second Ctrl-C (a terminal or `ros2 launch` signals the whole process group) must not
        # cut the clean-up short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        executor.shutdown(timeout_sec=2.0)
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return 0
