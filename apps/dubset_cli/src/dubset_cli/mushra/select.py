"""Which clips of an exported dataset become MUSHRA trials: seeded, spread over episodes."""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from dubset_cli.mushra.errors import KitError
from dubset_common.jsondoc import load_object

# manifest paths the kit may open: the dataset's own media folders, no traversal
_PATH = re.compile(
    r"^anim400k_(audio|baseline)_clips/[0-9a-f]{2}/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-"
    r"[0-9a-f]{4}-[0-9a-f]{12}\.mp3$"
)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_LINE_BYTES = 64 * 1024


@dataclass(frozen=True)
class MediaFile:
    path: str  # relative to the dataset folder
    sha256: str
    duration_ms: int


@dataclass(frozen=True)
class Candidate:
    """An EN clip with both its human dub and its baseline TTS dub."""

    clip: str
    episode_id: str
    human: MediaFile
    baseline: MediaFile

    @property
    def duration_ms(self) -> int:
        return min(self.human.duration_ms, self.baseline.duration_ms)


@dataclass(frozen=True)
class Catalogue:
    candidates: tuple[Candidate, ...]  # sorted by clip id
    en_clips: int  # EN audio clips in the manifest
    without_baseline: int
    too_short: int


def _media(entry: dict[str, object], where: str) -> MediaFile:
    path, sha, duration = entry.get("path"), entry.get("sha256"), entry.get("duration_ms")
    if not isinstance(path, str) or not _PATH.fullmatch(path):
        raise KitError(f"{where}: path {path!r:.80} is not a clip mp3 of the dataset")
    if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
        raise KitError(f"{where}: sha256 must be 64 lowercase hex digits")
    if isinstance(duration, bool) or not isinstance(duration, int) or duration <= 0:
        raise KitError(f"{where}: duration_ms must be a positive integer")
    return MediaFile(path, sha, duration)


def read_manifest(lines: Iterable[bytes], min_ms: int) -> Catalogue:
    """EN human dubs (kind audio, language en) paired with baseline dubs (kind baseline) by
    clip id; only what the kit needs is kept, so a 425K-line manifest stays small."""
    human: dict[str, tuple[MediaFile, str]] = {}
    baseline: dict[str, MediaFile] = {}
    for number, raw in enumerate(lines, 1):
        where = f"manifest.jsonl line {number}"
        if len(raw) > MAX_LINE_BYTES:
            raise KitError(f"{where} is over {MAX_LINE_BYTES} bytes")
        if not raw.strip():
            continue
        entry = load_object(raw, where, KitError)
        kind, clip = entry.get("kind"), entry.get("clip")
        if kind == "audio" and entry.get("language") == "en":
            episode = entry.get("episode_id")
            if not isinstance(clip, str) or not isinstance(episode, str):
                raise KitError(f"{where}: clip and episode_id must be strings")
            human[clip] = (_media(entry, where), episode)
        elif kind == "baseline":
            if not isinstance(clip, str):
                raise KitError(f"{where}: clip must be a string")
            baseline[clip] = _media(entry, where)
    found, short = [], 0
    for clip in sorted(human.keys() & baseline.keys()):
        cand = Candidate(clip, human[clip][1], human[clip][0], baseline[clip])
        if cand.duration_ms < min_ms:
            short += 1
        else:
            found.append(cand)
    return Catalogue(tuple(found), len(human), len(human.keys() - baseline.keys()), short)


def pick(candidates: tuple[Candidate, ...], count: int, seed: int) -> tuple[Candidate, ...]:
    """`count` clips in trial order: episodes in a seeded order, each episode's clips seeded
    too, taken round-robin so every episode is represented before any gives a second clip."""
    by_episode: dict[str, list[Candidate]] = defaultdict(list)
    for c in candidates:
        by_episode[c.episode_id].append(c)
    rng = random.Random(seed)
    episodes = sorted(by_episode)
    rng.shuffle(episodes)
    queues = []
    for e in episodes:
        clips = sorted(by_episode[e], key=lambda c: c.clip)
        rng.shuffle(clips)
        queues.append(clips)
    out: list[Candidate] = []
    depth = 0
    while len(out) < count and any(depth < len(q) for q in queues):
        out.extend(q[depth] for q in queues if depth < len(q))
        depth += 1
    return tuple(out[:count])


def condition_order(systems: tuple[str, ...], seed: int, clip: str) -> tuple[str, ...]:
    """The systems behind labels A, B, C... of one trial: shuffled from the seed and the clip,
    so rebuilding the kit gives the same order and no position gives a system away."""
    order = list(systems)
    random.Random(f"dubset-mushra:{seed}:{clip}").shuffle(order)
    return tuple(order)
