"""Lip-flap agreement: how well a language's speech sits on the speaking character's mouth
flaps (faces.json `speaking`: per clip the speaking track's mouth-open spans, as the faces
stage saw them). Flaps are brief open drawings between closed ones, so the open spans are
first joined across closures of up to FLAP_GAP_MS into the spans the mouth moves; then

- speech in flaps: the share of the language's speech (within clips with a speaking face)
  that falls while the mouth moves;
- flaps covered: the share of the moving-mouth time that has speech.

Rows: the Japanese original (truth JA lines), the human English dub (truth EN lines on the JA
timeline), and an automatic dub (`dubset dub`'s report: lines placed on the JA timeline)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dubset_eval.fields import array, integer, obj

FLAP_GAP_MS = 250
Span = tuple[int, int]


@dataclass(frozen=True)
class FlapScore:
    speech_ms: int  # speech within the clips with a speaking face
    flap_ms: int  # the moving mouth's time in those clips
    overlap_ms: int  # both
    clips: int  # clips with a speaking face

    @property
    def speech_in_flaps(self) -> float | None:
        return None if not self.speech_ms else self.overlap_ms / self.speech_ms

    @property
    def flaps_covered(self) -> float | None:
        return None if not self.flap_ms else self.overlap_ms / self.flap_ms


def moving(spans: Sequence[Span], gap_ms: int = FLAP_GAP_MS) -> list[Span]:
    """Open spans joined across closures of up to gap_ms: where the mouth moves."""
    out: list[Span] = []
    for a, b in sorted(spans):
        if out and a - out[-1][1] <= gap_ms:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _clip(spans: Sequence[Span], lo: int, hi: int) -> list[Span]:
    return [(max(a, lo), min(b, hi)) for a, b in spans if min(b, hi) > max(a, lo)]


def _length(spans: Sequence[Span]) -> int:
    return sum(b - a for a, b in moving(spans, 0))


def _overlap(xs: Sequence[Span], ys: Sequence[Span]) -> int:
    xs, ys = moving(xs, 0), moving(ys, 0)
    total = 0
    for a, b in xs:
        for c, d in ys:
            total += max(0, min(b, d) - max(a, c))
    return total


def flap_spans(doc: Mapping[str, object]) -> list[tuple[Span, list[Span]]]:
    """Per clip of faces.json with a speaking face: the part of its JA span the speaking face
    is on screen, and the mouth's moving spans."""
    out = []
    tracks = array(doc, "tracks", "faces")
    video = obj(doc.get("video", {}), "faces.video")
    num, _, den = str(video.get("fps", "24000/1001")).partition("/")
    fps = float(num) / float(den or 1)
    for n, value in enumerate(array(doc, "speaking", "faces")):
        s = obj(value, f"faces.speaking[{n}]")
        track = s.get("speaking_track")
        if not isinstance(track, int) or not 0 <= track < len(tracks):
            continue
        t = obj(tracks[track], "faces.tracks")
        lo = max(
            integer(s, "ja_start_ms", "faces.speaking"),
            round(integer(t, "start_frame", "faces.tracks") * 1000 / fps),
        )
        hi = min(
            integer(s, "ja_end_ms", "faces.speaking"),
            round(integer(t, "end_frame", "faces.tracks") * 1000 / fps),
        )
        if hi <= lo:
            continue
        opened = [
            (int(x[0]), int(x[1]))
            for x in array(s, "mouth_open", "faces.speaking")
            if isinstance(x, list) and len(x) == 2
        ]
        out.append(((lo, hi), moving(opened)))
    return out


def score_flaps(clips: Sequence[tuple[Span, list[Span]]], speech: Sequence[Span]) -> FlapScore:
    """The agreement of speech (spans on the JA timeline) with the clips' moving mouths."""
    said = flap = common = 0
    for (lo, hi), flaps in clips:
        words = _clip(speech, lo, hi)
        said += _length(words)
        flap += _length(flaps)
        common += _overlap(words, flaps)
    return FlapScore(said, flap, common, len(clips))
