"""The core enums mirror the constants of the .msg and .action files exactly."""

from __future__ import annotations

from enum import Enum

import pytest
from robot_agent_interfaces.action import ExecuteSkill, ExecuteTask
from robot_agent_interfaces.msg import AgentStatus, PlanStep, Relation, SceneObject, SkillParameter

from control.skills import PARAMETER_TYPES, SkillErrorCode
from perception.scene_graph import ObjectKind, ObjectState, Predicate
from planning.plan import AgentState, StepStatus, TaskErrorCode


def constants(message_class: type, prefix: str = "") -> dict[str, object]:
    """The constants of a generated message class (its metaclass keeps them in ``__constants``)."""
    (table,) = [v for k, v in vars(type(message_class)).items() if k.endswith("__constants")]
    return {name[len(prefix) :]: value for name, value in table.items() if name.startswith(prefix)}


@pytest.mark.parametrize(
    ("enum", "message_class", "prefix"),
    [
        (SkillErrorCode, ExecuteSkill.Result, ""),
        (TaskErrorCode, ExecuteTask.Result, ""),
        (ObjectKind, SceneObject, "KIND_"),
        (ObjectState, SceneObject, "STATE_"),
        (Predicate, Relation, "PREDICATE_"),
        (StepStatus, PlanStep, "STATUS_"),
        (AgentState, AgentStatus, "STATE_"),
    ],
)
def test_enum_mirrors_message_constants(enum: type[Enum], message_class: type, prefix: str) -> None:
    assert {member.name: member.value for member in enum} == constants(message_class, prefix)


def test_parameter_types_mirror_skill_parameter_constants() -> None:
    assert set(PARAMETER_TYPES) == set(constants(SkillParameter, "TYPE_").values())
