"""The report carries where a line timed to the flaps sits against the moving mouth."""

from __future__ import annotations

import json

import pytest

from dubset_render.core.model import Levels, RenderInputError
from dubset_render.core.spoken import parse_spoken, report

LINE = {"index": 0, "ja_start_ms": 1000, "ja_end_ms": 2000, "start_ms": 1210, "end_ms": 1900,
        "over_ms": 0, "en_text": "Hi.", "speaker": "A", "voice": "piper:joe"}  # fmt: skip


def test_flaps_go_into_the_report_line_by_line() -> None:
    data = json.dumps({"lines": [LINE | {"flaps": [1200, 1950]}, LINE | {"index": 1}]}).encode()
    lines = parse_spoken(data)
    levels = Levels(-20.0, -22.0, 2.0, -20.0, -1.5, "separated")
    doc = report(lines, levels, "mkv")
    first, second = doc["lines"]  # type: ignore[misc]
    assert first["flaps"] == [1200, 1950] and first["flap_start_offset_ms"] == 10
    assert "flaps" not in second


def test_malformed_flaps_are_refused() -> None:
    for bad in ([1200], [1200, "x"], "1200-1950", [-1, 5]):
        with pytest.raises(RenderInputError, match="flaps"):
            parse_spoken(json.dumps({"lines": [LINE | {"flaps": bad}]}).encode())
