"""The perception core: RGB-D frames in, a live semantic scene graph out.

detect -> measure in 3D -> track (particle filters) -> relations (with hysteresis) -> scene graph.
Rooms and furniture come from the semantic map; objects are perceived.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from perception.frame import Detector, RGBDFrame
from perception.measure import MeasureSettings, Observation, measure, valid_depth
from perception.relations import RelationKeeper
from perception.scene_graph import ObjectKind, Predicate, Relation, SceneGraph, SceneObject
from perception.semantic_map import EMPTY_MAP, SemanticMap
from perception.tracker import Track, Tracker, TrackerSettings, UpdateResult, track_covariances, track_positions

PARTICLES_PUBLISHED = 24
ORIENTATION_COVARIANCE = np.diag([1e3, 1e3, 0.1])  # only the heading about z is observed


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
        for node in self.semantic_map.nodes("map"):
            graph.objects[node.id] = node
        confirmed = self.tracker.confirmed()
        objects = scene_objects(confirmed)
        for obj in objects:
            graph.objects[obj.id] = obj
        relations = self.relations.update(objects, self.semantic_map, self._viewpoint)
        graph.relations = self.semantic_map.part_of() + relations + doubt_relations(confirmed)
        return graph


def doubt_relations(tracks: list[Track]) -> list[Relation]:
    """<sighting> possibly_same_as <known object> with the probability, between published tracks."""
    published = {t.id for t in tracks}
    return [
        Relation(track.id, Predicate.POSSIBLY_SAME_AS, known_id, p)
        for track in tracks
        for known_id, p in sorted(track.doubts.items())
        if known_id in published
    ]


def restore(perception: Perception, graph: SceneGraph) -> None:
    """Continue from a saved graph: its objects become tracks with the same ids."""
    doubts = [r for r in graph.relations if r.predicate == Predicate.POSSIBLY_SAME_AS]
    perception.tracker.restore([o for o in graph if o.kind == ObjectKind.OBJECT], doubts)
    perception.revision = graph.revision + 1


def scene_objects(tracks: list[Track]) -> list[SceneObject]:
    """The tracks as scene-graph records; poses and covariances are computed for all at once."""
    if not tracks:
        return []
    count = len(tracks)
    covariances = np.zeros((count, 6, 6))
    covariances[:, :3, :3] = track_covariances(tracks)
    covariances[:, 3:, 3:] = ORIENTATION_COVARIANCE
    yaws = np.array([t.yaw for t in tracks])
    orientations = np.zeros((count, 4))
    orientations[:, 2], orientations[:, 3] = np.sin(yaws / 2), np.cos(yaws / 2)
    return [
        SceneObject(
            id=track.id,
            label=track.label,
            kind=ObjectKind.OBJECT,
            position=position,
            orientation=orientation,
            covariance=covariance,
            size=track.size.copy(),
            attributes=dict(track.attributes),
            confidence=min(max(float(track.confidence), 0.0), 1.0),
            last_seen_ns=track.last_seen_ns,
            state=track.state,
            source=track.source,
            particles=track.particles[:: max(1, len(track.particles) // PARTICLES_PUBLISHED)].copy(),
        )
        for track, position, orientation, covariance in zip(
            tracks, track_positions(tracks), orientations, covariances, strict=True
        )
    ]
