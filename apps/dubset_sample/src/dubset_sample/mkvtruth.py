"""episode.truth.json: the truth of the dual-audio MKV, whose English track is conformed to the
JA video's timeline (no card, no speed-up), so its EN times are JA-timeline times."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import soundfile as sf

from dubset_sample import mix
from dubset_sample.shapes import on_ja_timeline

TRUTH = "episode.truth.json"
STEMS = {"dialogue": "episode_en_dialogue.wav", "backing": "episode_en_backing.wav"}


def mkv_truth(
    build: Callable[[Callable[[int], int]], dict[str, object]],
    stems: Mapping[str, mix.Audio],
    ja_offset_ms: int,
    out: Path,
    rate: int,
) -> dict[str, object]:
    """The MKV's truth: `build(en_time)` gives the truth with plain EN times moved by en_time;
    the EN stems are written on the JA timeline next to it."""
    ja_ms = len(stems["ja_dialogue"]) * 1000 // rate
    for name, file in STEMS.items():
        audio = on_ja_timeline(stems[f"en_{name}"], ja_offset_ms, ja_ms, rate)
        sf.write(out / file, mix.to_pcm16(audio), rate, subtype="PCM_16")
    value = build(lambda ms: ms + ja_offset_ms)
    start = max(0, ja_offset_ms)
    program = ja_ms - start
    value["ja_offset_ms"] = 0
    value["duration_ms"] = {"ja": ja_ms, "en": ja_ms}
    value["time_map"] = {
        "pieces": [
            {"ja_start_ms": start, "ja_end_ms": ja_ms, "en_start_ms": start, "en_end_ms": ja_ms}
        ],
        "ja_only": [[0, start]] if start else [],
        "en_only": [[0, start]] if start else [],
    }
    stems_value = value.get("stems")
    if isinstance(stems_value, dict):
        value["stems"] = {**stems_value, "en": dict(STEMS)}
    value["videos"] = {"ja": "episode.mkv", "en": "episode.mkv"}
    value["shots"] = {"ja": value["shots"]["ja"], "en": value["shots"]["ja"]}  # type: ignore[index]
    assert program > 0
    return value
