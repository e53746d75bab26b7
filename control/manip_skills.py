"""PICK and PLACE: arm skills whose motions are planned on 3D value maps, on a RobotInterface.

The arm (control/arm) has a lift, a telescoping arm along base_link -y and a wrist yaw, so with
the wrist fixed the grasp centre moves in one vertical plane beside the robot. Each move is
planned VoxPoser's way in base_link, on a voxel grid over that plane's reach (a thin slab,
``grid_shape`` 8 x 100 x 100 by default): the spec's affordance is the move's goal, every other
scene-graph body is avoided, the planner (``planning.value_maps.PLANNERS``, the search planner by
default) descends the composed cost, and the waypoints go through inverse kinematics into a
time-parameterised joint trajectory that is monitored while it runs (tolerance, timeout).

PICK opens the gripper, moves to a pre-grasp point beside the object, slides in, closes, checks the
grasp from the finger separation, lifts, retracts, and asks the scene graph whether the object
moved with the hand. A missed grasp is retried from a fresh look at the object (it may have been
pushed) before NO_GRASP. PLACE moves the held object over a piece of furniture (or a receptacle
object), lowers it, opens, backs off and checks the graph that it rests there.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from control.arm import (
    ARM_JOINT_NAMES,
    DEFAULT_GEOMETRY,
    ArmGeometry,
    ArmJoints,
    GraspCheck,
    GraspOutcome,
    IkSolution,
    JointTrajectoryPlan,
    MonitorStatus,
    PlanPoint,
    TrajectoryError,
    TrajectoryMonitor,
    cartesian_path_to_joints,
    default_tolerance,
    forward,
    inverse,
    time_parameterise,
)
from control.motion_plan import motion_plan_of
from control.nav_skills import NavigationSettings, RobotSkill, furniture_of
from control.navigation.approach import Pose2D, arm_extension_over, reach_poses
from control.robot import BasePose, PoseNavigator, RobotInterface
from control.skills import Feedback, Skill, SkillContext, SkillErrorCode, SkillResult, SkillSpec
from perception.scene_graph import ObjectKind, ObjectState, SceneObject
from planning.value_maps import (
    DEFAULT_PLANNER,
    PLANNERS,
    ComposedMaps,
    ManipulationPath,
    SceneItem,
    SpecError,
    VoxelGrid,
    compose,
    items_from_scene_graph,
)
from sim.robot import JOINTS

FloatArray = npt.NDArray[np.float64]
GRIPPER = "joint_gripper"
GRIPPER_OPEN = JOINTS[GRIPPER].upper
GRIPPER_CLOSED = JOINTS[GRIPPER].lower


@dataclass(frozen=True)
class ManipulationSettings:
    planner: str = DEFAULT_PLANNER  # a name of planning.value_maps.PLANNERS
    grid_shape: tuple[int, int, int] = (8, 100, 100)  # voxels across, along and up the arm's plane
    slab_half_width: float = 0.015  # m: the grid's half-width across the arm's plane
    avoid_margin: float = 0.04  # m: obstacles' margin in the value maps
    pregrasp_back: float = 0.10  # m: the pre-grasp point lies this far from the grasp, towards the mast
    palm_clearance: float = 0.03  # m: the palm stops this far behind the grasp centre
    finger_half_height: float = 0.03  # m: grasp this high at least above an object's bottom
    approach_speed: float = 0.3  # speed scale of the straight slide onto the object and onto the surface
    lift_after_grasp: float = 0.08  # m
    lift_headroom: float = 0.01  # m: the lifted object stays this far under whatever is over it (a shelf's board)
    place_height: float = 0.02  # m: the held object's bottom is released this high over the surface
    place_inset: float = 0.1  # m: put things this far inside a surface's edges (as GOTO plans for)
    gripper_move_s: float = 1.0
    gripper_settle_s: float = 0.5
    grasp_attempts: int = 3
    arm_goal_time_tolerance_s: float = 2.0
    # Off the planned path by more than this (after 0.3 s of lag) the arm is held back: COLLISION_RISK.
    # The goal itself is checked tighter (control.arm.default_tolerance: 2 cm, 0.05 rad).
    path_tolerance_m: float = 0.05
    path_tolerance_rad: float = 0.15
    joint_states_timeout_s: float = 1.5  # joint states older than this stop the motion (they come late under load)
    tracker_tolerance: float = 0.08  # m: the graph's object this near the hand counts as moving with it
    perceived_size_slack: float = 0.03  # PICK tries objects up to this much wider than the open gripper
    narrower_side_m: float = 0.02  # PICK goes round to grasp across a side this much narrower than the one it faces
    scene_wait_s: float = 2.0  # for a graph newer than the end of the motion (tracker checks)
    stow_wrist_yaw: float = math.pi / 2  # the gripper points forward, over the base, when stowed
    travel_clearance: float = 0.03  # m: the gripper turns out from the stowed pose this clear of everything
    path_tolerance: float = 0.005  # m: the arm stops at the planned path's corners, within this of it


class ArmMotionError(Exception):
    """A motion could not be planned or did not run as planned; carries the skill's result."""

    def __init__(self, result: SkillResult) -> None:
        super().__init__(result.error_msg)
        self.result = result


def to_base(pose: BasePose | Pose2D, point: npt.ArrayLike) -> FloatArray:
    """A map point in base_link of a robot at ``pose``."""
    p = np.asarray(point, dtype=np.float64).reshape(3)
    yaw = pose.yaw or 0.0
    c, s = math.cos(yaw), math.sin(yaw)
    dx, dy = p[0] - pose.x, p[1] - pose.y
    return np.array([c * dx + s * dy, -s * dx + c * dy, p[2]])


def to_map(pose: BasePose | Pose2D, point: npt.ArrayLike) -> FloatArray:
    p = np.asarray(point, dtype=np.float64).reshape(3)
    yaw = pose.yaw or 0.0
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([pose.x + c * p[0] - s * p[1], pose.y + s * p[0] + c * p[1], p[2]])


def items_in_base(items: Sequence[SceneItem], pose: BasePose) -> list[SceneItem]:
    """Scene items seen from base_link (centres and yaws turned into the robot's frame; parts,
    in the item's own frame, come along)."""
    return [dataclasses.replace(item, center=to_base(pose, item.center), yaw=item.yaw - pose.yaw) for item in items]


class ArmSkill(RobotSkill):
    """A skill that moves the arm and the gripper (and the base, to get within reach)."""

    def __init__(
        self,
        spec: SkillSpec,
        robot: RobotInterface,
        settings: NavigationSettings | None = None,
        navigator: PoseNavigator | None = None,
        manipulation: ManipulationSettings | None = None,
        geometry: ArmGeometry = DEFAULT_GEOMETRY,
    ) -> None:
        super().__init__(spec, robot, settings, navigator)
        self.manipulation = manipulation or ManipulationSettings()
        if self.manipulation.planner not in PLANNERS:
            raise ValueError(f"unknown planner {self.manipulation.planner!r}; known: {', '.join(sorted(PLANNERS))}")
        self.geometry = geometry
        self.last_paths: list[ManipulationPath] = []  # the planned moves of the last run, for pictures and tests
        self.last_maps: list[ComposedMaps] = []  # the maps each of them was planned on

    @classmethod
    def arm_factory(
        cls,
        robot: RobotInterface,
        manipulation: ManipulationSettings | None = None,
        navigator: PoseNavigator | None = None,
        settings: NavigationSettings | None = None,
    ) -> Callable[[SkillSpec], Skill]:
        return lambda spec: cls(spec, robot, settings, navigator, manipulation)

    # --- reading the robot -------------------------------------------------------------------

    def _joints(self) -> dict[str, float]:
        joints = self.robot.joint_positions()
        if joints is None or any(name not in joints for name in (*ARM_JOINT_NAMES, GRIPPER)):
            raise ArmMotionError(
                SkillResult.failure(SkillErrorCode.PERCEPTION_STALE, "no joint states for the arm and gripper yet")
            )
        return joints

    def _arm(self) -> ArmJoints:
        return ArmJoints.from_dict(self._joints())

    def hand(self) -> FloatArray:
        """The grasp centre in base_link now."""
        return np.asarray(forward(self._arm(), (0.0, 0.0, 0.0), self.geometry).position, dtype=np.float64)

    def _pose(self, context: SkillContext) -> BasePose:
        pose = self._first_pose(context)
        if isinstance(pose, SkillResult):
            raise ArmMotionError(pose)
        return pose

    def _scene_items(self, pose: BasePose, ignore: Sequence[str] = ()) -> list[SceneItem]:
        graph = self.robot.scene()
        if graph is None:
            raise ArmMotionError(SkillResult.failure(SkillErrorCode.PERCEPTION_STALE, "no scene graph yet"))
        bodies = [o for o in graph if o.id not in ignore]
        return items_in_base(items_from_scene_graph(bodies), pose)

    # --- moving ------------------------------------------------------------------------------

    def _check_stop(self, context: SkillContext, doing: str) -> None:
        code = context.stop_code()
        if code is not None:
            self._hold_arm()
            reason = "cancelled" if code == SkillErrorCode.CANCELLED else "timed out"
            raise ArmMotionError(SkillResult.failure(code, f"{doing} stopped: {reason}"))

    def _hold_arm(self) -> None:
        joints = self.robot.joint_positions()
        if joints is None or any(name not in joints for name in ARM_JOINT_NAMES):
            return
        here = tuple(float(joints[name]) for name in ARM_JOINT_NAMES)
        hold = PlanPoint(0.1, here, (0.0,) * len(here))
        self.robot.send_trajectory("arm_controller", JointTrajectoryPlan(ARM_JOINT_NAMES, (hold,)))

    def run_plan(self, controller: str, plan: JointTrajectoryPlan, context: SkillContext, doing: str) -> None:
        """Send a trajectory and watch it until it ends; ArmMotionError when it does not go as planned."""
        self.robot.send_trajectory(controller, plan)
        settings = self.manipulation
        path_tolerances = {
            name: settings.path_tolerance_rad if JOINTS[name].kind == "hinge" else settings.path_tolerance_m
            for name in plan.joint_names
        }
        monitor = TrajectoryMonitor(
            plan,
            path_tolerances,
            settings.arm_goal_time_tolerance_s,
            goal_tolerances={name: default_tolerance(name) for name in plan.joint_names},
            feedback_timeout_s=settings.joint_states_timeout_s,
        )
        start = context.now()
        while True:
            self._check_stop(context, doing)
            state = monitor.check(context.now() - start, self.robot.joint_positions())
            if state.done:
                break
            context.wait(self.settings.control_period_s)
        if state.status == MonitorStatus.SUCCESSFUL:
            return
        self._hold_arm()
        if state.status in (MonitorStatus.PATH_TOLERANCE_VIOLATED, MonitorStatus.GOAL_TOLERANCE_VIOLATED):
            raise ArmMotionError(
                SkillResult.failure(
                    SkillErrorCode.COLLISION_RISK,
                    f"{doing}: the arm was held back, it may touch something ({state.message})",
                )
            )
        raise ArmMotionError(SkillResult.failure(SkillErrorCode.HARDWARE_ERROR, f"{doing}: {state.message}"))

    def move_through(
        self,
        points: npt.ArrayLike,
        wrist_yaw: float,
        context: SkillContext,
        doing: str,
        speed: float | Sequence[float] = 1.0,
    ) -> None:
        """Move the grasp centre through base_link points (K, 3) with the wrist fixed."""
        waypoints = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        joints = cartesian_path_to_joints(waypoints, (0.0, 0.0, 0.0), self.geometry, wrist_yaws=wrist_yaw)
        if not isinstance(joints, list):
            raise ArmMotionError(SkillResult.failure(SkillErrorCode.UNREACHABLE, f"{doing}: {joints.message}"))
        try:
            plan = time_parameterise([self._arm(), *joints], speed_scale=speed)
        except TrajectoryError as error:
            raise ArmMotionError(SkillResult.failure(SkillErrorCode.UNREACHABLE, f"{doing}: {error}")) from None
        self.run_plan("arm_controller", plan, context, doing)

    def stow(self, context: SkillContext, doing: str) -> None:
        """Retract the arm and turn the gripper forward, at the lift's height: what it holds stays
        inside the base's footprint while the robot drives. Both motions take the hand inwards,
        away from whatever it is beside."""
        arm = self._arm()
        stowed = ArmJoints(arm.lift, self.geometry.arm_range[0], self.manipulation.stow_wrist_yaw)
        if np.allclose(arm, stowed, atol=1e-3):
            return
        retracted = ArmJoints(arm.lift, self.geometry.arm_range[0], arm.wrist_yaw)
        self.run_plan("arm_controller", time_parameterise([arm, retracted, stowed]), context, doing)

    def reach_out(
        self,
        wrist_yaw: float,
        goal_z: float,
        items: Sequence[SceneItem],
        context: SkillContext,
        doing: str,
        held: SceneItem | None = None,
        held_below: float = 0.0,
    ) -> None:
        """Bring the hand from wherever it is onto the plane of ``wrist_yaw``, ready for a planned
        move: stow it, move the lift (inside the base's footprint) to a height at which the gripper
        and what it holds turn out clear of every body they sweep past, then turn the wrist. The
        height is the lowest clear one at or above ``goal_z`` (the move's goal), else the highest
        below it. So no move starts with the hand under a table's top or a shelf's board.

        ``held``: the held object (base_link), ``held_below`` how far its bottom hangs below the
        grasp centre."""
        settings, geometry = self.manipulation, self.geometry
        self.stow(context, doing)
        stowed = self._arm()
        half_width = GRIPPER_OPEN / 2
        above = below = settings.finger_half_height
        if held is not None:
            half_width = max(half_width, float(np.linalg.norm(held.half[:2])))
            below = max(below, held_below)
            above = max(above, float(held.size[2]) - held_below)
        yaws = np.linspace(stowed.wrist_yaw, wrist_yaw, 9)
        swept = np.array([forward(ArmJoints(0.0, stowed.arm, w), (0.0, 0.0, 0.0), geometry).position[:2] for w in yaws])
        wrist_axis = np.array([geometry.mast_xy[0], geometry.mast_xy[1] - geometry.retracted_reach - stowed.arm])
        pad = half_width + settings.travel_clearance
        corners = np.vstack([swept, wrist_axis])
        height = clear_height(
            [solid for item in items for solid in item.solids()],
            (corners.min(axis=0) - pad, corners.max(axis=0) + pad),
            geometry.height_range,
            goal_z,
            below + settings.travel_clearance,
            above + settings.travel_clearance,
        )
        if height is None:
            raise ArmMotionError(
                SkillResult.failure(
                    SkillErrorCode.COLLISION_RISK, f"{doing}: no height at which the gripper turns out clear"
                )
            )
        lift = height - geometry.grasp_height_offset
        raised = ArmJoints(lift, stowed.arm, stowed.wrist_yaw)
        out = ArmJoints(lift, stowed.arm, wrist_yaw)
        self.run_plan("arm_controller", time_parameterise([stowed, raised, out]), context, doing)

    def set_gripper(self, width: float, context: SkillContext) -> float:
        """Command the finger separation, wait for the fingers to stop, and return where they stopped."""
        settings = self.manipulation
        plan = time_parameterise(
            [{GRIPPER: self._joints()[GRIPPER]}, {GRIPPER: width}], joint_names=[GRIPPER], limit_margin=0.01
        )
        self.robot.send_trajectory("gripper_controller", plan)
        if not context.wait(max(plan.duration, settings.gripper_move_s) + settings.gripper_settle_s):
            self._check_stop(context, "moving the gripper")
        return self._joints()[GRIPPER]

    def plan_move(
        self,
        goal: FloatArray,
        wrist_yaw: float,
        items: Sequence[SceneItem],
        extra_spec: Mapping[str, Any] | None = None,
    ) -> ManipulationPath:
        """Plan the grasp centre from where it is to ``goal`` (base_link) on value maps over the
        arm's plane; the path's last waypoint is ``goal`` itself."""
        settings, geometry = self.manipulation, self.geometry
        start = self.hand()
        plane_x = float(forward(ArmJoints(0.5, 0.0, wrist_yaw), (0.0, 0.0, 0.0), geometry).position[0])
        mast_y = geometry.mast_xy[1]
        near = mast_y - geometry.retracted_reach - geometry.gripper_length * math.cos(wrist_yaw)
        lift_low, lift_high = geometry.lift_range
        grid = VoxelGrid(
            lower=(plane_x - settings.slab_half_width, near - geometry.arm_range[1] - 0.03, lift_low),
            upper=(plane_x + settings.slab_half_width, near + 0.03, lift_high),
            shape=settings.grid_shape,
        )
        inset = grid.voxel_size / 2  # a stowed hand starts from the nearest point of the plane
        start = np.array([plane_x, *np.clip(start[1:], (grid.lower_array + inset)[1:], (grid.upper_array - inset)[1:])])
        spec: dict[str, Any] = {
            "affordance": {"point": [float(v) for v in goal], "tolerance": 0.015},
            "avoid_all": True,
            "avoid_margin": settings.avoid_margin,
            **(extra_spec or {}),
        }
        try:
            maps = compose(spec, grid, list(items), observer_yaw=0.0)
        except SpecError as error:
            return ManipulationPath(
                success=False,
                reason=str(error),
                waypoints=np.zeros((0, 3)),
                speed_scale=np.zeros(0),
                gripper_open=np.zeros(0, dtype=bool),
                wrist_yaw=np.zeros(0),
                planner=settings.planner,
            )
        escape = escape_upwards(maps.grid, maps.impassable, start)
        path = PLANNERS[settings.planner](maps, escape if escape is not None else start)
        if path.success:
            lead = [start[None, :]] if escape is not None else []  # straight up out of the margin first
            waypoints = np.vstack([*lead, path.waypoints, goal[None, :]])
            waypoints[:, 0] = plane_x  # on the plane the fixed wrist sweeps, within the joints' ranges
            far = near - geometry.arm_range[1]
            waypoints[:, 1] = np.clip(waypoints[:, 1], far + 1e-4, near - geometry.arm_range[0] - 1e-4)
            waypoints[:, 2] = np.clip(waypoints[:, 2], lift_low + 1e-4, lift_high - 1e-4)
            lead_speeds = [path.speed_scale[:1]] if escape is not None else []
            speeds = np.concatenate([*lead_speeds, path.speed_scale, path.speed_scale[-1:]])
            path = dataclasses.replace(path, waypoints=waypoints, speed_scale=speeds)
        self.last_paths.append(path)
        self.last_maps.append(maps)
        return path

    def planned_move(
        self,
        goal: FloatArray,
        wrist_yaw: float,
        items: Sequence[SceneItem],
        context: SkillContext,
        doing: str,
        extra_spec: Mapping[str, Any] | None = None,
    ) -> None:
        context.publish_feedback(Feedback("planning", 0.0, -1.0, doing))
        path = self.plan_move(goal, wrist_yaw, items, extra_spec)
        self.show_plan(path, context, doing)
        if not path.success:
            code = SkillErrorCode.COLLISION_RISK if "obstacle" in path.reason else SkillErrorCode.UNREACHABLE
            raise ArmMotionError(SkillResult.failure(code, f"{doing}: no arm path ({path.reason})"))
        keep = simplify(path.waypoints, self.manipulation.path_tolerance)
        # The slowest speed the maps ask for along each kept segment.
        speeds = [float(path.speed_scale[a + 1 : b + 1].min()) for a, b in itertools.pairwise(keep)]
        context.publish_feedback(Feedback("moving_arm", 0.5, float(path.length), doing))
        self.move_through(path.waypoints[keep[1:]], wrist_yaw, context, doing, speeds)

    def show_plan(self, path: ManipulationPath, context: SkillContext, doing: str) -> None:
        """Hand a move planned by ``plan_move`` (its maps and path, in base_link) to the host to show."""
        if self.last_paths and self.last_paths[-1] is path and len(self.last_maps) == len(self.last_paths):
            plan = motion_plan_of(
                self.last_maps[-1],
                path,
                skill=self.spec.name,
                doing=doing,
                frame_id="base_link",
                stamp=context.now(),
            )
            context.publish_motion_plan(plan)

    def seen_since(self, context: SkillContext, object_id: str, after: float) -> SceneObject | None:
        """The object as the scene graph last saw it, once the graph has seen it after ``after``
        (robot clock); None if it did not within ``scene_wait_s``."""
        deadline = context.now() + self.manipulation.scene_wait_s
        while True:
            graph = self.robot.scene()
            node = graph.get(object_id) if graph is not None else None
            if node is not None and node.last_seen_ns / 1e9 >= after:
                return node
            if context.now() >= deadline or not context.wait(self.settings.control_period_s):
                return None

    def _reach(self, target: FloatArray) -> IkSolution | str:
        """The IK solution for a base_link point with the wrist straight out, or why there is none."""
        solution = inverse(target, (0.0, 0.0, 0.0), self.geometry, wrist_yaw=None, near_wrist_yaw=0.0)
        if isinstance(solution, IkSolution) and abs(solution.joints.wrist_yaw) <= math.radians(35):
            return solution
        if isinstance(solution, IkSolution):
            return f"the wrist would turn {math.degrees(solution.joints.wrist_yaw):.0f} degrees"
        return solution.message

    def _within_reach(
        self, context: SkillContext, node: SceneObject, point_for: Callable[[BasePose], FloatArray | str]
    ) -> tuple[BasePose, FloatArray, IkSolution]:
        """The base pose, the base_link point and its IK; drives to the node first when out of reach."""
        pose = self._pose(context)
        point = point_for(pose)
        reach = self._reach(point) if not isinstance(point, str) else point
        if isinstance(reach, str) and (self.robot.static_map() is not None or self.navigator is not None):
            context.publish_feedback(Feedback("approaching", 0.0, -1.0, f"{node.id} is out of reach: {reach}"))
            self.stow(context, "stowing the arm to drive")
            driven = self.drive_to_node(node, context, node.label or node.id)
            if not driven.success:
                raise ArmMotionError(driven)
            pose = self._pose(context)
            point = point_for(pose)
            reach = self._reach(point) if not isinstance(point, str) else point
        if isinstance(reach, str) or isinstance(point, str):
            raise ArmMotionError(
                SkillResult.failure(SkillErrorCode.UNREACHABLE, f"{node.id} is out of the arm's reach: {reach}")
            )
        return pose, point, reach

    def _object_node(self, object_id: str) -> SceneObject:
        node = self._target_node(object_id)
        if isinstance(node, SkillResult):
            raise ArmMotionError(node)
        return node

    def execute(self, arguments: Mapping[str, Any], context: SkillContext) -> SkillResult:
        self.last_paths = []
        self.last_maps = []
        try:
            return self.run(arguments, context)
        except ArmMotionError as failure:
            return failure.result

    @abstractmethod
    def run(self, arguments: Mapping[str, Any], context: SkillContext) -> SkillResult:
        """The skill's work; ``execute`` turns an ArmMotionError into its result."""


def clear_height(
    solids: Sequence[SceneItem],
    footprint: tuple[FloatArray, FloatArray],
    height_range: tuple[float, float],
    goal: float,
    below: float,
    above: float,
) -> float | None:
    """A height in ``height_range`` for something reaching ``below`` under it and ``above`` over
    it, clear of every solid box whose bounds overlap the xy ``footprint`` (lower and upper
    corner): the lowest clear one at or above ``goal``, else the highest below it; None if none."""
    (x0, y0), (x1, y1) = footprint
    blocked = []
    for solid in solids:
        low, high = solid.bounds()
        if low[0] < x1 and high[0] > x0 and low[1] < y1 and high[1] > y0:
            blocked.append((solid.bottom - above, solid.top + below))
    bottom, top = height_range
    candidates = {min(max(goal, bottom), top), *(z for interval in blocked for z in interval if bottom <= z <= top)}
    clear = sorted(z for z in candidates if not any(a < z < b for a, b in blocked))
    higher = [z for z in clear if z >= goal]
    if higher:
        return higher[0]
    return clear[-1] if clear else None


def escape_upwards(grid: VoxelGrid, blocked: npt.NDArray[np.bool_], start: FloatArray) -> FloatArray | None:
    """The first free point straight above a start that lies in an obstacle's core (the hand
    parked in the margin of a table it stands beside); None if the start is free or nothing
    above it is."""
    i, j, k = (int(v) for v in grid.clamp_index(grid.world_to_index(start)))
    if not blocked[i, j, k]:
        return None
    free = np.flatnonzero(~blocked[i, j, k:])
    if not len(free):
        return None
    above = grid.index_to_world(np.array([i, j, k + int(free[0])]))
    return np.array([start[0], start[1], float(above[2])])


def simplify(points: FloatArray, tolerance: float) -> list[int]:
    """Indices of the points that keep a polyline within ``tolerance`` of the original
    (Ramer-Douglas-Peucker); the first and last are always kept."""
    if len(points) <= 2:
        return list(range(len(points)))
    start, end = points[0], points[-1]
    chord = end - start
    length = float(np.linalg.norm(chord))
    offsets = points[1:-1] - start
    if length < 1e-12:
        distances = np.linalg.norm(offsets, axis=1)
    else:
        distances = np.linalg.norm(np.cross(offsets, chord / length), axis=1)
    worst = int(np.argmax(distances))
    if distances[worst] <= tolerance:
        return [0, len(points) - 1]
    split = worst + 1
    left = simplify(points[: split + 1], tolerance)
    right = simplify(points[split:], tolerance)
    return left[:-1] + [i + split for i in right]


def crosses(start_xy: npt.ArrayLike, end: npt.ArrayLike, solids: Sequence[SceneItem], step: float = 0.01) -> bool:
    """Whether the horizontal line from ``start_xy`` to ``end`` (x, y, z), at ``end``'s height,
    passes through any of the solid boxes (the arm reaching in would hit it)."""
    target = np.asarray(end, dtype=np.float64)
    start = np.array([*np.asarray(start_xy, dtype=np.float64)[:2], target[2]])
    count = max(int(np.linalg.norm(target - start) / step), 1) + 1
    points = np.linspace(start, target, count)
    for solid in solids:
        axis_x, axis_y = solid.axes_xy()
        offset = points - solid.center
        inside = (
            (np.abs(offset @ axis_x) <= solid.half[0])
            & (np.abs(offset @ axis_y) <= solid.half[1])
            & (np.abs(offset[:, 2]) <= solid.half[2])
        )
        if inside.any():
            return True
    return False


def headroom(item: SceneItem, items: Sequence[SceneItem]) -> float:
    """How far the item can rise before it meets a solid box over its footprint (inf if none)."""
    low, high = item.bounds()
    gaps = [
        solid.bottom - item.top
        for other in items
        if other.id != item.id
        for solid in other.solids()
        if solid.bottom >= item.top - 1e-3
        and np.all(solid.bounds()[0][:2] < high[:2])
        and np.all(solid.bounds()[1][:2] > low[:2])
    ]
    return max(min(gaps), 0.0) if gaps else math.inf


def width_across_fingers(item: SceneItem, wrist_yaw: float) -> float:
    """The object's width along the fingers' closing direction (base_link x turned by the wrist).
    One with a square footprint counts as round (a cylinder's box turns with it, its width does not)."""
    side_x, side_y = float(item.size[0]), float(item.size[1])
    if abs(side_x - side_y) <= 0.05 * max(side_x, side_y):
        return max(side_x, side_y)
    return 2.0 * item.support(np.array([math.cos(wrist_yaw), math.sin(wrist_yaw), 0.0]))


def holds_between_fingers(item: SceneItem, wrist_yaw: float, measured: float) -> bool:
    """Whether fingers ``measured`` apart hold the object: about as wide as it is across the fingers,
    or as its narrowest side (the graph's box of a held thing may turn in the hand; PICK grasps across
    the narrowest side), down to half of that (a mug held beside its handle). More than 5 mm wider is
    the open gripper, not a grasp."""
    for width in {width_across_fingers(item, wrist_yaw), float(min(item.size[:2]))}:
        grip = GraspCheck(object_width=width, above=0.005)
        if grip.evaluate(GRIPPER_CLOSED, measured).holding or width / 2 <= measured < grip.width_range[0]:
            return True
    return False


@dataclass(frozen=True)
class GraspChoice:
    """Which of an object's footprint sides the fingers close across from where the arm is."""

    across: float  # the width between the fingers from here
    narrowest: float  # the object's narrowest side
    go_round: bool  # worth driving to where the arm reaches along the object, fingers across its narrowest side

    def words(self) -> str:
        """The side in words ("across its 0.06 m side, its narrowest"), naming the narrowest if it is another."""
        if self.across <= self.narrowest + 0.005:
            return f"across its {self.across:.2f} m side, its narrowest"
        return f"across its {self.across:.2f} m side (its narrowest is {self.narrowest:.2f} m)"


def grasp_choice(item: SceneItem, wrist_yaw: float, narrower_side_m: float) -> GraspChoice:
    """The side the fingers close across at ``wrist_yaw`` (``item`` in base_link) and whether to go
    round for the narrowest one instead: where this one does not fit the open gripper, or the
    narrowest (which must fit) is at least ``narrower_side_m`` narrower."""
    across = width_across_fingers(item, wrist_yaw)
    narrowest = float(min(item.size[:2]))
    go_round = narrowest <= GRIPPER_OPEN and (across > GRIPPER_OPEN or across >= narrowest + narrower_side_m)
    return GraspChoice(across, narrowest, go_round)


class PickSkill(ArmSkill):
    """PICK(object): grasp an object within reach (driving closer first if needed) and lift it."""

    def check_goal(self, arguments: Mapping[str, Any]) -> str | SkillResult | None:
        object_id = str(arguments["object"])
        rejected = self._reject_unknown(object_id)
        if rejected is not None:
            return rejected
        graph = self.robot.scene()
        node = graph.get(object_id) if graph is not None else None
        if node is not None and node.kind != ObjectKind.OBJECT:
            return SkillResult.failure(SkillErrorCode.INVALID_ARGUMENTS, f"{object_id!r} is not an object to pick")
        return None

    def grasp_point(self, node: SceneObject, pose: BasePose) -> FloatArray:
        """Where the grasp centre closes on the object, in base_link: at its middle height (high
        enough that the fingers clear what it stands on), the palm just short of it."""
        settings = self.manipulation
        centre = to_base(pose, node.position)
        half_height = max(float(node.size[2]), 0.02) / 2
        bottom = centre[2] - half_height
        (item,) = items_in_base(items_from_scene_graph([node]), pose)
        depth = item.support(np.array([0.0, -1.0, 0.0]))  # its half-extent along the arm
        reach_depth = max(depth - settings.palm_clearance, 0.0)  # the palm must not push it
        return np.array([centre[0], centre[1] + reach_depth, max(centre[2], bottom + settings.finger_half_height)])

    def _aim(self, node: SceneObject, context: SkillContext) -> tuple[BasePose, FloatArray, float, SceneItem]:
        """The base pose, the grasp point (base_link), the wrist yaw and the object seen from the
        base; drives within reach first if it must."""
        pose, grasp, solution = self._within_reach(context, node, functools.partial(self.grasp_point, node))
        (item,) = items_in_base(items_from_scene_graph([node]), pose)
        return pose, grasp, solution.joints.wrist_yaw, item

    def _stand_along(self, node: SceneObject, context: SkillContext) -> bool:
        """Drive to one end of a long object, the arm along it, so that the fingers close across its
        narrow side; False where there is no map, no such spot, or the drive fails."""
        grid = self.robot.obstacle_map()
        if grid is None:
            return False
        (item,) = items_from_scene_graph([node])
        along = item.yaw + (0.0 if item.size[0] >= item.size[1] else math.pi / 2)
        xy = (float(node.position[0]), float(node.position[1]))
        radius = self.settings.robot_radius
        poses = [p for heading in (along, along + math.pi) for p in reach_poses(grid, xy, radius, arm_heading=heading)]
        graph = self.robot.scene()
        others = items_from_scene_graph([o for o in graph if o.id != node.id]) if graph is not None else []
        solids = [solid for other in others for solid in other.solids()]
        mast = (*self.geometry.mast_xy, 0.0)
        poses = [p for p in poses if not crosses(to_map(p, mast)[:2], node.position, solids)]
        if not poses:
            return False
        context.publish_feedback(Feedback("approaching", 0.0, -1.0, f"{node.id} lies across the arm: to its end"))
        self.stow(context, "stowing the arm to drive")
        return self.drive_to(poses, context, f"the end of {node.id}").success

    def run(self, arguments: Mapping[str, Any], context: SkillContext) -> SkillResult:
        settings = self.manipulation
        object_id = str(arguments["object"])
        reasons: list[str] = []
        for attempt in range(1, settings.grasp_attempts + 1):
            node = self._object_node(object_id)
            if node.state == ObjectState.MISSING:  # its last spot looked empty: look again before giving up
                looked_at = context.now()
                x, y, z = (float(v) for v in node.position)
                self.look_at_point((x, y, z), context)
                seen = self.seen_since(context, object_id, looked_at)
                if seen is None or seen.state == ObjectState.MISSING:
                    return SkillResult.failure(
                        SkillErrorCode.NOT_FOUND, f"{object_id} is no longer where it was last seen"
                    )
                node = seen
            # Too wide on every side: refused before anything moves. Sizes measured from depth may run a
            # little large: within that slack a grasp is tried, and the finger check says whether it held.
            (whole,) = items_from_scene_graph([node])
            narrowest = float(min(whole.size[:2]))
            if narrowest > GRIPPER_OPEN + settings.perceived_size_slack:
                length = float(max(whole.size[:2]))
                return SkillResult.failure(
                    SkillErrorCode.NO_GRASP,
                    f"{object_id} is too wide to grasp on every side: {length:.2f} x {narrowest:.2f} m, "
                    f"{narrowest:.2f} m at its narrowest; the gripper opens {GRIPPER_OPEN:.2f} m",
                )
            pose, grasp, wrist, item = self._aim(node, context)
            choice = grasp_choice(item, wrist, settings.narrower_side_m)
            if choice.go_round and self._stand_along(node, context):
                pose, grasp, wrist, item = self._aim(node, context)
                choice = grasp_choice(item, wrist, settings.narrower_side_m)
            across = choice.across
            # A long thing lying across the arm from every spot it can reach.
            if across > GRIPPER_OPEN + settings.perceived_size_slack:
                along = (
                    "; there is no spot from which the arm reaches along it" if choice.narrowest <= GRIPPER_OPEN else ""
                )
                return SkillResult.failure(
                    SkillErrorCode.NO_GRASP,
                    f"{object_id} is {across:.2f} m wide across the fingers from here ({choice.narrowest:.2f} m at "
                    f"its narrowest); the gripper opens {GRIPPER_OPEN:.2f} m{along}",
                )
            pregrasp = grasp + np.array([0.0, settings.pregrasp_back, 0.0])
            items = self._scene_items(pose)
            context.publish_feedback(
                Feedback("opening", 0.1, -1.0, f"attempt {attempt}: grasping {object_id} {choice.words()}")
            )
            self.set_gripper(GRIPPER_OPEN, context)
            self.reach_out(wrist, float(pregrasp[2]), items, context, f"reaching out for {object_id}")
            self.planned_move(pregrasp, wrist, items, context, f"moving to {object_id}")
            try:
                self.move_through([grasp], wrist, context, f"reaching {object_id}", settings.approach_speed)
            except ArmMotionError as failure:
                if failure.result.error_code != SkillErrorCode.COLLISION_RISK:
                    raise
                reasons.append(f"attempt {attempt}: {failure.result.error_msg}")
                self.move_through([pregrasp], wrist, context, "backing off")
                continue
            context.publish_feedback(Feedback("grasping", 0.6, -1.0, f"closing on {object_id} {choice.words()}"))
            measured = self.set_gripper(GRIPPER_CLOSED, context)
            check = GraspCheck(object_width=across)
            verdict = check.evaluate(GRIPPER_CLOSED, measured)
            if verdict.outcome == GraspOutcome.UNEXPECTED_WIDTH and measured > check.closed_width:
                verdict = GraspCheck().evaluate(GRIPPER_CLOSED, measured)  # something is held: size was off
            if not verdict.holding:
                reasons.append(f"attempt {attempt}: {verdict.reason}")
                self.set_gripper(GRIPPER_OPEN, context)
                self.move_through([pregrasp], wrist, context, "backing off")
                continue
            rise = min(settings.lift_after_grasp, headroom(item, items) - settings.lift_headroom)
            lifted = self._lift(object_id, grasp + np.array([0.0, 0.0, max(rise, 0.0)]), wrist, context, verdict.reason)
            lifted.outputs["attempts"] = str(attempt)
            if lifted.success:
                lifted.message = f"{lifted.message}, grasped {choice.words()}"
                lifted.outputs["grasped_across_m"] = f"{across:.3f}"
            return lifted
        return SkillResult.failure(
            SkillErrorCode.NO_GRASP,
            f"no grasp on {object_id} after {settings.grasp_attempts} attempts: " + "; ".join(reasons),
        )

    def _lift(self, object_id: str, lifted: FloatArray, wrist: float, context: SkillContext, held: str) -> SkillResult:
        settings = self.manipulation
        self.move_through([lifted], wrist, context, f"lifting {object_id}", settings.approach_speed)
        self.stow(context, f"stowing {object_id}")
        lifted_at = context.now()
        measured = self._joints()[GRIPPER]
        if measured <= GraspCheck().closed_width:
            return SkillResult.failure(SkillErrorCode.NO_GRASP, f"{object_id} slipped out while lifting")
        outputs = {"object": object_id, "gripper_width": f"{measured:.3f}"}
        seen = self.seen_since(context, object_id, lifted_at)
        if seen is None:
            outputs["tracker"] = "not seen since the lift"
        else:
            pose = self._pose(context)
            gap = float(np.linalg.norm(to_map(pose, self.hand()) - seen.position))
            if gap > settings.tracker_tolerance:
                return SkillResult.failure(
                    SkillErrorCode.NO_GRASP,
                    f"the gripper closed ({held}) but {object_id} stayed behind: seen {gap:.2f} m from the hand",
                )
            outputs["tracker"] = f"moved with the hand ({gap:.3f} m)"
        return SkillResult(message=f"holding {object_id}", outputs=outputs)


class PlaceSkill(ArmSkill):
    """PLACE(object, target): put the held object on a piece of furniture (or into a receptacle)."""

    def check_goal(self, arguments: Mapping[str, Any]) -> str | SkillResult | None:
        return self._reject_unknown(str(arguments["object"])) or self._reject_unknown(str(arguments["target"]))

    def place_point(
        self, target: SceneObject, pose: BasePose, held_below_hand: float, held_half: float = 0.0
    ) -> FloatArray | str:
        """Where the grasp centre lets go, in base_link, for the held object's bottom to sit
        ``place_height`` over the target's top: over the furniture on the arm's line, or over
        the middle of a receptacle object. Over furniture the point lies ``place_inset`` inside
        its edges, or, where the base stopped a little short of that, the held object's
        half-extent ``held_half`` and 1 cm."""
        settings = self.manipulation
        top = float(target.position[2] + target.size[2] / 2)
        z = top + settings.place_height + held_below_hand
        if target.kind == ObjectKind.FURNITURE:
            base, piece = Pose2D(pose.x, pose.y, pose.yaw), furniture_of(target)
            extension = arm_extension_over(base, piece, inset=settings.place_inset)
            if extension is None:
                extension = arm_extension_over(base, piece, inset=min(settings.place_inset, held_half + 0.01))
            if extension is None:
                return f"the arm's line misses {target.id}'s top"
            point = forward(ArmJoints(z, extension, 0.0), (0.0, 0.0, 0.0), self.geometry).position
            return np.array([point[0], point[1], z])
        centre = to_base(pose, target.position)
        return np.array([centre[0], centre[1], z])

    def run(self, arguments: Mapping[str, Any], context: SkillContext) -> SkillResult:
        settings = self.manipulation
        object_id, target_id = str(arguments["object"]), str(arguments["target"])
        held = self._object_node(object_id)
        target = self._object_node(target_id)
        pose = self._pose(context)
        (held_item,) = items_in_base(items_from_scene_graph([held]), pose)
        # Fingers on an object are no wider than it (5 mm of slack): the open-ish home width is not a grasp.
        measured = self._joints()[GRIPPER]
        if not holds_between_fingers(held_item, self._arm().wrist_yaw, measured):
            return SkillResult.failure(
                SkillErrorCode.PRECONDITION_FAILED,
                f"the gripper does not hold {object_id}: its fingers are {measured:.3f} m apart",
            )
        # PICK closes at the object's middle height, or finger_half_height over its bottom if higher.
        below = max(float(held.size[2]) / 2, settings.finger_half_height)
        half = float(held_item.half[:2].max())
        pose, release, solution = self._within_reach(
            context, target, lambda p: self.place_point(target, p, below, half)
        )
        wrist = solution.joints.wrist_yaw
        above = release + np.array([0.0, 0.0, 0.05])
        items = self._scene_items(pose, ignore=(object_id,))
        doing = f"carrying {object_id} over {target_id}"
        self.reach_out(wrist, float(above[2]), items, context, doing, held=held_item, held_below=below)
        self.planned_move(above, wrist, items, context, doing)
        self.move_through([release], wrist, context, f"lowering {object_id}", settings.approach_speed)
        context.publish_feedback(Feedback("releasing", 0.8, -1.0, f"opening over {target_id}"))
        self.set_gripper(GRIPPER_OPEN, context)
        released_at = context.now()
        hand = self.hand()
        up = hand + np.array([0.0, 0.0, 0.05])
        up[2] = min(up[2], self.geometry.lift_range[1] - 1e-3)
        self.move_through([up], wrist, context, "backing off")
        self.stow(context, "stowing the arm")
        outputs = {"object": object_id, "target": target_id}
        seen = self.seen_since(context, object_id, released_at)
        if seen is None:
            outputs["tracker"] = "not seen since the release"
            return SkillResult(message=f"put {object_id} on {target_id}", outputs=outputs)
        if not rests_on(seen, target):
            where = ", ".join(f"{v:.2f}" for v in seen.position)
            return SkillResult.failure(
                SkillErrorCode.UNKNOWN, f"{object_id} is not on {target_id} after the release: seen at ({where})"
            )
        outputs["tracker"] = f"resting on {target_id}"
        return SkillResult(message=f"put {object_id} on {target_id}", outputs=outputs)


def rests_on(thing: SceneObject, support: SceneObject, slack: float = 0.03) -> bool:
    """Whether ``thing``'s centre lies over ``support``'s footprint and its bottom between the
    support's bottom and just over its top (on a table, or inside a bowl)."""
    (item,) = items_from_scene_graph([support])
    axis_x, axis_y = item.axes_xy()
    offset = np.asarray(thing.position, dtype=np.float64) - item.center
    inside = abs(float(offset @ axis_x)) <= item.half[0] + slack and abs(float(offset @ axis_y)) <= item.half[1] + slack
    bottom = float(thing.position[2] - thing.size[2] / 2)
    return inside and item.bottom - slack <= bottom <= item.top + slack
