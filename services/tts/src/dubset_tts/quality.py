"""Objective scores: resemblyzer speaker embeddings and DNSMOS (speechmos's ONNX models)."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import numpy.typing as npt

from dubset_tts.core.model import BackendUnavailableError, Speech
from dubset_voices.dnsmos import Dnsmos, DnsmosUnavailableError
from dubset_voices.dsp import resample

EMBED_RATE = 16000
# Torch threads for the embeddings, as the diarization stage's embedder sets them: the same
# vectors on every machine, and no pool of spinning threads beside the other stages (on 2
# shared cores, 2 threads made each embedding ~4x slower than 1).
EMBED_THREADS = 1


class ResemblyzerEmbedder:
    """GE2E d-vectors (resemblyzer's bundled encoder, CPU): unit-norm, 256 floats."""

    @functools.cached_property
    def _encoder(self) -> Any:
        try:
            import torch
            from resemblyzer import VoiceEncoder
        except ImportError as exc:
            raise BackendUnavailableError(f"resemblyzer is not installed ({exc})") from exc
        torch.set_num_threads(EMBED_THREADS)
        return VoiceEncoder("cpu", verbose=False)

    def embed(self, speech: Speech) -> npt.NDArray[np.float32]:
        from resemblyzer import preprocess_wav

        wav = resample(speech.samples, speech.rate, EMBED_RATE)
        prepared = preprocess_wav(wav.astype(np.float32), source_sr=EMBED_RATE)
        if len(prepared) < EMBED_RATE // 4:  # the VAD kept almost nothing: use it all
            prepared = wav
        vector = np.asarray(self._encoder.embed_utterance(prepared), np.float32)
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm > 0 else vector


class DnsmosScorer:
    """DNSMOS P.835 overall (OVRL, 1..5), as the quality stage scores a clip: one model run per
    9.01 s (speechmos's own sliding windows and P.808 model cost ~4x as much per dubbed clip)."""

    def __init__(self) -> None:
        self._dnsmos = Dnsmos()

    def dnsmos(self, speech: Speech) -> float:
        try:
            return self._dnsmos.ovrl_clip(speech.samples, speech.rate)
        except DnsmosUnavailableError as exc:
            raise BackendUnavailableError(str(exc)) from exc
