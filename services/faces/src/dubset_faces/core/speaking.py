"""Who speaks on screen (pure): each track's mouth-open frames from its openness series,
then per Anim-400K clip the visible tracks and the one whose mouth flaps with the speech, and
per diarized speaker the tracks that spoke for them (one character id across the episode).

A mouth is open where its openness stands above the closed frames on both sides of it (a flap
is a brief open drawing between closed ones; the level itself drifts with the art and the
camera). A clip's speaking track is the visible track with the most open frames during the
speech of the clip's main voice (the diarized speaker with the most speech in it), when its
share of that speech is over a floor and it leads the runner-up; else nobody visible speaks
(off screen, back turned, narration) and the clip says so."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dubset_faces.core.model import Track

OPEN_ABOVE_LOCAL_MIN = 0.09  # openness above the local minimum that surely counts as open
MIN_FLAP = 0.03  # the least rise that can count
LOCAL_FRAMES = 5  # the local minimum's half window (frames)
MIN_SPEAKING_SHARE = 0.15  # open share of speech frames a speaking mouth reaches
MIN_LEAD = 1.5  # open frames over the runner-up's
MIN_OPEN = 3  # open frames during the speech: at least a flap or two
MIN_VISIBLE = 0.3  # share of a clip's frames a track must be on screen to count as visible


@dataclass(frozen=True)
class ClipSpan:
    index: int  # the clip's position in the alignment's clips.json
    start_ms: int  # JA timeline
    end_ms: int


@dataclass(frozen=True)
class Turn:
    start_ms: int
    end_ms: int
    speaker: str


@dataclass(frozen=True)
class Speaking:
    clip: ClipSpan
    visible: tuple[int, ...]  # track ids on screen for MIN_VISIBLE of the clip
    track: int | None  # the speaking track, None when no visible face speaks
    speaker: str | None  # the diarized speaker with the most speech in the clip
    shares: Mapping[int, float]  # per visible track, its open share during the speech
    mouth_open: tuple[tuple[int, int], ...]  # the speaking track's open spans (ms), in the clip


def open_frames(openness: Sequence[float]) -> list[bool]:
    """Per frame of a track, whether its mouth is open: above the closed frames around it by a
    margin,
    the margin half the track's own flap height (its 90th percentile above the local minimum)
    but at least MIN_FLAP (a region with other dark art in it flaps less, not never)."""
    n = len(openness)
    rise = []
    for i, value in enumerate(openness):
        # A flap stands above closed frames on both sides (a drift rises on one side only).
        left = min(openness[max(0, i - LOCAL_FRAMES) : i + 1])
        right = min(openness[i : min(n, i + LOCAL_FRAMES + 1)])
        rise.append(value - max(left, right))
    if not rise:
        return []
    height = sorted(rise)[int(0.9 * (len(rise) - 1))]
    margin = max(MIN_FLAP, min(OPEN_ABOVE_LOCAL_MIN, 0.5 * height))
    return [r >= margin for r in rise]


def frame_of(ms: int, fps: float) -> int:
    return int(ms * fps / 1000 + 0.5)


def ms_of(frame: int, fps: float) -> int:
    return int(frame * 1000 / fps + 0.5)


def speaking(
    clips: Sequence[ClipSpan],
    turns: Sequence[Turn],
    tracks: Sequence[Track],
    opened: Sequence[Sequence[bool]],
    fps: float,
) -> list[Speaking]:
    """Per clip: the visible tracks, the speaking one (or None) and its mouth-open spans."""
    out = []
    for clip in clips:
        a, b = frame_of(clip.start_ms, fps), frame_of(clip.end_ms, fps)
        # The main voice's speech (another voice in the clip flaps its own mouth elsewhere).
        main = _main_speaker(turns, clip)
        speech = _speech_frames([t for t in turns if t.speaker == main], clip, fps)
        speech = speech or set(range(a, b))
        visible = tuple(
            i for i, t in enumerate(tracks)
            if b > a and _overlap(t.start, t.end, a, b) >= MIN_VISIBLE * (b - a)
        )  # fmt: skip
        shares: dict[int, float] = {}
        hits: dict[int, int] = {}
        for i in visible:
            t = tracks[i]
            heard = [f for f in speech if t.start <= f < t.end]
            hits[i] = sum(opened[i][f - t.start] for f in heard)
            shares[i] = round(hits[i] / len(heard), 3) if heard else 0.0
        # The most open frames during the main voice's speech (a share over a few frames heard
        # says little), clear of the floor and of the runner-up.
        ranked = sorted(visible, key=lambda i: (-hits[i], -shares[i], i))
        track = None
        if ranked and shares[ranked[0]] >= MIN_SPEAKING_SHARE and hits[ranked[0]] >= MIN_OPEN:
            runner = hits[ranked[1]] if len(ranked) > 1 else 0
            if hits[ranked[0]] >= MIN_LEAD * runner:
                track = ranked[0]
        spans: tuple[tuple[int, int], ...] = ()
        if track is not None:
            spans = _open_spans(tracks[track], opened[track], a, b, fps)
        out.append(Speaking(clip, visible, track, main, shares, spans))
    return out


def characters(results: Sequence[Speaking]) -> dict[str, list[int]]:
    """Per diarized speaker, the tracks that spoke for them (a track goes to the speaker it
    spoke for most often): one character id, a voice and its faces."""
    votes: dict[int, dict[str, int]] = {}
    for r in results:
        if r.track is not None and r.speaker is not None:
            count = votes.setdefault(r.track, {})
            count[r.speaker] = count.get(r.speaker, 0) + 1
    out: dict[str, list[int]] = {}
    for track, count in sorted(votes.items()):
        best = min(count, key=lambda s: (-count[s], s))
        out.setdefault(best, []).append(track)
    return dict(sorted(out.items()))


def _overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    return max(0, min(a1, b1) - max(a0, b0))


def _speech_frames(turns: Sequence[Turn], clip: ClipSpan, fps: float) -> set[int]:
    frames: set[int] = set()
    for t in turns:
        s, e = max(t.start_ms, clip.start_ms), min(t.end_ms, clip.end_ms)
        if e > s:
            frames.update(range(frame_of(s, fps), frame_of(e, fps)))
    return frames


def _main_speaker(turns: Sequence[Turn], clip: ClipSpan) -> str | None:
    spoken: dict[str, int] = {}
    for t in turns:
        ms = _overlap(t.start_ms, t.end_ms, clip.start_ms, clip.end_ms)
        if ms > 0:
            spoken[t.speaker] = spoken.get(t.speaker, 0) + ms
    return min(spoken, key=lambda s: (-spoken[s], s)) if spoken else None


def _open_spans(
    track: Track, opened: Sequence[bool], a: int, b: int, fps: float
) -> tuple[tuple[int, int], ...]:
    spans: list[tuple[int, int]] = []
    start: int | None = None
    for f in range(max(a, track.start), min(b, track.end) + 1):
        is_open = f < min(b, track.end) and opened[f - track.start]
        if is_open and start is None:
            start = f
        elif not is_open and start is not None:
            spans.append((ms_of(start, fps), ms_of(f, fps)))
            start = None
    return tuple(spans)
