"""Per-clip quality as the quality stage writes it and `dubset export` reads it: the signals'
names, the quality fragment's format, and the thresholds a filtered export applies."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

QUALITY_FORMAT = "dubset-dataset-quality/1"
QUALITY_FOLDER = "quality"  # datasets/<ds>/quality/<episode_id>.json

# The signals of one clip pair, in the order the manifest shows them. Per language: DNSMOS
# P.835 overall (1..5) of the dialogue stem, the share of the clip where two diarized speakers
# overlap, the mean ASR word confidence, and the agreement (1 - error rate) of re-recognising the
# cut clip with the segment text; for the pair: the JA/EN duration ratio and the level of the
# backing track under the English dialogue (dB, backing minus dialogue).
SIGNALS = (
    "dnsmos_ja",
    "dnsmos_en",
    "overlap_ja",
    "overlap_en",
    "confidence_ja",
    "confidence_en",
    "agreement_ja",
    "agreement_en",
    "duration_ratio",
    "music_db",
)
SCORE = "score"  # the pair's single quality score, 0..1 (the rule: docs/quality.md)


@dataclass(frozen=True)
class Thresholds:
    """What `dubset export` keeps: a pair fails on any threshold set (None: not checked)."""

    min_quality: float | None = None
    min_dnsmos: float | None = None
    max_overlap: float | None = None
    max_duration_ratio: float | None = None  # symmetric: JA/EN or EN/JA over it fails
    min_confidence: float | None = None
    min_agreement: float | None = None
    max_music_db: float | None = None

    @property
    def active(self) -> bool:
        return any(v is not None for v in self.__dict__.values())


def reasons(quality: Mapping[str, float | None], t: Thresholds) -> list[str]:
    """Why a pair with these signals (and `score`) is dropped; empty when it is kept."""
    out: list[str] = []
    q = quality.get("score")
    if t.min_quality is not None and q is not None and q < t.min_quality:
        out.append(f"quality {q:.3f} < {t.min_quality:g}")
    for lang in ("ja", "en"):
        _low(out, quality.get(f"dnsmos_{lang}"), t.min_dnsmos, f"dnsmos_{lang}")
        _high(out, quality.get(f"overlap_{lang}"), t.max_overlap, f"overlap_{lang}")
        _low(out, quality.get(f"confidence_{lang}"), t.min_confidence, f"confidence_{lang}")
        _low(out, quality.get(f"agreement_{lang}"), t.min_agreement, f"agreement_{lang}")
    ratio = quality.get("duration_ratio")
    if t.max_duration_ratio is not None and ratio:
        spread = max(ratio, 1.0 / ratio)
        if spread > t.max_duration_ratio:
            out.append(f"duration ratio {ratio:.3f} beyond {t.max_duration_ratio:g}x")
    _high(out, quality.get("music_db"), t.max_music_db, "music_db")
    return out


def _low(out: list[str], value: float | None, limit: float | None, name: str) -> None:
    if limit is not None and value is not None and value < limit:
        out.append(f"{name} {value:.3f} < {limit:g}")


def _high(out: list[str], value: float | None, limit: float | None, name: str) -> None:
    if limit is not None and value is not None and value > limit:
        out.append(f"{name} {value:.3f} > {limit:g}")
