"""Does the quality score predict clip correctness? Each scored clip pair of a quality
fragment is correct when it matches a truth pair (one-to-one, IoU >= 0.5 in both languages);
the pairs ranked by score into deciles, each decile's share of correct pairs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from dubset_eval.clips import ClipSpan, match_clips
from dubset_eval.errors import EvalInputError

QUALITY_FORMAT = "dubset-dataset-quality/1"
BINS = 10


@dataclass(frozen=True)
class QualityRow:
    """One quality fragment's pairs: their scores and whether each is correct."""

    source: str
    scores: tuple[float, ...]
    correct: tuple[bool, ...]

    def mean(self, correct: bool) -> float | None:
        values = [s for s, c in zip(self.scores, self.correct, strict=True) if c is correct]
        return sum(values) / len(values) if values else None


@dataclass(frozen=True)
class Decile:
    low: float
    high: float
    pairs: int
    correct: int

    @property
    def share(self) -> float:
        return self.correct / self.pairs


def parse_scored(value: Mapping[str, object]) -> list[tuple[ClipSpan, float]]:
    """Each pair's spans and score."""
    clips = value.get("clips")
    if value.get("format") != QUALITY_FORMAT or not isinstance(clips, dict):
        raise EvalInputError("not a quality fragment (dubset-dataset-quality/1 with clips)")
    out = []
    for jp, item in sorted(clips.items()):
        try:
            span = ClipSpan(*(int(item[k]) for k in ("ja_start_ms", "ja_end_ms",
                                                     "en_start_ms", "en_end_ms")))  # fmt: skip
            out.append((span, float(item["score"])))
        except (KeyError, TypeError, ValueError):
            raise EvalInputError(f"quality clip {jp}: spans and score must be numbers") from None
    return out


def quality_row(source: str, truth: Sequence[ClipSpan], value: Mapping[str, object]) -> QualityRow:
    scored = parse_scored(value)
    matched = {j for _, j in match_clips(truth, [span for span, _ in scored])}
    return QualityRow(
        source,
        tuple(score for _, score in scored),
        tuple(j in matched for j in range(len(scored))),
    )


def deciles(rows: Iterable[QualityRow], bins: int = BINS) -> list[Decile]:
    """The pairs of every row pooled, ranked by score (ties keep their order), cut into up to
    `bins` groups of near-equal size, lowest scores first."""
    pairs = sorted(((s, c) for r in rows for s, c in zip(r.scores, r.correct, strict=True)),
                   key=lambda p: p[0])  # fmt: skip
    if not pairs:
        return []
    count = min(bins, len(pairs))
    out = []
    for k in range(count):
        part = pairs[k * len(pairs) // count : (k + 1) * len(pairs) // count]
        out.append(Decile(part[0][0], part[-1][0], len(part), sum(c for _, c in part)))
    return out


def quality_lines(rows: Sequence[QualityRow]) -> list[str]:
    """The decile table of all rows pooled, and the mean score of correct and wrong pairs."""
    if not rows:
        return []
    out = ["Quality score vs clip correctness (pairs ranked by score, lowest decile first)"]
    out.append(f"  {'decile':>6}  {'score':>13}  {'pairs':>5}  {'correct':>7}")
    for k, d in enumerate(deciles(rows), 1):
        out.append(f"  {k:>6}  {d.low:.3f}-{d.high:.3f}  {d.pairs:>5}  {d.share:>7.0%}")
    pooled = QualityRow("", tuple(s for r in rows for s in r.scores),
                        tuple(c for r in rows for c in r.correct))  # fmt: skip
    right, wrong = pooled.mean(True), pooled.mean(False)
    out.append(
        f"  mean score: correct pairs {_f(right)}, wrong pairs {_f(wrong)} "
        f"({sum(pooled.correct)} of {len(pooled.correct)} correct)"
    )
    return [*out, ""]


def quality_json(r: QualityRow) -> dict[str, object]:
    return {
        "source": r.source,
        "pairs": len(r.scores),
        "correct": sum(r.correct),
        "mean_score_correct": r.mean(True),
        "mean_score_wrong": r.mean(False),
        "scores": list(r.scores),
        "is_correct": list(r.correct),
        "deciles": [
            {"low": d.low, "high": d.high, "pairs": d.pairs, "correct": d.correct}
            for d in deciles([r])
        ],
    }


def _f(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"
