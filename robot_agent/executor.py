"""The executor of every robot_agent node and test: short callbacks in the spinning thread, long ones on a pool.

rclpy's MultiThreadedExecutor hands every ready callback to a thread pool. Measured here (a test
process reading /odom and /clock from the sim node, answering each odometry with a message): a
handed-over callback waited up to 1.5 s for a pool thread to start it (p99 0.3-0.5 s; the pool
was idle; the threads wait for the GIL the spinning thread keeps taking back), so the process
read one odometry message in five, with gaps of 0.4-1.5 s. Up to rclpy 10.0.3 it is worse: a task
that has not started yet is queued again at every wake-up (ros2/rclpy#1452, fixed by
ros2/rclpy#1547 in rolling; Humble, Jazzy and Kilted as installed here lack it): 4,800 copies of
one task were queued, gaps of up to 3 s. The same process with rclpy's SingleThreadedExecutor read
every message, with gaps of at most 25 ms.

``HybridExecutor`` therefore runs each callback of a MutuallyExclusiveCallbackGroup (every node's
default group) in the spinning thread, and hands to its pool only what may block for long: the
callbacks of a ReentrantCallbackGroup (action goals, a service that waits) and tasks made with
``create_task`` (rclpy runs action goals that way). A task is queued once, never again while it
waits. Callbacks that raise come back out of ``spin_once`` in the spinning thread, as with rclpy's
executors. Rule for node authors: a callback that waits (on a future, an event, another node)
for long goes into a ReentrantCallbackGroup; everything else stays short (a wait of a
physics step, as the sim's services do, is short).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future as PoolFuture
from typing import Any

from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.executors import (
    ConditionReachedException,
    Executor,
    ExternalShutdownException,
    MultiThreadedExecutor,
    ShutdownException,
    TimeoutException,
)
from rclpy.task import Task


class HybridExecutor(MultiThreadedExecutor):
    """Mutually exclusive callbacks in the spinning thread; reentrant ones and tasks on a pool, queued once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._queue_lock = threading.Lock()
        self._queued: set[Task[Any]] = set()  # handed to the pool, not yet started by a pool thread
        self._running: list[PoolFuture[None]] = []

    def _spin_once_impl(
        self,
        timeout_sec: Any = None,
        wait_condition: Callable[[], bool] = lambda: False,
    ) -> None:
        try:
            handler, entity, _node = self.wait_for_ready_callbacks(timeout_sec, None, wait_condition)
        except (ExternalShutdownException, ShutdownException, TimeoutException, ConditionReachedException):
            pass
        else:
            if entity is not None and isinstance(entity.callback_group, MutuallyExclusiveCallbackGroup):
                handler()
                handler.result()  # the callback's exception, raised here
            else:
                self._hand_to_pool(handler)
        finished = [f for f in self._running if f.done()]
        for future in finished:
            self._running.remove(future)
        for future in finished:
            future.result()  # a pool callback's exception, raised here

    def _hand_to_pool(self, handler: Task[Any]) -> None:
        with self._queue_lock:
            if handler in self._queued:  # still waiting for a pool thread: offered again, not queued again
                return
            self._queued.add(handler)
        self._running.append(self._executor.submit(self._start, handler))

    def _start(self, handler: Task[Any]) -> None:
        with self._queue_lock:
            self._queued.discard(handler)
        handler()
        handler.result()

    def shutdown(self, timeout_sec: float | None = None, *, wait_for_threads: bool = True) -> bool:
        """Stop executing callbacks; with ``wait_for_threads``, block until the pool's running ones end.

        The keyword is accepted on every rclpy release (Humble's MultiThreadedExecutor has none).
        """
        success = Executor.shutdown(self, timeout_sec)
        self._executor.shutdown(wait=wait_for_threads)
        return success
