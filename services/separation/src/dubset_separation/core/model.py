"""Domain values and errors of separation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

BACKENDS = ("dualdub", "repet", "spleeter")
LANGS = ("ja", "en")
MAX_AUDIO_SECONDS = 4 * 3600
# Chunks bound memory: a 2-hour episode costs what one chunk does.
CHUNK_SECONDS = 30.0
MARGIN_SECONDS = 2.0

ProgressHook = Callable[[float, str], None]


def no_progress(_fraction: float, _message: str) -> None:
    """A hook that reports nothing."""


class SeparationInputError(ValueError):
    """The audio or parameters cannot be separated: unreadable, empty, too long, unpaired."""


class BackendUnavailableError(RuntimeError):
    """The requested backend cannot load (missing environment or model); never replaced."""


@dataclass(frozen=True)
class LanguageStats:
    """What happened to one language's track; deterministic values only."""

    language: str
    sample_rate: int
    channels: int
    samples: int
    mixture_rms_dbfs: float
    dialogue_rms_dbfs: float
    backing_rms_dbfs: float
    fallback_seconds: float = 0.0  # dualdub: seconds outside the other track (REPET there)
    extra: dict[str, object] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "sample_rate": self.sample_rate,
            "channels": self.channels,
            "samples": self.samples,
            "duration_ms": self.samples * 1000 // self.sample_rate,
            "mixture_rms_dbfs": round(self.mixture_rms_dbfs, 2),
            "dialogue_rms_dbfs": round(self.dialogue_rms_dbfs, 2),
            "backing_rms_dbfs": round(self.backing_rms_dbfs, 2),
            "fallback_seconds": round(self.fallback_seconds, 3),
        }
        out.update(self.extra)
        return out


@dataclass(frozen=True)
class SeparationResult:
    backend: str
    model: str
    stats: tuple[LanguageStats, ...]
    info: dict[str, object] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {
            "format": "dubset-separation/1",
            "backend": self.backend,
            "model": self.model,
            "languages": {s.language: s.to_json() for s in self.stats},
            **self.info,
        }
