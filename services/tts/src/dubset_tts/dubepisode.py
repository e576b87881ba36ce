"""The tts stage dubbing a whole episode: a translation's lines spoken in one voice per
character and timed onto the Japanese lines (dubtrack.py). Outputs `speech` (the English
dialogue, a mono WAV as long as the video) and `lines` (lines.json: per line the texts, speaker,
voice, where it sits, its stretch and whether it fit)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace

from dubset.v1 import common_pb2
from dubset_common.errors import InvalidInputError
from dubset_common.facts import Facts
from dubset_common.jsondoc import load_object
from dubset_common.runner import Output, StageContext, StageOutcome
from dubset_tts.convert import TtsParams, policy_of
from dubset_tts.core.dublines import DubLine
from dubset_tts.core.flaps import flap_window, on_flaps
from dubset_tts.core.model import TtsInputError, Voice
from dubset_tts.core.wav import wav_info
from dubset_tts.dubtrack import SpokenLine, dub_lines, parse_lines, references
from dubset_tts.fragment import parse_turns
from dubset_tts.models import Models
from dubset_voices.dsp import stretch as praat_stretch

LINES_FORMAT = "dubset-dub-lines/1"
# 2: the cast is drawn from the clearest voices that go round (backends/stock.py cast_pool),
# and a character the subtitles name is cast from their own lines.
CASTING = 2
DUB_INPUTS = ("translation", "ja_dialogue", "ja_turns", "faces")


def check_dub_request(request: common_pb2.StageRequest, params: TtsParams) -> TtsParams:
    other = sorted(n for n in request.inputs if n not in DUB_INPUTS)
    if other:
        raise InvalidInputError(
            f"dubbing an episode takes {', '.join(DUB_INPUTS)}, not {', '.join(other)}"
        )
    if params.translation != "reference":
        raise InvalidInputError(
            "dubbing an episode speaks the translation stage's lines: leave "
            "translation_backend empty"
        )
    return replace(params, casting=CASTING)


def lines_doc(
    voices: list[Voice],
    spoken: list[SpokenLine],
    total: int,
    ja: Mapping[int, DubLine] | None = None,
    flaps: Mapping[int, tuple[int, int]] | None = None,
) -> bytes:
    """lines.json; ja: the lines as the translation gave them (before any move onto the
    flaps), flaps: per line moved, where the speaking face's mouth moves."""
    ja, flaps = ja or {}, flaps or {}
    bases = [v.label.split("+")[0] for v in voices]
    shared = sorted({b for b in bases if bases.count(b) > 1})
    value = {
        "format": LINES_FORMAT,
        "voices": [
            {"speaker": v.speaker, "voice": v.label,
             "similarity": None if v.similarity is None else round(v.similarity, 4)}
            for v in voices
        ],
        "shared_voices": shared,
        "lines": [
            {"index": s.line.index, "speaker": s.line.speaker, "voice": s.voice,
             "en_text": s.line.text,
             "ja_start_ms": ja.get(s.line.index, s.line).start_ms,
             "ja_end_ms": ja.get(s.line.index, s.line).end_ms,
             "budget_ms": ja.get(s.line.index, s.line).budget_ms, "start_ms": s.start_ms,
             "end_ms": s.start_ms + s.kept_ms, "natural_ms": s.natural_ms,
             "stretch": s.factor, "fits": s.fits, "over_ms": s.over_ms,
             **({"note": s.note} if s.note else {}),
             **({"flaps": list(flaps[s.line.index])} if s.line.index in flaps else {})}
            for s in spoken
        ],
        "untranslated": total - len(spoken),
    }  # fmt: skip
    return (json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode()


def dub_episode_lines(ctx: StageContext[TtsParams], models: Models) -> StageOutcome:
    params = ctx.params
    lines = parse_lines(ctx.read_input("translation"))
    originals = {line.index: line for line in lines}
    flaps: dict[int, tuple[int, int]] = {}
    if ctx.has_input("faces"):  # each line moved onto its speaking face's flaps
        opened = parse_flaps(ctx.read_input("faces"))
        for i, line in enumerate(lines):
            window = flap_window(line, opened.get(line.index, ()))
            if window is not None:
                flaps[line.index] = window
                lines[i] = on_flaps(line, window)
    turns = parse_turns(ctx.read_input("ja_turns"), "ja") if ctx.has_input("ja_turns") else ()
    ja = (
        wav_info(ctx.input_file("ja_dialogue"), "JA dialogue")
        if ctx.has_input("ja_dialogue")
        else None
    )
    ends = [line.start_ms + line.budget_ms for line in lines]
    duration_ms = ja.duration_ms if ja is not None else max(ends, default=0)
    out = ctx.workdir / "speech.wav"
    with models.lock:
        synth = models.synthesizer(params.backend, params.voice, params.model_dir)
        backend = synth.backend()
        refs = references(lines, turns, ja)

        def hook(fraction: float, message: str) -> None:
            ctx.hook(0.05 + 0.9 * fraction, message)

        voices, spoken = dub_lines(
            lines, synth, refs, dict(params.pins or ()), policy_of(params), praat_stretch,
            params.sample_rate_hz, duration_ms, out, hook,
        )  # fmt: skip
    report = lines_doc(voices, spoken, len(lines), originals, flaps)
    info = {
        "lines": len(lines),
        "spoken": len(spoken),
        "unfit": sum(1 for s in spoken if not s.fits),
        "voices": {v.speaker: v.label for v in voices},
        "duration_ms": duration_ms,
        "on_flaps": len(flaps),
    }
    outputs = (
        Output("speech", "speech.wav", "audio/wav", path=out),
        Output("lines", "lines.json", "application/json", data=report),
    )
    return StageOutcome(
        outputs=outputs, backend=backend, info=info, facts=Facts(segments=len(spoken))
    )


def parse_flaps(data: bytes) -> dict[int, list[tuple[int, int]]]:
    """faces.json of the faces stage run on the translation's lines: per line index, the
    speaking face's mouth-open spans (ms); lines without a visible speaker are left out."""
    doc = load_object(data, "faces.json", TtsInputError)
    entries = doc.get("speaking")
    if not isinstance(entries, list):
        raise TtsInputError("faces.json has no speaking list: run the faces stage with the lines")
    out: dict[int, list[tuple[int, int]]] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("clip"), int):
            raise TtsInputError(f"faces.json speaking[{i}] has no clip index")
        spans = entry.get("mouth_open")
        if entry.get("speaking_track") is None or not isinstance(spans, list):
            continue
        out[int(entry["clip"])] = [
            (int(s[0]), int(s[1])) for s in spans
            if isinstance(s, list) and len(s) == 2 and all(isinstance(v, int) for v in s)
        ]  # fmt: skip
    return out
