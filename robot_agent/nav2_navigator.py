"""GOTO's driving delegated to Nav2: a NavigateToPose action client behind ``PoseNavigator``.

Where Nav2 runs (``navigation:=nav2``), the skills still choose where to stand (approach poses
from the map and the scene graph) and Nav2 plans, drives and recovers. Goal, feedback, cancel and
result are forwarded: Nav2's feedback becomes the skill's distance and progress, the skill's
cancel or deadline cancels the Nav2 goal, and Nav2's result becomes a skill error code.

Only the fields every Nav2 release has are read (Humble's result has no error code), so the
system's nav2_msgs works on Humble, Jazzy and later; where none is installed, setup builds the
definition in compat/nav2_msgs.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

from action_msgs.msg import GoalStatus
from nav2_msgs.action import NavigateToPose
from rclpy.action import ActionClient
from rclpy.action.client import ClientGoalHandle
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node
from rclpy.task import Future

from control.navigation.approach import Pose2D
from control.robot import PoseNavigator
from control.skills import Feedback, SkillContext, SkillErrorCode, SkillResult

POLL_S = 0.05  # how often a waiting skill re-checks its cancel and deadline
# Nav2's NavigateToPose result codes (Jazzy and later) and what they mean to a skill.
NAV2_TIMEOUT = 9003
NAV2_TF_ERROR = 9002


def nav2_error_code(nav2_code: int) -> SkillErrorCode:
    if nav2_code == NAV2_TIMEOUT:
        return SkillErrorCode.TIMEOUT
    if nav2_code == NAV2_TF_ERROR:
        return SkillErrorCode.PERCEPTION_STALE
    return SkillErrorCode.UNREACHABLE


def _done_event(future: Future) -> threading.Event:
    event = threading.Event()
    future.add_done_callback(lambda _f: event.set())
    return event


class Nav2Navigator(PoseNavigator):
    """Sends NavigateToPose goals from a skill's thread; the node's executor runs the callbacks."""

    name = "nav2"

    def __init__(
        self,
        node: Node,
        action_name: str = "navigate_to_pose",
        behavior_tree: str = "",
        server_wait_s: float = 5.0,
        cancel_wait_s: float = 10.0,
        on_stop: Callable[[], None] | None = None,
    ) -> None:
        self._node = node
        self.action_name = action_name
        self.behavior_tree = behavior_tree
        self.server_wait_s = server_wait_s
        self.cancel_wait_s = cancel_wait_s
        self._on_stop = on_stop or (lambda: None)
        self._client: ActionClient[Any, Any, Any] = ActionClient(
            node, NavigateToPose, action_name, callback_group=ReentrantCallbackGroup()
        )

    def _goal_msg(self, goal: Pose2D) -> NavigateToPose.Goal:
        yaw = goal.yaw or 0.0
        msg = NavigateToPose.Goal()
        msg.behavior_tree = self.behavior_tree
        msg.pose.header.frame_id = "map"
        msg.pose.header.stamp = self._node.get_clock().now().to_msg()
        msg.pose.pose.position.x, msg.pose.pose.position.y = float(goal.x), float(goal.y)
        msg.pose.pose.orientation.z, msg.pose.pose.orientation.w = math.sin(yaw / 2), math.cos(yaw / 2)
        return msg

    def navigate(self, goal: Pose2D, context: SkillContext, what: str) -> SkillResult:
        if not self._client.wait_for_server(timeout_sec=self.server_wait_s):
            return SkillResult.failure(
                SkillErrorCode.PRECONDITION_FAILED,
                f"Nav2's {self.action_name} action server is not there after {self.server_wait_s:g} s: "
                "is Nav2 running?",
            )
        start_distance: list[float] = []

        def forward_feedback(message: NavigateToPose.Impl.FeedbackMessage) -> None:
            distance = float(message.feedback.distance_remaining)
            if not start_distance and distance > 0:
                start_distance.append(distance)
            progress = 1.0 - distance / start_distance[0] if start_distance else 0.0
            context.publish_feedback(
                Feedback("driving", min(max(progress, 0.0), 1.0), distance, f"{distance:.2f} m to go (Nav2)")
            )

        sent = self._client.send_goal_async(self._goal_msg(goal), feedback_callback=forward_feedback)
        accepted = _done_event(sent)
        while not accepted.wait(POLL_S):
            code = context.stop_code()
            if code is not None:
                # Stopped before Nav2 answered: the goal is cancelled the moment Nav2 accepts it.
                self._on_stop()
                sent.add_done_callback(self._cancel_once_accepted)
                return self._stopped(code, what, "; Nav2 had not answered the goal yet")
        handle = sent.result()
        if handle is None or not handle.accepted:
            return SkillResult.failure(SkillErrorCode.UNREACHABLE, f"Nav2 rejected the goal to {what}")
        result_future = handle.get_result_async()
        finished = _done_event(result_future)
        while not finished.wait(POLL_S):
            code = context.stop_code()
            if code is not None:
                return self._cancel(handle, result_future, code, what)
        wrapped = result_future.result()
        if wrapped is None:
            return SkillResult.failure(SkillErrorCode.UNKNOWN, f"Nav2 sent no result for the goal to {what}")
        result = wrapped.result
        if wrapped.status == GoalStatus.STATUS_SUCCEEDED:
            outputs = {"x": f"{goal.x:.3f}", "y": f"{goal.y:.3f}", "yaw": f"{goal.yaw or 0.0:.3f}"}
            return SkillResult(message=f"at {what}", outputs={**outputs, "navigator": "nav2"})
        if wrapped.status == GoalStatus.STATUS_CANCELED:
            return SkillResult.failure(SkillErrorCode.CANCELLED, f"Nav2 cancelled the goal to {what}")
        nav2_code = int(getattr(result, "error_code", 0))
        detail = str(getattr(result, "error_msg", "")) or f"error code {nav2_code}"
        return SkillResult.failure(nav2_error_code(nav2_code), f"Nav2 aborted the goal to {what}: {detail}")

    def _cancel_once_accepted(self, sent: Future) -> None:
        handle = sent.result()
        if handle is not None and handle.accepted:
            handle.cancel_goal_async()

    def _cancel(
        self, handle: ClientGoalHandle[Any, Any, Any], result_future: Future, code: SkillErrorCode, what: str
    ) -> SkillResult:
        self._on_stop()  # the base stops now; Nav2's controller stops when the cancel arrives
        cancel = handle.cancel_goal_async()
        # Nav2 confirms by accepting the cancel request or by ending the goal, whichever comes first.
        answered = _done_event(cancel)
        result_future.add_done_callback(lambda _f: answered.set())
        answered.wait(self.cancel_wait_s)
        response = cancel.result() if cancel.done() else None
        if result_future.done() or (response is not None and response.goals_canceling):
            note = ""
        elif cancel.done():
            note = "; Nav2 refused the cancel"
        else:
            note = f"; Nav2 had not confirmed the cancel after {self.cancel_wait_s:g} s"
        return self._stopped(code, what, note)

    @staticmethod
    def _stopped(code: SkillErrorCode, what: str, note: str) -> SkillResult:
        reason = "cancelled" if code == SkillErrorCode.CANCELLED else "timed out"
        return SkillResult.failure(code, f"driving to {what} (Nav2) stopped: {reason}{note}")
