"""Where the dub goes in its clip and how far its speech is stretched to get there.

Placement: the target is the original EN speech inside the clip, from the first to the last
active 20 ms frame of the dialogue stem's span (active: within 20 dB of the loudest frame and
above -60 dBFS); a clip with no active frame targets the whole clip. The dub starts at the
target onset (minus FitPolicy.lead_ms); speech that would run past the clip end moves earlier,
down to the clip start; speech longer than the clip is cut with a 30 ms fade-out.

Fit: the natural (unstretched) speech is time-stretched by target / natural, clamped to
[1 / max_speedup, max_slowdown]. A clip fits when the clamp moved the factor by at most 2 %
(so FitPolicy(1.0, 1.0), no stretching, fits speech within 2 % of the target); an unfit clip is
still dubbed at the bounded rate (placed as above) and reported in unfit_clips.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dubset_tts.core.model import Audio, FitPolicy

Stretch = Callable[[Audio, int, float], Audio]  # (samples, rate, duration factor) -> samples

FRAME_MS = 20
# Separated dialogue stems keep backing leakage 25-35 dB under the speech; 20 dB ignores it and
# trims at most ~80 ms of weak word-final consonants on clean stems (measured on the demo).
ACTIVE_BELOW_PEAK_DB = 20.0
ACTIVE_FLOOR_DBFS = -60.0
FADE_MS = 30
FIT_TOLERANCE = 0.02  # a clamped factor within 2 % of the wanted one still fits


@dataclass(frozen=True)
class Span:
    start: int  # samples from the clip start
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start


def active_span(dialogue: Audio, rate: int) -> Span:
    """First to last active frame of the original dialogue; the whole clip when none is."""
    frame = max(1, rate * FRAME_MS // 1000)
    n = len(dialogue) // frame
    if n == 0:
        return Span(0, len(dialogue))
    frames = dialogue[: n * frame].astype(np.float64).reshape(n, frame)
    db = 10 * np.log10(np.mean(np.square(frames), axis=1) + 1e-20)
    threshold = max(float(np.max(db)) - ACTIVE_BELOW_PEAK_DB, ACTIVE_FLOOR_DBFS)
    active = np.flatnonzero(db >= threshold)
    if active.size == 0:
        return Span(0, len(dialogue))
    return Span(int(active[0]) * frame, min(len(dialogue), (int(active[-1]) + 1) * frame))


@dataclass(frozen=True)
class Fitted:
    samples: Audio  # the stretched speech, not yet placed
    natural_ratio: float  # natural length / target length
    fits: bool


def fit(speech: Audio, rate: int, target: Span, policy: FitPolicy, stretch: Stretch) -> Fitted:
    """Stretch the speech toward the target length within the policy's bounds."""
    natural_ratio = len(speech) / max(1, target.length)
    wanted = 1.0 / natural_ratio  # duration factor that lands exactly on the target
    factor = min(max(wanted, 1.0 / policy.max_speedup), policy.max_slowdown)
    fits = abs(factor - wanted) <= FIT_TOLERANCE * wanted
    if abs(factor - 1.0) < 1e-3 or len(speech) == 0:
        return Fitted(speech.astype(np.float32), natural_ratio, fits)
    out = stretch(speech, rate, factor)
    if fits:  # PSOLA lands within a pitch period: make a fitting clip exactly the target
        out = _exact(out, target.length)
    return Fitted(np.asarray(out, np.float32), natural_ratio, fits)


def place(speech: Audio, rate: int, clip_len: int, target: Span, lead_ms: int) -> tuple[Audio, int]:
    """The speech in a clip-long track, and how many of its samples were kept."""
    track = np.zeros(clip_len, np.float32)
    kept = speech[:clip_len].copy()
    if len(kept) < len(speech):
        fade = min(len(kept), rate * FADE_MS // 1000)
        if fade:
            kept[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    start = max(0, target.start - rate * lead_ms // 1000)
    start = min(start, clip_len - len(kept))
    track[start : start + len(kept)] = kept
    return track, len(kept)


def _exact(audio: Audio, n: int) -> Audio:
    if len(audio) >= n:
        return audio[:n]
    return np.concatenate([audio, np.zeros(n - len(audio), np.float32)])
