"""The unit tier runs without rclpy: a test that imports it belongs in test/ros."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _no_rclpy() -> Iterator[None]:
    already = "rclpy" in sys.modules
    yield
    if not already and "rclpy" in sys.modules:
        pytest.fail("this unit test imported rclpy; move it to test/ros")
