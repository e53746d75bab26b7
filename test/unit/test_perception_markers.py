"""RViz markers of the scene graph: oriented boxes and possibly_same_as doubts."""

from __future__ import annotations

import math

import numpy as np

from perception.query import query
from perception.scene_graph import ObjectState, Predicate, Relation, SceneGraph, SceneObject
from robot_agent.nodes.perception_node import markers


def doubtful_graph() -> SceneGraph:
    yaw = math.pi / 6
    graph = SceneGraph()
    graph.objects = {
        "banana_1": SceneObject(
            "banana_1",
            "banana",
            position=np.array([2.0, 0.0, 0.9]),
            size=np.array([0.18, 0.04, 0.04]),
            orientation=np.array([0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)]),
            attributes={"color": "yellow"},
            state=ObjectState.VISIBLE,
        ),
        "banana_2": SceneObject(
            "banana_2",
            "banana",
            position=np.array([0.0, 2.0, 0.8]),
            size=np.array([0.18, 0.04, 0.04]),
            attributes={"color": "yellow"},
            state=ObjectState.VISIBLE,
        ),
    }
    graph.relations = [Relation("banana_2", Predicate.POSSIBLY_SAME_AS, "banana_1", 0.41)]
    return graph


def test_markers_show_the_doubt_and_turn_the_boxes() -> None:
    by_ns: dict[str, list] = {}
    for marker in markers(doubtful_graph()).markers:
        by_ns.setdefault(marker.ns, []).append(marker)
    (line,) = by_ns["possibly_same_as"]
    assert [(p.x, p.y) for p in line.points] == [(0.0, 2.0), (2.0, 0.0)]
    (label,) = by_ns["possibly_same_as_labels"]
    assert label.text == "same? p=0.41"
    box = next(m for m in by_ns["objects"] if m.scale.x == 0.18 and m.pose.orientation.z != 0.0)
    assert math.isclose(box.pose.orientation.z, math.sin(math.pi / 12))


def test_query_answer_carries_the_doubt() -> None:
    answer = query(doubtful_graph(), "banana_2", 0)
    assert answer.doubts == [Relation("banana_2", Predicate.POSSIBLY_SAME_AS, "banana_1", 0.41)]
    assert answer.objects[0].id == "banana_2"
    assert "It may be banana_1, last seen at (2.00, 0.00, 0.90), moved here (p=0.41)" in answer.sentence
    assert "Someone may have moved it: banana_2" in query(doubtful_graph(), "banana_1", 0).sentence
