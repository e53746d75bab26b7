"""Client for a Hugging Face transformers model from a local directory or the local cache (never the hub)."""

from __future__ import annotations

import io
import json
import threading
import time
from pathlib import Path
from typing import Any

from planning.models.base import (
    Message,
    ModelClient,
    ModelError,
    ModelRequest,
    ModelResponse,
    ModelResponseError,
    ModelUnavailable,
    with_schema_instruction,
)

_PROVIDE = "Copy the model directory onto this machine and give its path; nothing is downloaded."


def pick_device(device: str) -> str:
    """``auto`` becomes ``cuda`` when torch sees a GPU (a Jetson too), else ``cpu``; others pass through."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def locate_model(model_dir_or_id: str | Path) -> str:
    """A local directory, or a model id already in the Hugging Face cache; ModelUnavailable otherwise."""
    text = str(model_dir_or_id)
    path = Path(text).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelUnavailable(f"The model directory {path} has no config.json. {_PROVIDE}")
        return str(path)
    if path.is_absolute() or text.startswith((".", "~")) or text.count("/") > 1:
        raise ModelUnavailable(f"The model directory {path} does not exist. {_PROVIDE}")
    from huggingface_hub import constants, try_to_load_from_cache

    if not isinstance(try_to_load_from_cache(text, "config.json"), str):
        raise ModelUnavailable(
            f"The model {text} is neither a directory nor in the Hugging Face cache ({constants.HF_HUB_CACHE}). "
            f"{_PROVIDE}"
        )
    return text


def config_has_vision(model_dir_or_id: str | Path) -> bool:
    """Whether the model's config.json has a ``vision_config`` (a vision-language model), read without
    loading transformers or weights; False when the config cannot be found or read."""
    try:
        source = locate_model(model_dir_or_id)
    except ModelUnavailable:
        return False
    path: str | Path | None = Path(source) / "config.json"
    if not Path(source).is_dir():
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(source, "config.json")
        path = cached if isinstance(cached, str) else None
    if path is None:
        return False
    try:
        config = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and config.get("vision_config") is not None


class TransformersClient(ModelClient):
    """A causal LM, or an image-text-to-text model (a VLM), loaded on the first call.

    Models whose config has a ``vision_config`` load with AutoProcessor and AutoModelForImageTextToText
    (AutoModelForVision2Seq in older transformers) and take images; others load with AutoTokenizer and
    AutoModelForCausalLM. Decoding is greedy at temperature 0. There is no grammar: a schema is written
    into the system prompt. Calls are serialised.
    """

    def __init__(self, model_dir_or_id: str | Path, device: str = "auto", max_new_tokens: int | None = None) -> None:
        if not str(model_dir_or_id):
            raise ValueError("TransformersClient needs a model directory or a cached model id.")
        if device not in ("auto", "cpu") and not device.startswith("cuda"):
            raise ValueError(f"device must be auto, cpu, cuda or cuda:N, not {device!r}.")
        if max_new_tokens is not None and max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be at least 1, not {max_new_tokens}.")
        self.source = str(model_dir_or_id)
        self.requested_device = device
        self.max_new_tokens = max_new_tokens
        self.name = f"transformers:{Path(self.source).name or self.source}"
        self.device: str | None = None
        self.is_vision = False
        self._model: Any = None
        self._tokenizer: Any = None  # a tokenizer, or the processor of a vision model
        self._lock = threading.Lock()

    def _load(self) -> None:
        """Load tokenizer/processor and model once; the caller holds the lock."""
        if self._model is not None:
            return
        source = locate_model(self.source)
        try:
            import torch  # noqa: F401  (fails early with a clear message)
            import transformers
        except ImportError as error:
            raise ModelUnavailable(
                f"{self.name} needs torch and transformers; install them (make setup does)."
            ) from error
        device = pick_device(self.requested_device)
        try:
            config = transformers.AutoConfig.from_pretrained(source, local_files_only=True)
            self.is_vision = getattr(config, "vision_config", None) is not None
            if self.is_vision:
                # Older transformers have only AutoModelForVision2Seq.
                vision_classes = ("AutoModelForImageTextToText", "AutoModelForVision2Seq")
                model_class = next(getattr(transformers, n) for n in vision_classes if hasattr(transformers, n))
                processor_class: Any = transformers.AutoProcessor
                self._tokenizer = processor_class.from_pretrained(source, local_files_only=True)
            else:
                model_class = transformers.AutoModelForCausalLM
                self._tokenizer = transformers.AutoTokenizer.from_pretrained(source, local_files_only=True)
            self._model = model_class.from_pretrained(source, local_files_only=True).to(device).eval()
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            self._model = self._tokenizer = None
            raise ModelUnavailable(f"transformers could not load the model in {source}: {error}. {_PROVIDE}") from error
        self.device = device

    def warm_up(self) -> None:
        with self._lock:
            self._load()

    @property
    def accepts_images(self) -> bool:
        """A loaded model says; before loading, its config.json does (no weights are loaded)."""
        if self._model is not None:
            return self.is_vision
        return config_has_vision(self.source)

    def complete(self, request: ModelRequest) -> ModelResponse:
        messages = request.messages
        if request.json_schema is not None:
            messages = with_schema_instruction(messages, request.json_schema)
        limit = request.max_tokens if self.max_new_tokens is None else min(request.max_tokens, self.max_new_tokens)
        with self._lock:
            self._load()
            if request.has_images and not self.is_vision:
                raise ModelUnavailable(f"{self.name} is a text model and cannot read images.")
            start = time.monotonic()
            try:
                text = self._generate(messages, request.temperature, limit)
            except (ValueError, RuntimeError, TypeError) as error:
                raise ModelError(f"{self.name} failed to generate an answer: {error}") from error
            seconds = time.monotonic() - start
        if not text.strip():
            raise ModelResponseError(f"{self.name} gave an empty answer.")
        return ModelResponse(text=text, model=self.name, seconds=seconds)

    def _generate(self, messages: tuple[Message, ...], temperature: float, max_new_tokens: int) -> str:
        import torch

        if self.is_vision:
            inputs, tokenizer = self._vision_inputs(messages), self._tokenizer.tokenizer
        else:
            inputs, tokenizer = self._text_inputs(messages), self._tokenizer
        inputs = inputs.to(self.device)
        sampling: dict[str, Any] = {"do_sample": False}
        if temperature > 0:
            sampling = {"do_sample": True, "temperature": temperature}
        pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        with torch.inference_mode():
            output = self._model.generate(**inputs, max_new_tokens=max_new_tokens, pad_token_id=pad_id, **sampling)
        new_tokens = output[0, inputs["input_ids"].shape[1] :]
        return str(tokenizer.decode(new_tokens, skip_special_tokens=True))

    def _text_inputs(self, messages: tuple[Message, ...]) -> Any:
        chat = [{"role": m.role, "content": m.content} for m in messages]
        if getattr(self._tokenizer, "chat_template", None):
            return self._tokenizer.apply_chat_template(
                chat, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
        # No chat template: a plain transcript that ends where the assistant speaks.
        prompt = "".join(f"{m['role'].capitalize()}: {m['content']}\n" for m in chat) + "Assistant:"
        return self._tokenizer(prompt, return_tensors="pt")

    def _vision_inputs(self, messages: tuple[Message, ...]) -> Any:
        from PIL import Image

        images = []
        chat: list[dict[str, Any]] = []
        for message in messages:
            parts: list[dict[str, Any]] = [{"type": "image"} for _ in message.images]
            parts.append({"type": "text", "text": message.content})
            chat.append({"role": message.role, "content": parts})
            for encoded in message.images:
                try:
                    images.append(Image.open(io.BytesIO(encoded)).convert("RGB"))
                except OSError as error:
                    raise ValueError(f"an image could not be decoded: {error}") from error
        prompt = self._tokenizer.apply_chat_template(chat, add_generation_prompt=True, tokenize=False)
        return self._tokenizer(text=prompt, images=images or None, return_tensors="pt")
