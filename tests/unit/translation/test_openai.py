"""The openai backend's protocol: scene requests, replies, shortening, retries, refusals.

These drive OpenAITranslator through its `post` seam with recorded replies; the real server
process is tests/integration/test_translation_llama.py.
"""

from __future__ import annotations

import json
import urllib.error
from typing import Any

import pytest

from dubset_common.errors import ConfigError, TransientError
from dubset_translation.backends.openai import OpenAITranslator, check_endpoint
from dubset_translation.core.model import JaLine, TranslationInputError
from dubset_translation.core.prompt import first_line, parse_scene_reply, scenes

URL = "http://127.0.0.1:9/v1"


class Server:
    """Answers each POST with the next reply; records what was asked."""

    def __init__(self, *replies: object) -> None:
        self.replies = list(replies)
        self.asked: list[tuple[str, Any, dict[str, str]]] = []

    def __call__(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> bytes:
        self.asked.append((url, json.loads(body), headers))
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return json.dumps(reply).encode()


def chat(content: str) -> dict[str, object]:
    return {"choices": [{"message": {"content": content}}]}


LINES = [JaLine(0, 1000, "ただいま", "A"), JaLine(1500, 3000, "おかえり", "B")]


def test_a_scene_is_one_chat_request_with_budgets_and_a_json_reply() -> None:
    server = Server(chat('```json\n{"lines": [{"id": 0, "en": "Home!"}, {"id": 1, "en": "Hi."}]}'))
    got = OpenAITranslator(URL, "m", key="sk-1", post=server).translate(LINES, [1200, 2000])
    assert got == [("Home!", 1), ("Hi.", 1)]
    url, body, headers = server.asked[0]
    assert url == f"{URL}/chat/completions" and body["model"] == "m"
    assert headers["Authorization"] == "Bearer sk-1"
    prompt = body["messages"][1]["content"]
    assert "id 0 (A), 1.2 s, at most 6 syllables: ただいま" in prompt


def test_a_line_too_long_for_its_budget_is_asked_again_shorter() -> None:
    long = "Welcome home, I have been waiting for you all day long."
    server = Server(
        chat(json.dumps({"lines": [{"id": 0, "en": long}, {"id": 1, "en": "Hi."}]})),
        chat("Welcome home!"),
    )
    got = OpenAITranslator(URL, "m", post=server).translate(LINES, [1200, 2000])
    assert got[0] == ("Welcome home!", 2)
    assert "at most 6 syllables" in server.asked[1][1]["messages"][1]["content"]


def test_the_completions_api_asks_line_by_line() -> None:
    server = Server({"choices": [{"text": " I'm home.\nJapanese: x"}]},
                    {"choices": [{"text": "Welcome."}]})  # fmt: skip
    t = OpenAITranslator(URL, "m", api="completions", post=server)
    assert t.translate(LINES, [1200, 2000]) == [("I'm home.", 1), ("Welcome.", 1)]
    assert server.asked[0][1]["prompt"].endswith("Japanese: ただいま\nEnglish:")


def test_a_refusing_server_is_retried_then_fails_naming_the_url_not_the_key() -> None:
    refused = urllib.error.URLError(ConnectionRefusedError("Connection refused"))
    server = Server(refused, refused, refused)
    t = OpenAITranslator(URL, "m", key="sk-secret", post=server, backoff_s=0)
    with pytest.raises(TransientError) as err:
        t.translate(LINES, [1200, 2000])
    assert URL in str(err.value) and "sk-secret" not in str(err.value)
    assert len(server.asked) == 3


def test_a_server_that_recovers_is_used() -> None:
    busy = urllib.error.HTTPError(URL, 503, "busy", {}, None)  # type: ignore[arg-type]
    server = Server(busy, chat('{"lines": [{"id": 0, "en": "Home."}, {"id": 1, "en": "Hi."}]}'))
    assert OpenAITranslator(URL, "m", post=server, backoff_s=0).translate(LINES, [1200, 2000])


def test_a_rejected_key_is_the_operators_to_fix() -> None:
    denied = urllib.error.HTTPError(URL, 401, "no", {}, None)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="HTTP 401"):
        OpenAITranslator(URL, "m", post=Server(denied), backoff_s=0).translate(LINES, [1, 1])


@pytest.mark.parametrize(
    ("content", "reason"),
    [("I cannot help with that.", "no JSON object"),
     ('{"lines": [{"id": 0, "en": "Home."}]}', "left lines \\[1\\] untranslated")],
)  # fmt: skip
def test_a_reply_that_is_not_what_was_asked_fails_the_job(content: str, reason: str) -> None:
    with pytest.raises(TranslationInputError, match=reason):
        OpenAITranslator(URL, "m", post=Server(chat(content))).translate(LINES, [1200, 2000])


def test_only_the_operators_endpoints_are_called() -> None:
    check_endpoint(URL, None)
    check_endpoint(URL, ("http://127.0.0.1:9/v1",))
    with pytest.raises(ConfigError, match=r"does not call http://10\.0\.0\.1/v1"):
        check_endpoint("http://10.0.0.1/v1", ("http://127.0.0.1:9/v1",))
    with pytest.raises(ConfigError, match="allows no endpoint"):
        check_endpoint(URL, ())


def test_scenes_split_at_silences_and_size() -> None:
    lines = [JaLine(i * 1000, i * 1000 + 500, "x") for i in range(10)] + [JaLine(20000, 21000, "y")]
    assert [len(s) for s in scenes(lines)] == [8, 2, 1]


def test_replies_are_read_leniently_but_not_guessed() -> None:
    assert parse_scene_reply('Sure! {"lines": [{"id": 3, "en": " Go. "}, {"id": 9}]}', [3]) == {
        3: "Go."
    }
    with pytest.raises(ValueError, match='no "lines" list'):
        parse_scene_reply('{"text": "Go."}', [3])
    assert first_line('\n English: "Let\'s go."\nJapanese: x') == "Let's go."
