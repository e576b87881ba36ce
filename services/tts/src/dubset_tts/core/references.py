"""Per speaker, a reference of their EN speech: their longest clean turns, up to ~20 s."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from dubset_tts.core.model import Speech, TtsInputError
from dubset_tts.core.wav import WavInfo, read_span

REFERENCE_MS = 20_000
MIN_TURN_MS = 300  # shorter turns are mostly onsets and breaths
MIN_REFERENCE_MS = 1_000  # less than this is no reference: the backend default voice speaks
SILENT_RMS = 1e-3

Turn = tuple[str, int, int]


def check_turns(turns: Iterable[Turn]) -> tuple[Turn, ...]:
    out = []
    for turn in turns:
        speaker, start, end = turn
        if not speaker or start < 0 or end <= start:
            raise TtsInputError(f"bad speaker turn {turn!r}: need a speaker and 0 <= start < end")
        out.append((speaker, int(start), int(end)))
    return tuple(out)


def _overlaps_other(turn: Turn, turns: tuple[Turn, ...]) -> bool:
    speaker, start, end = turn
    return any(s != speaker and a < end and start < b for s, a, b in turns)


def pick_turns(speaker: str, turns: tuple[Turn, ...]) -> list[tuple[int, int]]:
    """The speaker's turns for a reference: solo turns first, longest first, then earliest."""
    own = [t for t in turns if t[0] == speaker and t[2] - t[1] >= MIN_TURN_MS]
    own.sort(key=lambda t: (_overlaps_other(t, turns), -(t[2] - t[1]), t[1]))
    picked, total = [], 0
    for _, start, turn_end in own:
        if total >= REFERENCE_MS:
            break
        end = min(turn_end, start + REFERENCE_MS - total)
        picked.append((start, end))
        total += end - start
    return sorted(picked)


def reference(speaker: str, turns: tuple[Turn, ...], dialogue: WavInfo) -> Speech | None:
    """The speaker's reference speech from the dialogue stem, or None when there is too little."""
    spans = [
        (a, min(b, dialogue.duration_ms))
        for a, b in pick_turns(speaker, turns)
        if a < dialogue.duration_ms
    ]
    what = f"reference of {speaker}"
    parts = [read_span(dialogue, a, b, what).samples for a, b in spans if b > a]
    if not parts:
        return None
    audio = np.concatenate(parts)
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))
    if len(audio) * 1000 < MIN_REFERENCE_MS * dialogue.rate or rms < SILENT_RMS:
        return None
    return Speech(audio, dialogue.rate)
