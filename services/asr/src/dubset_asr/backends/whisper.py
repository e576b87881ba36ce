"""faster-whisper backend: a CTranslate2 Whisper model directory, never a hub download."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dubset_asr.audio import SAMPLE_RATE, duration_s, stream_16k
from dubset_asr.core.blocks import split_blocks
from dubset_asr.core.language import LanguageVote, wrong_language
from dubset_asr.core.model import (
    AsrInputError,
    DecodeOptions,
    ModelUnavailableError,
    ProgressHook,
    RawWord,
    Segment,
    Transcript,
)
from dubset_asr.core.speech import resegment, speech_config
from dubset_asr.core.words import build_segment, split_at_pauses
from dubset_asr.vad import shared_vad, tap
from dubset_common.keys import file_sha256

NAME = "faster-whisper"
REQUIRED_FILES = ("model.bin", "config.json")
BLOCK_S = 600.0
# The language check: windows of this many seconds, at most this many per block.
VOTE_WINDOW_S = 30
VOTES_PER_BLOCK = 3


def check_model_dir(model_dir: Path, hint: str) -> None:
    """Fail with a message a person can act on when model_dir is not a CTranslate2 Whisper dir."""
    if not model_dir.is_dir():
        raise ModelUnavailableError(
            f"faster-whisper model directory {model_dir} is missing; {hint}"
        )
    missing = [n for n in REQUIRED_FILES if not (model_dir / n).is_file()]
    if not (model_dir / "tokenizer.json").is_file() and not any(model_dir.glob("vocabulary.*")):
        missing.append("tokenizer.json or vocabulary.*")
    if missing:
        raise ModelUnavailableError(
            f"{model_dir} is not a CTranslate2 Whisper model (missing {', '.join(missing)}); {hint}"
        )


class FasterWhisperBackend:
    """One loaded model; decoding settings come per call, so a worker loads each model once."""

    name = NAME

    def __init__(
        self,
        model_dir: Path,
        model: str,
        *,
        expected_sha256: str | None = None,
        hint: str = "",
        compute_type: str = "int8",
        cpu_threads: int = 2,
        device: str = "cpu",
        check_language: bool = True,
    ) -> None:
        """check_language: refuse a track that confidently sounds like another language."""
        check_model_dir(model_dir, hint)
        self.check_language = check_language
        self.model = model
        self.model_dir = model_dir
        self.sha256 = file_sha256(model_dir / "model.bin")
        if expected_sha256 is not None and self.sha256 != expected_sha256:
            raise ModelUnavailableError(
                f"{model_dir}/model.bin has sha256 {self.sha256}, "
                f"expected {expected_sha256}; {hint}"
            )
        self.compute_type = compute_type
        self._model = open_whisper(model_dir, device, compute_type, cpu_threads)
        self._lock = threading.Lock()
        self._vad = shared_vad()

    def info(self) -> Mapping[str, object]:
        return {
            "model": self.model,
            "model_sha256": self.sha256,
            "compute_type": self.compute_type,
            "faster_whisper": version("faster-whisper"),
            "ctranslate2": version("ctranslate2"),
            **self._vad.info(),
        }

    def multilingual(self) -> bool:
        return bool(self._model.model.is_multilingual)

    def transcribe(
        self, audio: Path, language: str, options: DecodeOptions, hook: ProgressHook
    ) -> Transcript:
        if language != "en" and not self.multilingual():
            raise ModelUnavailableError(f"model {self.model} is English-only, cannot do {language}")
        segments: list[Segment] = []
        votes: list[LanguageVote] = []
        total = 0
        floor = 0
        expected_s = duration_s(audio)
        # the speech map (options.vad) is built from the same decoded stream, chunk by chunk
        speech = self._vad.stream() if options.vad else None
        chunks = stream_16k(audio) if speech is None else tap(stream_16k(audio), speech)
        with self._lock:  # one decode at a time per model: CTranslate2 threads are fixed
            for offset, block in split_blocks(chunks, SAMPLE_RATE, block_s=BLOCK_S):
                offset_ms = offset * 1000 // SAMPLE_RATE
                end_ms = (offset + len(block)) * 1000 // SAMPLE_RATE
                total = offset + len(block)
                utterances = self._utterances(block, language, options)
                if self.check_language and self.multilingual():
                    votes += self._votes(block, utterances, language)
                for utterance in utterances:
                    built = build_segment(
                        utterance,
                        offset_ms=offset_ms,
                        duration_ms=end_ms,
                        floor_ms=floor,
                    )
                    if built is not None:
                        segments.append(built)
                        floor = built.start_ms
                        done = built.end_ms / 1000
                        fraction = min(1.0, done / expected_s) if expected_s else 0.0
                        hook(fraction, f"{done:.0f} s transcribed")
        reason = wrong_language(language, votes)
        if reason is not None:
            raise AsrInputError(reason)
        duration_ms = total * 1000 // SAMPLE_RATE
        if speech is None:
            return Transcript(language, tuple(segments), duration_ms)
        speech.finish()
        config = speech_config(language)
        speech_map = speech.speech(config)
        cut = resegment(segments, speech_map, language, duration_ms, config)
        return Transcript(language, cut, duration_ms, tuple(speech_map))

    def _votes(
        self, block: npt.NDArray[np.float32], utterances: list[list[RawWord]], language: str
    ) -> list[LanguageVote]:
        """Language guesses on up to VOTES_PER_BLOCK windows, each from an utterance's start:
        the first, middle and last speech of the block."""
        starts = [u[0].start_s for u in utterances if u]
        if not starts:
            return []
        picks = sorted({starts[0], starts[len(starts) // 2], starts[-1]})[:VOTES_PER_BLOCK]
        votes = []
        for start_s in picks:
            begin = max(0, int(start_s * SAMPLE_RATE))
            window = block[begin : begin + VOTE_WINDOW_S * SAMPLE_RATE]
            if len(window) < SAMPLE_RATE:  # under a second: too little to judge
                continue
            top, probability, ranked = self._model.detect_language(audio=window)
            expected = dict(ranked).get(language, 0.0)
            votes.append(LanguageVote(top, float(probability), float(expected)))
        return votes

    def _utterances(
        self, block: npt.NDArray[np.float32], language: str, options: DecodeOptions
    ) -> list[list[RawWord]]:
        """Whisper's segments; without a speech map, each cut where its words pause.

        With the map (options.vad) the cuts come from the audio's silences instead (see
        transcribe): Whisper's word times stretch over silences, so its pauses are unreliable.
        """
        decoded = self._decode(block, language, options)
        if options.vad:
            return decoded
        return [part for seg in decoded for part in split_at_pauses(seg)]

    def _decode(
        self, block: npt.NDArray[np.float32], language: str, options: DecodeOptions
    ) -> list[list[RawWord]]:
        from faster_whisper.vad import VadOptions

        segments, _info = self._model.transcribe(
            block,
            language=language,
            task="transcribe",
            beam_size=options.beam_size,
            temperature=[options.temperature],
            word_timestamps=True,
            vad_filter=options.vad,
            vad_parameters=VadOptions() if options.vad else None,
            initial_prompt=options.initial_prompt or None,
            condition_on_previous_text=True,
        )
        out: list[list[RawWord]] = []
        for seg in segments:
            words = seg.words or []
            out.append([RawWord(w.word, w.start, w.end, w.probability) for w in words])
        return out


def open_whisper(model_dir: Path, device: str, compute_type: str, cpu_threads: int) -> Any:
    """A faster-whisper model from a local directory; ModelUnavailableError when it does not
    load."""
    from faster_whisper import WhisperModel  # heavy import, only when a model is loaded

    try:
        return WhisperModel(
            str(model_dir),
            device=device,
            compute_type=compute_type,
            cpu_threads=cpu_threads,
            num_workers=1,
            local_files_only=True,
        )
    except (RuntimeError, ValueError, OSError) as exc:
        raise ModelUnavailableError(f"cannot load {model_dir}: {exc}") from None
