"""Language model clients for the planner: OpenAI-compatible HTTP, llama.cpp, transformers.

Importing this package is cheap: openai, llama_cpp, torch and transformers load on first use.
See docs/models.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from planning.models.base import (
    Message,
    ModelClient,
    ModelError,
    ModelRequest,
    ModelResponse,
    ModelResponseError,
    ModelTimeout,
    ModelUnavailable,
    parse_json_answer,
)
from planning.models.cache import CACHE_MODES, RecordReplayClient
from planning.models.fallback import FallbackClient
from planning.models.llama_cpp_client import LlamaCppClient, smollm2_path
from planning.models.openai_http import OpenAIClient
from planning.models.transformers_client import TransformersClient

__all__ = [
    "CONFIG_DEFAULTS",
    "KINDS",
    "FallbackClient",
    "LlamaCppClient",
    "Message",
    "ModelClient",
    "ModelError",
    "ModelRequest",
    "ModelResponse",
    "ModelResponseError",
    "ModelTimeout",
    "ModelUnavailable",
    "OpenAIClient",
    "RecordReplayClient",
    "TransformersClient",
    "make_client",
    "parse_json_answer",
    "smollm2_path",
]

KINDS = ("openai", "llama_cpp", "transformers")
# Every key make_client knows; None means unset. A key that does not apply to the kind is ignored.
CONFIG_DEFAULTS: dict[str, Any] = {
    "kind": None,
    "model": None,
    "base_url": None,
    "api_key_env": None,
    "path": None,
    "device": "auto",
    "timeout_s": 30.0,
    "retries": 1,
    "n_ctx": 4096,
    "cache_dir": None,
    "cache_mode": "off",
    "images": None,  # openai: whether the served model reads images; None guesses from its name
}


def _text(config: Mapping[str, Any], key: str) -> str | None:
    """A string setting; None and "" (an unset ROS parameter) mean unset."""
    value = config.get(key, CONFIG_DEFAULTS[key])
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"The model setting {key!r} must be a string, not {value!r}.")
    return value


def _required(config: Mapping[str, Any], key: str, kind: str, example: str) -> str:
    value = _text(config, key)
    if value is None:
        raise ValueError(f"A model of kind {kind!r} needs {key!r}, e.g. {example}.")
    return value


def make_client(config: Mapping[str, Any]) -> ModelClient:
    """A client from settings (keys and defaults in CONFIG_DEFAULTS); ValueError on a bad setting.

    kind "openai" needs base_url and model, and takes images (true when the served model reads
    images; unset: guessed from its name); "llama_cpp" takes path (default: the bundled SmolLM2) and
    n_ctx (the context in tokens: the prompt with the scene plus the answer);
    "transformers" takes path (a directory) or model (an id in the Hugging Face cache). cache_mode
    record, replay or auto wraps the client in a RecordReplayClient over cache_dir.
    """
    unknown = sorted(set(config) - set(CONFIG_DEFAULTS))
    if unknown:
        raise ValueError(
            f"Unknown model setting(s) {', '.join(map(repr, unknown))}; known: {', '.join(CONFIG_DEFAULTS)}."
        )
    kind = _text(config, "kind")
    if kind not in KINDS:
        raise ValueError(f"The model kind must be one of {', '.join(KINDS)}, not {kind!r}.")
    device = _text(config, "device") or "auto"
    if device not in ("auto", "cpu") and not device.startswith("cuda"):
        raise ValueError(f"The model setting 'device' must be auto, cpu, cuda or cuda:N, not {device!r}.")
    timeout_s = config.get("timeout_s", CONFIG_DEFAULTS["timeout_s"])
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or not timeout_s > 0:
        raise ValueError(f"The model setting 'timeout_s' must be a positive number of seconds, not {timeout_s!r}.")
    retries = config.get("retries", CONFIG_DEFAULTS["retries"])
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"The model setting 'retries' must be a whole number of 0 or more, not {retries!r}.")

    n_ctx = config.get("n_ctx", CONFIG_DEFAULTS["n_ctx"])
    if isinstance(n_ctx, bool) or not isinstance(n_ctx, int) or n_ctx < 512:
        raise ValueError(f"The model setting 'n_ctx' must be a whole number of tokens, 512 or more, not {n_ctx!r}.")

    images = config.get("images", CONFIG_DEFAULTS["images"])
    if images is not None and not isinstance(images, bool):
        raise ValueError(f"The model setting 'images' must be true or false, not {images!r}.")

    client: ModelClient
    if kind == "openai":
        client = OpenAIClient(
            base_url=_required(config, "base_url", kind, "http://127.0.0.1:11434/v1"),
            model=_required(config, "model", kind, "qwen2.5:7b-instruct"),
            api_key_env=_text(config, "api_key_env"),
            timeout_s=float(timeout_s),
            retries=retries,
            images=images,
        )
    elif kind == "llama_cpp":
        gpu_layers = {"auto": None, "cpu": 0}.get(device, -1)
        client = LlamaCppClient(_text(config, "path"), n_ctx=n_ctx, n_gpu_layers=gpu_layers)
    else:
        source = _text(config, "path") or _text(config, "model")
        if source is None:
            raise ValueError("A model of kind 'transformers' needs 'path' (a directory) or 'model' (a cached id).")
        client = TransformersClient(source, device=device)

    cache_mode = _text(config, "cache_mode") or "off"
    if cache_mode == "off":
        return client
    if cache_mode not in CACHE_MODES:
        raise ValueError(f"The model setting 'cache_mode' must be off, {', '.join(CACHE_MODES)}, not {cache_mode!r}.")
    cache_dir = _text(config, "cache_dir")
    if cache_dir is None:
        raise ValueError(f"cache_mode {cache_mode!r} needs 'cache_dir', the folder of recorded answers.")
    return RecordReplayClient(client, cache_dir, cache_mode)
