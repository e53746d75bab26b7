"""Where value-map specs come from: the command's phrases, and a model whose answers are checked and fed back."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from planning.models.base import (
    ModelClient,
    ModelError,
    ModelRequest,
    ModelResponse,
    ModelTimeout,
    ModelUnavailable,
)
from planning.value_maps import VALUE_MAP_SPEC_SCHEMA, SceneItem, compose, parse_spec, workspace_around
from planning.value_maps.sources import PhraseError, SpecResult, spec_from_model, spec_from_phrases


def item(item_id: str, centre: tuple[float, float, float], size: tuple[float, float, float], **kw: Any) -> SceneItem:
    label = kw.pop("label", item_id.split("_", maxsplit=1)[0])
    return SceneItem(item_id, label, np.array(centre), np.array(size), **kw)


BOWL = item("bowl_1", (0.5, 0.0, 0.75), (0.16, 0.16, 0.08))
RED_CUP = item("red_cup", (0.4, -0.25, 0.74), (0.06, 0.06, 0.08), label="cup")
BLUE_CUP = item("blue_cup", (0.3, 0.2, 0.74), (0.06, 0.06, 0.08), label="cup")
VASE = item("vase_1", (0.6, 0.25, 0.8), (0.08, 0.08, 0.2), fragile=True)
GLASS = item("glass_1", (0.65, -0.2, 0.75), (0.06, 0.06, 0.1))
PLATE = item("plate_1", (0.3, -0.35, 0.71), (0.2, 0.2, 0.02))
SHELF = item("shelf_1", (0.9, 0.0, 0.9), (0.3, 0.6, 0.02), label="lower shelf", kind="furniture")
SCENE = [BOWL, RED_CUP, BLUE_CUP, VASE, GLASS, PLATE, SHELF]
TWO_BOWLS = [*SCENE, item("bowl_2", (0.2, 0.0, 0.75), (0.12, 0.12, 0.06))]


def phrases(text: str, moving: str = "red_cup", scene: list[SceneItem] = SCENE) -> dict[str, Any]:
    spec = spec_from_phrases(text, moving, scene)
    parse_spec(spec)  # every spec the phrases make is valid
    return spec


# ------------------------------------------------------------------------------------------------
# Phrases


def test_the_example_command_makes_the_whole_spec() -> None:
    spec = phrases("Move the cup to the left of the bowl without touching the vase.")
    assert spec == {
        "affordance": {"object": "bowl_1", "relation": "left_of"},
        "avoid": [{"object": "vase_1", "margin": 0.08}],
        "moving": "red_cup",
        "gripper": {"open": False, "at_target": "open"},
    }


@pytest.mark.parametrize(
    ("text", "target", "relation", "distance"),
    [
        ("hold the cup above the bowl", "bowl_1", "above", None),
        ("move it over the bowl", "bowl_1", "above", None),
        ("put the cup into the bowl", "bowl_1", "inside", None),
        ("put the cup in the bowl", "bowl_1", "inside", None),
        ("drop it inside the bowl", "bowl_1", "inside", None),
        ("put the cup next to the plate", "plate_1", "beside", None),
        ("place it beside the plate", "plate_1", "beside", None),
        ("set it down near the plate", "plate_1", "beside", None),
        ("put it to the right of the vase", "vase_1", "right_of", None),
        ("put it right of the vase", "vase_1", "right_of", None),
        ("move it on the left side of the glass", "glass_1", "left_of", None),
        ("put the cup in front of the plate", "plate_1", "in_front_of", None),
        ("put the cup behind the bowl", "bowl_1", "behind", None),
        ("put the cup on the lower shelf", "shelf_1", "above", 0.03),
        ("put the cup onto the plate", "plate_1", "above", 0.03),
        ("put it on top of the plate", "plate_1", "above", 0.03),
        ("move the cup 5 cm left of the bowl", "bowl_1", "left_of", 0.05),
        ("move the cup 5cm to the left of the bowl", "bowl_1", "left_of", 0.05),
        ("hold it 12 cm above the bowl", "bowl_1", "above", 0.12),
        ("put it 0.2 m behind the bowl", "bowl_1", "behind", 0.2),
        ("put it 30 mm into the bowl", "bowl_1", "inside", 0.03),
        ("move the gripper to the glass", "glass_1", "at", None),
    ],
)
def test_target_phrases(text: str, target: str, relation: str, distance: float | None) -> None:
    affordance = phrases(text)["affordance"]
    assert affordance["object"] == target
    assert affordance["relation"] == relation
    assert affordance.get("distance") == (pytest.approx(distance) if distance is not None else None)


def test_the_last_target_named_wins() -> None:
    spec = phrases("move the cup on the plate to the left of the bowl")
    assert spec["affordance"] == {"object": "bowl_1", "relation": "left_of"}


@pytest.mark.parametrize(
    ("text", "shift"),
    [
        ("hold the cup above the bowl, a bit higher", 0.03),
        ("hold the cup above the bowl higher", 0.05),
        ("hold the cup above the bowl 8 cm higher", 0.08),
        ("hold the cup above the bowl slightly lower", -0.03),
    ],
)
def test_higher_and_lower_shift_the_target(text: str, shift: float) -> None:
    affordance = phrases(text)["affordance"]
    assert affordance["offset"] == [0.0, 0.0, pytest.approx(shift)]


@pytest.mark.parametrize(
    "text",
    [
        "put the cup in the bowl and avoid the vase",
        "put the cup in the bowl, avoiding the vase",
        "put the cup in the bowl without touching the vase",
        "put the cup in the bowl without knocking over the vase",
        "keep away from the vase and put the cup in the bowl",
        "put the cup in the bowl while staying clear of the vase",
        "put the cup in the bowl, go around the vase",
        "don't touch the vase, put the cup in the bowl",
    ],
)
def test_avoid_phrases(text: str) -> None:
    spec = phrases(text)
    assert spec["avoid"] == [{"object": "vase_1", "margin": 0.08}]
    assert spec["affordance"] == {"object": "bowl_1", "relation": "inside"}


def test_avoid_lists_margins_and_everything() -> None:
    spec = phrases("put the cup next to the plate, avoid the vase, the glass and the blue cup")
    assert [a["object"] for a in spec["avoid"]] == ["vase_1", "glass_1", "blue_cup"]
    spec = phrases("stay 10 cm away from the vase and put the cup in the bowl")
    assert spec["avoid"] == [{"object": "vase_1", "margin": pytest.approx(0.1)}]
    spec = phrases("put the cup onto the plate avoiding everything")
    assert "avoid" not in spec and spec["avoid_margin"] == 0.08  # every other item is an obstacle anyway


def test_the_moving_object_is_never_an_obstacle_nor_the_target() -> None:
    spec = phrases("move the red cup away from the cups and put it behind the bowl")
    assert spec["avoid"] == [{"object": "blue_cup", "margin": 0.08}]  # the plural names both cups
    spec = phrases("put the cup in the bowl without touching the red cup or the vase")
    assert spec["avoid"] == [{"object": "vase_1", "margin": 0.08}]
    # "the cup" means the other cup when the red one is the one being moved
    assert phrases("put it next to the cup")["affordance"]["object"] == "blue_cup"
    with pytest.raises(PhraseError, match="object being moved") as caught:
        phrases("put it in the red cup")
    assert caught.value.candidates == ("red_cup",)


@pytest.mark.parametrize(
    ("text", "scale"),
    [
        ("put the cup in the bowl slowly", 0.4),
        ("carefully put the cup in the bowl", 0.4),
        ("gently place the cup in the bowl", 0.4),
        ("very slowly put the cup in the bowl", 0.2),
        ("quickly put the cup in the bowl", 1.0),
        ("put the cup in the bowl fast", 1.0),
    ],
)
def test_speed_words(text: str, scale: float) -> None:
    spec = phrases(text)
    assert spec["velocity"] == {"scale": scale}
    assert spec["affordance"]["object"] == "bowl_1"


def test_slowly_near_an_object_slows_down_there_only() -> None:
    spec = phrases("put the cup into the bowl and move slowly near the vase")
    assert spec["velocity"] == {"slow_near": [{"object": "vase_1", "radius": 0.15, "scale": 0.3}]}
    assert spec["affordance"] == {"object": "bowl_1", "relation": "inside"}
    # with no other target, "gently near the plate" is how and where to go
    spec = phrases("put the cup gently near the plate")
    assert spec["affordance"] == {"object": "plate_1", "relation": "beside"}
    assert spec["velocity"] == {"scale": 0.4}


@pytest.mark.parametrize(
    ("text", "mode"),
    [
        ("put the cup in the bowl top-down", "top_down"),
        ("put the cup in the bowl from above", "top_down"),
        ("put the cup next to the plate from the side", "side"),
        ("put the cup next to the plate sideways", "side"),
    ],
)
def test_rotation_words(text: str, mode: str) -> None:
    spec = phrases(text)
    assert spec["rotation"] == {"mode": mode}
    assert spec["affordance"]["relation"] in ("inside", "beside")  # "from above" is not the target


def test_gripper_follows_the_carried_object() -> None:
    assert phrases("hold the cup above the bowl without letting go")["gripper"] == {"open": False, "at_target": "keep"}
    spec = phrases("move above the bowl", moving="gripper")  # the gripper alone
    assert "moving" not in spec and "gripper" not in spec


def test_objects_resolve_by_id_label_and_colour() -> None:
    assert phrases("put it into bowl_1")["affordance"]["object"] == "bowl_1"
    assert phrases("put it next to the blue cup", moving="vase_1")["affordance"]["object"] == "blue_cup"
    assert phrases("put it next to the red cup", moving="vase_1")["affordance"]["object"] == "red_cup"
    assert phrases("put it on the shelf")["affordance"]["object"] == "shelf_1"  # "lower shelf" by its head noun
    assert phrases("put it next to the blue one", moving="vase_1")["affordance"]["object"] == "blue_cup"
    spec = phrases("put the blue cup on the plate", moving="the blue cup")  # the moving object as a phrase
    assert spec["moving"] == "blue_cup"


def test_an_ambiguous_phrase_asks_which_one() -> None:
    with pytest.raises(PhraseError) as caught:
        phrases("put the cup in the bowl", scene=TWO_BOWLS)
    assert caught.value.candidates == ("bowl_1", "bowl_2")
    assert "bowl_1" in str(caught.value) and "bowl_2" in str(caught.value) and "which bowl" in str(caught.value)
    with pytest.raises(PhraseError, match="blue_cup, red_cup"):
        phrases("put the vase next to the cup", moving="vase_1")


def test_an_unknown_phrase_lists_what_is_known() -> None:
    with pytest.raises(PhraseError) as caught:
        phrases("put the cup next to the teapot")
    message = str(caught.value)
    assert "teapot" in message and caught.value.phrase == "teapot"
    for known in ("bowl (bowl_1)", "cup (red_cup)", "vase (vase_1)", "lower shelf (shelf_1)"):
        assert known in message and known in caught.value.known
    with pytest.raises(PhraseError, match="teapot"):
        phrases("put the cup in the bowl and avoid the teapot")


def test_a_command_without_a_target_says_so() -> None:
    with pytest.raises(PhraseError, match="where to go"):
        phrases("avoid the vase")
    with pytest.raises(PhraseError, match="where to go"):
        phrases("do a little dance")
    with pytest.raises(PhraseError, match="out of range"):
        phrases("put the cup 2 m left of the bowl")


def test_the_phrase_spec_composes_to_the_robots_left() -> None:
    spec = phrases("move the cup to the left of the bowl without touching the vase")
    grid = workspace_around([BOWL.center], shape=(30, 30, 30), items=SCENE)
    maps = compose(spec, grid, SCENE, observer_yaw=0.0)
    centroid = maps.target_centroid()
    assert centroid[1] > BOWL.center[1] + BOWL.half[1]  # facing +x, left is +y
    assert abs(centroid[0] - BOWL.center[0]) < 0.05
    assert "vase_1" in maps.obstacles and "red_cup" not in maps.obstacles
    turned = compose(spec, grid, SCENE, observer_yaw=math.pi / 2).target_centroid()
    assert turned[0] < BOWL.center[0] - BOWL.half[0]  # facing +y, left is -x


# ------------------------------------------------------------------------------------------------
# A model writes the spec


class ScriptedClient(ModelClient):
    """Answers with queued texts (or raises queued model errors) and keeps every request."""

    name = "scripted"

    def __init__(self, *answers: str | dict[str, Any] | ModelError) -> None:
        self.answers = list(answers)
        self.requests: list[ModelRequest] = []

    def complete(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, ModelError):
            raise answer
        text = answer if isinstance(answer, str) else json.dumps(answer)
        return ModelResponse(text=text, model=self.name, seconds=0.0)


COMMAND = "move the cup to the left of the bowl without touching the vase"
GOOD = {"affordance": {"object": "bowl_1", "relation": "left_of"}, "avoid": [{"object": "vase_1", "margin": 0.1}]}


def from_model(client: ScriptedClient, command: str = COMMAND) -> SpecResult:
    result = spec_from_model(client, command, "red_cup", SCENE, observer_yaw=0.0)
    parse_spec(result.spec)
    return result


def test_a_good_model_answer_is_used() -> None:
    client = ScriptedClient(f"Here you are:\n```json\n{json.dumps(GOOD)}\n```")
    result = from_model(client)
    assert result.source == "model" and result.attempts == 1 and result.notes == []
    assert result.spec == {**GOOD, "moving": "red_cup"}
    (request,) = client.requests
    assert request.json_schema == VALUE_MAP_SPEC_SCHEMA
    system, user = request.messages
    assert system.role == "system" and "left_of" in system.content and "robot's point of view" in system.content
    assert "bowl_1" in user.content and "[0.5,0.0,0.75]" in user.content  # ids, labels and positions in cm
    assert '"robot_left":[0.0,1.0,0.0]' in user.content and COMMAND in user.content and "red_cup" in user.content


def test_an_unknown_object_is_fed_back_and_the_correction_used() -> None:
    bad = {"affordance": {"object": "teapot", "relation": "above"}}
    client = ScriptedClient(bad, GOOD)
    result = from_model(client)
    assert result.source == "model" and result.attempts == 2
    assert result.spec["affordance"]["object"] == "bowl_1"
    retry = client.requests[1].messages
    assert [m.role for m in retry] == ["system", "user", "assistant", "user"]
    assert retry[2].content == json.dumps(bad)
    assert "$.affordance.object" in retry[3].content and "unknown object 'teapot'" in retry[3].content
    assert "bowl_1 (bowl)" in retry[3].content  # the known ids go back too
    assert "teapot" in result.notes[0]


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ({"affordance": {"object": "bowl_1", "relation": "under"}}, "$.affordance.relation"),
        ({"affordance": {"object": "bowl_1"}, "speed": 0.5}, "'speed' was unexpected"),
        ({"affordance": {"object": "bowl_1", "distance": 3}}, "$.affordance.distance"),
        ({"affordance": {"object": "red_cup"}}, "cannot be the object being moved"),
        ({"affordance": {"object": "bowl_1"}, "moving": "vase_1"}, "the object being moved is 'red_cup'"),
        ("I would move it left of the bowl.", "holds no JSON"),
    ],
)
def test_a_bad_answer_gets_its_problems_back(bad: str | dict[str, Any], problem: str) -> None:
    client = ScriptedClient(bad, GOOD)
    result = from_model(client)
    assert result.source == "model" and result.attempts == 2
    assert problem in client.requests[1].messages[-1].content
    assert problem in result.notes[0]


def test_three_bad_answers_fall_back_to_the_phrases() -> None:
    bad = {"affordance": {"object": "teapot"}}
    client = ScriptedClient(bad, bad, bad)
    result = from_model(client)
    assert result.source == "phrases" and result.attempts == 3 and len(client.requests) == 3
    assert result.spec == spec_from_phrases(COMMAND, "red_cup", SCENE)
    assert sum("teapot" in note for note in result.notes) == 3
    assert "no usable spec after 3 attempts" in result.notes[-2] and "phrase" in result.notes[-1]


@pytest.mark.parametrize("error", [ModelUnavailable("the server is down"), ModelTimeout("no answer in 30 s")])
def test_a_model_error_falls_back_at_once(error: ModelError) -> None:
    client = ScriptedClient(error, GOOD)
    result = from_model(client)
    assert result.source == "phrases" and result.attempts == 1 and len(client.requests) == 1
    assert type(error).__name__ in result.notes[0] and str(error) in result.notes[0]
    assert result.spec["affordance"] == {"object": "bowl_1", "relation": "left_of"}


def test_the_model_answer_never_avoids_the_moving_object() -> None:
    answer = {**GOOD, "avoid": [{"object": "red_cup"}, {"object": "vase"}]}  # a unique label is a name too
    result = from_model(ScriptedClient(answer))
    assert result.source == "model" and result.spec["avoid"] == [{"object": "vase"}]


def test_when_the_phrases_fail_too_the_error_says_both() -> None:
    client = ScriptedClient(ModelUnavailable("the server is down"))
    with pytest.raises(PhraseError, match="server is down"):
        spec_from_model(client, "do a little dance", "red_cup", SCENE, observer_yaw=0.0)
    with pytest.raises(ValueError, match="attempts"):
        spec_from_model(client, COMMAND, "red_cup", SCENE, observer_yaw=0.0, attempts=0)
