"""The scene graph of a scenario as its file places things, before any physics runs.

What a perfect perception would report at the start: rooms, furniture, and each object on its
furniture (or free-standing in its room). The planner's tests and benchmarks start from it.
"""

from __future__ import annotations

import math

import numpy as np

from perception.scene_graph import ObjectKind, ObjectState, Predicate, Relation, SceneGraph, SceneObject
from sim.scenario import OnFurniture, Scenario


def layout_graph(scenario: Scenario) -> SceneGraph:
    graph = SceneGraph(frame_id="map")
    relations: list[Relation] = []
    for room in scenario.rooms:
        graph.objects[room.id] = SceneObject(
            id=room.id,
            label=room.name,
            kind=ObjectKind.ROOM,
            position=np.array([(room.min[0] + room.max[0]) / 2, (room.min[1] + room.max[1]) / 2, 0.0]),
            size=np.array([room.max[0] - room.min[0], room.max[1] - room.min[1], scenario.walls.height]),
            state=ObjectState.VISIBLE,
            source="scenario",
        )
    for piece in scenario.furniture:
        yaw = piece.pose[2]
        graph.objects[piece.id] = SceneObject(
            id=piece.id,
            label=piece.name,
            kind=ObjectKind.FURNITURE,
            position=np.array([piece.pose[0], piece.pose[1], piece.size[2] / 2]),
            orientation=np.array([0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2)]),
            size=np.array(piece.size),
            attributes={"type": piece.type},
            state=ObjectState.VISIBLE,
            source="scenario",
        )
        relations.append(Relation(piece.id, Predicate.PART_OF, piece.room))
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
