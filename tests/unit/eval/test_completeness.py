"""Manifests against the files on disk: missing, corrupt, unlisted, invalid."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from dubset_eval.completeness import (
    Listed,
    check,
    parse_dataset_manifest,
    parse_stage_manifest,
)
from dubset_eval.fields import FieldError


def _listed(root: Path, rel: str, data: bytes) -> Listed:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return Listed(rel, hashlib.sha256(data).hexdigest(), len(data))


def test_check(tmp_path: Path) -> None:
    good = _listed(tmp_path, "a/good.mp3", b"good")
    flipped = _listed(tmp_path, "a/flipped.mp3", b"abcd")
    (tmp_path / "a/flipped.mp3").write_bytes(b"abce")  # same size, other bytes
    grown = _listed(tmp_path, "a/grown.mp3", b"abcd")
    (tmp_path / "a/grown.mp3").write_bytes(b"abcde")
    gone = _listed(tmp_path, "a/gone.mp3", b"x")
    (tmp_path / "a/gone.mp3").unlink()
    (tmp_path / "a/extra.mp4").write_bytes(b"on disk, not listed")
    escape = Listed("../outside", "0" * 64, 1)
    result = check(
        tmp_path,
        [good, flipped, grown, gone, escape],
        referenced={"a/good.mp3", "a/extra.mp4", "a/never.mp4", "a/../../x.mp3"},
    )
    assert result.listed == 5
    assert result.missing == ("a/gone.mp3", "a/never.mp4")
    assert result.corrupt == ("a/flipped.mp3", "a/grown.mp3")
    assert result.unlisted == ("a/extra.mp4", "a/never.mp4")
    assert result.invalid == ("../outside", "a/../../x.mp3")
    assert result.defects == 8


def test_all_present_has_no_defects(tmp_path: Path) -> None:
    entry = _listed(tmp_path, "x.bin", b"\x00" * 100)
    assert check(tmp_path, [entry], {"x.bin"}).defects == 0


def test_parse_dataset_manifest() -> None:
    digest = "ab" * 32
    raw = (
        json.dumps({"path": "a.mp3", "sha256": digest, "bytes": 3, "codec": "mp3"})
        + "\n\n"
        + json.dumps({"path": "b.mp4", "sha256": digest.upper()})
        + "\n"
    ).encode()
    assert parse_dataset_manifest(raw) == (
        Listed("a.mp3", digest, 3),
        Listed("b.mp4", digest, None),
    )
    with pytest.raises(FieldError, match="line 1"):
        parse_dataset_manifest(b'{"path": "a", "sha256": "nothex"}\n')
    with pytest.raises(FieldError, match="line 2: not valid JSON"):
        parse_dataset_manifest(raw.splitlines()[0] + b"\n{\n")


def test_parse_stage_manifest_finds_outputs_beside_it() -> None:
    digest = "cd" * 32
    value = {
        "outputs": {
            "clips": {"key": "stages/alignment/k/clips.json", "sha256": digest, "size_bytes": 9}
        }
    }
    assert parse_stage_manifest(value) == (Listed("clips.json", digest, 9),)
    with pytest.raises(FieldError, match="outputs"):
        parse_stage_manifest({"stage": "x"})
