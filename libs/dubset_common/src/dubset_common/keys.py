"""Object keys and content addresses: safe by construction, stable across runs."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from dubset_common.errors import InvalidInputError

_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._=+-]{0,254}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
MAX_KEY_LEN = 1024


def check_key(key: str) -> str:
    """Return key if it is a safe relative object key, else raise InvalidInputError.

    Segments start alphanumeric or "_" and use a small alphabet, so `..`, absolute paths,
    backslashes, control characters and empty segments can never occur.
    """
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LEN:
        raise InvalidInputError(f"invalid object key {key!r:.80}: empty or too long")
    parts = key.split("/")
    bad = [p for p in parts if not _SEGMENT.fullmatch(p)]
    if bad:
        raise InvalidInputError(f"invalid object key {key!r:.80}: bad segment {bad[0]!r:.40}")
    return key


def check_id(value: str, what: str = "id") -> str:
    """Return value if it is a safe identifier (job, episode, request ids), else raise."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidInputError(
            f"invalid {what} {value!r:.80}: use 1-128 of A-Z a-z 0-9 . _ - starting alphanumeric"
        )
    return value


def join_key(*parts: str) -> str:
    """Join key parts with '/', validating the result."""
    return check_key("/".join(p.strip("/") for p in parts if p))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_json(value: object) -> bytes:
    """Deterministic JSON bytes: sorted keys, no whitespace variance, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_key(
    stage: str, version: str, input_digests: Mapping[str, str] | Iterable[str], params: object
) -> str:
    """sha256(stage, stage version, input sha256s, params): the address of a stage's outputs."""
    digests: object
    if isinstance(input_digests, Mapping):
        digests = dict(sorted(input_digests.items()))
    else:
        digests = sorted(input_digests)
    payload = {"stage": stage, "version": version, "inputs": digests, "params": params}
    return sha256_hex(canonical_json(payload))


def file_sha256(path: Path, chunk_bytes: int = 1 << 20) -> str:
    """sha256 hex of a file, read in chunks (media files do not fit in memory)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()
