from __future__ import annotations

import pytest

from robot_agent.ros_env import (
    UnsafeDiscoveryError,
    loopback_discovery_problem,
    loopback_environment,
    require_loopback_discovery,
)

SAFE = {"ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST", "ROS_DOMAIN_ID": "17"}


def test_localhost_range_with_own_domain_is_safe() -> None:
    assert loopback_discovery_problem(SAFE) is None
    require_loopback_discovery(SAFE)


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"ROS_AUTOMATIC_DISCOVERY_RANGE": ""}, "ROS_AUTOMATIC_DISCOVERY_RANGE"),
        ({"ROS_AUTOMATIC_DISCOVERY_RANGE": "SUBNET"}, "ROS_AUTOMATIC_DISCOVERY_RANGE"),
        ({"ROS_DOMAIN_ID": ""}, "ROS_DOMAIN_ID"),
        ({"ROS_DOMAIN_ID": "500"}, "ROS_DOMAIN_ID"),
        ({"ROS_STATIC_PEERS": "192.168.1.20"}, "ROS_STATIC_PEERS"),
    ],
)
def test_unsafe_environments_are_refused(changes: dict[str, str], complaint: str) -> None:
    environ = {**SAFE, **changes}
    problem = loopback_discovery_problem(environ)
    assert problem is not None and complaint in problem
    with pytest.raises(UnsafeDiscoveryError, match=complaint):
        require_loopback_discovery(environ)


def test_humble_localhost_only_counts_and_loopback_peers_are_allowed() -> None:
    humble = {"ROS_DISTRO": "humble", "ROS_LOCALHOST_ONLY": "1", "ROS_DOMAIN_ID": "3"}
    assert loopback_discovery_problem(humble) is None
    assert loopback_discovery_problem({**SAFE, "ROS_STATIC_PEERS": "127.0.0.1;localhost;::1"}) is None
    assert loopback_discovery_problem({"ROS_LOCALHOST_ONLY": "1", "ROS_DOMAIN_ID": "3"}) is not None


def test_loopback_environment_sets_range_and_domain() -> None:
    environ = loopback_environment(42, {"ROS_STATIC_PEERS": "10.0.0.1", "ROS_DISTRO": "humble", "HOME": "/h"})
    assert environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "LOCALHOST"
    assert environ["ROS_DOMAIN_ID"] == "42" and environ["ROS_LOCALHOST_ONLY"] == "1"
    assert "ROS_STATIC_PEERS" not in environ and environ["HOME"] == "/h"
    with pytest.raises(ValueError):
        loopback_environment(300)
