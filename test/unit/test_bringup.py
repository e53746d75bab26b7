"""The bringup's node graph (robot_agent/bringup.py) and its agreement with the launch files and nodes."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from robot_agent.bringup import (
    ARGUMENT_NAMES,
    ARGUMENTS,
    BringupError,
    load_params_file,
    parse_arguments,
    plan_bringup,
)
from robot_agent.paths import config_file
from robot_agent.runner import write_params_file

ROOT = Path(__file__).resolve().parents[2]
LAUNCH = ROOT / "launch"
NODE_SOURCES = {
    "sim": ROOT / "robot_agent/nodes/sim_node.py",
    "skill_server": ROOT / "robot_agent/nodes/skill_server.py",
    "perception": ROOT / "robot_agent/nodes/perception_node.py",
    "agent": ROOT / "robot_agent/nodes/agent_node.py",
}


def test_default_bringup_is_the_embedded_world_and_the_whole_stack() -> None:
    plan = plan_bringup({})
    assert [node.name for node in plan.nodes] == ["sim", "skill_server", "perception", "agent"]
    assert plan.node("sim").parameters["world"] == "kitchen"
    for name in ("skill_server", "perception"):
        assert plan.node(name).parameters["map_file"] == "kitchen"  # the world is the map
    for name in ("skill_server", "perception", "agent"):
        assert plan.node(name).parameters["use_sim_time"] is True
    assert plan.node("agent").parameters["backend"] == "offline"
    assert plan.includes == ()


def test_a_robot_has_no_simulator_no_sim_time_and_no_map_unless_given() -> None:
    plan = plan_bringup({"sim": "none"})
    assert "sim" not in [node.name for node in plan.nodes]
    assert plan.node("skill_server").parameters["map_file"] == ""
    assert plan.node("agent").parameters["use_sim_time"] is False
    mapped = plan_bringup({"sim": "none", "map_file": "/maps/home.yaml", "use_sim_time": "true"})
    assert mapped.node("perception").parameters["map_file"] == "/maps/home.yaml"
    assert mapped.node("perception").parameters["use_sim_time"] is True


def test_gazebo_is_an_included_launch_file() -> None:
    plan = plan_bringup({"sim": "gazebo", "world": "office", "headless": "true"})
    assert "sim" not in [node.name for node in plan.nodes]
    assert [(i.launch_file, i.arguments) for i in plan.includes] == [
        ("gazebo.launch.py", {"world": "office", "headless": "true"})
    ]
    assert (LAUNCH / "gazebo.launch.py").is_file()


def test_camera_topics_are_remapped_on_every_node() -> None:
    plan = plan_bringup({"sim": "none", "color_topic": "/head_camera/rgb/image_raw"})
    for node in plan.nodes:
        assert ("/camera/color/image_raw", "/head_camera/rgb/image_raw") in node.remappings
    assert all(node.remappings == () for node in plan_bringup({}).nodes)


def test_launch_arguments_override_the_params_file(tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"agent": {"ros__parameters": {"backend": "llm", "max_replans": 5}}}))
    plan = plan_bringup({"params_file": str(params), "backend": "llm_goal"})
    assert plan.node("agent").parameters == {"backend": "llm_goal", "max_replans": 5, "model": "",
                                              "use_sim_time": True}  # fmt: skip


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        ({"simulator": "mujoco"}, "unknown launch argument(s) simulator"),
        ({"sim": "isaac"}, "sim:='isaac' is not one of mujoco, gazebo, none"),
        ({"backend": "gpt"}, "backend:='gpt' is not one of"),
        ({"real_time_factor": "fast"}, "real_time_factor:='fast' must be a number"),
        ({"real_time_factor": "-1"}, "must be a number >= 0"),
        ({"model": "llama"}, "model:='llama' must be a JSON object"),
        ({"params_file": "/nonexistent/params.yaml"}, "params_file /nonexistent/params.yaml"),
    ],
)
def test_wrong_arguments_are_refused_with_the_reason(arguments: dict[str, str], complaint: str) -> None:
    with pytest.raises(BringupError) as raised:
        plan_bringup(arguments)
    assert complaint in str(raised.value)


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("- a list\n", "expected node names at the top level"),
        ("agent: {backend: llm}\n", "agent: expected a ros__parameters mapping"),
        ("planner: {ros__parameters: {x: 1}}\n", "no node named planner in the bringup"),
        ("agent: {ros__parameters: [\n", "params_file"),
    ],
)
def test_a_wrong_params_file_is_refused(tmp_path: Path, content: str, complaint: str) -> None:
    params = tmp_path / "params.yaml"
    params.write_text(content)
    with pytest.raises(BringupError) as raised:
        plan_bringup({"params_file": str(params)})
    assert complaint in str(raised.value)


def test_launch_arguments_are_written_name_colon_equals_value() -> None:
    assert parse_arguments(["world:=office", 'model:={"kind": "x"}']) == {
        "world": "office",
        "model": '{"kind": "x"}',
    }
    with pytest.raises(BringupError, match="name:=value"):
        parse_arguments(["world=office"])


def test_the_generated_params_file_holds_every_nodes_parameters(tmp_path: Path) -> None:
    plan = plan_bringup({"world": "apartment", "backend": "llm_goal"})
    written = load_params_file(write_params_file(plan, tmp_path))
    assert written == {node.name: node.parameters for node in plan.nodes}


def _declared_parameters(source: Path) -> set[str]:
    """Parameter names a node declares: the first string argument of its declare/_declare/_parameter/p calls."""
    names = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if called in ("declare_parameter", "_declare", "_parameter", "p") and isinstance(node.args[0].value, str):
                names.add(node.args[0].value)
    return names


def test_every_parameter_the_bringup_sets_is_declared_by_its_node() -> None:
    bundled = load_params_file(config_file("robot_agent.yaml"))
    assert set(bundled) == set(NODE_SOURCES)
    for plan in (plan_bringup({}), plan_bringup({"sim": "none"})):
        for node in plan.nodes:
            declared = _declared_parameters(NODE_SOURCES[node.name]) | {"use_sim_time"}
            assert set(node.parameters) <= declared, (node.name, set(node.parameters) - declared)


def _launch_file_nodes(path: Path) -> list[tuple[str, str]]:
    """(executable, name) of every launch_ros Node(package="robot_agent", ...) written out in a launch file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Node":
            keywords = {k.arg: k.value for k in node.keywords}
            package = keywords.get("package")
            if isinstance(package, ast.Constant) and package.value == "robot_agent":
                executable, name = keywords["executable"], keywords.get("name", keywords["executable"])
                if isinstance(executable, ast.Constant) and isinstance(name, ast.Constant):
                    found.append((str(executable.value), str(name.value)))
                else:
                    found.append(("<computed>", "<computed>"))
    return found


def _declared_launch_arguments(path: Path) -> dict[str, list[str] | None]:
    """name -> choices of every DeclareLaunchArgument written out with a literal name."""
    found: dict[str, list[str] | None] = {}
    for node in ast.walk(ast.parse(path.read_text())):
        declared = isinstance(node, ast.Call) and getattr(node.func, "id", "") == "DeclareLaunchArgument"
        if declared and isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            choices = next((k.value for k in node.keywords if k.arg == "choices"), None)
            found[str(node.args[0].value)] = ast.literal_eval(choices) if choices is not None else None
    return found


def test_launch_files_start_the_nodes_the_runner_starts() -> None:
    scripts = set(re.findall(r'"([a-z_-]+) = [a-z_.]+:main"', (ROOT / "setup.py").read_text()))
    bringup_nodes = {node.name: node.executable for node in plan_bringup({}).nodes}
    subsystem = {"sim.launch.py", "skills.launch.py", "perception.launch.py", "agent.launch.py"}
    seen = set()
    for path in sorted(set(LAUNCH.glob("*.launch.py")) - {LAUNCH / "bringup.launch.py"}):
        for executable, name in _launch_file_nodes(path):
            assert executable in scripts, f"{path.name}: {executable} is no console script"
            if path.name in subsystem:
                assert bringup_nodes[name] == executable, f"{path.name}: node {name}"
                seen.add(name)
    assert seen == set(bringup_nodes)  # every node of the bringup has a launch file of its own
    # bringup.launch.py holds no copy of the graph: its arguments and nodes come from robot_agent.bringup.
    source = (LAUNCH / "bringup.launch.py").read_text()
    assert "plan_bringup" in source and "ARGUMENTS" in source
    assert _launch_file_nodes(LAUNCH / "bringup.launch.py") == [("<computed>", "<computed>")]
    assert _declared_launch_arguments(LAUNCH / "bringup.launch.py") == {}


def test_subsystem_launch_arguments_agree_with_the_bringups() -> None:
    bringup = {argument.name: argument for argument in ARGUMENTS}
    for path in sorted(LAUNCH.glob("*.launch.py")):
        for name, choices in _declared_launch_arguments(path).items():
            if name in bringup and name != "use_sim_time" and bringup[name].choices and choices is not None:
                assert tuple(choices) == bringup[name].choices, f"{path.name}: {name}"
    assert len(set(ARGUMENT_NAMES)) == len(ARGUMENTS)
    assert all(argument.description for argument in ARGUMENTS)


@pytest.mark.parametrize("profile", sorted((ROOT / "config/profiles").glob("*.yaml")), ids=lambda p: p.stem)
def test_deployment_profiles_plan_and_name_only_declared_parameters(profile: Path) -> None:
    plan = plan_bringup({"sim": "none", "params_file": str(profile), "detector": "open_vocab"})
    for node in plan.nodes:
        declared = _declared_parameters(NODE_SOURCES[node.name]) | {"use_sim_time"}
        assert set(node.parameters) <= declared, (profile.name, node.name, set(node.parameters) - declared)
    assert plan.node("perception").parameters["model_dir"]
