"""Dubbing an episode's lines: the cast, each line spoken, timed (core/dublines.py) and written
into one speech track as long as the video, line by line (memory does not grow with the
episode), and the per-line report."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import soundfile as sf

from dubset_common.jsondoc import load_object
from dubset_tts.core.backend import SpeechSynthesizer
from dubset_tts.core.dublines import DubLine, time_line
from dubset_tts.core.fit import Stretch
from dubset_tts.core.model import FitPolicy, Speech, TtsInputError, Voice
from dubset_tts.core.references import Turn, reference
from dubset_tts.core.wav import WavInfo, to_rate
from dubset_voices.dsp import trim_silence

FADE_MS = 30
MAX_LINES = 100_000
Hook = Callable[[float, str], None]


@dataclass(frozen=True)
class SpokenLine:
    line: DubLine
    voice: str
    start_ms: int  # where the speech sits (the line's start, or later to leave the last one)
    kept_ms: int
    natural_ms: int
    factor: float
    fits: bool
    over_ms: int
    note: str = ""


def parse_lines(data: bytes) -> list[DubLine]:
    """The lines of a translation.json, in time order (untranslated ones keep empty text)."""
    doc = load_object(data, "translation.json", TtsInputError)
    raw = doc.get("lines")
    if not isinstance(raw, list) or len(raw) > MAX_LINES:
        raise TtsInputError(f"translation.json: lines must be a list of at most {MAX_LINES}")
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise TtsInputError(f"translation.json lines[{i}] must be an object")
        values = [item.get(k) for k in ("start_ms", "end_ms", "budget_ms")]
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
            raise TtsInputError(f"translation.json lines[{i}]: times must be whole ms >= 0")
        start, end, budget = (int(v) for v in values)  # type: ignore[arg-type]
        text, speaker = item.get("en_text", ""), item.get("speaker", "")
        character = item.get("character", "")
        if end < start or not all(isinstance(v, str) for v in (text, speaker, character)):
            raise TtsInputError(f"translation.json lines[{i}] is malformed")
        # A character the subtitles name is who the voice belongs to; else the diarized speaker.
        who = str(character).strip() or str(speaker)
        out.append(DubLine(i, start, end, budget, who, str(text).strip()))
    return sorted(out, key=lambda line: (line.start_ms, line.index))


def speakers_by_speech(lines: Sequence[DubLine]) -> list[str]:
    """The lines' speakers, most Japanese speech first (they are cast first)."""
    total: dict[str, int] = {}
    for line in lines:
        total[line.speaker] = total.get(line.speaker, 0) + line.ja_ms
    return sorted(total, key=lambda s: (-total[s], s))


def references(
    lines: Sequence[DubLine], turns: Sequence[Turn], dialogue: WavInfo | None
) -> dict[str, Speech | None]:
    """Per speaker (cast order), their Japanese speech for the casting, or None. The speech is
    their diarized turns; for speakers the turns do not know (characters the subtitles name),
    the spans of their own lines."""
    order = speakers_by_speech(lines)
    if dialogue is None:
        return dict.fromkeys(order)
    known = {t[0] for t in turns}
    by_turns = bool(turns) and all(x.speaker in known for x in lines if x.speaker)
    own = (
        tuple(turns)
        if by_turns
        else tuple((x.speaker, x.start_ms, x.end_ms) for x in lines if x.speaker)
    )
    return {s: reference(s, own, dialogue) if s else None for s in order}


def dub_lines(
    lines: Sequence[DubLine],
    synth: SpeechSynthesizer,
    refs: Mapping[str, Speech | None],
    pins: Mapping[str, str],
    policy: FitPolicy,
    stretch: Stretch,
    rate: int,
    duration_ms: int,
    out: Path,
    hook: Hook,
) -> tuple[list[Voice], list[SpokenLine]]:
    """Cast, speak and place every line into out (mono 16-bit WAV at rate, duration_ms long)."""
    hook(0.0, f"casting {len(refs)} speakers")
    voices = synth.cast(refs, pins)
    labels = {v.speaker: v.label for v in voices}
    spoken: list[SpokenLine] = []
    total = duration_ms * rate // 1000
    with sf.SoundFile(out, "w", rate, 1, "PCM_16") as track:
        written = 0
        for k, line in enumerate(lines):
            hook(0.05 + 0.95 * k / max(1, len(lines)), f"line {k + 1}/{len(lines)}")
            if not line.text:
                continue
            audio, one = _speak(line, synth, labels.get(line.speaker, ""), policy, stretch, rate)
            start = max(line.start_ms * rate // 1000, written)
            keep = audio[: max(0, total - start)]
            if start > written:
                track.write(np.zeros(start - written, np.float32))
            track.write(keep)
            written = start + len(keep)
            late = (start - line.start_ms * rate // 1000) * 1000 // rate
            note = f"starts {late} ms late (the line before ran over)" if late else one.note
            spoken.append(replace(one, start_ms=start * 1000 // rate, note=note))
        if total > written:
            track.write(np.zeros(total - written, np.float32))
    hook(1.0, f"{len(spoken)} lines spoken")
    return voices, spoken


def _speak(
    line: DubLine,
    synth: SpeechSynthesizer,
    voice: str,
    policy: FitPolicy,
    stretch: Stretch,
    rate: int,
) -> tuple[np.ndarray, SpokenLine]:
    raw = to_rate(synth.speak(line.text, line.speaker), rate).astype(np.float32)
    peak = float(np.max(np.abs(raw))) if raw.size else 0.0
    natural = trim_silence(raw, rate, threshold=0.02 * peak) if peak > 1e-4 else raw[:0]
    natural_ms = len(natural) * 1000 // rate
    t = time_line(natural_ms, line, policy)
    audio = natural if t.factor == 1.0 else np.asarray(stretch(natural, rate, t.factor), np.float32)
    kept = audio[: t.kept_ms * rate // 1000].copy()
    if len(kept) < len(audio):
        fade = min(len(kept), rate * FADE_MS // 1000)
        kept[len(kept) - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    note = f"{t.over_ms} ms over its budget, cut" if not t.fits else ""
    one = SpokenLine(line, voice, line.start_ms, len(kept) * 1000 // rate, natural_ms, t.factor,
                     t.fits, t.over_ms, note)  # fmt: skip
    return kept, one
