"""Waiting for ROS things with a timeout, on events rather than fixed sleeps.

Each helper needs the node to be spun by an executor in another thread (see ``BackgroundSpinner``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from rclpy.action import ActionClient
from rclpy.client import Client
from rclpy.context import Context
from rclpy.executors import Executor, ExternalShutdownException
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy
from rclpy.node import Node
from rclpy.qos import QoSProfile
from rclpy.task import Future

from robot_agent.executor import HybridExecutor

MessageT = TypeVar("MessageT")
GRAPH_POLL_S = 0.02


def spin_once(executor: Executor, timeout_sec: float) -> None:
    """``executor.spin_once``, riding out rclpy's races with entities made or destroyed in other threads.

    rclpy is not thread-safe there: a subscription destroyed in another thread (as
    ``wait_for_message`` does) can be added to the wait set after destruction was requested
    (InvalidHandle, ros2/rclpy#1142), and an ActionClient made in another thread can be listed before its
    constructor has finished (AttributeError). Either way the executor rebuilds its wait set on
    the next call, so the spin goes on rather than the spinning thread dying.
    """
    try:
        executor.spin_once(timeout_sec=timeout_sec)
    except _rclpy.InvalidHandle:
        return
    except AttributeError as error:
        if "ActionClient" not in str(error) and "ActionServer" not in str(error):
            raise


class BackgroundSpinner:
    """Spins nodes with a HybridExecutor (robot_agent/executor.py) in a daemon thread until ``stop``."""

    def __init__(self, *nodes: Node, context: Context | None = None, num_threads: int = 4) -> None:
        self.executor = HybridExecutor(num_threads=num_threads, context=context)
        for node in nodes:
            self.executor.add_node(node)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._spin, daemon=True, name="ros-spinner")
        self._thread.start()

    def _spin(self) -> None:
        while not self._stopping.is_set():
            try:
                spin_once(self.executor, 0.1)
            except ExternalShutdownException:  # the context was shut down under the executor
                return

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self._stopping.set()
        self.executor.shutdown(timeout_sec=2.0)
        self._thread.join(timeout=2.0)


class MessageCollector(Generic[MessageT]):
    """A subscription callback that keeps every message and signals each arrival."""

    def __init__(self) -> None:
        self.messages: list[MessageT] = []
        self.arrived = threading.Event()

    def __call__(self, msg: MessageT) -> None:
        self.messages.append(msg)
        self.arrived.set()

    def wait(self, timeout_s: float) -> MessageT:
        """The first message, or TimeoutError."""
        if not self.arrived.wait(timeout_s):
            raise TimeoutError(f"no message within {timeout_s:g} s")
        return self.messages[0]


def wait_for_future(future: Future, timeout_s: float, what: str = "the request") -> Any:
    """The future's result, or TimeoutError."""
    done = threading.Event()
    future.add_done_callback(lambda _: done.set())
    if not done.wait(timeout_s):
        raise TimeoutError(f"{what} did not complete within {timeout_s:g} s")
    return future.result()


def wait_for_message(
    node: Node,
    msg_type: type[MessageT],
    topic: str,
    timeout_s: float,
    qos: QoSProfile | int = 10,
    predicate: Callable[[MessageT], bool] | None = None,
) -> MessageT:
    """The first message on ``topic`` (that satisfies ``predicate``), or TimeoutError."""
    received: list[MessageT] = []
    arrived = threading.Event()

    def on_message(msg: MessageT) -> None:
        if not arrived.is_set() and (predicate is None or predicate(msg)):
            received.append(msg)
            arrived.set()

    subscription = node.create_subscription(msg_type, topic, on_message, qos)
    try:
        if not arrived.wait(timeout_s):
            raise TimeoutError(f"no matching {msg_type.__name__} on {topic} within {timeout_s:g} s")
        return received[0]
    finally:
        node.destroy_subscription(subscription)


def wait_for_service(client: Client, timeout_s: float) -> None:
    if not client.wait_for_service(timeout_sec=timeout_s):
        raise TimeoutError(f"service {client.srv_name} is not available after {timeout_s:g} s")


def wait_for_action_server(client: ActionClient, timeout_s: float) -> None:
    if not client.wait_for_server(timeout_sec=timeout_s):
        raise TimeoutError(f"action server {client._action_name} is not available after {timeout_s:g} s")


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Re-check ``condition`` (e.g. a graph query) every 20 ms until true, or TimeoutError."""
    woken = threading.Event()
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} did not happen within {timeout_s:g} s")
        woken.wait(GRAPH_POLL_S)


def wait_for_subscribers(publisher: Any, count: int, timeout_s: float) -> None:
    """Until ``publisher`` has matched at least ``count`` subscriptions."""
    wait_until(
        lambda: publisher.get_subscription_count() >= count,
        timeout_s,
        f"{count} subscriber(s) on {publisher.topic_name}",
    )
