"""The perception core on synthetic data and on frames of the embedded world."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from perception.camera import CameraIntrinsics
from perception.frame import Detection, OracleSegmentation, RGBDFrame
from perception.geometry import make_transform
from perception.measure import Observation, backproject, measure, transform_points
from perception.persistence import PersistenceError, load_graph, save_graph
from perception.pipeline import FrameError, Perception, check_frame, restore
from perception.query import query, relevant_subgraph
from perception.scene_graph import ObjectState, Predicate
from perception.semantic_map import load_semantic_map
from perception.sync import StampSynchronizer
from perception.tracker import Tracker, TrackerSettings
from sim.camera import CameraRenderer
from sim.scenario import AtTime, MoveEvent, OnFurniture, load_scenario, parse_scenario
from sim.simulator import Simulator, TrajectoryPoint

INTRINSICS = CameraIntrinsics(640, 480, 525.0, 525.0, 319.5, 239.5)
LOOKING_DOWN_X = make_transform((0.0, 0.0, 1.0), (-0.5, 0.5, -0.5, 0.5))  # optical z along map +x


class Oracle:
    """The sim_oracle detector's behaviour, kept here so these tests exercise only the core."""

    name = "sim_oracle"

    def detect(self, frame: RGBDFrame, queries: list[str] | None = None) -> list[Detection]:
        assert frame.oracle is not None
        return [
            Detection(label, frame.oracle.mask == instance, 1.0, "sim_oracle", {}, object_id)
            for instance, (object_id, label) in frame.oracle.objects.items()
            if (frame.oracle.mask == instance).sum() >= 30
        ]


def test_backprojection_of_a_synthetic_plane_is_exact() -> None:
    # A wall 2 m ahead of the camera: every pixel's depth is 2 / cos(angle) along its ray.
    depth = np.full((480, 640), 2.0, dtype=np.float32)
    mask = np.zeros((480, 640), dtype=bool)
    mask[200:280, 300:340] = True
    camera_points = backproject(depth, mask, INTRINSICS)
    assert len(camera_points) == 80 * 40
    np.testing.assert_allclose(camera_points[:, 2], 2.0)
    u, v = 339, 279
    expected = np.array([(u - 319.5) * 2.0 / 525.0, (v - 239.5) * 2.0 / 525.0, 2.0])
    np.testing.assert_allclose(camera_points[-1], expected, atol=1e-9)
    map_points = transform_points(camera_points, LOOKING_DOWN_X)
    np.testing.assert_allclose(map_points[:, 0], 2.0, atol=1e-9)  # the wall is at x = 2 in the map


def test_measured_box_face_on_with_nothing_behind() -> None:
    # A synthetic 10 cm cube seen face-on at 1.5 m with no reading around it: its face's width and
    # height are measured; how deep it is nothing shows, so the box ends at the seen face (1 cm thick,
    # not assumed as deep as wide). perception.extent's tests cover boxes whose depth is seen or bounded.
    half = 0.05
    centre_camera = np.array([0.1, -0.05, 1.5])
    face = centre_camera[2] - half
    v, u = np.mgrid[0:480, 0:640]
    x = (u - INTRINSICS.cx) / INTRINSICS.fx * face  # where each pixel's ray meets the face's plane
    y = (v - INTRINSICS.cy) / INTRINSICS.fy * face
    hits = (abs(x - centre_camera[0]) <= half) & (abs(y - centre_camera[1]) <= half)
    depth = np.where(hits, face, np.nan).astype(np.float32)
    frame = RGBDFrame(1, np.full((480, 640, 3), 200, np.uint8), depth, INTRINSICS, LOOKING_DOWN_X)
    observation = measure(Detection("box", np.isfinite(depth), 0.9, "test"), frame)
    assert observation is not None
    truth = transform_points(centre_camera[None, :], LOOKING_DOWN_X)[0]
    face_x = truth[0] - half  # the camera looks along map +x
    np.testing.assert_allclose(observation.position[1:], truth[1:], atol=0.003)
    assert face_x <= observation.position[0] <= face_x + 0.01
    # The outermost pixel centres lie up to a pixel (2.8 mm here) inside the face's edges.
    np.testing.assert_allclose(observation.size, [0.1, 0.01, 0.1], atol=0.004)
    assert abs(math.cos(observation.yaw)) < 0.01  # its long side runs across the view (map y)


def test_bad_frames_are_refused() -> None:
    depth = np.full((480, 640), np.nan, dtype=np.float32)
    color = np.zeros((480, 640, 3), np.uint8)
    with pytest.raises(FrameError, match="no valid reading"):
        check_frame(RGBDFrame(1, color, depth, INTRINSICS, LOOKING_DOWN_X))
    with pytest.raises(FrameError, match="no valid reading"):
        check_frame(RGBDFrame(1, color, np.zeros((480, 640), np.float32), INTRINSICS, LOOKING_DOWN_X))
    with pytest.raises(FrameError, match="differ"):
        check_frame(RGBDFrame(1, color[:240], np.ones((480, 640), np.float32), INTRINSICS, LOOKING_DOWN_X))
    small = CameraIntrinsics(320, 240, 262.5, 262.5, 159.5, 119.5)
    with pytest.raises(FrameError, match="camera_info"):
        check_frame(RGBDFrame(1, color, np.ones((480, 640), np.float32), small, LOOKING_DOWN_X))


def observation(label: str, position: tuple[float, float, float], color: str) -> Observation:
    return Observation(label, np.array(position), np.array([0.08, 0.08, 0.1]), 0.0, 1.5, 0.9, "test", {"color": color})


def test_association_keeps_ids_and_makes_no_duplicates() -> None:
    tracker = Tracker(seed=1)
    frame = RGBDFrame(0, np.zeros((480, 640, 3), np.uint8), np.full((480, 640), 9.0, np.float32), INTRINSICS,
                      make_transform((0.0, 0.0, -50.0)))  # fmt: skip  # looks nowhere near the objects
    rng = np.random.default_rng(3)
    ids: dict[str, set[str]] = {"red": set(), "blue": set(), "apple": set()}
    for step in range(20):
        noise = rng.normal(0.0, 0.01, (3, 3))
        observations = [
            observation("cup", tuple(np.array([1.0, 0.0, 0.8]) + noise[0]), "red"),
            observation("cup", tuple(np.array([1.1, 0.0, 0.8]) + noise[1]), "blue"),  # a look-alike 10 cm away
            observation("apple", tuple(np.array([1.05, 0.2, 0.8]) + noise[2]), "red"),
        ]
        frame = RGBDFrame(step * 200_000_000, frame.color, frame.depth, INTRINSICS, frame.camera_pose)
        tracker.update(frame, observations[::-1] if step % 2 else observations)
        by_colour = {(t.label, t.attributes["color"]): t.id for t in tracker.confirmed()}
        if step:
            ids["red"].add(by_colour[("cup", "red")])
            ids["blue"].add(by_colour[("cup", "blue")])
            ids["apple"].add(by_colour[("apple", "red")])
    assert all(len(seen) == 1 for seen in ids.values()), ids  # no id switches
    assert len(tracker.tracks) == 3  # no duplicates


@pytest.fixture
def kitchen_view() -> Iterator[tuple[Simulator, Callable[[], RGBDFrame]]]:
    document = load_scenario("kitchen").model_dump(mode="json")
    document["robot"]["pose"] = [1.6, 2.5, math.pi / 2]  # facing the counter
    sim = Simulator(parse_scenario(document))
    sim.advance(0.3)
    camera = CameraRenderer(sim.model, sim.scenario.camera, sim.object_geoms())
    labels = {o.id: o.label for o in sim.scenario.all_objects()}
    table = {i + 1: (object_id, labels[object_id]) for i, object_id in enumerate(sim.object_ids)}

    def frame() -> RGBDFrame:
        rendered = camera.render(sim.copy_state())
        assert rendered.instances is not None
        oracle = OracleSegmentation(rendered.instances, table)
        return RGBDFrame(round(sim.time * 1e9), rendered.color, rendered.depth, camera.intrinsics,
                         rendered.camera_pose, oracle)  # fmt: skip

    yield sim, frame
    camera.close()


def watched(sim: Simulator, frame: Callable[[], RGBDFrame], frames: int) -> Perception:
    """Perception of the kitchen after ``frames`` frames, 0.2 s apart."""
    perception = Perception(Oracle(), load_semantic_map("kitchen"))
    for _ in range(frames):
        sim.advance(0.2)
        perception.process(frame())
    return perception


def look(sim: Simulator, pan: float, tilt: float = -0.5) -> None:
    sim.follow_trajectory(
        "head_controller",
        ["joint_head_pan", "joint_head_tilt"],
        [TrajectoryPoint(0.5, {"joint_head_pan": pan, "joint_head_tilt": tilt})],
    )


def test_moved_object_goes_missing_and_is_refound_with_the_same_id(
    kitchen_view: tuple[Simulator, Callable[[], RGBDFrame]],
) -> None:
    sim, frame = kitchen_view
    perception = watched(sim, frame, 4)
    red_cup = next(t for t in perception.tracker.confirmed() if t.true_id == "red_cup")
    assert np.linalg.norm(red_cup.position() - sim.object_pose("red_cup")[:3, 3]) < 0.02
    graph = perception.scene_graph()
    assert graph.relations_of(red_cup.id, Predicate.ON)[0].object_id == "counter"

    # A person moves the cup to the kitchen table, behind the robot; its spot on the counter is in view.
    sim.apply_event(MoveEvent(action="move", object="red_cup", to=OnFurniture(on="kitchen_table"), when=AtTime(at=0)))
    states = []
    for _ in range(5):
        sim.advance(0.2)
        perception.process(frame())
        states.append(red_cup.state)
    assert states[-1] == ObjectState.MISSING and red_cup.confidence < 0.35
    missing_answer = query(perception.scene_graph(), "red cup", round(sim.time * 1e9))
    assert "no longer there" in missing_answer.sentence

    look(sim, -3.0, -0.6)  # turn the head to the kitchen table
    for _ in range(8):
        sim.advance(0.2)
        perception.process(frame())
    assert red_cup.state == ObjectState.MOVED and perception.tracker.tracks[red_cup.id] is red_cup
    assert np.linalg.norm(red_cup.position() - sim.object_pose("red_cup")[:3, 3]) < 0.03
    true_ids = [t.true_id for t in perception.tracker.confirmed()]
    assert len(true_ids) == len(set(true_ids))  # one track per object
    graph = perception.scene_graph()
    assert graph.relations_of(red_cup.id, Predicate.ON)[0].object_id == "kitchen_table"
    answer = query(graph, "where is the red cup", round(sim.time * 1e9))
    assert answer.objects[0].id == red_cup.id and "kitchen table" in answer.sentence


def test_without_negative_evidence_a_moved_object_stays_where_it_was_last_seen(
    kitchen_view: tuple[Simulator, Callable[[], RGBDFrame]],
) -> None:
    """The benchmark's no-filtering ablation: no belief is lost where an object is not seen."""
    sim, frame = kitchen_view
    perception = Perception(Oracle(), load_semantic_map("kitchen"), TrackerSettings(negative_evidence=False))
    for _ in range(4):
        sim.advance(0.2)
        perception.process(frame())
    red_cup = next(t for t in perception.tracker.confirmed() if t.true_id == "red_cup")
    seen_at = red_cup.position().copy()
    sim.apply_event(MoveEvent(action="move", object="red_cup", to=OnFurniture(on="kitchen_table"), when=AtTime(at=0)))
    for _ in range(5):
        sim.advance(0.2)
        perception.process(frame())
    assert red_cup.state != ObjectState.MISSING
    assert np.linalg.norm(red_cup.position() - seen_at) < 0.02


def test_graph_persists_and_restores_with_the_same_ids(
    tmp_path: Path, kitchen_view: tuple[Simulator, Callable[[], RGBDFrame]]
) -> None:
    sim, frame = kitchen_view
    perception = watched(sim, frame, 3)
    graph = perception.scene_graph()
    save_graph(graph, tmp_path / "scene.json")
    restarted = Perception(Oracle(), load_semantic_map("kitchen"))
    restore(restarted, load_graph(tmp_path / "scene.json"))
    before = {o.id: o.position for o in graph if o.source == "sim_oracle"}
    after = {t.id: t.position() for t in restarted.tracker.confirmed()}
    assert set(after) == set(before)
    for object_id, position in before.items():
        assert np.linalg.norm(after[object_id] - position) < 0.01
    sim.advance(0.2)
    restarted.process(frame())  # seen again: the same ids, no new tracks
    assert set(restarted.tracker.tracks) == set(before)
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(PersistenceError, match=r"broken\.json"):
        load_graph(tmp_path / "broken.json")


def test_relevant_subgraph_keeps_what_the_command_needs(
    kitchen_view: tuple[Simulator, Callable[[], RGBDFrame]],
) -> None:
    sim, frame = kitchen_view
    perception = watched(sim, frame, 3)
    graph = perception.scene_graph()
    subgraph = relevant_subgraph(graph, "bring the blue cup to the dining table", round(sim.time * 1e9), max_objects=2)
    objects = [o for o in subgraph if o.kind.name == "OBJECT"]
    assert len(objects) <= 2 and objects[0].attributes["color"] == "blue"
    assert {"counter", "dining_table", "kitchen", "dining_room"} <= set(subgraph.objects)


def test_synchronizer_matches_stamps_and_drops_older() -> None:
    sync: StampSynchronizer[str] = StampSynchronizer(("color", "depth"), tolerance_ns=10)
    assert sync.add("color", 100, "c100") is None
    assert sync.add("color", 200, "c200") is None
    assert sync.add("depth", 205, "d205") == {"color": "c200", "depth": "d205"}
    assert sync.add("depth", 100, "d100") is None  # its colour was dropped with the older set
    with pytest.raises(KeyError):
        sync.add("oracle", 1, "x")
