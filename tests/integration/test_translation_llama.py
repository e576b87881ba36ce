"""The `openai` translation backend against a real OpenAI-compatible server: llama.cpp's own HTTP
server (the `xllamacpp` wheel, tools/llama_server.py) serving Gemma 3 270M on 127.0.0.1.

The model is a tiny base model: the completions API (few-shot, line by line) gives English; the
chat API with llama.cpp's built-in `gemma` turn format answers, but not with the scene JSON the
backend asks for, which must surface as a TranslationInputError naming the server.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dubset_common.errors import TransientError
from dubset_translation.backends.openai import OpenAITranslator
from dubset_translation.core.fit import spoken_ms
from dubset_translation.core.model import JaLine, TranslationInputError
from dubset_translation.core.prompt import scene_messages
from tests.integration.conftest import stop_process

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import llama_server  # noqa: E402

N_PREDICT = 32  # the server's cap per answer: the backend's chat requests set no max_tokens
READY_S = 90.0
LINES = [
    JaLine(0, 1500, "ただいま。", "A"),
    JaLine(2000, 4500, "明日は雨が降るらしいよ。", "B"),
    JaLine(5000, 7000, "行ってきます。", "A"),
]
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@dataclass(frozen=True)
class Llama:
    endpoint: str  # http://127.0.0.1:PORT/v1
    model: str  # the id /v1/models lists
    proc: subprocess.Popen[bytes]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get_json(url: str, timeout_s: float = 2.0) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=timeout_s) as reply:
        value = json.loads(reply.read())
    assert isinstance(value, dict)
    return value


def _post_json(url: str, body: dict[str, object], timeout_s: float = 60.0) -> dict[str, object]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout_s) as reply:
        value = json.loads(reply.read())
    assert isinstance(value, dict)
    return value


def start_llama(gguf: Path, log: Path) -> Llama:
    """Start the server on a free port and wait until /v1/models lists the model (503 while
    the model loads)."""
    port = _free_port()
    argv = [sys.executable, str(ROOT / "tools" / "llama_server.py"), "--model", str(gguf)]
    argv += ["--port", str(port), "--chat-template", "gemma", "--n-predict", str(N_PREDICT)]
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + READY_S
    while True:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:]
            pytest.fail(f"llama server exited with {proc.returncode} before ready:\n{tail}")
        try:
            models = _get_json(f"{endpoint}/models")
            data = models["data"]
            assert isinstance(data, list)
            return Llama(endpoint, str(data[0]["id"]), proc)
        except (OSError, ValueError, KeyError, IndexError):
            if time.monotonic() > deadline:
                stop_process(proc)
                pytest.fail(f"llama server not ready after {READY_S:.0f} s: {log}")
            time.sleep(0.2)


@pytest.fixture(scope="module")
def gguf() -> Path:
    return llama_server.gguf_path()


@pytest.fixture(scope="module")
def llama(gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Llama]:
    server = start_llama(gguf, tmp_path_factory.mktemp("llama") / "server.log")
    yield server
    stop_process(server.proc)


def _english(text: str) -> bool:
    return bool(re.search(r"[A-Za-z]{2,}", text)) and not JAPANESE.search(text)


def test_completions_translate_each_line(llama: Llama) -> None:
    assert llama.model == llama_server.MODEL_ALIAS
    budgets = [3000, 4000, 3000]
    translator = OpenAITranslator(
        llama.endpoint, llama.model, api="completions", backoff_s=0, timeout_s=60
    )
    out = translator.translate(LINES, budgets)
    assert len(out) == len(LINES)
    for (text, attempts), budget in zip(out, budgets, strict=True):
        assert text.strip(), out
        assert _english(text), out
        # a line over its budget was asked again (at most twice) for a shorter version
        assert 1 <= attempts <= 3
        assert spoken_ms(text) <= budget or attempts > 1, out


def test_chat_scene_request_reaches_the_model_but_its_reply_is_no_scene_json(
    llama: Llama,
) -> None:
    budgets = [3000, 4000, 3000]
    # The chat route answers through the gemma turn format: content, not an empty string.
    messages = scene_messages(LINES, [0, 1, 2], [15, 20, 15], budgets)
    reply = _post_json(
        f"{llama.endpoint}/chat/completions",
        {"model": llama.model, "messages": messages, "temperature": 0, "seed": 0, "max_tokens": 12},
    )
    choices = reply["choices"]
    assert isinstance(choices, list)
    assert str(choices[0]["message"]["content"]).strip(), reply
    # A 270M base model does not write {"lines": [{"id", "en"}, ...]}: the backend says so.
    translator = OpenAITranslator(llama.endpoint, llama.model, api="chat", backoff_s=0)
    with pytest.raises(TranslationInputError) as err:
        translator.translate(LINES, budgets)
    message = str(err.value)
    assert llama.endpoint in message and llama.model in message
    assert "did not answer as asked" in message or "untranslated" in message


def test_a_line_over_its_budget_is_asked_again_for_a_shorter_version(llama: Llama) -> None:
    translator = OpenAITranslator(
        llama.endpoint, llama.model, api="completions", backoff_s=0, timeout_s=60
    )
    # 200 ms is one syllable at 5 a second: no English for this line fits it.
    [(text, attempts)] = translator.translate([LINES[1]], [200])
    assert text.strip()
    assert attempts >= 2


def test_a_stopped_server_is_a_transient_error_naming_the_url_not_the_key(
    gguf: Path, tmp_path: Path
) -> None:
    server = start_llama(gguf, tmp_path / "server.log")
    key = "sk-test-0123456789abcdef"
    translator = OpenAITranslator(
        server.endpoint, server.model, api="completions", key=key, backoff_s=0, timeout_s=10
    )
    try:
        [(text, _)] = translator.translate([LINES[0]], [3000])
        assert text.strip()  # it answered while it ran
    finally:
        stop_process(server.proc)
    assert server.proc.returncode == 0
    with pytest.raises(TransientError) as err:
        translator.translate([LINES[0]], [3000])
    message = str(err.value)
    assert f"{server.endpoint}/completions" in message
    assert "did not answer after 3 tries" in message
    assert key not in message and "Bearer" not in message
