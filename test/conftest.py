"""Test harness: three tiers, and DDS confined to loopback with a domain of this run's own.

Tiers (pytest markers, chosen by folder): unit (pure Python, no rclpy), ros (real nodes over
real DDS on loopback), e2e (the simulator and the whole stack). Before any test is collected the
environment is set to ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST and a ROS_DOMAIN_ID of this run's
own; child processes inherit it. The ros and e2e tiers wrap rclpy.init so that it refuses to
start otherwise (robot_agent.testing.guard_rclpy_init); the unit tier fails a test that imports rclpy.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from robot_agent.ros_env import loopback_environment, require_loopback_discovery

TIERS = ("unit", "ros", "e2e")


def _run_domain_id() -> int:
    """ROBOT_AGENT_TEST_DOMAIN_ID, else one derived from the process id (1..100)."""
    chosen = os.environ.get("ROBOT_AGENT_TEST_DOMAIN_ID")
    return int(chosen) if chosen else 1 + os.getpid() % 100


def pytest_configure(config: pytest.Config) -> None:
    os.environ.pop("ROS_STATIC_PEERS", None)
    os.environ.update(loopback_environment(_run_domain_id()))
    require_loopback_discovery()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = Path(__file__).parent
    for item in items:
        tier = Path(item.path).relative_to(root).parts[0]
        if tier in TIERS:
            item.add_marker(getattr(pytest.mark, tier))


def pytest_report_header(config: pytest.Config) -> str:
    return (
        f"ROS_DOMAIN_ID={os.environ['ROS_DOMAIN_ID']} "
        f"ROS_AUTOMATIC_DISCOVERY_RANGE={os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE']}"
    )
