"""The embedded model is assembled once, verified, atomically; a missing model is a clear error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dubset_asr.assemble import BASE_MODEL_SHA256, assemble, file_sha256, main
from dubset_asr.backends import load_backend, resolve_whisper
from dubset_asr.core.model import AsrInputError, ModelUnavailableError


def test_assemble_writes_the_verified_model_once(tmp_path: Path) -> None:
    dest = tmp_path / "models" / "whisper-base"
    assert main(["--dest", str(dest)]) == 0
    assert file_sha256(dest / "model.bin") == BASE_MODEL_SHA256
    assert {p.name for p in dest.iterdir()} == {
        "model.bin",
        "config.json",
        "tokenizer.json",
        "vocabulary.txt",
    }
    assert [p.name for p in dest.parent.iterdir()] == ["whisper-base"]  # no temporaries left
    mtime = os.stat(dest / "model.bin").st_mtime_ns
    assemble(dest)
    assert os.stat(dest / "model.bin").st_mtime_ns == mtime  # already there: not rewritten


def test_a_damaged_model_is_replaced(tmp_path: Path) -> None:
    dest = tmp_path / "whisper-base"
    assemble(dest)
    with (dest / "model.bin").open("r+b") as f:
        f.seek(1000)
        f.write(b"\x00" * 16)
    assemble(dest)
    assert file_sha256(dest / "model.bin") == BASE_MODEL_SHA256


def test_missing_model_dir_says_how_to_fix_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUBSET_MODEL_DIR", str(tmp_path))
    assert resolve_whisper("", None)[0] == tmp_path / "whisper-base"
    with pytest.raises(ModelUnavailableError, match=r"python -m dubset_asr\.assemble"):
        load_backend("faster-whisper")
    with pytest.raises(ModelUnavailableError, match="large-v3"):
        load_backend("faster-whisper", "large-v3")
    (tmp_path / "junk").mkdir()
    with pytest.raises(ModelUnavailableError, match="not a CTranslate2 Whisper model"):
        load_backend("faster-whisper", model_dir=tmp_path / "junk")
    with pytest.raises(AsrInputError, match="model must be a name"):
        load_backend("faster-whisper", "../etc")
    with pytest.raises(AsrInputError, match="unknown ASR backend"):
        load_backend("whisper.cpp")


def test_a_model_with_the_wrong_checksum_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUBSET_MODEL_DIR", str(tmp_path))
    dest = tmp_path / "whisper-base"
    dest.mkdir()
    for name in ("model.bin", "config.json", "tokenizer.json"):
        (dest / name).write_bytes(b"{}")
    with pytest.raises(ModelUnavailableError, match="expected " + BASE_MODEL_SHA256):
        load_backend("faster-whisper")
