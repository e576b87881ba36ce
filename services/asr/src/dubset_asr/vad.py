"""Silero VAD (the ONNX file inside the silero-vad wheel, never a download) over 16 kHz audio."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterable, Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from dubset_asr.audio import SAMPLE_RATE, stream_16k
from dubset_asr.core.blocks import Samples
from dubset_asr.core.model import ModelUnavailableError
from dubset_asr.core.speech import DEFAULT_SPEECH, Interval, SpeechConfig, speech_intervals
from dubset_common.keys import file_sha256

FRAME_SAMPLES = 512  # Silero v5 at 16 kHz: 32 ms frames
FRAME_MS = FRAME_SAMPLES * 1000 // SAMPLE_RATE
CONTEXT_SAMPLES = 64


def model_path() -> Path:
    """silero_vad/data/silero_vad.onnx, found without importing the package (which loads torch)."""
    spec = importlib.util.find_spec("silero_vad")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError("silero-vad is not installed (pip install silero-vad)")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "silero_vad.onnx"
    if not path.is_file():
        raise ModelUnavailableError(f"{path} is missing from the silero-vad package")
    return path


class SileroVad:
    """Per-frame speech probabilities; the recurrent state runs across a whole stream."""

    def __init__(self) -> None:
        try:
            import onnxruntime as ort  # type: ignore[import-untyped]
        except ImportError as exc:
            raise ModelUnavailableError(f"onnxruntime is not installed ({exc})") from None
        self.path = model_path()
        self.sha256 = file_sha256(self.path)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self._session: Any = ort.InferenceSession(
            str(self.path), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        self._sr = np.array(SAMPLE_RATE, dtype=np.int64)
        self._lock = threading.Lock()

    def info(self) -> dict[str, str]:
        try:
            package = version("silero-vad")
        except PackageNotFoundError:
            package = "unknown"
        return {"silero_vad": package, "silero_vad_sha256": self.sha256}

    def stream(self) -> VadStream:
        return VadStream(self)

    def probabilities(self, chunks: Iterable[Samples]) -> list[float]:
        """One probability per 32 ms frame of the stream (the last frame zero-padded)."""
        stream = self.stream()
        for chunk in chunks:
            stream.feed(chunk)
        return stream.finish()

    def step(self, frame: Samples, state: Samples, context: Samples) -> tuple[float, Samples]:
        """(speech probability, next state) of one frame after its 64 samples of context."""
        x = np.concatenate([context, frame]).reshape(1, -1)
        with self._lock:  # an onnxruntime session serves one stream at a time here
            prob, state = self._session.run(None, {"input": x, "state": state, "sr": self._sr})
        return float(np.asarray(prob).reshape(-1)[0]), state


class VadStream:
    """Samples fed in any chunking give the same probabilities; memory is a frame plus a float
    per 32 ms frame seen (180 KiB for a 24-minute episode)."""

    def __init__(self, vad: SileroVad) -> None:
        self._vad = vad
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT_SAMPLES, dtype=np.float32)
        self._rest = np.zeros(0, dtype=np.float32)
        self.samples = 0
        self.probs: list[float] = []

    def feed(self, chunk: Samples) -> None:
        self.samples += len(chunk)
        buf = np.concatenate([self._rest, np.asarray(chunk, dtype=np.float32)])
        n = len(buf) // FRAME_SAMPLES
        for i in range(n):
            self._frame(buf[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES])
        self._rest = buf[n * FRAME_SAMPLES :].copy()

    def finish(self) -> list[float]:
        if len(self._rest):
            frame = np.zeros(FRAME_SAMPLES, dtype=np.float32)
            frame[: len(self._rest)] = self._rest
            self._frame(frame)
            self._rest = np.zeros(0, dtype=np.float32)
        return self.probs

    def duration_ms(self) -> int:
        return self.samples * 1000 // SAMPLE_RATE

    def speech(self, config: SpeechConfig = DEFAULT_SPEECH) -> list[Interval]:
        """The speech map of everything fed so far (call finish first)."""
        return speech_intervals(self.probs, FRAME_MS, self.duration_ms(), config)

    def _frame(self, frame: Samples) -> None:
        prob, self._state = self._vad.step(frame, self._state, self._context)
        self._context = frame[-CONTEXT_SAMPLES:].copy()
        self.probs.append(prob)


def tap(chunks: Iterable[Samples], stream: VadStream) -> Iterator[Samples]:
    """chunks unchanged, each fed to the VAD stream on its way through."""
    for chunk in chunks:
        stream.feed(chunk)
        yield chunk


_vad: SileroVad | None = None
_vad_lock = threading.Lock()


def shared_vad() -> SileroVad:
    """One loaded model per process."""
    global _vad
    with _vad_lock:
        if _vad is None:
            _vad = SileroVad()
        return _vad


def file_speech(
    vad: SileroVad, audio: Path, config: SpeechConfig = DEFAULT_SPEECH
) -> list[Interval]:
    """The speech map of a whole file, decoded as a stream (memory: one chunk)."""
    stream = vad.stream()
    for chunk in stream_16k(audio):
        stream.feed(chunk)
    stream.finish()
    return stream.speech(config)
