"""The quality stage's documents (pure): the packaging stage's episode fragment, the ASR
transcripts and the diarization turns in; the quality fragment out
(datasets/<ds>/quality/<episode>.json), whose `clips` map each JA clip id to its pair's signals
and score, and which `dubset export` joins into the manifest lines."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

from dubset_common.anim400k import parse_time
from dubset_common.clipquality import QUALITY_FORMAT
from dubset_common.jsondoc import load_object
from dubset_quality.core.model import SIGNALS, Pair, QualityInputError, Turn, Word
from dubset_quality.core.score import DIGITS, FLOOR, RAMPS

EPISODE_FRAGMENT_FORMAT = "dubset-dataset-episode/1"

_EPISODE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_CLIP_ID = re.compile(
    r"^([0-9a-f]{2})/\1[0-9a-f]{6}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)


def parse_episode_fragment(data: bytes) -> tuple[str, list[Pair]]:
    """(episode id, clip pairs) of datasets/<ds>/episodes/<episode_id>.json."""
    doc = load_object(data, "episode fragment", QualityInputError)
    if doc.get("format") != EPISODE_FRAGMENT_FORMAT:
        raise QualityInputError(
            f"episode fragment format must be {EPISODE_FRAGMENT_FORMAT!r}: give the packaging "
            "stage's `episode` output"
        )
    episode_id = doc.get("episode_id")
    if not isinstance(episode_id, str) or not _EPISODE_ID.fullmatch(episode_id):
        raise QualityInputError(f"episode fragment episode_id {episode_id!r:.60} is not safe")
    episode = doc.get("episode")
    items = episode.get("clips") if isinstance(episode, dict) else None
    if not isinstance(items, list):
        raise QualityInputError("episode fragment episode.clips must be a list")
    return episode_id, [_pair(item, f"episode fragment clips[{i}]") for i, item in
                        enumerate(items)]  # fmt: skip


def _pair(item: object, where: str) -> Pair:
    if not isinstance(item, dict):
        raise QualityInputError(f"{where} must be a JSON object")
    ids = [item.get("jp_clip"), item.get("en_clip")]
    if not all(isinstance(c, str) and _CLIP_ID.fullmatch(c) for c in ids):
        raise QualityInputError(f"{where}: jp_clip and en_clip must be clip ids")
    texts = [item.get("jp_text"), item.get("en_text")]
    if not all(isinstance(t, str) for t in texts):
        raise QualityInputError(f"{where}: jp_text and en_text must be strings")
    try:
        times = [parse_time(str(item.get(f"{lang}_{edge}_time")))
                 for lang in ("jp", "en") for edge in ("start", "end")]  # fmt: skip
    except ValueError as exc:
        raise QualityInputError(f"{where}: {exc}") from None
    if times[1] <= times[0] or times[3] <= times[2]:
        raise QualityInputError(f"{where}: a clip ends before it starts")
    return Pair(str(ids[0]), str(ids[1]), str(texts[0]), str(texts[1]), *times)


def parse_words(data: bytes, what: str) -> list[Word]:
    """Every recognised word with its confidence, from an ASR transcript.json."""
    doc = load_object(data, what, QualityInputError)
    segments = doc.get("segments")
    if not isinstance(segments, list):
        raise QualityInputError(f"{what} has no segments list")
    out: list[Word] = []
    for i, seg in enumerate(segments):
        words = seg.get("words", []) if isinstance(seg, dict) else None
        if not isinstance(words, list):
            raise QualityInputError(f"{what} segments[{i}].words must be a list")
        for k, w in enumerate(words):
            where = f"{what} segments[{i}].words[{k}]"
            start, end = _span(w, where)
            confidence = w.get("confidence")
            if isinstance(confidence, bool) or not isinstance(confidence, int | float):
                raise QualityInputError(f"{where}.confidence must be a number")
            out.append(Word(start, end, float(confidence)))
    return out


def parse_turns(data: bytes, what: str) -> list[Turn]:
    """The speaker turns of a diarization turns.json."""
    doc = load_object(data, what, QualityInputError)
    items = doc.get("turns")
    if not isinstance(items, list):
        raise QualityInputError(f"{what} has no turns list")
    out = []
    for i, item in enumerate(items):
        where = f"{what} turns[{i}]"
        start, end = _span(item, where)
        speaker = item.get("speaker")
        if not isinstance(speaker, str) or not speaker:
            raise QualityInputError(f"{where}.speaker must be a non-empty string")
        out.append(Turn(start, end, speaker))
    return out


def _span(item: object, where: str) -> tuple[int, int]:
    if not isinstance(item, dict):
        raise QualityInputError(f"{where} must be a JSON object")
    start, end = item.get("start_ms"), item.get("end_ms")
    if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool):
        raise QualityInputError(f"{where} needs integer start_ms and end_ms")
    if not 0 <= start <= end:
        raise QualityInputError(f"{where}: {start} .. {end} ms is not a span")
    return start, end


def rounded(signals: Mapping[str, float | None]) -> dict[str, float | None]:
    """The signals in SIGNALS order, rounded (None: not measured)."""
    return {k: None if signals.get(k) is None else round(float(signals[k] or 0.0), DIGITS)
            for k in SIGNALS}  # fmt: skip


def quality_doc(
    episode_id: str,
    episode_sha256: str,
    pairs: Sequence[Pair],
    qualities: Sequence[Mapping[str, float | None]],
    backend: str,
    params: Mapping[str, object],
) -> dict[str, object]:
    """The quality fragment: per JA clip id its pair's EN clip, signals and score."""
    clips = {
        p.jp_clip: {"en_clip": p.en_clip, **_spans(p), **dict(q)}
        for p, q in zip(pairs, qualities, strict=True)
    }
    return {
        "format": QUALITY_FORMAT,
        "episode_id": episode_id,
        "episode_sha256": episode_sha256,
        "provenance": {"quality": backend},
        "rule": {"floor": FLOOR, "ramps": {k: [r.bad, r.good] for k, r in RAMPS.items()}},
        "params": dict(params),
        "clips": dict(sorted(clips.items())),
    }


def _spans(p: Pair) -> dict[str, int]:
    """The pair's spans (each language's own video), for scoring the score against a truth."""
    return {"ja_start_ms": p.ja_start_ms, "ja_end_ms": p.ja_end_ms,
            "en_start_ms": p.en_start_ms, "en_end_ms": p.en_end_ms}  # fmt: skip


def dumps(doc: Mapping[str, object]) -> bytes:
    return (json.dumps(doc, ensure_ascii=False, sort_keys=True, allow_nan=False) + "\n").encode()
