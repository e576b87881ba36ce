"""faces.json (pure): the video's shots with their motion, every face track with a box per
frame, and the AniVid face clips with their crop windows and files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

from dubset_common.jsondoc import load_object
from dubset_faces.core.model import Box, FaceClip, FacesInputError, Shot, Track
from dubset_faces.core.speaking import ClipSpan, Speaking, Turn, characters

FORMAT = "dubset-faces/1"


def clip_id(clip: FaceClip) -> str:
    """A face clip's id within its episode: shot, track, first frame."""
    return f"s{clip.shot:04d}-t{clip.track:04d}-f{clip.start:06d}"


def ms(frame: int, fps: Fraction) -> int:
    """The time of a frame on the analysis clock, in ms (rounded down)."""
    return int(frame * 1000 / fps)


def faces_doc(
    *,
    video: Mapping[str, object],
    fps: Fraction,
    shots: Sequence[Shot],
    motion: Sequence[float],
    tracks: Sequence[Track],
    clips: Sequence[FaceClip],
    files: Mapping[str, Mapping[str, str]],
    analysis: Mapping[str, object],
    opened: Sequence[Sequence[bool]] = (),
    speaking: Sequence[Speaking] | None = None,
) -> dict[str, object]:
    """The faces.json value. files: per clip id, its file names by kind ("crop", "full");
    opened: per track, its mouth open at each frame; speaking: who speaks in each clip."""
    value: dict[str, object] = {
        "format": FORMAT,
        "video": {**video, "fps": f"{fps.numerator}/{fps.denominator}"},
        "analysis": dict(analysis),
        "shots": [
            {
                "index": i,
                "start_frame": s.start,
                "end_frame": s.end,
                "start_ms": ms(s.start, fps),
                "end_ms": ms(s.end, fps),
                "motion": motion[i],
                "faces": sum(1 for t in tracks if t.shot == i),
            }
            for i, s in enumerate(shots)
        ],
        "tracks": [
            {
                "id": i,
                "shot": t.shot,
                "start_frame": t.start,
                "end_frame": t.end,
                "hits": t.hits,
                "score": round(t.score, 4),
                "boxes": [_box(b) for b in t.boxes],
                "mouths": [None if m is None else _box(m) for m in t.mouths],
                "mouth_open": _spans(opened[i], t.start, fps) if i < len(opened) else [],
            }
            for i, t in enumerate(tracks)
        ],
        "clips": [
            {
                "id": clip_id(c),
                "shot": c.shot,
                "track": c.track,
                "start_frame": c.start,
                "end_frame": c.end,
                "start_ms": ms(c.start, fps),
                "end_ms": ms(c.end, fps),
                "motion": c.motion,
                "crop": [list(w) for w in c.crops],
                "files": dict(files.get(clip_id(c), {})),
            }
            for c in clips
        ],
    }
    if speaking is not None:
        value["speaking"] = [_speaking(s) for s in speaking]
        value["characters"] = {k: v for k, v in characters(speaking).items()}
    return value


def _speaking(s: Speaking) -> dict[str, object]:
    return {
        "clip": s.clip.index,
        "ja_start_ms": s.clip.start_ms,
        "ja_end_ms": s.clip.end_ms,
        "visible_tracks": list(s.visible),
        "speaking_track": s.track,
        "visible_speaker": s.track is not None,
        "speaker": s.speaker,
        "open_share": {str(k): v for k, v in sorted(s.shares.items())},
        "mouth_open": [list(span) for span in s.mouth_open],
    }


def _spans(opened: Sequence[bool], start: int, fps: Fraction) -> list[list[int]]:
    """A track's mouth-open frames as [start_ms, end_ms) spans."""
    spans: list[list[int]] = []
    run: int | None = None
    for i, is_open in enumerate([*opened, False]):
        if is_open and run is None:
            run = i
        elif not is_open and run is not None:
            spans.append([ms(start + run, fps), ms(start + i, fps)])
            run = None
    return spans


def parse_clips(data: bytes) -> list[ClipSpan]:
    """The JA spans of the alignment's clips.json, in its order."""
    doc = load_object(data, "clips.json", FacesInputError)
    items = doc.get("clips")
    if not isinstance(items, list):
        raise FacesInputError("clips.json has no clips list")
    out = []
    for i, item in enumerate(items):
        start, end = _span(item, "ja_start_ms", "ja_end_ms", f"clips.json clips[{i}]")
        out.append(ClipSpan(i, start, end))
    return out


def parse_translation(data: bytes) -> list[ClipSpan]:
    """The JA spans of a translation.json's lines (a dub's lines), in its order."""
    doc = load_object(data, "translation.json", FacesInputError)
    items = doc.get("lines")
    if not isinstance(items, list):
        raise FacesInputError("translation.json has no lines list")
    return [
        ClipSpan(i, *_span(item, "start_ms", "end_ms", f"translation.json lines[{i}]"))
        for i, item in enumerate(items)
    ]


def parse_turns(data: bytes) -> list[Turn]:
    """The speaker turns of the JA diarization's turns.json."""
    doc = load_object(data, "turns.json", FacesInputError)
    items = doc.get("turns")
    if not isinstance(items, list):
        raise FacesInputError("turns.json has no turns list")
    out = []
    for i, item in enumerate(items):
        where = f"turns.json turns[{i}]"
        start, end = _span(item, "start_ms", "end_ms", where)
        speaker = item.get("speaker") if isinstance(item, dict) else None
        if not isinstance(speaker, str) or not speaker:
            raise FacesInputError(f"{where}.speaker must be a non-empty string")
        out.append(Turn(start, end, speaker))
    return out


def _span(item: object, a: str, b: str, where: str) -> tuple[int, int]:
    if not isinstance(item, dict):
        raise FacesInputError(f"{where} must be a JSON object")
    start, end = item.get(a), item.get(b)
    if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool):
        raise FacesInputError(f"{where} needs integer {a} and {b}")
    if not 0 <= start <= end:
        raise FacesInputError(f"{where}: {a} {start} .. {b} {end} is not a span")
    return start, end


def _box(box: Box) -> list[float]:
    return [round(v, 1) for v in box]
