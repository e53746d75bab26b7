"""Object tracking with one particle filter per object ("Time is on my sight", 2024).

Motion: objects mostly stay put (a little diffusion); with a small rate a person moves one, which
the filter represents by particles re-drawn anywhere in the mapped area. Measurement: a detection's
estimated centre with noise growing with range. Association: label (any class the
track's accumulated evidence finds plausible) and colour must agree, then distance (Hungarian); a
missing object may be re-found anywhere and keeps its id (marked moved). Negative evidence: an object
not detected although the spot where it is believed to be is in view and not occluded (the depth
image sees through to something behind it) loses confidence and, when its spot is seen empty, is
marked missing.

Identity through moves: a sighting that fits no track nearby but fits a known object elsewhere gets a
track of its own that keeps a doubt, "possibly the same as" that object with a probability
(perception/identity.py). The doubt ends when the evidence decides: the known object's spot seen
empty (the two tracks become one, under the known id) or seen occupied (two objects).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from perception.extent import ExtentAccumulator
from perception.frame import RGBDFrame
from perception.geometry import invert, yaw_of_quaternion
from perception.identity import (
    SIMILAR_COLORS,
    Belief,
    Candidate,
    IdentityPrior,
    colors_fit,
    moved_prior,
    same_object_probabilities,
    size_likelihood,
)
from perception.measure import Observation
from perception.scene_graph import MERGED_IDS_ATTRIBUTE, ObjectKind, ObjectState, Predicate, Relation, SceneObject

Array = npt.NDArray[np.float64]
NS = 1_000_000_000
NO_MATCH = 1e6
MAX_CONFIDENCE = 0.95
CONFIRM_HITS = 2
SPOT_RADIUS_M = 0.15
UNIFORM_BATCH = 4096  # detections before a new object counts (and is published): no ghosts from one bad frame
LABEL_COST_M = 0.05  # association cost of a detection whose label is only a look-alike of the track's

__all__ = ["SIMILAR_COLORS", "Track", "Tracker", "TrackerSettings", "UpdateResult"]


@dataclass(frozen=True)
class TrackerSettings:
    particles: int = 64
    static_noise_m: float = 0.002  # diffusion per update of an object nobody moves
    move_rate_per_s: float = 0.002  # how often a person moves a given object
    noise_base_m: float = 0.01  # measurement noise at 0 m ...
    noise_per_m2: float = 0.004  # ... plus this times range squared
    gate_m: float = 0.35  # farther than this, an observation is not this object at its believed place
    relocate_cost_m: float = 0.3  # cost of matching an observation to a missing object elsewhere
    detection_probability: float = 0.8  # chance a clearly visible object is detected
    occlusion_margin_m: float = 0.06  # depth this much in front of a particle occludes it
    missing_confidence: float = 0.35  # below this a visible-but-unseen object is missing
    moved_distance_m: float = 0.25  # re-found this far from its belief: moved
    moved_hold_s: float = 30.0  # how long "moved" is reported
    merge_distance_m: float = 0.05  # same label and colour this close: one object
    jump_m: float = 0.12  # farther (or 3 sigma of the measurement) from a firmly believed object: a doubt
    tentative_timeout_s: float = 3.0  # an unconfirmed track not seen again for this long is dropped
    # An object not detected where it should be in view loses belief and becomes missing (the scene
    # graph filtering of dynamic scenes); off, objects stay where last seen (a benchmark ablation).
    negative_evidence: bool = True
    # A sighting of a known kind far from every track is weighed as "that object, moved" against "a new
    # one" (a possibly_same_as doubt until a look decides); off, it is a new object (a benchmark ablation).
    identity_hypotheses: bool = True
    # Label and colour from evidence summed over a track's life, look-alike classes associate; off, the
    # label must match exactly and the first sighting names the colour (a benchmark ablation).
    label_evidence: bool = True
    label_switch_margin: float = 2.0  # log-evidence by which another class must lead to rename a track
    identity: IdentityPrior = field(default_factory=IdentityPrior)


@dataclass
class Track:
    id: str
    label: str
    attributes: dict[str, str]
    source: str
    particles: Array  # (N, 3)
    weights: Array  # (N,)
    size: Array
    yaw: float
    created_ns: int
    last_seen_ns: int
    confidence: float = 0.6
    state: ObjectState = ObjectState.VISIBLE
    state_since_ns: int = 0
    hits: int = 1
    true_id: str | None = None  # the simulator's id of the last associated detection (evaluation)
    last_position: Array = field(default_factory=lambda: np.zeros(3))  # where it was last seen
    extent: ExtentAccumulator = field(default_factory=ExtentAccumulator)  # its box, fused over views
    label_belief: Belief = field(default_factory=lambda: Belief(2.0))
    color_belief: Belief = field(default_factory=lambda: Belief(2.0))
    doubts: dict[str, float] = field(default_factory=dict)  # id of a known object -> P(this is it, moved)
    label_flips: int = 0

    def __post_init__(self) -> None:
        if self.label_belief.value is None:
            self.label_belief.value = self.label
        color = self.attributes.get("color")
        if self.color_belief.value is None and color is not None:
            self.color_belief.value = color

    @property
    def confirmed(self) -> bool:
        return self.hits >= CONFIRM_HITS

    def position(self) -> Array:
        """Most likely position: the weighted mean of the particles at the believed spot (around where
        it was last seen); the last sighting itself while it is missing or no particle is left there."""
        if self.state == ObjectState.MISSING:
            return np.array(self.last_position, dtype=np.float64)
        near = np.linalg.norm(self.particles - self.last_position, axis=1) < SPOT_RADIUS_M
        weights = self.weights * near
        if weights.sum() <= 0:
            return np.array(self.last_position, dtype=np.float64)
        return np.asarray((weights[:, None] * self.particles).sum(axis=0) / weights.sum())

    def covariance(self) -> Array:
        mean = (self.weights[:, None] * self.particles).sum(axis=0)
        centred = self.particles - mean
        return np.asarray((self.weights[:, None] * centred).T @ centred)

    def set_state(self, state: ObjectState, stamp_ns: int) -> None:
        if state != self.state:
            self.state, self.state_since_ns = state, stamp_ns


@dataclass(frozen=True)
class _SpotView:
    """How the camera sees a track this frame."""

    seen_through: npt.NDArray[np.bool_]  # per particle: in the image, nothing in front of it
    visible: float  # of the particles at the believed spot, the fraction seen through
    occluded: float  # ... and the fraction hidden behind something nearer


@dataclass
class UpdateResult:
    created: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    merged: dict[str, str] = field(default_factory=dict)  # removed track -> the known object it turned out to be
    doubts_changed: bool = False  # a possibly_same_as doubt began or ended

    @property
    def changed(self) -> bool:
        return bool(self.created or self.moved or self.missing or self.removed or self.doubts_changed)


class Tracker:
    """Tracks objects over RGB-D frames. ``bounds`` (min x, min y, max x, max y) is the mapped area."""

    def __init__(
        self,
        settings: TrackerSettings | None = None,
        bounds: tuple[float, float, float, float] = (-10.0, -10.0, 10.0, 10.0),
        seed: int = 0,
    ) -> None:
        self.settings = settings or TrackerSettings()
        self.bounds = bounds
        self.tracks: dict[str, Track] = {}
        self._rng = np.random.default_rng(seed)
        self._counters: dict[str, itertools.count[int]] = {}
        self._last_update_ns: int | None = None
        self._uniform_pool = np.zeros((0, 2))
        self.seen_together: dict[str, int] = {}  # label -> most distinct objects of it known at once

    # --- the update of one frame -------------------------------------------------------------

    def update(self, frame: RGBDFrame, observations: list[Observation]) -> UpdateResult:
        result = UpdateResult()
        stamp = frame.stamp_ns
        dt = 0.0 if self._last_update_ns is None else max(0.0, (stamp - self._last_update_ns) / NS)
        self._last_update_ns = stamp
        self._predict(dt)
        tracks = list(self.tracks.values())
        positions = track_positions(tracks)
        views = self._spot_views(tracks, frame)
        matches = self._associate(tracks, positions, views, observations)
        matched_tracks = set()
        for track_index, observation_index in matches:
            track, observation = tracks[track_index], observations[observation_index]
            if self._correct(track, observation, stamp):
                result.moved.append(track.id)
            matched_tracks.add(track.id)
        matched_observations = {o for _, o in matches}
        for index, observation in enumerate(observations):
            if index not in matched_observations:
                track = self._create(observation, stamp)
                result.created.append(track.id)
                if self.settings.identity_hypotheses:
                    track.doubts = self._identity_doubts(track, observation, matched_tracks, stamp)
                    result.doubts_changed |= bool(track.doubts)
        for track, view in zip(tracks, views, strict=True):
            unseen = track.id not in matched_tracks and self.settings.negative_evidence
            if unseen and view is not None and self._negative_evidence(track, view, stamp):
                result.missing.append(track.id)
        self._count_together(matched_tracks)
        self._settle_doubts(matched_tracks, stamp, result)
        result.removed += self._forget_tentative(stamp)
        result.removed += self._merge_duplicates(matched_tracks | set(result.created))
        for track in self.tracks.values():
            if track.state == ObjectState.MOVED and (stamp - track.state_since_ns) / NS > self.settings.moved_hold_s:
                track.set_state(ObjectState.VISIBLE, stamp)
        return result

    def confirmed(self) -> list[Track]:
        return [t for t in self.tracks.values() if t.confirmed]

    def restore(self, objects: list[SceneObject], doubts: list[Relation] | None = None) -> None:
        """Recreate tracks from saved scene objects (same ids), e.g. after a restart, and the
        possibly_same_as doubts between them."""
        margin = self.settings.label_switch_margin
        for obj in objects:
            if obj.kind != ObjectKind.OBJECT:
                continue
            sigma = float(np.sqrt(max(np.trace(obj.covariance[:3, :3]) / 3, 1e-6)))
            n = self.settings.particles
            color = obj.attributes.get("color")
            self.tracks[obj.id] = Track(
                id=obj.id,
                label=obj.label,
                attributes=dict(obj.attributes),
                source=obj.source,
                particles=self._around(obj.position, sigma),
                weights=np.full(n, 1.0 / n),
                size=obj.size.copy(),
                yaw=yaw_of_quaternion(obj.orientation),
                created_ns=obj.last_seen_ns,
                last_seen_ns=obj.last_seen_ns,
                confidence=min(obj.confidence, MAX_CONFIDENCE),
                state=obj.state,
                state_since_ns=obj.last_seen_ns,
                hits=CONFIRM_HITS,
                last_position=obj.position.copy(),
                label_belief=Belief(margin, {obj.label: margin}, obj.label),
                color_belief=Belief(margin, {color: margin} if color else {}, color),
            )
            _, _, number = obj.id.rpartition("_")
            if number.isdigit():
                counter = self._counters.get(obj.label)
                start = max(int(number) + 1, next(counter) if counter else 1)
                self._counters[obj.label] = itertools.count(start)
        for relation in doubts or []:
            sighting = self.tracks.get(relation.subject_id)
            if relation.predicate == Predicate.POSSIBLY_SAME_AS and sighting and relation.object_id in self.tracks:
                sighting.doubts[relation.object_id] = float(relation.confidence)

    # --- steps -------------------------------------------------------------------------------

    def _predict(self, dt: float) -> None:
        """Someone may have moved an object since the last frame: a few particles jump anywhere.

        Objects nobody moves stay put; the small diffusion that keeps particles diverse is applied
        where a track is corrected, so an update costs nothing for the objects out of sight.
        """
        if not self.tracks:
            return
        move_probability = 1.0 - math.exp(-self.settings.move_rate_per_s * dt)
        tracks = list(self.tracks.values())
        total = sum(len(t.particles) for t in tracks)
        jumps = int(self._rng.binomial(total, move_probability))
        if not jumps:
            return
        offsets = np.cumsum([0] + [len(t.particles) for t in tracks])
        for flat in self._rng.choice(total, jumps, replace=False):
            index = int(np.searchsorted(offsets, flat, side="right")) - 1
            track = tracks[index]
            track.particles[flat - offsets[index]] = self._anywhere(1, float(track.last_position[2]))[0]

    def _associate(
        self,
        tracks: list[Track],
        positions: Array,
        views: list[_SpotView | None],
        observations: list[Observation],
    ) -> list[tuple[int, int]]:
        if not tracks or not observations:
            return []
        settings = self.settings
        observed = np.array([o.position for o in observations])
        distance = np.linalg.norm(positions[:, None, :] - observed[None, :, :], axis=2)
        compatible = kinds_match(tracks, observations, self.settings.label_evidence)
        if settings.label_evidence:
            # Two things cannot be in one place: a sighting right where a track of its size and colour is,
            # is that track whatever class this frame's detector thought (a partial view of a mug as a cup).
            for row, column in zip(*np.nonzero((distance <= settings.merge_distance_m) & ~compatible), strict=True):
                compatible[row, column] = same_place_fits(tracks[row], observations[column])
        # A track may take an observation elsewhere when it is lost, unsure, or its spot is in view:
        # seen through there, the object is not where it was believed to be.
        may_relocate = np.array(
            [
                t.state in (ObjectState.MISSING, ObjectState.OCCLUDED)
                or t.confidence < 0.5
                or (view is not None and view.visible >= 0.5)
                for t, view in zip(tracks, views, strict=True)
            ]
        )
        cost = np.where(distance <= settings.gate_m, distance, NO_MATCH)
        relocate = settings.relocate_cost_m + 0.01 * distance
        cost = np.where((cost >= NO_MATCH) & may_relocate[:, None], relocate, cost)
        if settings.identity_hypotheses:
            # An object firmly believed at its spot does not jump to a sighting elsewhere in one frame, even
            # with its spot in view (the detector may just have missed it there, next to a look-alike): the
            # sighting becomes a doubt, settled when the spot is seen empty (merged) or occupied (two).
            unsure = np.array(
                [t.state in (ObjectState.MISSING, ObjectState.OCCLUDED) or t.confidence < 0.5 for t in tracks]
            )
            ranges = np.array([o.range_m for o in observations])
            jump = np.maximum(settings.jump_m, 3.0 * (settings.noise_base_m + settings.noise_per_m2 * ranges**2))
            cost = np.where((distance > jump[None, :]) & ~unsure[:, None], NO_MATCH, cost)
        if settings.label_evidence:
            cost = cost + LABEL_COST_M * (1.0 - label_agreement(tracks, observations))
        cost = np.where(compatible, cost, NO_MATCH)
        rows, cols = linear_sum_assignment(cost)
        return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if cost[r, c] < NO_MATCH]

    def _correct(self, track: Track, observation: Observation, stamp: int) -> bool:
        """Fold an observation into a track; True when it shows the object was moved."""
        settings = self.settings
        sigma = settings.noise_base_m + settings.noise_per_m2 * observation.range_m**2
        moved_far = float(np.linalg.norm(track.last_position - observation.position)) > settings.moved_distance_m
        if moved_far:
            track.particles = self._around(observation.position, sigma)
            track.weights = np.full(len(track.particles), 1.0 / len(track.particles))
        else:
            track.particles += self._rng.normal(0.0, settings.static_noise_m, track.particles.shape)
            squared = ((track.particles - observation.position) ** 2).sum(axis=1)
            weights = track.weights * np.exp(-0.5 * squared / sigma**2) + 1e-300
            track.weights = weights / weights.sum()
            self._resample(track, observation.position, sigma)
        if moved_far:
            track.extent.reset()  # what was seen of it at its old place is not where it is now
        track.size, track.yaw = track.extent.fold(observation.evidence, observation.size, observation.yaw)
        track.hits += 1
        track.last_seen_ns = stamp
        track.last_position = observation.position.copy()
        # Never certain: a belief of 1 could not be lowered by negative evidence.
        track.confidence = min(MAX_CONFIDENCE, track.confidence + (1.0 - track.confidence) * 0.5 * observation.score)
        track.true_id = observation.true_id
        self._observe_kind(track, observation)
        if moved_far and track.confirmed:
            track.set_state(ObjectState.MOVED, stamp)
            return True
        if track.state != ObjectState.MOVED:
            track.set_state(ObjectState.VISIBLE, stamp)
        return False

    def _observe_kind(self, track: Track, observation: Observation) -> None:
        """Label and colour from the evidence of every sighting; without label_evidence the first
        sighting names the colour (shading varies) and the label never changes."""
        if not self.settings.label_evidence:
            for key, value in observation.attributes.items():
                track.attributes.setdefault(key, value)
            return
        if track.label_belief.add(observation.class_scores()):
            track.label_flips += 1
        track.label = track.label_belief.value or track.label
        color = observation.attributes.get("color")
        if color is not None:
            track.color_belief.add({color: observation.score})
            track.attributes["color"] = track.color_belief.value or color
        for key, value in observation.attributes.items():
            if key != "color":
                track.attributes.setdefault(key, value)

    # --- identity through moves ------------------------------------------------------------------

    def _identity_doubts(
        self, track: Track, observation: Observation, matched: set[str], stamp: int
    ) -> dict[str, float]:
        """P(the new sighting is known object k, moved) for the known objects of its kind that were not
        seen this frame (perception/identity.py); empty when it is plainly a new object."""
        prior = self.settings.identity
        color = observation.attributes.get("color")
        scores = observation.class_scores()
        best = max(scores.values(), default=0.0)
        candidates = []
        for known in self.tracks.values():
            if known is track or known.id in matched or not known.confirmed or known.state == ObjectState.MISSING:
                continue
            # Its own class must be one the sighting backs about as well as its best (a red cup whose view
            # also fits an apple a little is no candidate for the red apple).
            agreement = scores.get(known.label, 0.0) / best if best > 0.0 else 0.0
            if agreement < 0.5 or not colors_fit(color, known.attributes.get("color")):
                continue
            if float(np.linalg.norm(known.last_position - observation.position)) <= self.settings.jump_m:
                continue  # this close it would have been associated: not a move
            appearance = agreement * size_likelihood(observation.size, known.size, prior)
            if color is not None and known.attributes.get("color") not in (None, color):
                appearance *= prior.similar_color_likelihood
            unseen_s = (stamp - known.last_seen_ns) / NS
            candidates.append(
                Candidate(known.id, moved_prior(known.confidence, unseen_s, self.settings.move_rate_per_s), appearance)
            )
        if not candidates:
            return {}
        together = self.seen_together.get(track.label, 1) >= 2
        return same_object_probabilities(candidates, together, prior)

    def _count_together(self, matched: set[str]) -> None:
        """How many distinct objects of a kind were seen in one frame: two bananas at once means a second
        banana is no surprise."""
        counts: dict[str, int] = {}
        for track_id in matched:
            track = self.tracks.get(track_id)
            if track is not None and track.confirmed:
                counts[track.label] = counts.get(track.label, 0) + 1
        for label, count in counts.items():
            self.seen_together[label] = max(self.seen_together.get(label, 1), count)

    def _settle_doubts(self, matched: set[str], stamp: int, result: UpdateResult) -> None:
        """End the doubts the evidence decides: the known object seen at its spot (two objects) or its spot
        seen empty (one object: the new track is merged into the known id)."""
        for track in list(self.tracks.values()):
            if not track.doubts or track.id not in self.tracks:
                continue
            for known_id in list(track.doubts):
                known = self.tracks.get(known_id)
                if known is None:
                    del track.doubts[known_id]
                    result.doubts_changed = True
                elif known_id in matched:
                    del track.doubts[known_id]  # the known object is seen apart from the sighting: two objects
                    self.seen_together[track.label] = max(self.seen_together.get(track.label, 1), 2)
                    result.doubts_changed = True
            lost = [k for k in track.doubts if self.tracks[k].state == ObjectState.MISSING]
            if lost:
                known = self.tracks[max(lost, key=lambda k: track.doubts[k])]
                self._merge_into(known, track, stamp)
                result.moved.append(known.id)
                result.removed.append(track.id)
                result.merged[track.id] = known.id
                result.doubts_changed = True
        for track in self.tracks.values():  # the probabilities follow the known objects' beliefs
            if track.doubts:
                track.doubts = self._reweigh(track, stamp)

    def _reweigh(self, track: Track, stamp: int) -> dict[str, float]:
        prior = self.settings.identity
        candidates = []
        for known_id in track.doubts:
            known = self.tracks[known_id]
            moved = moved_prior(known.confidence, (stamp - known.last_seen_ns) / NS, self.settings.move_rate_per_s)
            candidates.append(Candidate(known_id, moved, size_likelihood(track.size, known.size, prior)))
        together = self.seen_together.get(track.label, 1) >= 2
        weights = same_object_probabilities(candidates, together, replace(prior, link_threshold=0.0))
        return {k: round(v, 3) for k, v in weights.items()}

    def _merge_into(self, known: Track, sighting: Track, stamp: int) -> None:
        """The sighting was the known object, moved: the known id takes over the sighting's belief."""
        known.particles, known.weights = sighting.particles.copy(), sighting.weights.copy()
        known.last_position = sighting.last_position.copy()
        known.size, known.yaw, known.extent = sighting.size.copy(), sighting.yaw, sighting.extent
        known.last_seen_ns = max(known.last_seen_ns, sighting.last_seen_ns)
        known.confidence = max(sighting.confidence, 0.6)
        known.hits += sighting.hits
        known.true_id = sighting.true_id
        known.label_belief.merge(sighting.label_belief)
        known.color_belief.merge(sighting.color_belief)
        known.label = known.label_belief.value or known.label
        if known.color_belief.value is not None:
            known.attributes["color"] = known.color_belief.value
        known.set_state(ObjectState.MOVED, stamp)
        aliases = [*known.attributes.get(MERGED_IDS_ATTRIBUTE, "").split(","), sighting.id]
        aliases += sighting.attributes.get(MERGED_IDS_ATTRIBUTE, "").split(",")
        known.attributes[MERGED_IDS_ATTRIBUTE] = ",".join(dict.fromkeys(a for a in aliases if a))
        for other in self.tracks.values():  # doubts about the sighting are doubts about the known object now
            if sighting.id in other.doubts and other is not known:
                other.doubts[known.id] = max(other.doubts.pop(sighting.id), other.doubts.get(known.id, 0.0))
        del self.tracks[sighting.id]

    def _spot_views(self, tracks: list[Track], frame: RGBDFrame) -> list[_SpotView | None]:
        """For each track: which particles the camera sees through to, or None when none is in the image."""
        views: list[_SpotView | None] = [None] * len(tracks)
        if not tracks:
            return views
        margin = self.settings.occlusion_margin_m
        camera_from_map = invert(frame.camera_pose)
        height, width = frame.depth.shape
        k = frame.intrinsics
        particles = np.concatenate([t.particles for t in tracks])
        points = particles @ camera_from_map[:3, :3].T + camera_from_map[:3, 3]
        z = points[:, 2]
        in_front = z > 0.1
        safe_z = np.where(in_front, z, 1.0)
        u = np.round(k.fx * points[:, 0] / safe_z + k.cx)
        v = np.round(k.fy * points[:, 1] / safe_z + k.cy)
        in_image = in_front & (u >= 0) & (u < width) & (v >= 0) & (v < height)
        observed = np.full(len(z), np.nan)
        observed[in_image] = frame.depth[v[in_image].astype(int), u[in_image].astype(int)]
        with np.errstate(invalid="ignore"):
            seen_through = in_image & (observed > z - margin)
            occluded = in_image & (observed <= z - margin)
        counts = [len(t.particles) for t in tracks]
        last_positions = np.repeat(np.array([t.last_position for t in tracks]), counts, axis=0)
        offsets = particles - last_positions
        at_spot = np.einsum("pk,pk->p", offsets, offsets) < SPOT_RADIUS_M**2
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(int)
        any_in_image = np.add.reduceat(in_image, starts) > 0
        spot_count = np.add.reduceat(at_spot, starts)
        spot_seen = np.add.reduceat(at_spot & seen_through, starts)
        spot_hidden = np.add.reduceat(at_spot & occluded, starts)
        for index in np.flatnonzero(any_in_image & (spot_count > 0)):
            start = int(starts[index])
            views[index] = _SpotView(
                seen_through=seen_through[start : start + counts[index]],
                visible=float(spot_seen[index] / spot_count[index]),
                occluded=float(spot_hidden[index] / spot_count[index]),
            )
        return views

    def _negative_evidence(self, track: Track, view: _SpotView, stamp_ns: int) -> bool:
        """An undetected track whose spot is in view loses belief; True when it becomes missing."""
        settings = self.settings
        if view.visible < 0.5:
            if view.occluded > 0.5 and track.state == ObjectState.VISIBLE:
                track.set_state(ObjectState.OCCLUDED, stamp_ns)
            return False
        # Bayes on "the object is at its spot": had it been there, it would likely have been detected.
        miss = 1.0 - settings.detection_probability * view.visible
        track.confidence = track.confidence * miss / (track.confidence * miss + (1.0 - track.confidence))
        # The belief that leaves the spot goes to "someone moved it": particles anywhere in the area.
        replace = np.flatnonzero(view.seen_through)
        replace = replace[round(len(replace) * track.confidence) :]
        if len(replace):
            track.particles[replace] = self._anywhere(len(replace), float(track.last_position[2]))
        if track.confidence < settings.missing_confidence and track.state != ObjectState.MISSING and track.confirmed:
            track.set_state(ObjectState.MISSING, stamp_ns)
            return True
        return False

    def _forget_tentative(self, stamp: int) -> list[str]:
        timeout = self.settings.tentative_timeout_s * NS
        stale = [t.id for t in self.tracks.values() if not t.confirmed and stamp - t.last_seen_ns > timeout]
        for track_id in stale:
            del self.tracks[track_id]
        return stale

    def _merge_duplicates(self, touched: set[str]) -> list[str]:
        """Two tracks of the same kind at the same place are one object: keep the older id.

        Only tracks created or corrected in this frame can have come close to another.
        """
        tracks = sorted(self.tracks.values(), key=lambda t: t.created_ns)
        moved = [i for i, t in enumerate(tracks) if t.id in touched]
        if len(tracks) < 2 or not moved:
            return []
        positions = track_positions(tracks)
        offsets = positions[moved][:, None, :] - positions[None, :, :]
        close = np.einsum("mtk,mtk->mt", offsets, offsets) < self.settings.merge_distance_m**2
        removed: list[str] = []
        for row, j in zip(*np.nonzero(close), strict=True):
            i = moved[int(row)]
            if i == j:
                continue
            older, newer = (tracks[i], tracks[int(j)]) if i < j else (tracks[int(j)], tracks[i])
            if older.id in removed or newer.id in removed or not _same_kind(older, newer):
                continue
            older.hits += newer.hits
            older.last_seen_ns = max(older.last_seen_ns, newer.last_seen_ns)
            older.label_belief.merge(newer.label_belief)
            older.color_belief.merge(newer.color_belief)
            for known_id, p in newer.doubts.items():
                if known_id != older.id:
                    older.doubts[known_id] = max(p, older.doubts.get(known_id, 0.0))
            removed.append(newer.id)
        for track_id in removed:
            del self.tracks[track_id]
        return removed

    # --- helpers -----------------------------------------------------------------------------

    def _create(self, observation: Observation, stamp: int) -> Track:
        counter = self._counters.setdefault(observation.label, itertools.count(1))
        track_id = f"{observation.label.replace(' ', '_')}_{next(counter)}"
        while track_id in self.tracks:
            track_id = f"{observation.label.replace(' ', '_')}_{next(counter)}"
        sigma = self.settings.noise_base_m + self.settings.noise_per_m2 * observation.range_m**2
        n = self.settings.particles
        track = Track(
            id=track_id,
            label=observation.label,
            attributes=dict(observation.attributes),
            source=observation.source,
            particles=self._around(observation.position, sigma),
            weights=np.full(n, 1.0 / n),
            size=observation.size.copy(),
            yaw=observation.yaw,
            created_ns=stamp,
            last_seen_ns=stamp,
            state_since_ns=stamp,
            true_id=observation.true_id,
            last_position=observation.position.copy(),
            label_belief=Belief(self.settings.label_switch_margin, value=observation.label),
            color_belief=Belief(self.settings.label_switch_margin, value=observation.attributes.get("color")),
        )
        if self.settings.label_evidence:
            track.label_belief.add(observation.class_scores())
            color = observation.attributes.get("color")
            if color is not None:
                track.color_belief.add({color: observation.score})
        track.size, track.yaw = track.extent.fold(observation.evidence, observation.size, observation.yaw)
        self.tracks[track_id] = track
        return track

    def _around(self, position: Array, sigma: float) -> Array:
        return position + self._rng.normal(0.0, sigma, (self.settings.particles, 3))

    def _anywhere(self, count: int, height: float) -> Array:
        """``count`` positions uniformly over the mapped area at ``height`` (drawn in batches)."""
        if len(self._uniform_pool) < count:
            min_x, min_y, max_x, max_y = self.bounds
            fresh = self._rng.uniform((min_x, min_y), (max_x, max_y), (max(count, UNIFORM_BATCH), 2))
            self._uniform_pool = np.concatenate([self._uniform_pool, fresh])
        xy, self._uniform_pool = self._uniform_pool[:count], self._uniform_pool[count:]
        return np.column_stack([xy, np.full(count, height)])

    def _resample(self, track: Track, position: Array, sigma: float) -> None:
        """Systematic resampling when the effective sample size is low."""
        n = len(track.weights)
        if 1.0 / float((track.weights**2).sum()) > n / 2:
            return
        positions = (self._rng.random() + np.arange(n)) / n
        indices = np.minimum(np.searchsorted(np.cumsum(track.weights), positions), n - 1)
        track.particles = track.particles[indices] + self._rng.normal(0.0, sigma / 4, (n, 3))
        track.weights = np.full(n, 1.0 / n)


def track_positions(tracks: list[Track]) -> Array:
    """Track.position() of many tracks at once, shape (T, 3)."""
    if not tracks:
        return np.zeros((0, 3))
    if len({len(t.particles) for t in tracks}) > 1:
        return np.array([t.position() for t in tracks])
    particles, weights = _stacked(tracks)
    anchors = np.array([t.last_position for t in tracks])
    offsets = particles - anchors[:, None, :]
    near_weights = weights * (np.einsum("tnk,tnk->tn", offsets, offsets) < SPOT_RADIUS_M**2)
    totals = near_weights.sum(axis=1)
    positions = np.einsum("tn,tnk->tk", near_weights, particles) / np.maximum(totals, 1e-300)[:, None]
    positions[totals <= 0] = anchors[totals <= 0]
    for index, track in enumerate(tracks):
        if track.state == ObjectState.MISSING:
            positions[index] = track.last_position
    return np.asarray(positions, dtype=np.float64)


def _stacked(tracks: list[Track]) -> tuple[Array, Array]:
    """Particles (T, N, 3) and weights (T, N) of tracks with N particles each (concatenate is faster
    than stack for hundreds of small arrays)."""
    count, n = len(tracks), len(tracks[0].particles)
    particles = np.concatenate([t.particles for t in tracks]).reshape(count, n, 3)
    weights = np.concatenate([t.weights for t in tracks]).reshape(count, n)
    return particles, weights


def track_covariances(tracks: list[Track]) -> npt.NDArray[np.float64]:
    """Track.covariance() of many tracks at once, shape (T, 3, 3)."""
    if not tracks:
        return np.zeros((0, 3, 3))
    if len({len(t.particles) for t in tracks}) > 1:
        return np.array([t.covariance() for t in tracks])
    particles, weights = _stacked(tracks)
    mean = np.einsum("tn,tnk->tk", weights, particles)
    centred = particles - mean[:, None, :]
    return np.asarray(np.matmul((weights[:, :, None] * centred).transpose(0, 2, 1), centred), dtype=np.float64)


def kinds_match(
    tracks: list[Track], observations: list[Observation], look_alikes: bool = True
) -> npt.NDArray[np.bool_]:
    """_same_kind of every track with every observation, shape (T, O). With ``look_alikes`` a label fits
    when the observation's classes and the track's plausible labels share one; else labels must be equal."""
    if look_alikes:
        track_labels = [t.label_belief.plausible() | {t.label} for t in tracks]
        observation_labels = [set(o.class_scores()) for o in observations]
    else:
        track_labels = [{t.label} for t in tracks]
        observation_labels = [{o.label} for o in observations]
    names = sorted(set().union(*track_labels, *observation_labels))
    column = {name: i for i, name in enumerate(names)}
    has_t = np.zeros((len(tracks), len(names)), dtype=np.int32)
    has_o = np.zeros((len(observations), len(names)), dtype=np.int32)
    for row, labels in enumerate(track_labels):
        has_t[row, [column[n] for n in labels]] = 1
    for row, labels in enumerate(observation_labels):
        has_o[row, [column[n] for n in labels]] = 1
    same_label = (has_t @ has_o.T) > 0
    colors_t = [t.attributes.get("color") for t in tracks]
    colors_o = [o.attributes.get("color") for o in observations]
    color_names = sorted({c for c in colors_t + colors_o if c is not None})
    index = {name: i + 1 for i, name in enumerate(color_names)}  # 0: no colour
    fits = np.ones((len(color_names) + 1, len(color_names) + 1), dtype=bool)
    for a in color_names:
        for b in color_names:
            fits[index[a], index[b]] = colors_fit(a, b)
    codes_t = np.array([index.get(c, 0) if c else 0 for c in colors_t])
    codes_o = np.array([index.get(c, 0) if c else 0 for c in colors_o])
    return np.asarray(same_label & fits[codes_t[:, None], codes_o[None, :]], dtype=bool)


def same_place_fits(track: Track, observation: Observation) -> bool:
    """The colour fits and the sizes (longest side, height) agree within a third."""
    known = np.array([max(track.size[:2]), track.size[2]])
    seen = np.array([max(observation.size[:2]), observation.size[2]])
    if np.any(np.abs(known - seen) > np.maximum(known, 1e-3) / 3):
        return False
    return colors_fit(track.attributes.get("color"), observation.attributes.get("color"))


def label_agreement(tracks: list[Track], observations: list[Observation]) -> Array:
    """How much each observation backs each track's label, shape (T, O): its score for that label over its
    best score (1: the observation's own label; 0: the track's label is not among its classes)."""
    agreement = np.zeros((len(tracks), len(observations)))
    for column, observation in enumerate(observations):
        scores = observation.class_scores()
        best = max(scores.values(), default=0.0)
        if best <= 0.0:
            continue
        for row, track in enumerate(tracks):
            agreement[row, column] = scores.get(track.label, 0.0) / best
    return agreement


def _same_kind(a: Track, b: Track) -> bool:
    """Plausibly the same class (a label one of them finds plausible), and the same (or an easily
    confused) colour where both have one."""
    if a.label != b.label and not a.label_belief.plausible() & b.label_belief.plausible():
        return False
    return colors_fit(a.attributes.get("color"), b.attributes.get("color"))
