"""The files of an exported dataset: a local directory or a prefix of an object store."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

from dubset_common.errors import InvalidInputError, NotFoundError
from dubset_common.keys import check_key, file_sha256, join_key
from dubset_common.objstore import ObjectStore


class DatasetFiles(Protocol):
    """Read access to a dataset's files by path relative to its root."""

    @property
    def location(self) -> str: ...
    def list(self) -> list[str]: ...
    def size(self, path: str) -> int: ...
    def sha256(self, path: str) -> str: ...
    def local(self, path: str) -> AbstractContextManager[Path]: ...


class LocalDatasetFiles:
    """A dataset directory (the one holding anim400k_annotations.json)."""

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise NotFoundError(f"{root} is not a directory")
        self.root = root.resolve()

    @property
    def location(self) -> str:
        return str(self.root)

    def _path(self, path: str) -> Path:
        return self.root / check_key(path)

    def list(self) -> list[str]:
        out: list[str] = []
        for folder, _, names in os.walk(self.root):
            base = Path(folder).relative_to(self.root)
            out.extend((base / n).as_posix() for n in names if not n.startswith(".tmp-"))
        return sorted(out)

    def size(self, path: str) -> int:
        try:
            return self._path(path).stat().st_size
        except FileNotFoundError:
            raise NotFoundError(f"{path} not found") from None

    def sha256(self, path: str) -> str:
        return file_sha256(self._path(path))

    @contextmanager
    def local(self, path: str) -> Iterator[Path]:
        target = self._path(path)
        if not target.is_file():
            raise NotFoundError(f"{path} not found")
        yield target


class StoreDatasetFiles:
    """The dataset under a key prefix of an object store (datasets/<name> by export)."""

    def __init__(self, store: ObjectStore, prefix: str) -> None:
        self.store = store
        self.prefix = check_key(prefix.strip("/"))

    @property
    def location(self) -> str:
        return self.store.uri(self.prefix)

    def list(self) -> list[str]:
        skip = len(self.prefix) + 1
        return [k[skip:] for k in self.store.list(self.prefix)]

    def size(self, path: str) -> int:
        return self.store.size(join_key(self.prefix, path))

    def sha256(self, path: str) -> str:
        with self.local(path) as copy:
            return file_sha256(copy)

    @contextmanager
    def local(self, path: str) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="dubset-verify-") as tmp:
            copy = Path(tmp) / "object"
            self.store.get_file(join_key(self.prefix, path), copy)
            yield copy


def parse_s3_location(uri: str) -> tuple[str, str]:
    """(bucket, key prefix) of s3://bucket/key-prefix."""
    parsed = urlparse(uri)
    prefix = parsed.path.strip("/")
    if parsed.scheme != "s3" or not parsed.netloc or not prefix:
        raise InvalidInputError(f"{uri!r:.120} is not s3://bucket/key-prefix")
    return parsed.netloc, check_key(prefix)
