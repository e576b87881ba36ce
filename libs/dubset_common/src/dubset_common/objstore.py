"""Object store interface with S3 (boto3) and local-directory implementations."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote, urlparse

from dubset_common.errors import InvalidInputError, NotFoundError, TransientError
from dubset_common.keys import check_key, file_sha256, join_key, sha256_hex

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_CHUNK = 1 << 20


def umask() -> int:
    """The process umask, read without changing it (Linux); else briefly set and restored."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode a plainly created file gets: 0666 under the umask (0644 under 022)."""
    return 0o666 & ~umask()


@dataclass(frozen=True)
class ObjectInfo:
    """Where an object is and what it holds."""

    key: str
    uri: str
    sha256: str
    size_bytes: int
    content_type: str


class ObjectStore(Protocol):
    """A flat namespace of immutable-by-convention objects under safe keys."""

    def put_bytes(self, key: str, data: bytes, content_type: str = ...) -> ObjectInfo: ...
    def put_file(self, key: str, path: Path, content_type: str = ...) -> ObjectInfo: ...
    def get_bytes(self, key: str, max_bytes: int | None = None) -> bytes: ...
    def get_file(self, key: str, path: Path) -> None: ...
    def exists(self, key: str) -> bool: ...
    def size(self, key: str) -> int: ...
    def list(self, prefix: str) -> list[str]: ...
    def delete(self, key: str) -> None: ...
    def copy(self, source: str, key: str) -> None: ...
    def uri(self, key: str) -> str: ...
    def key_of(self, uri: str) -> str: ...


def put_if_changed(store: ObjectStore, key: str, path: Path, content_type: str) -> tuple[str, int]:
    """Store a file unless an object with the same size and sha256 is there; its sha256, size.

    For deterministic keys (clip ids): a re-run or a redelivered request finds its bytes in
    place and rewrites nothing.
    """
    size, digest = path.stat().st_size, file_sha256(path)
    same = store.exists(key) and store.size(key) == size
    if same and sha256_hex(store.get_bytes(key, max_bytes=size)) == digest:
        return digest, size
    store.put_file(key, path, content_type)
    return digest, size


def check_sizes(store: ObjectStore, expected: Iterable[tuple[str, int]], what: str) -> None:
    """Every (key, size) is stored with that size, just before a document that lists them is
    written; TransientError (the job is retried) when another job replaced or removed one
    meanwhile. `what` names the document that was therefore not written."""
    for key, want in expected:
        try:
            size = store.size(key)
        except NotFoundError:
            size = -1
        if size != want:
            found = "is gone" if size < 0 else f"now has {size} bytes, not {want}"
            raise TransientError(
                f"{key} {found}: another job changed it meanwhile; "
                f"the {what} was not written, retry the job"
            )


def _too_big(key: str, size: int, max_bytes: int | None) -> None:
    if max_bytes is not None and size > max_bytes:
        raise InvalidInputError(f"object {key} is {size} bytes, over the limit of {max_bytes}")


class LocalStore:
    """Objects as files under a root directory; writes are atomic (temp file + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put_bytes(
        self, key: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> ObjectInfo:
        path = self._path(key)
        self._atomic_write(path, lambda fh: fh.write(data))
        return ObjectInfo(
            key, self.uri(key), hashlib.sha256(data).hexdigest(), len(data), content_type
        )

    def put_file(
        self, key: str, path: Path, content_type: str = "application/octet-stream"
    ) -> ObjectInfo:
        target = self._path(key)
        with path.open("rb") as src:
            self._atomic_write(target, lambda fh: shutil.copyfileobj(src, fh, _CHUNK))
        return ObjectInfo(
            key, self.uri(key), file_sha256(target), target.stat().st_size, content_type
        )

    def _atomic_write(self, path: Path, write: Any) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            # mkstemp makes the file 0600; a dataset is read by other users and services
            os.fchmod(fd, file_mode())
            with os.fdopen(fd, "wb") as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get_bytes(self, key: str, max_bytes: int | None = None) -> bytes:
        path = self._path(key)
        try:
            _too_big(key, path.stat().st_size, max_bytes)
            return path.read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise NotFoundError(f"object {key} not found") from None

    def get_file(self, key: str, path: Path) -> None:
        try:
            shutil.copyfile(self._path(key), path)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise NotFoundError(f"object {key} not found") from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        path = self._path(key)
        if not path.is_file():  # a directory is a prefix, not an object
            raise NotFoundError(f"object {key} not found")
        return path.stat().st_size

    def list(self, prefix: str) -> list[str]:
        base = self.root / check_key(prefix.rstrip("/")) if prefix.strip("/") else self.root
        if not base.is_dir():
            return []
        return sorted(
            p.relative_to(self.root).as_posix()
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".tmp-")
        )

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def copy(self, source: str, key: str) -> None:
        """The object at source, also at key (atomic, like every write)."""
        try:
            with self._path(source).open("rb") as src:
                self._atomic_write(self._path(key), lambda fh: shutil.copyfileobj(src, fh, _CHUNK))
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise NotFoundError(f"object {source} not found") from None

    def uri(self, key: str) -> str:
        return self._path(key).as_uri()

    def key_of(self, uri: str) -> str:
        parsed = urlparse(uri)
        if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
            raise InvalidInputError(f"{uri!r:.120} is not a file:// URI of this store")
        path = Path(unquote(parsed.path))
        try:
            rel = path.relative_to(self.root)
        except ValueError:
            raise InvalidInputError(f"{uri!r:.120} is outside the store root") from None
        return check_key(rel.as_posix())


class S3Store:
    """Objects in one S3 bucket (MinIO, AWS, SeaweedFS), optionally under a key prefix."""

    def __init__(self, client: S3Client, bucket: str, prefix: str = "") -> None:
        self._s3 = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        if self.prefix:
            check_key(self.prefix)

    def _full(self, key: str) -> str:
        return join_key(self.prefix, check_key(key)) if self.prefix else check_key(key)

    def put_bytes(
        self, key: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> ObjectInfo:
        digest = hashlib.sha256(data).hexdigest()
        with _s3_errors(key):
            self._s3.put_object(
                Bucket=self.bucket,
                Key=self._full(key),
                Body=data,
                ContentType=content_type,
                Metadata={"sha256": digest},
            )
        return ObjectInfo(key, self.uri(key), digest, len(data), content_type)

    def put_file(
        self, key: str, path: Path, content_type: str = "application/octet-stream"
    ) -> ObjectInfo:
        digest = file_sha256(path)
        extra = {"ContentType": content_type, "Metadata": {"sha256": digest}}
        with _s3_errors(key):
            self._s3.upload_file(str(path), self.bucket, self._full(key), ExtraArgs=extra)
        return ObjectInfo(key, self.uri(key), digest, path.stat().st_size, content_type)

    def get_bytes(self, key: str, max_bytes: int | None = None) -> bytes:
        with _s3_errors(key):
            obj = self._s3.get_object(Bucket=self.bucket, Key=self._full(key))
            with contextlib.closing(obj["Body"]) as body:
                _too_big(key, int(obj["ContentLength"]), max_bytes)
                return body.read()

    def get_file(self, key: str, path: Path) -> None:
        with _s3_errors(key):
            self._s3.download_file(self.bucket, self._full(key), str(path))

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except NotFoundError:
            return False
        return True

    def size(self, key: str) -> int:
        with _s3_errors(key):
            head = self._s3.head_object(Bucket=self.bucket, Key=self._full(key))
        return int(head["ContentLength"])

    def list(self, prefix: str) -> list[str]:
        full = (
            self._full(prefix.rstrip("/")) + "/"
            if prefix.strip("/")
            else (self.prefix + "/" if self.prefix else "")
        )
        strip = len(self.prefix) + 1 if self.prefix else 0
        keys: list[str] = []
        paginator = self._s3.get_paginator("list_objects_v2")
        with _s3_errors(prefix):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
                keys.extend(o["Key"][strip:] for o in page.get("Contents", []))
        return sorted(keys)

    def delete(self, key: str) -> None:
        with _s3_errors(key):
            self._s3.delete_object(Bucket=self.bucket, Key=self._full(key))

    def copy(self, source: str, key: str) -> None:
        """The object at source, also at key: copied by the server (multipart above 8 MiB),
        its content type and sha256 metadata kept."""
        with _s3_errors(source):
            self._s3.copy(
                {"Bucket": self.bucket, "Key": self._full(source)}, self.bucket, self._full(key)
            )

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._full(key)}"

    def key_of(self, uri: str) -> str:
        parsed = urlparse(uri)
        if parsed.scheme != "s3" or parsed.netloc != self.bucket:
            raise InvalidInputError(f"{uri!r:.120} is not an s3:// URI of bucket {self.bucket}")
        full = check_key(parsed.path.lstrip("/"))
        if self.prefix:
            if not full.startswith(self.prefix + "/"):
                raise InvalidInputError(f"{uri!r:.120} is outside prefix {self.prefix}")
            return full[len(self.prefix) + 1 :]
        return full


@contextlib.contextmanager
def _s3_errors(key: str) -> Iterator[None]:
    """Map botocore failures onto NotFoundError / TransientError."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        if code in ("404", "NoSuchKey", "NotFound"):
            raise NotFoundError(f"object {key} not found") from None
        if status >= 500 or code in ("SlowDown", "RequestTimeout", "ServiceUnavailable"):
            raise TransientError(f"S3 unavailable ({code}) for {key}") from exc
        raise
    except BotoCoreError as exc:
        raise TransientError(f"S3 unreachable for {key}: {type(exc).__name__}") from exc


def make_s3_client(endpoint: str, region: str, access_key: str, secret_key: str) -> S3Client:
    """A boto3 S3 client with path-style addressing, bounded timeouts and standard retries."""
    import boto3
    from botocore.config import Config

    config = Config(
        region_name=region,
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        retries={"max_attempts": 5, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
    )
    return boto3.client(
        "s3",
        endpoint_url=endpoint or None,
        aws_access_key_id=access_key or None,
        aws_secret_access_key=secret_key or None,
        config=config,
    )
