"""GOTO, LOOK_AT, SCAN and FIND: skills that move the base and the head, on a RobotInterface.

GOTO plans a path on the occupancy grid (A* with inflation) to a pose from which the arm reaches
the target (objects, furniture) or a free spot in a room, and follows it with pure pursuit at
``control_period_s`` on the robot's clock. It re-checks the path against obstacles seen lately,
replans around them, and fails BLOCKED when no detour remains. Cancel and timeout stop the base
within one control period. LOOK_AT and SCAN point the head and wait until the scene graph has
been refreshed from the new view; FIND searches the likely places for an object. With a
``PoseNavigator`` (Nav2 on a robot that runs it), GOTO and FIND still choose where to stand and
hand the driving to it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from control.navigation.approach import Pose2D, furniture_poses, reach_poses, room_pose
from control.navigation.astar import NoPathError, NoPathReason, PlannedPath, path_blocked, plan_path
from control.navigation.grid import OccupancyGrid
from control.navigation.pursuit import PurePursuit, PursuitParams, wrap_angle
from control.robot import BasePose, PoseNavigator, RobotInterface, head_angles_towards
from control.skills import Feedback, Skill, SkillContext, SkillErrorCode, SkillResult, SkillSpec
from perception.scene_graph import ObjectKind, ObjectState, SceneGraph, SceneObject
from sim.scenario import Furniture, Room

FURNITURE_TYPES = ("table", "counter", "shelf", "cabinet", "desk")
FIRST_POSE_POLL_S = 0.05
# A search ends on these; any other failure to reach one place moves on to the next.
STOPPING_CODES = (
    SkillErrorCode.CANCELLED,
    SkillErrorCode.TIMEOUT,
    SkillErrorCode.PERCEPTION_STALE,
    SkillErrorCode.PRECONDITION_FAILED,
)


@dataclass(frozen=True)
class NavigationSettings:
    robot_radius: float = 0.25  # m, the base's half-diagonal rounded up
    inflation_radius: float = 0.55  # m, paths keep this far from obstacles where they can
    control_period_s: float = 0.05  # robot-clock seconds between velocity commands
    block_check_period_s: float = 0.5  # how often the rest of the path is checked against new obstacles
    blocked_lookahead_m: float = 1.5  # an obstacle this far ahead on the path triggers a replan
    pose_stale_s: float = 1.0  # an older base pose stops the robot (PERCEPTION_STALE)
    max_replans: int = 3  # detours tried before BLOCKED
    goal_candidates: int = 8  # approach poses tried in turn when one cannot be reached
    head_tolerance_rad: float = 0.03
    head_timeout_s: float = 5.0
    settle_s: float = 0.3  # after the head stops, a frame this much later counts as the new view
    scene_wait_s: float = 4.0  # for a scene graph from the new view (else PERCEPTION_STALE)
    max_search_places: int = 6  # FIND visits at most this many places
    # Wall time a goal waits for its first fresh pose: nodes just started, the robot's clock may not run yet.
    first_pose_wait_s: float = 10.0


# --- scene-graph nodes as map geometry ---------------------------------------------------------------


def _yaw(node: SceneObject) -> float:
    x, y, z, w = (float(v) for v in node.orientation)
    return math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def furniture_of(node: SceneObject) -> Furniture:
    kind = node.attributes.get("type", "table")
    size = tuple(max(float(v), 0.05) for v in node.size)
    return Furniture(
        id=node.id,
        room="unknown",
        type=kind if kind in FURNITURE_TYPES else "table",  # type: ignore[arg-type]
        pose=(float(node.position[0]), float(node.position[1]), _yaw(node)),
        size=(size[0], size[1], size[2]),
    )


def room_of(node: SceneObject) -> Room:
    half_x, half_y = max(float(node.size[0]), 1.0) / 2, max(float(node.size[1]), 1.0) / 2
    x, y = float(node.position[0]), float(node.position[1])
    return Room(id=node.id, min=(x - half_x, y - half_y), max=(x + half_x, y + half_y))


def approach_poses(grid: OccupancyGrid, node: SceneObject, robot_radius: float) -> list[Pose2D]:
    """Where the robot should stand for ``node``: a free spot in a room, else within the arm's reach."""
    if node.kind == ObjectKind.ROOM:
        pose = room_pose(grid, room_of(node), robot_radius)
        return [pose] if pose is not None else []
    if node.kind in (ObjectKind.FURNITURE, ObjectKind.PLACE) and float(node.size[0]) > 0:
        return furniture_poses(grid, furniture_of(node), robot_radius)
    return reach_poses(grid, (float(node.position[0]), float(node.position[1])), robot_radius)


def label_matches(node: SceneObject, query: str) -> bool:
    """Whether ``node`` is what ``query`` names: its id, its label, or its colour and label."""
    if node.id == query:
        return True
    words = query.replace("_", " ").lower().split()
    label = node.label.lower().split()
    if not label or words[-len(label) :] != label:
        return False
    rest = words[: -len(label)]
    return all(word == node.attributes.get("color", "") for word in rest)


def load_search_priors(path: str | Path) -> dict[str, tuple[str, ...]]:
    """Label -> furniture types or labels searched first (config/search_priors.yaml)."""
    document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(document, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(i, str) for i in v) for k, v in document.items()
    ):
        raise ValueError(f"{path}: expected a mapping of labels to lists of furniture types or labels")
    return {k: tuple(v) for k, v in document.items()}


# --- the skills ----------------------------------------------------------------------------------


class RobotSkill(Skill):
    """A skill on a RobotInterface, with the shared drive and look behaviours."""

    def __init__(
        self,
        spec: SkillSpec,
        robot: RobotInterface,
        settings: NavigationSettings | None = None,
        navigator: PoseNavigator | None = None,
    ) -> None:
        super().__init__(spec)
        self.robot = robot
        self.settings = settings or NavigationSettings()
        self.navigator = navigator  # set: driving is delegated to it (Nav2), the rest stays here

    @classmethod
    def factory(
        cls, robot: RobotInterface, settings: NavigationSettings | None = None, navigator: PoseNavigator | None = None
    ) -> Callable[[SkillSpec], Skill]:
        return lambda spec: cls(spec, robot, settings, navigator)

    # --- shared behaviours -----------------------------------------------------------------------

    def _fresh_pose(self, context: SkillContext) -> BasePose | SkillResult:
        pose = self.robot.base_pose()
        if pose is None:
            return SkillResult.failure(SkillErrorCode.PERCEPTION_STALE, "no base pose yet (odometry or transforms)")
        age = context.now() - pose.stamp
        if age > self.settings.pose_stale_s:
            return SkillResult.failure(
                SkillErrorCode.PERCEPTION_STALE, f"the base pose is {age:.2f} s old (odometry or transforms stale)"
            )
        return pose

    def _first_pose(self, context: SkillContext) -> BasePose | SkillResult:
        """A fresh pose, waiting up to ``first_pose_wait_s`` of wall time for one (a node just started)."""
        for _ in range(max(1, round(self.settings.first_pose_wait_s / FIRST_POSE_POLL_S))):
            pose = self._fresh_pose(context)
            if not isinstance(pose, SkillResult) or context.cancel_requested.wait(FIRST_POSE_POLL_S):
                return pose
        return self._fresh_pose(context)

    def _stopped(self, context: SkillContext, doing: str) -> SkillResult | None:
        code = context.stop_code()
        if code is None:
            return None
        self.robot.stop()
        return SkillResult.failure(
            code, f"{doing} stopped: {'cancelled' if code == SkillErrorCode.CANCELLED else 'timed out'}"
        )

    def _plan(
        self, grid: OccupancyGrid, pose: BasePose, goals: Sequence[Pose2D]
    ) -> tuple[PlannedPath, Pose2D] | SkillResult:
        settings = self.settings
        errors: list[NoPathError] = []
        for goal in goals[: settings.goal_candidates]:
            try:
                path = plan_path(
                    grid, (pose.x, pose.y), (goal.x, goal.y), settings.robot_radius, settings.inflation_radius
                )
            except NoPathError as error:
                errors.append(error)
                continue
            return path, goal
        if not errors:
            return SkillResult.failure(SkillErrorCode.UNREACHABLE, "no free spot to stand at near the target")
        if errors[0].reason == NoPathReason.START_BLOCKED:
            return SkillResult.failure(SkillErrorCode.BLOCKED, str(errors[0]))
        static = self.robot.static_map()
        if static is not None and static is not grid and goals:
            try:  # the map alone has a way: obstacles seen lately block it
                plan_path(static, (pose.x, pose.y), (goals[0].x, goals[0].y), settings.robot_radius)
            except NoPathError:
                pass
            else:
                return SkillResult.failure(
                    SkillErrorCode.BLOCKED, f"obstacles that are not on the map block the way ({errors[-1]})"
                )
        return SkillResult.failure(SkillErrorCode.UNREACHABLE, str(errors[-1]))

    def drive_to(self, goals: Sequence[Pose2D], context: SkillContext, what: str) -> SkillResult:
        """Drive to the first reachable of ``goals`` (best first), replanning around new obstacles."""
        if self.navigator is not None:
            return self._delegate(goals, context, what)
        settings = self.settings
        grid = self._map()
        if isinstance(grid, SkillResult):
            return grid
        pose = self._first_pose(context)
        if isinstance(pose, SkillResult):
            return pose
        planned = self._plan(grid, pose, goals)
        if isinstance(planned, SkillResult):
            return planned
        path, goal = planned
        pursuit = PurePursuit(PursuitParams())
        pursuit.set_path(path.points, goal.yaw)
        total = max(path.length_m, 1e-6)
        last_time = context.now()
        last_check = last_time
        replans = 0
        while True:
            stopped = self._stopped(context, f"driving to {what}")
            if stopped is not None:
                return stopped
            pose = self._fresh_pose(context)
            if isinstance(pose, SkillResult):
                self.robot.stop()
                return pose
            now = context.now()
            if now - last_check >= settings.block_check_period_s:
                last_check = now
                grid = self.robot.obstacle_map() or grid
                ahead = path_blocked(grid, path.points, settings.robot_radius, (pose.x, pose.y))
                if ahead is not None and ahead <= settings.blocked_lookahead_m:
                    self.robot.stop()
                    if replans >= settings.max_replans:
                        return SkillResult.failure(
                            SkillErrorCode.BLOCKED, f"the way to {what} stayed blocked after {replans} detours"
                        )
                    replans += 1
                    replanned = self._plan(grid, pose, [goal])
                    if isinstance(replanned, SkillResult):
                        return SkillResult.failure(
                            SkillErrorCode.BLOCKED,
                            f"an obstacle blocks the way to {what} {ahead:.1f} m ahead and there is no detour "
                            f"({replanned.error_msg})",
                        )
                    path = replanned[0]
                    pursuit.reset()  # the base was just stopped: start the detour from rest
                    pursuit.set_path(path.points, goal.yaw)
                    context.publish_feedback(Feedback("replanning", 0.0, path.length_m, f"detour {replans}"))
                    last_time = now
                    context.wait(settings.control_period_s)
                    continue
            command = pursuit.step((pose.x, pose.y, pose.yaw), max(now - last_time, 1e-3))
            last_time = now
            if command.done:
                self.robot.stop()
                return SkillResult(
                    message=f"at {what}",
                    outputs={"x": f"{pose.x:.3f}", "y": f"{pose.y:.3f}", "yaw": f"{pose.yaw:.3f}"},
                )
            self.robot.drive(command.linear, command.angular)
            progress = min(max(1.0 - command.distance_remaining / total, 0.0), 1.0)
            context.publish_feedback(
                Feedback("driving", progress, command.distance_remaining, f"{command.distance_remaining:.2f} m to go")
            )
            context.wait(settings.control_period_s)

    def _delegate(self, goals: Sequence[Pose2D], context: SkillContext, what: str) -> SkillResult:
        """Hand the goals to the navigator in turn (best first) until one is reached; the next is tried
        only when the navigator found the last one unreachable."""
        assert self.navigator is not None
        pose = self.robot.base_pose()
        result = SkillResult.failure(SkillErrorCode.UNREACHABLE, f"no pose to stand at for {what}")
        for candidate in goals[: self.settings.goal_candidates]:
            goal = candidate
            if goal.yaw is None:  # any heading will do: the one that faces the way there
                yaw = math.atan2(goal.y - pose.y, goal.x - pose.x) if pose is not None else 0.0
                goal = Pose2D(goal.x, goal.y, yaw)
            result = self.navigator.navigate(goal, context, what)
            if result.success or result.error_code != SkillErrorCode.UNREACHABLE:
                break
        if not result.success and context.stop_code() is not None:
            self.robot.stop()
        return result

    def turn_to(self, yaw: float, context: SkillContext) -> SkillResult | None:
        """Turn in place to ``yaw``; a failure result, or None when done."""
        pursuit = PurePursuit(PursuitParams())
        last_time = context.now()
        while True:
            stopped = self._stopped(context, "turning")
            if stopped is not None:
                return stopped
            pose = self._fresh_pose(context)
            if isinstance(pose, SkillResult):
                self.robot.stop()
                return pose
            if abs(wrap_angle(yaw - pose.yaw)) <= pursuit.params.yaw_tolerance:
                self.robot.stop()
                return None
            pursuit.set_path([(pose.x, pose.y)], yaw)
            now = context.now()
            command = pursuit.step((pose.x, pose.y, pose.yaw), max(now - last_time, 1e-3))
            last_time = now
            self.robot.drive(0.0, command.angular)
            context.wait(self.settings.control_period_s)

    def look_at_point(self, target: tuple[float, float, float], context: SkillContext) -> SkillResult:
        """Point the head at a map point (turning the base if the pan cannot) and wait for a fresh graph."""
        settings = self.settings
        pose = self._first_pose(context)
        if isinstance(pose, SkillResult):
            return pose
        angles = head_angles_towards(pose, target)
        if angles is None:
            failed = self.turn_to(math.atan2(target[1] - pose.y, target[0] - pose.x), context)
            if failed is not None:
                return failed
            pose = self._fresh_pose(context)
            if isinstance(pose, SkillResult):
                return pose
            angles = head_angles_towards(pose, target)
            if angles is None:
                return SkillResult.failure(SkillErrorCode.UNREACHABLE, "the head cannot point there")
        pan, tilt = angles
        current = self.robot.head_angles()
        travel = abs(pan - current[0]) if current is not None else math.pi
        self.robot.point_head(pan, tilt, max(0.5, travel / 1.5))
        deadline = context.now() + settings.head_timeout_s
        while True:
            stopped = self._stopped(context, "looking")
            if stopped is not None:
                return stopped
            current = self.robot.head_angles()
            if (
                current is not None
                and max(abs(current[0] - pan), abs(current[1] - tilt)) <= settings.head_tolerance_rad
            ):
                break
            if context.now() >= deadline:
                return SkillResult.failure(SkillErrorCode.HARDWARE_ERROR, f"the head did not reach pan {pan:.2f}")
            context.wait(settings.control_period_s)
        return self._wait_for_view(context, context.now() + settings.settle_s)

    def _wait_for_view(self, context: SkillContext, after: float) -> SkillResult:
        deadline = after + self.settings.scene_wait_s
        while True:
            stopped = self._stopped(context, "looking")
            if stopped is not None:
                return stopped
            graph = self.robot.scene()
            if graph is not None and graph.stamp_ns / 1e9 >= after:
                seen = sorted(o.id for o in graph if o.kind == ObjectKind.OBJECT and o.last_seen_ns / 1e9 >= after)
                return SkillResult(message=f"seeing {len(seen)} objects", outputs={"seen": ",".join(seen)})
            if context.now() >= deadline:
                return SkillResult.failure(
                    SkillErrorCode.PERCEPTION_STALE, "no scene graph from the new view: is perception running?"
                )
            context.wait(self.settings.control_period_s)

    def _map(self) -> OccupancyGrid | SkillResult:
        grid = self.robot.obstacle_map()
        if grid is None:
            return SkillResult.failure(SkillErrorCode.PRECONDITION_FAILED, "no map to plan on (set map_file)")
        return grid

    def drive_to_node(self, node: SceneObject, context: SkillContext, what: str) -> SkillResult:
        """Drive to where the robot should stand for ``node`` (see ``approach_poses``)."""
        grid = self._map()
        if isinstance(grid, SkillResult):
            return grid
        return self.drive_to(approach_poses(grid, node, self.settings.robot_radius), context, what)

    def _target_node(self, target: str) -> SceneObject | SkillResult:
        """The node of a target accepted earlier, or UNKNOWN_TARGET if it has left the graph since."""
        graph = self.robot.scene()
        node = graph.get(target) if graph is not None else None
        if node is None:
            return SkillResult.failure(SkillErrorCode.UNKNOWN_TARGET, f"{target!r} left the scene graph")
        return node

    def _reject_unknown(self, target: str) -> SkillResult | None:
        graph = self.robot.scene()
        if graph is None:
            return SkillResult.failure(SkillErrorCode.PERCEPTION_STALE, "no scene graph yet")
        if target not in graph:
            known = ", ".join(sorted(o.id for o in graph if o.kind != ObjectKind.OBJECT)[:12])
            return SkillResult.failure(
                SkillErrorCode.UNKNOWN_TARGET, f"{target!r} is not in the scene graph (known places: {known})"
            )
        return None


def _look_target(node: SceneObject) -> tuple[float, float, float]:
    top = float(node.position[2]) + (float(node.size[2]) / 2 if node.kind == ObjectKind.FURNITURE else 0.0)
    if node.kind == ObjectKind.ROOM:
        top = 0.5
    return float(node.position[0]), float(node.position[1]), top


class GotoSkill(RobotSkill):
    """GOTO(target | pose): drive to where the arm reaches an object or furniture, into a room, or to a pose."""

    def check_goal(self, arguments: Mapping[str, Any]) -> str | SkillResult | None:
        target, pose = str(arguments.get("target", "")), arguments.get("pose")
        if bool(target) == (pose is not None):
            return "GOTO needs exactly one of target (a scene-graph id) and pose ('x y yaw')"
        return self._reject_unknown(target) if target else None

    def execute(self, arguments: Mapping[str, Any], context: SkillContext) -> SkillResult:
        if arguments.get("pose") is not None:
            x, y, yaw = arguments["pose"]
            return self.drive_to([Pose2D(x, y, yaw)], context, f"({x:.2f}, {y:.2f})")
        node = self._target_node(str(arguments["target"]))
        if isinstance(node, SkillResult):
            return node
        return self.drive_to_node(node, context, node.label or node.id)


class LookAtSkill(RobotSkill):
    """LOOK_AT(target): point the head at a thing and wait for the scene graph to see it anew."""

    def check_goal(self, arguments: Mapping[str, Any]) -> str | SkillResult | None:
        return self._reject_unknown(str(arguments["target"]))

    def execute(self, arguments: Mapping[str, Any], context: SkillContext) -> SkillResult:
        node = self._target_node(str(arguments["target"]))
        if isinstance(node, SkillResult):
            return node
        return self.look_at_point(_look_target(node), context)


class ScanSkill(RobotSkill):
    """SCAN(target): look over a piece of furniture end to end, or around a room, refreshing the graph."""

    ROOM_PANS = (1.5, 0.6, -0.3, -1.2, -2.1, -3.0, -3.9)  # the head's range in steps of about its field of view

    def check_goal(self, arguments: Mapping[str, Any]) -> str | SkillResult | None:
        return self._reject_unknown(str(arguments["target"]))

    def execute(self, arguments: Mapping[str, Any], context: SkillContext) -> SkillResult:
        node = self._target_node(str(arguments["target"]))
        if isinstance(node, SkillResult):
            return node
        points = self._points(node, context)
        if isinstance(points, SkillResult):
            return points
        seen: set[str] = set()
        for index, point in enumerate(points):
            context.publish_feedback(
                Feedback("scanning", index / len(points), message=f"view {index + 1}/{len(points)}")
            )
            result = self.look_at_point(point, context)
            if not result.success:
                return result
            seen.update(filter(None, result.outputs.get("seen", "").split(",")))
        return SkillResult(
            message=f"scanned {node.label or node.id}: {len(seen)} objects", outputs={"seen": ",".join(sorted(seen))}
        )

    def _points(self, node: SceneObject, context: SkillContext) -> list[tuple[float, float, float]] | SkillResult:
        x, y, z = _look_target(node)
        if node.kind != ObjectKind.ROOM:
            half = max(float(node.size[0]), float(node.size[1])) / 2 * 0.8
            yaw = _yaw(node) if node.size[0] >= node.size[1] else _yaw(node) + math.pi / 2
            return [(x + s * half * math.cos(yaw), y + s * half * math.sin(yaw), z) for s in (-1.0, 0.0, 1.0)]
        pose = self._fresh_pose(context)
        if isinstance(pose, SkillResult):
            return pose
        distance = 2.0
        return [
            (pose.x + distance * math.cos(pose.yaw + pan), pose.y + distance * math.sin(pose.yaw + pan), 0.5)
            for pan in self.ROOM_PANS
        ]


class FindSkill(RobotSkill):
    """FIND(object): go to the object if the graph holds it, else search the likely places for it."""

    def __init__(
        self,
        spec: SkillSpec,
        robot: RobotInterface,
        settings: NavigationSettings | None = None,
        priors: Mapping[str, Sequence[str]] | None = None,
        navigator: PoseNavigator | None = None,
    ) -> None:
        super().__init__(spec, robot, settings, navigator)
        self.priors = dict(priors or {})

    @classmethod
    def with_priors(
        cls,
        robot: RobotInterface,
        priors: Mapping[str, Sequence[str]],
        settings: NavigationSettings | None = None,
        navigator: PoseNavigator | None = None,
    ) -> Callable[[SkillSpec], Skill]:
        return lambda spec: cls(spec, robot, settings, priors, navigator)

    def check_goal(self, arguments: Mapping[str, Any]) -> str | SkillResult | None:
        return None if str(arguments["object"]).strip() else "FIND needs the object's id or label"

    def execute(self, arguments: Mapping[str, Any], context: SkillContext) -> SkillResult:
        query = str(arguments["object"]).strip()
        graph = self.robot.scene()
        if graph is None:
            return SkillResult.failure(SkillErrorCode.PERCEPTION_STALE, "no scene graph yet")
        known = graph.objects.get(query)
        if known is not None and known.kind == ObjectKind.OBJECT:
            # An id (of an object someone moved): search by what it looks like; the tracker keeps its id.
            query = f"{known.attributes.get('color', '')} {known.label}".strip()
        found = self._present(graph, query, since_ns=None)
        if found is not None:
            return self._go_to_found(found, context, searched=[])
        started_ns = round(context.now() * 1e9)
        searched: list[str] = []
        unreachable: list[str] = []
        for place in self.search_places(graph, query)[: self.settings.max_search_places]:
            context.publish_feedback(
                Feedback("searching", len(searched) / self.settings.max_search_places, message=f"looking on {place.id}")
            )
            driven = self.drive_to_node(place, context, place.id)
            if driven.error_code in STOPPING_CODES:
                return driven
            if not driven.success:
                unreachable.append(place.id)
                continue
            looked = self.look_at_point(_look_target(place), context)
            if looked.error_code in (SkillErrorCode.CANCELLED, SkillErrorCode.TIMEOUT):
                return looked
            searched.append(place.id)
            graph = self.robot.scene() or graph
            found = self._present(graph, query, since_ns=started_ns)
            if found is not None:
                return self._go_to_found(found, context, searched)
        where = ", ".join(searched) or "nowhere"
        missed = f" (could not reach {', '.join(unreachable)})" if unreachable else ""
        return SkillResult.failure(SkillErrorCode.NOT_FOUND, f"no {query} found; searched {where}{missed}")

    @staticmethod
    def _present(graph: SceneGraph, query: str, since_ns: int | None) -> SceneObject | None:
        candidates = [
            o
            for o in graph
            if o.kind == ObjectKind.OBJECT
            and o.state != ObjectState.MISSING
            and label_matches(o, query)
            and (since_ns is None or o.last_seen_ns >= since_ns)
        ]
        return max(candidates, key=lambda o: (o.last_seen_ns, o.confidence), default=None)

    def search_places(self, graph: SceneGraph, query: str) -> list[SceneObject]:
        """Furniture in search order: where it was last seen, where such things usually are, the rest; nearest first."""
        pose = self.robot.base_pose()
        furniture = [o for o in graph if o.kind == ObjectKind.FURNITURE]
        last_on = {
            r.object_id
            for o in graph
            if o.kind == ObjectKind.OBJECT and label_matches(o, query)
            for r in graph.relations_of(o.id)
            if r.predicate.value == "on"
        }
        words = query.replace("_", " ").lower().split()
        usual = {place for label, places in self.priors.items() if words[-len(label.split()) :] == label.split()
                 for place in places}  # fmt: skip

        def rank(node: SceneObject) -> tuple[int, float]:
            group = (
                0 if node.id in last_on else 1 if (node.attributes.get("type") in usual or node.label in usual) else 2
            )
            distance = math.hypot(node.position[0] - pose.x, node.position[1] - pose.y) if pose else 0.0
            return group, distance

        return sorted(furniture, key=rank)

    def _go_to_found(self, found: SceneObject, context: SkillContext, searched: Iterable[str]) -> SkillResult:
        driven = self.drive_to_node(found, context, found.id)
        if not driven.success:
            return driven
        searched = list(searched)
        place = f" after searching {', '.join(searched)}" if searched else ""
        return SkillResult(message=f"found {found.id}{place}", outputs={"object": found.id, **driven.outputs})
