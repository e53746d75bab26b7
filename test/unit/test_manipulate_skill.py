"""MANIPULATE on the embedded simulator in lockstep (no ROS), checked against its ground truth.

The skill runs on ``SimulatedRobot`` with a lockstep context that also records the motion plans
it shows; the scene graph is the simulator's ground truth.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest

from control.manip_skills import PickSkill
from control.manipulate_skill import ManipulateSkill
from control.motion_plan import MotionPlan, save_motion_plan_png
from control.nav_skills import GotoSkill
from control.skills import Feedback, SkillErrorCode, SkillHost, SkillResult, load_catalog
from planning.models.base import ModelClient, ModelRequest, ModelResponse
from robot_agent.paths import config_file
from sim.robot_interface import LockstepContext, SimulatedRobot
from sim.scenario import load_scenario
from sim.simulator import Simulator

CATALOG = load_catalog(config_file("skills.yaml"))
ARM_JOINTS = ("joint_lift", "joint_arm", "joint_wrist_yaw")


class Recording(LockstepContext):
    """A lockstep context that keeps the motion plans a skill shows."""

    def __init__(self, sim: Simulator, cancel: threading.Event | None = None) -> None:
        super().__init__(sim, cancel)
        self.plans: list[MotionPlan] = []

    def publish_motion_plan(self, plan: MotionPlan) -> None:
        self.plans.append(plan)


class ScriptedModel(ModelClient):
    """Answers every request with one prepared spec."""

    name = "scripted"

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.requests: list[ModelRequest] = []

    def complete(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        return ModelResponse(self.answer, "scripted", 0.0)


def beside(target: str) -> Simulator:
    sim = Simulator(load_scenario("kitchen"))
    result = GotoSkill(CATALOG["GOTO"], SimulatedRobot(sim)).execute({"target": target}, LockstepContext(sim))
    assert result.success, result.error_msg
    return sim


def manipulate(
    sim: Simulator, arguments: Mapping[str, str], context: LockstepContext, model: ModelClient | None = None
) -> SkillResult:
    skill = ManipulateSkill(CATALOG["MANIPULATE"], SimulatedRobot(sim), model=model)
    bound = skill.spec.bind(arguments)
    assert skill.check_goal(bound) is None
    return skill.execute(bound, context)


def position(sim: Simulator, object_id: str) -> np.ndarray:
    return np.array(sim.object_pose(object_id)[:3, 3])


def left_of_the_robot(result: SkillResult) -> np.ndarray:
    """The direction "left" meant for this run: the observer's left, in the map's xy."""
    yaw = float(result.outputs["observer_yaw"])
    return np.array([-math.sin(yaw), math.cos(yaw)])


def test_the_cup_ends_left_of_the_bowl_and_the_apple_is_not_touched(tmp_path: Path) -> None:
    sim = beside("red_cup")  # at the counter; the bowl and the apple are on the kitchen table
    apple = position(sim, "red_apple")
    context = Recording(sim)
    result = manipulate(
        sim, {"object": "red_cup", "instruction": "to the left of the bowl without touching the apple"}, context
    )
    assert result.success, result.error_msg
    assert result.outputs["spec_source"] == "phrases" and result.outputs["target"] == "red_bowl"
    cup, bowl = position(sim, "red_cup"), position(sim, "red_bowl")
    offset = (cup - bowl)[:2]
    left = left_of_the_robot(result)
    assert 0.13 < float(offset @ left) < 0.25, offset  # 8 cm of bowl + 10 cm + a margin
    assert abs(float(offset @ np.array([left[1], -left[0]]))) < 0.05  # level with the bowl
    assert sim.evaluate("on(red_cup, kitchen_table)") and not sim.holding("red_cup")
    assert np.linalg.norm(position(sim, "red_apple") - apple) < 0.005
    phases = [f.phase for f in context.feedback]
    for phase in ("picking", "planning", "moving_arm", "releasing", "verifying"):
        assert phase in phases
    # Shown: where the cup should go (map frame) and every arm move (base_link), each with its maps.
    workspace = [p for p in context.plans if p.layer == "workspace"]
    assert len(workspace) == 1 and workspace[0].frame_id == "map" and workspace[0].skill == "MANIPULATE"
    assert np.min(np.linalg.norm(workspace[0].target[:, :2] - cup[:2], axis=1)) < 0.06
    arm = [p for p in context.plans if p.layer == "arm"]
    assert arm and all(p.frame_id == "base_link" and p.success and len(p.waypoints) > 1 for p in arm)
    saved = save_motion_plan_png(workspace[0], tmp_path, 7)
    assert saved is not None and saved.name.startswith("007_manipulate_workspace")
    assert saved.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_model_written_spec_moves_the_held_cup_slowly_right_of_the_other_cup() -> None:
    sim = beside("red_cup")
    picked = PickSkill(CATALOG["PICK"], SimulatedRobot(sim)).execute({"object": "red_cup"}, LockstepContext(sim))
    assert picked.success, picked.error_msg
    banana = position(sim, "yellow_banana")
    spec = {
        "affordance": {"object": "blue_cup", "relation": "right_of"},
        "avoid": [{"object": "yellow_banana", "margin": 0.1}],
        "velocity": {"scale": 0.4},
        "gripper": {"open": False, "at_target": "open"},
    }
    model = ScriptedModel(json.dumps(spec))
    context = Recording(sim)
    instruction = "slowly to the right of the blue cup, away from the banana"
    result = manipulate(sim, {"object": "red_cup", "instruction": instruction}, context, model)
    assert result.success, result.error_msg
    assert result.outputs["spec_source"] == "model" and "picked" not in result.outputs  # already held
    assert "MOVING: red_cup" in model.requests[0].messages[-1].content
    offset = (position(sim, "red_cup") - position(sim, "blue_cup"))[:2]
    assert 0.1 < float(offset @ -left_of_the_robot(result)) < 0.2, offset
    assert sim.evaluate("on(red_cup, counter)") and np.linalg.norm(position(sim, "yellow_banana") - banana) < 0.005
    carrying = [p for p in context.plans if p.layer == "arm" and p.doing.startswith("carrying")]
    assert carrying and max(p.speed_scale.max() for p in carrying) <= 0.4 + 1e-6  # the velocity map's scale


@pytest.mark.parametrize(
    ("spec", "problems"),
    [
        (
            '{"affordance": {"object": "blue_cup", "relation": "sideways"}, "speed": 2}',
            ["$.affordance.relation", "speed"],
        ),
        ('{"affordance": {"object": "vase"}}', ["unknown object 'vase'"]),
        ('{"affordance": {"object": "red_cup"}}', ["cannot be the object being moved"]),
        ("{not json", ["not valid JSON"]),
    ],
)
def test_an_invalid_spec_is_refused_with_the_validators_problems(spec: str, problems: list[str]) -> None:
    sim = Simulator(load_scenario("kitchen"))
    before = sim.joint_positions()
    host = SkillHost(CATALOG, {"MANIPULATE": ManipulateSkill.manipulate_factory(SimulatedRobot(sim))})
    prepared = host.prepare("MANIPULATE", {"object": "red_cup", "instruction": "next to the cup", "spec": spec})
    assert isinstance(prepared, SkillResult) and prepared.error_code == SkillErrorCode.INVALID_ARGUMENTS
    assert all(p in prepared.error_msg for p in problems), prepared.error_msg
    assert sim.joint_positions() == before


def test_an_instruction_without_a_place_is_refused_before_anything_moves() -> None:
    sim = Simulator(load_scenario("kitchen"))
    host = SkillHost(CATALOG, {"MANIPULATE": ManipulateSkill.manipulate_factory(SimulatedRobot(sim))})
    prepared = host.prepare("MANIPULATE", {"object": "red_cup", "instruction": "somewhere nice"})
    assert isinstance(prepared, SkillResult) and prepared.error_code == SkillErrorCode.INVALID_ARGUMENTS
    assert "where to go" in prepared.error_msg


class CancelWhileCarrying(Recording):
    """Cancels ``after_s`` of simulated time into the arm's carrying move."""

    def __init__(self, sim: Simulator, after_s: float) -> None:
        super().__init__(sim, threading.Event())
        self.after_s = after_s
        self.cancel_at: float | None = None
        self.cancelled_at: float | None = None

    def publish_feedback(self, feedback: Feedback) -> None:
        super().publish_feedback(feedback)
        if feedback.phase == "moving_arm" and feedback.message.startswith("carrying") and self.cancel_at is None:
            self.cancel_at = self.sim.time + self.after_s

    def wait(self, seconds: float) -> bool:
        going = super().wait(seconds)
        if self.cancel_at is not None and self.cancelled_at is None and self.sim.time >= self.cancel_at:
            self.cancelled_at = self.sim.time
            self.cancel_requested.set()
        return going


def test_cancel_holds_the_arm_where_it_is() -> None:
    sim = beside("red_cup")
    context = CancelWhileCarrying(sim, after_s=0.5)
    result = manipulate(sim, {"object": "red_cup", "instruction": "right of the blue cup"}, context)
    assert result.error_code == SkillErrorCode.CANCELLED, result.error_msg
    assert context.cancelled_at is not None and sim.time - context.cancelled_at <= 0.2
    held = sim.joint_positions()
    sim.advance(1.0)
    assert all(sim.joint_positions()[j] == pytest.approx(held[j], abs=0.02) for j in ARM_JOINTS)
    assert sim.holding("red_cup")  # still in the hand


def test_a_place_the_arm_would_reach_over_another_thing_for_is_refused() -> None:
    sim = beside("blue_cup")
    red = position(sim, "red_cup")
    result = manipulate(sim, {"object": "blue_cup", "instruction": "behind the red cup"}, Recording(sim))
    assert result.error_code == SkillErrorCode.COLLISION_RISK, result.error_msg
    assert "come down on red_cup" in result.error_msg
    assert np.linalg.norm(position(sim, "red_cup") - red) < 0.005
