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

from control.arm import JointTrajectoryPlan
from control.manip_skills import ArmSkill, ManipulationSettings, PickSkill, PlaceSkill, simplify, to_base, to_map
from control.nav_skills import GotoSkill, RobotSkill
from control.navigation.approach import Pose2D
from control.navigation.grid import OccupancyGrid
from control.robot import RobotInterface
from control.skills import SkillErrorCode, SkillResult, load_catalog
from perception.scene_graph import SceneGraph
from robot_agent.paths import config_file
from sim.robot_interface import LockstepContext, SimulatedRobot
from sim.scenario import load_scenario
from sim.simulator import Simulator

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
