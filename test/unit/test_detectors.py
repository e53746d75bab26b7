"""Detectors on frames the embedded simulator renders: the oracle, the colour detector, and the
open-vocabulary detector's real code path with a tiny randomly initialised OWL model."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import yaml

import sim  # noqa: F401  (chooses the OpenGL backend before mujoco is imported)
from perception.camera import CameraIntrinsics
from perception.detectors import DETECTOR_NAMES, make_detector
from perception.detectors.color import DEFAULT_CONFIG, ColorConfigError, ColorDetector, load_color_classes
from perception.detectors.open_vocab import OpenVocabDetector, box_to_mask, non_maximum_suppression
from perception.detectors.oracle import OracleDetector
from perception.frame import Detection, DetectorError, OracleSegmentation, RGBDFrame
from sim.camera import CameraRenderer
from sim.scenario import load_scenario, parse_scenario
from sim.simulator import Simulator, TrajectoryPoint

# name: (world, robot pose, head tilt) of the views the colour detector is checked on
VIEWS: dict[str, tuple[str, tuple[float, float, float], float]] = {
    "kitchen_counter": ("kitchen", (1.6, 2.5, math.pi / 2), -0.5),  # red and blue cups
    "kitchen_table": ("kitchen", (2.2, 2.3, -math.pi / 2), -0.7),  # apple, orange, red bowl on wood
    "apartment_bookshelf": ("apartment", (3.6, 3.0, 0.0), -0.35),  # books, ball, juice carton, apple
    "office_desk": ("office", (1.5, 1.8, -math.pi / 2), -0.7),  # red stapler and red mug on a white desk
}


class View:
    """A rendered frame with the oracle, and what each object is in the scenario."""

    def __init__(self, frame: RGBDFrame, labels: dict[str, str], colors: dict[str, str]) -> None:
        self.frame = frame
        self.labels = labels
        self.colors = colors
        assert frame.oracle is not None
        self.instance_of = {object_id: instance for instance, (object_id, _) in frame.oracle.objects.items()}

    def mask_of(self, object_id: str) -> npt.NDArray[np.bool_]:
        assert self.frame.oracle is not None
        return self.frame.oracle.mask == self.instance_of[object_id]

    def owner(self, detection: Detection) -> tuple[str | None, float]:
        """The object most of a detection's pixels show (None: background) and that share of its pixels."""
        assert self.frame.oracle is not None
        counts = np.bincount(self.frame.oracle.mask[detection.mask])
        instance = int(counts.argmax())
        owner = self.frame.oracle.objects[instance][0] if instance > 0 else None
        return owner, float(counts[instance] / counts.sum())


def render(world: str, pose: tuple[float, float, float], tilt: float) -> View:
    document = load_scenario(world).model_dump(mode="json")
    document["robot"]["pose"] = list(pose)
    simulator = Simulator(parse_scenario(document))
    head = ["joint_head_pan", "joint_head_tilt"]
    simulator.follow_trajectory("head_controller", head, [TrajectoryPoint(0.5, {head[0]: 0.0, head[1]: tilt})])
    simulator.advance(1.0)
    camera = CameraRenderer(simulator.model, simulator.scenario.camera, simulator.object_geoms())
    try:
        rendered = camera.render(simulator.copy_state())
    finally:
        camera.close()
    assert rendered.instances is not None
    specs = {o.id: o for o in simulator.scenario.all_objects()}
    objects = {i + 1: (oid, specs[oid].label) for i, oid in enumerate(simulator.object_ids)}
    frame = RGBDFrame(
        stamp_ns=round(rendered.time_s * 1e9),
        color=rendered.color,
        depth=rendered.depth,
        intrinsics=camera.intrinsics,
        camera_pose=rendered.camera_pose,
        oracle=OracleSegmentation(mask=rendered.instances, objects=objects),
    )
    return View(frame, {k: s.label for k, s in specs.items()}, {k: str(s.color) for k, s in specs.items()})


@pytest.fixture(scope="module")
def views() -> dict[str, View]:
    return {name: render(*spec) for name, spec in VIEWS.items()}


@pytest.fixture(scope="module")
def color_detector() -> ColorDetector:
    return ColorDetector()


def without_oracle(frame: RGBDFrame) -> RGBDFrame:
    return RGBDFrame(frame.stamp_ns, frame.color, frame.depth, frame.intrinsics, frame.camera_pose)


# --- the oracle ------------------------------------------------------------------------------


def test_oracle_returns_the_visible_objects_with_their_ids(views: dict[str, View]) -> None:
    view = views["kitchen_counter"]
    detections = OracleDetector().detect(view.frame)
    assert {(d.true_id, d.label) for d in detections} == {("red_cup", "cup"), ("blue_cup", "cup")}
    for detection in detections:
        assert detection.source == "sim_oracle" and detection.score == 1.0 and detection.attributes == {}
        assert detection.true_id is not None
        assert np.array_equal(detection.mask, view.mask_of(detection.true_id))
    table = OracleDetector().detect(views["kitchen_table"].frame, queries=["the red apple", "bowl"])
    assert {d.true_id for d in table} == {"red_apple", "red_bowl"}


def test_oracle_skips_small_instances_and_needs_the_segmentation(views: dict[str, View]) -> None:
    frame = views["kitchen_table"].frame
    sizes = {d.true_id: int(d.mask.sum()) for d in OracleDetector().detect(frame)}
    threshold = sorted(sizes.values())[1]  # keeps all but the smallest
    kept = {d.true_id for d in OracleDetector(min_pixels=threshold).detect(frame)}
    assert kept == {oid for oid, size in sizes.items() if size >= threshold} and len(kept) == len(sizes) - 1
    with pytest.raises(DetectorError, match=r"sim_oracle needs the simulator's /sim/oracle/segmentation"):
        OracleDetector().detect(without_oracle(frame))


# --- the colour detector ---------------------------------------------------------------------


def test_color_detector_finds_the_red_and_blue_cups(views: dict[str, View], color_detector: ColorDetector) -> None:
    view = views["kitchen_counter"]
    detections = color_detector.detect(without_oracle(view.frame))
    cups = {d.attributes["color"]: d for d in detections if d.label == "cup"}
    assert set(cups) == {"red", "blue"}
    for color, object_id in (("red", "red_cup"), ("blue", "blue_cup")):
        detection, truth = cups[color], view.mask_of(object_id)
        assert detection.source == "color" and 0.3 <= detection.score <= 1.0
        assert (detection.mask & truth).sum() / (detection.mask | truth).sum() >= 0.7
        assert not np.isnan(view.frame.depth[detection.mask]).any()  # no pixel without depth
    # Queries narrow the answer to the labels they name ("blue cup" names cup); colour stays an attribute.
    assert sorted(d.attributes["color"] for d in color_detector.detect(view.frame, queries=["blue cup"])) == [
        "blue",
        "red",
    ]
    assert color_detector.detect(view.frame, queries=["banana"]) == []


@pytest.mark.parametrize(
    ("view_name", "expected"),
    [
        ("kitchen_table", {"red_apple", "orange", "red_bowl"}),
        ("apartment_bookshelf", {"red_book", "blue_book", "yellow_ball", "orange_juice"}),
        ("office_desk", {"red_stapler", "red_mug"}),
    ],
)
def test_color_detector_finds_labelled_objects(
    views: dict[str, View], color_detector: ColorDetector, view_name: str, expected: set[str]
) -> None:
    view = views[view_name]
    found: set[str] = set()
    for detection in color_detector.detect(without_oracle(view.frame)):
        owner, _ = view.owner(detection)
        if owner is not None and view.labels[owner] == detection.label:
            assert detection.attributes["color"] == view.colors[owner]
            found.add(owner)
    assert expected <= found


def test_color_detector_sees_objects_not_furniture(views: dict[str, View], color_detector: ColorDetector) -> None:
    """Precision over all views: detected pixels lie on the object the detection names, never on furniture."""
    on_object = total = right = count = 0
    for view in views.values():
        for detection in color_detector.detect(without_oracle(view.frame)):
            owner, share = view.owner(detection)
            pixels = int(detection.mask.sum())
            total += pixels
            count += 1
            if owner is not None:
                on_object += round(share * pixels)
                right += view.labels[owner] == detection.label
    assert count >= 10
    assert on_object / total >= 0.9 and right / count >= 0.9


def test_color_detector_splits_one_colour_at_different_depths() -> None:
    """Two red squares touching in the image, 0.5 m apart in depth, are two objects."""
    height, width = 120, 160
    color = np.full((height, width, 3), 200, np.uint8)
    depth = np.full((height, width), 3.0, np.float32)
    color[40:70, 40:70] = color[40:70, 70:100] = (217, 25, 25)
    depth[40:70, 40:70], depth[40:70, 70:100] = 1.0, 1.5
    intrinsics = CameraIntrinsics(width, height, 200.0, 200.0, (width - 1) / 2, (height - 1) / 2)
    pose = np.eye(4)
    pose[:3, :3] = [[1, 0, 0], [0, 0, 1], [0, -1, 0]]  # looking along +y, level
    config = load_color_classes(DEFAULT_CONFIG).model_dump()
    config["classes"] = [{"label": "block", "colors": ["red"], "min_area_px": 100}]
    detections = ColorDetector(config).detect(RGBDFrame(0, color, depth, intrinsics, pose))
    assert len(detections) == 2
    near, far = sorted(detections, key=lambda d: float(np.nanmedian(depth[d.mask])))
    assert near.mask[40:70, 40:70].sum() >= 0.99 * 900 and not near.mask[:, 70:].any()
    assert far.mask[40:70, 71:100].sum() >= 0.99 * 870 and not far.mask[:, :71].any()  # less the cut column
    assert near.label == "block" and near.attributes == {"color": "red", "shape": "any"}


def test_color_detector_judges_a_part_by_upper_bounds_and_needs_a_single_fit() -> None:
    """A 0.15 m red square cut by the image border may be larger than it looks: a 0.2-0.3 m class fits it."""
    height, width = 120, 160
    color = np.full((height, width, 3), 200, np.uint8)
    depth = np.full((height, width), 3.0, np.float32)
    intrinsics = CameraIntrinsics(width, height, 200.0, 200.0, (width - 1) / 2, (height - 1) / 2)
    pose = np.eye(4)
    pose[:3, :3] = [[1, 0, 0], [0, 0, 1], [0, -1, 0]]  # looking along +y, level
    tall = {"label": "tall", "colors": ["red"], "height_m": [0.2, 0.3]}
    flat = {"label": "flat", "colors": ["red"], "height_m": [0.01, 0.05]}
    config = load_color_classes(DEFAULT_CONFIG).model_dump()

    def detect(left: int, *classes: dict[str, Any]) -> list[Detection]:
        image, z = color.copy(), depth.copy()
        image[45:75, left : left + 30], z[45:75, left : left + 30] = (217, 25, 25), 1.0
        config["classes"] = list(classes)
        return ColorDetector(config).detect(RGBDFrame(0, image, z, intrinsics, pose))

    whole = detect(60, tall, flat)
    assert [d.label for d in whole] == ["tall"] and whole[0].score == pytest.approx(0.5, abs=0.1)  # 0.15 of 0.2
    part = detect(0, tall, flat)
    assert [d.label for d in part] == ["tall"] and part[0].score == pytest.approx(0.8)
    assert detect(0, tall, flat, {**tall, "label": "also tall", "height_m": [0.1, 0.4]}) == []  # two fit


def test_color_config_errors_name_the_key(tmp_path: Path) -> None:
    document = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))

    def error_of(change: Any) -> str:
        changed = copy.deepcopy(document)
        change(changed)
        with pytest.raises(ColorConfigError) as caught:
            ColorDetector(changed)
        return str(caught.value)

    assert "classes.0 (cup): unknown colour 'teal'" in error_of(lambda d: d["classes"][0]["colors"].append("teal"))
    assert "colors.red.0.h: hue range [0, 200]" in error_of(lambda d: d["colors"]["red"][0].update(h=[0, 200]))
    assert "classes: Field required" in error_of(lambda d: d.pop("classes"))
    assert "classes.2.height_m: range [0.3, 0.1]" in error_of(lambda d: d["classes"][2].update(height_m=[0.3, 0.1]))
    assert "classes.1.shape" in error_of(lambda d: d["classes"][1].update(shape="cone"))
    assert "settings.speed: Extra inputs" in error_of(lambda d: d["settings"].update(speed=3))
    broken = tmp_path / "broken.yaml"
    broken.write_text("colors: [unclosed\n", encoding="utf-8")
    with pytest.raises(ColorConfigError, match="is not valid YAML"):
        ColorDetector(broken)
    with pytest.raises(ColorConfigError, match="cannot read the colour classes file"):
        ColorDetector(tmp_path / "missing.yaml")


def test_the_color_classes_use_scenario_labels() -> None:
    labels = {o.label for world in ("kitchen", "apartment", "office") for o in load_scenario(world).all_objects()}
    assert set(ColorDetector().labels) <= labels


# --- make_detector ---------------------------------------------------------------------------


def test_make_detector_builds_each_detector_and_names_the_valid_ones(tmp_path: Path) -> None:
    assert isinstance(make_detector("color"), ColorDetector)
    oracle = make_detector("sim_oracle", min_pixels=5)
    assert isinstance(oracle, OracleDetector) and oracle.min_pixels == 5 and oracle.name == "sim_oracle"
    with pytest.raises(DetectorError, match=r"config\.json does not exist"):
        make_detector("open_vocab", model_dir=tmp_path)
    with pytest.raises(ValueError, match="unknown detector 'yolo'; detectors: color, sim_oracle, open_vocab"):
        make_detector("yolo")
    assert DETECTOR_NAMES == ("color", "sim_oracle", "open_vocab")


# --- the open-vocabulary detector --------------------------------------------------------------


def tiny_owl(directory: Path, model_type: str) -> Path:
    """Save a randomly initialised OWL model of a few thousand weights with its processor into ``directory``.

    The tokenizer is CLIP's byte-level BPE with no merges: every byte is a token (and again with the
    end-of-word mark), the special tokens last as in CLIP, so the text model pools at end-of-text.
    """
    import torch
    from transformers import (
        CLIPTokenizer,
        Owlv2Config,
        Owlv2ForObjectDetection,
        Owlv2Processor,
        OwlViTConfig,
        OwlViTForObjectDetection,
        OwlViTProcessor,
    )
    from transformers.convert_slow_tokenizer import bytes_to_unicode
    from transformers.models.owlv2.image_processing_pil_owlv2 import Owlv2ImageProcessorPil
    from transformers.models.owlvit.image_processing_pil_owlvit import OwlViTImageProcessorPil

    characters = list(bytes_to_unicode().values())
    vocab = {token: i for i, token in enumerate([*characters, *(c + "</w>" for c in characters)])}
    vocab["<|startoftext|>"], vocab["<|endoftext|>"] = len(vocab), len(vocab) + 1
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[], model_max_length=16)
    text = {
        "vocab_size": len(vocab), "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
        "num_attention_heads": 2, "max_position_embeddings": 16, "bos_token_id": len(vocab) - 2,
        "eos_token_id": len(vocab) - 1, "pad_token_id": len(vocab) - 1,
    }  # fmt: skip
    vision = {
        "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
        "image_size": 64, "patch_size": 16,
    }  # fmt: skip
    torch.manual_seed(0)
    size = {"height": 64, "width": 64}
    if model_type == "owlv2":
        model: Any = Owlv2ForObjectDetection(Owlv2Config(text_config=text, vision_config=vision, projection_dim=32))
        processor: Any = Owlv2Processor(image_processor=Owlv2ImageProcessorPil(size=size), tokenizer=tokenizer)
    else:
        model = OwlViTForObjectDetection(OwlViTConfig(text_config=text, vision_config=vision, projection_dim=32))
        processor = OwlViTProcessor(
            image_processor=OwlViTImageProcessorPil(size=size, crop_size=size), tokenizer=tokenizer
        )
    # Random box offsets collapse boxes; without them each of the 4x4 patches predicts its own square.
    with torch.no_grad():
        model.box_head.dense2.weight.zero_()
        model.box_head.dense2.bias.zero_()
    model.save_pretrained(directory)
    processor.save_pretrained(directory)
    return directory


@pytest.mark.parametrize("model_type", ["owlv2", "owlvit"])
def test_open_vocab_runs_a_tiny_owl_model(tmp_path: Path, views: dict[str, View], model_type: str) -> None:
    directory = tiny_owl(tmp_path / model_type, model_type)
    detector = make_detector("open_vocab", model_dir=directory, score_threshold=0.0, nms_iou=1.0)
    assert isinstance(detector, OpenVocabDetector) and detector.device in ("cpu", "cuda")
    frame = without_oracle(views["kitchen_table"].frame)
    queries = ["red apple", "bowl"]
    detections = detector.detect(frame, queries=queries)
    assert detections  # random weights find nonsense, but with threshold 0 they find it
    for detection in detections:
        assert detection.label in queries and detection.source == "open_vocab"
        assert 0.0 <= detection.score <= 1.0
        assert detection.mask.shape == frame.depth.shape and detection.mask.dtype == np.bool_
        assert detection.mask.any() and not np.isnan(frame.depth[detection.mask]).any()
    scores = [d.score for d in detections]
    assert scores == sorted(scores, reverse=True)
    defaults = {d.label for d in detector.detect(frame)}  # no queries: the configured list
    assert defaults and defaults <= set(detector.queries)
    assert all(d.score > 0.999 for d in OpenVocabDetector(directory, score_threshold=0.999).detect(frame))


def test_open_vocab_without_weights_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(DetectorError, match=r"config\.json does not exist.*Provide a model directory") as caught:
        OpenVocabDetector(model_dir=tmp_path / "owlv2")
    assert str(tmp_path / "owlv2" / "config.json") in str(caught.value)
    with pytest.raises(DetectorError, match=r"nobody/owl-none is not in the Hugging Face cache"):
        OpenVocabDetector(model_id="nobody/owl-none")
    (tmp_path / "config.json").write_text('{"model_type": "bert"}', encoding="utf-8")
    with pytest.raises(DetectorError, match="holds a 'bert' model"):
        OpenVocabDetector(model_dir=tmp_path)


def test_box_masks_hug_the_object_in_depth() -> None:
    depth = np.full((100, 100), 3.0, np.float32)
    depth[30:60, 40:70] = 1.0  # the object
    depth[30:60, 80:95] = 1.05  # another thing at its depth, outside the object but inside the box
    depth[45, 50] = np.nan
    mask = box_to_mask((35.0, 25.0, 96.0, 65.0), depth, depth_band_m=0.15)
    assert mask is not None
    expected = np.zeros_like(mask)
    expected[30:60, 40:70] = True
    expected[45, 50] = False
    assert np.array_equal(mask, expected)
    assert box_to_mask((120.0, 0.0, 140.0, 10.0), depth, 0.15) is None  # outside the image
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [0, 0, 10, 10], [50, 50, 60, 60]], np.float64)
    kept = non_maximum_suppression(boxes, np.array([0.9, 0.8, 0.7, 0.6]), np.array([0, 0, 1, 0]), iou=0.5)
    assert kept == [0, 2, 3]
