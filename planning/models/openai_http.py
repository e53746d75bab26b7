"""Client for OpenAI-compatible chat completion servers: vLLM, Ollama, llama.cpp server, OpenAI."""

from __future__ import annotations

import base64
import ipaddress
import os
import re
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from planning.models.base import (
    Message,
    ModelClient,
    ModelError,
    ModelRequest,
    ModelResponse,
    ModelResponseError,
    ModelTimeout,
    ModelUnavailable,
    with_schema_instruction,
)

if TYPE_CHECKING:
    import openai

# Sent when no key is configured: local servers accept any key, the openai package insists on one.
NO_KEY = "not-needed"

# Names of vision-language models on Ollama and vLLM (llava, qwen2.5vl, llama3.2-vision, Qwen2.5-VL-7B-Instruct...).
_VISION_NAME = re.compile(r"llava|vision|vlm|\dvl|(^|[^a-z])vl([^a-z]|$)|minicpm-v|moondream|pixtral|internvl|idefics")


def looks_like_vision_model(model: str) -> bool:
    """Whether a served model's name is that of a known vision-language family (a guess; see ``images``)."""
    return _VISION_NAME.search(model.lower()) is not None


def image_data_url(image: bytes) -> str:
    """A base64 data URL for encoded image bytes (PNG, JPEG, GIF or WebP)."""
    if image.startswith(b"\x89PNG\r\n\x1a\n"):
        mime = "image/png"
    elif image.startswith(b"\xff\xd8\xff"):
        mime = "image/jpeg"
    elif image.startswith((b"GIF87a", b"GIF89a")):
        mime = "image/gif"
    elif image[:4] == b"RIFF" and image[8:12] == b"WEBP":
        mime = "image/webp"
    else:
        raise ValueError("An image must be encoded PNG, JPEG, GIF or WebP bytes.")
    return f"data:{mime};base64,{base64.b64encode(image).decode('ascii')}"


def chat_messages(messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    """Messages in the chat completions format; images become image_url parts of user messages."""
    out: list[dict[str, Any]] = []
    for message in messages:
        if not message.images:
            out.append({"role": message.role, "content": message.content})
            continue
        if message.role != "user":
            raise ValueError(f"Only user messages can carry images, not {message.role} messages.")
        parts: list[dict[str, Any]] = [{"type": "text", "text": message.content}]
        parts += [{"type": "image_url", "image_url": {"url": image_data_url(image)}} for image in message.images]
        out.append({"role": "user", "content": parts})
    return out


def _is_loopback(url: str) -> bool:
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _rejects_response_format(error: openai.APIStatusError) -> bool:
    """Whether an error answer names our response_format: 400 mostly, 422 or 500 (llama_cpp.server) too."""
    said = f"{error.message} {error.body}".lower()
    return "response_format" in said or "json_schema" in said


class OpenAIClient(ModelClient):
    """Chat completions over HTTP with the ``openai`` package.

    With a schema it asks for ``json_schema`` output (strict). A server that rejects that gets the
    schema written into the system prompt and ``json_object`` output, first with the schema attached
    (llama.cpp servers make a grammar of it), then without; later calls start at the format that
    worked. ``retries`` bounds the openai package's own retries of connection errors, 429 and 5xx.
    ``images`` says whether the served model reads images; None guesses from its name
    (:func:`looks_like_vision_model`), as the chat completions API cannot tell.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        api_key_env: str | None = None,
        timeout_s: float = 30.0,
        retries: int = 1,
        images: bool | None = None,
    ) -> None:
        if not base_url:
            raise ValueError("OpenAIClient needs a base_url such as http://127.0.0.1:8000/v1.")
        if not model:
            raise ValueError("OpenAIClient needs a model name.")
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, not {timeout_s}.")
        if retries < 0:
            raise ValueError(f"retries must be 0 or more, not {retries}.")
        self.base_url = base_url
        self.model = model
        self.name = f"openai:{model}"
        self.timeout_s = float(timeout_s)
        self.retries = int(retries)
        self.images = looks_like_vision_model(model) if images is None else images
        self._api_key = api_key
        self._api_key_env = api_key_env
        self._client: openai.OpenAI | None = None
        self._lock = threading.Lock()
        # The first answer format to try with a schema; raised when the server rejects one.
        self._format_level = 0

    @property
    def accepts_images(self) -> bool:
        return self.images

    def _get_client(self) -> openai.OpenAI:
        with self._lock:
            if self._client is not None:
                return self._client
            try:
                import openai
            except ImportError as error:
                raise ModelUnavailable(
                    "The openai package is not installed; install it with 'pip install openai' (make setup does)."
                ) from error
            key = self._api_key
            if key is None and self._api_key_env:
                key = os.environ.get(self._api_key_env)
                if not key:
                    raise ModelUnavailable(
                        f"The environment variable {self._api_key_env} that should hold the API key for "
                        f"{self.base_url} is not set."
                    )
            # A proxy from the environment must never carry loopback traffic elsewhere.
            http_client = openai.DefaultHttpxClient(trust_env=False) if _is_loopback(self.base_url) else None
            self._client = openai.OpenAI(
                base_url=self.base_url,
                api_key=key or NO_KEY,
                timeout=self.timeout_s,
                max_retries=self.retries,
                http_client=http_client,
            )
            return self._client

    def complete(self, request: ModelRequest) -> ModelResponse:
        client = self._get_client()
        start = time.monotonic()
        schema = request.json_schema
        if schema is None:
            completion = self._create(client, request, request.messages, None)
        else:
            completion = self._create_with_schema(client, request, schema)
        return ModelResponse(text=self._text(completion), model=self.name, seconds=time.monotonic() - start)

    def _create_with_schema(self, client: openai.OpenAI, request: ModelRequest, schema: Mapping[str, Any]) -> Any:
        """Ask in the first answer format the server takes, from the strictest; remember which one."""
        formats: list[dict[str, Any]] = [
            {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": True}},
            {"type": "json_object", "schema": schema},  # llama.cpp servers make a grammar of the schema
            {"type": "json_object"},
        ]
        prompted = with_schema_instruction(request.messages, schema)
        cause: openai.APIStatusError | None = None
        for level in range(self._format_level, len(formats)):
            messages = request.messages if level == 0 else prompted
            try:
                completion = self._create(client, request, messages, formats[level])
            except _FormatRejectedError as rejected:
                cause = rejected.error
                continue
            self._format_level = level
            return completion
        said = cause.message if cause is not None else "no format left to try"
        raise ModelError(f"The model server at {self.base_url} takes no JSON answer format: {said}") from cause

    def request_body(
        self,
        request: ModelRequest,
        messages: tuple[Message, ...] | None = None,
        response_format: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The JSON body of one chat completions call: images become image_url parts with data: URLs.

        ``messages`` default to the request's; ValueError when images are not PNG, JPEG, GIF or WebP.
        """
        body: dict[str, Any] = {
            "model": self.model,
            "messages": chat_messages(request.messages if messages is None else messages),
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
        }
        if response_format is not None:
            body["response_format"] = dict(response_format)
        return body

    def _create(
        self,
        client: openai.OpenAI,
        request: ModelRequest,
        messages: tuple[Message, ...],
        response_format: Mapping[str, Any] | None,
    ) -> Any:
        import openai

        try:
            body: Any = self.request_body(request, messages, response_format)
        except ValueError as error:
            raise ModelError(f"{self.name} cannot send this request: {error}") from error
        try:
            return client.chat.completions.create(**body)
        except openai.APITimeoutError as error:
            raise ModelTimeout(
                f"The model server at {self.base_url} did not answer within {self.timeout_s:g} s."
            ) from error
        except openai.APIConnectionError as error:
            raise ModelUnavailable(f"Cannot reach the model server at {self.base_url}: {error}") from error
        except (openai.AuthenticationError, openai.PermissionDeniedError) as error:
            raise ModelUnavailable(
                f"The model server at {self.base_url} refused the API key ({error.status_code})."
            ) from error
        except openai.NotFoundError as error:
            raise ModelUnavailable(
                f"The model server at {self.base_url} has no model {self.model!r} or no chat completions "
                f"endpoint (404)."
            ) from error
        except openai.APIStatusError as error:
            if response_format is not None and _rejects_response_format(error):
                raise _FormatRejectedError(error) from error
            if error.status_code == 429 or error.status_code >= 500:
                raise ModelUnavailable(
                    f"The model server at {self.base_url} is overloaded or failing ({error.status_code}): "
                    f"{error.message}"
                ) from error
            raise ModelError(
                f"The model server at {self.base_url} rejected the request ({error.status_code}): {error.message}"
            ) from error
        except openai.OpenAIError as error:
            raise ModelResponseError(f"The model server at {self.base_url} sent an unusable answer: {error}") from error

    def _text(self, completion: Any) -> str:
        choices = getattr(completion, "choices", None)
        if not choices:
            raise ModelResponseError(f"The model server at {self.base_url} answered with no choices.")
        text = choices[0].message.content
        if not isinstance(text, str) or not text.strip():
            raise ModelResponseError(f"The model {self.model!r} at {self.base_url} gave an empty answer.")
        return text


class _FormatRejectedError(Exception):
    """Internal: the server rejected the response_format we sent."""

    def __init__(self, error: openai.APIStatusError) -> None:
        super().__init__(error.message)
        self.error = error
