"""Record model answers to JSON files and replay them: repeatable tests and demos without a model."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Literal, get_args

from planning.models.base import ModelClient, ModelRequest, ModelResponse, ModelUnavailable

CacheMode = Literal["record", "replay", "auto"]
CACHE_MODES: tuple[str, ...] = get_args(CacheMode)


def request_summary(client_name: str, request: ModelRequest) -> dict[str, Any]:
    """What identifies a call: the client, the messages (images by sha256), schema, temperature, max_tokens."""
    return {
        "client": client_name,
        "messages": [
            {
                "role": m.role,
                "content": m.content,
                "images": [hashlib.sha256(image).hexdigest() for image in m.images],
            }
            for m in request.messages
        ],
        "json_schema": None if request.json_schema is None else dict(request.json_schema),
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
    }


def request_key(client_name: str, request: ModelRequest) -> str:
    """sha256 of the canonical JSON of :func:`request_summary`."""
    canonical = json.dumps(
        request_summary(client_name, request), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class RecordReplayClient(ModelClient):
    """Wraps a client and keeps one ``<key>.json`` file per distinct call in ``directory``.

    Modes: ``record`` always asks ``inner`` and (over)writes the file; ``replay`` only reads files,
    and a missing one raises ModelUnavailable; ``auto`` replays what is recorded and records the rest.
    Replayed answers carry ``cached=True``. ``inner`` may be None for ``replay``; then ``inner_name``
    (the recorded client's name, part of the key) is required, and ``accepts_images`` says whether
    the recorded client read images (``inner``, when given, says so itself). Safe to call from several
    threads: concurrent calls with one key ask ``inner`` once.
    """

    def __init__(
        self,
        inner: ModelClient | None,
        directory: str | Path,
        mode: str = "auto",
        inner_name: str | None = None,
        accepts_images: bool = False,
    ) -> None:
        if mode not in CACHE_MODES:
            raise ValueError(f"The cache mode must be one of {', '.join(CACHE_MODES)}, not {mode!r}.")
        if inner is None and mode != "replay":
            raise ValueError(f"The cache mode {mode!r} needs a client to record from.")
        name = inner_name or (inner.name if inner is not None else None)
        if not name:
            raise ValueError("Replaying without a client needs inner_name, the name of the recorded client.")
        self.inner = inner
        self.directory = Path(directory).expanduser()
        self.mode = mode
        self.name = name
        self._accepts_images = accepts_images
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}

    def path_for(self, request: ModelRequest) -> Path:
        return self.directory / f"{request_key(self.name, request)}.json"

    def warm_up(self) -> None:
        if self.inner is not None and self.mode != "replay":
            self.inner.warm_up()

    @property
    def accepts_images(self) -> bool:
        return self.inner.accepts_images if self.inner is not None else self._accepts_images

    def complete(self, request: ModelRequest) -> ModelResponse:
        key = request_key(self.name, request)
        path = self.directory / f"{key}.json"
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            if self.mode != "record":
                replayed = self._replay(path)
                if replayed is not None:
                    return replayed
                if self.mode == "replay":
                    raise ModelUnavailable(
                        f"No recorded answer for this request (key {key}) in {self.directory}; "
                        f"record it first with cache_mode 'record' or 'auto'."
                    )
            if self.inner is None:  # cannot happen: only replay runs without one
                raise ModelUnavailable(f"No client to record from for key {key}.")
            response = self.inner.complete(request)
            self._record(path, key, request, response)
            return response

    def _replay(self, path: Path) -> ModelResponse | None:
        start = time.monotonic()
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            text, model = record["response"]["text"], record["response"]["model"]
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ModelUnavailable(f"The recorded answer {path} cannot be read: {error}") from error
        if not isinstance(text, str) or not isinstance(model, str):
            raise ModelUnavailable(f"The recorded answer {path} has no text.")
        return ModelResponse(text=text, model=model, seconds=time.monotonic() - start, cached=True)

    def _record(self, path: Path, key: str, request: ModelRequest, response: ModelResponse) -> None:
        record = {
            "key": key,
            "request": request_summary(self.name, request),
            "response": {"text": response.text, "model": response.model, "seconds": response.seconds},
        }
        self.directory.mkdir(parents=True, exist_ok=True)
        # Write beside the target, then rename: a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(record, handle, indent=2, ensure_ascii=False, sort_keys=True)
                handle.write("\n")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
