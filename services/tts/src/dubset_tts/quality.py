"""Objective scores: resemblyzer speaker embeddings and DNSMOS (speechmos's ONNX models)."""

from __future__ import annotations

import functools
import importlib
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dubset_tts.core.model import BackendUnavailableError, Speech
from dubset_voices.dsp import resample

EMBED_RATE = 16000
DNSMOS_RATE = 16000


class ResemblyzerEmbedder:
    """GE2E d-vectors (resemblyzer's bundled encoder, CPU): unit-norm, 256 floats."""

    @functools.cached_property
    def _encoder(self) -> Any:
        try:
            from resemblyzer import VoiceEncoder
        except ImportError as exc:
            raise BackendUnavailableError(f"resemblyzer is not installed ({exc})") from exc
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
    """DNSMOS P.835 overall (OVRL, 1..5) on 16 kHz audio, one ONNX thread for the same bytes."""

    @functools.cached_property
    def _model(self) -> Any:
        try:
            ort = importlib.import_module("onnxruntime")
            from speechmos import dnsmos
        except ImportError as exc:
            raise BackendUnavailableError(f"speechmos/onnxruntime not installed ({exc})") from exc
        models = Path(dnsmos.__file__).parent / "dnsmos_models"
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        providers = ["CPUExecutionProvider"]
        model = object.__new__(dnsmos.DNSMOS)
        model.primary_model_path = str(models / "sig_bak_ovr.onnx")
        model.onnx_sess = ort.InferenceSession(
            model.primary_model_path, options, providers=providers
        )
        model.p808_onnx_sess = ort.InferenceSession(
            str(models / "model_v8.onnx"), options, providers=providers
        )
        return model

    def dnsmos(self, speech: Speech) -> float:
        audio = np.clip(resample(speech.samples, speech.rate, DNSMOS_RATE), -1.0, 1.0)
        if audio.size < DNSMOS_RATE // 10:
            raise ValueError("DNSMOS needs at least 0.1 s of audio")
        return float(self._model(audio.astype(np.float32), DNSMOS_RATE, False)["ovrl_mos"])
