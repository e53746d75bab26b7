"""Scenario files: the world (rooms, walls, doors, furniture, objects), the robot's start, the
camera, scripted events that stand for a person acting, and tasks with success conditions.

The schema is the pydantic models below; docs/scenarios.md describes it with an example.
``load_scenario`` validates a YAML file and raises ScenarioError naming the file, the key and
what is wrong.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, field_validator, model_validator

WORLDS_DIRECTORY = Path(__file__).resolve().parent / "worlds"

NAMED_COLORS: dict[str, tuple[float, float, float]] = {
    "red": (0.85, 0.1, 0.1),
    "green": (0.1, 0.7, 0.2),
    "blue": (0.1, 0.25, 0.85),
    "yellow": (0.95, 0.85, 0.1),
    "orange": (0.95, 0.5, 0.05),
    "purple": (0.5, 0.15, 0.65),
    "pink": (0.95, 0.45, 0.7),
    "brown": (0.45, 0.28, 0.12),
    "white": (0.92, 0.92, 0.9),
    "gray": (0.5, 0.5, 0.5),
    "black": (0.08, 0.08, 0.08),
    "beige": (0.85, 0.78, 0.62),
    "wood": (0.6, 0.42, 0.25),
}

IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
Finite = Annotated[float, Field(allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Vec2 = tuple[Finite, Finite]
Size3 = tuple[Positive, Positive, Positive]
Color = str | tuple[Finite, Finite, Finite]


class _Yaml12Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false. YAML 1.1 would read the key ``on:`` (and yes/no/off) as a bool."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_yaml(text: str) -> Any:
    """Parse YAML with 1.2 booleans (``on``, ``yes``, ``no`` stay strings)."""
    return yaml.load(text, Loader=_Yaml12Loader)  # a SafeLoader subclass


class ScenarioError(ValueError):
    """A scenario file is invalid; the message names the file, the key and what is wrong."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_identifier(value: str) -> str:
    if not IDENTIFIER.match(value):
        raise ValueError(f"{value!r} is not an id: use lower-case letters, digits and _, starting with a letter")
    return value


def _check_color(value: Color) -> Color:
    if isinstance(value, str):
        if value not in NAMED_COLORS:
            raise ValueError(f"unknown colour {value!r}; named colours: {', '.join(NAMED_COLORS)}, or [r, g, b]")
    elif not all(0.0 <= c <= 1.0 for c in value):
        raise ValueError(f"colour components must lie in [0, 1], got {list(value)}")
    return value


def rgb_of(color: Color) -> tuple[float, float, float]:
    return NAMED_COLORS[color] if isinstance(color, str) else (color[0], color[1], color[2])


class Room(_Model):
    """An axis-aligned rectangular room, walls on every side (doors cut openings)."""

    id: str
    label: str = ""
    min: Vec2
    max: Vec2
    floor_color: Color = "beige"

    _id = field_validator("id")(_check_identifier)
    _color = field_validator("floor_color")(_check_color)

    @model_validator(mode="after")
    def _corners(self) -> Room:
        if not (self.max[0] - self.min[0] >= 1.0 and self.max[1] - self.min[1] >= 1.0):
            raise ValueError(f"max {list(self.max)} must exceed min {list(self.min)} by at least 1 m on x and y")
        return self

    @property
    def name(self) -> str:
        return self.label or self.id.replace("_", " ")

    def contains(self, x: float, y: float, margin: float = 0.0) -> bool:
        return self.min[0] + margin <= x <= self.max[0] - margin and self.min[1] + margin <= y <= self.max[1] - margin


class Door(_Model):
    """An opening in a wall, centred at ``center``, ``width`` wide along the wall."""

    center: Vec2
    width: Positive = 1.0


class Walls(_Model):
    height: Positive = 1.0
    thickness: Positive = 0.1
    color: Color = "white"

    _color = field_validator("color")(_check_color)


class Furniture(_Model):
    """Tables and desks have a top on legs; counters and cabinets are solid; shelves have boards."""

    id: str
    label: str = ""
    type: Literal["table", "counter", "shelf", "cabinet", "desk"] = "table"
    room: str
    pose: tuple[Finite, Finite, Finite]  # x, y, yaw (radians)
    size: Size3  # length (x), width (y), height (z) of the bounding box, metres
    color: Color = "wood"
    shelves: int = Field(default=3, ge=1, le=8)  # boards of a shelf, the top included

    _id = field_validator("id")(_check_identifier)
    _color = field_validator("color")(_check_color)

    @property
    def name(self) -> str:
        return self.label or self.id.replace("_", " ")

    def surface_heights(self) -> list[float]:
        """Heights of the surfaces objects can stand on, lowest first."""
        if self.type == "shelf":
            return [self.size[2] * (i + 1) / self.shelves for i in range(self.shelves)]
        return [self.size[2]]

    def boxes(self) -> list[tuple[str, tuple[float, float, float], tuple[float, float, float]]]:
        """The solid boxes the piece is built of (the simulators build exactly these): name, centre
        and full size in its own frame (origin on the floor under its centre, x along its length).
        A shelf is open at its front (+x) and closed by a back and two sides."""
        length, width, height = self.size
        boxes: list[tuple[str, tuple[float, float, float], tuple[float, float, float]]] = []
        if self.type in ("table", "desk"):
            top, leg = 0.04, 0.025
            boxes.append(("top", (0.0, 0.0, height - top / 2), (length, width, top)))
            for i, (sx, sy) in enumerate(((1, 1), (1, -1), (-1, 1), (-1, -1))):
                center = (sx * (length / 2 - 0.05), sy * (width / 2 - 0.05), (height - top) / 2)
                boxes.append((f"leg{i}", center, (2 * leg, 2 * leg, height - top)))
        elif self.type == "shelf":
            board, side = 0.03, 0.02
            for i, surface in enumerate(self.surface_heights()):
                boxes.append((f"board{i}", (0.0, 0.0, surface - board / 2), (length, width, board)))
            for i, sy in enumerate((1, -1)):
                boxes.append((f"side{i}", (0.0, sy * (width / 2 - side / 2), height / 2), (length, side, height)))
            boxes.append(("back", (-length / 2 + side / 2, 0.0, height / 2), (side, width, height)))
        else:  # counter, cabinet: solid
            boxes.append(("body", (0.0, 0.0, height / 2), (length, width, height)))
        return boxes


class OnFurniture(_Model):
    """A placement on a piece of furniture: offset from its centre in its own frame, surface index."""

    on: str
    at: Vec2 = (0.0, 0.0)
    level: int = Field(default=-1, ge=-8, le=7)  # shelf board; -1: the top
    yaw: Finite = 0.0


class Pose(_Model):
    """A free placement: position of the object's centre and heading."""

    position: tuple[Finite, Finite, Finite]
    yaw: Finite = 0.0


def _placement_kind(value: Any) -> str:
    has_on = isinstance(value, OnFurniture) or (isinstance(value, dict) and "on" in value)
    return "OnFurniture" if has_on else "Pose"


# Tags are class names: error locations drop capitalised parts (see parse_scenario).
Placement = Annotated[
    Annotated[OnFurniture, Tag("OnFurniture")] | Annotated[Pose, Tag("Pose")], Discriminator(_placement_kind)
]


class SceneObjectSpec(_Model):
    id: str
    label: str
    color: Color
    shape: Literal["box", "cylinder", "sphere"] = "box"
    size: Size3  # bounding box: x, y, z extents (cylinder: diameter = x, height = z; sphere: diameter = x)
    mass: Positive = 0.2
    place: Placement
    friction: Positive = 1.0

    _id = field_validator("id")(_check_identifier)
    _color = field_validator("color")(_check_color)

    @model_validator(mode="after")
    def _graspable_sizes(self) -> SceneObjectSpec:
        if max(self.size) > 1.0:
            raise ValueError(f"objects are at most 1 m on a side, got size {list(self.size)}")
        return self


class RobotStart(_Model):
    pose: tuple[Finite, Finite, Finite]  # x, y, yaw
    base: Literal["differential", "holonomic"] = "differential"


class CameraSettings(_Model):
    width: int = Field(default=640, ge=32, le=1920)
    height: int = Field(default=480, ge=24, le=1080)
    vertical_fov_deg: float = Field(default=58.0, gt=10.0, lt=150.0)
    min_depth: Positive = 0.2
    max_depth: Positive = 10.0
    depth_noise: float = Field(default=0.0, ge=0.0, le=0.1)  # std dev in metres at 1 m, grows with depth^2
    rate_hz: float = Field(default=5.0, gt=0.0, le=60.0)

    @model_validator(mode="after")
    def _range(self) -> CameraSettings:
        if self.min_depth >= self.max_depth:
            raise ValueError(f"min_depth {self.min_depth} must be below max_depth {self.max_depth}")
        return self


class AtTime(_Model):
    at: Annotated[float, Field(ge=0.0, allow_inf_nan=False)]  # seconds of simulated time


class RobotIn(_Model):
    robot_in: str  # a room id


class RobotNear(_Model):
    robot_near: str  # an object or furniture id
    distance: Positive = 1.0


class Holding(_Model):
    holding: str  # an object id


_TRIGGER_KEYS = {"at": "AtTime", "robot_in": "RobotIn", "robot_near": "RobotNear", "holding": "Holding"}


def _trigger_kind(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return type(value).__name__
    if isinstance(value, dict):
        return next((kind for key, kind in _TRIGGER_KEYS.items() if key in value), None)
    return None


Trigger = Annotated[
    Annotated[AtTime, Tag("AtTime")]
    | Annotated[RobotIn, Tag("RobotIn")]
    | Annotated[RobotNear, Tag("RobotNear")]
    | Annotated[Holding, Tag("Holding")],
    Discriminator(
        _trigger_kind,
        custom_error_type="invalid_trigger",
        custom_error_message="a trigger is one of {at: t}, {robot_in: room}, {robot_near: id}, {holding: id}",
    ),
]


class MoveEvent(_Model):
    action: Literal["move"]
    object: str
    to: Placement
    when: Trigger


class RemoveEvent(_Model):
    action: Literal["remove"]
    object: str
    when: Trigger


class AddEvent(_Model):
    action: Literal["add"]
    object: SceneObjectSpec
    when: Trigger


Event = Annotated[MoveEvent | RemoveEvent | AddEvent, Field(discriminator="action")]

CONDITION = re.compile(r"^\s*(not\s+)?(on|in|at|holding|near)\(\s*([a-z0-9_]+)\s*(?:,\s*([a-z0-9_]+)\s*)?\)\s*$")
CONDITION_ARITY = {"on": 2, "in": 2, "at": 2, "near": 2, "holding": 1}


class Task(_Model):
    id: str
    command: str = Field(min_length=1)
    success: list[str] = Field(min_length=1)  # e.g. "on(red_cup, counter)", "not holding(red_cup)"
    timeout_s: Positive = 300.0
    kind: Literal["single", "multi_step", "lookalike", "moved", "hidden", "refuse", "infeasible"] = "single"

    _id = field_validator("id")(_check_identifier)

    @field_validator("success")
    @classmethod
    def _conditions(cls, conditions: list[str]) -> list[str]:
        for condition in conditions:
            parse_condition(condition)
        return conditions


def parse_condition(text: str) -> tuple[bool, str, tuple[str, ...]]:
    """``"not on(a, b)"`` -> (negated, "on", ("a", "b")); raises ValueError."""
    match = CONDITION.match(text)
    if not match:
        raise ValueError(
            f"condition {text!r} is not one of on(x, y), in(x, room), at(robot, place), near(x, y), "
            "holding(x), optionally preceded by 'not'"
        )
    negated, name, first, second = match.groups()
    arguments = (first,) if second is None else (first, second)
    if len(arguments) != CONDITION_ARITY[name]:
        raise ValueError(f"condition {text!r}: {name} takes {CONDITION_ARITY[name]} argument(s)")
    return bool(negated), name, arguments


class Scenario(_Model):
    name: str
    description: str = ""
    rooms: list[Room] = Field(min_length=1)
    doors: list[Door] = []
    walls: Walls = Walls()
    furniture: list[Furniture] = []
    objects: list[SceneObjectSpec] = []
    robot: RobotStart
    camera: CameraSettings = CameraSettings()
    events: list[Event] = []
    tasks: list[Task] = []

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        _unique("rooms", [r.id for r in self.rooms])
        _unique("furniture and objects", [f.id for f in self.furniture] + [o.id for o in self.all_objects()])
        _unique("tasks", [t.id for t in self.tasks])
        rooms = {r.id: r for r in self.rooms}
        furniture_ids = {f.id for f in self.furniture}
        object_ids = {o.id for o in self.all_objects()}
        for i, piece in enumerate(self.furniture):
            room = rooms.get(piece.room)
            if room is None:
                raise _LocatedError(("furniture", i, "room"), f"unknown room {piece.room!r}; rooms: {', '.join(rooms)}")
            if not room.contains(piece.pose[0], piece.pose[1]):
                raise _LocatedError(
                    ("furniture", i, "pose"), f"{piece.id} at {list(piece.pose[:2])} is outside {room.id}"
                )
        for i, obj in enumerate(self.objects):
            _check_placement(obj.place, furniture_ids, self.furniture, ("objects", i, "place"))
        if not any(r.contains(self.robot.pose[0], self.robot.pose[1], 0.3) for r in self.rooms):
            raise _LocatedError(("robot", "pose"), f"start {list(self.robot.pose[:2])} is not inside a room")
        for i, event in enumerate(self.events):
            where = ("events", i)
            if isinstance(event, MoveEvent | RemoveEvent) and event.object not in object_ids:
                raise _LocatedError((*where, "object"), f"unknown object {event.object!r}")
            if isinstance(event, MoveEvent):
                _check_placement(event.to, furniture_ids, self.furniture, (*where, "to"))
            if isinstance(event, AddEvent):
                _check_placement(event.object.place, furniture_ids, self.furniture, (*where, "object", "place"))
            trigger = event.when
            if isinstance(trigger, RobotIn) and trigger.robot_in not in rooms:
                raise _LocatedError((*where, "when", "robot_in"), f"unknown room {trigger.robot_in!r}")
            if isinstance(trigger, RobotNear) and trigger.robot_near not in furniture_ids | object_ids:
                raise _LocatedError((*where, "when", "robot_near"), f"unknown object {trigger.robot_near!r}")
            if isinstance(trigger, Holding) and trigger.holding not in object_ids:
                raise _LocatedError((*where, "when", "holding"), f"unknown object {trigger.holding!r}")
        known = set(rooms) | furniture_ids | object_ids | {"robot"}
        for i, task in enumerate(self.tasks):
            for j, condition in enumerate(task.success):
                _, _, arguments = parse_condition(condition)
                for argument in arguments:
                    if argument not in known:
                        raise _LocatedError(("tasks", i, "success", j), f"{condition!r} names unknown {argument!r}")
        return self

    def all_objects(self) -> list[SceneObjectSpec]:
        """Objects present at the start and objects that events add."""
        return [*self.objects, *(e.object for e in self.events if isinstance(e, AddEvent))]

    def room(self, room_id: str) -> Room:
        return next(r for r in self.rooms if r.id == room_id)

    def furniture_piece(self, furniture_id: str) -> Furniture:
        return next(f for f in self.furniture if f.id == furniture_id)

    def room_at(self, x: float, y: float) -> Room | None:
        return next((r for r in self.rooms if r.contains(x, y)), None)

    def bounds(self) -> tuple[float, float, float, float]:
        """min x, min y, max x, max y over all rooms."""
        return (
            min(r.min[0] for r in self.rooms),
            min(r.min[1] for r in self.rooms),
            max(r.max[0] for r in self.rooms),
            max(r.max[1] for r in self.rooms),
        )


class _LocatedError(ValueError):
    """A semantic error at a key path; turned into a ScenarioError with the file name."""

    def __init__(self, location: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.location = location


def _unique(what: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for identifier in ids:
        if identifier in seen:
            raise ValueError(f"id {identifier!r} is used twice among {what}")
        seen.add(identifier)


def _check_placement(
    place: Placement, furniture_ids: set[str], furniture: list[Furniture], location: tuple[str | int, ...]
) -> None:
    if isinstance(place, OnFurniture):
        if place.on not in furniture_ids:
            raise _LocatedError(
                (*location, "on"), f"unknown furniture {place.on!r}; furniture: {', '.join(furniture_ids)}"
            )
        piece = next(f for f in furniture if f.id == place.on)
        levels = len(piece.surface_heights())
        if not -levels <= place.level < levels:
            raise _LocatedError(
                (*location, "level"), f"{piece.id} has {levels} surface(s), level {place.level} is not one"
            )
        if abs(place.at[0]) > piece.size[0] / 2 or abs(place.at[1]) > piece.size[1] / 2:
            raise _LocatedError(
                (*location, "at"), f"offset {list(place.at)} lies off {piece.id} (size {list(piece.size)})"
            )


def format_location(location: tuple[str | int, ...]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def parse_scenario(document: Any, source: str = "<scenario>") -> Scenario:
    """Validate a parsed YAML document; raises ScenarioError naming the source and the key."""
    if not isinstance(document, dict):
        raise ScenarioError(f"{source}: a scenario must be a mapping, got {type(document).__name__}")
    try:
        return Scenario.model_validate(document)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            location = tuple(p for p in item["loc"] if not (isinstance(p, str) and p[:1].isupper()))
            context = item.get("ctx", {}).get("error")
            if isinstance(context, _LocatedError):
                location, message = location + context.location, str(context)
            else:
                message = item["msg"].removeprefix("Value error, ")
            problems.append(f"{source}: {format_location(location)}: {message}")
        raise ScenarioError("\n".join(problems)) from None


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A built-in world by name (``kitchen``) or a scenario file by path."""
    path = Path(name_or_path)
    if not path.suffix and not path.exists():
        path = WORLDS_DIRECTORY / f"{name_or_path}.yaml"
        if not path.is_file():
            raise ScenarioError(f"no built-in world {str(name_or_path)!r}; built-in: {', '.join(builtin_worlds())}")
    try:
        document = load_yaml(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read the scenario: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise ScenarioError(f"{path}: not valid YAML: {error}") from None
    return parse_scenario(document, str(path))


def builtin_worlds() -> list[str]:
    return sorted(p.stem for p in WORLDS_DIRECTORY.glob("*.yaml"))


def yaw_matrix(yaw: float) -> tuple[tuple[float, float], tuple[float, float]]:
    c, s = math.cos(yaw), math.sin(yaw)
    return ((c, -s), (s, c))
