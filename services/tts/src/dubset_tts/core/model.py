"""Domain values of the TTS stage."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Audio = npt.NDArray[np.float32]


class TtsInputError(ValueError):
    """Bad input (span beyond a WAV, empty WAV, unknown backend or voice): not retried."""


class BackendUnavailableError(RuntimeError):
    """The backend cannot run here (missing model dir, package or binary); never falls back."""


@dataclass(frozen=True)
class Speech:
    samples: Audio  # mono float32 in [-1, 1]
    rate: int

    @property
    def duration_ms(self) -> int:
        return round(len(self.samples) * 1000 / self.rate) if self.rate else 0


@dataclass(frozen=True)
class ClipSpec:
    """One clip pair of the episode fragment."""

    clip_id: str  # the EN clip id "xx/<uuid>"
    en_text: str
    ja_text: str
    en_start_ms: int
    en_end_ms: int
    ja_start_ms: int
    ja_end_ms: int
    speakers: tuple[str, ...]  # episode speaker ids; the first is the voice target

    @property
    def duration_ms(self) -> int:
        return self.en_end_ms - self.en_start_ms


@dataclass(frozen=True)
class Voice:
    """The voice chosen for one speaker."""

    speaker: str
    label: str  # e.g. "piper:joe+f0=182Hz,formant=1.05"
    similarity: float | None  # cosine of the chosen voice to the speaker reference, when known


@dataclass(frozen=True)
class FitPolicy:
    """Bounds of the time stretch; FitPolicy(1.0, 1.0) never stretches."""

    max_speedup: float = 1.35  # speech may be compressed to 1/1.35 of its natural duration
    max_slowdown: float = 1.25  # or stretched to 1.25x
    lead_ms: int = 0  # the dub starts this long before the original speech onset (>= 0)

    def __post_init__(self) -> None:
        if not (1.0 <= self.max_speedup <= 4.0 and 1.0 <= self.max_slowdown <= 4.0):
            raise TtsInputError(
                f"fit bounds must be within 1..4 (got speedup {self.max_speedup}, "
                f"slowdown {self.max_slowdown})"
            )
        if self.lead_ms < 0:
            raise TtsInputError(f"lead_ms must be >= 0, got {self.lead_ms}")


@dataclass(frozen=True)
class Scores:
    dnsmos: float | None  # DNSMOS OVRL 1..5 of the dry fitted speech (not the mix)
    duration_ratio: float | None  # fitted speech as heard in the clip / target duration
    speaker_similarity: float | None  # cosine(embed(dub speech), embed(speaker reference))


NO_SCORES = Scores(None, None, None)


@dataclass(frozen=True)
class ClipDub:
    clip_id: str
    text: str  # what was spoken
    voice: str  # Voice.label
    mix: Speech  # the dub over the backing (or dry speech), exactly the clip's EN duration
    speech: Speech  # dry fitted speech placed in the clip's timeline (same length as mix)
    natural_duration_ratio: float  # unstretched speech / target duration
    fits: bool
    scores: Scores


@dataclass(frozen=True)
class EpisodeDub:
    clips: tuple[ClipDub, ...]  # in the order of the input clips
    voices: tuple[Voice, ...]  # sorted by speaker
    mean_scores: Scores  # means over clips where the score is set
    unfit_clips: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]  # (clip_id, reason); they get no file
