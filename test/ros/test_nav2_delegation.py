"""GOTO delegated to Nav2 (``navigation:=nav2``): a skill server with the kitchen's map sends
NavigateToPose goals to a stand-in Nav2 action server in this process, over DDS.

The stand-in plays Nav2's side of the protocol only (accept, feedback, result, cancel); what is
tested is the skill server's half: where it asks Nav2 to go, how feedback, cancel and Nav2's
result codes come back through the skill's action.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator

import pytest
from action_msgs.msg import GoalStatus
from nav2_msgs.action import NavigateToPose
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.action.server import ServerGoalHandle
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node
from robot_agent_interfaces.action import ExecuteSkill

from robot_agent.conversions import arguments_from_msg
from robot_agent.ros_wait import wait_for_future, wait_until
from robot_agent.testing import NodeProcess, SkillCaller
from sim.scenario import load_scenario

TIMEOUT_S = 60.0


class StandInNav2:
    """NavigateToPose's server side. ``behaviour``: succeed, abort_timeout, abort_unknown or hold
    (run until cancelled)."""

    def __init__(self, node: Node) -> None:
        self.behaviour = "succeed"
        self.goals: list[NavigateToPose.Goal] = []
        self.cancelled = threading.Event()
        self.executing = threading.Event()
        self.released = threading.Event()  # set at teardown: a held goal ends even if nobody cancels it
        self.goal_offered = threading.Event()
        self.answer_goals = threading.Event()  # cleared: goals wait unanswered until it is set
        self.answer_goals.set()
        self._server = ActionServer(
            node,
            NavigateToPose,
            "navigate_to_pose",
            execute_callback=self._execute,
            goal_callback=self._answer,
            cancel_callback=lambda _handle: CancelResponse.ACCEPT,
            callback_group=ReentrantCallbackGroup(),
        )

    def _answer(self, _goal: NavigateToPose.Goal) -> GoalResponse:
        self.goal_offered.set()
        self.answer_goals.wait()
        return GoalResponse.ACCEPT

    def _execute(self, handle: ServerGoalHandle) -> NavigateToPose.Result:
        self.goals.append(handle.request)
        self.executing.set()
        result = NavigateToPose.Result()
        if self.behaviour == "hold":
            while not handle.is_cancel_requested and not self.released.wait(0.05):
                handle.publish_feedback(NavigateToPose.Feedback(distance_remaining=2.0))
            if not handle.is_cancel_requested:
                handle.abort()
                return result
            self.cancelled.set()
            handle.canceled()
            return result
        if self.behaviour.startswith("abort"):
            result.error_code = NavigateToPose.Result.TIMEOUT if self.behaviour == "abort_timeout" else 9000
            result.error_msg = "controller patience exceeded" if self.behaviour == "abort_timeout" else "no path"
            handle.abort()
            return result
        for distance in (3.0, 2.0, 1.0, 0.0):
            handle.publish_feedback(NavigateToPose.Feedback(distance_remaining=distance))
        handle.succeed()
        return result

    def destroy(self) -> None:
        self.released.set()
        self.answer_goals.set()
        self._server.destroy()


@pytest.fixture
def nav2(ros_node: Node) -> Iterator[StandInNav2]:
    server = StandInNav2(ros_node)
    yield server
    server.destroy()


@pytest.fixture
def skill_server() -> Iterator[NodeProcess]:
    process = NodeProcess(
        "robot_agent.nodes.skill_server", "--ros-args", "-p", "map_file:=kitchen", "-p", "navigation:=nav2"
    )
    yield process
    assert process.stop() == 0, process.output()


def yaw_of(goal: NavigateToPose.Goal) -> float:
    q = goal.pose.pose.orientation
    return 2.0 * math.atan2(q.z, q.w)


def test_goto_sends_nav2_an_approach_pose_and_forwards_its_feedback(
    nav2: StandInNav2, skill_server: NodeProcess, ros_node: Node
) -> None:
    caller = SkillCaller(ros_node, TIMEOUT_S)
    status, result = caller.result(caller.send("GOTO", {"target": "dining_table"}))
    assert status == GoalStatus.STATUS_SUCCEEDED, f"{result.error_msg}\n{skill_server.output()}"
    assert len(nav2.goals) == 1
    goal = nav2.goals[0].pose
    assert goal.header.frame_id == "map"
    table = next(f for f in load_scenario("kitchen").furniture if f.id == "dining_table")
    x, y = goal.pose.position.x, goal.pose.position.y
    gap = max(abs(x - table.pose[0]) - table.size[0] / 2, abs(y - table.pose[1]) - table.size[1] / 2)
    assert 0.2 < gap < 0.9, gap  # beside the table, where the arm reaches its edge
    outputs = arguments_from_msg(result.outputs)
    assert outputs["navigator"] == "nav2"
    assert float(outputs["x"]) == pytest.approx(x, abs=1e-3)
    assert float(outputs["yaw"]) == pytest.approx(yaw_of(nav2.goals[0]), abs=1e-3)
    # Feedback may trail the result (another topic): what arrived is Nav2's, in order, as progress.
    driving = {f.distance_remaining: f.progress for f in caller.feedback if f.phase == "driving"}
    assert driving and set(driving) <= {3.0, 2.0, 1.0, 0.0}
    assert list(driving) == sorted(driving, reverse=True)
    assert all(progress == pytest.approx(1.0 - distance / 3.0) for distance, progress in driving.items())


def test_goto_to_a_pose_goes_to_that_pose(nav2: StandInNav2, skill_server: NodeProcess, ros_node: Node) -> None:
    caller = SkillCaller(ros_node, TIMEOUT_S)
    status, result = caller.result(caller.send("GOTO", {"pose": "2.0 3.5 1.57"}))
    assert status == GoalStatus.STATUS_SUCCEEDED, result.error_msg
    goal = nav2.goals[0]
    assert (goal.pose.pose.position.x, goal.pose.pose.position.y) == pytest.approx((2.0, 3.5))
    assert yaw_of(goal) == pytest.approx(1.57, abs=1e-6)


def test_nav2_failures_become_skill_error_codes(nav2: StandInNav2, skill_server: NodeProcess, ros_node: Node) -> None:
    caller = SkillCaller(ros_node, TIMEOUT_S)
    nav2.behaviour = "abort_timeout"
    status, result = caller.result(caller.send("GOTO", {"pose": "2.0 3.5 0.0"}))
    assert status == GoalStatus.STATUS_ABORTED
    assert result.error_code == ExecuteSkill.Result.TIMEOUT
    assert "controller patience exceeded" in result.error_msg
    assert len(nav2.goals) == 1  # a timeout is not retried elsewhere

    nav2.behaviour = "abort_unknown"
    nav2.goals.clear()
    status, result = caller.result(caller.send("GOTO", {"target": "dining_table"}))
    assert status == GoalStatus.STATUS_ABORTED
    assert result.error_code == ExecuteSkill.Result.UNREACHABLE and "no path" in result.error_msg
    assert len(nav2.goals) > 1  # each approach pose was offered before giving up
    assert len({(g.pose.pose.position.x, g.pose.pose.position.y) for g in nav2.goals}) == len(nav2.goals)


def test_cancelling_goto_cancels_the_nav2_goal(nav2: StandInNav2, skill_server: NodeProcess, ros_node: Node) -> None:
    caller = SkillCaller(ros_node, TIMEOUT_S)
    nav2.behaviour = "hold"
    handle = caller.send("GOTO", {"target": "sideboard"})
    assert nav2.executing.wait(TIMEOUT_S)
    wait_until(lambda: any(f.phase == "driving" for f in caller.feedback), TIMEOUT_S, "Nav2 feedback forwarded")
    wait_for_future(handle.cancel_goal_async(), TIMEOUT_S, "cancel response")
    status, result = caller.result(handle)
    assert status == GoalStatus.STATUS_CANCELED and result.error_code == ExecuteSkill.Result.CANCELLED
    assert nav2.cancelled.wait(TIMEOUT_S)  # the Nav2 goal was cancelled too
    assert "Nav2 had not confirmed" not in result.error_msg


def test_a_goto_cancelled_before_nav2_answers_cancels_the_goal_once_nav2_accepts_it(
    nav2: StandInNav2, skill_server: NodeProcess, ros_node: Node
) -> None:
    caller = SkillCaller(ros_node, TIMEOUT_S)
    nav2.behaviour = "hold"
    nav2.answer_goals.clear()
    handle = caller.send("GOTO", {"target": "sideboard"})
    assert nav2.goal_offered.wait(TIMEOUT_S)
    wait_for_future(handle.cancel_goal_async(), TIMEOUT_S, "cancel response")
    status, result = caller.result(handle)
    assert status == GoalStatus.STATUS_CANCELED and result.error_code == ExecuteSkill.Result.CANCELLED
    assert "had not answered" in result.error_msg
    nav2.answer_goals.set()  # Nav2 accepts late: the skill server cancels that goal at once
    assert nav2.cancelled.wait(TIMEOUT_S)


def test_without_nav2_running_goto_fails_with_the_reason(skill_server: NodeProcess, ros_node: Node) -> None:
    caller = SkillCaller(ros_node, TIMEOUT_S)
    status, result = caller.result(caller.send("GOTO", {"pose": "2.0 3.5 0.0"}))
    assert status == GoalStatus.STATUS_ABORTED
    assert result.error_code == ExecuteSkill.Result.PRECONDITION_FAILED
    assert "is Nav2 running?" in result.error_msg


def test_an_unknown_navigation_mode_stops_the_node_with_the_reason() -> None:
    process = NodeProcess("robot_agent.nodes.skill_server", "--ros-args", "-p", "navigation:=teleport")
    assert process.wait(TIMEOUT_S) != 0
    assert "navigation: 'teleport' is not one of internal, nav2" in process.output()
