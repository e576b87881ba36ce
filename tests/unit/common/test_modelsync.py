"""Model directories published to a store and synced into a folder, verified by SHA256SUMS."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from dubset_common.errors import InvalidInputError
from dubset_common.modelsync import SUMS, Entry, parse_sums, publish, render_sums, sync
from dubset_common.objstore import LocalStore


def model(tmp: Path) -> Path:
    (tmp / "m/sub").mkdir(parents=True)
    (tmp / "m/model.bin").write_bytes(b"weights" * 1000)
    (tmp / "m/config.json").write_text('{"a": 1}')
    (tmp / "m/sub/vocab.txt").write_text("x\ny\n")
    return tmp / "m"


def quiet(_: str) -> None:
    pass


def test_publish_then_sync_gives_the_same_files(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    entries = publish(store, model(tmp_path), "models/asr/whisper-x", quiet)
    assert [e.path for e in entries] == ["config.json", "model.bin", "sub/vocab.txt"]
    sums = store.get_bytes(f"models/asr/whisper-x/{SUMS}").decode()
    assert sums == render_sums(entries)
    assert hashlib.sha256(b"weights" * 1000).hexdigest() in sums
    lines: list[str] = []
    sync(store, "models/asr/whisper-x", tmp_path / "dest", lines.append)
    for e in entries:
        assert (tmp_path / "dest" / e.path).read_bytes() == (tmp_path / "m" / e.path).read_bytes()
    assert all("fetched" in line for line in lines)
    lines.clear()
    sync(store, "models/asr/whisper-x", tmp_path / "dest", lines.append)  # a restarted pod
    assert all("in place" in line for line in lines)


def test_a_damaged_local_file_is_fetched_again(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    publish(store, model(tmp_path), "p", quiet)
    sync(store, "p", tmp_path / "dest", quiet)
    (tmp_path / "dest/model.bin").write_bytes(b"truncated")
    sync(store, "p", tmp_path / "dest", quiet)
    assert (tmp_path / "dest/model.bin").read_bytes() == b"weights" * 1000


def test_an_object_that_does_not_match_its_sum_is_refused(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    publish(store, model(tmp_path), "p", quiet)
    store.put_bytes("p/model.bin", b"tampered")
    with pytest.raises(InvalidInputError, match=r"p/model\.bin has sha256"):
        sync(store, "p", tmp_path / "dest", quiet)
    assert not (tmp_path / "dest/model.bin").exists()
    assert [p.name for p in (tmp_path / "dest").iterdir()] == ["config.json"]


def test_unlisted_objects_are_not_fetched(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    publish(store, model(tmp_path), "p", quiet)
    store.put_bytes("p/extra.bin", b"not in the listing")
    sync(store, "p", tmp_path / "dest", quiet)
    assert not (tmp_path / "dest/extra.bin").exists()


def test_a_prefix_without_a_listing_is_not_found(tmp_path: Path) -> None:
    from dubset_common.errors import NotFoundError

    with pytest.raises(NotFoundError):
        sync(LocalStore(tmp_path / "store"), "nothing/here", tmp_path / "dest", quiet)


SHA = "a" * 64


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"{SHA}  ../etc/passwd\n", "not a file path inside"),
        (f"{SHA}  /etc/passwd\n", "not a file path inside"),
        (f"{SHA}  a/../../b\n", "not a file path inside"),
        (f"{SHA}  {SUMS}\n", "not a file path inside"),
        (f"{SHA}  a//b\n", "not a file path inside"),
        (f"{SHA} one-space\n", "is not '<sha256>  <path>'"),
        ("nothex  a\n", "is not '<sha256>  <path>'"),
        (f"{SHA}  a\n{SHA}  a\n", "twice"),
        ("\n\n", "lists no files"),
    ],
)
def test_hostile_or_malformed_listings_are_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_sums(text)


def test_render_and_parse_round_trip() -> None:
    entries = [Entry("b" * 64, "z.bin"), Entry(SHA, "dir/a.txt")]
    assert parse_sums(render_sums(entries)) == sorted(entries, key=lambda e: e.path)
