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
from perception.tracker import Track, Tracker, TrackerSettings, UpdateResult

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
        for obj in objects:
            x, y, z = obj.position
            bottom = z - obj.size[2] / 2
            for piece in semantic_map.furniture:
                key = (obj.id, Predicate.ON, piece.id)
                slack = 0.05 if key in self._active else 0.0
                lx, ly = semantic_map.local_xy(piece, x, y)
                inside = abs(lx) <= piece.size[0] / 2 + slack and abs(ly) <= piece.size[1] / 2 + slack
                on_surface = any(-0.04 - slack <= bottom - h <= 0.06 + slack for h in piece.surface_heights())
                if inside and on_surface:
                    active.add(key)
            for room in semantic_map.rooms:
                key = (obj.id, Predicate.IN, room.id)
                if room.contains(x, y, -0.1 if key in self._active else 0.05):
                    active.add(key)
        if len(objects) > 1:
            positions = np.array([o.position for o in objects])
            for i, j in cKDTree(positions).query_pairs(0.4):
                a, b = objects[i], objects[j]
                near_key = (a.id, Predicate.NEAR, b.id)
                distance = float(np.linalg.norm(positions[i] - positions[j]))
                if distance < (0.4 if near_key in self._active else 0.3):
                    active.add(near_key)
                    active.add((b.id, Predicate.NEAR, a.id))
                    active |= self._sides(a, b, viewpoint)
        self._active = active
        return [Relation(s, p, o) for s, p, o in sorted(active, key=lambda r: (r[0], r[1].value, r[2]))]

    def _sides(self, a: SceneObject, b: SceneObject, viewpoint: np.ndarray) -> set[tuple[str, Predicate, str]]:
        """left_of / right_of as seen from the viewpoint (the camera)."""
        view = (a.position[:2] + b.position[:2]) / 2 - viewpoint[:2]
        norm = float(np.linalg.norm(view))
        if norm < 1e-6:
            return set()
        left = np.array([-view[1], view[0]]) / norm
        offset = float((a.position[:2] - b.position[:2]) @ left)
        a_left = (a.id, Predicate.LEFT_OF, b.id)
        a_right = (a.id, Predicate.RIGHT_OF, b.id)
        if offset > (0.02 if a_left in self._active else 0.05):
            return {a_left, (b.id, Predicate.RIGHT_OF, a.id)}
        if offset < -(0.02 if a_right in self._active else 0.05):
            return {a_right, (b.id, Predicate.LEFT_OF, a.id)}
        return set()


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
        objects = [scene_object(track) for track in self.tracker.confirmed()]
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


def scene_object(track: Track) -> SceneObject:
    covariance = np.zeros((6, 6))
    covariance[:3, :3] = track.covariance()
    covariance[3:, 3:] = np.diag([1e3, 1e3, 0.1])  # orientation: only the view heading is known
    step = max(1, len(track.particles) // PARTICLES_PUBLISHED)
    return SceneObject(
        id=track.id,
        label=track.label,
        kind=ObjectKind.OBJECT,
        position=track.position(),
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
