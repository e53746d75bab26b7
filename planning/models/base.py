"""What every model client speaks: requests, responses, typed errors and JSON answer parsing."""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class Message:
    """One chat turn; ``images`` are encoded PNG/JPEG bytes for vision-language models."""

    role: str
    content: str
    images: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"A message role must be one of {', '.join(ROLES)}, not {self.role!r}.")


@dataclass(frozen=True)
class ModelRequest:
    """A chat request; ``json_schema`` constrains the answer where the client can."""

    messages: tuple[Message, ...]
    json_schema: Mapping[str, Any] | None = None
    temperature: float = 0.0
    max_tokens: int = 512

    def __post_init__(self) -> None:
        if not self.messages:
            raise ValueError("A model request needs at least one message.")
        if self.temperature < 0:
            raise ValueError(f"The temperature must be 0 or more, not {self.temperature}.")
        if self.max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, not {self.max_tokens}.")

    @property
    def has_images(self) -> bool:
        return any(m.images for m in self.messages)

    def without_images(self) -> ModelRequest:
        """The same request with every image left out (for a client that reads text only)."""
        if not self.has_images:
            return self
        messages = tuple(Message(m.role, m.content) for m in self.messages)
        return ModelRequest(messages, self.json_schema, self.temperature, self.max_tokens)


@dataclass(frozen=True)
class ModelResponse:
    """An answer: ``model`` names the client that gave it, ``seconds`` how long the call took."""

    text: str
    model: str
    seconds: float
    cached: bool = False


class ModelError(Exception):
    """Base of the model errors; the message is a sentence a user can read."""


class ModelUnavailable(ModelError):  # noqa: N818  (the planner's name)
    """The model cannot be reached or loaded: server down, weights or package missing."""


class ModelTimeout(ModelError):  # noqa: N818  (the planner's name)
    """The model did not answer in time."""


class ModelResponseError(ModelError):
    """The model answered with something unusable: empty, garbage, or not JSON when asked for it."""


class ModelClient(ABC):
    """Calls one language model. Implementations are safe to call from several threads."""

    name: str

    @abstractmethod
    def complete(self, request: ModelRequest) -> ModelResponse:
        """Answer ``request``; raise a ModelError subclass on failure."""

    def warm_up(self) -> None:  # noqa: B027  # most clients have nothing to load
        """Load what the first call would load (weights in-process); ModelError when it cannot."""

    @property
    def accepts_images(self) -> bool:
        """Whether requests may carry images (a vision-language model); cheap, loads no weights."""
        return False


def schema_instruction(schema: Mapping[str, Any]) -> str:
    """A system-prompt sentence asking for JSON that follows ``schema`` (for clients without grammars)."""
    return (
        "Answer with one JSON object only, no prose and no code fences, that follows this JSON schema:\n"
        + json.dumps(schema, sort_keys=True)
    )


def with_schema_instruction(messages: tuple[Message, ...], schema: Mapping[str, Any]) -> tuple[Message, ...]:
    """``messages`` with the schema instruction appended to the first system message (or a new one)."""
    instruction = schema_instruction(schema)
    if messages and messages[0].role == "system":
        first = messages[0]
        return (Message("system", f"{first.content}\n\n{instruction}", first.images), *messages[1:])
    return (Message("system", instruction), *messages)


_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n?(.*?)```", re.DOTALL)
_MAX_CANDIDATES = 64


def _json_candidates(text: str) -> Iterator[Any]:
    """JSON values in ``text``, likeliest first: fenced blocks, the whole text, then each object/array in prose."""
    blocks = [m.group(1).strip() for m in _FENCE.finditer(text)]
    for block in [*blocks, text.strip()]:
        try:
            value = json.loads(block)
        except json.JSONDecodeError:
            continue
        yield value
    decoder = json.JSONDecoder()
    found = 0
    for start, char in enumerate(text):
        if char in "{[" and found < _MAX_CANDIDATES:
            try:
                found_value, _ = decoder.raw_decode(text, start)
            except json.JSONDecodeError:
                continue
            found += 1
            yield found_value


def _excerpt(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    if not text:
        return "(empty answer)."
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def parse_json_answer(text: str, schema: Mapping[str, Any] | None) -> Any:
    """The JSON value in a model's answer, validated against ``schema`` when one is given.

    Tolerates ```json fences and prose around the JSON; with a schema, the first value in the text
    that follows it wins. Raises ModelResponseError when there is no JSON or none follows the schema
    (with the validation message for the likeliest value), ValueError when the schema is invalid.
    """
    candidates = _json_candidates(text)
    first: Any = next(candidates, _NONE)
    if first is _NONE:
        raise ModelResponseError(f"The model's answer holds no JSON: {_excerpt(text)}")
    if schema is None:
        return first
    from jsonschema import exceptions, validators

    validator_class = validators.validator_for(schema)
    try:
        validator_class.check_schema(dict(schema))
    except exceptions.SchemaError as bad:
        raise ValueError(f"The JSON schema is invalid: {bad.message}") from bad
    validator = validator_class(dict(schema))
    error = exceptions.best_match(validator.iter_errors(first))
    if error is None:
        return first
    for value in candidates:
        if validator.is_valid(value):
            return value
    where = "/".join(str(p) for p in error.absolute_path)
    place = f" at {where}" if where else ""
    raise ModelResponseError(f"The model's JSON answer does not follow the schema{place}: {error.message}.")


_NONE = object()
