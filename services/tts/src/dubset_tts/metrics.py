"""dubset_tts_* series beyond the common stage ones: clips by outcome, audio made, speed."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram

RTF_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2, 3, 5, 10)


@dataclass(frozen=True)
class TtsMetrics:
    clips: Counter
    audio_seconds: Counter
    rtf: Histogram

    @classmethod
    def create(cls, registry: CollectorRegistry) -> TtsMetrics:
        return cls(
            clips=Counter(
                "dubset_tts_clips",
                "clips dubbed, by backend and outcome (fit, unfit, skipped)",
                ["backend", "outcome"],
                registry=registry,
            ),
            audio_seconds=Counter(
                "dubset_tts_audio_seconds",
                "seconds of dubbed clip audio produced, by backend",
                ["backend"],
                registry=registry,
            ),
            rtf=Histogram(
                "dubset_tts_real_time_factor",
                "dubbing wall time / dubbed audio duration per request, by backend",
                ["backend"],
                buckets=RTF_BUCKETS,
                registry=registry,
            ),
        )

    def observe(
        self, backend: str, fit: int, unfit: int, skipped: int, audio_s: float, wall_s: float
    ) -> None:
        self.clips.labels(backend, "fit").inc(fit)
        self.clips.labels(backend, "unfit").inc(unfit)
        self.clips.labels(backend, "skipped").inc(skipped)
        self.audio_seconds.labels(backend).inc(audio_s)
        if audio_s > 0:
            self.rtf.labels(backend).observe(wall_s / audio_s)
