"""The faces stage's document inputs refuse what they cannot read, naming the place."""

from __future__ import annotations

import json

import pytest
from dubset_faces.core.doc import parse_clips, parse_translation, parse_turns
from dubset_faces.core.model import FacesInputError


@pytest.mark.parametrize(
    ("parse", "data", "needle"),
    [
        (parse_clips, b"{not json", "not valid JSON"),
        (parse_clips, b'{"clips": 3}', "no clips list"),
        (parse_clips, json.dumps({"clips": [{"ja_start_ms": 5, "ja_end_ms": 1}]}).encode(),
         "is not a span"),
        (parse_clips, json.dumps({"clips": [{"ja_start_ms": "0", "ja_end_ms": 1}]}).encode(),
         "integer"),
        (parse_translation, b"[]", "must be a JSON object"),
        (parse_translation, json.dumps({"lines": [7]}).encode(), r"lines\[0\] must be"),
        (parse_turns, json.dumps({"turns": [{"start_ms": 0, "end_ms": 9}]}).encode(),
         "speaker"),
        (parse_turns,
         json.dumps({"turns": [{"start_ms": -5, "end_ms": 9, "speaker": "A"}]}).encode(),
         "is not a span"),
    ],
)  # fmt: skip
def test_bad_documents_are_refused(parse: object, data: bytes, needle: str) -> None:
    with pytest.raises(FacesInputError, match=needle):
        parse(data)  # type: ignore[operator]


def test_good_documents_give_spans_in_order() -> None:
    clips = parse_clips(json.dumps({"clips": [{"ja_start_ms": 0, "ja_end_ms": 900}]}).encode())
    assert [(c.index, c.start_ms, c.end_ms) for c in clips] == [(0, 0, 900)]
    lines = {"lines": [{"start_ms": 100, "end_ms": 200}, {"start_ms": 300, "end_ms": 450}]}
    assert [c.end_ms for c in parse_translation(json.dumps(lines).encode())] == [200, 450]
