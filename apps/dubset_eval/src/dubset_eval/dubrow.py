"""The report's dub rows: an automatic dub (`dubset dub`) against the human dub of the episode."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dubset_eval.dubscore import Timing, Voices
from dubset_eval.tables import Table, decibels, millis, percent
from dubset_eval.text import ErrorRate


@dataclass(frozen=True)
class BedScore:
    """The English track's bed where nobody speaks, against the truth's JA backing: SI-SDR (dB)
    of the English track and, for scale, of the Japanese track itself over the same samples;
    and over the whole track, how much of the JA dialogue it keeps (dubscore.dialogue_kept_db;
    0 dB: as much as the original). The tracks' lag behind the truth (AAC priming) is taken
    out first."""

    lag_ms: float
    seconds: float
    si_sdr_db: float | None
    original_si_sdr_db: float | None
    dialogue_kept_db: float | None = None


@dataclass(frozen=True)
class DubRow:
    source: str
    timing: Timing
    voices: Voices
    wer: ErrorRate | None = None  # the English track recognised again, against its own text
    heard: str = ""  # what the recogniser heard
    bed: BedScore | None = None
    dnsmos: float | None = None  # mean DNSMOS OVRL of the English track over the dubbed lines
    similarity_ja: float | None = None  # mean over characters: the dub voice vs their JA voice
    similarity_en: float | None = None  # ... vs the human dub's voice of the character


def _num(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def timing_cells(r: DubRow) -> list[str]:
    t = r.timing
    edges = (t.start_p50_ms, t.start_p95_ms, t.end_p50_ms, t.end_p95_ms)
    return [
        r.source,
        str(t.lines),
        percent(t.matched_share, 1),
        *map(millis, edges),
        millis(t.start_median_signed_ms),
        _num(t.rate_median),
    ]


def audio_cells(r: DubRow) -> list[str]:
    v, bed = r.voices, r.bed
    return [
        r.source,
        percent(None if r.wer is None else r.wer.rate),
        str(v.characters),
        str(v.voices),
        str(len(v.shared)),
        decibels(None if bed is None else bed.si_sdr_db),
        decibels(None if bed is None else bed.original_si_sdr_db),
        decibels(None if bed is None else bed.dialogue_kept_db),
        _num(r.dnsmos),
        _num(r.similarity_ja),
        _num(r.similarity_en),
    ]


DUB_TIMING_TABLE = Table(
    "Dub timing (vs the human dub's line of the same JA line, |error| in ms; rate: dub/human)",
    ("source", "lines", "match", "start p50", "p95", "end p50", "p95", "signed", "rate"),
    timing_cells,
)
DUB_AUDIO_TABLE = Table(
    "Dub audio (WER heard again; bed SI-SDR where nobody speaks; JA dialogue kept, dB; similarity)",
    ("source", "WER", "chars", "voices", "shared", "bed", "ja bed", "ja kept", "DNSMOS",
     "sim ja", "sim en"),
    audio_cells,
)  # fmt: skip


def dub_lines(rows: Sequence[DubRow]) -> list[str]:
    """Both tables, then the voices two characters share and the characters two voices split."""
    if not rows:
        return []
    out = DUB_TIMING_TABLE.lines(rows) + DUB_AUDIO_TABLE.lines(rows)
    listed = []
    for r in rows:
        listed += [f"  shared voice: {r.source}: {v}: {', '.join(c)}" for v, c in r.voices.shared]
        listed += [f"  split character: {r.source}: {c}: {', '.join(v)}" for c, v in r.voices.split]
    return out + ([*listed, ""] if listed else [])


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def dub_json(r: DubRow) -> dict[str, object]:
    t, v, bed, wer = r.timing, r.voices, r.bed, r.wer
    return {
        "source": r.source,
        "lines": t.lines,
        "matched": t.matched,
        "matched_share": _r(t.matched_share),
        "start_p50_error_ms": _r(t.start_p50_ms),
        "start_p95_error_ms": _r(t.start_p95_ms),
        "end_p50_error_ms": _r(t.end_p50_ms),
        "end_p95_error_ms": _r(t.end_p95_ms),
        "start_median_signed_error_ms": _r(t.start_median_signed_ms),
        "rate_ratio_median": _r(t.rate_median),
        "rerecognition": None
        if wer is None
        else {
            "wer": _r(wer.rate),
            "n_ref": wer.n_ref,
            "n_hyp": wer.n_hyp,
            "substitutions": wer.substitutions,
            "deletions": wer.deletions,
            "insertions": wer.insertions,
            "heard": r.heard,
        },
        "characters": v.characters,
        "voices": v.voices,
        "shared_voices": {voice: list(chars) for voice, chars in v.shared},
        "split_characters": {char: list(voices) for char, voices in v.split},
        "bed": None
        if bed is None
        else {
            "lag_ms": _r(bed.lag_ms),
            "seconds": _r(bed.seconds),
            "si_sdr_db": _r(bed.si_sdr_db),
            "original_si_sdr_db": _r(bed.original_si_sdr_db),
            "ja_dialogue_kept_db": _r(bed.dialogue_kept_db),
        },
        "dnsmos_ovrl": _r(r.dnsmos),
        "speaker_similarity_ja": _r(r.similarity_ja),
        "speaker_similarity_en": _r(r.similarity_en),
    }
