"""Translation wired to its ports: the stage the runner executes and the inline gRPC call."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from dubset.v1 import common_pb2, translation_pb2
from dubset_common.errors import ConfigError, InvalidInputError
from dubset_common.facts import Facts
from dubset_common.runner import Output, StageContext, StageOutcome
from dubset_common.stagerequest import unpack_params
from dubset_common.subtitles import MAX_BYTES as MAX_SUBTITLE_BYTES
from dubset_common.subtitles import SubtitleError, parse
from dubset_translation import STAGE, VERSION
from dubset_translation.backends.openai import OpenAITranslator, check_endpoint
from dubset_translation.convert import TranslationParams, params_from_proto, translation_to_proto
from dubset_translation.core.assemble import by_subtitles, by_translator
from dubset_translation.core.jsonio import dumps, parse_segments, parse_turns, parse_words
from dubset_translation.core.lines import ja_lines
from dubset_translation.core.model import JaLine, Translation, TranslationInputError

MAX_INPUT_BYTES = 2 * 1024 * 1024 * 1024  # the Japanese dialogue wav of a long episode
KEY_FILE_ENV = "DUBSET_TRANSLATION_API_KEY_FILE"
ENDPOINTS_ENV = "DUBSET_TRANSLATION_ENDPOINTS"


def api_key() -> str:
    """The openai backend's key: the file DUBSET_TRANSLATION_API_KEY_FILE names (a mounted
    secret), else DUBSET_TRANSLATION_API_KEY, else none."""
    path = os.environ.get(KEY_FILE_ENV, "")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"cannot read the API key file {path}: {exc.strerror}") from None
    return os.environ.get("DUBSET_TRANSLATION_API_KEY", "").strip()


def allowed_endpoints() -> tuple[str, ...] | None:
    """DUBSET_TRANSLATION_ENDPOINTS (comma-separated URL prefixes); unset: any (embedded)."""
    raw = os.environ.get(ENDPOINTS_ENV)
    return None if raw is None else tuple(e.strip() for e in raw.split(",") if e.strip())


def openai_translator(
    p: TranslationParams, allowed: tuple[str, ...] | None, key: str | None = None
) -> OpenAITranslator:
    """key None: from the environment (api_key)."""
    check_endpoint(p.endpoint, allowed)
    return OpenAITranslator(p.endpoint, p.model, p.api, api_key() if key is None else key,
                            p.speech_rate)  # fmt: skip


def run_translation(
    p: TranslationParams,
    lines: Sequence[JaLine],
    subtitles: bytes | None,
    audio: Callable[[], Path] | None,
    allowed: tuple[str, ...] | None,
    key: str | None = None,
) -> tuple[Translation, str]:
    """(translation, backend label) by the params' backend; never another one. key: the
    openai backend's (None: from the environment)."""
    backend = p.backend or ("subtitles" if subtitles is not None else "whisper")
    if backend == "subtitles":
        if subtitles is None:
            raise InvalidInputError("the subtitles backend needs English subtitles (--en-subs)")
        try:
            cues = parse(subtitles, "the English subtitles")
        except SubtitleError as exc:
            raise InvalidInputError(str(exc)) from None
        return by_subtitles(lines, cues, p.speech_rate), "subtitles"
    if backend == "whisper":
        if audio is None:
            raise InvalidInputError("the whisper backend translates speech: it needs the audio")
        from dubset_translation.backends.whisper import WhisperTranslator

        whisper = WhisperTranslator(p.model)
        path = audio()

        def by_whisper(ls: Sequence[JaLine], _budgets: Sequence[int]) -> list[tuple[str, int]]:
            return [(text, 1) for text in whisper.translate(path, ls)]

        return by_translator(lines, by_whisper, "whisper", p.speech_rate), whisper.name
    translator = openai_translator(p, allowed, key)
    return by_translator(lines, translator.translate, "openai", p.speech_rate), translator.name


def translate_inline(
    request: translation_pb2.TranslateRequest,
) -> translation_pb2.TranslateResponse:
    """Translate lines carried in the request (subtitles or openai)."""
    p = params_from_proto(request.params)
    segments = [(s.start_ms, s.end_ms, s.text) for s in request.ja]
    turns = [(t.start_ms, t.end_ms, t.speaker) for t in request.turns]
    subtitles = request.subtitles.encode() if request.subtitles else None
    try:
        lines = ja_lines(segments, turns)
        t, backend = run_translation(p, lines, subtitles, None, allowed_endpoints())
    except TranslationInputError as exc:
        raise InvalidInputError(str(exc)) from None
    return translation_to_proto(t, backend)


class TranslationStage:
    """Input `ja` is the Japanese transcript.json; optional `turns` (the Japanese diarization),
    `subtitles` (English subtitles) and `ja_dialogue` (the separated Japanese dialogue, for
    speech translation). Output `translation` is translation.json."""

    name = STAGE
    version = VERSION
    inputs: tuple[str, ...] = ("ja",)
    optional_inputs: tuple[str, ...] = ("turns", "subtitles", "ja_dialogue")

    def parse_params(self, request: common_pb2.StageRequest) -> TranslationParams:
        params = unpack_params(request, translation_pb2.TranslationParams, "translation")
        try:
            return params_from_proto(params)
        except TranslationInputError as exc:
            raise InvalidInputError(str(exc)) from None

    def run(self, ctx: StageContext[TranslationParams]) -> StageOutcome:
        try:
            transcript = ctx.read_input("ja")
            segments = parse_segments(transcript)
            turns = parse_turns(ctx.read_input("turns")) if ctx.has_input("turns") else []
            lines = ja_lines(segments, turns, parse_words(transcript))
            if not lines:
                raise TranslationInputError(
                    "no recognised Japanese speech: nothing to translate (is this the Japanese "
                    "track? another audio stream can be chosen: `dubset dub --ja-track N`)"
                )
            subtitles = None
            if ctx.has_input("subtitles"):
                size = ctx.request.inputs["subtitles"].size_bytes
                if size > MAX_SUBTITLE_BYTES:
                    raise InvalidInputError(
                        f"the subtitle file is {size} bytes, over {MAX_SUBTITLE_BYTES}"
                    )
                subtitles = ctx.read_input("subtitles")
            audio = (
                (lambda: ctx.input_file("ja_dialogue")) if ctx.has_input("ja_dialogue") else None
            )
            ctx.hook(0.1, f"translating {len(lines)} lines")
            t, backend = run_translation(ctx.params, lines, subtitles, audio, allowed_endpoints())
        except TranslationInputError as exc:
            raise InvalidInputError(str(exc)) from None
        out = Output("translation", "translation.json", "application/json", data=dumps(t, backend))
        info = {
            "lines": len(t.lines),
            "translated": sum(1 for line in t.lines if line.en_text),
            "too_long": sum(1 for line in t.lines if line.en_text and not line.fits),
            "unmatched_cues": len(t.unmatched_cues),
        }
        facts = Facts(segments=len(t.lines))
        return StageOutcome(outputs=(out,), backend=backend, info=info, facts=facts)
