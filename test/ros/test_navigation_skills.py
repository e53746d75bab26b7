"""GOTO, FIND and the action manners in the embedded world: the sim node, a skill server with
the world's map (and a perception node where a test needs one), each in its own process, over DDS."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from action_msgs.msg import GoalStatus
from nav_msgs.msg import Odometry
from rclpy.node import Node
from robot_agent_interfaces.action import ExecuteSkill
from robot_agent_interfaces.msg import SceneGraph as SceneGraphMsg
from sensor_msgs.msg import JointState

from robot_agent.conversions import arguments_from_msg, scene_graph_from_msg, time_to_ns
from robot_agent.ros_wait import MessageCollector, wait_for_future, wait_for_message, wait_until
from robot_agent.testing import NodeProcess, SkillCaller
from sim.scenario import load_scenario

TIMEOUT_S = 90.0
NS = 1e9


def write_world(tmp_path: Path, robot_pose: list[float], extra_objects: list[dict[str, Any]] = ()) -> Path:  # type: ignore[assignment]
    document = load_scenario("kitchen").model_dump(mode="json")
    document["robot"]["pose"] = robot_pose
    document["objects"] = [*document["objects"], *extra_objects]
    world = tmp_path / "world.yaml"
    world.write_text(yaml.safe_dump(document))
    return world


class Stack:
    def __init__(self, world: Path, perception: bool = False) -> None:
        self.processes = [NodeProcess("robot_agent.nodes.sim_node", "--ros-args", "-p", f"world:={world}")]
        common = ("-p", f"map_file:={world}", "-p", "use_sim_time:=true")
        if perception:
            self.processes.append(
                NodeProcess("robot_agent.nodes.perception_node", "--ros-args", "-p", "detector:=sim_oracle", *common)
            )
        self.processes.append(NodeProcess("robot_agent.nodes.skill_server", "--ros-args", *common))

    def output(self) -> str:
        return "\n".join(p.output()[-3000:] for p in self.processes)

    def stop(self) -> None:
        codes = [p.stop() for p in reversed(self.processes)]
        assert codes == [0] * len(codes), self.output()


@pytest.fixture
def kitchen(tmp_path: Path) -> Iterator[Stack]:
    stack = Stack(write_world(tmp_path, [1.5, 2.5, 0.0]))
    yield stack
    stack.stop()


def odometry(node: Node) -> MessageCollector[Odometry]:
    collector: MessageCollector[Odometry] = MessageCollector()
    node.create_subscription(Odometry, "/odom", collector, 50)
    return collector


def test_goto_drives_between_rooms_to_a_named_piece_of_furniture(kitchen: Stack, ros_node: Node) -> None:
    caller = SkillCaller(ros_node, TIMEOUT_S)
    status, result = caller.result(caller.send("GOTO", {"target": "dining_table"}))
    assert status == GoalStatus.STATUS_SUCCEEDED, f"{result.error_msg}\n{kitchen.output()}"
    odom = wait_for_message(ros_node, Odometry, "/odom", TIMEOUT_S)
    x, y = odom.pose.pose.position.x, odom.pose.pose.position.y
    assert 5.0 < x < 9.0 and 0.0 < y < 4.0  # in the dining room
    reported = {k: float(v) for k, v in arguments_from_msg(result.outputs).items()}
    assert math.hypot(reported["x"] - x, reported["y"] - y) < 0.05  # ended where it says, and stays
    table = next(f for f in load_scenario("kitchen").furniture if f.id == "dining_table")
    gap = max(abs(x - table.pose[0]) - table.size[0] / 2, abs(y - table.pose[1]) - table.size[1] / 2)
    assert 0.2 < gap < 0.9, gap  # beside the table, within the arm's reach of its edge
    assert any(f.phase == "driving" and f.distance_remaining > 3.0 for f in caller.feedback)


def test_cancel_stops_the_base_and_nothing_drives_it_afterwards(kitchen: Stack, ros_node: Node) -> None:
    # How soon it stops is a figure of benchmarks/cancel_bench.py (idle and under load), not a test.
    caller = SkillCaller(ros_node, TIMEOUT_S)
    odom = odometry(ros_node)
    handle = caller.send("GOTO", {"target": "sideboard"})
    wait_for_message(ros_node, Odometry, "/odom", TIMEOUT_S, predicate=lambda m: m.twist.twist.linear.x > 0.2)
    cancel = wait_for_future(handle.cancel_goal_async(), TIMEOUT_S, "cancel response")
    assert len(cancel.goals_canceling) == 1
    status, result = caller.result(handle)
    assert status == GoalStatus.STATUS_CANCELED and result.error_code == ExecuteSkill.Result.CANCELLED

    def still(m: Odometry) -> bool:
        return abs(m.twist.twist.linear.x) < 0.02 and abs(m.twist.twist.angular.z) < 0.05

    # From when the server heard the cancel, on the robot's clock.
    cancelled_at = float(arguments_from_msg(result.outputs)["cancel_requested_at"])

    def after(start: float) -> list[Odometry]:
        return [m for m in list(odom.messages) if stamp_s(m) >= start]

    wait_until(lambda: any(still(m) for m in after(cancelled_at)), TIMEOUT_S, "the base at rest after the cancel")
    rest = stamp_s(next(m for m in after(cancelled_at) if still(m)))
    wait_until(lambda: any(stamp_s(m) > rest + 1.0 for m in after(rest)), TIMEOUT_S, "a second of odometry at rest")
    moving = [stamp_s(m) for m in after(rest) if not still(m)]
    assert not moving, f"the base moved again at {moving[:3]} s after coming to rest at {rest:.2f} s"


def stamp_s(msg: Odometry) -> float:
    return time_to_ns(msg.header.stamp) / NS


def test_unknown_target_is_refused_before_anything_moves(kitchen: Stack, ros_node: Node) -> None:
    caller = SkillCaller(ros_node, TIMEOUT_S)
    status, result = caller.result(caller.send("GOTO", {"target": "unicorn"}))
    assert status == GoalStatus.STATUS_ABORTED and result.error_code == ExecuteSkill.Result.UNKNOWN_TARGET
    assert "unicorn" in result.error_msg and "dining_table" in result.error_msg
    assert caller.feedback == []


def test_a_crate_in_the_only_door_blocks_the_way(tmp_path: Path, ros_node: Node) -> None:
    crate = {"id": "crate", "label": "crate", "color": "brown", "size": [0.5, 1.0, 0.6], "mass": 20.0,
             "place": {"position": [5.0, 2.0, 0.3]}}  # fmt: skip
    stack = Stack(write_world(tmp_path, [3.0, 2.0, 0.0], [crate]))
    try:
        caller = SkillCaller(ros_node, TIMEOUT_S)
        status, result = caller.result(caller.send("GOTO", {"target": "sideboard"}))
        assert status == GoalStatus.STATUS_ABORTED, stack.output()
        assert result.error_code == ExecuteSkill.Result.BLOCKED, result.error_msg
        odom = wait_for_message(ros_node, Odometry, "/odom", TIMEOUT_S)
        assert odom.pose.pose.position.x < 4.6  # stopped before the crate
    finally:
        stack.stop()


def test_find_locates_an_object_hidden_from_the_start_pose(tmp_path: Path, ros_node: Node) -> None:
    # In the dining room facing the door, the dining table and its lemon behind the robot.
    stack = Stack(write_world(tmp_path, [5.7, 3.0, math.pi]), perception=True)
    try:
        caller = SkillCaller(ros_node, 2 * TIMEOUT_S)  # a search may visit several places
        status, result = caller.result(caller.send("FIND", {"object": "lemon"}))
        assert status == GoalStatus.STATUS_SUCCEEDED, f"{result.error_msg}\n{stack.output()}"
        outputs = arguments_from_msg(result.outputs)
        assert outputs["object"].startswith("lemon"), outputs
        # Ended beside the lemon's table, whichever places the search looked at first (the lemon may be seen
        # from the kitchen through the door).
        table = next(f for f in load_scenario("kitchen").furniture if f.id == "dining_table")
        x, y = float(outputs["x"]), float(outputs["y"])
        gap = max(abs(x - table.pose[0]) - table.size[0] / 2, abs(y - table.pose[1]) - table.size[1] / 2)
        assert gap < 0.9, (gap, result.message)
    finally:
        stack.stop()


def test_pick_and_place_run_the_arm_and_gripper_over_ros(tmp_path: Path, ros_node: Node) -> None:
    # Beside the counter, the red cup within the arm's reach but out of the camera's view.
    stack = Stack(write_world(tmp_path, [1.53, 3.05, math.pi]), perception=True)
    try:
        caller = SkillCaller(ros_node, TIMEOUT_S)
        status, result = caller.result(caller.send("SCAN", {"target": "counter"}))
        assert status == GoalStatus.STATUS_SUCCEEDED, result.error_msg
        graph = scene_graph_from_msg(wait_for_message(ros_node, SceneGraphMsg, "/scene_graph", TIMEOUT_S))
        (cup,) = [o.id for o in graph.by_label("cup") if o.attributes.get("color") == "red"]  # perception's id
        status, result = caller.result(caller.send("PICK", {"object": cup}))
        assert status == GoalStatus.STATUS_SUCCEEDED, f"{result.error_msg}\n{stack.output()}"
        joints = wait_for_message(ros_node, JointState, "/joint_states", TIMEOUT_S)
        width = dict(zip(joints.name, joints.position, strict=True))["joint_gripper"]
        assert 0.06 < width < 0.1  # closed on the 8 cm cup
        assert any(f.phase == "moving_arm" for f in caller.feedback)
        status, result = caller.result(caller.send("PLACE", {"object": cup, "target": "counter"}))
        assert status == GoalStatus.STATUS_SUCCEEDED, f"{result.error_msg}\n{stack.output()}"
        joints = wait_for_message(ros_node, JointState, "/joint_states", TIMEOUT_S)
        assert dict(zip(joints.name, joints.position, strict=True))["joint_gripper"] > 0.11  # let go
    finally:
        stack.stop()
