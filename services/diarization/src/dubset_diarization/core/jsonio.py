"""turns.json and RTTM bytes of a diarization (deterministic)."""

from __future__ import annotations

import json
import re

from dubset_diarization.core.model import Diarization


def to_json_obj(d: Diarization, language: str | None) -> dict[str, object]:
    return {
        "language": language,
        "turns": [
            {"start_ms": t.start_ms, "end_ms": t.end_ms, "speaker": t.speaker} for t in d.turns
        ],
        "speakers": d.speakers,
    }


def dumps(d: Diarization, language: str | None) -> bytes:
    """One turn per line, so a diff of two runs reads well."""
    turns = ",\n  ".join(
        json.dumps({"start_ms": t.start_ms, "end_ms": t.end_ms, "speaker": t.speaker})
        for t in d.turns
    )
    head = f'{{"language": {json.dumps(language)}, "speakers": {json.dumps(d.speakers)},'
    body = f'\n "turns": [\n  {turns}\n ]}}\n' if turns else ' "turns": []}\n'
    return (head + body).encode()


def rttm(d: Diarization, uri: str) -> bytes:
    """NIST RTTM: one SPEAKER line per turn, seconds with millisecond precision."""
    name = re.sub(r"\s+", "_", uri) or "audio"
    lines = [
        f"SPEAKER {name} 1 {t.start_ms / 1000:.3f} {(t.end_ms - t.start_ms) / 1000:.3f} "
        f"<NA> <NA> {t.speaker} <NA> <NA>\n"
        for t in d.turns
    ]
    return "".join(lines).encode()
