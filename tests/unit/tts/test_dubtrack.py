"""Dubbing lines: who a line belongs to, and whose Japanese speech each voice is cast from."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf

from dubset_tts.core.wav import wav_info
from dubset_tts.dubtrack import parse_lines, references


def _doc(*lines: dict[str, object]) -> bytes:
    return json.dumps({"format": "dubset-translation/1", "lines": list(lines)}).encode()


def _line(start: int, end: int, speaker: str, **extra: object) -> dict[str, object]:
    return {"start_ms": start, "end_ms": end, "budget_ms": end - start, "speaker": speaker,
            "en_text": "Hello.", **extra}  # fmt: skip


def test_a_character_the_subtitles_name_owns_the_line() -> None:
    lines = parse_lines(_doc(_line(0, 4000, "S0", character="Aoi"), _line(5000, 9000, "S0")))
    assert [x.speaker for x in lines] == ["Aoi", "S0"]


def test_named_characters_are_cast_from_their_own_lines(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    path = tmp_path / "ja.wav"
    sf.write(path, 0.1 * rng.standard_normal(16000 * 12).astype(np.float32), 16000)
    dialogue = wav_info(path, "JA dialogue")
    # Diarization knows S0 only; the subtitles name two characters over its turn.
    turns = [("S0", 0, 12000)]
    named = parse_lines(_doc(_line(0, 5000, "S0", character="Aoi"),
                             _line(6000, 11000, "S0", character="Kaito")))  # fmt: skip
    refs = references(named, turns, dialogue)
    assert set(refs) == {"Aoi", "Kaito"} and all(r is not None for r in refs.values())
    # Unnamed lines keep the diarized turns.
    plain = parse_lines(_doc(_line(0, 5000, "S0"), _line(6000, 11000, "S0")))
    assert set(references(plain, turns, dialogue)) == {"S0"}
