"""The scene graph of a scenario as its file places things, before any physics runs.

What a perfect perception would report at the start: rooms, furniture, and each object on its
furniture (or free-standing in its room). The planner's tests and benchmarks start from it.
"""

from __future__ import annotations

import math

import numpy as np

from perception.scene_graph import ObjectState, Predicate, Relation, SceneGraph, SceneObject
from perception.semantic_map import SemanticMap
from sim.scenario import OnFurniture, Scenario


def layout_graph(scenario: Scenario) -> SceneGraph:
    graph = SceneGraph(frame_id="map")
    semantic_map = SemanticMap(tuple(scenario.rooms), tuple(scenario.furniture))
    for node in semantic_map.nodes("scenario", scenario.walls.height):
        graph.objects[node.id] = node
    relations: list[Relation] = semantic_map.part_of()
    for spec in scenario.objects:
        place = spec.place
        if isinstance(place, OnFurniture):
            piece = scenario.furniture_piece(place.on)
            fx, fy, fyaw = piece.pose
            c, s = math.cos(fyaw), math.sin(fyaw)
            heights = piece.surface_heights()
            x, y = fx + c * place.at[0] - s * place.at[1], fy + s * place.at[0] + c * place.at[1]
            position = np.array([x, y, heights[place.level] + spec.size[2] / 2])
            relations.append(Relation(spec.id, Predicate.ON, piece.id))
        else:
            position = np.array(place.position, dtype=np.float64)
        inside = next((r for r in scenario.rooms if r.contains(float(position[0]), float(position[1]))), None)
        if inside is not None:
            relations.append(Relation(spec.id, Predicate.IN, inside.id))
        graph.objects[spec.id] = SceneObject(
            id=spec.id,
            label=spec.label,
            position=position,
            size=np.array(spec.size),
            attributes={"color": spec.color} if isinstance(spec.color, str) else {},
            confidence=1.0,
            state=ObjectState.VISIBLE,
            source="scenario",
        )
    graph.relations = relations
    return graph
