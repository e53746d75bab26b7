"""The main() of every robot_agent node: init, spin a multithreaded executor, shut down cleanly."""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from types import FrameType

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.impl.rcutils_logger import RcutilsLogger
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

from robot_agent.executor import HybridExecutor
from robot_agent.parameter_guard import guard_parameter_services
from robot_agent.ros_wait import spin_once
from robot_agent.stack_dump import print_stacks_on_signal

SPIN_PERIOD_S = 0.25  # how often the main thread returns to Python to notice Ctrl-C
CALLBACKS_STOP_S = 5.0  # after Ctrl-C, how long running callbacks get to end
STUCK_EXIT_CODE = 3  # they did not: stacks printed, no clean-up


class _StopRequest:
    """SIGINT and SIGTERM: while the node starts, KeyboardInterrupt at once; once it spins, a flag.

    Raised in the spinning thread, KeyboardInterrupt lands wherever Python code happens to run,
    and a C extension turns it into an ordinary error: inside rclpy's message conversion it came
    out as "RuntimeError: Unable to convert call argument '0' to Python object", was logged as a
    failed callback, and the node spun on past Ctrl-C until it was killed. The spin loop looks at
    the flag after every spin_once instead (at most SPIN_PERIOD_S later).
    """

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.spinning = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.requested.set()
        if not self.spinning:
            raise KeyboardInterrupt


def run_node(make_node: Callable[[], Node], args: list[str] | None = None, threads: int | None = None) -> int:
    """Run one node until Ctrl-C, SIGTERM or shutdown; 1 when it cannot start (the reason is logged).

    rclpy's own signal handlers would shut the context down under running callbacks; instead
    SIGINT and SIGTERM end the spin loop here (``_StopRequest``), the node's ``begin_shutdown()`` (where it has
    one) tells its long callbacks to end, and the executor, the node and the context go down in
    that order. A callback still running CALLBACKS_STOP_S later is a bug: every thread's stack is
    printed and the process exits STUCK_EXIT_CODE at once.

    ``threads``: the executor's threads (default: one per CPU); a node whose callbacks block for
    long (action goals) needs more than it runs at once.

    A callback that raises does not end the node: the error is logged with its traceback and the
    node goes on serving its other callbacks (one malformed request must not stop a robot). The
    set-parameters services answer requests rclpy cannot read with a failed result
    (robot_agent/parameter_guard.py).

    SIGUSR1 prints every thread's Python stack to stderr and the node goes on: what a node that
    does not answer or does not stop is doing (robot_agent/stack_dump.py).
    """
    print_stacks_on_signal()
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    stop = _StopRequest()
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    node: Node | None = None
    executor = HybridExecutor(num_threads=threads)
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
        stop.spinning = True
        while rclpy.ok() and not stop.requested.is_set():
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
        _stop_callbacks(node, executor, logger)
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return 0


def _stop_callbacks(node: Node | None, executor: HybridExecutor, logger: RcutilsLogger) -> None:
    """End the running callbacks within CALLBACKS_STOP_S, or print their stacks and exit STUCK_EXIT_CODE.

    A node with long callbacks (an action goal, a task) has ``begin_shutdown()``: it tells them to
    wind down without waiting. rclpy's own executor shutdown would wait for them forever.
    """
    begin_shutdown = getattr(node, "begin_shutdown", None)
    if callable(begin_shutdown):
        begin_shutdown()
    executor.shutdown(timeout_sec=0.0, wait_for_threads=False)  # no new callbacks; idle threads end
    deadline = time.monotonic() + CALLBACKS_STOP_S
    for thread in threading.enumerate():  # the executor's threads, and any others that would hold the exit
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join(max(0.0, deadline - time.monotonic()))
    stuck = [t.name for t in threading.enumerate() if t is not threading.current_thread() and not t.daemon]
    if stuck:
        logger.error(
            f"callbacks still running {CALLBACKS_STOP_S:g} s after the shutdown began ({', '.join(stuck)}): "
            "every thread's stack follows; exiting without clean-up"
        )
        faulthandler.dump_traceback(all_threads=True)
        sys.stderr.flush()
        os._exit(STUCK_EXIT_CODE)
