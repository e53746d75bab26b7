"""Vision-language planning: the camera frame goes with the scene data to clients that accept images.

The whole path runs on a tiny random LLaVA (built in conftest.py) through the real TransformersClient;
planner logic runs on recorded answers (RecordReplayClient); the vision setting decides what is sent.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from control.skills import load_catalog
from perception.scene_graph import SceneGraph
from planning.interpretation import Outcome
from planning.models import (
    FallbackClient,
    Message,
    ModelClient,
    ModelRequest,
    ModelResponse,
    OpenAIClient,
    RecordReplayClient,
    TransformersClient,
    make_client,
)
from planning.models.openai_http import looks_like_vision_model
from planning.planner import GOAL_SCHEMA, TaskPlanner, make_planner
from planning.vision import CameraImage
from robot_agent.paths import config_file
from sim.layout import layout_graph
from sim.scenario import load_scenario

CATALOG = load_catalog(config_file("skills.yaml"))
COMMAND = "bring the cup I am looking at to the dining table"


@pytest.fixture(scope="module")
def kitchen() -> SceneGraph:
    return layout_graph(load_scenario("kitchen"))


def frame(rgb: tuple[int, int, int], height: int = 48, width: int = 64) -> CameraImage:
    """A camera frame: a grey room with a coloured thing in the middle."""
    pixels = np.full((height, width, 3), 90, dtype=np.uint8)
    pixels[height // 4 : 3 * height // 4, width // 4 : 3 * width // 4] = rgb
    return CameraImage(pixels=pixels)


class Camera:
    """An ImageSource that counts how often the planner asked it for a frame."""

    def __init__(self, image: CameraImage | None) -> None:
        self.image = image
        self.calls = 0

    def __call__(self) -> CameraImage | None:
        self.calls += 1
        return self.image


class ColourReader(ModelClient):
    """A test double of a VLM: it names the cup whose colour fills the middle of the picture."""

    name = "colour-reader"

    def __init__(self, accepts_images: bool = True) -> None:
        self._accepts_images = accepts_images
        self.requests: list[ModelRequest] = []

    @property
    def accepts_images(self) -> bool:
        return self._accepts_images

    def complete(self, request: ModelRequest) -> ModelResponse:
        from PIL import Image

        self.requests.append(request)
        images = [image for m in request.messages for image in m.images]
        if not images:
            return ModelResponse(json.dumps({"outcome": "clarify", "candidates": ["red_cup", "blue_cup"]}), "x", 0.0)
        picture = np.asarray(Image.open(io.BytesIO(images[0])).convert("RGB"), dtype=np.int32)
        middle = picture[picture.shape[0] // 2, picture.shape[1] // 2]
        cup = "red_cup" if middle[0] > middle[2] else "blue_cup"
        answer = {"outcome": "goal", "stages": [[f"on({cup}, dining_table)"]]}
        return ModelResponse(json.dumps(answer), self.name, 0.0)


def sent_images(requests: list[ModelRequest]) -> list[bytes]:
    return [image for r in requests for m in r.messages for image in m.images]


# --- the whole path on a tiny random vision-language model --------------------------------------


def test_a_tiny_vlm_receives_the_camera_frame_and_its_garbage_falls_back(
    tiny_vlm_dir: Path, kitchen: SceneGraph
) -> None:
    import torch
    from transformers.models.clip.modeling_clip import CLIPVisionEmbeddings

    client = TransformersClient(tiny_vlm_dir, device="cpu", max_new_tokens=8)
    assert client.accepts_images and client.device is None  # from config.json, before any weights load
    seen: list[tuple[int, ...]] = []

    def record_pixels(module: torch.nn.Module, args: tuple[Any, ...], _output: Any) -> None:
        if isinstance(module, CLIPVisionEmbeddings):
            seen.append(tuple(args[0].shape))

    camera = Camera(frame((200, 30, 30)))
    planner = TaskPlanner("llm_goal", client, use_embeddings=False, image_source=camera)
    assert planner.sends_images
    hook = torch.nn.modules.module.register_module_forward_hook(record_pixels)
    try:
        result = planner.interpret(COMMAND, kitchen, CATALOG)
    finally:
        hook.remove()
    # Random weights write no JSON: three attempts, then the offline parser answers, and says why.
    assert result.backend == "offline"
    assert "llm_goal backend failed (no usable answer after 3 attempts" in result.notes[0]
    assert camera.calls == 1
    assert len(seen) == 3 and all(shape[:2] == (1, 3) for shape in seen)  # the processor's pixel_values, each try
    strict = TaskPlanner("llm_goal", client, fallback_to_offline=False, use_embeddings=False, image_source=camera)
    failed = strict.interpret(COMMAND, kitchen, CATALOG)
    assert failed.outcome == Outcome.INVALID and "The planner model failed" in failed.message


# --- planner logic on recorded answers ---------------------------------------------------------


def test_a_recorded_answer_that_read_the_image_gives_its_goal(tmp_path: Path, kitchen: SceneGraph) -> None:
    blue = frame((20, 40, 220))
    recorder = RecordReplayClient(ColourReader(), tmp_path, "record")
    recorded = TaskPlanner("llm_goal", recorder, use_embeddings=False, image_source=Camera(blue))
    assert str(recorded.interpret(COMMAND, kitchen, CATALOG).goal) == "on(blue_cup, dining_table)"

    (path,) = tmp_path.glob("*.json")
    record = json.loads(path.read_text())
    user = record["request"]["messages"][1]
    assert user["images"] == [hashlib.sha256(blue.png()).hexdigest()]
    assert "IMAGE: the attached picture is the robot's camera view" in user["content"]

    # Replayed without the model: the same image gives the recorded goal, another image has no recording.
    player = RecordReplayClient(None, tmp_path, "replay", inner_name="colour-reader", accepts_images=True)
    replayed = TaskPlanner("llm_goal", player, use_embeddings=False, image_source=Camera(blue))
    result = replayed.interpret(COMMAND, kitchen, CATALOG)
    assert result.outcome == Outcome.GOAL and str(result.goal) == "on(blue_cup, dining_table)"
    assert result.backend == "llm_goal (colour-reader)"
    other = TaskPlanner("llm_goal", player, fallback_to_offline=False, use_embeddings=False,
                        image_source=Camera(frame((200, 30, 30))))  # fmt: skip
    assert "No recorded answer" in other.interpret(COMMAND, kitchen, CATALOG).message


# --- the vision setting ------------------------------------------------------------------------


def test_vision_off_sends_no_image_and_auto_sends_one_only_to_a_client_that_takes_images(kitchen: SceneGraph) -> None:
    for vision, accepts, sent in (("off", True, 0), ("auto", False, 0), ("auto", True, 1), ("on", True, 1)):
        model, camera = ColourReader(accepts_images=accepts), Camera(frame((200, 30, 30)))
        planner = TaskPlanner("llm_goal", model, use_embeddings=False, vision=vision, image_source=camera)
        planner.interpret(COMMAND, kitchen, CATALOG)
        assert len(sent_images(model.requests)) == sent and camera.calls == sent, (vision, accepts)
    # No frame yet: the model is asked without one.
    model = ColourReader()
    TaskPlanner("llm_goal", model, use_embeddings=False, vision="on", image_source=Camera(None)).interpret(
        COMMAND, kitchen, CATALOG
    )
    assert model.requests and not sent_images(model.requests)


def test_vision_on_needs_a_client_that_takes_images() -> None:
    with pytest.raises(ValueError, match="colour-reader cannot take images"):
        TaskPlanner("llm_goal", ColourReader(accepts_images=False), vision="on")
    with pytest.raises(ValueError, match="needs a model backend"):
        TaskPlanner("offline", vision="on")
    with pytest.raises(ValueError, match="vision must be one of auto, on, off, not 'sometimes'"):
        TaskPlanner("offline", vision="sometimes")
    text_server = {"kind": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "qwen2.5:7b-instruct"}
    with pytest.raises(ValueError, match="images: true"):
        make_planner("llm_goal", text_server, vision="on")
    assert make_planner("llm_goal", {**text_server, "images": True}, vision="on").sends_images
    with pytest.raises(ValueError, match="'images' must be true or false"):
        make_client({**text_server, "images": "yes"})


def test_clients_say_whether_they_accept_images(tiny_vlm_dir: Path, tmp_path: Path) -> None:
    for name in ("llava:7b", "qwen2.5vl:7b", "llama3.2-vision", "Qwen/Qwen2.5-VL-7B-Instruct", "minicpm-v"):
        assert looks_like_vision_model(name), name
    for name in ("qwen2.5:7b-instruct", "llama3.1:8b", "devstral", "Qwen/Qwen2.5-7B-Instruct"):
        assert not looks_like_vision_model(name), name
    assert OpenAIClient("http://127.0.0.1:9/v1", "llava").accepts_images
    assert not OpenAIClient("http://127.0.0.1:9/v1", "llava", images=False).accepts_images
    assert TransformersClient(tiny_vlm_dir).accepts_images
    text_model = tmp_path / "text_model"
    text_model.mkdir()
    (text_model / "config.json").write_text(json.dumps({"model_type": "llama"}))
    assert not TransformersClient(text_model).accepts_images
    assert not TransformersClient(tmp_path / "absent").accepts_images
    # A fallback chain takes images when one client does, and leaves them out for the others.
    reader, blind = ColourReader(), ColourReader(accepts_images=False)
    chain = FallbackClient([blind, reader])
    assert chain.accepts_images
    chain.complete(ModelRequest((Message("user", "look", images=(frame((1, 2, 3)).png(),)),)))
    assert not sent_images(blind.requests)


# --- the OpenAI request body -------------------------------------------------------------------


def test_the_openai_body_carries_the_image_as_a_data_url() -> None:
    png = frame((200, 30, 30)).png()
    request = ModelRequest(
        (Message("system", "You see the robot's camera."), Message("user", "which cup?", images=(png,))),
        json_schema=GOAL_SCHEMA,
    )
    body = OpenAIClient("http://127.0.0.1:11434/v1", "qwen2.5vl:7b").request_body(
        request, response_format={"type": "json_object"}
    )
    assert body["model"] == "qwen2.5vl:7b" and body["response_format"] == {"type": "json_object"}
    assert body["messages"][0] == {"role": "system", "content": "You see the robot's camera."}
    text, image = body["messages"][1]["content"]
    assert text == {"type": "text", "text": "which cup?"}
    prefix = "data:image/png;base64,"
    assert image["type"] == "image_url" and image["image_url"]["url"].startswith(prefix)
    assert base64.b64decode(image["image_url"]["url"][len(prefix) :]) == png
    json.dumps(body)  # all of it is JSON


def test_camera_images_validate_and_shrink() -> None:
    from PIL import Image

    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        CameraImage(pixels=np.zeros((4, 4), dtype=np.uint8))
    with pytest.raises(ValueError, match="either pixels or encoded"):
        CameraImage()
    big = CameraImage(pixels=np.zeros((1500, 2000, 3), dtype=np.uint8))
    assert Image.open(io.BytesIO(big.png())).size == (1024, 768)
    assert CameraImage(encoded=b"\xff\xd8\xffjpeg").png() == b"\xff\xd8\xffjpeg"
