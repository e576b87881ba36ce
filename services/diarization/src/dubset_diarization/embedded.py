"""The embedded backend's models, whose weights ship inside PyPI packages: Silero VAD (ONNX)
and Resemblyzer's speaker encoder (PyTorch)."""

from __future__ import annotations

import importlib.metadata
import importlib.resources
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dubset_common.keys import file_sha256
from dubset_diarization.core.model import SAMPLE_RATE, BackendUnavailableError, FloatArray

TARGET_DBFS = -30.0


def _package_file(package: str, name: str) -> Path:
    path = Path(str(importlib.resources.files(package).joinpath(name)))
    if not path.is_file():
        raise BackendUnavailableError(f"the embedded model file {package}/{name} is missing")
    return path


class SileroVad:
    """Silero VAD v5 through onnxruntime, one thread, state carried across calls."""

    frame_samples = 512
    context_samples = 64

    def __init__(self) -> None:
        try:
            import onnxruntime as ort  # type: ignore[import-untyped]
        except ImportError as exc:
            raise BackendUnavailableError(f"onnxruntime is not installed ({exc})") from None
        self.path = _package_file("silero_vad.data", "silero_vad.onnx")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(self.path), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        self._sr = np.array(SAMPLE_RATE, dtype=np.int64)
        self.reset()

    def reset(self) -> None:
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._context = np.zeros((1, self.context_samples), dtype=np.float32)

    def probabilities(self, frames: FloatArray) -> FloatArray:
        out = np.empty(len(frames), dtype=np.float32)
        for i, frame in enumerate(frames):
            x = np.concatenate([self._context, frame.reshape(1, -1)], axis=1)
            prob, self._state = self._session.run(
                None, {"input": x, "state": self._state, "sr": self._sr}
            )
            self._context = x[:, -self.context_samples :]
            out[i] = float(np.asarray(prob).reshape(-1)[0])
        return out


class ResemblyzerEmbedder:
    """Resemblyzer's GE2E LSTM on 40-band mel frames; each window scaled to -30 dBFS first."""

    def __init__(self, threads: int = 1) -> None:
        try:
            import torch
            from resemblyzer import VoiceEncoder
            from resemblyzer.audio import wav_to_mel_spectrogram
        except ImportError as exc:
            raise BackendUnavailableError(f"resemblyzer is not installed ({exc})") from None
        torch.set_num_threads(threads)
        torch.manual_seed(0)
        self.path = _package_file("resemblyzer", "pretrained.pt")
        self._torch = torch
        self._encoder: Any = VoiceEncoder("cpu", verbose=False, weights_fpath=self.path)
        self._encoder.eval()
        self._mel = wav_to_mel_spectrogram

    def embed(self, windows: Sequence[FloatArray]) -> FloatArray:
        mels = [self._mel(_level(w)) for w in windows]
        out = np.zeros((len(windows), 256), dtype=np.float32)
        by_len: dict[int, list[int]] = {}
        for i, m in enumerate(mels):
            by_len.setdefault(len(m), []).append(i)
        with self._torch.inference_mode():
            for idx in by_len.values():
                batch = self._torch.from_numpy(np.stack([mels[i] for i in idx]))
                out[idx] = self._encoder(batch).numpy()
        return out


def _level(w: FloatArray) -> FloatArray:
    rms = float(np.sqrt(np.mean(np.square(w, dtype=np.float64)))) if len(w) else 0.0
    if rms < 1e-5:
        return np.asarray(w, dtype=np.float32)
    gain = 10 ** (TARGET_DBFS / 20) / rms
    out: FloatArray = np.clip(w * gain, -1.0, 1.0).astype(np.float32)
    return out


def versions() -> dict[str, str]:
    out = {}
    for dist in ("silero-vad", "resemblyzer", "onnxruntime", "torch"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = "missing"
    return out


class EmbeddedModels:
    """Both models, loaded once per process, with their checksums for the stage output."""

    def __init__(self) -> None:
        self.vad = SileroVad()
        self.embedder = ResemblyzerEmbedder()
        self.checksums = {
            "silero_vad.onnx": file_sha256(self.vad.path),
            "resemblyzer/pretrained.pt": file_sha256(self.embedder.path),
        }
        self.versions = versions()
