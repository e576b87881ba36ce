"""`openai`: any OpenAI-compatible server (vLLM, llama.cpp, Ollama, hosted) by URL and model.

Refused or unreachable servers are retried (RETRIES, backing off), then the job fails naming
the URL, never the key. The key comes from a file or the environment, never from params (they
are hashed and stored). A worker may only call the endpoints its operator allows
(DUBSET_TRANSLATION_ENDPOINTS): a job's params must not aim the service at internal hosts.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any

from dubset_common.errors import ConfigError, TransientError
from dubset_translation.core.fit import max_syllables, spoken_ms
from dubset_translation.core.model import JaLine, TranslationInputError
from dubset_translation.core.prompt import (
    completion_prompt,
    first_line,
    parse_scene_reply,
    scene_messages,
    scenes,
    shorten_messages,
    shorten_prompt,
)

RETRIES = 3
SHORTEN_TRIES = 2
MAX_REPLY_BYTES = 1 << 20
MAX_CHAT_TOKENS = 1024  # a scene of 8 lines in JSON; a model that rambles is cut off
Post = Callable[[str, bytes, dict[str, str], float], bytes]


def http_post(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> bytes:
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"{url} is not an http(s) URL")
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=timeout_s) as reply:  # noqa: S310
        return bytes(reply.read(MAX_REPLY_BYTES))


def check_endpoint(endpoint: str, allowed: tuple[str, ...] | None) -> None:
    """None allows any endpoint (the embedded run: its user is the operator)."""
    if allowed is None:
        return
    if not any(endpoint == a or endpoint.startswith(a.rstrip("/") + "/") for a in allowed):
        raise ConfigError(
            f"this translation service does not call {endpoint}: its operator allows "
            f"{', '.join(allowed) or 'no endpoint'} (DUBSET_TRANSLATION_ENDPOINTS)"
        )


class OpenAITranslator:
    def __init__(
        self,
        endpoint: str,
        model: str,
        api: str = "chat",
        key: str = "",
        rate: float = 5.0,
        timeout_s: float = 120.0,
        post: Post = http_post,
        backoff_s: float = 1.0,
    ) -> None:
        self.endpoint, self.model, self.api, self.rate = endpoint, model, api, rate
        self._key, self._post, self.timeout_s, self.backoff_s = key, post, timeout_s, backoff_s
        self.name = f"openai:{model}"

    def translate(self, lines: Sequence[JaLine], budgets: Sequence[int]) -> list[tuple[str, int]]:
        limits = [max_syllables(b, self.rate) for b in budgets]
        texts = ["" for _ in lines]
        for ids in scenes(lines):
            for k, text in self._scene(lines, ids, limits, budgets).items():
                texts[k] = text
        out = []
        for k, line in enumerate(lines):
            text, attempts = texts[k], 1
            while spoken_ms(text, self.rate) > budgets[k] and attempts <= SHORTEN_TRIES:
                shorter = self._shorten(line.text, text, limits[k])
                attempts += 1
                if shorter and spoken_ms(shorter, self.rate) < spoken_ms(text, self.rate):
                    text = shorter
            out.append((text, attempts))
        return out

    def _scene(
        self, lines: Sequence[JaLine], ids: Sequence[int], limits: list[int], budgets: Sequence[int]
    ) -> dict[int, str]:
        if self.api == "completions":
            return {k: first_line(self._complete(completion_prompt(lines[k].text))) for k in ids}
        reply = self._chat(scene_messages(lines, ids, limits, budgets))
        try:
            got = parse_scene_reply(reply, ids)
        except ValueError as exc:
            raise TranslationInputError(
                f"{self.endpoint} ({self.model}) did not answer as asked: {exc}"
            ) from None
        missing = [k for k in ids if not got.get(k)]
        if missing:
            raise TranslationInputError(
                f"{self.endpoint} ({self.model}) left lines {missing} untranslated (empty)"
            )
        return got

    def _shorten(self, japanese: str, english: str, limit: int) -> str:
        if self.api == "completions":
            return first_line(self._complete(shorten_prompt(english, limit)))
        return first_line(self._chat(shorten_messages(japanese, english, limit)))

    def _chat(self, messages: list[dict[str, str]]) -> str:
        body = {"model": self.model, "messages": messages, "temperature": 0, "seed": 0,
                "max_tokens": MAX_CHAT_TOKENS}  # fmt: skip
        value = self._call("chat/completions", body)
        try:
            return str(value["choices"][0]["message"]["content"] or "")
        except (KeyError, IndexError, TypeError):
            raise TranslationInputError(f"{self.endpoint}: a chat reply without choices") from None

    def _complete(self, prompt: str) -> str:
        body = {"model": self.model, "prompt": prompt, "temperature": 0, "seed": 0,
                "max_tokens": 64, "stop": ["\n"]}  # fmt: skip
        value = self._call("completions", body)
        try:
            return str(value["choices"][0]["text"] or "")
        except (KeyError, IndexError, TypeError):
            raise TranslationInputError(f"{self.endpoint}: a reply without choices") from None

    def _call(self, path: str, body: dict[str, object]) -> Any:
        url = f"{self.endpoint}/{path}"
        headers = {"Content-Type": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        data = json.dumps(body).encode()
        last = ""
        for attempt in range(RETRIES):
            try:
                raw = self._post(url, data, headers, self.timeout_s)
            except urllib.error.HTTPError as exc:
                if exc.code in (408, 429) or exc.code >= 500:
                    last = f"HTTP {exc.code}"
                else:
                    raise ConfigError(f"{url} refused the request: HTTP {exc.code}") from None
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
                last = str(getattr(exc, "reason", exc))
            else:
                try:
                    value = json.loads(raw)
                except (UnicodeDecodeError, json.JSONDecodeError):
                    raise TranslationInputError(f"{url} answered with no JSON") from None
                if not isinstance(value, dict):
                    raise TranslationInputError(f"{url} answered with no JSON object")
                return value
            if attempt + 1 < RETRIES:
                time.sleep(self.backoff_s * 2**attempt)
        raise TransientError(f"{url} did not answer after {RETRIES} tries: {last}")
