"""Where robot_agent's data files are: the package's share directory, or the source tree."""

from __future__ import annotations

from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parent.parent


def share_directory() -> Path:
    """share/robot_agent of an installed package (colcon), else the repository root (pip -e)."""
    try:
        from ament_index_python.packages import PackageNotFoundError, get_package_share_directory
    except ImportError:
        return SOURCE_ROOT
    try:
        return Path(get_package_share_directory("robot_agent"))
    except PackageNotFoundError:
        return SOURCE_ROOT


def config_file(name: str) -> Path:
    """A file of config/, e.g. ``config_file("skills.yaml")``."""
    path = share_directory() / "config" / name
    if not path.is_file():
        raise FileNotFoundError(f"robot_agent config file {name!r} not found at {path}")
    return path
