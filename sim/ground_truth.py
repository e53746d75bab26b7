"""The simulator's ground truth as a scene graph (SIMULATION ONLY): rooms, furniture, every
object's true pose, and which furniture each object stands on. Published by the sim node on
/sim/ground_truth and used by in-process skill tests and benchmarks."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from perception.scene_graph import ObjectKind, ObjectState, Predicate, Relation, SceneGraph, SceneObject
from perception.semantic_map import furniture_attributes
from sim.simulator import Simulator

NS = 1_000_000_000


def _fixed(
    entity_id: str,
    label: str,
    kind: ObjectKind,
    center: tuple[float, float, float],
    yaw: float,
    size: tuple[float, float, float],
    stamp_ns: int,
) -> SceneObject:
    return SceneObject(
        id=entity_id,
        label=label,
        kind=kind,
        position=np.array(center),
        orientation=np.array([0.0, 0.0, np.sin(yaw / 2), np.cos(yaw / 2)]),
        size=np.array(size),
        last_seen_ns=stamp_ns,
        state=ObjectState.VISIBLE,
        source="ground_truth",
    )


def ground_truth_graph(sim: Simulator) -> SceneGraph:
    """The true scene now; the caller keeps the simulator from stepping meanwhile."""
    scenario = sim.scenario
    stamp_ns = round(sim.time * NS)
    graph = SceneGraph(frame_id="map", stamp_ns=stamp_ns)
    for room in scenario.rooms:
        center = ((room.min[0] + room.max[0]) / 2, (room.min[1] + room.max[1]) / 2, 0.0)
        size = (room.max[0] - room.min[0], room.max[1] - room.min[1], scenario.walls.height)
        graph.objects[room.id] = _fixed(room.id, room.name, ObjectKind.ROOM, center, 0.0, size, stamp_ns)
    for piece in scenario.furniture:
        center = (piece.pose[0], piece.pose[1], piece.size[2] / 2)
        graph.objects[piece.id] = _fixed(
            piece.id, piece.name, ObjectKind.FURNITURE, center, piece.pose[2], piece.size, stamp_ns
        )
        graph.objects[piece.id].attributes.update(furniture_attributes(piece))
    specs = {o.id: o for o in scenario.all_objects()}
    relations = [Relation(p.id, Predicate.PART_OF, p.room) for p in scenario.furniture]
    for object_id, pose in sim.object_poses().items():
        spec = specs[object_id]
        graph.objects[object_id] = SceneObject(
            id=object_id,
            label=spec.label,
            position=pose[:3, 3],
            orientation=Rotation.from_matrix(pose[:3, :3]).as_quat(),
            size=np.array(spec.size),
            attributes={"color": spec.color} if isinstance(spec.color, str) else {},
            last_seen_ns=stamp_ns,
            state=ObjectState.HELD if sim.holding(object_id) else ObjectState.VISIBLE,
            source="ground_truth",
        )
        supports = [p.id for p in scenario.furniture if sim.evaluate(f"on({object_id}, {p.id})")]
        relations += [Relation(object_id, Predicate.ON, support) for support in supports]
    graph.relations = relations
    graph.revision = len(sim.event_log)
    return graph
