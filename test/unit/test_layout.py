"""The package layout: the cores import from this repository, not from PyPI namesakes."""

from __future__ import annotations

import importlib
import xml.etree.ElementTree as ET
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
