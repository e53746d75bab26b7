"""Skills that need no sensing: SAY and WAIT."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from control.skills import Feedback, Skill, SkillContext, SkillErrorCode, SkillResult

MAX_WAIT_S = 3600.0
FEEDBACK_PERIOD_S = 0.1


class SaySkill(Skill):
    """SAY(text): tell the user something on the response topic."""

    def check_goal(self, arguments: Mapping[str, Any]) -> str | None:
        return None if str(arguments["text"]).strip() else "SAY needs a non-empty text"

    def execute(self, arguments: Mapping[str, Any], context: SkillContext) -> SkillResult:
        text = str(arguments["text"]).strip()
        context.say(text)
        return SkillResult(message=f"said: {text}")


class WaitSkill(Skill):
    """WAIT(seconds): do nothing for a while on the robot's clock, with feedback; cancellable."""

    def check_goal(self, arguments: Mapping[str, Any]) -> str | None:
        seconds = float(arguments["seconds"])
        if not 0.0 <= seconds <= MAX_WAIT_S:
            return f"WAIT seconds must lie in [0, {MAX_WAIT_S:g}], got {seconds:g}"
        return None

    def execute(self, arguments: Mapping[str, Any], context: SkillContext) -> SkillResult:
        seconds = float(arguments["seconds"])
        start = context.now()
        while (elapsed := context.now() - start) < seconds:
            remaining = seconds - elapsed
            context.publish_feedback(Feedback("waiting", elapsed / seconds, message=f"{remaining:.1f} s left"))
            if not context.wait(min(FEEDBACK_PERIOD_S, remaining)):
                code = context.stop_code() or SkillErrorCode.CANCELLED
                return SkillResult.failure(code, f"WAIT stopped ({code.name}) after {elapsed:.2f} s")
        context.publish_feedback(Feedback("waiting", 1.0, message="done"))
        return SkillResult(message=f"waited {seconds:g} s")


SKILL_CLASSES: dict[str, type[Skill]] = {"SAY": SaySkill, "WAIT": WaitSkill}
