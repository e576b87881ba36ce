"""The tts stage's lines document as if it had spoken the human dub on the Japanese lines:
the render tests' input, shared by the unit and integration tests."""

from __future__ import annotations

import json
from pathlib import Path


def human_dub_lines(episode: Path) -> bytes:
    """dubset-dub-lines/1 of the episode's truth: every EN line on its JA line's span."""
    truth = json.loads((episode / "truth.json").read_text())
    lines = [
        {"index": i, "speaker": x["speaker"], "voice": "piper:joe", "en_text": x["en"]["text"],
         "ja_start_ms": x["ja"]["start_ms"], "ja_end_ms": x["ja"]["end_ms"],
         "start_ms": x["ja"]["start_ms"], "end_ms": x["ja"]["end_ms"], "stretch": 1.0,
         "fits": True, "over_ms": 0}
        for i, x in enumerate(sorted(truth["lines"], key=lambda x: x["ja"]["start_ms"]))
    ]  # fmt: skip
    return json.dumps({"format": "dubset-dub-lines/1", "lines": lines}).encode()
