"""Skill server: hosts skills of the catalog behind /robot_agent/execute_skill.

SAY and WAIT always; LOOK_AT and SCAN (head and scene graph); PICK, PLACE and MANIPULATE (arm and
gripper controllers, motions planned on value maps; MANIPULATE's value-map specs from ``value_map_model``,
a model client, else from the instruction's phrases); GOTO and FIND when a map is given
(``map_file``: a built-in world or a scenario/map file), driving the base through /cmd_vel, or,
with ``navigation:=nav2``, through Nav2's NavigateToPose action (GOTO to a pose then needs no map).

Goals that cannot run (unknown skill, bad arguments, unknown target) end at once as ABORTED with
the error code and the reason, before anything moves: a REJECTED goal carries no reason in ROS 2,
and the planner needs one to replan. Goals run concurrently on a reentrant callback group, except
that one motion skill at a time drives the base: a new motion goal cancels the running one.

Every arm motion planned on value maps is shown on /robot_agent/value_map/markers (path, target,
obstacle voxels) and /robot_agent/value_map/cloud (the cost); with ``report_dir`` each one is also
saved there as a PNG of map slices.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Any

from rcl_interfaces.msg import ParameterDescriptor
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.action.server import ServerGoalHandle
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile
from robot_agent_interfaces.action import ExecuteSkill
from robot_agent_interfaces.srv import ListSkills
from sensor_msgs.msg import PointCloud2
from std_msgs.msg import String
from visualization_msgs.msg import MarkerArray

from control.basic_skills import SKILL_CLASSES
from control.manip_skills import ManipulationSettings, PickSkill, PlaceSkill
from control.manipulate_skill import ManipulateSkill
from control.motion_plan import MotionPlan, save_motion_plan_png
from control.nav_skills import FindSkill, GotoSkill, LookAtSkill, ScanSkill, load_search_priors
from control.navigation.grid import OccupancyGrid
from control.navigation.obstacles import LiveObstacles
from control.skills import (
    Feedback,
    PreparedSkill,
    SkillContext,
    SkillErrorCode,
    SkillFactory,
    SkillHost,
    SkillResult,
    load_catalog,
)
from perception.scene_graph import SceneGraph
from perception.semantic_map import SemanticMap
from planning.value_maps import DEFAULT_PLANNER, PLANNERS
from robot_agent import names
from robot_agent.conversions import (
    arguments_from_msg,
    arguments_to_msg,
    duration_to_seconds,
    motion_plan_to_cloud,
    motion_plan_to_markers,
    skill_spec_to_msg,
)
from robot_agent.node_main import run_node
from robot_agent.paths import config_file
from robot_agent.ros_robot import RosRobot
from sim.scenario import ScenarioError, load_scenario

MOTION_SKILLS = ("GOTO", "FIND", "LOOK_AT", "SCAN", "PICK", "PLACE", "MANIPULATE")  # they move the base, head or arm
NAVIGATION_MODES = ("internal", "nav2")


class _GoalContext(SkillContext):
    """SkillContext of one goal: the node's clock, the goal's feedback, the response topic."""

    def __init__(self, node: SkillServerNode, goal_handle: ServerGoalHandle, cancel: threading.Event) -> None:
        super().__init__(cancel)
        self._node = node
        self._goal_handle = goal_handle

    def now(self) -> float:
        return float(self._node.get_clock().now().nanoseconds) / 1e9

    def publish_feedback(self, feedback: Feedback) -> None:
        self._goal_handle.publish_feedback(
            ExecuteSkill.Feedback(
                phase=feedback.phase,
                progress=float(feedback.progress),
                distance_remaining=float(feedback.distance_remaining),
                message=feedback.message,
            )
        )

    def say(self, text: str) -> None:
        self._node.say(text)

    def publish_motion_plan(self, plan: MotionPlan) -> None:
        self._node.publish_motion_plan(plan)


class SkillServerNode(Node):
    def __init__(self, **kwargs: object) -> None:
        super().__init__("skill_server", **kwargs)  # type: ignore[arg-type]
        catalog_path: str = self.declare_parameter(
            "catalog_file",
            "",
            ParameterDescriptor(description="Skill catalog YAML; empty: the bundled config/skills.yaml"),
        ).value
        catalog = load_catalog(catalog_path or config_file("skills.yaml"))
        map_file: str = self._declare(
            "map_file", "", "Map for GOTO and FIND: a built-in world or a scenario/map YAML file; empty: no map"
        )
        live_obstacles: bool = self._declare(
            "live_obstacles", True, "Add obstacles seen by the depth camera to the map"
        )
        priors_file: str = self._declare(
            "search_priors_file", "", "FIND's label -> usual places YAML; empty: config/search_priors.yaml"
        )
        navigation: str = self._declare(
            "navigation",
            "internal",
            "Who drives GOTO and FIND: internal (A* and pure pursuit on /cmd_vel) or nav2 (NavigateToPose)",
        )
        if navigation not in NAVIGATION_MODES:
            raise ValueError(f"navigation: {navigation!r} is not one of {', '.join(NAVIGATION_MODES)}")
        nav2_action: str = self._declare("nav2_action", "navigate_to_pose", "Nav2's NavigateToPose action name")
        nav2_behavior_tree: str = self._declare(
            "nav2_behavior_tree", "", "Behavior tree XML for Nav2's goals; empty: Nav2's default"
        )
        static_map, map_graph = None, None
        if map_file:
            try:
                scenario = load_scenario(map_file)
            except ScenarioError as error:
                raise ValueError(f"map_file: {error}") from None
            static_map = OccupancyGrid.from_scenario(scenario)
            map_graph = SceneGraph(frame_id="map")
            semantic_map = SemanticMap(tuple(scenario.rooms), tuple(scenario.furniture))
            map_graph.objects = {n.id: n for n in semantic_map.nodes("map", scenario.walls.height)}
        obstacles = LiveObstacles() if live_obstacles and static_map is not None else None
        self.robot = RosRobot(self, static_map, obstacles, map_graph)
        navigator = None
        if navigation == "nav2":
            try:
                from robot_agent.nav2_navigator import Nav2Navigator
            except ImportError as error:
                raise ValueError(f"navigation: nav2 needs nav2_msgs, which does not import ({error})") from None
            navigator = Nav2Navigator(self, nav2_action, nav2_behavior_tree, on_stop=self.robot.stop)
        planner: str = self._declare(
            "arm_planner", DEFAULT_PLANNER, f"Value-map planner for arm motions: {', '.join(sorted(PLANNERS))}"
        )
        if planner not in PLANNERS:
            raise ValueError(f"arm_planner: {planner!r} is not one of {', '.join(sorted(PLANNERS))}")
        manipulation = ManipulationSettings(planner=planner)
        model_json: str = self._declare(
            "value_map_model",
            "",
            "Model client config as JSON (docs/models.md) that writes MANIPULATE's value-map specs; empty: the "
            "instruction's phrases are read offline",
        )
        model = None
        if model_json:
            from planning.models import make_client

            try:
                model = make_client(json.loads(model_json))
            except (json.JSONDecodeError, TypeError, ValueError) as error:
                raise ValueError(f"value_map_model: {error}") from None
        self._report_dir: str = self._declare(
            "report_dir", "", "Folder to save a PNG of the value maps of every planned arm motion; empty: none"
        )
        self._plans_shown = 0
        priors = load_search_priors(priors_file or config_file("search_priors.yaml"))
        implementations: dict[str, SkillFactory] = dict(SKILL_CLASSES)
        implementations.update(
            LOOK_AT=LookAtSkill.factory(self.robot),
            SCAN=ScanSkill.factory(self.robot),
            PICK=PickSkill.arm_factory(self.robot, manipulation, navigator),
            PLACE=PlaceSkill.arm_factory(self.robot, manipulation, navigator),
            MANIPULATE=ManipulateSkill.manipulate_factory(self.robot, manipulation, navigator, model=model),
        )
        if static_map is not None or navigator is not None:
            implementations.update(
                GOTO=GotoSkill.factory(self.robot, navigator=navigator),
                FIND=FindSkill.with_priors(self.robot, priors, navigator=navigator),
            )
        self._host = SkillHost(catalog, implementations)
        self._motion_lock = threading.Lock()
        self._motion_cancel: threading.Event | None = None
        self._cancel_events: dict[bytes, threading.Event] = {}
        self._cancel_times: dict[bytes, float] = {}
        self._stopping = False
        self._lock = threading.Lock()

        group = ReentrantCallbackGroup()
        self._response_publisher = self.create_publisher(String, names.RESPONSE_TOPIC, 10)
        # Latched: a viewer that starts later still gets the last plans (a workspace and an arm move).
        latched = QoSProfile(depth=4, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self._marker_publisher = self.create_publisher(MarkerArray, names.VALUE_MAP_MARKERS_TOPIC, latched)
        self._cloud_publisher = self.create_publisher(PointCloud2, names.VALUE_MAP_CLOUD_TOPIC, latched)
        self._action_server = ActionServer(
            self,
            ExecuteSkill,
            names.EXECUTE_SKILL_ACTION,
            execute_callback=self._execute,
            goal_callback=lambda _goal: GoalResponse.ACCEPT,
            cancel_callback=self._on_cancel,
            callback_group=group,
        )
        self._list_service = self.create_service(
            ListSkills, names.LIST_SKILLS_SERVICE, self._on_list_skills, callback_group=group
        )
        self.get_logger().info(f"serving skills: {', '.join(s.name for s in self._host.specs())}")

    def _declare(self, name: str, default: object, description: str) -> Any:
        return self.declare_parameter(name, default, ParameterDescriptor(description=description, read_only=True)).value

    def say(self, text: str) -> None:
        self._response_publisher.publish(String(data=text))

    def publish_motion_plan(self, plan: MotionPlan) -> None:
        """Markers and the cost cloud of a planned motion; its PNG too when ``report_dir`` is set."""
        self._marker_publisher.publish(motion_plan_to_markers(plan))
        self._cloud_publisher.publish(motion_plan_to_cloud(plan))
        with self._lock:
            number, self._plans_shown = self._plans_shown, self._plans_shown + 1
        if self._report_dir:
            try:
                saved = save_motion_plan_png(plan, Path(self._report_dir), number)
            except OSError as error:  # a full disk must not stop the arm
                self.get_logger().warning(f"could not save the value maps of {plan.skill}: {error}")
            else:
                self.get_logger().info(f"value maps of {plan.skill} ({plan.doing}) saved to {saved}")

    def _on_list_skills(self, request: ListSkills.Request, response: ListSkills.Response) -> ListSkills.Response:
        specs = [s for s in self._host.specs() if not request.name or s.name == request.name]
        response.skills = [skill_spec_to_msg(s) for s in specs]
        response.success = bool(specs) or not request.name
        response.error_msg = "" if response.success else f"no skill named {request.name!r}"
        return response

    def begin_shutdown(self) -> None:
        """Cancel every running goal, so that its callback ends (run_node, before it stops the callbacks)."""
        with self._lock:
            self._stopping = True
            events = list(self._cancel_events.values())
        for event in events:
            event.set()

    def _on_cancel(self, goal_handle: ServerGoalHandle) -> CancelResponse:
        with self._lock:
            self._cancel_times[bytes(goal_handle.goal_id.uuid)] = self.get_clock().now().nanoseconds / 1e9
            event = self._cancel_events.get(bytes(goal_handle.goal_id.uuid))
        if event is not None:
            event.set()
        return CancelResponse.ACCEPT

    def _execute(self, goal_handle: ServerGoalHandle) -> ExecuteSkill.Result:
        goal: ExecuteSkill.Goal = goal_handle.request
        key = bytes(goal_handle.goal_id.uuid)
        try:
            prepared: PreparedSkill | SkillResult = self._host.prepare(goal.skill, arguments_from_msg(goal.arguments))
        except ValueError as error:
            prepared = SkillResult.failure(SkillErrorCode.INVALID_ARGUMENTS, str(error))
        if isinstance(prepared, SkillResult):
            self.get_logger().warning(f"{goal.skill}: {prepared.error_msg}")
            goal_handle.abort()
            return self._result_msg(prepared)

        cancel = threading.Event()
        with self._lock:
            self._cancel_events[key] = cancel
            if self._stopping:  # a goal that began as the node went down
                cancel.set()
        moves = goal.skill in MOTION_SKILLS
        if moves:
            with self._motion_lock:  # the base follows one goal: the newest
                if self._motion_cancel is not None:
                    self._motion_cancel.set()
                self._motion_cancel = cancel
        context = _GoalContext(self, goal_handle, cancel)
        timeout_s = duration_to_seconds(goal.timeout)
        if timeout_s > 0:
            context.deadline = context.now() + timeout_s
        try:
            result = prepared.skill.execute(prepared.arguments, context)
        except Exception as error:  # noqa: BLE001  # a crashing skill fails its goal, not the node
            self.get_logger().error(f"{goal.skill} raised {type(error).__name__}: {error}")
            result = SkillResult.failure(SkillErrorCode.UNKNOWN, f"{goal.skill} failed: {error}")
        finally:
            with self._lock:
                self._cancel_events.pop(key, None)
            if moves:
                with self._motion_lock:
                    if self._motion_cancel is cancel:
                        self._motion_cancel = None

        if result.success:
            goal_handle.succeed()
        elif result.error_code == SkillErrorCode.CANCELLED and goal_handle.is_cancel_requested:
            with self._lock:
                requested_at = self._cancel_times.pop(key, None)
            if requested_at is not None:  # when the server heard the cancel, on the robot's clock
                result.outputs["cancel_requested_at"] = f"{requested_at:.3f}"
            goal_handle.canceled()
        else:
            goal_handle.abort()
        return self._result_msg(result)

    @staticmethod
    def _result_msg(result: SkillResult) -> ExecuteSkill.Result:
        return ExecuteSkill.Result(
            success=result.success,
            error_code=int(result.error_code),
            error_msg=result.error_msg,
            message=result.message,
            outputs=arguments_to_msg(result.outputs),
        )


def main(args: list[str] | None = None) -> None:
    # Each running goal holds a thread for its whole run; sensors and the action server need more.
    sys.exit(run_node(SkillServerNode, args, threads=8))


if __name__ == "__main__":
    main()
