"""Identity through moves and stable labels: the tracker on synthetic observation sequences.

A camera at the origin, 1 m up, looks along map +x (the "old spot" at (2, 0, 1) is in view) or along
+y (the "new spot" at (0, 2, 1)); the depth image sees 9 m through everything, so a spot in view and
not detected is seen empty.
"""

from __future__ import annotations

import numpy as np
import pytest

from perception.camera import CameraIntrinsics
from perception.frame import RGBDFrame
from perception.geometry import make_transform
from perception.identity import Belief, Candidate, IdentityPrior, moved_prior, same_object_probabilities
from perception.measure import Observation
from perception.pipeline import doubt_relations
from perception.scene_graph import ObjectState, Predicate, SceneObject
from perception.tracker import Tracker, TrackerSettings

INTRINSICS = CameraIntrinsics(640, 480, 525.0, 525.0, 319.5, 239.5)
LOOK_X = make_transform((0.0, 0.0, 1.0), (-0.5, 0.5, -0.5, 0.5))  # optical z along map +x
TURN_LEFT = np.array([[0.0, -1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
LOOK_Y = TURN_LEFT @ LOOK_X  # optical z along map +y
LOOK_MINUS_Y = TURN_LEFT.T @ LOOK_X  # optical z along map -y
OLD_SPOT = (2.0, 0.0, 1.0)
NEW_SPOT = (0.0, 2.0, 1.0)
SIZE = (0.18, 0.04, 0.04)  # a banana


def frame(step: int, pose: np.ndarray) -> RGBDFrame:
    return RGBDFrame(
        step * 200_000_000,
        np.zeros((480, 640, 3), np.uint8),
        np.full((480, 640), 9.0, np.float32),
        INTRINSICS,
        pose,
    )


def sighting(
    position: tuple[float, float, float],
    label: str = "banana",
    color: str = "yellow",
    size: tuple[float, float, float] = SIZE,
    scores: dict[str, float] | None = None,
) -> Observation:
    return Observation(
        label, np.array(position), np.array(size), 0.0, 2.0, 0.9, "test", {"color": color}, label_scores=scores or {}
    )


class Session:
    """Feeds frames 0.2 s apart to one tracker."""

    def __init__(self, settings: TrackerSettings | None = None) -> None:
        self.tracker = Tracker(settings, bounds=(-5.0, -5.0, 5.0, 5.0), seed=2)
        self.step = 0

    def see(self, pose: np.ndarray, *observations: Observation, frames: int = 1) -> None:
        for _ in range(frames):
            self.tracker.update(frame(self.step, pose), list(observations))
            self.step += 1

    def live(self, label: str = "banana") -> list[str]:
        return [t.id for t in self.tracker.confirmed() if t.label == label and t.state != ObjectState.MISSING]


def known_banana(settings: TrackerSettings | None = None) -> tuple[Session, str]:
    session = Session(settings)
    session.see(LOOK_X, sighting(OLD_SPOT), frames=4)
    (banana,) = session.live()
    return session, banana


def test_a_move_seen_at_the_new_spot_first_is_a_doubt_then_one_object_with_the_old_id() -> None:
    session, banana = known_banana()
    session.see(LOOK_Y, sighting(NEW_SPOT), frames=3)  # moved while the robot looked away; seen there first
    sightings = [t for t in session.tracker.confirmed() if t.id != banana]
    assert len(sightings) == 1
    doubt = sightings[0].doubts
    assert set(doubt) == {banana} and 0.05 < doubt[banana] < 0.95  # not decided: nothing showed the old spot
    relations = doubt_relations(session.tracker.confirmed())
    assert [(r.subject_id, r.predicate, r.object_id) for r in relations] == [
        (sightings[0].id, Predicate.POSSIBLY_SAME_AS, banana)
    ]

    session.see(LOOK_X, frames=4)  # the old spot, seen empty
    assert session.live() == [banana]  # one banana, under the id it always had
    track = session.tracker.tracks[banana]
    assert track.state == ObjectState.MOVED
    assert track.attributes["merged_ids"] == sightings[0].id  # what named the sighting names it now
    assert np.linalg.norm(track.position() - np.array(NEW_SPOT)) < 0.05
    assert not doubt_relations(session.tracker.confirmed())


def test_the_old_spot_seen_occupied_makes_two_objects_and_raises_the_prior_of_a_second() -> None:
    session, banana = known_banana()
    session.see(LOOK_Y, sighting(NEW_SPOT), frames=3)
    (second,) = [i for i in session.live() if i != banana]
    session.see(LOOK_X, sighting(OLD_SPOT), frames=2)  # the first banana is still where it was
    assert sorted(session.live()) == sorted([banana, second])
    assert not session.tracker.tracks[second].doubts
    assert session.tracker.seen_together["banana"] == 2
    # Another banana far away now is less likely one of these moved: two were seen at once.
    session.see(LOOK_MINUS_Y, sighting((0.0, -2.0, 1.0)), frames=2)
    third = [t for t in session.tracker.confirmed() if t.id not in (banana, second)]
    assert len(third) == 1
    assert max(third[0].doubts.values(), default=0.0) < 0.5


def test_the_old_spot_seen_first_keeps_the_id_without_doubt() -> None:
    session, banana = known_banana()
    session.see(LOOK_X, frames=4)  # gone from its spot
    assert session.tracker.tracks[banana].state == ObjectState.MISSING
    session.see(LOOK_Y, sighting(NEW_SPOT), frames=2)
    assert session.live() == [banana] and session.tracker.tracks[banana].state == ObjectState.MOVED


def test_a_second_object_seen_beside_the_first_is_new_at_once() -> None:
    session, banana = known_banana()
    session.see(LOOK_X, sighting(OLD_SPOT), sighting((2.0, 0.6, 1.0)), frames=3)
    (second,) = [i for i in session.live() if i != banana]
    assert not session.tracker.tracks[second].doubts


def test_a_different_size_or_colour_is_no_candidate() -> None:
    session, _ = known_banana()
    session.see(LOOK_Y, sighting(NEW_SPOT, size=(0.4, 0.3, 0.2)), sighting((0.5, 2.0, 1.0), color="green"), frames=2)
    assert all(not t.doubts for t in session.tracker.confirmed())


def test_without_identity_hypotheses_the_moved_object_is_a_second_track() -> None:
    """The previous tracker (the benchmark's comparison): a duplicate, and no doubt said."""
    session, banana = known_banana(TrackerSettings(identity_hypotheses=False, label_evidence=False))
    session.see(LOOK_Y, sighting(NEW_SPOT), frames=3)
    session.see(LOOK_X, frames=4)
    assert len(session.tracker.confirmed()) == 2 and session.tracker.tracks[banana].state == ObjectState.MISSING


def test_a_look_alike_label_in_one_frame_does_not_rename_or_split_a_track() -> None:
    session = Session()
    mug = sighting(OLD_SPOT, "mug", "blue", (0.085, 0.085, 0.1), {"mug": 0.9, "cup": 0.6})
    session.see(LOOK_X, mug, frames=5)
    (track,) = session.tracker.confirmed()
    as_cup = sighting(OLD_SPOT, "cup", "blue", (0.085, 0.085, 0.1), {"cup": 0.8, "mug": 0.7})
    session.see(LOOK_X, as_cup, frames=2)
    session.see(LOOK_X, mug, frames=2)
    assert [t.id for t in session.tracker.confirmed()] == [track.id]
    assert track.label == "mug" and track.label_flips == 0
    session.see(
        LOOK_X, sighting(OLD_SPOT, "cup", "blue", (0.085, 0.085, 0.1)), frames=10
    )  # only cup fits: renamed once
    assert track.label == "cup" and track.label_flips == 1 and len(session.tracker.tracks) == 1


def test_colour_comes_from_the_majority_of_sightings() -> None:
    session = Session()
    session.see(LOOK_X, sighting(OLD_SPOT, "cup", "orange", (0.08, 0.08, 0.1)), frames=1)
    session.see(LOOK_X, sighting(OLD_SPOT, "cup", "yellow", (0.08, 0.08, 0.1)), frames=6)
    (track,) = session.tracker.confirmed()
    assert track.attributes["color"] == "yellow"


def test_doubts_survive_a_restart() -> None:
    session, _ = known_banana()
    session.see(LOOK_Y, sighting(NEW_SPOT), frames=3)
    confirmed = session.tracker.confirmed()
    objects = [
        SceneObject(t.id, t.label, position=t.position(), size=t.size, attributes=dict(t.attributes), state=t.state)
        for t in confirmed
    ]
    restarted = Tracker(bounds=(-5.0, -5.0, 5.0, 5.0))
    restarted.restore(objects, doubt_relations(confirmed))
    assert doubt_relations(restarted.confirmed()) == doubt_relations(confirmed)


def test_belief_switches_only_on_a_clear_lead() -> None:
    belief = Belief(2.0)
    assert not belief.add({"mug": 0.9}) and belief.value == "mug"
    assert not belief.add({"cup": 0.9}) and belief.value == "mug"  # one each: a tie keeps the name
    assert not belief.add({"cup": 0.5, "mug": 0.4}) and belief.value == "mug"  # cup leads by 0.2
    assert belief.add({"cup": 0.9}) and belief.value == "cup"  # by 2.4
    assert belief.plausible() == {"cup", "mug"}
    belief.add({"cup": 0.9})
    assert belief.plausible() == {"cup"}


@pytest.mark.parametrize(("together", "expected"), [(False, 0.41), (True, 0.12)])
def test_same_object_probability_follows_the_equation(together: bool, expected: float) -> None:
    prior = IdentityPrior()
    moved = moved_prior(0.95, 10.0, 0.002)
    p = same_object_probabilities([Candidate("banana_1", moved, 1.0)], together, prior)
    beta = prior.new_instance_seen_together if together else prior.new_instance
    assert p["banana_1"] == pytest.approx(moved / (moved + beta))
    assert p["banana_1"] == pytest.approx(expected, abs=0.01)


def test_a_sighting_where_a_track_is_joins_it_whatever_the_class() -> None:
    """A partial view in which only the look-alike class fits makes no second object in the same place."""
    session = Session()
    session.see(LOOK_X, sighting(OLD_SPOT, "mug", "blue", (0.085, 0.085, 0.1)), frames=4)
    session.see(LOOK_X, sighting((2.01, 0.0, 1.0), "cup", "blue", (0.08, 0.08, 0.1)), frames=3)
    (track,) = session.tracker.confirmed()
    assert track.label == "mug" and len(session.tracker.tracks) == 1


def test_a_missed_detection_beside_a_look_alike_does_not_hand_the_id_over() -> None:
    """The detector misses the banana for a frame just as a second one is put down 25 cm away: the id
    stays with the first, the second is a new object."""
    session, banana = known_banana()
    beside = (2.0, 0.25, 1.0)
    session.see(LOOK_X, sighting(beside), frames=1)  # the first banana not detected this frame
    session.see(LOOK_X, sighting(OLD_SPOT), sighting(beside), frames=3)
    track = session.tracker.tracks[banana]
    assert np.linalg.norm(track.position() - np.array(OLD_SPOT)) < 0.05 and track.state == ObjectState.VISIBLE
    assert len(session.live()) == 2 and not any(t.doubts for t in session.tracker.confirmed())


def test_a_nudge_within_view_keeps_the_id() -> None:
    """Pushed 20 cm along the counter in view: first a doubt, then the empty spot merges it back."""
    session, banana = known_banana()
    session.see(LOOK_X, sighting((2.0, 0.2, 1.0)), frames=5)
    assert session.live() == [banana]
    assert np.linalg.norm(session.tracker.tracks[banana].position() - np.array((2.0, 0.2, 1.0))) < 0.05


def test_a_look_alike_class_that_only_half_fits_is_no_candidate() -> None:
    """A red cup seen where the red apple is not, whose view fits an apple a little: no doubt about the apple."""
    session = Session()
    session.see(LOOK_X, sighting(OLD_SPOT, "apple", "red", (0.08, 0.08, 0.08)), frames=4)
    cup = sighting(NEW_SPOT, "cup", "red", (0.08, 0.08, 0.09), {"cup": 0.9, "apple": 0.3})
    session.see(LOOK_Y, cup, frames=3)
    assert all(not t.doubts for t in session.tracker.confirmed())
