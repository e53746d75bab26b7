"""The perception core: RGB-D frames in, a live semantic scene graph out.

detect -> measure in 3D -> track (particle filters) -> relations (with hysteresis) -> scene graph.
Rooms and furniture come from the semantic map; objects are perceived.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from perception.frame import Detector, RGBDFrame
from perception.measure import MeasureSettings, Observation, measure, valid_depth
from perception.scene_graph import ObjectKind, ObjectState, Predicate, Relation, SceneGraph, SceneObject
from perception.semantic_map import EMPTY_MAP, SemanticMap
from perception.tracker import Track, Tracker, TrackerSettings, UpdateResult, track_covariances, track_positions

PARTICLES_PUBLISHED = 24


class FrameError(ValueError):
    """A frame that cannot be used; the message says why. Nothing of it reaches the graph."""


@dataclass
class FrameResult:
    detections: int
    observations: int
    update: UpdateResult
    seconds: dict[str, float] = field(default_factory=dict)  # time per stage


def check_frame(frame: RGBDFrame) -> None:
    """Raise FrameError for frames that would only produce ghosts."""
    height, width = frame.depth.shape
    if frame.color.shape[:2] != (height, width):
        raise FrameError(f"colour {frame.color.shape[1]}x{frame.color.shape[0]} and depth {width}x{height} differ")
    if (frame.intrinsics.width, frame.intrinsics.height) != (width, height):
        raise FrameError(
            f"camera_info is {frame.intrinsics.width}x{frame.intrinsics.height}, the images {width}x{height}"
        )
    valid = np.isfinite(frame.depth) & (frame.depth > 0)
    if not valid.any():
        raise FrameError("the depth image has no valid reading (all NaN or zero)")
    if not np.all(np.isfinite(frame.camera_pose)):
        raise FrameError("the camera pose is not finite")


class RelationKeeper:
    """Geometric relations with hysteresis: a relation starts on a clear margin and ends on a wider one."""

    def __init__(self) -> None:
        self._active: set[tuple[str, Predicate, str]] = set()

    def update(self, objects: list[SceneObject], semantic_map: SemanticMap, viewpoint: np.ndarray) -> list[Relation]:
        active: set[tuple[str, Predicate, str]] = set()
        if not objects:
            self._active = active
            return []
        ids = [o.id for o in objects]
        positions = np.array([o.position for o in objects])
        bottoms = positions[:, 2] - np.array([o.size[2] for o in objects]) / 2
        for piece in semantic_map.furniture:
            was_on = np.array([(i, Predicate.ON, piece.id) in self._active for i in ids])
            slack = np.where(was_on, 0.05, 0.0)
            fx, fy, yaw = piece.pose
            c, s = np.cos(yaw), np.sin(yaw)
            dx, dy = positions[:, 0] - fx, positions[:, 1] - fy
            local_x, local_y = c * dx + s * dy, -s * dx + c * dy
            inside = (np.abs(local_x) <= piece.size[0] / 2 + slack) & (np.abs(local_y) <= piece.size[1] / 2 + slack)
            on_surface = np.zeros(len(ids), dtype=bool)
            for height in piece.surface_heights():
                gap = bottoms - height
                on_surface |= (gap >= -0.04 - slack) & (gap <= 0.06 + slack)
            active.update((ids[i], Predicate.ON, piece.id) for i in np.flatnonzero(inside & on_surface))
        for room in semantic_map.rooms:
            was_in = np.array([(i, Predicate.IN, room.id) in self._active for i in ids])
            margin = np.where(was_in, -0.1, 0.05)
            inside = (
                (positions[:, 0] >= room.min[0] + margin)
                & (positions[:, 0] <= room.max[0] - margin)
                & (positions[:, 1] >= room.min[1] + margin)
                & (positions[:, 1] <= room.max[1] - margin)
            )
            active.update((ids[i], Predicate.IN, room.id) for i in np.flatnonzero(inside))
        if len(objects) > 1:
            pairs = np.array(sorted(cKDTree(positions).query_pairs(0.4)), dtype=int).reshape(-1, 2)
            if len(pairs):
                active |= self._pairs(ids, positions, pairs, viewpoint)
        self._active = active
        return [Relation(s, p, o) for s, p, o in sorted(active)]  # Predicate is a str: tuples compare

    def _pairs(
        self, ids: list[str], positions: np.ndarray, pairs: np.ndarray, viewpoint: np.ndarray
    ) -> set[tuple[str, Predicate, str]]:
        """near, and left_of / right_of as seen from the viewpoint (the camera), for close pairs."""
        first, second = pairs[:, 0], pairs[:, 1]
        a, b = positions[first], positions[second]
        distance = np.linalg.norm(a - b, axis=1)
        view = (a[:, :2] + b[:, :2]) / 2 - viewpoint[:2]
        norm = np.maximum(np.linalg.norm(view, axis=1), 1e-9)
        left = np.stack([-view[:, 1], view[:, 0]], axis=1) / norm[:, None]
        offset = ((a[:, :2] - b[:, :2]) * left).sum(axis=1)  # > 0: a is left of b
        was_near = self._were(ids, pairs, Predicate.NEAR)
        near = distance < np.where(was_near, 0.4, 0.3)
        was_left = self._were(ids, pairs, Predicate.LEFT_OF)
        was_right = self._were(ids, pairs, Predicate.RIGHT_OF)
        left_of = near & (offset > np.where(was_left, 0.02, 0.05))
        right_of = near & ~left_of & (offset < -np.where(was_right, 0.02, 0.05))
        active: set[tuple[str, Predicate, str]] = set()
        for i, j in pairs[near].tolist():
            active.add((ids[i], Predicate.NEAR, ids[j]))
            active.add((ids[j], Predicate.NEAR, ids[i]))
        for i, j in pairs[left_of].tolist():
            active.add((ids[i], Predicate.LEFT_OF, ids[j]))
            active.add((ids[j], Predicate.RIGHT_OF, ids[i]))
        for i, j in pairs[right_of].tolist():
            active.add((ids[i], Predicate.RIGHT_OF, ids[j]))
            active.add((ids[j], Predicate.LEFT_OF, ids[i]))
        return active

    def _were(self, ids: list[str], pairs: np.ndarray, predicate: Predicate) -> np.ndarray:
        """For each pair (i, j): was ``ids[i] predicate ids[j]`` active in the last update."""
        index = {object_id: n for n, object_id in enumerate(ids)}
        codes = [
            index[s] * len(ids) + index[o] for s, p, o in self._active if p == predicate and s in index and o in index
        ]
        return np.isin(pairs[:, 0] * len(ids) + pairs[:, 1], np.array(codes, dtype=int))


class Perception:
    def __init__(
        self,
        detector: Detector,
        semantic_map: SemanticMap = EMPTY_MAP,
        tracker_settings: TrackerSettings | None = None,
        measure_settings: MeasureSettings | None = None,
        seed: int = 0,
    ) -> None:
        self.detector = detector
        self.semantic_map = semantic_map
        self.tracker = Tracker(tracker_settings, semantic_map.bounds(), seed)
        self.measure_settings = measure_settings or MeasureSettings()
        self.relations = RelationKeeper()
        self.revision = 0
        self._viewpoint = np.zeros(3)
        self._last_stamp_ns = 0

    def process(self, frame: RGBDFrame, queries: list[str] | None = None) -> FrameResult:
        """Fold one frame into the scene; raises FrameError (the scene is left as it was)."""
        check_frame(frame)
        started = time.perf_counter()
        detections = self.detector.detect(frame, queries)
        detected = time.perf_counter()
        observations: list[Observation] = []
        in_range = valid_depth(frame, self.measure_settings)
        for detection in detections:
            observation = measure(detection, frame, self.measure_settings, in_range)
            if observation is not None:
                observations.append(observation)
        measured = time.perf_counter()
        update = self.tracker.update(frame, observations)
        tracked = time.perf_counter()
        self._viewpoint = frame.camera_pose[:3, 3].copy()
        self._last_stamp_ns = frame.stamp_ns
        if update.changed:
            self.revision += 1
        return FrameResult(
            len(detections),
            len(observations),
            update,
            {"detect": detected - started, "measure": measured - detected, "track": tracked - measured},
        )

    def scene_graph(self) -> SceneGraph:
        """Rooms, furniture and the confirmed objects with their relations."""
        graph = SceneGraph(frame_id="map", stamp_ns=self._last_stamp_ns, revision=self.revision)
        for room in self.semantic_map.rooms:
            graph.objects[room.id] = SceneObject(
                id=room.id,
                label=room.name,
                kind=ObjectKind.ROOM,
                position=np.array([(room.min[0] + room.max[0]) / 2, (room.min[1] + room.max[1]) / 2, 0.0]),
                size=np.array([room.max[0] - room.min[0], room.max[1] - room.min[1], 0.0]),
                state=ObjectState.VISIBLE,
                source="map",
            )
        for piece in self.semantic_map.furniture:
            yaw = piece.pose[2]
            graph.objects[piece.id] = SceneObject(
                id=piece.id,
                label=piece.name,
                kind=ObjectKind.FURNITURE,
                position=np.array([piece.pose[0], piece.pose[1], piece.size[2] / 2]),
                orientation=np.array([0.0, 0.0, np.sin(yaw / 2), np.cos(yaw / 2)]),
                size=np.array(piece.size),
                attributes={"type": piece.type},
                state=ObjectState.VISIBLE,
                source="map",
            )
        confirmed = self.tracker.confirmed()
        objects = [
            scene_object(track, position, covariance)
            for track, position, covariance in zip(
                confirmed, track_positions(confirmed), track_covariances(confirmed), strict=True
            )
        ]
        for obj in objects:
            graph.objects[obj.id] = obj
        relations = self.relations.update(objects, self.semantic_map, self._viewpoint)
        furniture_rooms = [Relation(p.id, Predicate.PART_OF, p.room) for p in self.semantic_map.furniture]
        graph.relations = furniture_rooms + relations
        return graph


def restore(perception: Perception, graph: SceneGraph) -> None:
    """Continue from a saved graph: its objects become tracks with the same ids."""
    perception.tracker.restore([o for o in graph if o.kind == ObjectKind.OBJECT])
    perception.revision = graph.revision + 1


def scene_object(track: Track, position: np.ndarray, particle_covariance: np.ndarray) -> SceneObject:
    covariance = np.zeros((6, 6))
    covariance[:3, :3] = particle_covariance
    covariance[3:, 3:] = np.diag([1e3, 1e3, 0.1])  # orientation: only the view heading is known
    step = max(1, len(track.particles) // PARTICLES_PUBLISHED)
    return SceneObject(
        id=track.id,
        label=track.label,
        kind=ObjectKind.OBJECT,
        position=position,
        orientation=np.array([0.0, 0.0, np.sin(track.yaw / 2), np.cos(track.yaw / 2)]),
        covariance=covariance,
        size=track.size.copy(),
        attributes=dict(track.attributes),
        confidence=float(np.clip(track.confidence, 0.0, 1.0)),
        last_seen_ns=track.last_seen_ns,
        state=track.state,
        source=track.source,
        particles=track.particles[::step].copy(),
    )
