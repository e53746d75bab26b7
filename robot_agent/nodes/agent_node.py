"""Agent node: commands in (topic and ExecuteTask action), plans out as ExecuteSkill goals.

Policy for a new command while a task runs: it preempts. The running task is cancelled (its skill
goal too), ends with PREEMPTED, and the robot says so; a command still waiting its turn is replaced
the same way, so under a flood only the newest runs and every command still gets an answer.

Start-up is quick: the node is ready before the embedding model and in-process model weights load,
which a background warm-up does next; a command that needs them meanwhile waits for them. With
``vision`` auto (a client that accepts images) or on, the node keeps a reference to the latest colour
frame and converts it only when the planner asks a model.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from action_msgs.msg import GoalStatus
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.action import ActionClient, ActionServer, CancelResponse, GoalResponse
from rclpy.action.server import ServerGoalHandle
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.client import Client
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSPresetProfiles, QoSProfile, ReliabilityPolicy
from rclpy.task import Future
from robot_agent_interfaces.action import ExecuteSkill, ExecuteTask
from robot_agent_interfaces.msg import AgentStatus
from robot_agent_interfaces.msg import SceneGraph as SceneGraphMsg
from robot_agent_interfaces.srv import ListSkills
from sensor_msgs.msg import Image
from std_msgs.msg import String

from control.skills import SkillErrorCode, SkillSpec
from perception.scene_graph import SceneGraph
from planning.agent import Agent, Progress, SkillOutcome, TaskResult
from planning.plan import AgentState, PlanStep, TaskErrorCode
from planning.planner import BACKENDS, make_planner
from planning.vision import VISION_MODES, CameraImage
from robot_agent import names
from robot_agent.conversions import (
    ImageConversionError,
    arguments_to_msg,
    image_to_numpy,
    plan_step_to_msg,
    scene_graph_from_msg,
    skill_spec_from_msg,
    time_to_ns,
)
from robot_agent.node_main import run_node

MAX_COMMAND_LOG = 120
WALL_WAIT_FACTOR = 6.0  # a wait judged on sim time also ends after this many times as long on the wall clock


@dataclass
class Task:
    command: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    cancel: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    preempted: bool = False
    result: TaskResult | None = None
    goal_handle: ServerGoalHandle | None = None


def _wait(future: Future, stop: threading.Event | None, timeout_s: float | None) -> bool:
    """Wait for an rclpy future without spinning (the executor's other threads complete it)."""
    finished = threading.Event()
    future.add_done_callback(lambda _f: finished.set())
    if stop is None:
        return finished.wait(timeout_s)
    waited = 0.0
    while not finished.wait(0.05):
        waited += 0.05
        if stop.is_set() or (timeout_s is not None and waited >= timeout_s):
            return finished.is_set()
    return True


class AgentNode(Node):
    def __init__(self, **kwargs: object) -> None:
        super().__init__("agent", **kwargs)  # type: ignore[arg-type]
        backend = self._parameter("backend", "offline", f"planner backend: {', '.join(BACKENDS)}")
        model_json = self._parameter("model", "", "model client config as JSON (docs/models.md); for llm backends")
        fallback = self._parameter("fallback_to_offline", True, "use the offline parser when the model fails")
        vision = self._vision_parameter()
        self._skill_timeout_s = float(self._parameter("skill_timeout_s", 0.0, "per-skill timeout; 0: the skill's own"))
        self._service_timeout_s = float(self._parameter("service_timeout_s", 5.0, "wait for the skill catalog"))
        self._scene_wait_s = float(
            self._parameter("scene_wait_s", 10.0, "wait this long for a first scene graph and camera frame")
        )
        self._view_wait_s = float(
            self._parameter("view_wait_s", 5.0, "after a look, wait this long for a scene graph from a later frame")
        )
        max_replans = int(self._parameter("max_replans", 2, "replans after failed steps before giving up"))
        try:
            model = json.loads(model_json) if model_json else None
        except json.JSONDecodeError as error:
            raise ValueError(f"parameter model is not valid JSON: {error}") from None
        self._color_msg: Image | None = None  # the latest colour frame, converted only when a model asks
        self._color_arrived = threading.Event()
        planner = make_planner(str(backend), model, bool(fallback), vision, self._camera_image)

        group = ReentrantCallbackGroup()
        latched = QoSProfile(
            depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL
        )
        self._status_pub = self.create_publisher(AgentStatus, names.STATUS_TOPIC, latched)
        self._response_pub = self.create_publisher(String, names.RESPONSE_TOPIC, 10)
        self.create_subscription(String, names.COMMAND_TOPIC, self._on_command, 10, callback_group=group)
        self.create_subscription(SceneGraphMsg, names.SCENE_GRAPH_TOPIC, self._on_scene, 1, callback_group=group)
        if planner.sends_images:
            self.create_subscription(
                Image, names.COLOR_IMAGE_TOPIC, self._on_color, QoSPresetProfiles.SENSOR_DATA.value
            )
        self._skills: ActionClient = ActionClient(self, ExecuteSkill, names.EXECUTE_SKILL_ACTION, callback_group=group)
        self._catalog_client: Client = self.create_client(ListSkills, names.LIST_SKILLS_SERVICE, callback_group=group)
        self._task_server = ActionServer(
            self,
            ExecuteTask,
            names.EXECUTE_TASK_ACTION,
            execute_callback=self._execute_task,
            goal_callback=lambda _goal: GoalResponse.ACCEPT,
            cancel_callback=self._on_cancel_task,
            callback_group=group,
        )

        self._lock = threading.Condition()
        self._scene_msg: SceneGraphMsg | None = None
        self._scene_arrived = threading.Event()
        self._scene_changed = threading.Condition()  # guards _scene_msg; notified on every graph
        self._catalog: dict[str, SkillSpec] = {}
        self._current: Task | None = None
        self._waiting: Task | None = None
        self._stopping = threading.Event()
        self._agent = Agent(planner, self._run_skill, self._scene, self._fetch_catalog, self._report, self.say,
                            max_replans, self._fresh_scene)  # fmt: skip
        self._worker = threading.Thread(target=self._work, name="agent-tasks", daemon=True)
        self._worker.start()
        self._publish_status(Progress(AgentState.IDLE, [], -1, "ready", planner.backend), Task(""))
        seeing = f", camera images to {planner.client.name}" if planner.sends_images and planner.client else ""
        self.get_logger().info(f"agent ready, planner backend {planner.backend}{seeing}")
        # Embeddings and model weights load now, after start-up; commands that need them wait for them.
        planner.start_warm_up(self._warmed_up)

    def _vision_parameter(self) -> str:
        """auto, on or off; ``vision:=on`` arrives as YAML's true (and off as false), so booleans are taken too."""
        description = ParameterDescriptor(
            description=f"send the camera image to the model ({', '.join(VISION_MODES)}): auto when the model "
            "client accepts images, on requires a client that does, off never",
            dynamic_typing=True,
        )
        value: Any = self.declare_parameter("vision", "auto", description).value
        mode = {True: "on", False: "off"}.get(value, value) if isinstance(value, bool) else value
        if mode not in VISION_MODES:
            raise ValueError(f"parameter vision must be one of {', '.join(VISION_MODES)}, not {value!r}")
        return str(mode)

    def _warmed_up(self, seconds: float) -> None:
        if not self._stopping.is_set():
            self.get_logger().info(f"planner warmed up in {seconds:.1f} s")

    def _parameter(self, name: str, default: object, description: str) -> Any:
        return self.declare_parameter(name, default, ParameterDescriptor(description=description)).value

    def begin_shutdown(self) -> None:
        """Cancel the running and the waiting task (run_node, before it stops the callbacks)."""
        self._stopping.set()
        with self._lock:
            for task in (self._current, self._waiting):
                if task is not None:
                    task.cancel.set()
            self._lock.notify_all()

    def destroy_node(self) -> None:
        self.begin_shutdown()
        self._worker.join(timeout=5.0)
        super().destroy_node()

    def say(self, text: str) -> None:
        if text:
            self._response_pub.publish(String(data=text))

    # --- commands ------------------------------------------------------------------------------

    def _on_command(self, msg: String) -> None:
        self._submit(Task(msg.data))

    def _submit(self, task: Task) -> None:
        with self._lock:
            replaced = self._waiting
            if replaced is not None:
                self._finish(replaced, TaskResult(TaskErrorCode.PREEMPTED, "Replaced by a newer command."))
            if self._current is not None and not self._current.done.is_set():
                self._current.preempted = True
                self._current.cancel.set()
            self._waiting = task
            self._lock.notify_all()
        self.get_logger().info(f"command {task.id}: {task.command[:MAX_COMMAND_LOG]!r}")

    def _finish(self, task: Task, result: TaskResult) -> None:
        task.result = result
        task.done.set()

    def _work(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                while self._waiting is None and not self._stopping.is_set():
                    self._lock.wait(0.5)
                if self._stopping.is_set():
                    return
                task, self._waiting = self._waiting, None
                assert task is not None
                self._current = task
            try:
                now_ns = self.get_clock().now().nanoseconds
                result = self._agent.handle(task.command, task.cancel, now_ns)
            except Exception as error:  # noqa: BLE001 - a failing task must not end the agent
                self.get_logger().error(f"task {task.id} failed: {type(error).__name__}: {error}")
                result = TaskResult(TaskErrorCode.UNKNOWN, f"Something went wrong: {error}")
                self.say(result.message)
            if task.preempted and result.error_code == TaskErrorCode.CANCELLED:
                result = TaskResult(TaskErrorCode.PREEMPTED, "Stopped for a newer command.", plan=result.plan)
                self.say(result.message)
            with self._lock:
                self._finish(task, result)
                self._current = None

    # --- the ExecuteTask action ------------------------------------------------------------------

    def _execute_task(self, goal_handle: ServerGoalHandle) -> ExecuteTask.Result:
        task = Task(goal_handle.request.command, goal_handle=goal_handle)
        self._submit(task)
        while not task.done.wait(0.1):
            if goal_handle.is_cancel_requested:
                task.cancel.set()
            if self._stopping.is_set():
                task.cancel.set()
                break
        result = task.result or TaskResult(TaskErrorCode.CANCELLED, "The agent shut down.")
        if result.success:
            goal_handle.succeed()
        elif goal_handle.is_cancel_requested:
            goal_handle.canceled()
        else:
            goal_handle.abort()
        code = TaskErrorCode.CANCELLED if goal_handle.is_cancel_requested and not result.success else result.error_code
        return ExecuteTask.Result(
            success=result.success,
            error_code=int(code),
            error_msg="" if result.success else result.message,
            summary=result.summary or result.message,
            plan=[plan_step_to_msg(s) for s in result.plan],
        )

    def _on_cancel_task(self, goal_handle: ServerGoalHandle) -> CancelResponse:
        return CancelResponse.ACCEPT

    # --- what the agent needs ----------------------------------------------------------------------

    def _on_color(self, msg: Image) -> None:
        self._color_msg = msg  # a reference only: frames come often, model requests rarely
        self._color_arrived.set()

    def _camera_image(self) -> CameraImage | None:
        """The latest colour frame as RGB pixels (the planner's ImageSource); None without a usable one."""
        if not self._color_arrived.wait(self._scene_wait_s):  # right after start-up the camera may not have spoken
            self._color_arrived.set()  # no camera: wait once, not on every command
            return None
        msg = self._color_msg
        if msg is None:
            return None
        try:
            pixels = image_to_numpy(msg)
        except ImageConversionError as error:
            self.get_logger().warning(f"unusable colour image: {error}")
            return None
        if msg.encoding in ("bgr8", "bgra8"):
            pixels = pixels[..., 2::-1]
        elif msg.encoding == "rgba8":
            pixels = pixels[..., :3]
        elif msg.encoding == "mono8":
            pixels = np.repeat(pixels[..., None], 3, axis=2)
        elif msg.encoding != "rgb8":
            self.get_logger().warning(f"colour image encoding {msg.encoding} cannot be sent to the model")
            return None
        return CameraImage(pixels=np.ascontiguousarray(pixels, dtype=np.uint8), stamp_ns=time_to_ns(msg.header.stamp))

    def _on_scene(self, msg: SceneGraphMsg) -> None:
        with self._scene_changed:
            self._scene_msg = msg
            self._scene_changed.notify_all()
        self._scene_arrived.set()

    def _scene(self) -> SceneGraph | None:
        self._scene_arrived.wait(self._scene_wait_s)  # right after start-up perception may not have spoken yet
        with self._scene_changed:
            msg = self._scene_msg
        return self._graph_of(msg)

    def _fresh_scene(self, cancel: threading.Event) -> SceneGraph | None:
        """The scene graph of a frame taken after now (a look just ended), waiting up to view_wait_s
        for it; the latest graph when none comes (perception's clock differs, or no camera)."""
        after_ns = self.get_clock().now().nanoseconds  # graphs are stamped with their latest frame's time
        deadline_ns = after_ns + int(self._view_wait_s * 1e9)  # on the node's clock: sim time in simulation
        wall_deadline = time.monotonic() + WALL_WAIT_FACTOR * self._view_wait_s  # a stopped clock ends it too
        with self._scene_changed:
            while self._scene_msg is None or time_to_ns(self._scene_msg.header.stamp) < after_ns:
                left = min((deadline_ns - self.get_clock().now().nanoseconds) / 1e9, wall_deadline - time.monotonic())
                if cancel.is_set() or self._stopping.is_set():
                    break
                if left <= 0:
                    self.get_logger().warning(f"no scene graph newer than the look within {self._view_wait_s} s")
                    break
                self._scene_changed.wait(min(left, 0.1))  # woken by each graph; the slice notices a cancel
            msg = self._scene_msg
        return self._graph_of(msg)

    def _graph_of(self, msg: SceneGraphMsg | None) -> SceneGraph | None:
        if msg is None:
            return None
        try:
            return scene_graph_from_msg(msg)
        except ValueError as error:
            self.get_logger().warning(f"unusable scene graph: {error}")
            return None

    def _fetch_catalog(self) -> Mapping[str, SkillSpec]:
        """The skills the skill servers offer now; the last good answer when the service is slow."""
        if self._catalog_client.wait_for_service(timeout_sec=self._service_timeout_s):
            future = self._catalog_client.call_async(ListSkills.Request())
            response = future.result() if _wait(future, None, self._service_timeout_s) else None
            if response is not None:
                self._catalog = {d.name: skill_spec_from_msg(d) for d in response.skills}
        if not self._catalog:
            self.get_logger().warning("no skill catalog: is the skill server running?")
        return dict(self._catalog)

    def _run_skill(self, step: PlanStep, cancel: threading.Event) -> SkillOutcome:
        if not self._skills.wait_for_server(timeout_sec=self._service_timeout_s):
            return SkillOutcome(int(SkillErrorCode.UNKNOWN_SKILL), "no skill server answers")
        goal = ExecuteSkill.Goal(skill=step.skill, arguments=arguments_to_msg(step.arguments))
        goal.timeout.sec = int(self._skill_timeout_s)
        sent = self._skills.send_goal_async(goal)
        handle = sent.result() if _wait(sent, None, self._service_timeout_s) else None
        if handle is None:
            return SkillOutcome(int(SkillErrorCode.UNKNOWN), f"the skill server did not take the {step.skill} goal")
        if not handle.accepted:
            return SkillOutcome(int(SkillErrorCode.UNKNOWN), f"the skill server rejected {step.skill}")
        result_future = handle.get_result_async()
        _wait(result_future, cancel, None)
        if not result_future.done():
            handle.cancel_goal_async()
            _wait(result_future, None, self._service_timeout_s)
            if not result_future.done():
                return SkillOutcome(int(SkillErrorCode.CANCELLED), f"{step.skill} cancelled")
        response = result_future.result()
        if response is None:
            return SkillOutcome(int(SkillErrorCode.UNKNOWN), f"{step.skill} gave no result")
        result = response.result
        code = int(result.error_code)
        if response.status != GoalStatus.STATUS_SUCCEEDED and code == SkillErrorCode.NONE:
            code = int(SkillErrorCode.UNKNOWN)  # aborted without saying why (e.g. the server's callback raised)
        return SkillOutcome(code, result.error_msg or result.message or f"{step.skill} ended without success")

    def _report(self, progress: Progress) -> None:
        task = self._current or Task("")
        self._publish_status(progress, task)
        if task.goal_handle is not None:
            task.goal_handle.publish_feedback(
                ExecuteTask.Feedback(
                    state=int(progress.state),
                    plan=[plan_step_to_msg(s) for s in progress.plan],
                    current_step=progress.current_step,
                    message=progress.message,
                )
            )

    def _publish_status(self, progress: Progress, task: Task) -> None:
        msg = AgentStatus(
            state=int(progress.state),
            task_id=task.id if task.command else "",
            command=task.command[:2000],
            plan=[plan_step_to_msg(s) for s in progress.plan],
            current_step=progress.current_step,
            planner_backend=progress.backend,
            message=progress.message,
        )
        msg.header.stamp = self.get_clock().now().to_msg()
        self._status_pub.publish(msg)


def main(args: list[str] | None = None) -> None:
    sys.exit(run_node(AgentNode, args))


if __name__ == "__main__":
    main()
