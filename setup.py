"""ament_python package robot_agent; also installs the ROS-free cores perception, planning, control."""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = "robot_agent"
CORES = ("perception", "planning", "control", "sim")

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(include=[PACKAGE, f"{PACKAGE}.*", *CORES, *(f"{c}.*" for c in CORES)]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", glob("launch/*.launch.py")),
        (f"share/{PACKAGE}/config", glob("config/*.yaml") + glob("config/*.xml")),
        (f"share/{PACKAGE}/config/profiles", glob("config/profiles/*.yaml")),
    ],
    package_data={**{name: ["py.typed"] for name in (PACKAGE, *CORES)}, "sim": ["py.typed", "worlds/*.yaml"]},
    install_requires=["setuptools"],
    zip_safe=False,
    maintainer="robot_agent maintainers",
    maintainer_email="maintainers@robot-agent.dev",
    description="ROS 2 stack for robots that take orders in plain language.",
    license="Apache-2.0",
    python_requires=">=3.10",
    entry_points={
        "console_scripts": [
            "skill_server = robot_agent.nodes.skill_server:main",
            "static_transform_publisher = robot_agent.nodes.static_transform_publisher:main",
            "sim = robot_agent.nodes.sim_node:main",
            "gz_adapter = robot_agent.nodes.gz_adapter:main",
            "perception = robot_agent.nodes.perception_node:main",
            "agent = robot_agent.nodes.agent_node:main",
            "robot-agent = robot_agent.cli:main",
        ],
    },
)
