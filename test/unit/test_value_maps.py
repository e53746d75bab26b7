"""VoxPoser-style value maps: the grid, the primitives, the spec, composition, both planners, pictures."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from perception.scene_graph import PARTS_ATTRIBUTE, ObjectKind, SceneGraph, SceneObject, format_parts, parse_parts
from perception.semantic_map import furniture_attributes
from planning.value_maps import (
    DEFAULT_PLANNER,
    PLANNERS,
    VALUE_MAP_SPEC_SCHEMA,
    ComposedMaps,
    ManipulationPath,
    Relation,
    RotationMode,
    SceneItem,
    SpecError,
    ValueMapSpec,
    VoxelGrid,
    affordance_map,
    compose,
    default_pick_spec,
    default_place_spec,
    grasp_yaw,
    items_from_scene_graph,
    parse_spec,
    plan,
    plan_greedy,
    plan_search,
    render_slices,
    workspace_around,
)
from planning.value_maps.planners import hits
from sim.scenario import Furniture

# A 0.8 m cube of 40^3 voxels (2 cm) for most tests; one test runs on the default 100^3.
GRID = VoxelGrid((0.0, -0.4, 0.4), (0.8, 0.4, 1.2), (40, 40, 40))


def item(
    item_id: str,
    centre: tuple[float, float, float],
    size: tuple[float, float, float],
    *,
    label: str | None = None,
    yaw: float = 0.0,
    fragile: bool = False,
) -> SceneItem:
    return SceneItem(item_id, label or item_id, np.array(centre), np.array(size), yaw=yaw, fragile=fragile)


BOWL = item("bowl_1", (0.4, 0.0, 0.7), (0.16, 0.16, 0.08), label="bowl")
VASE = item("vase_1", (0.4, 0.25, 0.75), (0.08, 0.08, 0.2), label="vase", fragile=True)
CUP = item("cup_1", (0.15, -0.2, 0.9), (0.06, 0.06, 0.08), label="cup")
SCENE = [BOWL, VASE, CUP]


def target_points(maps: ComposedMaps) -> np.ndarray:
    return maps.grid.index_to_world(np.argwhere(maps.target))


def spec_for(**affordance: Any) -> dict[str, Any]:
    return {"affordance": affordance, "avoid_all": False}


# ------------------------------------------------------------------------------------------------
# Grid and scene


def test_grid_converts_between_indices_and_metres() -> None:
    assert GRID.voxel_size == pytest.approx([0.02, 0.02, 0.02])
    assert GRID.zeros().dtype == np.float32 and GRID.zeros().shape == (40, 40, 40)
    index = np.array([[0, 0, 0], [39, 20, 5]])
    world = GRID.index_to_world(index)
    assert world[0] == pytest.approx([0.01, -0.39, 0.41])
    assert np.array_equal(GRID.world_to_index(world), index)
    assert GRID.contains(np.array([[0.1, 0.0, 0.5], [0.9, 0.0, 0.5]])).tolist() == [True, False]
    assert GRID.nearest_index(np.array([5.0, -5.0, 0.8])).tolist() == [39, 0, 20]
    assert GRID.clamp(np.array([5.0, 0.0, 0.0])) == pytest.approx([0.79, 0.0, 0.41])
    volume = GRID.zeros()
    volume[39, 0, 20] = 3.0
    assert GRID.sample(volume, np.array([[5.0, -5.0, 0.8]]))[0] == 3.0


@pytest.mark.parametrize(
    ("lower", "upper", "shape"),
    [
        ((0, 0, 0), (1, 1, 1), (7, 10, 10)),
        ((0, 0, 0), (1, 0, 1), (10, 10, 10)),
        ((0, 0, math.nan), (1, 1, 1), (8, 8, 8)),
    ],
)
def test_grid_rejects_bad_boxes(lower: tuple[float, ...], upper: tuple[float, ...], shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError):
        VoxelGrid(lower, upper, shape)  # type: ignore[arg-type]


def test_workspace_covers_points_and_items_with_margin() -> None:
    grid = workspace_around(np.array([[0.2, 0.0, 0.8], [0.7, 0.3, 0.75]]), margin=0.1, items=[VASE])
    assert grid.shape == (100, 100, 100)
    extent = grid.upper_array - grid.lower_array
    assert extent == pytest.approx(np.full(3, extent[0]))  # cubic
    assert np.all(grid.lower_array <= np.array([0.1, -0.1, 0.55]) + 1e-9)
    assert np.all(grid.upper_array >= np.array([0.8, 0.4, 0.95]) - 1e-9)
    raised = workspace_around(np.array([0.0, 0.0, 0.0]), floor=0.5, min_extent=0.4)
    assert raised.lower[2] == pytest.approx(0.5)


def test_items_from_the_scene_graph() -> None:
    graph = SceneGraph()
    half = math.sqrt(0.5)
    mug = SceneObject(
        "mug_1",
        "mug",
        position=np.array([1.0, 2.0, 0.8]),
        size=np.array([0.08, 0.0, 0.1]),  # no depth measured
        orientation=np.array([0.0, 0.0, half, half]),  # a quarter turn about z
        attributes={"material": "ceramic"},
    )
    graph.upsert(mug)
    graph.upsert(SceneObject("table_1", "table", kind=ObjectKind.FURNITURE, size=np.array([1.0, 0.6, 0.7])))
    graph.upsert(SceneObject("kitchen", "kitchen", kind=ObjectKind.ROOM))
    graph.upsert(SceneObject("glass_1", "glass", attributes={"fragile": "True"}))
    items = {i.id: i for i in items_from_scene_graph(graph)}
    assert set(items) == {"mug_1", "table_1", "glass_1"}
    assert items["mug_1"].size == pytest.approx([0.08, 0.05, 0.1])  # zero size: the default
    assert items["mug_1"].yaw == pytest.approx(math.pi / 2) and items["mug_1"].fragile
    assert items["glass_1"].fragile and not items["table_1"].fragile
    assert items["glass_1"].size == pytest.approx([0.05, 0.05, 0.05])
    assert items["table_1"].kind == "furniture"


def shelf_node(parts: bool = True) -> SceneObject:
    """A shelf 0.3 m deep, open at +x, with boards at 0.4 and 0.8 m, as the semantic map gives it."""
    piece = Furniture(id="shelf", room="r", type="shelf", pose=(0.4, 0.0, 0.0), size=(0.3, 0.6, 0.8), shelves=2)
    attributes = furniture_attributes(piece)
    if not parts:
        del attributes[PARTS_ATTRIBUTE]
    return SceneObject(
        "shelf",
        "shelf",
        kind=ObjectKind.FURNITURE,
        position=np.array([0.4, 0.0, 0.4]),
        size=np.array(piece.size),
        attributes=attributes,
    )


def test_parts_come_from_the_scene_graph_and_stand_where_the_simulator_builds_them() -> None:
    (shelf,) = items_from_scene_graph([shelf_node()])
    solids = shelf.solids()
    assert len(solids) == 5  # two boards, two sides, the back
    assert [round(s.top, 3) for s in solids[:2]] == [0.4, 0.8]
    assert solids[-1].center[0] == pytest.approx(0.26)  # the back closes the -x side
    turned = SceneItem(
        "t", "t", np.array([1.0, 1.0, 0.5]), np.ones(3), yaw=math.pi / 2, parts=(((0.2, 0.0, 0.1), (0.1, 0.1, 0.1)),)
    )
    assert turned.solids()[0].center == pytest.approx([1.0, 1.2, 0.6])
    (solid,) = items_from_scene_graph([shelf_node(parts=False)])
    assert solid.solids() == [solid]
    broken = SceneObject(
        "b", "b", kind=ObjectKind.FURNITURE, size=np.ones(3), attributes={PARTS_ATTRIBUTE: "0 0 0 1 1"}
    )
    assert items_from_scene_graph([broken])[0].parts == ()  # unreadable parts: the whole box
    boxes = [((0.0, -0.1, 0.25), (0.3, 0.02, 0.5))]
    assert parse_parts(format_parts(boxes)) == boxes
    with pytest.raises(ValueError, match="positive size"):
        parse_parts("0 0 0 1 0 1")


def test_the_hand_reaches_between_a_shelfs_boards_from_its_open_side() -> None:
    start, goal = np.array([0.75, 0.0, 0.6]), np.array([0.42, 0.0, 0.6])
    spec = {"affordance": {"point": goal.tolist(), "tolerance": 0.015}, "avoid_margin": 0.04}
    maps = compose(spec, GRID, items_from_scene_graph([shelf_node()]))
    assert not maps.sample("impassable", goal) and maps.sample("impassable", np.array([0.4, 0.0, 0.785]))
    path = plan_search(maps, start)
    assert path.success, path.reason
    assert np.all(path.waypoints[:, 2] > 0.45) and np.all(path.waypoints[:, 2] < 0.75)  # between the boards
    solid = compose(spec, GRID, items_from_scene_graph([shelf_node(parts=False)]))
    assert solid.sample("impassable", np.array([0.45, 0.0, 0.6]))  # a solid box: the inside is cut off
    assert not plan_search(solid, start).success


# ------------------------------------------------------------------------------------------------
# Affordance


def test_above_lies_over_the_footprint_above_the_top() -> None:
    points = GRID.index_to_world(np.argwhere(affordance_map(GRID, BOWL, Relation.ABOVE) == 1.0))
    assert len(points)
    assert np.all(np.abs(points[:, :2] - BOWL.center[:2]) <= BOWL.half[:2])
    assert np.all(points[:, 2] > BOWL.top)
    assert points[:, 2].mean() == pytest.approx(BOWL.top + 0.10, abs=0.015)


def test_inside_lies_within_the_top_part() -> None:
    points = GRID.index_to_world(np.argwhere(affordance_map(GRID, BOWL, Relation.INSIDE) == 1.0))
    assert len(points)
    assert np.all(np.abs(points[:, :2] - BOWL.center[:2]) <= BOWL.half[:2])
    assert np.all((points[:, 2] <= BOWL.top) & (points[:, 2] >= BOWL.center[2] - 0.01))


@pytest.mark.parametrize(
    ("relation", "observer_yaw", "direction"),
    [
        (Relation.LEFT_OF, 0.0, (0, 1)),
        (Relation.LEFT_OF, math.pi, (0, -1)),
        (Relation.RIGHT_OF, 0.0, (0, -1)),
        (Relation.RIGHT_OF, math.pi / 2, (1, 0)),
        (Relation.IN_FRONT_OF, 0.0, (-1, 0)),  # toward the observer
        (Relation.BEHIND, 0.0, (1, 0)),
        (Relation.BEHIND, -math.pi / 2, (0, -1)),
    ],
)
def test_side_relations_are_seen_from_the_observer(
    relation: Relation, observer_yaw: float, direction: tuple[int, int]
) -> None:
    volume = affordance_map(GRID, BOWL, relation, observer_yaw=observer_yaw, distance=0.1)
    centroid = GRID.index_to_world(np.argwhere(volume == volume.max())).mean(axis=0)
    expected = BOWL.center[:2] + np.array(direction) * (0.08 + 0.1)
    assert centroid[:2] == pytest.approx(expected, abs=0.012)
    assert centroid[2] == pytest.approx(BOWL.center[2], abs=0.012)


def test_beside_is_both_sides_and_at_is_the_centre() -> None:
    beside = GRID.index_to_world(np.argwhere(affordance_map(GRID, BOWL, Relation.BESIDE) == 1.0))
    assert (beside[:, 1] > BOWL.center[1] + 0.08).any() and (beside[:, 1] < BOWL.center[1] - 0.08).any()
    assert not (np.abs(beside[:, 1] - BOWL.center[1]) < 0.08).any()
    at = GRID.index_to_world(np.argwhere(affordance_map(GRID, BOWL, Relation.AT) == 1.0))
    assert at.mean(axis=0) == pytest.approx(BOWL.center, abs=0.011)
    assert np.linalg.norm(at - BOWL.center, axis=1).max() <= 0.02 + 1e-9


def test_offsets_shift_the_target_and_points_are_targets() -> None:
    plain = GRID.index_to_world(np.argwhere(affordance_map(GRID, BOWL, Relation.ABOVE) == 1.0)).mean(axis=0)
    shifted = affordance_map(GRID, BOWL, Relation.ABOVE, offset=(0.06, -0.04, 0.1))
    moved = GRID.index_to_world(np.argwhere(shifted == 1.0)).mean(axis=0)
    assert moved - plain == pytest.approx([0.06, -0.04, 0.1], abs=0.011)
    point = affordance_map(GRID, None, point=(0.3, 0.1, 0.9), tolerance=0.001)
    assert np.argwhere(point == 1.0).tolist() == [GRID.world_to_index(np.array([0.3, 0.1, 0.9])).tolist()]
    with pytest.raises(ValueError, match="outside the grid"):
        affordance_map(GRID, None, point=(3.0, 0.0, 0.8))


# ------------------------------------------------------------------------------------------------
# Spec


FULL_SPEC: dict[str, Any] = {
    "affordance": {"object": "bowl", "relation": "above", "offset": [0, 0, 0.05], "distance": 0.1, "tolerance": 0.03},
    "avoid": [{"object": "vase", "margin": 0.08}],
    "avoid_all": True,
    "avoid_margin": 0.04,
    "moving": "cup",
    "ignore": [],
    "rotation": {"mode": "top_down", "yaw_from": "bowl", "radius": 0.2},
    "velocity": {"scale": 0.5, "slow_near": [{"object": "vase", "radius": 0.2, "scale": 0.3}], "fragile_scale": 0.8},
    "gripper": {"open": False, "at_target": "open", "radius": 0.04},
}


def test_a_good_spec_parses_and_round_trips() -> None:
    spec = parse_spec(FULL_SPEC)
    assert spec.affordance.relation is Relation.ABOVE and spec.affordance.offset == (0.0, 0.0, 0.05)
    assert spec.avoid[0].margin == 0.08 and spec.moving == "cup" and spec.avoid_margin == 0.04
    assert spec.rotation.mode is RotationMode.TOP_DOWN and spec.rotation.yaw_from == "bowl"
    assert spec.velocity.slow_near[0].scale == 0.3 and spec.gripper.at_target.value == "open"
    assert parse_spec(spec.to_dict()) == spec
    assert parse_spec(json.dumps(FULL_SPEC)) == spec
    minimal = parse_spec({"affordance": {"point": [0.1, 0.2, 0.3]}})
    assert minimal.affordance.point == (0.1, 0.2, 0.3) and minimal.avoid_all and minimal.gripper.open
    assert VALUE_MAP_SPEC_SCHEMA["additionalProperties"] is False


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"affordance": {"object": "bowl"}, "colour": "red"}, ["at $:", "'colour'", "allowed keys"]),
        ({"affordance": {"object": "bowl", "relation": "over"}}, ["$.affordance.relation", "'over' is not one of"]),
        ({"affordance": {"object": "bowl"}, "avoid": [{"object": "vase", "margin": -0.1}]}, ["$.avoid[0].margin"]),
        ({"affordance": {"object": "bowl"}, "avoid_all": "yes"}, ["$.avoid_all", "not of type 'boolean'"]),
        ({"affordance": {"object": 3}}, ["$.affordance.object", "not of type 'string'"]),
        ([1, 2], ["must be a JSON object, got list"]),
        ("{not json", ["not valid JSON"]),
        ({"affordance": {"object": "bowl"}, "velocity": {"scale": math.nan}}, ["$.velocity.scale", "not a finite"]),
        ({"affordance": {"object": "bowl", "point": [0, 0, 0]}}, ["$.affordance", "exactly one of"]),
        ({"affordance": {"point": [0, 0, 0], "relation": "above"}}, ["$.affordance", "exactly one of"]),
        ({"affordance": {"object": "bowl"}, "rotation": {"yaw": 0.1, "yaw_from": "bowl"}}, ["'yaw' or 'yaw_from'"]),
        ({"affordance": {"object": "bowl"}, "velocity": {"scale": 0}}, ["$.velocity.scale"]),
        ({"affordance": {"object": "bowl", "offset": [0, 0]}}, ["$.affordance.offset"]),
        ({}, ["'affordance' is a required property"]),
    ],
)
def test_bad_specs_name_the_problem(data: object, expected: list[str]) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(data)
    for text in expected:
        assert text in str(caught.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec({"affordance": {"object": "bowl", "relation": "near"}, "avoid_margin": 2.0, "extra": 1})
    assert len(caught.value.problems) == 3
    assert isinstance(caught.value, ValueError)


def test_unknown_objects_are_an_error_at_composition_naming_the_known_ones() -> None:
    spec = parse_spec({"affordance": {"object": "plate", "relation": "above"}, "avoid": [{"object": "jug"}]})
    with pytest.raises(SpecError) as caught:
        compose(spec, GRID, SCENE)
    message = str(caught.value)
    assert "$.affordance.object: unknown object 'plate'" in message and "'jug'" in message
    assert "known: bowl_1 (bowl), cup_1 (cup), vase_1 (vase)" in message
    assert len(caught.value.problems) == 2
    twins = [
        item("apple_1", (0.3, 0.0, 0.8), (0.05, 0.05, 0.05), label="apple"),
        item("apple_2", (0.5, 0.0, 0.8), (0.05, 0.05, 0.05), label="apple"),
    ]
    with pytest.raises(SpecError, match="several items"):
        compose({"affordance": {"object": "apple"}}, GRID, twins)
    with pytest.raises(SpecError, match="outside the grid"):
        compose({"affordance": {"point": [5.0, 0.0, 0.0]}}, GRID, SCENE)


def test_default_pick_and_place_specs() -> None:
    pick = default_pick_spec("cup_1")
    assert pick.affordance.object == "cup_1" and pick.affordance.relation is Relation.AT
    assert pick.moving == "cup_1" and pick.avoid_all and pick.rotation.yaw_from == "cup_1"
    assert pick.gripper.open and pick.gripper.at_target.value == "close"
    assert default_pick_spec("cup_1", "side").rotation.mode is RotationMode.SIDE
    place = default_place_spec("cup_1", "bowl_1")
    assert place.affordance.object == "bowl_1" and place.affordance.relation is Relation.ABOVE
    assert place.moving == "cup_1" and not place.gripper.open and place.gripper.at_target.value == "open"
    assert default_place_spec("cup_1", "bowl_1", "inside").affordance.relation is Relation.INSIDE


# ------------------------------------------------------------------------------------------------
# Composition: avoidance, velocity, gripper, rotation


def test_avoidance_is_high_within_the_margin_and_spares_the_moving_object() -> None:
    maps = compose(
        {"affordance": {"object": "bowl", "relation": "above"}, "avoid_margin": 0.06, "moving": "cup"}, GRID, SCENE
    )
    assert set(maps.obstacles) == {"bowl_1", "vase_1"}
    assert maps.avoidance.dtype == np.float32 and maps.avoidance.min() >= 0.0 and maps.avoidance.max() == 1.0
    near_vase = VASE.center + np.array([0.0, 0.04 + 0.04, 0.0])  # 4 cm off its side: within the margin
    assert maps.sample("avoidance", near_vase) >= 0.4
    assert maps.sample("avoidance", VASE.center) == pytest.approx(1.0, abs=0.05)
    assert maps.sample("avoidance", np.array([0.7, -0.3, 1.1])) < 0.01
    assert maps.sample("avoidance", CUP.center) < 0.01 and not maps.sample("impassable", CUP.center)
    assert maps.sample("impassable", VASE.center) and maps.sample("impassable", BOWL.center)
    assert not np.any(maps.impassable & maps.target) and np.all(maps.avoidance[maps.target] == 0.0)
    assert maps.cost == pytest.approx(2.0 * maps.target_distance / maps.target_distance.max() + maps.avoidance)


def test_only_listed_obstacles_without_avoid_all_and_the_cloud() -> None:
    spec = {"affordance": {"point": [0.7, 0.0, 0.8]}, "avoid_all": False, "avoid": [{"object": "vase", "margin": 0.1}]}
    maps = compose(spec, GRID, SCENE)
    assert maps.obstacles == ("vase_1",)
    assert maps.sample("avoidance", VASE.center + np.array([0.12, 0.0, 0.0])) > 0.3  # 8 cm off its side
    assert maps.sample("avoidance", BOWL.center) < 0.01
    cloud = np.array([[0.6, -0.2, 1.0], [0.15, -0.2, 0.9]])  # the second point lies in the moving cup
    clouded = compose({"affordance": {"point": [0.7, 0.0, 0.8]}, "moving": "cup_1"}, GRID, SCENE, cloud=cloud)
    assert clouded.sample("impassable", cloud[0]) and clouded.sample("avoidance", cloud[0]) > 0.5
    assert not clouded.sample("impassable", cloud[1])
    assert clouded.sample("avoidance", cloud[1]) < 0.05


def test_the_target_object_of_at_and_inside_is_not_an_obstacle() -> None:
    assert "bowl_1" not in compose({"affordance": {"object": "bowl", "relation": "inside"}}, GRID, SCENE).obstacles
    assert "bowl_1" not in compose({"affordance": {"object": "bowl"}}, GRID, SCENE).obstacles
    above = compose({"affordance": {"object": "bowl", "relation": "above"}, "ignore": ["vase"]}, GRID, SCENE)
    assert above.obstacles == ("bowl_1", "cup_1")


def test_velocity_is_lower_near_fragile_and_named_items() -> None:
    far = np.array([0.7, -0.3, 1.1])
    maps = compose({"affordance": {"object": "bowl", "relation": "above"}}, GRID, SCENE)
    assert maps.sample("velocity", far) == 1.0
    assert maps.sample("velocity", VASE.center + np.array([0.0, 0.1, 0.0])) == pytest.approx(0.5)  # fragile vase
    assert maps.sample("velocity", CUP.center) == 1.0
    spec = {
        "affordance": {"object": "bowl", "relation": "above"},
        "velocity": {"scale": 0.8, "slow_near": [{"object": "cup", "radius": 0.1, "scale": 0.25}], "fragile_scale": 1},
    }
    slow = compose(spec, GRID, SCENE)
    assert slow.sample("velocity", far) == pytest.approx(0.8)
    assert slow.sample("velocity", CUP.center + np.array([0.0, 0.0, 0.1])) == pytest.approx(0.2)
    assert slow.sample("velocity", VASE.center) == pytest.approx(0.8)  # fragile slowing turned off
    assert slow.velocity.min() > 0.0 and slow.velocity.max() <= 0.8 + 1e-6


def test_gripper_opens_or_closes_at_the_target() -> None:
    pick = compose(default_pick_spec("cup_1"), GRID, SCENE)
    assert pick.sample("gripper", np.array([0.7, 0.3, 1.1])) == 1.0
    assert np.all(pick.gripper[pick.target] == 0.0)
    place = compose(default_place_spec("cup_1", "bowl_1"), GRID, SCENE)
    assert place.sample("gripper", np.array([0.7, 0.3, 1.1])) == 0.0
    assert np.all(place.gripper[place.target] == 1.0)
    constant = compose({"affordance": {"object": "bowl", "relation": "above"}, "gripper": {"open": False}}, GRID, SCENE)
    assert np.all(constant.gripper == 0.0)


def test_rotation_map_values() -> None:
    long_box = item("box_1", (0.4, 0.0, 0.7), (0.2, 0.06, 0.06), label="box", yaw=0.3)
    assert grasp_yaw(long_box) == pytest.approx(0.3 + math.pi / 2 - math.pi)  # across its short side
    assert grasp_yaw(BOWL, RotationMode.SIDE, observer_yaw=1.0) == pytest.approx(1.0)
    maps = compose(
        {"affordance": {"object": "box_1"}, "rotation": {"yaw_from": "box_1", "radius": 0.1}}, GRID, [long_box]
    )
    assert maps.sample("rotation", long_box.center) == pytest.approx(grasp_yaw(long_box))
    assert math.isnan(float(maps.sample("rotation", np.array([0.7, 0.3, 1.1]))))
    fixed = compose({"affordance": {"object": "box_1"}, "rotation": {"mode": "side", "yaw": -0.5}}, GRID, [long_box])
    assert np.all(fixed.rotation == np.float32(-0.5)) and fixed.rotation_mode is RotationMode.SIDE
    free = compose({"affordance": {"object": "box_1"}}, GRID, [long_box])
    assert np.all(np.isnan(free.rotation))


# ------------------------------------------------------------------------------------------------
# Planners


def wall_with_gap() -> list[SceneItem]:
    """A wall across the grid at x = 0.4 with a 12 cm square gap at y = 0.25, z = 0.8."""
    x, t = 0.4, 0.04
    return [
        item("wall_low", (x, 0.0, 0.6), (t, 0.8, 0.4)),  # z 0.4 .. 0.8 - 0.06
        item("wall_high", (x, 0.0, 1.03), (t, 0.8, 0.34)),
        item("wall_left", (x, -0.1, 0.8), (t, 0.6, 0.14)),  # y -0.4 .. 0.2 - gap .. 0.31
        item("wall_right", (x, 0.36, 0.8), (t, 0.1, 0.14)),
    ]


def cup_trap() -> list[SceneItem]:
    """A box open toward -x (the start), between the start and the target."""
    t, side, cx = 0.04, 0.32, 0.42
    half = side / 2
    return [
        item("back", (cx + half, 0.0, 0.8), (t, side, side)),
        item("left", (cx, half, 0.8), (side, t, side)),
        item("right", (cx, -half, 0.8), (side, t, side)),
        item("top", (cx, 0.0, 0.8 + half), (side, side, t)),
        item("bottom", (cx, 0.0, 0.8 - half), (side, side, t)),
    ]


def check_path(maps: ComposedMaps, path: ManipulationPath, start: np.ndarray, spacing: float = 0.015) -> None:
    assert path.success and path.reason == ""
    points = path.waypoints
    assert points[0] == pytest.approx(start)
    assert maps.sample("target", points[-1])
    assert not hits(maps.grid, maps.impassable, points)
    assert np.linalg.norm(np.diff(points, axis=0), axis=1).max() <= spacing + 1e-9
    assert len(path.speed_scale) == len(path.gripper_open) == len(path.wrist_yaw) == len(points)
    voxels = path.voxels
    assert not maps.impassable[voxels[:, 0], voxels[:, 1], voxels[:, 2]].any()
    assert np.abs(np.diff(voxels, axis=0)).max() <= 1  # 26-neighbour steps
    assert path.cost == pytest.approx(float(maps.cost[voxels[:, 0], voxels[:, 1], voxels[:, 2]].sum()), rel=1e-5)


@pytest.mark.parametrize("planner", sorted(PLANNERS))
def test_both_planners_go_around_a_box(planner: str) -> None:
    start = np.array([0.1, 0.02, 0.8])
    box = item("box", (0.4, 0.1, 0.8), (0.08, 0.16, 0.16))
    maps = compose({"affordance": {"point": [0.7, 0.0, 0.8]}, "avoid_margin": 0.03}, GRID, [box])
    path = plan(maps, start, planner)
    check_path(maps, path, start)
    assert path.planner == planner
    assert path.length < 0.9


def test_search_finds_the_gap_in_a_wall() -> None:
    start = np.array([0.1, -0.2, 0.8])
    maps = compose({"affordance": {"point": [0.7, -0.2, 0.8]}}, GRID, wall_with_gap())
    path = plan_search(maps, start)
    check_path(maps, path, start)
    crossing = path.waypoints[np.argmin(np.abs(path.waypoints[:, 0] - 0.4))]
    assert 0.2 < crossing[1] < 0.31 and 0.73 < crossing[2] < 0.87
    greedy = plan_greedy(maps, start)
    assert not greedy.success and greedy.reason == "local minimum"  # the wall stops steepest descent


def test_greedy_is_trapped_in_a_cup_where_search_succeeds() -> None:
    start = np.array([0.12, 0.0, 0.8])
    maps = compose({"affordance": {"point": [0.72, 0.0, 0.8]}}, GRID, cup_trap())
    greedy = plan_greedy(maps, start)
    assert not greedy.success and greedy.reason == "local minimum"
    assert 0.3 < greedy.waypoints[-1][0] < 0.6  # stuck inside the cup
    assert not hits(maps.grid, maps.impassable, greedy.waypoints)
    search = plan_search(maps, start)
    check_path(maps, search, start)
    assert search.expanded > 0 and search.stats["corridors"] >= 1


def test_search_widens_its_corridor_when_the_coarse_route_crosses_a_thin_wall() -> None:
    # One-voxel walls inside 4-voxel blocks: the coarse route goes through; the gap is at y 0.2 .. 0.3.
    walls = [item("wall_a", (0.41, -0.1, 0.8), (0.02, 0.6, 0.8)), item("wall_b", (0.41, 0.35, 0.8), (0.02, 0.1, 0.8))]
    maps = compose({"affordance": {"point": [0.7, -0.2, 0.8]}}, GRID, walls, core_margin=0.0)
    start = np.array([0.1, -0.2, 0.8])
    path = plan_search(maps, start, factor=4)
    check_path(maps, path, start)
    assert path.stats["corridors"] >= 2
    assert 0.2 < path.waypoints[np.argmin(np.abs(path.waypoints[:, 0] - 0.41)), 1] < 0.3


def test_search_falls_back_to_every_voxel_for_a_slit_narrower_than_a_block() -> None:
    slit = (0.2, 0.24)  # two voxels wide, over the whole height
    walls = [
        item("wall_a", (0.41, (slit[0] - 0.4) / 2, 0.8), (0.02, slit[0] + 0.4, 0.8)),
        item("wall_b", (0.41, (slit[1] + 0.4) / 2, 0.8), (0.02, 0.4 - slit[1], 0.8)),
    ]
    maps = compose({"affordance": {"point": [0.7, -0.2, 0.8]}}, GRID, walls, core_margin=0.0)
    start = np.array([0.1, -0.2, 0.8])
    path = plan_search(maps, start, factor=4)
    check_path(maps, path, start)
    assert path.stats["corridors"] == 3
    assert slit[0] < path.waypoints[np.argmin(np.abs(path.waypoints[:, 0] - 0.41)), 1] < slit[1]


def test_failures_have_reasons() -> None:
    maps = compose({"affordance": {"point": [0.7, 0.0, 0.8]}}, GRID, cup_trap())
    inside = np.array([0.42 + 0.16, 0.0, 0.8])
    for planner in PLANNERS.values():
        assert planner(maps, inside).reason == "the start lies inside an obstacle"
        assert planner(maps, np.array([2.0, 0.0, 0.8])).reason == "the start lies outside the grid"
    sealed = compose(
        {"affordance": {"point": [0.4, 0.0, 0.8]}, "avoid_margin": 0.01},
        GRID,
        [*cup_trap(), item("lid", (0.42 - 0.16, 0.0, 0.8), (0.04, 0.32, 0.32))],
    )
    path = plan_search(sealed, np.array([0.1, 0.0, 0.8]))
    assert not path.success and path.reason.startswith("no path")
    fine = VoxelGrid(GRID.lower, GRID.upper, (100, 100, 100))  # walls of 4-voxel blocks: the coarse level sees a way
    sealed_fine = compose(
        {"affordance": {"point": [0.4, 0.0, 0.8]}, "avoid_margin": 0.01},
        fine,
        [*cup_trap(), item("lid", (0.42 - 0.16, 0.0, 0.8), (0.04, 0.32, 0.32))],
    )
    assert plan_search(sealed_fine, np.array([0.1, 0.0, 0.8])).reason.startswith("no path")
    assert plan_greedy(maps, np.array([0.1, 0.0, 0.8]), max_steps=5).reason == "no target within 5 steps"


def test_search_is_the_default_planner() -> None:
    assert DEFAULT_PLANNER == "search" and PLANNERS["search"] is plan_search and PLANNERS["greedy"] is plan_greedy
    with pytest.raises(ValueError, match="unknown planner"):
        plan(compose({"affordance": {"point": [0.7, 0.0, 0.8]}}, GRID, []), np.zeros(3), "rrt")


def test_pick_on_the_default_grid_samples_the_maps_along_the_path() -> None:
    table = item("table_1", (0.45, 0.0, 0.68), (0.8, 1.0, 0.04), label="table")
    mug = item("mug_1", (0.55, 0.15, 0.74), (0.05, 0.08, 0.08), label="mug", yaw=0.4)
    glass = item("glass_1", (0.35, 0.0, 0.78), (0.06, 0.06, 0.16), label="glass", fragile=True)
    start = np.array([0.2, -0.2, 0.95])
    grid = workspace_around(np.array([start, mug.center]), margin=0.15, floor=0.6)
    assert grid.shape == (100, 100, 100)
    maps = compose(default_pick_spec("mug"), grid, [table, mug, glass], observer_yaw=0.0)
    assert set(maps.obstacles) == {"table_1", "glass_1"}
    path = plan_search(maps, start)
    check_path(maps, path, start)
    assert path.gripper_open[0] and not path.gripper_open[-1]
    assert path.wrist_yaw[-1] == pytest.approx(grasp_yaw(mug))
    assert math.isnan(path.wrist_yaw[0])
    assert path.speed_scale.min() >= 0.5 - 1e-6 and path.speed_scale[0] == 1.0
    assert path.rotation_mode == "top_down"
    greedy = plan_greedy(maps, start)
    assert greedy.success  # the way is open; the maps let descent reach an object on a table
    check_path(maps, greedy, start)


def test_render_writes_a_png(tmp_path: Path) -> None:
    maps = compose({"affordance": {"point": [0.72, 0.0, 0.8]}}, GRID, cup_trap())
    start = np.array([0.12, 0.0, 0.8])
    out = render_slices(maps, [plan_search(maps, start), plan_greedy(maps, start)], tmp_path / "maps.png")
    assert out == tmp_path / "maps.png" and out.stat().st_size > 10_000
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert render_slices(maps, None, tmp_path / "x.png", axis="x", heights=[0.3]).stat().st_size > 0


def test_spec_type_is_exported() -> None:
    assert isinstance(default_pick_spec("a"), ValueMapSpec)
