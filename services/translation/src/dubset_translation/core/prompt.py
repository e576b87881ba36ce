"""What an OpenAI-compatible server is asked, and how its answers are read (pure).

A scene's lines go in one chat request, each with its speaker and its time budget in seconds and
syllables, the scene's earlier lines as context; the reply is JSON, one English line per id.
The completions API (a base model without a chat template) is asked line by line, few-shot.
A line whose English will not fit its budget is asked again for a shorter version.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from dubset_translation.core.model import JaLine

SCENE_GAP_MS = 4000  # a longer silence starts a new scene
SCENE_LINES = 8

SYSTEM = (
    "You translate Japanese anime dialogue into natural spoken English for a dub. Each line "
    "has a time budget: its English must be speakable within it, so keep to the syllable "
    "limit, shortening freely but keeping the meaning and the speaker's tone. Reply with JSON "
    'only: {"lines": [{"id": <id>, "en": "<English>"}, ...]}, one entry per id asked.'
)
FEW_SHOT = (
    "Translate Japanese anime dialogue into short natural English.\n"
    "Japanese: ただいま。\nEnglish: I'm home.\n"
    "Japanese: 明日のテスト、自信ある？\nEnglish: Ready for tomorrow's test?\n"
)


def scenes(lines: Sequence[JaLine]) -> list[list[int]]:
    """Line indices in scenes: split at long silences and every SCENE_LINES lines."""
    out: list[list[int]] = []
    for k, line in enumerate(lines):
        if (
            not out
            or len(out[-1]) >= SCENE_LINES
            or line.start_ms - lines[out[-1][-1]].end_ms > SCENE_GAP_MS
        ):
            out.append([])
        out[-1].append(k)
    return out


def scene_messages(
    lines: Sequence[JaLine], ids: Sequence[int], limits: Sequence[int], budgets: Sequence[int]
) -> list[dict[str, str]]:
    """The chat messages asking for the lines `ids` (limits: syllables per line)."""
    rows = []
    for k in ids:
        line = lines[k]
        who = f" ({line.speaker})" if line.speaker else ""
        rows.append(
            f"id {k}{who}, {budgets[k] / 1000:.1f} s, at most {limits[k]} syllables: {line.text}"
        )
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "Lines:\n" + "\n".join(rows)},
    ]


def shorten_messages(japanese: str, english: str, limit: int) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": "You shorten English dub lines. Reply with the line only."},
        {
            "role": "user",
            "content": f"Japanese: {japanese}\nEnglish: {english}\n"
            f"Say it in at most {limit} syllables, keeping the meaning.",
        },
    ]


def completion_prompt(japanese: str) -> str:
    return f"{FEW_SHOT}Japanese: {japanese}\nEnglish:"


def shorten_prompt(english: str, limit: int) -> str:
    return (
        "Shorten each English line, keeping the meaning.\n"
        "Long: I really don't think that we should be going there right now.\n"
        "Short (at most 6 syllables): We shouldn't go now.\n"
        f"Long: {english}\nShort (at most {limit} syllables):"
    )


def first_line(text: str) -> str:
    """A completion's answer: its first non-empty line, quotes and labels stripped."""
    for raw in text.splitlines():
        row = re.sub(r"^(English|Short[^:]*):\s*", "", raw.strip()).strip().strip('"').strip()
        if row:
            return row
    return ""


def parse_scene_reply(content: str, ids: Sequence[int]) -> dict[int, str]:
    """{id: English} from a chat reply (JSON, perhaps in a code fence); ids not answered are
    left out. ValueError when the reply holds no such JSON."""
    match = re.search(r"\{.*\}", content, re.DOTALL)
    if match is None:
        raise ValueError("the reply holds no JSON object")
    try:
        value = json.loads(match.group(0))
    except json.JSONDecodeError as exc:
        raise ValueError(f"the reply's JSON does not parse: {exc}") from None
    entries = value.get("lines") if isinstance(value, dict) else None
    if not isinstance(entries, list):
        raise ValueError('the reply\'s JSON has no "lines" list')
    wanted, out = set(ids), {}
    for entry in entries:
        if (
            isinstance(entry, dict)
            and entry.get("id") in wanted
            and isinstance(entry.get("en"), str)
        ):
            out[int(entry["id"])] = entry["en"].strip()
    return out
