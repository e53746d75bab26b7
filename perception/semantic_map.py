"""The robot's prior map of places: rooms and furniture (what a mapping run or a person provides).

Objects are perceived; rooms and furniture come from a map file. The file uses the scenario schema
(docs/scenarios.md): its rooms, doors and furniture are read and anything else is ignored, so a
simulator scenario is also the map of its world.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from perception.scene_graph import (
    PARTS_ATTRIBUTE,
    ObjectKind,
    ObjectState,
    Predicate,
    Relation,
    SceneObject,
    format_parts,
)
from sim.scenario import Furniture, Room, load_scenario


def furniture_attributes(piece: Furniture) -> dict[str, str]:
    """A furniture node's attributes: its type, and its solid parts when it is not one solid box
    (relative to the node's position, the centre of its bounding box)."""
    attributes: dict[str, str] = {"type": piece.type}
    boxes = piece.boxes()
    if len(boxes) > 1:
        half_height = piece.size[2] / 2
        attributes[PARTS_ATTRIBUTE] = format_parts(((c[0], c[1], c[2] - half_height), size) for _, c, size in boxes)
    return attributes


@dataclass(frozen=True)
class SemanticMap:
    rooms: tuple[Room, ...]
    furniture: tuple[Furniture, ...]

    def room_at(self, x: float, y: float) -> Room | None:
        return next((room for room in self.rooms if room.contains(x, y)), None)

    def bounds(self) -> tuple[float, float, float, float]:
        if not self.rooms:
            return (-10.0, -10.0, 10.0, 10.0)
        return (
            min(r.min[0] for r in self.rooms),
            min(r.min[1] for r in self.rooms),
            max(r.max[0] for r in self.rooms),
            max(r.max[1] for r in self.rooms),
        )

    def local_xy(self, piece: Furniture, x: float, y: float) -> tuple[float, float]:
        """A map point in the furniture's own frame (x along its length)."""
        fx, fy, yaw = piece.pose
        c, s = math.cos(yaw), math.sin(yaw)
        return c * (x - fx) + s * (y - fy), -s * (x - fx) + c * (y - fy)

    def nodes(self, source: str, room_height: float = 0.0) -> list[SceneObject]:
        """Rooms and furniture as scene-graph nodes (furniture centred at half its height)."""
        rooms = [
            SceneObject(
                id=room.id,
                label=room.name,
                kind=ObjectKind.ROOM,
                position=np.array([(room.min[0] + room.max[0]) / 2, (room.min[1] + room.max[1]) / 2, 0.0]),
                size=np.array([room.max[0] - room.min[0], room.max[1] - room.min[1], room_height]),
                state=ObjectState.VISIBLE,
                source=source,
            )
            for room in self.rooms
        ]
        furniture = [
            SceneObject(
                id=piece.id,
                label=piece.name,
                kind=ObjectKind.FURNITURE,
                position=np.array([piece.pose[0], piece.pose[1], piece.size[2] / 2]),
                orientation=np.array([0.0, 0.0, math.sin(piece.pose[2] / 2), math.cos(piece.pose[2] / 2)]),
                size=np.array(piece.size),
                attributes=furniture_attributes(piece),
                state=ObjectState.VISIBLE,
                source=source,
            )
            for piece in self.furniture
        ]
        return rooms + furniture

    def part_of(self) -> list[Relation]:
        """Each piece of furniture is part of its room."""
        return [Relation(piece.id, Predicate.PART_OF, piece.room) for piece in self.furniture]


EMPTY_MAP = SemanticMap((), ())


def load_semantic_map(name_or_path: str | Path) -> SemanticMap:
    """Rooms and furniture of a scenario or map file (a built-in world name works too)."""
    scenario = load_scenario(name_or_path)
    return SemanticMap(tuple(scenario.rooms), tuple(scenario.furniture))
