"""The skill catalog, argument binding, the skill host and the SAY and WAIT skills."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from control.basic_skills import SKILL_CLASSES
from control.skills import (
    CatalogError,
    Feedback,
    InvalidArgumentsError,
    PreparedSkill,
    SkillContext,
    SkillErrorCode,
    SkillHost,
    SkillResult,
    load_catalog,
)
from robot_agent.paths import config_file


class SimulatedClockContext(SkillContext):
    """A context whose clock advances by the waited time, so skills run instantly in tests."""

    def __init__(self, cancel_after_feedbacks: int | None = None) -> None:
        super().__init__(threading.Event())
        self.time = 100.0
        self.feedback: list[Feedback] = []
        self.said: list[str] = []
        self._cancel_after = cancel_after_feedbacks

    def now(self) -> float:
        return self.time

    def publish_feedback(self, feedback: Feedback) -> None:
        self.feedback.append(feedback)
        if self._cancel_after is not None and len(self.feedback) >= self._cancel_after:
            self.cancel_requested.set()

    def say(self, text: str) -> None:
        self.said.append(text)

    def wait(self, seconds: float) -> bool:
        if self.stop_code() is not None:
            return False
        self.time += seconds
        return self.stop_code() is None


@pytest.fixture
def host() -> SkillHost:
    return SkillHost(load_catalog(config_file("skills.yaml")), SKILL_CLASSES)


def prepared(host: SkillHost, name: str, **arguments: str) -> PreparedSkill:
    result = host.prepare(name, arguments)
    assert isinstance(result, PreparedSkill), result
    return result


def test_bundled_catalog_describes_every_hosted_skill(host: SkillHost) -> None:
    specs = {spec.name: spec for spec in host.specs()}
    assert set(specs) == set(SKILL_CLASSES)
    assert [(p.name, p.type) for p in specs["WAIT"].parameters] == [("seconds", "float")]


def test_wait_runs_on_the_robot_clock_with_feedback(host: SkillHost) -> None:
    call = prepared(host, "WAIT", seconds="1.0")
    context = SimulatedClockContext()
    result = call.skill.execute(call.arguments, context)
    assert result.success and result.error_code == SkillErrorCode.NONE
    assert context.time == pytest.approx(101.0)
    progress = [f.progress for f in context.feedback]
    assert len(progress) >= 10 and progress == sorted(progress) and progress[-1] == 1.0


def test_wait_stops_on_cancel_and_on_timeout(host: SkillHost) -> None:
    call = prepared(host, "WAIT", seconds="30")
    cancelled = SimulatedClockContext(cancel_after_feedbacks=3)
    result = call.skill.execute(call.arguments, cancelled)
    assert result.error_code == SkillErrorCode.CANCELLED and not result.success
    assert cancelled.time < 101.0

    timed = SimulatedClockContext()
    timed.deadline = timed.time + 0.5
    result = call.skill.execute(call.arguments, timed)
    assert result.error_code == SkillErrorCode.TIMEOUT
    assert timed.time == pytest.approx(100.5, abs=0.11)  # within one feedback period


def test_say_speaks(host: SkillHost) -> None:
    call = prepared(host, "SAY", text="  I will bring the red cup. ")
    context = SimulatedClockContext()
    assert call.skill.execute(call.arguments, context).success
    assert context.said == ["I will bring the red cup."]


@pytest.mark.parametrize(
    ("name", "arguments", "code", "reason"),
    [
        ("FLY", {}, SkillErrorCode.UNKNOWN_SKILL, "unknown skill 'FLY'"),
        ("WAIT", {}, SkillErrorCode.INVALID_ARGUMENTS, "needs the argument 'seconds'"),
        ("WAIT", {"seconds": "soon"}, SkillErrorCode.INVALID_ARGUMENTS, "not a valid float"),
        ("WAIT", {"seconds": "nan"}, SkillErrorCode.INVALID_ARGUMENTS, "not a valid float"),
        ("WAIT", {"seconds": "-1"}, SkillErrorCode.INVALID_ARGUMENTS, "must lie in"),
        ("WAIT", {"seconds": "1", "speed": "2"}, SkillErrorCode.INVALID_ARGUMENTS, "takes no argument"),
        ("SAY", {"text": "   "}, SkillErrorCode.INVALID_ARGUMENTS, "non-empty"),
    ],
)
def test_calls_that_cannot_run_get_a_code_and_a_reason(
    host: SkillHost, name: str, arguments: dict[str, str], code: SkillErrorCode, reason: str
) -> None:
    result = host.prepare(name, arguments)
    assert isinstance(result, SkillResult)
    assert result.error_code == code and reason in result.error_msg


def test_parameter_types_parse(tmp_path: Path) -> None:
    catalog_text = """
skills:
  - name: GOTO
    description: drive
    parameters:
      - {name: pose, type: pose}
      - {name: fast, type: bool, required: false, default: "no"}
      - {name: tries, type: int, required: false, default: 3}
"""
    spec = load_catalog(_write(tmp_path, catalog_text))["GOTO"]
    assert spec.bind({"pose": "1, 2, 0.5"}) == {"pose": (1.0, 2.0, 0.5), "fast": False, "tries": 3}
    assert spec.bind({"pose": "0 0 0", "fast": "true", "tries": "1"})["fast"] is True
    with pytest.raises(InvalidArgumentsError, match="x y yaw"):
        spec.bind({"pose": "1 2"})
    with pytest.raises(InvalidArgumentsError, match="bool"):
        spec.bind({"pose": "0 0 0", "fast": "maybe"})


def _write(directory: Path, text: str) -> Path:
    path = directory / "skills.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("skills: [", "cannot read"),
        ("skills: {}", "list under 'skills'"),
        ("skills:\n  - description: x", "skills[0]: missing key 'name'"),
        ("skills:\n  - {name: A}", "skill A: missing key 'description'"),
        ("skills:\n  - {name: A, description: x, parameters: [{name: p, type: color}]}", "type 'color'"),
        ("skills:\n  - {name: A, description: x}\n  - {name: A, description: y}", "defined twice"),
        ("skills:\n  - {name: A, description: x, effects: [1]}", "'effects' must be a list of strings"),
    ],
)
def test_malformed_catalog_names_file_and_key(tmp_path: Path, text: str, complaint: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(CatalogError, match=re.escape(complaint)) as error:
        load_catalog(path)
    assert str(path) in str(error.value)


def test_missing_catalog_file_and_unlisted_implementation() -> None:
    with pytest.raises(CatalogError, match="cannot read"):
        load_catalog("/nonexistent/skills.yaml")
    with pytest.raises(CatalogError, match="no catalog entry"):
        SkillHost({}, SKILL_CLASSES)
