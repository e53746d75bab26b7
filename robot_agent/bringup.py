"""The whole stack's node graph, in one place: read by bringup.launch.py and by ``robot-agent up``.

``plan_bringup(arguments)`` turns launch arguments (``sim:=mujoco world:=kitchen ...``) into the
nodes to start, each with its parameters and remappings. ``ros2 launch`` builds launch_ros Nodes
from that plan; the runner (robot_agent/runner.py) starts the same nodes as processes where
``launch`` is not installed. Neither holds a second copy of the graph.

Parameters come from the params file (config/robot_agent.yaml, keyed by node name), then the
launch arguments override the few they name. This module imports neither rclpy nor launch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from robot_agent.paths import config_file

SIMULATORS = ("mujoco", "gazebo", "none")
BACKENDS = ("offline", "llm_goal", "llm")
DETECTORS = ("color", "sim_oracle", "open_vocab")
NAVIGATION = ("internal", "nav2")
LOG_LEVELS = ("debug", "info", "warn", "error", "fatal")
CAMERA_TOPICS = {
    "color_topic": "/camera/color/image_raw",
    "depth_topic": "/camera/depth/image_raw",
    "camera_info_topic": "/camera/color/camera_info",
    "depth_info_topic": "/camera/depth/camera_info",
}
PARAMS_FILE = "robot_agent.yaml"


class BringupError(ValueError):
    """A launch argument or the params file is wrong; the message says which and why."""


@dataclass(frozen=True)
class LaunchArgument:
    name: str
    default: str
    description: str
    choices: tuple[str, ...] = ()


ARGUMENTS: tuple[LaunchArgument, ...] = (
    LaunchArgument(
        "sim",
        "mujoco",
        "Where the robot is: mujoco (the embedded world, started here), gazebo (gazebo.launch.py, "
        "needs Gazebo Harmonic and ros_gz) or none (a real robot whose drivers publish the topics)",
        SIMULATORS,
    ),
    LaunchArgument("world", "kitchen", "Simulated world: kitchen, apartment, office or a scenario YAML file"),
    LaunchArgument(
        "map_file",
        "",
        "Map for GOTO, FIND and the scene graph's rooms and furniture: a built-in world or a scenario/map "
        "YAML file; empty: the world when simulating, no map on a robot (then no GOTO or FIND)",
    ),
    LaunchArgument("backend", "offline", "Planner backend: offline parser, model-written goals or plans", BACKENDS),
    LaunchArgument("model", "", "Model client config as JSON for the llm backends (docs/models.md)"),
    LaunchArgument("detector", "color", "Object detector of the perception node", DETECTORS),
    LaunchArgument("navigation", "internal", "Who drives GOTO and FIND: internal (A*, /cmd_vel) or nav2", NAVIGATION),
    *(
        LaunchArgument(name, topic, f"Camera topic ({name.removesuffix('_topic').replace('_', ' ')})")
        for name, topic in CAMERA_TOPICS.items()
    ),
    LaunchArgument(
        "use_sim_time", "auto", "Follow /clock: auto (true when simulating), true or false", ("auto", "true", "false")
    ),
    LaunchArgument("real_time_factor", "1.0", "mujoco: simulated seconds per wall second; 0: as fast as it can"),
    LaunchArgument("headless", "false", "gazebo: the server only, no window", ("true", "false")),
    LaunchArgument("params_file", "", "Parameters keyed by node name; empty: the bundled config/robot_agent.yaml"),
    LaunchArgument("log_level", "info", "Log level of every node", LOG_LEVELS),
)
ARGUMENT_NAMES = tuple(argument.name for argument in ARGUMENTS)


@dataclass(frozen=True)
class NodePlan:
    """One node to start: its console script and module, parameters and remappings."""

    name: str
    executable: str  # the console script (``ros2 launch``)
    module: str  # ``python -m module`` (the runner)
    parameters: dict[str, Any] = field(default_factory=dict)  # the params file's, then the arguments'
    remappings: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class IncludePlan:
    """A launch file of this package to include (Gazebo's bringup)."""

    launch_file: str
    arguments: dict[str, str]


@dataclass(frozen=True)
class BringupPlan:
    arguments: dict[str, str]
    params_file: Path
    nodes: tuple[NodePlan, ...]
    includes: tuple[IncludePlan, ...] = ()

    def node(self, name: str) -> NodePlan:
        return next(node for node in self.nodes if node.name == name)


def parse_arguments(pairs: list[str]) -> dict[str, str]:
    """``["world:=office", "backend:=llm"]`` as a mapping; unknown names and bad forms are refused."""
    arguments: dict[str, str] = {}
    for pair in pairs:
        name, separator, value = pair.partition(":=")
        if not separator or not name:
            raise BringupError(f"{pair!r}: launch arguments are written name:=value")
        arguments[name] = value
    return arguments


def resolve_arguments(given: Mapping[str, str]) -> dict[str, str]:
    """Every argument with its value: the given ones checked against the choices, the rest defaulted."""
    unknown = sorted(set(given) - set(ARGUMENT_NAMES))
    if unknown:
        raise BringupError(f"unknown launch argument(s) {', '.join(unknown)}; known: {', '.join(ARGUMENT_NAMES)}")
    resolved = {argument.name: given.get(argument.name, argument.default) for argument in ARGUMENTS}
    for argument in ARGUMENTS:
        if argument.choices and resolved[argument.name] not in argument.choices:
            raise BringupError(
                f"{argument.name}:={resolved[argument.name]!r} is not one of {', '.join(argument.choices)}"
            )
    try:
        if float(resolved["real_time_factor"]) < 0:
            raise ValueError
    except ValueError:
        raise BringupError(f"real_time_factor:={resolved['real_time_factor']!r} must be a number >= 0") from None
    if resolved["model"]:
        try:
            import json

            if not isinstance(json.loads(resolved["model"]), dict):
                raise ValueError
        except ValueError:
            raise BringupError(f"model:={resolved['model']!r} must be a JSON object (docs/models.md)") from None
    return resolved


def load_params_file(path: Path) -> dict[str, dict[str, Any]]:
    """``{node name: {parameter: value}}`` from a ROS 2 params file (``node: {ros__parameters: {...}}``)."""
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise BringupError(f"params_file {path}: {error}") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise BringupError(f"params_file {path}: expected node names at the top level")
    parameters: dict[str, dict[str, Any]] = {}
    for node, section in document.items():
        values = section.get("ros__parameters") if isinstance(section, dict) else None
        if not isinstance(values, dict):
            raise BringupError(f"params_file {path}: {node}: expected a ros__parameters mapping")
        parameters[str(node).lstrip("/")] = values
    return parameters


def plan_bringup(given: Mapping[str, str]) -> BringupPlan:
    """The nodes (and included launch files) that ``given`` launch arguments ask for."""
    arguments = resolve_arguments(given)
    params_path = Path(arguments["params_file"]) if arguments["params_file"] else config_file(PARAMS_FILE)
    from_file = load_params_file(params_path)
    simulating = arguments["sim"] != "none"
    use_sim_time = simulating if arguments["use_sim_time"] == "auto" else arguments["use_sim_time"] == "true"
    map_file = arguments["map_file"] or (arguments["world"] if simulating else "")
    camera = tuple((topic, arguments[name]) for name, topic in CAMERA_TOPICS.items() if arguments[name] != topic)

    def node(name: str, module: str, **overrides: Any) -> NodePlan:
        parameters = {**from_file.get(name, {}), **overrides}
        return NodePlan(name, name, f"robot_agent.nodes.{module}", parameters, camera)

    nodes: list[NodePlan] = []
    includes: list[IncludePlan] = []
    if arguments["sim"] == "mujoco":
        nodes.append(
            node("sim", "sim_node", world=arguments["world"], real_time_factor=float(arguments["real_time_factor"]))
        )
    elif arguments["sim"] == "gazebo":
        includes.append(
            IncludePlan("gazebo.launch.py", {"world": arguments["world"], "headless": arguments["headless"]})
        )
    nodes += [
        node(
            "skill_server",
            "skill_server",
            map_file=map_file,
            navigation=arguments["navigation"],
            use_sim_time=use_sim_time,
        ),
        node(
            "perception",
            "perception_node",
            detector=arguments["detector"],
            map_file=map_file,
            use_sim_time=use_sim_time,
        ),
        node("agent", "agent_node", backend=arguments["backend"], model=arguments["model"], use_sim_time=use_sim_time),
    ]
    unknown_nodes = sorted(set(from_file) - {n.name for n in nodes} - {"sim"})
    if unknown_nodes:
        raise BringupError(f"params_file {params_path}: no node named {', '.join(unknown_nodes)} in the bringup")
    return BringupPlan(arguments, params_path, tuple(nodes), tuple(includes))
