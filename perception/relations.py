"""Geometric relations between objects, furniture and rooms, with hysteresis so they do not flicker.

A relation starts on a clear margin and ends on a wider one. The keeper remembers last update's
relations as integer codes (subject number << 32 | object number per predicate), so the hysteresis
look-ups and the relation set stay numpy operations even with hundreds of objects.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from perception.scene_graph import Predicate, Relation, SceneObject
from perception.semantic_map import SemanticMap

Codes = npt.NDArray[np.int64]

NEAR_START_M, NEAR_END_M = 0.3, 0.4
SIDE_START_M, SIDE_END_M = 0.05, 0.02  # left/right offset across the line of sight
ON_SLACK_M = 0.05  # an object on a surface stays on it this far beyond the edges
ROOM_START_M, ROOM_END_M = 0.05, -0.1  # inside a room by this margin; leaves it this far outside

EMPTY: Codes = np.zeros(0, dtype=np.int64)
_SHIFT = 32
_MASK = (1 << _SHIFT) - 1


def _codes(subjects: Codes, objects: Codes) -> Codes:
    return np.asarray((subjects << _SHIFT) | objects, dtype=np.int64)


class RelationKeeper:
    """Computes on / in / near / left_of / right_of for the objects of each update."""

    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}  # every id ever seen; a few bytes each
        self._names: list[str] = []
        self._active: dict[Predicate, Codes] = {}
        self._made: dict[Predicate, dict[int, Relation]] = {}  # last update's records, reused while they hold

    def update(self, objects: list[SceneObject], semantic_map: SemanticMap, viewpoint: np.ndarray) -> list[Relation]:
        """The relations now, in a stable order (by predicate, then by subject and object)."""
        active: defaultdict[Predicate, list[Codes]] = defaultdict(list)
        if objects:
            numbers = self._number([o.id for o in objects])
            positions = np.array([o.position for o in objects])
            bottoms = positions[:, 2] - np.array([o.size[2] for o in objects]) / 2
            self._on_furniture(numbers, positions, bottoms, semantic_map, active)
            self._in_rooms(numbers, positions, semantic_map, active)
            if len(objects) > 1:
                pairs = np.asarray(cKDTree(positions).query_pairs(NEAR_END_M, output_type="ndarray"), dtype=np.int64)
                self._between(numbers, positions, pairs.reshape(-1, 2), viewpoint, active)
        previous, self._active = self._active, {p: np.sort(np.concatenate(parts)) for p, parts in active.items()}
        return self._relations(previous)

    def _on_furniture(
        self,
        numbers: Codes,
        positions: np.ndarray,
        bottoms: np.ndarray,
        semantic_map: SemanticMap,
        active: defaultdict[Predicate, list[Codes]],
    ) -> None:
        pieces = self._number([piece.id for piece in semantic_map.furniture])
        was_on = self._was(Predicate.ON, numbers, pieces)
        for column, piece in enumerate(semantic_map.furniture):
            slack = np.where(was_on[:, column], ON_SLACK_M, 0.0)
            fx, fy, yaw = piece.pose
            c, s = np.cos(yaw), np.sin(yaw)
            dx, dy = positions[:, 0] - fx, positions[:, 1] - fy
            local_x, local_y = c * dx + s * dy, -s * dx + c * dy
            inside = (np.abs(local_x) <= piece.size[0] / 2 + slack) & (np.abs(local_y) <= piece.size[1] / 2 + slack)
            on_surface = np.zeros(len(numbers), dtype=bool)
            for height in piece.surface_heights():
                gap = bottoms - height
                on_surface |= (gap >= -0.04 - slack) & (gap <= 0.06 + slack)
            active[Predicate.ON].append(_codes(numbers[inside & on_surface], pieces[column]))

    def _in_rooms(
        self,
        numbers: Codes,
        positions: np.ndarray,
        semantic_map: SemanticMap,
        active: defaultdict[Predicate, list[Codes]],
    ) -> None:
        rooms = self._number([room.id for room in semantic_map.rooms])
        if not len(rooms):
            return
        low = np.array([room.min for room in semantic_map.rooms])  # (R, 2)
        high = np.array([room.max for room in semantic_map.rooms])
        margin = np.where(self._was(Predicate.IN, numbers, rooms), ROOM_END_M, ROOM_START_M)  # (N, R)
        xy = positions[:, None, :2]
        inside = np.all((xy >= low + margin[:, :, None]) & (xy <= high - margin[:, :, None]), axis=2)
        rows, columns = np.nonzero(inside)
        active[Predicate.IN].append(_codes(numbers[rows], rooms[columns]))

    def _between(
        self,
        numbers: Codes,
        positions: np.ndarray,
        pairs: npt.NDArray[np.int64],
        viewpoint: np.ndarray,
        active: defaultdict[Predicate, list[Codes]],
    ) -> None:
        """near, and left_of / right_of as seen from the viewpoint (the camera), for close pairs."""
        i, j = pairs[:, 0], pairs[:, 1]
        first, second = numbers[i], numbers[j]
        a, b = positions[i], positions[j]
        distance = np.linalg.norm(a - b, axis=1)
        view = (a[:, :2] + b[:, :2]) / 2 - viewpoint[:2]
        norm = np.maximum(np.linalg.norm(view, axis=1), 1e-9)
        left = np.stack([-view[:, 1], view[:, 0]], axis=1) / norm[:, None]
        offset = ((a[:, :2] - b[:, :2]) * left).sum(axis=1)  # > 0: a is left of b
        was_near = self._was(Predicate.NEAR, numbers, numbers)[i, j]
        was_left = self._was(Predicate.LEFT_OF, numbers, numbers)[i, j]
        was_right = self._was(Predicate.RIGHT_OF, numbers, numbers)[i, j]
        near = distance < np.where(was_near, NEAR_END_M, NEAR_START_M)
        left_of = near & (offset > np.where(was_left, SIDE_END_M, SIDE_START_M))
        right_of = near & ~left_of & (offset < -np.where(was_right, SIDE_END_M, SIDE_START_M))
        active[Predicate.NEAR] += [_codes(first[near], second[near]), _codes(second[near], first[near])]
        active[Predicate.LEFT_OF] += [
            _codes(first[left_of], second[left_of]),
            _codes(second[right_of], first[right_of]),
        ]
        active[Predicate.RIGHT_OF] += [
            _codes(first[right_of], second[right_of]),
            _codes(second[left_of], first[left_of]),
        ]

    def _was(self, predicate: Predicate, subjects: Codes, objects: Codes) -> npt.NDArray[np.bool_]:
        """Matrix: did ``subjects[r] predicate objects[c]`` hold in the last update."""
        was = np.zeros((len(subjects), len(objects)), dtype=bool)
        previous = self._active.get(predicate)
        if previous is None or not len(previous):
            return was
        row_of = np.full(len(self._names), -1)
        column_of = np.full(len(self._names), -1)
        row_of[subjects] = np.arange(len(subjects))
        column_of[objects] = np.arange(len(objects))
        rows, columns = row_of[previous >> _SHIFT], column_of[previous & _MASK]
        known = (rows >= 0) & (columns >= 0)
        was[rows[known], columns[known]] = True
        return was

    def _number(self, ids: list[str]) -> Codes:
        numbers = np.empty(len(ids), dtype=np.int64)
        for index, object_id in enumerate(ids):
            number = self._numbers.get(object_id)
            if number is None:
                number = self._numbers[object_id] = len(self._names)
                self._names.append(object_id)
            numbers[index] = number
        return numbers

    def _relations(self, previous: dict[Predicate, Codes]) -> list[Relation]:
        """Relation records for the active codes; those that held last time are the same records."""
        names = self._names
        relations: list[Relation] = []
        made: dict[Predicate, dict[int, Relation]] = {}
        for predicate in Predicate:
            codes = self._active.get(predicate)
            if codes is None:
                continue
            before = self._made.get(predicate, {})
            if len(before) == len(codes) and np.array_equal(previous.get(predicate, EMPTY), codes):
                made[predicate] = before  # nothing changed: the common case while objects stand still
                relations += before.values()
                continue
            now = made[predicate] = {}
            for code in codes.tolist():
                relation = before.get(code)
                if relation is None:
                    relation = Relation(names[code >> _SHIFT], predicate, names[code & _MASK])
                now[code] = relation
            relations += now.values()
        self._made = made
        return relations
