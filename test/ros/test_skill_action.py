"""The ExecuteSkill action across two processes over DDS on loopback: goal, feedback, result, cancel."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from action_msgs.msg import GoalStatus
from rclpy.client import Client
from rclpy.node import Node
from robot_agent_interfaces.action import ExecuteSkill
from robot_agent_interfaces.srv import ListSkills
from std_msgs.msg import String

from control.skills import SkillErrorCode
from robot_agent import names
from robot_agent.ros_wait import wait_for_future, wait_for_service
from robot_agent.testing import NodeProcess, SkillCaller

TIMEOUT_S = 20.0


@pytest.fixture
def skill_server(node_process: Callable[..., NodeProcess]) -> NodeProcess:
    return node_process("robot_agent.nodes.skill_server")


@pytest.fixture
def caller(skill_server: NodeProcess, ros_node: Node) -> Iterator[SkillCaller]:
    caller = SkillCaller(ros_node)
    yield caller
    caller.client.destroy()


def test_goal_gets_feedback_and_result_from_another_process(caller: SkillCaller, skill_server: NodeProcess) -> None:
    handle = caller.send("WAIT", {"seconds": "0.5"})
    status, result = caller.result(handle)
    assert status == GoalStatus.STATUS_SUCCEEDED, skill_server.output()
    assert result.success and result.error_code == ExecuteSkill.Result.NONE
    assert result.message == "waited 0.5 s"
    assert len(caller.feedback) >= 3
    assert caller.feedback[-1].progress == pytest.approx(1.0)
    assert all(f.phase == "waiting" for f in caller.feedback)


def test_cancel_stops_the_skill(caller: SkillCaller) -> None:
    handle = caller.send("WAIT", {"seconds": "60"})
    assert caller.feedback_arrived.wait(TIMEOUT_S)
    cancel = wait_for_future(handle.cancel_goal_async(), TIMEOUT_S, "cancel response")
    assert len(cancel.goals_canceling) == 1
    status, result = caller.result(handle)
    assert status == GoalStatus.STATUS_CANCELED
    assert result.error_code == SkillErrorCode.CANCELLED and not result.success
    assert "cancelled" in result.error_msg.lower() or "CANCELLED" in result.error_msg


def test_goal_timeout_gives_timeout(caller: SkillCaller) -> None:
    status, result = caller.result(caller.send("WAIT", {"seconds": "60"}, timeout_s=0.3))
    assert status == GoalStatus.STATUS_ABORTED
    assert result.error_code == SkillErrorCode.TIMEOUT


@pytest.mark.parametrize(
    ("skill", "arguments", "code"),
    [
        ("FLY", {}, SkillErrorCode.UNKNOWN_SKILL),
        ("WAIT", {"seconds": "forever"}, SkillErrorCode.INVALID_ARGUMENTS),
        ("WAIT", {}, SkillErrorCode.INVALID_ARGUMENTS),
    ],
)
def test_goals_that_cannot_run_end_with_a_code_and_a_reason(
    caller: SkillCaller, skill: str, arguments: dict[str, str], code: SkillErrorCode
) -> None:
    status, result = caller.result(caller.send(skill, arguments))
    assert status == GoalStatus.STATUS_ABORTED
    assert result.error_code == code and result.error_msg
    assert not caller.feedback


def test_say_answers_on_the_response_topic(caller: SkillCaller, ros_node: Node) -> None:
    heard: list[str] = []
    arrived = threading.Event()

    def on_response(msg: String) -> None:
        heard.append(msg.data)
        arrived.set()

    ros_node.create_subscription(String, names.RESPONSE_TOPIC, on_response, 10)
    status, result = caller.result(caller.send("SAY", {"text": "On my way."}))
    assert status == GoalStatus.STATUS_SUCCEEDED and result.success
    assert arrived.wait(TIMEOUT_S)
    assert heard == ["On my way."]


def test_catalog_service_lists_typed_skills(skill_server: NodeProcess, ros_node: Node) -> None:
    client: Client = ros_node.create_client(ListSkills, names.LIST_SKILLS_SERVICE)
    wait_for_service(client, TIMEOUT_S)
    everything = wait_for_future(client.call_async(ListSkills.Request()), TIMEOUT_S, "list_skills")
    assert everything.success
    by_name = {s.name: s for s in everything.skills}
    assert {"SAY", "WAIT"} <= set(by_name)
    assert [(p.name, p.type, p.required) for p in by_name["WAIT"].parameters] == [("seconds", "float", True)]
    one = wait_for_future(client.call_async(ListSkills.Request(name="SAY")), TIMEOUT_S, "list_skills")
    assert [s.name for s in one.skills] == ["SAY"]
    none = wait_for_future(client.call_async(ListSkills.Request(name="FLY")), TIMEOUT_S, "list_skills")
    assert not none.success and "FLY" in none.error_msg
