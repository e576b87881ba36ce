"""One quality score per clip pair from its signals, and the filter export applies.

The rule (docs/quality.md, "Per-clip quality"): each signal becomes a sub-score in [0, 1] by a
linear ramp between a bad and a good value; a pair's language-level signals use the worse of the
two languages. The score is the geometric mean of the sub-scores present, each floored at
FLOOR, so one bad signal pulls the score down hard but never hides the others. A signal that
could not be measured (no text, no recognised word, a signal turned off) is left out. The ramp
ends were set on the tuning episodes (seeds 101-106), never on the held-out range.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

FLOOR = 0.05
DIGITS = 3  # signals and the score are stored rounded: the fragment's bytes are stable


@dataclass(frozen=True)
class Ramp:
    """A sub-score: 0 at `bad`, 1 at `good`, linear between (either order)."""

    bad: float
    good: float

    def __call__(self, value: float) -> float:
        t = (value - self.bad) / (self.good - self.bad)
        return min(1.0, max(0.0, t))


# Sub-score name: (the signals it reads, how they combine, its ramp).
RAMPS: dict[str, Ramp] = {
    "agreement": Ramp(0.5, 0.9),  # re-recognition vs the clip's text (1 - WER/CER)
    "confidence": Ramp(0.4, 0.8),  # mean ASR word confidence
    "duration": Ramp(math.log(3.0), math.log(1.5)),  # |ln(JA/EN duration)|
    "overlap": Ramp(0.5, 0.1),  # share of the clip with two speakers at once
    "dnsmos": Ramp(2.0, 3.0),  # DNSMOS P.835 overall of the dialogue
    "music": Ramp(0.0, -10.0),  # backing level over the English dialogue, dB
}


def _worse(signals: Mapping[str, float | None], name: str, low_is_bad: bool) -> float | None:
    values = [v for v in (signals.get(f"{name}_ja"), signals.get(f"{name}_en")) if v is not None]
    if not values:
        return None
    return min(values) if low_is_bad else max(values)


def sub_scores(signals: Mapping[str, float | None]) -> dict[str, float]:
    """The sub-score of every signal that was measured."""
    inputs: dict[str, float | None] = {
        "agreement": _worse(signals, "agreement", True),
        "confidence": _worse(signals, "confidence", True),
        "dnsmos": _worse(signals, "dnsmos", True),
        "overlap": _worse(signals, "overlap", False),
        "music": signals.get("music_db"),
    }
    ratio = signals.get("duration_ratio")
    inputs["duration"] = abs(math.log(ratio)) if ratio else None
    return {name: RAMPS[name](v) for name, v in inputs.items() if v is not None}


def score(signals: Mapping[str, float | None]) -> float:
    """The pair's quality in [0, 1] (1 when nothing could be measured: nothing speaks against
    it)."""
    subs = sub_scores(signals)
    if not subs:
        return 1.0
    logs = [math.log(max(FLOOR, s)) for s in subs.values()]
    return round(math.exp(sum(logs) / len(logs)), DIGITS)
