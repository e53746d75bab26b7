"""The main() of every robot_agent node: init, spin a multithreaded executor, shut down cleanly."""

from __future__ import annotations

import signal
import traceback
from collections.abc import Callable
from types import FrameType

import rclpy
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

from robot_agent.parameter_guard import guard_parameter_services
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

    A callback that raises does not end the node: the error is logged with its traceback and the
    node goes on serving its other callbacks (one malformed request must not stop a robot). The
    set-parameters services answer requests rclpy cannot read with a failed result
    (robot_agent/parameter_guard.py).
    """
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    node: Node | None = None
    executor = MultiThreadedExecutor(num_threads=threads)
    logger = rclpy.logging.get_logger("robot_agent")
    try:
        try:
            node = make_node()
        except ExternalShutdownException:
            raise
        except Exception as error:  # noqa: BLE001  # a node that cannot start says why and exits 1
            logger.fatal(f"{type(error).__name__}: {error}")
            return 1
        guard_parameter_services(node)
        executor.add_node(node)
        while rclpy.ok():
            try:
                spin_once(executor, SPIN_PERIOD_S)
            except (KeyboardInterrupt, ExternalShutdownException):
                raise
            except Exception:  # noqa: BLE001  # a failing callback is logged (at most once a second); the node goes on
                node.get_logger().error(
                    f"a callback failed; the node goes on:\n{traceback.format_exc()}", throttle_duration_sec=1.0
                )
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
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
