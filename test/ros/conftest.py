"""Fixtures of the ros tier: a fresh rclpy context, a spun test node, node processes."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
import rclpy
from rclpy.context import Context
from rclpy.node import Node

from robot_agent.pytest_node_report import pytest_runtest_makereport, pytest_runtest_setup  # noqa: F401
from robot_agent.ros_wait import BackgroundSpinner
from robot_agent.testing import NodeProcess, guard_rclpy_init

guard_rclpy_init()


@pytest.fixture
def ros_context() -> Iterator[Context]:
    context = Context()
    rclpy.init(context=context)
    yield context
    rclpy.try_shutdown(context=context)


@pytest.fixture
def ros_node(ros_context: Context) -> Iterator[Node]:
    """A node spun by a background executor, so the waiting helpers can be used."""
    node = Node(f"test_{uuid.uuid4().hex[:8]}", context=ros_context)
    spinner = BackgroundSpinner(node, context=ros_context)
    yield node
    spinner.stop()
    node.destroy_node()


@pytest.fixture
def node_process() -> Iterator[Callable[..., NodeProcess]]:
    """Start ``python -m module args`` processes; all are stopped after the test."""
    started: list[NodeProcess] = []

    def start(module: str, *args: str) -> NodeProcess:
        process = NodeProcess(module, *args)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
