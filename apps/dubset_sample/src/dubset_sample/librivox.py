"""Real human speech with transcripts: LibriVox utterances from Debian pocketsphinx-testdata."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import soundfile as sf

from dubset_sample.mix import place, to_pcm16

SOURCE_DIR = Path("/usr/share/pocketsphinx/test/data/librivox")
GAP_MS = 800
_LINE = re.compile(r"^<s>\s*(?P<text>.*?)\s*</s>\s*\((?P<id>[A-Za-z0-9_.-]+)\)\s*$")


class FixtureMissingError(FileNotFoundError):
    """pocketsphinx-testdata is not installed."""


def read_transcripts(source: Path) -> list[tuple[str, str]]:
    """(utterance id, text) from a CMU Sphinx `transcription` file."""
    path = source / "transcription"
    if not path.is_file():
        raise FixtureMissingError(
            f"{path} not found: install Debian pocketsphinx-testdata (`make setup`)"
        )
    out = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip():
            continue
        match = _LINE.match(raw.strip())
        if not match:
            raise ValueError(f"{path}:{number}: not a `<s> text </s> (id)` line")
        out.append((match["id"], match["text"]))
    return out


def build_librivox(out: Path, source: Path = SOURCE_DIR) -> Path:
    """One English-only 'episode' of the utterances in a row, with a truth.json to score ASR."""
    utterances = read_transcripts(source)
    audio = []
    rate = 0
    for uid, _ in utterances:
        data, rate_i = sf.read(source / f"{uid}.wav", dtype="float32", always_2d=True)
        if rate and rate_i != rate:
            raise ValueError(f"{uid}: sample rate {rate_i} differs from {rate}")
        rate = rate_i
        audio.append(np.ascontiguousarray(data[:, 0]))
    lines, placed, at = [], [], GAP_MS
    for index, ((uid, text), clip) in enumerate(zip(utterances, audio, strict=True)):
        length = round(len(clip) * 1000 / rate)
        placed.append((at, clip))
        lines.append(
            {
                "index": index,
                "line_id": uid,
                "speaker": "S0",
                "ja": None,
                "en": {"text": text, "start_ms": at, "end_ms": at + length},
            }
        )
        at += length + GAP_MS
    out.mkdir(parents=True, exist_ok=True)
    track = place(placed, at, rate)
    sf.write(out / "en_dialogue.wav", to_pcm16(track), rate, subtype="PCM_16")
    truth = {
        "format": "dubset-truth/1",
        "generator": {"source": "pocketsphinx-testdata librivox", "version": "1"},
        "episode_id": "librivox-sense-and-sensibility",
        "show": "LibriVox: Sense and Sensibility",
        "episode_number": 1,
        "sample_rate": rate,
        "ja_offset_ms": 0,
        "duration_ms": {"en": at},
        "characters": [{"id": "S0", "name": "LibriVox reader", "voices": {"en": "human"}}],
        "lines": lines,
        "pairs": [],
        "shots": {},
        "stems": {"en": {"dialogue": "en_dialogue.wav"}},
        "videos": {},
    }
    path = out / "truth.json"
    path.write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path
