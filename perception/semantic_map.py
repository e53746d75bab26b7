"""The robot's prior map of places: rooms and furniture (what a mapping run or a person provides).

Objects are perceived; rooms and furniture come from a map file. The file uses the scenario schema
(docs/scenarios.md): its rooms, doors and furniture are read and anything else is ignored, so a
simulator scenario is also the map of its world.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from sim.scenario import Furniture, Room, load_scenario


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


EMPTY_MAP = SemanticMap((), ())


def load_semantic_map(name_or_path: str | Path) -> SemanticMap:
    """Rooms and furniture of a scenario or map file (a built-in world name works too)."""
    scenario = load_scenario(name_or_path)
    return SemanticMap(tuple(scenario.rooms), tuple(scenario.furniture))
