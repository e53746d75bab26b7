"""MANIPULATE(object, instruction): put an object where a free-form phrase says, VoxPoser's way.

"move the cup to the left of the bowl without touching the vase", "put the mug slowly above the
plate". The phrase becomes a value-map spec (planning/value_maps/spec.py): given as the ``spec``
argument (JSON, as a model client writes it), else written by the skill server's model client
(``spec_from_model``, which falls back to the phrases), else read from the phrases
(``spec_from_phrases``). Nothing written by a model is run as code; an invalid spec is refused with
the validator's problems (INVALID_ARGUMENTS) before anything moves.

1. The object is picked first, by PICK's own code, unless the gripper already holds it.
2. The spec is composed on a workspace grid in the map frame around its reference object; the
   target region's centre is where the object goes. Left, right, in front and behind are seen from
   the robot looking over its arm (base_link -y), as it stands when the spec is composed.
3. The object is set down on what lies under the target (the table beside the bowl, the plate
   under "above the plate"), ``place_height`` over it; a target taken by another thing is refused
   (COLLISION_RISK). With the gripper map closed at the target ("without letting go") the object is
   held there instead.
4. The robot drives within reach if it must, and the arm's move is planned on value maps over its
   plane with the spec's avoidance (margins), velocity (scale, slower near named or fragile things)
   and ignore list; the move's speed follows the velocity map. It ends with a slow straight descent.
5. It opens (per the gripper map at the target), backs off, stows, and checks the scene graph: the
   object lies within ``verify_tolerance`` of the target, and nothing it was told to avoid moved.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from control.arm import DEFAULT_GEOMETRY, ArmGeometry
from control.manip_skills import (
    GRIPPER,
    GRIPPER_OPEN,
    ArmMotionError,
    FloatArray,
    ManipulationSettings,
    PickSkill,
    holds_between_fingers,
    items_in_base,
    to_base,
    to_map,
)
from control.motion_plan import motion_plan_of
from control.nav_skills import NavigationSettings
from control.robot import PoseNavigator, RobotInterface
from control.skills import Feedback, Skill, SkillContext, SkillErrorCode, SkillResult, SkillSpec
from perception.scene_graph import SceneObject
from planning.models.base import ModelClient
from planning.value_maps import (
    ComposedMaps,
    PhraseError,
    Relation,
    SceneItem,
    SpecError,
    ValueMapSpec,
    VoxelGrid,
    compose,
    items_from_scene_graph,
    parse_spec,
    resolve,
    spec_from_model,
    spec_from_phrases,
)
from planning.value_maps.sources import MODEL_ATTEMPTS, resolve_references


@dataclass(frozen=True)
class ManipulateSettings:
    workspace_voxel: float = 0.025  # m: voxel edge of the workspace grid that finds the target
    workspace_half: float = 0.6  # m: at least this much around the reference object
    verify_tolerance: float = 0.06  # m: the object's centre this near the target (across) counts as placed
    disturbed_tolerance: float = 0.02  # m: a thing to avoid that moved further was touched
    support_slack: float = 0.02  # m: a surface this far over the target still counts as under it
    model_attempts: int = MODEL_ATTEMPTS


@dataclass
class ChosenSpec:
    """The spec a MANIPULATE goal runs with (raw JSON data) and where it came from."""

    data: dict[str, Any]
    source: str  # argument | model | phrases
    notes: list[str] = field(default_factory=list)


def _failure(code: SkillErrorCode, message: str) -> ArmMotionError:
    return ArmMotionError(SkillResult.failure(code, message))


def checked_spec(text: str, object_id: str, items: Sequence[SceneItem]) -> dict[str, Any] | SkillResult:
    """A spec given as JSON, validated (schema, then names against the scene) with the object as
    ``moving``; or INVALID_ARGUMENTS listing every problem."""
    try:
        spec = parse_spec(text)
    except SpecError as error:
        return SkillResult.failure(
            SkillErrorCode.INVALID_ARGUMENTS, f"the value-map spec is invalid: {'; '.join(error.problems)}"
        )
    named, problems = resolve_references(spec, items)
    if spec.moving is not None and spec.moving in named and named[spec.moving].id != object_id:
        problems.append(f"at $.moving: the object being moved is {object_id!r}, not {spec.moving!r}")
    target = spec.affordance.object
    if target is not None and target in named and named[target].id == object_id:
        problems.append(f"at $.affordance.object: the target cannot be the object being moved ({object_id!r})")
    if problems:
        return SkillResult.failure(
            SkillErrorCode.INVALID_ARGUMENTS, f"the value-map spec does not fit the scene: {'; '.join(problems)}"
        )
    data: dict[str, Any] = json.loads(text)
    data["moving"] = object_id
    data["avoid"] = [a for a in data.get("avoid", []) if named[a["object"]].id != object_id]
    return data


def phrase_failure(error: PhraseError) -> SkillResult:
    return SkillResult.failure(SkillErrorCode.INVALID_ARGUMENTS, f"the instruction makes no value-map spec: {error}")


def _inside_footprint(item: SceneItem, point: FloatArray) -> bool:
    axis_x, axis_y = item.axes_xy()
    offset = point - item.center
    return abs(float(offset @ axis_x)) <= float(item.half[0]) and abs(float(offset @ axis_y)) <= float(item.half[1])


def support_under(items: Sequence[SceneItem], point: FloatArray, exclude: set[str], slack: float) -> SceneItem | None:
    """The highest item whose footprint holds the point and whose top is not above it (by more than ``slack``)."""
    below = [i for i in items if i.id not in exclude and _inside_footprint(i, point) and i.top <= point[2] + slack]
    return max(below, key=lambda i: i.top, default=None)


def overlapping(items: Sequence[SceneItem], centre: FloatArray, half: FloatArray, exclude: set[str]) -> list[str]:
    """Ids of the items whose boxes (axis-aligned bounds) overlap a box at ``centre`` with half-sizes ``half``."""
    low, high = centre - half, centre + half
    found = []
    for item in items:
        if item.id in exclude:
            continue
        item_low, item_high = item.bounds()
        if bool(np.all(item_low < high) and np.all(low < item_high)):
            found.append(item.id)
    return found


class ManipulateSkill(PickSkill):
    """MANIPULATE(object, instruction, [target], [spec]); see the module docstring."""

    def __init__(
        self,
        spec: SkillSpec,
        robot: RobotInterface,
        settings: NavigationSettings | None = None,
        navigator: PoseNavigator | None = None,
        manipulation: ManipulationSettings | None = None,
        geometry: ArmGeometry = DEFAULT_GEOMETRY,
        model: ModelClient | None = None,
        options: ManipulateSettings | None = None,
    ) -> None:
        super().__init__(spec, robot, settings, navigator, manipulation, geometry)
        self.model = model  # writes the spec when set; the phrases otherwise
        self.options = options or ManipulateSettings()
        self.last_workspace: ComposedMaps | None = None  # where the object was to go, for pictures and tests
        self.last_spec: ChosenSpec | None = None

    @classmethod
    def manipulate_factory(
        cls,
        robot: RobotInterface,
        manipulation: ManipulationSettings | None = None,
        navigator: PoseNavigator | None = None,
        settings: NavigationSettings | None = None,
        model: ModelClient | None = None,
        options: ManipulateSettings | None = None,
    ) -> Callable[[SkillSpec], Skill]:
        return lambda spec: cls(spec, robot, settings, navigator, manipulation, model=model, options=options)

    # --- before anything moves -------------------------------------------------------------------

    def check_goal(self, arguments: Mapping[str, Any]) -> str | SkillResult | None:
        rejected = super().check_goal(arguments)  # a known object, not furniture
        if rejected is not None:
            return rejected
        target = str(arguments.get("target", ""))
        if target:
            rejected = self._reject_unknown(target)
            if rejected is not None:
                return rejected
        graph = self.robot.scene()
        if graph is None:
            return SkillResult.failure(SkillErrorCode.PERCEPTION_STALE, "no scene graph yet")
        items = items_from_scene_graph(graph)
        object_id = str(arguments["object"])
        text = str(arguments.get("spec", ""))
        if text:
            checked = checked_spec(text, object_id, items)
            return checked if isinstance(checked, SkillResult) else None
        if self.model is None:  # the phrases must make a spec now; a model is asked when the goal runs
            try:
                spec_from_phrases(str(arguments["instruction"]), object_id, items)
            except PhraseError as error:
                return phrase_failure(error)
        return None

    # --- running ---------------------------------------------------------------------------------

    def run(self, arguments: Mapping[str, Any], context: SkillContext) -> SkillResult:
        self.last_workspace, self.last_spec = None, None
        object_id, instruction = str(arguments["object"]), str(arguments["instruction"])
        outputs: dict[str, str] = {"object": object_id}
        node = self._object_node(object_id)
        if not self._holds(node, context):
            context.publish_feedback(Feedback("picking", 0.0, -1.0, f"picking up {object_id} first"))
            picked = super().run({"object": object_id}, context)
            if not picked.success:
                return picked
            outputs["picked"] = picked.message
            node = self._object_node(object_id)
        self._check_stop(context, "planning")
        pose = self._pose(context)
        graph = self.robot.scene()
        if graph is None:
            raise _failure(SkillErrorCode.PERCEPTION_STALE, "no scene graph yet")
        items = items_from_scene_graph(graph)
        observer = pose.yaw - math.pi / 2  # the robot looks over its arm
        context.publish_feedback(Feedback("planning", 0.0, -1.0, f"where {object_id} goes: {instruction}"))
        chosen = self._choose_spec(arguments, object_id, instruction, items, observer)
        self.last_spec = chosen
        maps = self._workspace(chosen.data, items, observer)
        self.last_workspace = maps
        doing = f"{object_id} {instruction}"
        context.publish_motion_plan(
            motion_plan_of(
                maps, None, skill=self.spec.name, doing=doing, frame_id="map", stamp=context.now(), layer="workspace"
            )
        )
        spec = maps.spec
        target = maps.target_centroid()
        release = bool(maps.sample("gripper", target) >= 0.5)
        reference = maps.target_item
        goal = self._goal(node, items, target, release, spec, reference)
        outputs |= {
            "spec_source": chosen.source,
            "spec": json.dumps(chosen.data, separators=(",", ":")),
            "target": reference.id if reference is not None else "",
            "relation": spec.affordance.relation.value if reference is not None else "point",
            "observer_yaw": f"{observer:.3f}",
            "target_point": " ".join(f"{v:.3f}" for v in target),
        }
        if chosen.notes:
            outputs["spec_notes"] = "; ".join(chosen.notes)
        avoided = self._avoided(spec, items, object_id)
        before = {i: np.array(graph.objects[i].position, dtype=np.float64) for i in avoided if i in graph.objects}

        goal_node = SceneObject(id=f"{object_id}'s target", label=f"the place {instruction}", position=goal)
        pose, hand_goal, solution = self._within_reach(context, goal_node, lambda p: to_base(p, goal))
        wrist = solution.joints.wrist_yaw
        base_items = self._scene_items(pose, ignore=(object_id,))
        under_arm = overlapping(base_items, *self._arm_box(hand_goal, wrist), set())
        if under_arm:
            raise _failure(
                SkillErrorCode.COLLISION_RISK,
                f"the arm would come down on {', '.join(under_arm)} to put {object_id} there: it lies between "
                "the robot and the target",
            )
        above = hand_goal + np.array([0.0, 0.0, 0.05])
        above[2] = min(above[2], self.geometry.lift_range[1] - 1e-3)
        extra = self._arm_spec(spec, base_items)
        (held_item,) = items_in_base(items_from_scene_graph([node]), pose)
        held_below = max(float(node.size[2]) / 2, self.manipulation.finger_half_height)  # PICK grips mid-height
        # From the stowed carry pose: up inside the base's footprint, then out (no move starts under a top).
        self.reach_out(wrist, float(above[2]), base_items, context, f"carrying {doing}", held_item, held_below)
        self.planned_move(above, wrist, base_items, context, f"carrying {doing}", extra)
        slow = self.manipulation.approach_speed * spec.velocity.scale
        self.move_through([hand_goal], wrist, context, f"lowering {object_id}", slow)
        if release:
            context.publish_feedback(Feedback("releasing", 0.8, -1.0, f"letting go of {object_id}"))
            self.set_gripper(GRIPPER_OPEN, context)
            up = self.hand() + np.array([0.0, 0.0, 0.05])
            up[2] = min(up[2], self.geometry.lift_range[1] - 1e-3)
            done_at = context.now()
            self.move_through([up], wrist, context, "backing off")
            self.stow(context, "stowing the arm")
        else:
            done_at = context.now()
        outputs["released"] = "true" if release else "false"
        return self._verify(context, object_id, target, release, before, done_at, outputs)

    def _holds(self, node: SceneObject, context: SkillContext) -> bool:
        """Whether the gripper holds the object: fingers as wide as it (PLACE's check) and it near the hand."""
        pose = self._pose(context)
        (item,) = items_in_base(items_from_scene_graph([node]), pose)
        fingers = holds_between_fingers(item, self._arm().wrist_yaw, self._joints()[GRIPPER])
        near = float(np.linalg.norm(to_map(pose, self.hand()) - node.position)) <= self.manipulation.tracker_tolerance
        return fingers and near

    def _choose_spec(
        self,
        arguments: Mapping[str, Any],
        object_id: str,
        instruction: str,
        items: Sequence[SceneItem],
        observer: float,
    ) -> ChosenSpec:
        text = str(arguments.get("spec", ""))
        if text:
            checked = checked_spec(text, object_id, items)
            if isinstance(checked, SkillResult):
                raise ArmMotionError(checked)
            return ChosenSpec(checked, "argument")
        try:
            if self.model is not None:
                result = spec_from_model(
                    self.model, instruction, object_id, items, observer, attempts=self.options.model_attempts
                )
                return ChosenSpec(result.spec, result.source, result.notes)
            return ChosenSpec(spec_from_phrases(instruction, object_id, items), "phrases")
        except PhraseError as error:
            raise ArmMotionError(phrase_failure(error)) from None

    def _workspace(self, data: Mapping[str, Any], items: Sequence[SceneItem], observer: float) -> ComposedMaps:
        """The spec composed on a grid in the map frame around its reference (or its point)."""
        try:
            spec = parse_spec(dict(data))
            a = spec.affordance
            if a.object is not None:
                found = resolve(items, a.object)
                if isinstance(found, str):
                    raise SpecError(f"at $.affordance.object: {found}")
                centre, reach = found.center, float(found.half[:2].max()) + (a.distance or 0.1)
            else:
                assert a.point is not None
                centre, reach = np.asarray(a.point, dtype=np.float64), 0.0
            centre = centre + np.asarray(a.offset)
            options = self.options
            half = max(options.workspace_half, reach + float(np.abs(a.offset).max()) + 0.2)
            count = int(min(max(math.ceil(2 * half / options.workspace_voxel), 16), 128))
            low = centre - half
            low[2] = max(low[2], 0.0)
            grid = VoxelGrid(tuple(low), tuple(low + 2 * half), (count, count, count))
            return compose(spec, grid, items, observer_yaw=observer)
        except SpecError as error:
            raise _failure(
                SkillErrorCode.INVALID_ARGUMENTS, f"the value-map spec cannot be composed: {error}"
            ) from None

    def _goal(
        self,
        node: SceneObject,
        items: Sequence[SceneItem],
        target: FloatArray,
        release: bool,
        spec: ValueMapSpec,
        reference: SceneItem | None,
    ) -> FloatArray:
        """Where the grasp centre goes (map frame): the object set down on what lies under the target,
        or, when it is to stay held, with its middle at the target (never into that surface)."""
        settings = self.manipulation
        height = max(float(node.size[2]), 0.02)
        below = max(height / 2, settings.finger_half_height)  # PICK closes this high over the bottom
        exclude = {node.id}
        if reference is not None and spec.affordance.relation == Relation.INSIDE:
            exclude.add(reference.id)  # inside a bowl it stands on what the bowl stands on
        support = support_under(items, target, exclude, self.options.support_slack)
        surface = support.top if support is not None else 0.0
        hand_z = surface + settings.place_height + below
        if not release:
            hand_z = max(hand_z, float(target[2]) - height / 2 + below)
        half = np.maximum(np.asarray(node.size, dtype=np.float64) / 2, 0.01)
        centre = np.array([target[0], target[1], hand_z - below + height / 2])
        ignore = exclude | ({support.id} if support is not None else set())
        taken = overlapping(items, centre, half, ignore)
        if taken:
            raise _failure(
                SkillErrorCode.COLLISION_RISK,
                f"the place for {node.id} ({', '.join(f'{v:.2f}' for v in target)}) is taken by {', '.join(taken)}",
            )
        return np.array([target[0], target[1], hand_z])

    def _arm_box(self, hand: FloatArray, wrist: float) -> tuple[FloatArray, FloatArray]:
        """Centre and half-sizes (base_link, axis-aligned) of what the fingers, the gripper and the arm
        tube fill with the grasp centre at ``hand``: from the fingertips' bottom up, back to the mast."""
        geometry = self.geometry
        wrist_x = hand[0] - geometry.gripper_length * math.sin(wrist)
        low = np.array([min(hand[0], wrist_x) - 0.03, hand[1], hand[2] - self.manipulation.finger_half_height])
        high = np.array([max(hand[0], wrist_x) + 0.03, geometry.mast_xy[1], hand[2] + 0.03])
        return (low + high) / 2, (high - low) / 2

    @staticmethod
    def _avoided(spec: ValueMapSpec, items: Sequence[SceneItem], object_id: str) -> list[str]:
        """Ids of the things the spec names to avoid."""
        found = (resolve(items, a.object) for a in spec.avoid)
        return [f.id for f in found if isinstance(f, SceneItem) and f.id != object_id]

    @staticmethod
    def _arm_spec(spec: ValueMapSpec, items: Sequence[SceneItem]) -> dict[str, Any]:
        """The spec's avoidance, ignore list and velocity for the arm's move, by ids of ``items``."""

        def ids(names: Sequence[str]) -> list[str]:
            found = (resolve(items, name) for name in names)
            return [f.id for f in found if isinstance(f, SceneItem)]

        margins = {a.object: a.margin for a in spec.avoid}
        avoid = [{"object": i, "margin": margins[n]} for n in margins for i in ids([n])]
        v = spec.velocity
        slow = {s.object: s for s in v.slow_near}
        velocity = {
            "scale": v.scale,
            "slow_near": [
                {"object": i, "radius": slow[n].radius, "scale": slow[n].scale} for n in slow for i in ids([n])
            ],
            "fragile_scale": v.fragile_scale,
            "fragile_radius": v.fragile_radius,
        }
        return {"avoid": avoid, "ignore": ids(spec.ignore), "velocity": velocity}

    def _verify(
        self,
        context: SkillContext,
        object_id: str,
        target: FloatArray,
        release: bool,
        before: Mapping[str, FloatArray],
        done_at: float,
        outputs: dict[str, str],
    ) -> SkillResult:
        """Check the scene graph: the object at the target, and nothing it was to avoid moved."""
        context.publish_feedback(Feedback("verifying", 0.95, -1.0, f"looking at where {object_id} ended"))
        message = f"moved {object_id} {'to' if release else 'and held it at'} the target"
        seen = self.seen_since(context, object_id, done_at)
        if seen is None:
            outputs["tracker"] = "not seen since the move"
            return SkillResult(message=message, outputs=outputs)
        graph = self.robot.scene()
        for other, was in before.items():
            now = graph.get(other) if graph is not None else None
            moved = float(np.linalg.norm(now.position - was)) if now is not None else 0.0
            if moved > self.options.disturbed_tolerance:
                return SkillResult.failure(
                    SkillErrorCode.COLLISION_RISK,
                    f"{other} moved {moved * 100:.0f} cm while {object_id} was moved: it was to be avoided",
                )
        gap = float(np.hypot(*(seen.position[:2] - target[:2])))
        if gap > self.options.verify_tolerance:
            where = ", ".join(f"{v:.2f}" for v in seen.position)
            return SkillResult.failure(
                SkillErrorCode.UNKNOWN,
                f"{object_id} ended {gap * 100:.0f} cm from the target: seen at ({where})",
            )
        outputs["tracker"] = f"within {gap * 100:.1f} cm of the target"
        return SkillResult(message=message, outputs=outputs)
