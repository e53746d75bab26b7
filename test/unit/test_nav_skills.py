"""GOTO, LOOK_AT, SCAN and FIND on the embedded simulator in lockstep (no ROS), and their helpers.

The skills run on ``SimulatedRobot`` with a ``LockstepContext`` whose waiting steps the physics,
so every run is deterministic and a drive across a world takes about a second of wall time. The
scene graph is the simulator's ground truth; objects standing on the floor are obstacles that
the map does not hold.
"""

from __future__ import annotations

import functools
import itertools
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from control.arm.trajectory import JointTrajectoryPlan
from control.nav_skills import (
    FindSkill,
    GotoSkill,
    LookAtSkill,
    NavigationSettings,
    RobotSkill,
    ScanSkill,
    furniture_of,
    label_matches,
    load_search_priors,
    room_of,
)
from control.navigation.approach import Pose2D, arm_extension_for, to_base_link
from control.navigation.grid import OccupancyGrid
from control.navigation.pursuit import PursuitParams, wrap_angle
from control.robot import BasePose, PoseNavigator, RobotInterface, head_angles_towards
from control.skills import SkillContext, SkillErrorCode, SkillHost, SkillResult, load_catalog
from perception.scene_graph import ObjectKind, Predicate, Relation, SceneGraph, SceneObject
from robot_agent.paths import config_file
from sim.robot import JOINTS, MAST_XY
from sim.robot_interface import LockstepContext, SimulatedRobot
from sim.scenario import Furniture, Scenario, builtin_worlds, load_scenario, parse_scenario
from sim.simulator import Simulator

CATALOG = load_catalog(config_file("skills.yaml"))
PRIORS = load_search_priors(config_file("search_priors.yaml"))
SETTINGS = NavigationSettings()
PURSUIT = PursuitParams()
ARM = JOINTS["joint_arm"]
ARM_SLACK = 0.03  # m: the final pose may be off the goal by the pursuit's tolerances
LINE_SLACK = 0.08  # m: how far off the arm's line a target may end (position and heading tolerances)
POSE_SLACK = 0.01  # on top of the pursuit's tolerances
STOPPED_SPEED = 0.02  # m/s
STOP_WITHIN_S = 0.2  # simulated seconds from a stop to a standing base
KITCHEN_START = (1.5, 2.5, 0.0)

# One piece of furniture per world, in another room than the robot's start and far from it.
FAR_FURNITURE = {"kitchen": "dining_table", "office": "meeting_table", "apartment": "nightstand"}


# --- worlds and runs ---------------------------------------------------------------------------------


@functools.cache
def builtin(name: str) -> Scenario:
    return load_scenario(name)


def crate(x: float, y: float, size: tuple[float, float] = (0.6, 0.6), object_id: str = "crate") -> dict[str, Any]:
    """A heavy crate standing on the floor: an obstacle the map does not hold."""
    return {
        "id": object_id,
        "label": "crate",
        "color": "brown",
        "size": [size[0], size[1], 0.6],
        "mass": 20.0,
        "place": {"position": [x, y, 0.3]},
    }


def world(
    name: str = "kitchen",
    robot_pose: tuple[float, float, float] | None = None,
    objects: Sequence[dict[str, Any]] = (),
    events: Sequence[dict[str, Any]] = (),
) -> Scenario:
    """A built-in world with the robot elsewhere, extra objects or extra scripted events."""
    if robot_pose is None and not objects and not events:
        return builtin(name)
    document = builtin(name).model_dump(mode="json")
    if robot_pose is not None:
        document["robot"]["pose"] = list(robot_pose)
    document["objects"] = [*document["objects"], *objects]
    document["events"] = [*document.get("events", []), *events]
    return parse_scenario(document, f"{name} (modified)")


class TracingRobot(SimulatedRobot):
    """A simulated robot that also keeps the base's map pose at every velocity command."""

    def __init__(self, sim: Simulator) -> None:
        super().__init__(sim)
        self.driven_poses: list[tuple[float, float, float]] = []

    def drive(self, linear: float, angular: float) -> None:
        x, y, yaw = self.sim.base_pose()
        self.driven_poses.append((x, y, yaw))
        super().drive(linear, angular)


@dataclass
class Run:
    scenario: Scenario
    sim: Simulator
    robot: TracingRobot
    context: LockstepContext
    start: tuple[float, float, float]
    result: SkillResult = field(default_factory=SkillResult)

    @property
    def pose(self) -> Pose2D:
        x, y, yaw = self.sim.base_pose()
        return Pose2D(x, y, yaw)


def setup(
    scenario: Scenario,
    robot_type: type[TracingRobot] = TracingRobot,
    context_type: type[LockstepContext] = LockstepContext,
) -> Run:
    sim = Simulator(scenario)
    return Run(scenario, sim, robot_type(sim), context_type(sim), sim.base_pose())


def skill(name: str, robot: RobotInterface, settings: NavigationSettings | None = None) -> RobotSkill:
    spec = CATALOG[name]
    if name == "FIND":
        return FindSkill(spec, robot, settings, PRIORS)
    kinds: dict[str, type[RobotSkill]] = {"GOTO": GotoSkill, "LOOK_AT": LookAtSkill, "SCAN": ScanSkill}
    return kinds[name](spec, robot, settings)


def execute(run: Run, name: str, arguments: Mapping[str, str], settings: NavigationSettings | None = None) -> Run:
    """Bind, check and execute one skill call on the run's robot; the result is kept in the run."""
    chosen = skill(name, run.robot, settings)
    bound = chosen.spec.bind(arguments)
    assert chosen.check_goal(bound) is None
    run.result = chosen.execute(bound, run.context)
    return run


# --- geometry of the outcome ---------------------------------------------------------------------------


def arm_span_over(pose: Pose2D, piece: Furniture) -> tuple[float, float] | None:
    """The arm extensions (not limited to the joint's range) at which the grasp centre enters and
    leaves the piece's footprint, or None if the arm's line misses the piece.

    The arm reaches along base_link's -y from the mast, so in base_link the footprint's corners
    are cut by the line x = MAST_XY[0]; ``arm_extension_for`` gives the extension of each cut.
    """
    (fx, fy, fyaw), (length, width) = piece.pose, piece.size[:2]
    c, s = math.cos(fyaw), math.sin(fyaw)
    corners = [
        (fx + c * a - s * b, fy + s * a + c * b)
        for a, b in (
            (-length / 2, -width / 2),
            (length / 2, -width / 2),
            (length / 2, width / 2),
            (-length / 2, width / 2),
        )
    ]
    extensions = []
    for start, end in itertools.pairwise([*corners, corners[0]]):
        a, b = (to_base_link(pose, corner)[0] - MAST_XY[0] for corner in (start, end))  # off the arm's line
        if a * b > 0 or a == b:
            continue
        t = a / (a - b)
        cut = (start[0] + t * (end[0] - start[0]), start[1] + t * (end[1] - start[1]))
        extensions.append(arm_extension_for(pose, cut))
    return (min(extensions), max(extensions)) if extensions else None


def assert_furniture_within_reach(pose: Pose2D, piece: Furniture) -> None:
    """The top's nearest edge along the arm lies in the arm's band, with room to reach over the top."""
    span = arm_span_over(pose, piece)
    assert span is not None, f"the arm's line from {pose} misses {piece.id}"
    nearest_edge, far_edge = span
    assert ARM.lower - ARM_SLACK <= nearest_edge <= ARM.upper - 0.05, (span, pose)
    assert far_edge >= ARM.lower + 0.05, (span, pose)


def assert_point_within_reach(pose: Pose2D, point: tuple[float, float]) -> None:
    """The point lies on the arm's line (within the pose tolerances) at an extension in range."""
    along, _ = to_base_link(pose, point)
    assert abs(along - MAST_XY[0]) <= LINE_SLACK, (pose, point)
    extension = arm_extension_for(pose, point)
    assert ARM.lower - ARM_SLACK <= extension <= ARM.upper + ARM_SLACK, (extension, pose, point)


def room_at(scenario: Scenario, x: float, y: float) -> str | None:
    return next((r.id for r in scenario.rooms if r.contains(x, y)), None)


def assert_stopped_for_good(run: Run) -> None:
    """The last command is a stop and the base stands still within STOP_WITHIN_S of simulated time."""
    assert run.robot.commands, "no command was sent"
    assert run.robot.commands[-1][1:] == (0.0, 0.0), run.robot.commands[-3:]
    stop_time = run.robot.commands[-1][0]
    assert run.sim.time - stop_time < SETTINGS.control_period_s + 1e-9  # the skill returned right after stopping
    while run.sim.time < stop_time + STOP_WITHIN_S - 1e-9:
        run.sim.advance(0.01)
    linear, _, angular = run.sim.base_velocity()
    assert abs(linear) < STOPPED_SPEED, run.sim.base_velocity()
    assert abs(angular) < 2 * STOPPED_SPEED, run.sim.base_velocity()


def limit_violations(commands: Sequence[tuple[float, float, float]], params: PursuitParams) -> list[str]:
    """Commands beyond the speed limits, and changes beyond the acceleration limits between successive
    commands (the base starts at rest one control period before the first; a stop, at the end or for an
    obstacle ahead, is exempt: braking hard is what it is for)."""
    found = []
    previous = (commands[0][0] - SETTINGS.control_period_s, 0.0, 0.0) if commands else (0.0, 0.0, 0.0)
    for index, (time, linear, angular) in enumerate(commands):
        if abs(linear) > params.max_linear + 1e-9 or abs(angular) > params.max_angular + 1e-9:
            found.append(f"#{index} at {time:.2f} s: speed ({linear:.3f}, {angular:.3f})")
        final_stop = (linear, angular) == (0.0, 0.0)
        dt = time - previous[0]
        if not final_stop and (
            abs(linear - previous[1]) > params.max_linear_accel * dt + 1e-9
            or abs(angular - previous[2]) > params.max_angular_accel * dt + 1e-9
        ):
            found.append(
                f"#{index} at {time:.2f} s: ({previous[1]:.3f}, {previous[2]:.3f}) -> ({linear:.3f}, {angular:.3f}) "
                f"in {dt:.3f} s"
            )
        previous = (time, linear, angular)
    return found


# --- GOTO between rooms in every world ------------------------------------------------------------


def test_every_builtin_world_has_a_far_target() -> None:
    assert sorted(FAR_FURNITURE) == builtin_worlds()


@pytest.fixture(scope="module", params=sorted(FAR_FURNITURE))
def far_goto(request: pytest.FixtureRequest) -> Run:
    """GOTO to a piece of furniture in another room than the start, once per world."""
    name = str(request.param)
    return execute(setup(world(name)), "GOTO", {"target": FAR_FURNITURE[name]})


def test_goto_reaches_furniture_in_another_room_within_the_arms_reach(far_goto: Run) -> None:
    result, scenario, pose = far_goto.result, far_goto.scenario, far_goto.pose
    assert result.success, result.error_msg
    piece = next(f for f in scenario.furniture if f.id == FAR_FURNITURE[scenario.name])
    assert room_at(scenario, *far_goto.start[:2]) != piece.room  # the drive crossed a door
    assert room_at(scenario, pose.x, pose.y) == piece.room
    assert_furniture_within_reach(pose, piece)
    reported = (float(result.outputs["x"]), float(result.outputs["y"]), float(result.outputs["yaw"]))
    assert math.hypot(reported[0] - pose.x, reported[1] - pose.y) < 0.01
    assert abs(wrap_angle(reported[2] - (pose.yaw or 0.0))) < 0.01


def test_goto_keeps_the_robot_radius_from_walls_and_furniture(far_goto: Run) -> None:
    grid = far_goto.robot.grid
    pose = far_goto.pose
    assert float(grid.clearance_at([(pose.x, pose.y)])[0]) >= SETTINGS.robot_radius
    driven = np.array([p[:2] for p in far_goto.robot.driven_poses])
    assert len(driven) > 100
    assert float(grid.clearance_at(driven).min()) >= SETTINGS.robot_radius


def test_goto_commands_respect_the_speed_and_acceleration_limits(far_goto: Run) -> None:
    commands = far_goto.robot.commands
    assert max(abs(c[1]) for c in commands) > 0.9 * PURSUIT.max_linear  # it did drive at speed
    assert limit_violations(commands, PURSUIT) == []
    assert commands[-1][1:] == (0.0, 0.0)


# --- GOTO an object, a room, a pose -------------------------------------------------------------------


def test_goto_an_object_ends_with_it_within_the_arms_reach() -> None:
    run = execute(setup(world()), "GOTO", {"target": "red_cup"})
    assert run.result.success, run.result.error_msg
    cup = run.sim.object_pose("red_cup")
    assert_point_within_reach(run.pose, (float(cup[0, 3]), float(cup[1, 3])))
    assert float(run.robot.grid.clearance_at([run.pose[:2]])[0]) >= SETTINGS.robot_radius


def test_goto_a_room_ends_inside_it() -> None:
    run = execute(setup(world()), "GOTO", {"target": "dining_room"})
    assert run.result.success, run.result.error_msg
    room = run.scenario.room("dining_room")
    assert room.contains(run.pose.x, run.pose.y, margin=SETTINGS.robot_radius), run.pose
    assert not room.contains(*run.start[:2])


def test_goto_a_pose_ends_on_it_within_the_pursuit_tolerances() -> None:
    run = execute(setup(world()), "GOTO", {"pose": "3.2 1.9 -2.0"})
    assert run.result.success, run.result.error_msg
    assert math.hypot(run.pose.x - 3.2, run.pose.y - 1.9) <= PURSUIT.position_tolerance + POSE_SLACK, run.pose
    assert abs(wrap_angle((run.pose.yaw or 0.0) + 2.0)) <= PURSUIT.yaw_tolerance + POSE_SLACK, run.pose
    assert limit_violations(run.robot.commands, PURSUIT) == []


# --- goal checks ---------------------------------------------------------------------------------------


def test_goto_an_unknown_target_is_rejected_naming_the_known_places() -> None:
    goto = skill("GOTO", SimulatedRobot(Simulator(world())))
    reason = goto.check_goal(goto.spec.bind({"target": "wine_cellar"}))
    assert isinstance(reason, SkillResult)
    assert reason.error_code == SkillErrorCode.UNKNOWN_TARGET
    assert "wine_cellar" in reason.error_msg
    for place in ("kitchen", "dining_room", "dining_table", "counter"):
        assert place in reason.error_msg
    assert "red_cup" not in reason.error_msg  # objects are not places


@pytest.mark.parametrize("arguments", [{}, {"target": "counter", "pose": "1 2 0"}, {"target": ""}])
def test_goto_needs_exactly_one_of_target_and_pose(arguments: dict[str, str]) -> None:
    robot = SimulatedRobot(Simulator(world()))
    goto = skill("GOTO", robot)
    reason = goto.check_goal(goto.spec.bind(arguments))
    assert isinstance(reason, str)
    assert "target" in reason and "pose" in reason
    host = SkillHost(CATALOG, {"GOTO": GotoSkill.factory(robot)})
    prepared = host.prepare("GOTO", arguments)
    assert isinstance(prepared, SkillResult)
    assert prepared.error_code == SkillErrorCode.INVALID_ARGUMENTS
    assert robot.commands == []


@pytest.mark.parametrize("name", ["LOOK_AT", "SCAN"])
def test_look_and_scan_reject_an_unknown_target(name: str) -> None:
    chosen = skill(name, SimulatedRobot(Simulator(world())))
    reason = chosen.check_goal(chosen.spec.bind({"target": "wine_cellar"}))
    assert isinstance(reason, SkillResult)
    assert reason.error_code == SkillErrorCode.UNKNOWN_TARGET


# --- stopping: cancel, timeout, a stale pose ------------------------------------------------------------


class CancelAfter(LockstepContext):
    """Requests a cancel once the simulated clock passes CANCEL_AT (as an action client would)."""

    CANCEL_AT = 3.0

    def __init__(self, sim: Simulator, cancel: threading.Event | None = None) -> None:
        super().__init__(sim, cancel)
        self.cancelled_at: float | None = None

    def wait(self, seconds: float) -> bool:
        going = super().wait(seconds)
        if self.cancelled_at is None and self.sim.time >= self.CANCEL_AT:
            self.cancelled_at = self.sim.time
            self.cancel_requested.set()
        return going


def test_cancel_stops_the_base_within_one_control_period() -> None:
    run = setup(world(), context_type=CancelAfter)
    execute(run, "GOTO", {"target": "dining_table"})
    assert run.result.error_code == SkillErrorCode.CANCELLED, run.result
    assert isinstance(run.context, CancelAfter) and run.context.cancelled_at is not None
    assert run.robot.commands[-1][0] - run.context.cancelled_at <= SETTINGS.control_period_s + 1e-9
    assert math.dist(run.pose[:2], run.start[:2]) > 0.5  # it was under way
    assert_stopped_for_good(run)


def test_a_deadline_times_the_goal_out_and_stops_the_base() -> None:
    run = setup(world())
    run.context.deadline = run.sim.time + 2.0
    execute(run, "GOTO", {"target": "dining_table"})
    assert run.result.error_code == SkillErrorCode.TIMEOUT, run.result
    assert run.sim.time == pytest.approx(2.0, abs=SETTINGS.control_period_s + 1e-6)
    assert_stopped_for_good(run)


class FrozenOdometry(TracingRobot):
    """Odometry that stops arriving at FREEZE_AT: the pose keeps its last stamp."""

    FREEZE_AT = 2.0

    def base_pose(self) -> BasePose | None:
        pose = super().base_pose()
        assert pose is not None
        return pose._replace(stamp=min(pose.stamp, self.FREEZE_AT))


def test_a_stale_base_pose_stops_the_robot() -> None:
    run = setup(world(), robot_type=FrozenOdometry)
    execute(run, "GOTO", {"target": "dining_table"})
    assert run.result.error_code == SkillErrorCode.PERCEPTION_STALE, run.result
    assert "old" in run.result.error_msg
    limit = FrozenOdometry.FREEZE_AT + SETTINGS.pose_stale_s
    assert limit <= run.sim.time <= limit + SETTINGS.control_period_s + 1e-6
    assert_stopped_for_good(run)


# --- obstacles that are not on the map -------------------------------------------------------------------


def test_a_crate_sealing_the_only_door_blocks_the_way_before_moving() -> None:
    assert len(builtin("kitchen").doors) == 1
    run = execute(setup(world(objects=[crate(5.0, 2.0, (0.5, 1.0))])), "GOTO", {"target": "dining_table"})
    assert run.result.error_code == SkillErrorCode.BLOCKED, run.result
    assert "not on the map" in run.result.error_msg
    assert math.dist(run.pose[:2], run.start[:2]) < 0.1


def test_a_crate_appearing_in_the_only_door_stops_the_robot_before_it() -> None:
    door_crate = {"action": "add", "object": crate(5.0, 2.0, (0.5, 1.0)), "when": {"at": 1.0}}
    run = execute(setup(world(robot_pose=(3.0, 2.0, 0.0), events=[door_crate])), "GOTO", {"target": "sideboard"})
    assert run.result.error_code == SkillErrorCode.BLOCKED, run.result
    assert any(f.phase == "driving" for f in run.context.feedback)
    assert run.pose.x < 5.0 - 0.25 - SETTINGS.robot_radius  # short of the crate
    assert_stopped_for_good(run)


def min_distance_to_box(points: np.ndarray[Any, Any], center: tuple[float, float], size: tuple[float, float]) -> float:
    """The least distance of (N, 2) points to an axis-aligned box footprint."""
    outside = np.maximum(np.abs(points - np.asarray(center)) - np.asarray(size) / 2, 0.0)
    return float(np.hypot(outside[:, 0], outside[:, 1]).min())


def test_goto_detours_around_a_crate_on_the_way() -> None:
    # The straight way from the start to the door passes (3.3, 2.3); the crate leaves room either side.
    run = execute(setup(world(objects=[crate(3.3, 2.3)])), "GOTO", {"target": "dining_table"})
    assert run.result.success, run.result.error_msg
    assert room_at(run.scenario, run.pose.x, run.pose.y) == "dining_room"
    driven = np.array([p[:2] for p in run.robot.driven_poses])
    assert min_distance_to_box(driven, (3.3, 2.3), (0.6, 0.6)) >= SETTINGS.robot_radius
    assert limit_violations(run.robot.commands, PURSUIT) == []


@pytest.fixture(scope="module")
def replanned() -> Run:
    """A crate added on the path once the robot is under way: it must replan around it."""
    event = {"action": "add", "object": crate(3.5, 2.2), "when": {"at": 2.0}}
    return execute(setup(world(events=[event])), "GOTO", {"target": "dining_table"})


def test_goto_replans_around_a_crate_that_appears_on_the_way(replanned: Run) -> None:
    run = replanned
    assert run.result.success, run.result.error_msg
    assert [f.message for f in run.context.feedback if f.phase == "replanning"] == ["detour 1"]
    driven = np.array([p[:2] for p in run.robot.driven_poses])
    assert min_distance_to_box(driven, (3.5, 2.2), (0.6, 0.6)) >= SETTINGS.robot_radius


def test_commands_respect_the_acceleration_limits_through_a_replan(replanned: Run) -> None:
    run = replanned
    assert run.result.success, run.result.error_msg
    assert limit_violations(run.robot.commands, PURSUIT) == []


# --- LOOK_AT and SCAN ------------------------------------------------------------------------------------


def look_point(scenario: Scenario, furniture_id: str) -> tuple[float, float, float]:
    piece = next(f for f in scenario.furniture if f.id == furniture_id)
    return piece.pose[0], piece.pose[1], piece.size[2]  # the middle of its top


def head_error(run: Run, target: tuple[float, float, float]) -> float:
    x, y, yaw = run.sim.base_pose()
    expected = head_angles_towards(BasePose(x, y, yaw, run.sim.time), target)
    actual = run.robot.head_angles()
    assert expected is not None and actual is not None
    return max(abs(expected[0] - actual[0]), abs(expected[1] - actual[1]))


def test_look_at_points_the_head_at_furniture_without_moving_the_base() -> None:
    run = execute(setup(world()), "LOOK_AT", {"target": "pantry_shelf"})  # behind, to the right: within the pan range
    assert run.result.success, run.result.error_msg
    assert "red_cup" in run.result.outputs["seen"].split(",")
    assert head_error(run, look_point(run.scenario, "pantry_shelf")) <= 0.05
    assert run.robot.commands == []


def test_look_at_beyond_the_pan_range_turns_the_base() -> None:
    # Facing +y, the pantry shelf lies behind to the left: past the pan's upper limit.
    run = setup(world(robot_pose=(1.5, 2.5, 1.8)))
    target = look_point(run.scenario, "pantry_shelf")
    assert head_angles_towards(BasePose(*run.start, 0.0), target) is None
    execute(run, "LOOK_AT", {"target": "pantry_shelf"})
    assert run.result.success, run.result.error_msg
    assert any(angular != 0.0 for _, _, angular in run.robot.commands)
    assert all(linear == 0.0 for _, linear, _ in run.robot.commands)  # turned in place
    assert math.dist(run.pose[:2], run.start[:2]) < 0.05
    assert head_error(run, target) <= 0.05
    assert limit_violations(run.robot.commands, PURSUIT) == []


def test_scan_of_a_room_reports_what_it_saw() -> None:
    run = execute(setup(world()), "SCAN", {"target": "kitchen"})
    assert run.result.success, run.result.error_msg
    seen = run.result.outputs["seen"].split(",")
    assert {"red_cup", "yellow_banana", "green_box"} <= set(seen)
    assert seen == sorted(seen)
    assert [f.phase for f in run.context.feedback].count("scanning") == len(ScanSkill.ROOM_PANS)


# --- FIND --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["banana", "yellow banana", "yellow_banana"])
def test_find_goes_to_an_object_in_the_graph(query: str) -> None:
    run = execute(setup(world()), "FIND", {"object": query})
    assert run.result.success, run.result.error_msg
    assert run.result.outputs["object"] == "yellow_banana"
    banana = run.sim.object_pose("yellow_banana")
    assert_point_within_reach(run.pose, (float(banana[0, 3]), float(banana[1, 3])))


def test_find_of_something_that_is_nowhere_reports_the_places_searched() -> None:
    settings = NavigationSettings(max_search_places=2)
    run = setup(world())
    graph = run.robot.scene()
    assert graph is not None
    expected = [p.id for p in FindSkill(CATALOG["FIND"], run.robot, settings, PRIORS).search_places(graph, "unicorn")]
    execute(run, "FIND", {"object": "unicorn"}, settings)
    assert run.result.error_code == SkillErrorCode.NOT_FOUND, run.result
    assert "unicorn" in run.result.error_msg
    assert f"searched {', '.join(expected[:2])}" in run.result.error_msg
    assert expected[2] not in run.result.error_msg
    looked = [f.message for f in run.context.feedback if f.phase == "searching"]
    assert looked == [f"looking on {place}" for place in expected[:2]]


# --- FindSkill.search_places on a graph built by hand --------------------------------------------------


class StandingRobot(RobotInterface):
    """A robot standing at one pose with a given scene graph; it cannot drive."""

    def __init__(self, graph: SceneGraph, pose: BasePose) -> None:
        self.graph = graph
        self.pose = pose

    def base_pose(self) -> BasePose | None:
        return self.pose

    def drive(self, linear: float, angular: float) -> None:
        raise AssertionError("search_places must not drive")

    def point_head(self, pan: float, tilt: float, seconds: float) -> None:
        raise AssertionError("search_places must not move the head")

    def head_angles(self) -> tuple[float, float] | None:
        return 0.0, 0.0

    def joint_positions(self) -> dict[str, float] | None:
        return None

    def send_trajectory(self, controller: str, plan: JointTrajectoryPlan) -> None:
        raise AssertionError("search_places must not move the arm")

    def scene(self) -> SceneGraph | None:
        return self.graph

    def obstacle_map(self) -> OccupancyGrid | None:
        return None

    def static_map(self) -> OccupancyGrid | None:
        return None


def node(
    node_id: str,
    kind: ObjectKind,
    xy: tuple[float, float],
    label: str = "",
    attributes: dict[str, str] | None = None,
    size: tuple[float, float, float] = (1.0, 0.6, 0.75),
) -> SceneObject:
    return SceneObject(
        id=node_id,
        label=label or node_id.replace("_", " "),
        kind=kind,
        position=np.array([xy[0], xy[1], size[2] / 2]),
        size=np.array(size),
        attributes=attributes or {},
    )


def search_graph() -> SceneGraph:
    """The robot stands at the origin. A red cup was last seen on a far desk, a blue cup on a cabinet."""
    furniture = ObjectKind.FURNITURE
    nodes = [
        node("far_desk", furniture, (6.0, 0.0), attributes={"type": "desk"}),
        node("far_counter", furniture, (5.0, 0.0), attributes={"type": "counter"}),
        node("trolley", furniture, (0.0, 3.0), label="tea trolley", attributes={"type": "cabinet"}),
        node("near_table", furniture, (1.0, 0.0), attributes={"type": "table"}),
        node("mid_cabinet", furniture, (0.0, -2.5), attributes={"type": "cabinet"}),
        node("lounge", ObjectKind.ROOM, (0.5, 0.5), size=(8.0, 8.0, 2.5)),
        node(
            "red_cup", ObjectKind.OBJECT, (6.0, 0.0), label="cup", attributes={"color": "red"}, size=(0.08, 0.08, 0.1)
        ),
        node("blue_cup", ObjectKind.OBJECT, (0.0, -2.5), label="cup", attributes={"color": "blue"}),
    ]
    graph = SceneGraph(objects={n.id: n for n in nodes})
    graph.set_relations(
        [
            Relation("red_cup", Predicate.ON, "far_desk"),
            Relation("blue_cup", Predicate.ON, "mid_cabinet"),
            Relation("red_cup", Predicate.IN, "lounge"),  # not a place to stand at: only "on" counts
            Relation("far_desk", Predicate.PART_OF, "lounge"),
        ]
    )
    return graph


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Where a red cup was last seen, then the prior types and labels (nearest first), then the rest.
        ("red cup", ["far_desk", "trolley", "far_counter", "near_table", "mid_cabinet"]),
        # Both cups were last seen somewhere: both places first, nearest first.
        ("cup", ["mid_cabinet", "far_desk", "trolley", "far_counter", "near_table"]),
        # No cup is green: priors first, as for any cup.
        ("green cup", ["trolley", "far_counter", "near_table", "mid_cabinet", "far_desk"]),
        # No priors and never seen: nearest first.
        ("stapler", ["near_table", "mid_cabinet", "trolley", "far_counter", "far_desk"]),
    ],
)
def test_search_places_order(query: str, expected: list[str]) -> None:
    graph = search_graph()
    robot = StandingRobot(graph, BasePose(0.0, 0.0, 0.0, 0.0))
    priors = {"cup": ("counter", "tea trolley"), "coffee cup": ("desk",)}
    find = FindSkill(CATALOG["FIND"], robot, None, priors)
    assert [p.id for p in find.search_places(graph, query)] == expected


def test_search_places_match_multi_word_priors_on_the_end_of_the_query() -> None:
    graph = search_graph()
    robot = StandingRobot(graph, BasePose(0.0, 0.0, 0.0, 0.0))
    find = FindSkill(CATALOG["FIND"], robot, None, {"cereal box": ("desk",), "shoe box": ("cabinet",)})
    assert [p.id for p in find.search_places(graph, "green cereal box")][:2] == ["far_desk", "near_table"]
    assert [p.id for p in find.search_places(graph, "shoe_box")][:3] == ["mid_cabinet", "trolley", "near_table"]
    assert next(p.id for p in find.search_places(graph, "box")) == "near_table"  # neither prior: nearest first


# --- helpers ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("red_cup", True),  # the id
        ("cup", True),  # the label
        ("red cup", True),  # colour and label
        ("Red Cup", True),
        ("blue cup", False),  # the wrong colour
        ("blue_cup", False),  # another object's id
        ("mug", False),
        ("the red cup", False),
        ("", False),
    ],
)
def test_label_matches_a_single_word_label(query: str, expected: bool) -> None:
    cup = node("red_cup", ObjectKind.OBJECT, (0.0, 0.0), label="cup", attributes={"color": "red"})
    assert label_matches(cup, query) is expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("cereal box", True),
        ("green cereal box", True),
        ("green_cereal_box", True),
        ("green_box", True),  # the id
        ("box", False),  # only the end of the label
        ("cereal", False),
        ("red cereal box", False),
    ],
)
def test_label_matches_a_multi_word_label(query: str, expected: bool) -> None:
    box = node("green_box", ObjectKind.OBJECT, (0.0, 0.0), label="cereal box", attributes={"color": "green"})
    assert label_matches(box, query) is expected


def test_a_colour_in_the_query_does_not_match_an_object_without_one() -> None:
    plain = node("cup_1", ObjectKind.OBJECT, (0.0, 0.0), label="cup")
    assert label_matches(plain, "cup")
    assert not label_matches(plain, "red cup")


def test_search_priors_load_and_reject_malformed_files(tmp_path: Path) -> None:
    assert PRIORS["cereal box"] == ("shelf", "counter", "cabinet")
    assert all(isinstance(places, tuple) for places in PRIORS.values())
    bad = tmp_path / "priors.yaml"
    for text in ("- cup\n- counter\n", "cup: counter\n", "cup: [1, 2]\n"):
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(ValueError, match="expected a mapping"):
            load_search_priors(bad)


def test_furniture_and_room_nodes_become_map_geometry() -> None:
    shelf = node("tall_shelf", ObjectKind.FURNITURE, (2.0, 1.0), attributes={"type": "shelf"}, size=(0.4, 1.0, 1.2))
    shelf.orientation = np.array([0.0, 0.0, math.sin(0.25), math.cos(0.25)])  # yaw 0.5
    piece = furniture_of(shelf)
    assert (piece.id, piece.type) == ("tall_shelf", "shelf")
    assert piece.pose == pytest.approx((2.0, 1.0, 0.5))
    assert piece.size == pytest.approx((0.4, 1.0, 1.2))
    stool = node("stool", ObjectKind.FURNITURE, (0.0, 0.0), attributes={"type": "stool"}, size=(0.3, 0.3, 0.0))
    assert furniture_of(stool).type == "table"  # an unknown type is taken for a table
    assert furniture_of(stool).size[2] == pytest.approx(0.05)  # and sizes are at least 5 cm
    room = room_of(node("hall", ObjectKind.ROOM, (3.0, 2.0), size=(4.0, 2.0, 2.5)))
    assert room.min == pytest.approx((1.0, 1.0))
    assert room.max == pytest.approx((5.0, 3.0))


# --- driving delegated to another navigator (Nav2) ------------------------------------------------------


class ScriptedNavigator(PoseNavigator):
    """Answers each goal with the next scripted code (NONE: reached) and records the goals."""

    def __init__(self, codes: Sequence[SkillErrorCode]) -> None:
        self.codes = list(codes)
        self.goals: list[Pose2D] = []

    def navigate(self, goal: Pose2D, context: SkillContext, what: str) -> SkillResult:
        self.goals.append(goal)
        code = self.codes.pop(0)
        return SkillResult(message=f"at {what}") if code == SkillErrorCode.NONE else SkillResult.failure(code, "no")


def delegated_goto(arguments: Mapping[str, str], codes: Sequence[SkillErrorCode]) -> tuple[Run, ScriptedNavigator]:
    run = setup(world())
    navigator = ScriptedNavigator(codes)
    goto = GotoSkill(CATALOG["GOTO"], run.robot, navigator=navigator)
    run.result = goto.execute(goto.spec.bind(arguments), run.context)
    return run, navigator


def test_a_delegated_goto_offers_the_next_pose_only_after_an_unreachable_one() -> None:
    run, navigator = delegated_goto(
        {"target": "dining_table"}, [SkillErrorCode.UNREACHABLE, SkillErrorCode.UNREACHABLE, SkillErrorCode.NONE]
    )
    assert run.result.success and len(navigator.goals) == 3
    assert len(set(navigator.goals)) == 3 and all(goal.yaw is not None for goal in navigator.goals)
    assert run.robot.commands == []  # the navigator drives, not the skill

    run, navigator = delegated_goto({"target": "dining_table"}, [SkillErrorCode.TIMEOUT])
    assert run.result.error_code == SkillErrorCode.TIMEOUT and len(navigator.goals) == 1


def test_a_delegated_goto_to_a_room_faces_the_way_there() -> None:
    run, navigator = delegated_goto({"target": "dining_room"}, [SkillErrorCode.NONE])
    assert run.result.success
    (goal,) = navigator.goals
    x, y, _ = run.start
    assert goal.yaw == pytest.approx(math.atan2(goal.y - y, goal.x - x))
    assert run.scenario.room("dining_room").contains(goal.x, goal.y)
