"""Geometric relations and their hysteresis: a relation starts on a clear margin and ends on a wider one."""

from __future__ import annotations

import math

import numpy as np

from perception.relations import NEAR_END_M, NEAR_START_M, RelationKeeper
from perception.scene_graph import Predicate, Relation, SceneObject
from perception.semantic_map import SemanticMap
from sim.scenario import Furniture, Room

KITCHEN = Room(id="kitchen", min=(0.0, 0.0), max=(4.0, 4.0))
HALL = Room(id="hall", min=(4.0, 0.0), max=(8.0, 4.0))
TABLE = Furniture(id="table", room="kitchen", pose=(2.0, 2.0, math.pi / 2), size=(1.2, 0.8, 0.75))
MAP = SemanticMap((KITCHEN, HALL), (TABLE,))
CAMERA = np.array([2.0, -1.0, 1.2])  # south of the table, looking north (+y): +x is to the right


def cup(object_id: str, x: float, y: float, z: float = 0.8) -> SceneObject:
    return SceneObject(id=object_id, label="cup", position=np.array([x, y, z]), size=np.array([0.08, 0.08, 0.1]))


def holds(relations: list[Relation], subject: str, predicate: Predicate, obj: str) -> bool:
    return Relation(subject, predicate, obj) in relations


def test_on_follows_the_rotated_top_and_in_the_room() -> None:
    keeper = RelationKeeper()
    # The table is rotated a quarter turn: it is 1.2 m along y and 0.8 m along x.
    relations = keeper.update([cup("a", 2.0, 2.5), cup("b", 2.5, 2.0), cup("c", 5.0, 2.0, 0.05)], MAP, CAMERA)
    assert holds(relations, "a", Predicate.ON, "table")
    assert not holds(relations, "b", Predicate.ON, "table")  # 0.5 m off centre across the 0.8 m side
    assert holds(relations, "a", Predicate.IN, "kitchen")
    assert holds(relations, "c", Predicate.IN, "hall")
    assert not holds(relations, "c", Predicate.ON, "table")


def test_near_starts_inside_the_start_margin_and_ends_beyond_the_end_margin() -> None:
    keeper = RelationKeeper()
    middle = (NEAR_START_M + NEAR_END_M) / 2
    assert not holds(
        keeper.update([cup("a", 2.0, 2.0), cup("b", 2.0 + middle, 2.0)], MAP, CAMERA), "a", Predicate.NEAR, "b"
    )
    relations = keeper.update([cup("a", 2.0, 2.0), cup("b", 2.0 + NEAR_START_M - 0.05, 2.0)], MAP, CAMERA)
    assert holds(relations, "a", Predicate.NEAR, "b") and holds(relations, "b", Predicate.NEAR, "a")
    # Once near, the same in-between distance keeps the relation: no flicker at the threshold.
    assert holds(
        keeper.update([cup("a", 2.0, 2.0), cup("b", 2.0 + middle, 2.0)], MAP, CAMERA), "a", Predicate.NEAR, "b"
    )
    assert not holds(
        keeper.update([cup("a", 2.0, 2.0), cup("b", 2.0 + NEAR_END_M + 0.05, 2.0)], MAP, CAMERA),
        "a",
        Predicate.NEAR,
        "b",
    )


def test_left_and_right_are_seen_from_the_camera_and_mirror_each_other() -> None:
    keeper = RelationKeeper()
    relations = keeper.update([cup("left", 1.9, 2.0), cup("right", 2.1, 2.0)], MAP, CAMERA)
    assert holds(relations, "left", Predicate.LEFT_OF, "right")
    assert holds(relations, "right", Predicate.RIGHT_OF, "left")
    assert not holds(relations, "left", Predicate.RIGHT_OF, "right")
    # Seen from the other side of the table, the sides swap.
    behind = keeper.update([cup("left", 1.9, 2.0), cup("right", 2.1, 2.0)], MAP, np.array([2.0, 5.0, 1.2]))
    assert holds(behind, "left", Predicate.RIGHT_OF, "right")


def test_an_object_that_left_drops_its_relations_and_unchanged_relations_keep_their_records() -> None:
    keeper = RelationKeeper()
    first = keeper.update([cup("a", 2.0, 2.0), cup("b", 2.1, 2.0)], MAP, CAMERA)
    second = keeper.update([cup("a", 2.0, 2.0), cup("b", 2.1, 2.0)], MAP, CAMERA)
    assert second == first
    assert all(x is y for x, y in zip(first, second, strict=True))
    alone = keeper.update([cup("a", 2.0, 2.0)], MAP, CAMERA)
    assert all("b" not in (r.subject_id, r.object_id) for r in alone)
    assert holds(alone, "a", Predicate.ON, "table")
    assert keeper.update([], MAP, CAMERA) == []


def test_many_objects_give_the_relations_of_each_pair_once() -> None:
    rng = np.random.default_rng(0)
    objects = [cup(f"cup_{i}", *rng.uniform(1.5, 2.5, 2)) for i in range(120)]
    relations = RelationKeeper().update(objects, MAP, CAMERA)
    assert len(relations) == len(set(relations))
    positions = {o.id: o.position for o in objects}
    for relation in relations:
        if relation.predicate == Predicate.NEAR:
            assert np.linalg.norm(positions[relation.subject_id] - positions[relation.object_id]) < NEAR_START_M
    near = {(r.subject_id, r.object_id) for r in relations if r.predicate == Predicate.NEAR}
    assert all((b, a) in near for a, b in near)
