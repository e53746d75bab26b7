"""Keeping DDS on this machine: checks that tests, demos and benchmarks run before starting rclpy.

Default DDS discovery multicasts beyond the machine. Jazzy and newer keep it on loopback with
ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST; Humble with ROS_LOCALHOST_ONLY=1. A ROS_DOMAIN_ID of
each run's own keeps parallel runs apart.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping

MAX_DOMAIN_ID = 232


class UnsafeDiscoveryError(RuntimeError):
    """The environment would let DDS discovery leave this machine."""


def loopback_discovery_problem(environ: Mapping[str, str]) -> str | None:
    """Why this environment is not confined to loopback with its own domain, or None."""
    discovery_range = environ.get("ROS_AUTOMATIC_DISCOVERY_RANGE", "")
    humble_localhost = environ.get("ROS_DISTRO") == "humble" and environ.get("ROS_LOCALHOST_ONLY") == "1"
    if discovery_range != "LOCALHOST" and not humble_localhost:
        return (
            f"ROS_AUTOMATIC_DISCOVERY_RANGE is {discovery_range or 'unset'}; set it to LOCALHOST "
            "(on Humble: ROS_LOCALHOST_ONLY=1) so DDS discovery stays on this machine"
        )
    for raw_peer in environ.get("ROS_STATIC_PEERS", "").replace(",", ";").split(";"):
        peer = raw_peer.strip()
        if peer and peer != "localhost" and not _is_loopback(peer):
            return f"ROS_STATIC_PEERS names {peer!r}, which is not a loopback address"
    domain = environ.get("ROS_DOMAIN_ID", "")
    if not domain.isdigit() or not 0 <= int(domain) <= MAX_DOMAIN_ID:
        return f"ROS_DOMAIN_ID is {domain or 'unset'}; set a domain of this run's own (0 to {MAX_DOMAIN_ID})"
    return None


def require_loopback_discovery(environ: Mapping[str, str] | None = None) -> None:
    """Raise UnsafeDiscoveryError unless DDS is confined to loopback with a domain of its own."""
    problem = loopback_discovery_problem(os.environ if environ is None else environ)
    if problem:
        raise UnsafeDiscoveryError(f"refusing to start rclpy: {problem}")


def loopback_environment(domain_id: int, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of the environment with discovery confined to loopback on ``domain_id``."""
    if not 0 <= domain_id <= MAX_DOMAIN_ID:
        raise ValueError(f"domain id {domain_id} is outside 0..{MAX_DOMAIN_ID}")
    environ = dict(os.environ if base is None else base)
    environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    environ["ROS_DOMAIN_ID"] = str(domain_id)
    environ.pop("ROS_STATIC_PEERS", None)
    if environ.get("ROS_DISTRO") == "humble":
        environ["ROS_LOCALHOST_ONLY"] = "1"
    return environ


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
