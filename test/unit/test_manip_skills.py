"""PICK and PLACE on the embedded simulator in lockstep (no ROS), checked against its ground truth.

The skills run on ``SimulatedRobot`` (MuJoCo: the gripper holds by contact and friction only)
with a ``LockstepContext`` whose waiting steps the physics; the scene graph is the simulator's
ground truth unless a test's robot misreports it.
"""

from __future__ import annotations

import copy
import functools
import math
import threading
from collections.abc import Mapping

import numpy as np
import pytest

from control.arm import ArmJoints, JointTrajectoryPlan, forward
from control.manip_skills import (
    ArmSkill,
    ManipulationSettings,
    PickSkill,
    PlaceSkill,
    clear_height,
    grasp_choice,
    headroom,
    holds_between_fingers,
    simplify,
    to_base,
    to_map,
)
from control.nav_skills import GotoSkill, RobotSkill
from control.navigation.approach import Pose2D
from control.navigation.grid import OccupancyGrid
from control.robot import BasePose, RobotInterface
from control.skills import SkillErrorCode, SkillResult, load_catalog
from perception.scene_graph import SceneGraph
from planning.value_maps import SceneItem
from robot_agent.paths import config_file
from sim.robot_interface import LockstepContext, SimulatedRobot
from sim.scenario import load_scenario
from sim.simulator import Simulator, TrajectoryPoint

CATALOG = load_catalog(config_file("skills.yaml"))
ARM_JOINTS = ("joint_lift", "joint_arm", "joint_wrist_yaw")


def run_skill(
    robot: RobotInterface,
    context: LockstepContext,
    name: str,
    arguments: Mapping[str, str],
    manipulation: ManipulationSettings | None = None,
) -> SkillResult:
    skill: RobotSkill
    if name == "GOTO":
        skill = GotoSkill(CATALOG[name], robot)
    else:
        kinds: dict[str, type[ArmSkill]] = {"PICK": PickSkill, "PLACE": PlaceSkill}
        skill = kinds[name](CATALOG[name], robot, manipulation=manipulation)
    bound = skill.spec.bind(arguments)
    assert skill.check_goal(bound) is None
    return skill.execute(bound, context)


@functools.cache
def kitchen_run() -> tuple[Simulator, list[tuple[str, SkillResult]], dict[str, np.ndarray]]:
    """GOTO the cup, PICK it, GOTO the dining table, PLACE it there; the cup's pose after each step."""
    sim = Simulator(load_scenario("kitchen"))
    robot, context = SimulatedRobot(sim), LockstepContext(sim)
    results, cup = [], {}
    for name, arguments in (
        ("GOTO", {"target": "red_cup"}),
        ("PICK", {"object": "red_cup"}),
        ("GOTO", {"target": "dining_table"}),
        ("PLACE", {"object": "red_cup", "target": "dining_table"}),
    ):
        result = run_skill(robot, context, name, arguments)
        results.append((name, result))
        cup[f"after {name} {len(results)}"] = sim.object_pose("red_cup")[:3, 3].copy()
        assert result.success, (name, result.error_msg)
        if name == "PICK":
            assert sim.holding("red_cup")
    return sim, results, cup


def test_pick_lifts_the_cup_off_the_counter() -> None:
    _, results, cup = kitchen_run()
    assert cup["after PICK 2"][2] > cup["after GOTO 1"][2] + 0.05  # lifted
    pick = results[1][1]
    assert pick.outputs["tracker"].startswith("moved with the hand")
    assert 0.06 < float(pick.outputs["gripper_width"]) < 0.1  # closed on the 8 cm cup, not on nothing


def test_the_held_cup_is_carried_to_another_room() -> None:
    _, _, cup = kitchen_run()
    assert math.dist(cup["after GOTO 3"][:2], cup["after PICK 2"][:2]) > 3.0
    assert cup["after GOTO 3"][2] > 0.9  # still in the hand, not on the floor


def test_place_sets_the_cup_on_the_named_table() -> None:
    sim, results, _ = kitchen_run()
    assert sim.evaluate("on(red_cup, dining_table)") and not sim.holding("red_cup")
    assert results[3][1].outputs["tracker"] == "resting on dining_table"


class OutOfMap(SimulatedRobot):
    """A robot without a map: it cannot drive closer."""

    def static_map(self) -> OccupancyGrid | None:
        return None

    def obstacle_map(self) -> OccupancyGrid | None:
        return None


def test_pick_drives_within_reach_first_when_it_can() -> None:
    sim = Simulator(load_scenario("kitchen"))
    start = sim.base_pose()
    result = run_skill(SimulatedRobot(sim), LockstepContext(sim), "PICK", {"object": "red_cup"})
    assert result.success, result.error_msg
    assert math.dist(sim.base_pose()[:2], start[:2]) > 0.3 and sim.holding("red_cup")


def test_pick_out_of_reach_without_a_map_is_unreachable_and_the_arm_stays() -> None:
    sim = Simulator(load_scenario("kitchen"))
    before = sim.joint_positions()
    result = run_skill(OutOfMap(sim), LockstepContext(sim), "PICK", {"object": "red_cup"})
    assert result.error_code == SkillErrorCode.UNREACHABLE
    assert "out of the arm's reach" in result.error_msg
    assert all(sim.joint_positions()[j] == pytest.approx(before[j], abs=1e-3) for j in ARM_JOINTS)


class MisplacedCup(SimulatedRobot):
    """The scene graph has the cup ``OFFSET`` higher than it is, until the gripper has closed
    ``misled`` times (a wrong estimate that a fresh look corrects): the fingers close over it."""

    OFFSET = 0.12

    def __init__(self, sim: Simulator, misled: int) -> None:
        super().__init__(sim)
        self.misled = misled
        self.closings = 0

    def send_trajectory(self, controller: str, plan: JointTrajectoryPlan) -> None:
        if controller == "gripper_controller" and plan.goal["joint_gripper"] < 0.01:
            self.closings += 1
        super().send_trajectory(controller, plan)

    def scene(self) -> SceneGraph | None:
        graph = super().scene()
        if graph is None or self.closings >= self.misled:
            return graph
        graph = copy.deepcopy(graph)
        cup = graph.objects["red_cup"]
        cup.position = cup.position + np.array([0.0, 0.0, self.OFFSET])
        return graph


def at_the_counter() -> Simulator:
    sim = Simulator(load_scenario("kitchen"))
    assert run_skill(SimulatedRobot(sim), LockstepContext(sim), "GOTO", {"target": "red_cup"}).success
    return sim


def test_a_missed_grasp_is_retried_from_a_fresh_look() -> None:
    sim = at_the_counter()
    result = run_skill(MisplacedCup(sim, misled=1), LockstepContext(sim), "PICK", {"object": "red_cup"})
    assert result.success, result.error_msg
    assert result.outputs["attempts"] == "2" and sim.holding("red_cup")


def test_grasps_that_keep_missing_end_in_no_grasp_with_each_reason() -> None:
    sim = at_the_counter()
    result = run_skill(MisplacedCup(sim, misled=99), LockstepContext(sim), "PICK", {"object": "red_cup"})
    assert result.error_code == SkillErrorCode.NO_GRASP
    assert all(f"attempt {i}:" in result.error_msg for i in (1, 2, 3)), result.error_msg
    assert not sim.holding("red_cup")


class CancelDuringMotion(LockstepContext):
    def __init__(self, sim: Simulator, after_s: float) -> None:
        super().__init__(sim, threading.Event())
        self.cancel_at = sim.time + after_s
        self.cancelled_at: float | None = None

    def wait(self, seconds: float) -> bool:
        going = super().wait(seconds)
        if self.cancelled_at is None and self.sim.time >= self.cancel_at:
            self.cancelled_at = self.sim.time
            self.cancel_requested.set()
        return going


def test_cancel_holds_the_arm_where_it_is() -> None:
    sim = at_the_counter()
    context = CancelDuringMotion(sim, after_s=3.0)
    result = run_skill(SimulatedRobot(sim), context, "PICK", {"object": "red_cup"})
    assert result.error_code == SkillErrorCode.CANCELLED, result.error_msg
    assert context.cancelled_at is not None and sim.time - context.cancelled_at <= 0.2
    held = sim.joint_positions()
    sim.advance(1.0)
    assert all(sim.joint_positions()[j] == pytest.approx(held[j], abs=0.02) for j in ARM_JOINTS)


def test_place_with_an_empty_gripper_is_refused() -> None:
    sim = at_the_counter()
    result = run_skill(SimulatedRobot(sim), LockstepContext(sim), "PLACE", {"object": "red_cup", "target": "counter"})
    assert result.error_code == SkillErrorCode.PRECONDITION_FAILED and "does not hold red_cup" in result.error_msg


def test_the_greedy_baseline_planner_also_picks_in_the_open() -> None:
    sim = at_the_counter()
    settings = ManipulationSettings(planner="greedy")
    result = run_skill(SimulatedRobot(sim), LockstepContext(sim), "PICK", {"object": "red_cup"}, settings)
    assert result.success, result.error_msg


def test_an_unknown_planner_is_refused() -> None:
    sim = Simulator(load_scenario("kitchen"))
    with pytest.raises(ValueError, match="unknown planner 'teleport'"):
        PickSkill(CATALOG["PICK"], SimulatedRobot(sim), manipulation=ManipulationSettings(planner="teleport"))


def test_frames_round_trip() -> None:
    pose = Pose2D(1.0, -2.0, 0.7)
    point = np.array([0.3, 0.4, 0.9])
    assert to_map(pose, to_base(pose, point)) == pytest.approx(point)
    assert to_base(pose, [1.0, -2.0, 0.5]) == pytest.approx([0.0, 0.0, 0.5])


def test_simplify_keeps_the_corners_and_the_shape() -> None:
    line = np.linspace([0.0, 0.0, 0.0], [1.0, 0.0, 0.0], 11)
    assert simplify(line, 0.001) == [0, 10]
    corner = np.vstack([line, np.linspace([1.0, 0.0, 0.0], [1.0, 1.0, 0.0], 11)[1:]])
    assert simplify(corner, 0.001) == [0, 10, 20]
    wiggly = corner + np.random.default_rng(0).normal(0.0, 0.002, corner.shape)
    kept = simplify(wiggly, 0.01)
    assert kept[0] == 0 and kept[-1] == len(wiggly) - 1 and len(kept) < len(wiggly)


# --- where PICK used to fail: a hand under a table's top, a shelf, a long thing across the arm ---


def hand_in_map(sim: Simulator) -> np.ndarray:
    joints = sim.joint_positions()
    arm = ArmJoints(joints["joint_lift"], joints["joint_arm"], joints["joint_wrist_yaw"])
    return np.asarray(forward(arm, sim.base_pose()).position)


def test_pick_starts_with_the_hand_out_under_the_tables_top_and_brings_it_out_before_rising() -> None:
    sim = Simulator(load_scenario("kitchen"))
    robot, context = SimulatedRobot(sim), LockstepContext(sim)
    assert run_skill(robot, context, "GOTO", {"target": "red_apple"}).success
    # The gripper turned out sideways at 0.6 m: it reaches in under the kitchen table's top (0.71 to 0.75 m).
    sim.follow_trajectory(
        "arm_controller",
        list(ARM_JOINTS),
        [TrajectoryPoint(1.5, {**dict.fromkeys(ARM_JOINTS, 0.0), "joint_lift": 0.6})],
    )
    sim.advance(2.0)
    table = next(f for f in sim.scenario.furniture if f.id == "kitchen_table")
    hand = hand_in_map(sim)
    assert abs(hand[0] - table.pose[0]) < table.size[0] / 2 and abs(hand[1] - table.pose[1]) < table.size[1] / 2
    assert hand[2] < table.size[2] - 0.04  # under the top
    skill = PickSkill(CATALOG["PICK"], robot)
    result = skill.execute(skill.spec.bind({"object": "red_apple"}), context)
    assert result.success, result.error_msg
    assert sim.holding("red_apple")
    start = skill.last_paths[0].waypoints[0]  # the first planned move starts from over the top
    assert start[2] > table.size[2]


def test_pick_reaches_between_a_shelfs_boards_from_its_open_side() -> None:
    sim = Simulator(load_scenario("kitchen"))
    robot, context = SimulatedRobot(sim), LockstepContext(sim)
    assert run_skill(robot, context, "GOTO", {"target": "blue_bottle"}).success
    before = {o: sim.object_pose(o)[:3, 3].copy() for o in ("blue_bottle", "green_box")}
    result = run_skill(robot, context, "PICK", {"object": "blue_bottle"})
    assert result.success, result.error_msg
    assert sim.holding("blue_bottle") and not sim.evaluate("on(blue_bottle, pantry_shelf)")
    assert sim.object_pose("blue_bottle")[2, 3] > before["blue_bottle"][2] + 0.03  # lifted under the board above
    assert math.dist(sim.object_pose("green_box")[:3, 3], before["green_box"]) < 0.005  # its neighbour untouched


def test_a_long_thing_lying_across_the_arm_is_refused_untouched() -> None:
    sim = Simulator(load_scenario("kitchen"))
    robot, context = SimulatedRobot(sim), LockstepContext(sim)
    assert run_skill(robot, context, "GOTO", {"target": "yellow_banana"}).success
    before = sim.object_pose("yellow_banana")[:3, 3].copy()
    result = run_skill(robot, context, "PICK", {"object": "yellow_banana"})
    assert result.error_code == SkillErrorCode.NO_GRASP
    assert "0.18 m wide across the fingers" in result.error_msg and "0.04 m at its narrowest" in result.error_msg
    assert "no spot from which the arm reaches along it" in result.error_msg  # along the counter, out of reach
    assert math.dist(sim.object_pose("yellow_banana")[:3, 3], before) < 0.002


def test_pick_goes_round_to_the_end_of_a_long_thing_lying_across_the_arm() -> None:
    sim = Simulator(load_scenario("office"))
    robot, context = SimulatedRobot(sim), LockstepContext(sim)
    assert run_skill(robot, context, "GOTO", {"target": "red_stapler"}).success
    stapler = sim.object_pose("red_stapler")
    stapler_axis = math.atan2(stapler[1, 0], stapler[0, 0])  # 16 cm long, lying along the desk
    skill = PickSkill(CATALOG["PICK"], robot)
    result = skill.execute(skill.spec.bind({"object": "red_stapler"}), context)
    assert result.success, result.error_msg
    assert sim.holding("red_stapler")
    arm_heading = sim.base_pose()[2] - math.pi / 2  # the arm reaches out along base_link -y
    assert abs(math.sin(arm_heading - stapler_axis)) < math.sin(math.radians(20))  # the arm along it
    # It says which side it grasps across: the 5 cm one, its narrowest.
    assert "across its 0.05 m side, its narrowest" in result.message, result.message
    assert float(result.outputs["grasped_across_m"]) == pytest.approx(0.05, abs=0.01)  # the arm within 20 degrees
    assert any("grasping red_stapler across its 0.05 m side" in f.message for f in context.feedback)


def test_pick_chooses_the_narrowest_side_that_fits() -> None:
    gripper = 0.12  # control.manip_skills.GRIPPER_OPEN
    glasses = SceneItem("glasses", "glasses case", np.zeros(3), np.array([0.16, 0.06, 0.04]), yaw=0.0)
    across_long = grasp_choice(glasses, 0.0, 0.02)  # the fingers close along its 16 cm side: go round
    assert across_long.across == pytest.approx(0.16) and across_long.narrowest == pytest.approx(0.06)
    assert across_long.go_round
    across_narrow = grasp_choice(glasses, math.pi / 2, 0.02)
    assert across_narrow.across == pytest.approx(0.06) and not across_narrow.go_round
    assert across_narrow.words() == "across its 0.06 m side, its narrowest"
    sponge = SceneItem("sponge", "sponge", np.zeros(3), np.array([0.10, 0.07, 0.03]), yaw=0.0)
    assert grasp_choice(sponge, 0.0, 0.02).go_round  # 10 cm fits, but 7 cm is the better grasp
    assert not grasp_choice(sponge, 0.0, 0.05).go_round  # not worth the drive for less than 5 cm
    assert "(its narrowest is 0.07 m)" in grasp_choice(sponge, 0.0, 0.05).words()
    cup = SceneItem("cup", "cup", np.zeros(3), np.array([0.08, 0.08, 0.1]), yaw=0.7)
    assert not grasp_choice(cup, 0.3, 0.02).go_round  # round: every side is the same
    pillow = SceneItem("pillow", "pillow", np.zeros(3), np.array([0.35, 0.25, 0.1]), yaw=0.0)
    assert not grasp_choice(pillow, 0.0, 0.02).go_round and grasp_choice(pillow, 0.0, 0.02).narrowest > gripper


def test_a_held_thing_counts_as_held_across_its_narrowest_side() -> None:
    """The graph's box of a book held across its 3 cm side may say the fingers face its 15 cm side."""
    book = SceneItem("book", "book", np.zeros(3), np.array([0.15, 0.03, 0.22]), yaw=0.0)
    assert holds_between_fingers(book, 0.0, 0.030)  # across the fingers it would be 15 cm
    assert holds_between_fingers(book, math.pi / 2, 0.030)
    assert not holds_between_fingers(book, 0.0, 0.002)  # closed on nothing
    cup = SceneItem("cup", "cup", np.zeros(3), np.array([0.08, 0.08, 0.1]))
    assert holds_between_fingers(cup, 0.3, 0.079) and not holds_between_fingers(cup, 0.3, 0.12)  # 0.12: open


def test_a_thing_too_wide_on_every_side_is_refused_before_anything_moves() -> None:
    sim = Simulator(load_scenario("apartment"))
    robot, context = SimulatedRobot(sim), LockstepContext(sim)
    base, joints = sim.base_pose(), sim.joint_positions()
    result = run_skill(robot, context, "PICK", {"object": "pink_pillow"})  # 0.35 x 0.25 m
    assert result.error_code == SkillErrorCode.NO_GRASP
    assert "too wide to grasp on every side: 0.35 x 0.25 m" in result.error_msg, result.error_msg
    assert sim.base_pose() == pytest.approx(base, abs=1e-3)
    assert all(sim.joint_positions()[j] == pytest.approx(joints[j], abs=1e-3) for j in ARM_JOINTS)


def test_a_thing_held_low_is_not_an_obstacle_in_the_robots_way() -> None:
    sim = Simulator(load_scenario("apartment"))
    robot, context = SimulatedRobot(sim), LockstepContext(sim)
    assert run_skill(robot, context, "GOTO", {"target": "red_cup"}).success
    assert run_skill(robot, context, "PICK", {"object": "red_cup"}).success
    assert sim.holding("red_cup") and sim.object_pose("red_cup")[2, 3] < 0.6  # off the coffee table, low
    obstacles, static = robot.obstacle_map(), robot.static_map()
    assert obstacles is not None and static is not None
    assert np.array_equal(obstacles.occupied, static.occupied)


def test_place_takes_a_smaller_inset_where_the_base_stopped_a_little_short() -> None:
    sim = Simulator(load_scenario("kitchen"))
    skill = PlaceSkill(CATALOG["PLACE"], SimulatedRobot(sim))
    graph = SimulatedRobot(sim).scene()
    assert graph is not None
    counter = graph.objects["counter"]  # x from 1.0 to 4.0; the arm's line lies at the base's x + 0.07 facing -x
    for inside, expected in ((0.09, True), (0.04, False)):
        pose = BasePose(1.0 + inside - 0.07, 2.9, math.pi, sim.time)
        point = skill.place_point(counter, pose, held_below_hand=0.05, held_half=0.04)
        assert isinstance(point, np.ndarray) == expected, (inside, point)


def test_clear_height_is_the_lowest_clear_one_at_or_above_the_goal() -> None:
    top = SceneItem("top", "table", np.array([0.0, 0.0, 0.73]), np.array([1.0, 1.0, 0.04]))
    board = SceneItem("board", "shelf", np.array([0.0, 0.0, 1.1]), np.array([1.0, 1.0, 0.03]))
    footprint = (np.array([-0.1, -0.1]), np.array([0.1, 0.1]))
    clear = functools.partial(clear_height, footprint=footprint, height_range=(0.15, 1.1), below=0.05, above=0.05)
    assert clear([top], goal=0.6) == pytest.approx(0.6)  # under the top, with room to spare
    assert clear([top], goal=0.72) == pytest.approx(0.80)  # the top is in the way: over it
    assert clear([top, board], goal=0.9) == pytest.approx(0.9)  # between the top and the board
    assert clear([top, board], goal=1.05) == pytest.approx(1.035)  # under the board: the highest clear one
    far = (np.array([2.0, 2.0]), np.array([2.2, 2.2]))
    assert clear_height([top], far, (0.15, 1.1), 0.72, 0.05, 0.05) == pytest.approx(0.72)  # not over it
    assert clear([SceneItem("wall", "wall", np.array([0.0, 0.0, 0.6]), np.array([0.1, 0.1, 1.2]))], goal=0.7) is None


def test_headroom_is_the_gap_to_the_board_over_the_thing() -> None:
    bottle = SceneItem("bottle", "bottle", np.array([0.0, 0.0, 0.91]), np.array([0.07, 0.07, 0.22]))
    shelf = SceneItem(
        "shelf",
        "shelf",
        np.array([0.0, 0.0, 0.6]),
        np.array([0.4, 1.0, 1.2]),
        parts=(((0.0, 0.0, 0.185), (0.4, 1.0, 0.03)), ((0.0, 0.0, 0.585), (0.4, 1.0, 0.03))),  # tops at 0.8, 1.2
    )
    assert headroom(bottle, [bottle, shelf]) == pytest.approx(1.17 - 1.02)
    assert headroom(bottle, [bottle]) == math.inf
