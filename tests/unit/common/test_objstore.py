"""The local-directory object store: atomic, checksummed, and confined to its root."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from dubset_common.errors import InvalidInputError, NotFoundError, TransientError
from dubset_common.keys import file_sha256
from dubset_common.objstore import LocalStore, check_sizes, file_mode, put_if_changed, umask


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def store(root: Path) -> LocalStore:
    return LocalStore(root)


def files_under(path: Path) -> set[Path]:
    return {p for p in path.rglob("*") if p.is_file()}


def test_put_and_get_bytes(store: LocalStore, root: Path) -> None:
    data = b"\x00\x01 dub \xff" * 1000
    info = store.put_bytes("stages/asr/k1/segments.json", data, "application/json")
    assert info.key == "stages/asr/k1/segments.json"
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert info.size_bytes == len(data)
    assert info.content_type == "application/json"
    assert store.get_bytes(info.key) == data
    assert (root / "stages/asr/k1/segments.json").read_bytes() == data


def test_put_overwrites_whole_object(store: LocalStore) -> None:
    store.put_bytes("a/b", b"long original content")
    store.put_bytes("a/b", b"short")
    assert store.get_bytes("a/b") == b"short"


def test_put_and_get_file(store: LocalStore, tmp_path: Path) -> None:
    src = tmp_path / "clip.wav"
    data = os.urandom(3 * (1 << 20) + 17)  # several copy chunks
    src.write_bytes(data)
    info = store.put_file("media/ep1/clip.wav", src, "audio/wav")
    assert info.sha256 == hashlib.sha256(data).hexdigest() == file_sha256(src)
    assert info.size_bytes == len(data) and info.content_type == "audio/wav"
    dst = tmp_path / "copy.wav"
    store.get_file("media/ep1/clip.wav", dst)
    assert dst.read_bytes() == data


def test_empty_object(store: LocalStore) -> None:
    info = store.put_bytes("empty", b"")
    assert info.size_bytes == 0 and store.get_bytes("empty") == b"" and store.size("empty") == 0


def test_exists_size_delete(store: LocalStore) -> None:
    assert not store.exists("x/y")
    store.put_bytes("x/y", b"12345")
    assert store.exists("x/y") and store.size("x/y") == 5
    assert not store.exists("x")  # a "directory" is not an object
    store.delete("x/y")
    assert not store.exists("x/y")
    store.delete("x/y")  # deleting a missing object is not an error
    with pytest.raises(NotFoundError):
        store.get_bytes("x/y")


@pytest.mark.parametrize("op", ["get_bytes", "size", "get_file"])
def test_missing_object_is_not_found(store: LocalStore, tmp_path: Path, op: str) -> None:
    with pytest.raises(NotFoundError, match="nope/missing"):
        if op == "get_file":
            store.get_file("nope/missing", tmp_path / "out")
        else:
            getattr(store, op)("nope/missing")


def test_list_is_sorted_recursive_and_scoped(store: LocalStore) -> None:
    for key in ["p/b", "p/a", "p/sub/c", "pp/x", "q/z"]:
        store.put_bytes(key, key.encode())
    assert store.list("p") == ["p/a", "p/b", "p/sub/c"]
    assert store.list("p/") == ["p/a", "p/b", "p/sub/c"]
    assert store.list("p/sub") == ["p/sub/c"]
    assert store.list("") == ["p/a", "p/b", "p/sub/c", "pp/x", "q/z"]
    assert store.list("nothing/here") == []


def test_list_excludes_temp_files_of_unfinished_writes(store: LocalStore, root: Path) -> None:
    store.put_bytes("p/done", b"1")
    (root / "p" / ".tmp-abc123").write_bytes(b"half written")
    assert store.list("p") == ["p/done"]


def test_failed_write_leaves_no_temp_file_and_keeps_old_object(
    store: LocalStore, root: Path, tmp_path: Path
) -> None:
    store.put_bytes("p/obj", b"old")
    with pytest.raises(FileNotFoundError):
        store.put_file("p/obj", tmp_path / "does-not-exist")
    with pytest.raises(TypeError):
        store.put_bytes("p/obj", "not bytes")  # type: ignore[arg-type]
    assert store.get_bytes("p/obj") == b"old"
    assert [p.name for p in (root / "p").iterdir()] == ["obj"]


def test_max_bytes_is_enforced(store: LocalStore) -> None:
    store.put_bytes("big", b"x" * 101)
    assert store.get_bytes("big", max_bytes=101) == b"x" * 101
    with pytest.raises(InvalidInputError, match="101 bytes, over the limit of 100"):
        store.get_bytes("big", max_bytes=100)


def test_uri_key_of_round_trip(store: LocalStore, root: Path) -> None:
    for key in ["a", "stages/asr/k/_manifest.json", "x/a=b+c_d-e.f"]:
        uri = store.uri(key)
        assert uri.startswith("file:///")
        assert store.key_of(uri) == key
    assert Path(store.uri("a")[len("file://") :]) == root.resolve() / "a"


def test_uri_round_trip_with_spaces_and_unicode_in_root(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "my store \u00e9t\u00e9 100%")
    uri = store.uri("a/b.json")
    assert " " not in uri
    assert store.key_of(uri) == "a/b.json"
    store.put_bytes("a/b.json", b"1")
    assert store.get_bytes(store.key_of(uri)) == b"1"


def test_key_of_accepts_localhost_authority(store: LocalStore, root: Path) -> None:
    assert store.key_of(f"file://localhost{root.resolve()}/a/b") == "a/b"


@pytest.mark.parametrize(
    "uri",
    [
        "s3://dubset/a/b",
        "http://example.com/a",
        "a/b",
        "file://evil.example.com{root}/a",
        "file:///etc/passwd",
        "file://{root}/../outside",
        "file://{root}/a/../../outside",
        "file://{root}/a/%2E%2E/%2E%2E/outside",
        "file://{root}/a%2F..%2F..%2Foutside",
        "file://{root}2/sibling",
        "file://{root}",
        "file://{root}/",
        "file://{root}/a/b%00c",
        "file://{root}/.hidden",
    ],
)
def test_key_of_rejects_foreign_or_escaping_uris(store: LocalStore, root: Path, uri: str) -> None:
    with pytest.raises(InvalidInputError):
        store.key_of(uri.format(root=root.resolve()))


@pytest.mark.parametrize(
    "key", ["../outside", "a/../../outside", "/tmp/abs", "a\\..\\..\\outside", "a/./b", "a\n"]
)
def test_hostile_keys_never_touch_files_outside_root(
    store: LocalStore, root: Path, tmp_path: Path, key: str
) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(b"payload")
    before = files_under(tmp_path)
    for call in (
        lambda: store.put_bytes(key, b"payload"),
        lambda: store.put_file(key, src),
        lambda: store.get_bytes(key),
        lambda: store.delete(key),
        lambda: store.exists(key),
        lambda: store.list(key),
        lambda: store.uri(key),
    ):
        with pytest.raises(InvalidInputError):
            call()
    assert files_under(tmp_path) == before
    assert not (tmp_path / "outside").exists()


def test_delete_of_hostile_key_cannot_remove_outside_file(
    store: LocalStore, tmp_path: Path
) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    with pytest.raises(InvalidInputError):
        store.delete("../victim")
    assert victim.read_bytes() == b"keep me"


def test_reopening_the_root_sees_the_same_objects(root: Path) -> None:
    LocalStore(root).put_bytes("a/b", b"persisted")
    assert LocalStore(root).get_bytes("a/b") == b"persisted"


@pytest.mark.parametrize("key", ["a", "a/f/below-a-file"])
@pytest.mark.parametrize("op", ["get_bytes", "size", "get_file"])
def test_prefixes_and_paths_below_objects_are_not_found(
    store: LocalStore, tmp_path: Path, key: str, op: str
) -> None:
    # As on S3: "a" is only a prefix of "a/f", and nothing lives below an object.
    store.put_bytes("a/f", b"1")
    assert not store.exists(key)
    with pytest.raises(NotFoundError):
        if op == "get_file":
            store.get_file(key, tmp_path / "out")
        else:
            getattr(store, op)(key)


def test_put_if_changed_rewrites_nothing_that_is_already_there(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    src = tmp_path / "clip.mp3"
    src.write_bytes(b"mp3 bytes")
    digest, size = put_if_changed(store, "d/a.mp3", src, "audio/mpeg")
    assert (digest, size) == (file_sha256(src), 9)
    stored = tmp_path / "store" / "d" / "a.mp3"
    os.utime(stored, (1, 1))
    assert put_if_changed(store, "d/a.mp3", src, "audio/mpeg") == (digest, size)
    assert stored.stat().st_mtime == 1  # the same bytes are not written again
    src.write_bytes(b"other bytes")
    put_if_changed(store, "d/a.mp3", src, "audio/mpeg")
    assert store.get_bytes("d/a.mp3") == b"other bytes"


def test_check_sizes_names_a_file_another_job_removed_or_replaced(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    store.put_bytes("d/a.mp3", b"12345")
    check_sizes(store, [("d/a.mp3", 5)], "fragment")
    with pytest.raises(TransientError, match=r"d/a.mp3 now has 5 bytes, not 6.*fragment was not"):
        check_sizes(store, [("d/a.mp3", 6)], "fragment")
    with pytest.raises(TransientError, match=r"d/b.mp3 is gone.*baseline fragment") as err:
        check_sizes(store, [("d/a.mp3", 5), ("d/b.mp3", 1)], "baseline fragment")
    assert err.value.retryable


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_umask_is_read_without_changing_it(umask_022: None) -> None:
    assert umask() == 0o022
    assert file_mode() == 0o644
    os.umask(0o027)
    assert (umask(), file_mode()) == (0o027, 0o640)
    assert os.umask(0o022) == 0o027


def test_written_objects_and_folders_get_the_usual_modes(umask_022: None, tmp_path: Path) -> None:
    """mkstemp's 0600 would make a dataset unreadable for other users, containers and servers."""
    store = LocalStore(tmp_path / "root")
    src = tmp_path / "src.bin"
    src.write_bytes(b"x")
    store.put_bytes("a/b/c.json", b"{}")
    store.put_file("a/d.mp3", src)
    root = tmp_path / "root"
    assert stat.S_IMODE((root / "a/b/c.json").stat().st_mode) == 0o644
    assert stat.S_IMODE((root / "a/d.mp3").stat().st_mode) == 0o644
    assert stat.S_IMODE((root / "a/b").stat().st_mode) == 0o755
    os.umask(0o077)
    store.put_bytes("a/private", b"")
    assert stat.S_IMODE((root / "a/private").stat().st_mode) == 0o600


def test_copy_keeps_the_bytes_and_a_missing_source_is_not_found(store: LocalStore) -> None:
    store.put_bytes("a/src.bin", b"payload")
    store.copy("a/src.bin", "b/dst.bin")
    assert store.get_bytes("b/dst.bin") == b"payload"
    with pytest.raises(NotFoundError):
        store.copy("a/nope.bin", "b/other.bin")
    assert not store.exists("b/other.bin")
    with pytest.raises(InvalidInputError):
        store.copy("a/src.bin", "../escape.bin")
