"""The package layout: the cores import from this repository, not from PyPI namesakes."""

from __future__ import annotations

import importlib
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("package", ["robot_agent", "perception", "planning", "control", "sim"])
def test_package_imports_from_this_repository(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__file__ is not None
    assert Path(module.__file__).resolve().parent == REPO / package


def test_root_is_the_ament_python_package_and_interfaces_the_ament_cmake_one() -> None:
    root = ET.parse(REPO / "package.xml").getroot()
    interfaces = ET.parse(REPO / "interfaces" / "package.xml").getroot()
    assert root.get("format") == "3" and root.findtext("name") == "robot_agent"
    assert root.findtext("export/build_type") == "ament_python"
    assert "robot_agent_interfaces" in {d.text for d in root.findall("depend")}
    assert interfaces.findtext("name") == "robot_agent_interfaces"
    assert interfaces.findtext("export/build_type") == "ament_cmake"
    assert (REPO / "resource" / "robot_agent").is_file()


def test_every_interface_file_is_generated() -> None:
    for path in sorted((REPO / "interfaces").glob("*/*.*")):
        if path.suffix not in (".msg", ".srv", ".action"):
            continue
        module = importlib.import_module(f"robot_agent_interfaces.{path.suffix[1:]}")
        assert hasattr(module, path.stem), f"{path.name} was not generated"


def test_the_package_installs_its_data_files(tmp_path: Path) -> None:
    """The built package holds the built-in worlds, config, launch files and the ament index marker."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("robot_agent-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"sim/worlds/kitchen.yaml", "sim/worlds/apartment.yaml", "sim/worlds/office.yaml"} <= names
    data = {name.split(".data/data/", 1)[1] for name in names if ".data/data/" in name}
    assert {
        "share/robot_agent/package.xml",
        "share/robot_agent/config/skills.yaml",
        "share/robot_agent/launch/sim.launch.py",
        "share/ament_index/resource_index/packages/robot_agent",
    } <= data
