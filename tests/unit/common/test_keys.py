"""Object keys are safe by construction; content keys are stable addresses of stage outputs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dubset_common.errors import InvalidInputError
from dubset_common.keys import (
    MAX_KEY_LEN,
    canonical_json,
    check_id,
    check_key,
    content_key,
    join_key,
    sha256_hex,
)

GOOD_KEYS = [
    "a",
    "stages/asr/0123abcd/segments.json",
    "stages/asr/0123abcd/_manifest.json",
    "datasets/anim400k-v1/clips/ep_01/clip-0001.mp3",
    "a/b.c/d=e/f+g/h_i-j",
    "x..y",  # dots inside a segment are harmless
    "A" * 255,
]

BAD_KEYS = [
    "",
    "..",
    "../etc/passwd",
    "a/../../etc/passwd",
    "a/..",
    ".",
    "./a",
    "/abs/path",
    "a//b",
    "a/",
    "a\\b",
    "..\\..\\windows",
    "a/b\x00c",
    "a\nb",
    "a\n",  # a trailing newline must not slip past the pattern's end anchor
    "a/b\n",
    "a\r",
    "a\tb",
    "a b",
    ".hidden",
    "-rf",
    "a/.tmp-123",
    "caf\u00e9",  # non-ASCII letters
    "\uff0e\uff0e/x",  # fullwidth dots
    "a\u2215b",  # division slash looks like '/'
    "a\u200bb",  # zero-width space
    "\u0430bc",  # Cyrillic 'a'
    "a%2F..%2Fb",
    "a?x=1",
    "a#frag",
    "s3://bucket/key",
    "A" * 256,  # one segment over 255
]


@pytest.mark.parametrize("key", GOOD_KEYS)
def test_normal_keys_are_accepted_unchanged(key: str) -> None:
    assert check_key(key) == key


@pytest.mark.parametrize("key", BAD_KEYS)
def test_hostile_keys_are_rejected(key: str) -> None:
    with pytest.raises(InvalidInputError):
        check_key(key)


def test_key_length_limit() -> None:
    head = "/".join(["a" * 254] * 4) + "/"
    longest = head + "b" * (MAX_KEY_LEN - len(head))
    assert len(longest) == MAX_KEY_LEN
    assert check_key(longest) == longest
    with pytest.raises(InvalidInputError, match="too long"):
        check_key(longest + "c")


def test_non_string_key_is_rejected() -> None:
    with pytest.raises(InvalidInputError):
        check_key(None)  # type: ignore[arg-type]


def test_error_message_is_bounded_for_huge_keys() -> None:
    with pytest.raises(InvalidInputError) as info:
        check_key("x" * 100_000)
    assert len(str(info.value)) < 300


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_accepted_key_is_a_plain_relative_path(key: str) -> None:
    try:
        check_key(key)
    except InvalidInputError:
        return
    parts = key.split("/")
    assert key.isascii() and key.isprintable()
    assert "\\" not in key and not key.startswith("/")
    assert all(p and p not in (".", "..") and not p.startswith(".") for p in parts)


@pytest.mark.parametrize("value", ["job-1", "ep_01.ja", "A", "0" * 128, "f47ac10b-58cc-4372"])
def test_check_id_accepts_ids(value: str) -> None:
    assert check_id(value) == value


@pytest.mark.parametrize(
    "value",
    ["", "../../x", "a b", "a/b", ".x", "-x", "job\n", "job\x00", "0" * 129, "\u00e9p", "a\\b"],
)
def test_check_id_rejects_hostile_ids(value: str) -> None:
    with pytest.raises(InvalidInputError, match="episode id"):
        check_id(value, "episode id")


def test_join_key_strips_slashes_skips_empty_parts_and_validates() -> None:
    assert join_key("stages", "asr/", "/k", "", "x.json") == "stages/asr/k/x.json"
    with pytest.raises(InvalidInputError):
        join_key("stages", "..", "x")


def test_canonical_json_is_order_independent_and_compact() -> None:
    a = canonical_json({"b": 1, "a": {"y": [1, 2], "x": "\u00e9"}})
    b = canonical_json({"a": {"x": "\u00e9", "y": [1, 2]}, "b": 1})
    assert a == b == '{"a":{"x":"\u00e9","y":[1,2]},"b":1}'.encode()


def test_sha256_hex() -> None:
    assert sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


D1, D2 = "a" * 64, "b" * 64


def test_content_key_is_a_stable_sha256() -> None:
    key = content_key("asr", "1", {"audio": D1}, {"lang": "ja"})
    assert len(key) == 64 and all(c in "0123456789abcdef" for c in key)
    # Pinned: a change here silently orphans every stored output.
    assert key == sha256_hex(
        b'{"inputs":{"audio":"' + D1.encode() + b'"},"params":{"lang":"ja"},'
        b'"stage":"asr","version":"1"}'
    )


def test_content_key_ignores_dict_order() -> None:
    k1 = content_key("alignment", "1", {"en": D1, "ja": D2}, {"gap": 1, "offset": 2})
    k2 = content_key("alignment", "1", {"ja": D2, "en": D1}, {"offset": 2, "gap": 1})
    assert k1 == k2
    assert content_key("x", "1", [D1, D2], {}) == content_key("x", "1", [D2, D1], {})


@pytest.mark.parametrize(
    "changed",
    [
        ("asr2", "1", {"audio": D1}, {"lang": "ja"}),
        ("asr", "2", {"audio": D1}, {"lang": "ja"}),
        ("asr", "1", {"audio": D2}, {"lang": "ja"}),
        ("asr", "1", {"speech": D1}, {"lang": "ja"}),
        ("asr", "1", {"audio": D1}, {"lang": "en"}),
        ("asr", "1", {"audio": D1}, {"lang": "ja", "beam": 5}),
        ("asr", "1", {"audio": D1}, {}),
    ],
)
def test_content_key_changes_with_stage_version_inputs_and_params(
    changed: tuple[str, str, dict[str, str], dict[str, object]],
) -> None:
    assert content_key(*changed) != content_key("asr", "1", {"audio": D1}, {"lang": "ja"})


def test_content_key_is_usable_as_a_key_segment() -> None:
    assert check_key(join_key("stages", "asr", content_key("asr", "1", [D1], None)))
