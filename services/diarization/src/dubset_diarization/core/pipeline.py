"""The embedded diarization pipeline over streamed 16 kHz audio: VAD → windows → embeddings →
clustering → turns. Two passes over the audio keep memory bounded by one chunk plus one window."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from dubset_diarization.core.cluster import ClusterConfig, cluster
from dubset_diarization.core.model import (
    SAMPLE_RATE,
    Diarization,
    FloatArray,
    SpeakerBounds,
    SpeakerEmbedder,
    SpeechDetector,
)
from dubset_diarization.core.turns import TurnConfig, build_turns, smooth, to_ms
from dubset_diarization.core.vad import VadConfig, speech_regions
from dubset_diarization.core.windows import Window, WindowConfig, windows_for

AudioChunks = Callable[[], Iterator[FloatArray]]
Hook = Callable[[float, str], None]
EMBED_BATCH = 32


@dataclass(frozen=True)
class PipelineConfig:
    vad: VadConfig = field(default_factory=VadConfig)
    windows: WindowConfig = field(default_factory=WindowConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    turns: TurnConfig = field(default_factory=TurnConfig)


@dataclass(frozen=True)
class Stats:
    """What the run saw, for the stage's info (deterministic)."""

    speech_ms: int
    regions: int
    windows: int


def _no_hook(_fraction: float, _message: str) -> None:
    return None


def detect(chunks: Iterable[FloatArray], detector: SpeechDetector) -> tuple[FloatArray, int]:
    """Speech probability per frame over the whole stream, and the number of samples."""
    detector.reset()
    size = detector.frame_samples
    carry = np.zeros(0, dtype=np.float32)
    probs: list[FloatArray] = []
    total = 0
    for chunk in chunks:
        total += len(chunk)
        buf = np.concatenate([carry, np.asarray(chunk, dtype=np.float32)])
        whole = len(buf) // size * size
        if whole:
            probs.append(detector.probabilities(buf[:whole].reshape(-1, size)))
        carry = buf[whole:]
    if len(carry):
        last = np.zeros((1, size), dtype=np.float32)
        last[0, : len(carry)] = carry
        probs.append(detector.probabilities(last))
    out = np.concatenate(probs) if probs else np.zeros(0, dtype=np.float32)
    return out.astype(np.float32), total


def embed_windows(
    chunks: Iterable[FloatArray],
    windows: list[Window],
    embedder: SpeakerEmbedder,
    hook: Hook = _no_hook,
) -> FloatArray:
    """Embeddings of windows (sorted by start) cut from the stream as it passes."""
    if not windows:
        return np.zeros((0, 0), dtype=np.float32)
    buf = np.zeros(0, dtype=np.float32)
    buf_start = 0
    nxt = 0
    batch: list[FloatArray] = []
    out: list[FloatArray] = []

    def flush() -> None:
        if batch:
            out.append(np.asarray(embedder.embed(batch), dtype=np.float32))
            batch.clear()
            hook(nxt / len(windows), f"embedded {nxt}/{len(windows)} windows")

    for chunk in chunks:
        buf = np.concatenate([buf, np.asarray(chunk, dtype=np.float32)])
        while nxt < len(windows) and windows[nxt].end <= buf_start + len(buf):
            w = windows[nxt]
            batch.append(buf[w.start - buf_start : w.end - buf_start].copy())
            nxt += 1
            if len(batch) >= EMBED_BATCH:
                flush()
        keep_from = windows[nxt].start if nxt < len(windows) else buf_start + len(buf)
        drop = max(0, min(keep_from - buf_start, len(buf)))
        buf, buf_start = buf[drop:], buf_start + drop
    while nxt < len(windows):
        w = windows[nxt]
        piece = np.zeros(w.end - w.start, dtype=np.float32)
        avail = buf[max(0, w.start - buf_start) : w.end - buf_start]
        piece[: len(avail)] = avail
        batch.append(piece)
        nxt += 1
    flush()
    return np.concatenate(out)


def diarize(
    audio: AudioChunks,
    detector: SpeechDetector,
    embedder: SpeakerEmbedder,
    bounds: SpeakerBounds,
    config: PipelineConfig = PipelineConfig(),
    hook: Hook = _no_hook,
) -> tuple[Diarization, Stats]:
    """Who speaks when. audio() yields the same 16 kHz mono float32 stream on every call.

    Overlapped speech is not modelled: every instant of speech gets one speaker.
    """
    probs, total = detect(audio(), detector)
    hook(0.2, f"voice activity over {to_ms(total)} ms")
    regions = speech_regions(probs, detector.frame_samples, total, config.vad)
    windows = windows_for(regions, total, config.windows)
    speech = sum(e - s for s, e in regions)
    stats = Stats(to_ms(speech), len(regions), len(windows))
    if not windows:
        return Diarization((), to_ms(total, up=True)), stats
    emb = embed_windows(audio(), windows, embedder, lambda f, m: hook(0.2 + 0.7 * f, m))
    labels = cluster(emb, bounds, config.cluster)
    labels_list = smooth(labels.tolist(), [w.region for w in windows])
    turns = build_turns(regions, windows, labels_list, config.turns)
    hook(1.0, f"{len(turns)} turns")
    return Diarization(tuple(turns), to_ms(total, up=True)), stats


__all__ = ["SAMPLE_RATE", "AudioChunks", "PipelineConfig", "Stats", "detect", "diarize"]
