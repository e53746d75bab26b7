"""The value-map spec: what a language model writes instead of code, validated before anything is composed.

VoxPoser has the model write Python that builds value maps; we never run model-written code. The
model writes one small JSON object, :func:`parse_spec` checks it against
:data:`VALUE_MAP_SPEC_SCHEMA` (strict: unknown keys, wrong types, out-of-range numbers and NaN are
errors) and turns it into a typed :class:`ValueMapSpec`; ``compose`` then checks the object names
against the scene. Every problem is reported at once in one :class:`SpecError`, each with its JSON
path (``$.avoid[0].margin``).

The format (lengths in metres, angles in radians, map frame; only ``affordance`` is required)::

    {
      "affordance": {                      # where the end effector should go; exactly one of:
        "object": "bowl",                  #   an object id or label of the scene, with
        "relation": "above",               #   at | above | inside | beside | left_of | right_of |
                                           #   in_front_of | behind   (default "at")
        "offset": [0, 0, 0.02],            #   shifts the target region (default 0)
        "distance": 0.1,                   #   above: clearance over the top (0.10); inside: depth
                                           #   below the rim (a quarter of the height); beside and
                                           #   the sides: gap to the object's side (0.10); at: unused
        "tolerance": 0.02                  #   radius / half-thickness of the target region (0.02)
        -- or --
        "point": [0.5, 0.1, 0.8]           #   an absolute target point (with offset and tolerance)
      },
      "avoid": [{"object": "vase", "margin": 0.08}],  # obstacles with their own margin
      "avoid_all": true,                   # every other item (and the point cloud) is an obstacle (true)
      "avoid_margin": 0.05,                # margin for those (0.05)
      "moving": "cup",                     # the object being manipulated: never an obstacle
      "ignore": ["table"],                 # more objects that are not obstacles
      "rotation": {"mode": "top_down",     # top_down | side (default top_down)
                   "yaw_from": "bowl",     # align the wrist with this object near it, or
                   "yaw": 0.0,             # a fixed wrist yaw everywhere (not both)
                   "radius": 0.15},        # how near yaw_from applies (0.15)
      "velocity": {"scale": 0.5,           # global speed scale in (0, 1] (1)
                   "slow_near": [{"object": "vase", "radius": 0.2, "scale": 0.3}],
                   "fragile_scale": 0.5,   # speed near fragile items; 1 turns it off (0.5)
                   "fragile_radius": 0.15},
      "gripper": {"open": true,            # the gripper's state on the way (true)
                  "at_target": "close",    # open | close | keep, within radius of the target (keep)
                  "radius": 0.03}
    }

Directions ``left_of``, ``right_of``, ``in_front_of`` and ``behind`` are from the robot's point of
view: composition takes the observer's yaw, and "in front of" is the side facing the observer.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError


class SpecError(ValueError):
    """A value-map spec that cannot be used; ``problems`` lists each one with its JSON path, ``note`` a hint."""

    def __init__(self, problems: list[str] | str, note: str = "") -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.note = note
        count = len(self.problems)
        head = "invalid value-map spec" if count == 1 else f"invalid value-map spec ({count} problems)"
        super().__init__(head + ": " + "; ".join(self.problems) + (f" ({note})" if note else ""))


class Relation(str, Enum):
    AT = "at"
    ABOVE = "above"
    INSIDE = "inside"
    BESIDE = "beside"
    LEFT_OF = "left_of"
    RIGHT_OF = "right_of"
    IN_FRONT_OF = "in_front_of"
    BEHIND = "behind"


class RotationMode(str, Enum):
    TOP_DOWN = "top_down"
    SIDE = "side"


class GripperAction(str, Enum):
    OPEN = "open"
    CLOSE = "close"
    KEEP = "keep"


TWO_PI = 2.0 * math.pi
DEFAULT_DISTANCE = {Relation.ABOVE: 0.10, Relation.BESIDE: 0.10, Relation.LEFT_OF: 0.10, Relation.RIGHT_OF: 0.10}
DEFAULT_DISTANCE |= {Relation.IN_FRONT_OF: 0.10, Relation.BEHIND: 0.10, Relation.AT: 0.0}

_NAME: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 128}
_OFFSET: dict[str, Any] = {
    "type": "array",
    "items": {"type": "number", "minimum": -1.0, "maximum": 1.0},
    "minItems": 3,
    "maxItems": 3,
}

VALUE_MAP_SPEC_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "VoxPoser-style value-map spec",
    "type": "object",
    "additionalProperties": False,
    "required": ["affordance"],
    "properties": {
        "affordance": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "object": _NAME,
                "relation": {"enum": [r.value for r in Relation]},
                "point": {
                    "type": "array",
                    "items": {"type": "number", "minimum": -100.0, "maximum": 100.0},
                    "minItems": 3,
                    "maxItems": 3,
                },
                "offset": _OFFSET,
                "distance": {"type": "number", "minimum": 0.0, "maximum": 1.0},
                "tolerance": {"type": "number", "exclusiveMinimum": 0.0, "maximum": 0.2},
            },
            "oneOf": [
                {"required": ["object"]},
                {"required": ["point"], "not": {"anyOf": [{"required": ["relation"]}, {"required": ["distance"]}]}},
            ],
            "x-message": "give exactly one of 'object' (with 'relation' and 'distance') or 'point'",
        },
        "avoid": {
            "type": "array",
            "maxItems": 64,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["object"],
                "properties": {"object": _NAME, "margin": {"type": "number", "minimum": 0.0, "maximum": 0.5}},
            },
        },
        "avoid_all": {"type": "boolean"},
        "avoid_margin": {"type": "number", "minimum": 0.0, "maximum": 0.5},
        "moving": _NAME,
        "ignore": {"type": "array", "items": _NAME, "maxItems": 64},
        "rotation": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "mode": {"enum": [m.value for m in RotationMode]},
                "yaw": {"type": "number", "minimum": -TWO_PI, "maximum": TWO_PI},
                "yaw_from": _NAME,
                "radius": {"type": "number", "exclusiveMinimum": 0.0, "maximum": 2.0},
            },
            "not": {"required": ["yaw", "yaw_from"]},
            "x-message": "give either 'yaw' or 'yaw_from', not both",
        },
        "velocity": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "scale": {"type": "number", "exclusiveMinimum": 0.0, "maximum": 1.0},
                "slow_near": {
                    "type": "array",
                    "maxItems": 64,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["object"],
                        "properties": {
                            "object": _NAME,
                            "radius": {"type": "number", "minimum": 0.0, "maximum": 2.0},
                            "scale": {"type": "number", "exclusiveMinimum": 0.0, "maximum": 1.0},
                        },
                    },
                },
                "fragile_scale": {"type": "number", "exclusiveMinimum": 0.0, "maximum": 1.0},
                "fragile_radius": {"type": "number", "minimum": 0.0, "maximum": 2.0},
            },
        },
        "gripper": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "open": {"type": "boolean"},
                "at_target": {"enum": [a.value for a in GripperAction]},
                "radius": {"type": "number", "minimum": 0.0, "maximum": 1.0},
            },
        },
    },
}

_VALIDATOR = Draft202012Validator(VALUE_MAP_SPEC_SCHEMA)


@dataclass(frozen=True)
class AffordanceSpec:
    """The target: a region relative to an object, or around an absolute point."""

    object: str | None = None
    relation: Relation = Relation.AT
    point: tuple[float, float, float] | None = None
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    distance: float | None = None  # None: the relation's default
    tolerance: float = 0.02


@dataclass(frozen=True)
class AvoidSpec:
    object: str
    margin: float = 0.05


@dataclass(frozen=True)
class RotationSpec:
    mode: RotationMode = RotationMode.TOP_DOWN
    yaw: float | None = None
    yaw_from: str | None = None
    radius: float = 0.15


@dataclass(frozen=True)
class SlowNearSpec:
    object: str
    radius: float = 0.15
    scale: float = 0.5


@dataclass(frozen=True)
class VelocitySpec:
    scale: float = 1.0
    slow_near: tuple[SlowNearSpec, ...] = ()
    fragile_scale: float = 0.5
    fragile_radius: float = 0.15


@dataclass(frozen=True)
class GripperSpec:
    open: bool = True
    at_target: GripperAction = GripperAction.KEEP
    radius: float = 0.03


@dataclass(frozen=True)
class ValueMapSpec:
    """A validated spec; see the module docstring for the JSON it comes from."""

    affordance: AffordanceSpec
    avoid: tuple[AvoidSpec, ...] = ()
    avoid_all: bool = True
    avoid_margin: float = 0.05
    moving: str | None = None
    ignore: tuple[str, ...] = ()
    rotation: RotationSpec = field(default_factory=RotationSpec)
    velocity: VelocitySpec = field(default_factory=VelocitySpec)
    gripper: GripperSpec = field(default_factory=GripperSpec)

    def object_references(self) -> Iterator[tuple[str, str]]:
        """(JSON path, name) of every object the spec names, for checking against a scene."""
        if self.affordance.object is not None:
            yield "$.affordance.object", self.affordance.object
        for i, avoid in enumerate(self.avoid):
            yield f"$.avoid[{i}].object", avoid.object
        if self.moving is not None:
            yield "$.moving", self.moving
        for i, name in enumerate(self.ignore):
            yield f"$.ignore[{i}]", name
        if self.rotation.yaw_from is not None:
            yield "$.rotation.yaw_from", self.rotation.yaw_from
        for i, slow in enumerate(self.velocity.slow_near):
            yield f"$.velocity.slow_near[{i}].object", slow.object

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (every field spelled out); ``parse_spec(spec.to_dict()) == spec``."""
        a = self.affordance
        affordance: dict[str, Any] = {"offset": list(a.offset), "tolerance": a.tolerance}
        if a.point is not None:
            affordance["point"] = list(a.point)
        else:
            affordance |= {"object": a.object, "relation": a.relation.value}
            if a.distance is not None:
                affordance["distance"] = a.distance
        rotation: dict[str, Any] = {"mode": self.rotation.mode.value, "radius": self.rotation.radius}
        if self.rotation.yaw is not None:
            rotation["yaw"] = self.rotation.yaw
        if self.rotation.yaw_from is not None:
            rotation["yaw_from"] = self.rotation.yaw_from
        data: dict[str, Any] = {
            "affordance": affordance,
            "avoid": [{"object": v.object, "margin": v.margin} for v in self.avoid],
            "avoid_all": self.avoid_all,
            "avoid_margin": self.avoid_margin,
            "ignore": list(self.ignore),
            "rotation": rotation,
            "velocity": {
                "scale": self.velocity.scale,
                "slow_near": [
                    {"object": s.object, "radius": s.radius, "scale": s.scale} for s in self.velocity.slow_near
                ],
                "fragile_scale": self.velocity.fragile_scale,
                "fragile_radius": self.velocity.fragile_radius,
            },
            "gripper": {
                "open": self.gripper.open,
                "at_target": self.gripper.at_target.value,
                "radius": self.gripper.radius,
            },
        }
        if self.moving is not None:
            data["moving"] = self.moving
        return data


def _json_path(parts: Iterator[str | int] | Any) -> str:
    text = "$"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _non_finite(value: object, path: str) -> Iterator[str]:
    if isinstance(value, float) and not math.isfinite(value):
        yield f"at {path}: {value!r} is not a finite number"
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _non_finite(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _non_finite(item, f"{path}[{index}]")


def _describe(error: ValidationError) -> str:
    path = _json_path(error.absolute_path)
    message = error.message
    if error.validator in ("oneOf", "not") and isinstance(error.schema, Mapping) and "x-message" in error.schema:
        message = str(error.schema["x-message"])
    elif error.validator == "additionalProperties" and isinstance(error.schema, Mapping):
        allowed = sorted(error.schema.get("properties", {}))
        message = f"{message}; allowed keys: {', '.join(allowed)}"
    return f"at {path}: {message}"


def _vector(value: Any) -> tuple[float, float, float]:
    return float(value[0]), float(value[1]), float(value[2])


def parse_spec(data: object) -> ValueMapSpec:
    """Validate a spec (a dict, or its JSON text) and return it typed; raises :class:`SpecError`.

    Object names are not checked here (there is no scene yet): ``compose`` checks them.
    """
    if isinstance(data, bytes | str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as error:
            raise SpecError(f"the spec is not valid JSON: {error}") from None
    if not isinstance(data, Mapping):
        raise SpecError(f"the spec must be a JSON object, got {type(data).__name__}")
    problems = list(_non_finite(data, "$"))
    problems += [_describe(e) for e in sorted(_VALIDATOR.iter_errors(data), key=lambda e: list(e.absolute_path))]
    if problems:
        raise SpecError(problems)
    a = data["affordance"]
    affordance = AffordanceSpec(
        object=a.get("object"),
        relation=Relation(a.get("relation", Relation.AT.value)),
        point=_vector(a["point"]) if "point" in a else None,
        offset=_vector(a.get("offset", (0.0, 0.0, 0.0))),
        distance=float(a["distance"]) if "distance" in a else None,
        tolerance=float(a.get("tolerance", 0.02)),
    )
    avoid_margin = float(data.get("avoid_margin", 0.05))
    r = data.get("rotation", {})
    v = data.get("velocity", {})
    g = data.get("gripper", {})
    return ValueMapSpec(
        affordance=affordance,
        avoid=tuple(AvoidSpec(x["object"], float(x.get("margin", avoid_margin))) for x in data.get("avoid", [])),
        avoid_all=bool(data.get("avoid_all", True)),
        avoid_margin=avoid_margin,
        moving=data.get("moving"),
        ignore=tuple(data.get("ignore", [])),
        rotation=RotationSpec(
            mode=RotationMode(r.get("mode", RotationMode.TOP_DOWN.value)),
            yaw=float(r["yaw"]) if "yaw" in r else None,
            yaw_from=r.get("yaw_from"),
            radius=float(r.get("radius", 0.15)),
        ),
        velocity=VelocitySpec(
            scale=float(v.get("scale", 1.0)),
            slow_near=tuple(
                SlowNearSpec(s["object"], float(s.get("radius", 0.15)), float(s.get("scale", 0.5)))
                for s in v.get("slow_near", [])
            ),
            fragile_scale=float(v.get("fragile_scale", 0.5)),
            fragile_radius=float(v.get("fragile_radius", 0.15)),
        ),
        gripper=GripperSpec(
            open=bool(g.get("open", True)),
            at_target=GripperAction(g.get("at_target", GripperAction.KEEP.value)),
            radius=float(g.get("radius", 0.03)),
        ),
    )


def default_pick_spec(object_id: str, mode: RotationMode | str = RotationMode.TOP_DOWN) -> ValueMapSpec:
    """PICK: go to the object with the gripper open, aligned with it; close there; avoid everything else."""
    return parse_spec(
        {
            "affordance": {"object": object_id, "relation": "at"},
            "avoid_all": True,
            "moving": object_id,
            "rotation": {"mode": RotationMode(mode).value, "yaw_from": object_id},
            "gripper": {"open": True, "at_target": "close"},
        }
    )


def default_place_spec(object_id: str, receptacle_id: str, relation: Relation | str = Relation.ABOVE) -> ValueMapSpec:
    """PLACE: carry the object (gripper closed) to ``relation`` of the receptacle and open there."""
    return parse_spec(
        {
            "affordance": {"object": receptacle_id, "relation": Relation(relation).value},
            "avoid_all": True,
            "moving": object_id,
            "rotation": {"mode": "top_down"},
            "gripper": {"open": False, "at_target": "open"},
        }
    )
