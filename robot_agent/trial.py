"""One task through a running stack, judged against the simulator's ground truth.

``TrialClient`` is a ROS node beside the stack (``robot-agent up`` or ``ros2 launch``): it sends the
command as an ExecuteTask goal, records the plan, each step's start, what the robot says, the
robot's path (/odom) and camera frames at key moments, injects scripted events (a person moving
things) when asked, and checks the task's success conditions with /sim/check. Used by
``make demo``, ``robot-agent bench`` and the end-to-end test.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from nav_msgs.msg import Odometry
from rclpy.action import ActionClient
from rclpy.client import Client
from rclpy.node import Node
from rclpy.qos import QoSPresetProfiles
from robot_agent_interfaces.action import ExecuteTask
from robot_agent_interfaces.msg import SceneGraph as SceneGraphMsg
from robot_agent_interfaces.srv import CheckConditions, InjectEvent
from sensor_msgs.msg import Image
from std_msgs.msg import String
from std_srvs.srv import SetBool

from perception.scene_graph import SceneGraph
from planning.plan import AgentState, PlanStep, TaskErrorCode
from robot_agent import names
from robot_agent.conversions import image_to_numpy, plan_step_from_msg, scene_graph_from_msg
from robot_agent.report import Frame, RgbImage, StepRecord, TrialResult


class TrialError(RuntimeError):
    """The stack is not there or did not answer (no agent, no simulator)."""


class TrialClient:
    """Records and judges tasks on a running stack; ``node`` must be spun by an executor elsewhere."""

    PATH_SPACING_M = 0.05

    def __init__(self, node: Node) -> None:
        self.node = node
        self._lock = threading.Lock()
        self._image: Image | None = None
        self._graph: SceneGraphMsg | None = None
        self._graph_arrived = threading.Event()
        self._truth: SceneGraphMsg | None = None
        self._path: list[tuple[float, float]] = []
        self._responses: list[tuple[float, str]] = []
        self._started = time.monotonic()
        self._tasks: ActionClient = ActionClient(node, ExecuteTask, names.EXECUTE_TASK_ACTION)
        self._check: Client = node.create_client(CheckConditions, names.SIM_CHECK_SERVICE)
        self._inject: Client = node.create_client(InjectEvent, names.SIM_INJECT_EVENT_SERVICE)
        self._pause_camera: Client = node.create_client(SetBool, names.SIM_PAUSE_CAMERA_SERVICE)
        sensor_qos = QoSPresetProfiles.SENSOR_DATA.value
        node.create_subscription(Image, "/camera/color/image_raw", self._on_image, sensor_qos)
        node.create_subscription(Odometry, "/odom", self._on_odom, 10)
        node.create_subscription(SceneGraphMsg, names.SCENE_GRAPH_TOPIC, self._on_graph, 1)
        node.create_subscription(SceneGraphMsg, names.SIM_GROUND_TRUTH_TOPIC, self._on_truth, 1)
        node.create_subscription(String, names.RESPONSE_TOPIC, self._on_response, 10)

    # --- subscriptions -------------------------------------------------------------------------

    def _on_image(self, msg: Image) -> None:
        with self._lock:
            self._image = msg

    def _on_graph(self, msg: SceneGraphMsg) -> None:
        with self._lock:
            self._graph = msg
        self._graph_arrived.set()

    def _on_truth(self, msg: SceneGraphMsg) -> None:
        with self._lock:
            self._truth = msg

    def latest_truth(self) -> SceneGraph | None:
        with self._lock:
            truth = self._truth
        return None if truth is None else scene_graph_from_msg(truth)

    def _on_odom(self, msg: Odometry) -> None:
        point = (float(msg.pose.pose.position.x), float(msg.pose.pose.position.y))
        with self._lock:
            if not self._path or np.hypot(point[0] - self._path[-1][0], point[1] - self._path[-1][1]) >= (
                self.PATH_SPACING_M
            ):
                self._path.append(point)

    def _on_response(self, msg: String) -> None:
        with self._lock:
            self._responses.append((time.monotonic() - self._started, msg.data))

    # --- what the stack offers -----------------------------------------------------------------

    def wait_ready(
        self, timeout_s: float, need_scene: bool = True, progress: Callable[[str], None] | None = None
    ) -> None:
        """Wait until the agent's action, /sim/check and (optionally) a first scene graph are there."""
        deadline = time.monotonic() + timeout_s
        waits: list[tuple[str, Callable[[float], bool]]] = [
            ("the simulator (/sim/check)", lambda wait: self._check.wait_for_service(timeout_sec=wait)),
            (f"the agent ({names.EXECUTE_TASK_ACTION})", lambda wait: self._tasks.wait_for_server(timeout_sec=wait)),
        ]
        if need_scene:
            waits.append(("a first scene graph", self._graph_arrived.wait))
        for what, ready in waits:
            if progress is not None:
                progress(f"waiting for {what}")
            if not ready(max(0.0, deadline - time.monotonic())):
                raise TrialError(f"{what} did not come up within {timeout_s:.0f} s")

    def latest_frame(self) -> RgbImage | None:
        with self._lock:
            image = self._image
        if image is None:
            return None
        array = image_to_numpy(image)
        return np.ascontiguousarray(array[..., :3]).astype(np.uint8)

    def latest_graph(self) -> SceneGraph | None:
        with self._lock:
            graph = self._graph
        return None if graph is None else scene_graph_from_msg(graph)

    def check(self, conditions: Sequence[str], timeout_s: float = 10.0) -> tuple[list[bool], str]:
        """Each condition against the simulator's true state, and the robot's pose ("x y yaw")."""
        request = CheckConditions.Request(conditions=list(conditions))
        response = self._call(self._check, request, timeout_s, "/sim/check")
        if not response.success:
            raise TrialError(f"/sim/check: {response.error_msg}")
        return [bool(h) for h in response.holds], str(response.robot_pose)

    def inject(self, event: str, timeout_s: float = 10.0) -> str:
        """Make a scripted event happen (InjectEvent's YAML/JSON); what it did."""
        response = self._call(self._inject, InjectEvent.Request(event=event), timeout_s, "/sim/inject_event")
        if not response.success:
            raise TrialError(f"/sim/inject_event: {response.error_msg}")
        return str(response.description)

    def pause_camera(self, paused: bool, timeout_s: float = 10.0) -> None:
        """Silence the simulated camera (a failing driver), or let it publish again."""
        response = self._call(self._pause_camera, SetBool.Request(data=paused), timeout_s, "/sim/pause_camera")
        if not response.success:
            raise TrialError(f"/sim/pause_camera: {response.message}")

    def _call(self, client: Any, request: Any, timeout_s: float, what: str) -> Any:
        if not client.wait_for_service(timeout_sec=timeout_s):
            raise TrialError(f"{what} is not available (is the simulator running?)")
        done = threading.Event()
        future = client.call_async(request)
        future.add_done_callback(lambda _: done.set())
        if not done.wait(timeout_s):
            raise TrialError(f"{what} did not answer within {timeout_s:.0f} s")
        return future.result()

    # --- a task --------------------------------------------------------------------------------

    def run(
        self,
        command: str,
        conditions: Sequence[str],
        timeout_s: float,
        expect_refusal: bool = False,
        on_step: Callable[[StepRecord, PlanStep], None] | None = None,
        on_event: Callable[[str], None] | None = None,
        events_at_step: dict[int, str] | None = None,
        frames: bool = True,
    ) -> TrialResult:
        """Send ``command`` and wait for its end (cancelled after ``timeout_s``), then judge it.

        ``events_at_step``: an event to inject when the plan's step with that index starts (a person
        moving the target while the robot drives to it). ``expect_refusal``: success means the agent
        refused and every condition (what must stay as it was) still holds.
        """
        if not self._tasks.wait_for_server(timeout_sec=10.0):
            raise TrialError(f"no agent answers on {names.EXECUTE_TASK_ACTION}")
        start = time.monotonic()
        with self._lock:
            self._path = []
            first_response = len(self._responses)
        recorded: list[Frame] = []
        steps: list[StepRecord] = []
        events: list[str] = []
        pending_events = dict(events_at_step or {})
        to_inject: queue.Queue[str | None] = queue.Queue()
        replans = 0
        last_plan: list[tuple[str, tuple[tuple[str, str], ...]]] = []
        lock = threading.Lock()

        def capture(label: str) -> None:
            if frames and (rgb := self.latest_frame()) is not None:
                recorded.append(Frame(label, time.monotonic() - start, rgb))

        def on_feedback(message: Any) -> None:
            nonlocal replans, last_plan
            feedback = message.feedback
            plan = [plan_step_from_msg(step) for step in feedback.plan]
            with lock:
                key = [(step.skill, tuple(sorted(step.arguments.items()))) for step in plan]
                if plan and last_plan and key != last_plan:
                    replans += 1
                if plan:
                    last_plan = key
                if feedback.state == AgentState.REPLANNING and steps and steps[-1].ended_s is None:
                    steps[-1].ended_s = time.monotonic() - start
                index = int(feedback.current_step)
                if feedback.state != AgentState.EXECUTING or not 0 <= index < len(plan):
                    return
                step = plan[index]
                current = steps[-1] if steps else None
                if (
                    current is not None
                    and current.index == index
                    and current.skill == step.skill
                    and (current.arguments == step.arguments and current.ended_s is None)
                ):
                    return
                now = time.monotonic() - start
                if current is not None and current.ended_s is None:
                    current.ended_s = now
                record = StepRecord(index, step.skill, dict(step.arguments), now)
                steps.append(record)
            capture(f"step {len(steps)}: {step.skill} {' '.join(step.arguments.values())}")
            if on_step is not None:
                on_step(record, step)
            if index in pending_events:
                to_inject.put(pending_events.pop(index))  # not here: the executor's thread must stay free

        capture("start")
        sent = self._tasks.send_goal_async(ExecuteTask.Goal(command=command), feedback_callback=on_feedback)
        answered = threading.Event()
        sent.add_done_callback(lambda _: answered.set())
        if not answered.wait(10.0):
            raise TrialError("the agent did not answer the goal")
        handle: Any = sent.result()
        if handle is None or not handle.accepted:
            raise TrialError("the agent rejected the goal")
        finished = threading.Event()
        result_future = handle.get_result_async()

        def on_result(_: Any) -> None:
            finished.set()
            to_inject.put(None)  # wakes the loop below

        result_future.add_done_callback(on_result)
        deadline = start + timeout_s
        while not finished.is_set() and time.monotonic() < deadline:
            try:
                event = to_inject.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if event is not None:
                try:
                    description = self.inject(event)
                except TrialError as error:
                    description = f"event failed: {error}"
                events.append(description)
                if on_event is not None:
                    on_event(description)
        if not finished.is_set():
            cancelled = threading.Event()
            handle.cancel_goal_async().add_done_callback(lambda _: cancelled.set())
            cancelled.wait(10.0)
            finished.wait(15.0)
        duration = time.monotonic() - start
        response: Any = result_future.result() if finished.is_set() else None
        result = response.result if response is not None else None
        with lock:
            if steps and steps[-1].ended_s is None:
                steps[-1].ended_s = duration
        capture("end")
        holds, _ = self.check(conditions) if conditions else ([], "")
        with self._lock:
            responses = [(t - (start - self._started), text) for t, text in self._responses[first_response:]]
            path = list(self._path)
        agent_success = bool(result.success) if result is not None else False
        success = all(holds) and (not agent_success if expect_refusal else agent_success)
        return TrialResult(
            command=command,
            conditions=list(conditions),
            success=success,
            holds=holds,
            agent_success=agent_success,
            error_code=int(result.error_code) if result is not None else TaskErrorCode.TIMEOUT,
            error_msg=str(result.error_msg) if result is not None else f"no result within {timeout_s:.0f} s",
            summary=str(result.summary) if result is not None else "",
            plan=[plan_step_from_msg(step) for step in result.plan] if result is not None else [],
            steps=steps,
            duration_s=duration,
            responses=responses,
            path=path,
            frames=recorded,
            replans=replans,
            events=events,
            belief=self.latest_graph(),
            truth=self.latest_truth(),
        )
