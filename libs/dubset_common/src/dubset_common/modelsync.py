"""Model directories in a bucket: publish one, or fill a pod's /models from it (init container).

A published model directory is its files under a key prefix plus a `SHA256SUMS` object that
lists every file (`<sha256>  <relative path>`, sorted). `sync` fetches exactly the listed files,
checks each against its sum, and writes it atomically; files already in place with the right
sum are kept, so a restart or a pre-filled volume costs only the hashing. Nothing is fetched
from a model hub, and a listing that names a path outside the directory is refused.

    python -m dubset_common.modelsync publish --src ./asr-models --prefix models/asr
    python -m dubset_common.modelsync sync --prefix models/asr --dest /models

(./asr-models holding e.g. whisper-large-v3/; the pod then finds /models/whisper-large-v3.)

The bucket is DUBSET_MODELS_BUCKET (default: DUBSET_S3_BUCKET) on the S3 endpoint and
credentials every service reads (DUBSET_S3_*).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from dubset_common.config import load_settings
from dubset_common.errors import ConfigError, DubsetError, InvalidInputError
from dubset_common.keys import check_key, file_sha256, sha256_hex
from dubset_common.objstore import ObjectStore, S3Store, make_s3_client

SUMS = "SHA256SUMS"
MAX_SUMS_BYTES = 1 << 20
_LINE = re.compile(r"([0-9a-f]{64})  (\S.*)")

Report = Callable[[str], None]


@dataclass(frozen=True)
class Entry:
    sha256: str
    path: str  # relative, POSIX


def _check_relative(path: str) -> str:
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or path != pure.as_posix() or path == SUMS:
        raise InvalidInputError(f"{SUMS}: {path!r:.120} is not a file path inside the directory")
    check_key(path)
    return path


def parse_sums(text: str) -> list[Entry]:
    """The entries of a SHA256SUMS text; malformed lines, unsafe or repeated paths are refused."""
    entries: list[Entry] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _LINE.fullmatch(line.rstrip("\n"))
        if match is None:
            raise InvalidInputError(f"{SUMS} line {number} is not '<sha256>  <path>': {line!r:.80}")
        path = _check_relative(match.group(2))
        if path in seen:
            raise InvalidInputError(f"{SUMS} lists {path!r} twice")
        seen.add(path)
        entries.append(Entry(match.group(1), path))
    if not entries:
        raise InvalidInputError(f"{SUMS} lists no files")
    return entries


def render_sums(entries: list[Entry]) -> str:
    return "".join(f"{e.sha256}  {e.path}\n" for e in sorted(entries, key=lambda e: e.path))


def publish(store: ObjectStore, src: Path, prefix: str, report: Report = print) -> list[Entry]:
    """Upload every file under src to prefix/, then prefix/SHA256SUMS (last, so a reader
    never sees a listing whose files are not all there)."""
    if not src.is_dir():
        raise InvalidInputError(f"{src} is not a directory")
    prefix = check_key(prefix.strip("/"))
    entries: list[Entry] = []
    for path in sorted(p for p in src.rglob("*") if p.is_file()):
        rel = _check_relative(path.relative_to(src).as_posix())
        digest = file_sha256(path)
        key = f"{prefix}/{rel}"
        if store.exists(key) and store.size(key) == path.stat().st_size:
            report(f"kept      {key}")
        else:
            store.put_file(key, path)
            report(f"uploaded  {key} ({path.stat().st_size} bytes)")
        entries.append(Entry(digest, rel))
    if not entries:
        raise InvalidInputError(f"{src} holds no files")
    store.put_bytes(f"{prefix}/{SUMS}", render_sums(entries).encode(), "text/plain")
    report(f"wrote     {prefix}/{SUMS} ({len(entries)} files)")
    return entries


def sync(store: ObjectStore, prefix: str, dest: Path, report: Report = print) -> list[Entry]:
    """Make dest hold every file prefix/SHA256SUMS lists, each with its sum."""
    prefix = check_key(prefix.strip("/"))
    entries = parse_sums(store.get_bytes(f"{prefix}/{SUMS}", MAX_SUMS_BYTES).decode("utf-8"))
    dest.mkdir(parents=True, exist_ok=True)
    for number, entry in enumerate(entries, start=1):
        target = dest / entry.path
        where = f"[{number}/{len(entries)}] {entry.path}"
        if target.is_file() and file_sha256(target) == entry.sha256:
            report(f"{where}: in place")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            store.get_file(f"{prefix}/{entry.path}", tmp)
            got = file_sha256(tmp)
            if got != entry.sha256:
                raise InvalidInputError(
                    f"{prefix}/{entry.path} has sha256 {got}, {SUMS} says {entry.sha256}"
                )
            tmp.chmod(0o644)
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)
        report(f"{where}: fetched ({target.stat().st_size} bytes)")
    return entries


def sums_digest(entries: list[Entry]) -> str:
    """One sha256 for the whole directory (what a model's provenance can record)."""
    return sha256_hex(render_sums(entries).encode())


def store_from_env(env: Mapping[str, str] | None = None) -> S3Store:
    source = dict(os.environ if env is None else env)
    settings = load_settings("modelsync", {**source, "DUBSET_BUS": "inproc", "DUBSET_STORE": "s3"})
    bucket = source.get("DUBSET_MODELS_BUCKET", "").strip() or settings.s3_bucket
    client = make_s3_client(
        settings.s3_endpoint, settings.s3_region, settings.s3_access_key, settings.s3_secret_key
    )
    return S3Store(client, bucket)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dubset_common.modelsync",
        description="Publish a model directory to the model bucket, or sync one into a folder.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    pub = sub.add_parser("publish", help="upload a local model directory under a key prefix")
    pub.add_argument("--src", type=Path, required=True)
    pub.add_argument("--prefix", required=True, help="key prefix in the model bucket")
    syn = sub.add_parser("sync", help="fetch and verify a published model directory")
    syn.add_argument("--prefix", required=True, help="key prefix in the model bucket")
    syn.add_argument("--dest", type=Path, required=True)
    args = parser.parse_args(argv)

    def say(line: str) -> None:
        print(f"modelsync: {line}", flush=True)

    from botocore.exceptions import BotoCoreError

    try:
        store = store_from_env()
        if args.command == "publish":
            entries = publish(store, args.src, args.prefix, say)
        else:
            entries = sync(store, args.prefix, args.dest, say)
    except (DubsetError, ConfigError, OSError, BotoCoreError) as exc:
        print(f"modelsync: {exc}", file=sys.stderr)
        return 1
    say(f"{len(entries)} files, directory sha256 {sums_digest(entries)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
