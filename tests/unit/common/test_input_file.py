"""Inputs streamed to files: the one fetch every media stage uses (size limit, sha256)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dubset.v1 import common_pb2
from dubset_common.errors import IntegrityError, InvalidInputError
from dubset_common.keys import sha256_hex
from dubset_common.objstore import LocalStore
from dubset_common.runner import StageContext, fetch_to_file
from dubset_common.testing.stages import NoParams


def _context(tmp_path: Path, data: bytes, sha: str, limit: int = 1 << 20) -> StageContext[NoParams]:
    store = LocalStore(tmp_path / "store")
    info = store.put_bytes("inputs/a.wav", data, "audio/wav")
    request = common_pb2.StageRequest(stage="x")
    request.inputs["audio"].CopyFrom(common_pb2.MediaRef(uri=info.uri, sha256=sha))
    work = tmp_path / "work"
    work.mkdir()
    counted: list[int] = []
    return StageContext(request, NoParams(), store, work, lambda f, m: None, limit, counted.append)


def test_input_file_copies_and_counts(tmp_path: Path) -> None:
    data = b"RIFF" + bytes(1000)
    ctx = _context(tmp_path, data, sha256_hex(data))
    path = ctx.input_file("audio", "audio.wav")
    assert path == ctx.workdir / "audio.wav" and path.read_bytes() == data


def test_wrong_sha256_is_refused_and_leaves_no_file(tmp_path: Path) -> None:
    ctx = _context(tmp_path, b"abc", sha256_hex(b"abd"))
    with pytest.raises(IntegrityError, match="does not match its sha256"):
        ctx.input_file("audio")
    assert not (ctx.workdir / "input-audio").exists()


def test_oversized_and_absent_inputs_are_refused_before_copying(tmp_path: Path) -> None:
    ctx = _context(tmp_path, bytes(100), sha256_hex(bytes(100)), limit=50)
    with pytest.raises(InvalidInputError, match="over the limit of 50"):
        ctx.input_file("audio")
    assert not any(ctx.workdir.iterdir())
    with pytest.raises(InvalidInputError, match="not given"):
        ctx.input_file("video")
    with pytest.raises(InvalidInputError, match="no uri"):
        fetch_to_file(ctx.store, common_pb2.MediaRef(), tmp_path / "x", 10, "ref")
