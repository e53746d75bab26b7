"""The semantic scene graph: objects, furniture, places and rooms, and relations between them.

Mirrors robot_agent_interfaces/msg/SceneGraph; robot_agent.conversions translates between the two.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


class ObjectKind(IntEnum):
    """SceneObject.KIND_* constants."""

    OBJECT = 0
    FURNITURE = 1
    PLACE = 2
    ROOM = 3


class ObjectState(IntEnum):
    """SceneObject.STATE_* constants: what the tracker believes about an object now."""

    UNKNOWN = 0
    VISIBLE = 1
    OCCLUDED = 2
    MOVED = 3
    MISSING = 4
    HELD = 5


class Predicate(str, Enum):
    """Relation.PREDICATE_* constants."""

    ON = "on"
    IN = "in"
    NEAR = "near"
    LEFT_OF = "left_of"
    RIGHT_OF = "right_of"
    PART_OF = "part_of"
    POSSIBLY_SAME_AS = "possibly_same_as"  # two tracks that may be one object (confidence: the probability)


def _zeros(*shape: int) -> Array:
    return np.zeros(shape, dtype=np.float64)


# Ids of tracks that turned out to be this object (a sighting merged into it once a look settled a
# possibly_same_as doubt), comma-separated: what named those ids names this object now.
MERGED_IDS_ATTRIBUTE = "merged_ids"


def merged_ids(obj: SceneObject) -> list[str]:
    return [i for i in obj.attributes.get(MERGED_IDS_ATTRIBUTE, "").split(",") if i]


# A node whose body is not one solid box (a table's top and legs, a shelf's boards, sides and back)
# lists its solid boxes under this attribute: see format_parts.
PARTS_ATTRIBUTE = "parts"
PartBox = tuple[tuple[float, float, float], tuple[float, float, float]]  # centre, full size


def format_parts(boxes: Iterable[PartBox]) -> str:
    """Solid boxes as an attribute value, "cx cy cz sx sy sz; ...": each box's centre and full size
    in metres, in the frame of the node's own box (origin at its position, x along its yaw)."""
    return "; ".join(" ".join(f"{v:.5g}" for v in (*center, *size)) for center, size in boxes)


def parse_parts(text: str) -> list[PartBox]:
    """The boxes of :func:`format_parts`; ValueError if the text is not six finite numbers per box
    with positive sizes."""
    boxes = []
    for chunk in text.split(";"):
        values = [float(v) for v in chunk.split()]
        if len(values) != 6 or not all(np.isfinite(values)) or min(values[3:]) <= 0.0:
            raise ValueError(f"a part needs a centre and a positive size (six numbers), got {chunk.strip()!r}")
        boxes.append(((values[0], values[1], values[2]), (values[3], values[4], values[5])))
    return boxes


@dataclass
class SceneObject:
    """One node of the graph. Poses are in the graph's frame; times are nanoseconds of its clock."""

    id: str
    label: str
    kind: ObjectKind = ObjectKind.OBJECT
    position: Array = field(default_factory=lambda: _zeros(3))
    orientation: Array = field(default_factory=lambda: np.array([0.0, 0.0, 0.0, 1.0]))
    covariance: Array = field(default_factory=lambda: _zeros(6, 6))
    size: Array = field(default_factory=lambda: _zeros(3))
    attributes: dict[str, str] = field(default_factory=dict)
    confidence: float = 1.0
    last_seen_ns: int = 0
    state: ObjectState = ObjectState.UNKNOWN
    source: str = ""
    particles: Array = field(default_factory=lambda: _zeros(0, 3))

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("a scene object needs a non-empty id")
        self.position = np.asarray(self.position, dtype=np.float64).reshape(3)
        self.orientation = np.asarray(self.orientation, dtype=np.float64).reshape(4)
        self.covariance = np.asarray(self.covariance, dtype=np.float64).reshape(6, 6)
        self.size = np.asarray(self.size, dtype=np.float64).reshape(3)
        self.particles = np.asarray(self.particles, dtype=np.float64).reshape(-1, 3)
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence of {self.id!r} must lie in [0, 1], got {self.confidence}")


class Relation(NamedTuple):
    """<subject> <predicate> <object>, e.g. cup_1 on table_2. A tuple: graphs hold thousands."""

    subject_id: str
    predicate: Predicate
    object_id: str
    confidence: float = 1.0


@dataclass
class SceneGraph:
    """Objects by id and the relations between them, in one fixed frame."""

    frame_id: str = "map"
    stamp_ns: int = 0
    revision: int = 0
    objects: dict[str, SceneObject] = field(default_factory=dict)
    relations: list[Relation] = field(default_factory=list)

    def __iter__(self) -> Iterator[SceneObject]:
        return iter(self.objects.values())

    def __len__(self) -> int:
        return len(self.objects)

    def __contains__(self, object_id: object) -> bool:
        return object_id in self.objects

    def get(self, object_id: str) -> SceneObject | None:
        return self.objects.get(object_id)

    def upsert(self, obj: SceneObject) -> None:
        """Add an object or replace the one with the same id."""
        self.objects[obj.id] = obj
        self.revision += 1

    def remove(self, object_id: str) -> None:
        """Remove an object and every relation that mentions it."""
        if self.objects.pop(object_id, None) is None:
            raise KeyError(f"no object {object_id!r} in the scene graph")
        self.relations = [r for r in self.relations if object_id not in (r.subject_id, r.object_id)]
        self.revision += 1

    def set_relations(self, relations: Iterable[Relation]) -> None:
        """Replace all relations; each must name objects of the graph."""
        new = list(relations)
        for relation in new:
            for end in (relation.subject_id, relation.object_id):
                if end not in self.objects:
                    raise KeyError(f"relation {relation} names unknown object {end!r}")
        self.relations = new
        self.revision += 1

    def relations_of(self, object_id: str, predicate: Predicate | None = None) -> list[Relation]:
        """Relations whose subject is the object, optionally of one predicate."""
        return [
            r for r in self.relations if r.subject_id == object_id and (predicate is None or r.predicate == predicate)
        ]

    def by_label(self, label: str) -> list[SceneObject]:
        return [obj for obj in self.objects.values() if obj.label == label]
