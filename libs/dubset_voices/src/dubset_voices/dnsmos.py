"""DNSMOS P.835 (speechmos's bundled ONNX models, CPU) on a fixed number of threads (THREADS on
every machine, whatever its cores), so the same audio always gives the same score: onnxruntime
splits a convolution's outputs between threads, never one output's sum, and the scores are
bit-identical on one thread and on two (tests/unit/voices/test_dnsmos.py). Shared by the tts
stage (a dub's clip scores) and the quality stage."""

from __future__ import annotations

import functools
import importlib
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dubset_voices.dsp import resample

DNSMOS_RATE = 16000
MIN_SAMPLES = DNSMOS_RATE // 10
WINDOW = int(9.01 * DNSMOS_RATE)  # the P.835 model's fixed input
THREADS = 2  # one model run in about 55 % of its one-thread time (0.37 -> 0.21 s here)


class DnsmosUnavailableError(RuntimeError):
    """speechmos or onnxruntime is not installed."""


class Dnsmos:
    """DNSMOS P.835 overall (OVRL, 1..5) of mono float audio at any rate."""

    def __init__(self, threads: int = THREADS) -> None:
        self.threads = threads

    @functools.cached_property
    def _model(self) -> Any:
        try:
            ort = importlib.import_module("onnxruntime")
            from speechmos import dnsmos
        except ImportError as exc:
            raise DnsmosUnavailableError(f"speechmos/onnxruntime not installed ({exc})") from exc
        models = Path(dnsmos.__file__).parent / "dnsmos_models"
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        # Idle threads sleep instead of spinning: beside other stages on the same cores, a
        # spinning pool burns the time the others need.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        providers = ["CPUExecutionProvider"]
        model = object.__new__(dnsmos.DNSMOS)
        model.primary_model_path = str(models / "sig_bak_ovr.onnx")
        model.onnx_sess = ort.InferenceSession(
            model.primary_model_path, options, providers=providers
        )
        model.p808_onnx_sess = None  # P.808 is not scored: its model is not loaded
        return model

    def ovrl_clip(self, samples: npt.NDArray[np.float32], rate: int) -> float:
        """The overall score of a clip at one model run per 9.01 s: a shorter clip repeated to
        fill the model's window, a longer one cut into that many equal windows (speechmos
        slides a window 1 s at a time and also runs the P.808 model: ~8x the cost, for the
        same judgement of a short clip)."""
        audio = np.clip(resample(samples, rate, DNSMOS_RATE), -1.0, 1.0).astype(np.float32)
        if audio.size < MIN_SAMPLES:
            raise ValueError("DNSMOS needs at least 0.1 s of audio")
        count = -(-audio.size // WINDOW)
        starts = np.linspace(0, max(0, audio.size - WINDOW), count).astype(int)
        model = self._model
        scores = []
        for start in starts:
            window = np.resize(audio[start : start + WINDOW], WINDOW)[np.newaxis, :]
            _, _, ovr = model.onnx_sess.run(None, {"input_1": window})[0][0]
            scores.append(float(model.get_polyfit_val(0.0, 0.0, ovr, False)[2]))
        return float(np.mean(scores))
