"""Fixtures of the e2e tier: a spun test node beside the whole stack (started by the tests)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rclpy.node import Node

from robot_agent.pytest_node_report import pytest_runtest_makereport, pytest_runtest_setup  # noqa: F401
from robot_agent.testing import guard_rclpy_init, spun_test_node

guard_rclpy_init()


@pytest.fixture
def ros_node() -> Iterator[Node]:
    with spun_test_node("e2e") as node:
        yield node
