"""The clips of one episode planned for cutting: clamped into each video, ids, speakers, order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dubset_common.timemap import TimeMap
from dubset_packaging.core.ids import clip_id
from dubset_packaging.core.model import (
    MIN_CLIP_MS,
    ClipPair,
    PackagingInputError,
    Plan,
    PlannedClip,
    Span,
    Turn,
)
from dubset_packaging.core.speakers import clip_speakers, map_ja_speakers


def clamp(span: Span, duration_ms: int) -> Span:
    """span cut to [0, duration_ms] (it may end up empty)."""
    start = min(max(span.start_ms, 0), duration_ms)
    return Span(start, max(start, min(span.end_ms, duration_ms)))


def _check_inside(clip: ClipPair, number: int, durations: Mapping[str, int]) -> None:
    """A clip lying wholly outside a video belongs to some other video: refuse the input."""
    for lang in ("en", "ja"):
        span = clip.en if lang == "en" else clip.ja
        if span.start_ms >= durations[lang] or span.end_ms <= 0:
            raise PackagingInputError(
                f"clip {number} ({lang} {span.start_ms}-{span.end_ms} ms) lies outside the "
                f"{lang} video (0-{durations[lang]} ms): the clips are not of these videos"
            )


def plan_clips(
    episode_id: str,
    clips: Sequence[ClipPair],
    durations: Mapping[str, int],
    en_turns: Sequence[Turn],
    ja_turns: Sequence[Turn],
    ja_offset_ms: int,
    *,
    encoding: str,
    min_clip_ms: int = MIN_CLIP_MS,
    time_map: TimeMap | None = None,
) -> Plan:
    """Clips in EN time order, clamped into each video's duration; a clip under min_clip_ms in
    either language after clamping is dropped (counted in Plan.dropped). `encoding` is the
    encoding_digest that goes into every clip id."""
    for lang in ("ja", "en"):
        if durations.get(lang, 0) <= 0:
            raise PackagingInputError(f"the {lang} video has no duration")
    for number, clip in enumerate(clips):
        _check_inside(clip, number, durations)
    ordered = sorted(clips, key=lambda c: (c.en.start_ms, c.en.end_ms, c.ja.start_ms, c.ja.end_ms))
    ja_to_en = map_ja_speakers(en_turns, ja_turns, ja_offset_ms, time_map)
    en_sorted = sorted(en_turns, key=lambda t: (t.start_ms, t.end_ms, t.speaker))
    ja_sorted = sorted(ja_turns, key=lambda t: (t.start_ms, t.end_ms, t.speaker))
    planned: list[PlannedClip] = []
    seen: dict[str, Span] = {}
    dropped = 0
    for clip in ordered:
        en, ja = clamp(clip.en, durations["en"]), clamp(clip.ja, durations["ja"])
        if en.duration_ms < min_clip_ms or ja.duration_ms < min_clip_ms:
            dropped += 1
            continue
        ids = clip_id(episode_id, "ja", ja, encoding), clip_id(episode_id, "en", en, encoding)
        for lang, cid, span in (("ja", ids[0], ja), ("en", ids[1], en)):
            if cid in seen:
                raise PackagingInputError(
                    f"two clips share the {lang} span {span.start_ms}-{span.end_ms} ms: "
                    "clips.json must not repeat a clip"
                )
            seen[cid] = span
        planned.append(
            PlannedClip(
                index=len(planned),
                jp_clip=ids[0],
                en_clip=ids[1],
                ja=ja,
                en=en,
                ja_text=clip.ja_text,
                en_text=clip.en_text,
                speakers=clip_speakers(en, ja, en_sorted, ja_sorted, ja_to_en),
                hints=clip.hints,
            )
        )
    return Plan(tuple(planned), dropped)
