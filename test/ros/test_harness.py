"""The harness refuses to start rclpy when DDS discovery could leave the machine."""

from __future__ import annotations

import pytest
import rclpy
from rclpy.context import Context

from robot_agent.ros_env import UnsafeDiscoveryError
from robot_agent.testing import NodeProcess


@pytest.mark.parametrize("variable", ["ROS_AUTOMATIC_DISCOVERY_RANGE", "ROS_DOMAIN_ID"])
def test_rclpy_init_refuses_without_loopback_discovery(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.delenv(variable)
    context = Context()
    with pytest.raises(UnsafeDiscoveryError, match=variable):
        rclpy.init(context=context)
    assert not context.ok()


def test_node_processes_refuse_to_start_without_loopback_discovery(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROS_AUTOMATIC_DISCOVERY_RANGE", "SUBNET")
    with pytest.raises(UnsafeDiscoveryError, match="LOCALHOST"):
        NodeProcess("robot_agent.nodes.skill_server")


def test_this_run_is_confined_to_loopback(ros_context: Context) -> None:
    assert ros_context.ok()
