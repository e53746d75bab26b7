"""HybridExecutor (robot_agent/executor.py): short callbacks inline, long ones on the pool, each queued once."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.context import Context
from rclpy.node import Node

from robot_agent.executor import HybridExecutor

SPINS = 400


@pytest.fixture
def node(ros_context: Context) -> Iterator[Node]:
    node = Node("executor_test", context=ros_context)
    yield node
    node.destroy_node()


def spin_until(executor: HybridExecutor, done: threading.Event, spins: int = SPINS) -> None:
    for _ in range(spins):
        if done.is_set():
            return
        executor.spin_once(timeout_sec=0.05)
    raise AssertionError(f"not done after {spins} spins")


def test_default_group_callbacks_run_in_the_spinning_thread_and_reentrant_ones_on_the_pool(
    node: Node, ros_context: Context
) -> None:
    threads: dict[str, threading.Thread] = {}
    both = threading.Event()

    def record(name: str) -> None:
        threads.setdefault(name, threading.current_thread())
        if len(threads) == 2:
            both.set()

    node.create_timer(0.01, lambda: record("default"))
    node.create_timer(0.01, lambda: record("reentrant"), callback_group=ReentrantCallbackGroup())
    executor = HybridExecutor(num_threads=2, context=ros_context)
    executor.add_node(node)
    try:
        spin_until(executor, both)
        assert threads["default"] is threading.current_thread()
        assert threads["reentrant"] is not threading.current_thread()
    finally:
        executor.shutdown(wait_for_threads=True)


@pytest.mark.filterwarnings("ignore:MultiThreadedExecutor is used with a single thread")
def test_a_waiting_reentrant_callback_is_queued_once_and_blocks_nothing_else(node: Node, ros_context: Context) -> None:
    release, blocked, ticks = threading.Event(), threading.Event(), []
    counted = threading.Event()

    def block() -> None:
        blocked.set()
        release.wait(30.0)

    def tick() -> None:
        ticks.append(1)
        if len(ticks) >= 20:
            counted.set()

    group = ReentrantCallbackGroup()
    node.create_timer(0.01, block, callback_group=group)  # holds the only pool thread
    node.create_timer(0.01, lambda: None, callback_group=group)  # its tasks wait for that thread
    node.create_timer(0.005, tick)
    executor = HybridExecutor(num_threads=1, context=ros_context)
    executor.add_node(node)
    try:
        spin_until(executor, blocked)
        spin_until(executor, counted)  # default-group callbacks go on meanwhile
        # rclpy's own MultiThreadedExecutor queues a waiting task again at every wake-up
        # (ros2/rclpy#1452): hundreds of copies by now.
        assert executor._executor._work_queue.qsize() <= 3
    finally:
        release.set()
        executor.shutdown(wait_for_threads=True)


@pytest.mark.parametrize("reentrant", [False, True])
def test_a_callback_that_raises_comes_out_of_spin_once(node: Node, ros_context: Context, reentrant: bool) -> None:
    def fail() -> None:
        raise RuntimeError("callback failed")

    group = ReentrantCallbackGroup() if reentrant else None
    node.create_timer(0.01, fail, callback_group=group)
    executor = HybridExecutor(num_threads=2, context=ros_context)
    executor.add_node(node)
    try:
        with pytest.raises(RuntimeError, match="callback failed"):
            for _ in range(SPINS):
                executor.spin_once(timeout_sec=0.05)
    finally:
        executor.shutdown(wait_for_threads=True)


def test_shutdown_without_waiting_leaves_a_blocked_pool_callback_behind(node: Node, ros_context: Context) -> None:
    release, blocked = threading.Event(), threading.Event()

    def block() -> None:
        blocked.set()
        release.wait(30.0)

    node.create_timer(0.01, block, callback_group=ReentrantCallbackGroup())
    executor = HybridExecutor(num_threads=2, context=ros_context)
    executor.add_node(node)
    try:
        spin_until(executor, blocked)
        assert executor.shutdown(timeout_sec=0.0, wait_for_threads=False)  # returns at once
        assert not release.is_set()
    finally:
        release.set()
