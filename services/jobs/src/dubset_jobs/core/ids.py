"""Deterministic, check_id-safe ids for episodes, jobs and stage requests."""

from __future__ import annotations

import re
import unicodedata

from dubset_common.errors import InvalidInputError
from dubset_common.keys import canonical_json, check_id, sha256_hex

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
MAX_EPISODE_ID = 100  # leaves room for the job and request id suffixes within 128


def slug(text: str, max_len: int) -> str:
    """Lower-case ASCII letters and digits joined by '-' (accents dropped, others removed)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")[:max_len].strip("-")


def episode_id_for(show: str, season: str, episode_number: int) -> str:
    """e.g. "cowboy-bebop-season-1-e03-1a2b3c4d": readable, plus a hash of the exact strings
    so shows that slug alike (or not at all, like a Japanese-only title) still differ."""
    if episode_number < 0:
        raise InvalidInputError(f"episode_number must not be negative ({episode_number})")
    digest = sha256_hex(canonical_json([show, season, episode_number]))[:8]
    head, tail = slug(show, 60) or "show", slug(season, 84)
    # Seasons often repeat the show's name ("Frieren Season 2"): say it once.
    tail = tail.removeprefix(head).lstrip("-") if tail.startswith(head) else tail
    parts = [head, tail[:24].rstrip("-"), f"e{episode_number:02d}", digest]
    return check_id("-".join(p for p in parts if p), "episode id")


def job_id_for(episode_id: str, ja_sha256: str, en_sha256: str, options_digest: str) -> str:
    """The same episode, media and options give the same job; anything else a new one."""
    check_id(episode_id, "episode id")
    digest = sha256_hex(canonical_json([episode_id, ja_sha256, en_sha256, options_digest]))
    head = episode_id[:80].rstrip("-.")  # request ids add ~30 characters
    return check_id(f"{head}.{digest[:12]}", "job id")


def request_id_for(job_id: str, attempt: int, task: str, tries: int) -> str:
    """Deterministic, so a request re-sent after a restart and its late results still match."""
    return f"{job_id}.{attempt}.{task}.{tries}"


def client_id(value: str, what: str) -> str:
    """A client-given id (submission or episode id), refused unless check_id-safe and short
    enough to leave room for the job id suffix."""
    check_id(value, what)
    if len(value) > MAX_EPISODE_ID:
        raise InvalidInputError(f"{what} {value[:40]!r}... is over {MAX_EPISODE_ID} characters")
    return value
