"""Subtitle cues force-aligned to a track's speech with the embedded Whisper model.

A subtitle cue shows before its line is spoken and stays after it: its times lead and trail the
speech by hundreds of ms. For each cue this aligns the cue's own text (not a recognition of the
audio) to a window of audio around it through Whisper's cross-attention (CTranslate2
Whisper.align, the dynamic time warping behind faster-whisper's word timestamps), then moves
the line's edges onto the speech map (core/cuefit.py). A cue whose alignment cannot be trusted
keeps its own times and says so: its source is "subtitle-cue" and its reason is given.
"""

from __future__ import annotations

import json
import threading
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from dubset_asr.audio import SAMPLE_RATE, stream_16k
from dubset_asr.backends.whisper import check_model_dir, open_whisper
from dubset_asr.core.blocks import Samples
from dubset_asr.core.cuefit import (
    ALIGNED,
    CUE,
    DEFAULT_FIT,
    FitConfig,
    Fitted,
    cue_segment,
    cue_windows,
    degenerate_reason,
    fit_edges,
    settle,
)
from dubset_asr.core.model import (
    LANGUAGES,
    AsrInputError,
    ModelUnavailableError,
    RawWord,
    Segment,
    Transcript,
)
from dubset_asr.core.speech import DEFAULT_SPEECH, Interval, speech_intervals
from dubset_asr.core.words import build_segment, joiner
from dubset_asr.vad import FRAME_MS, shared_vad
from dubset_common.keys import file_sha256
from dubset_common.subtitles import Cue

# faster-whisper's defaults: punctuation joins the word it leans on, and its time is dropped
# (Whisper stretches a final "." or "？" over the silence after the line).
PREPEND_PUNCTUATIONS = "\"'“¿([{-"
APPEND_PUNCTUATIONS = "\"'.。,，!！?？:：”)]}、"
MAX_TOKENS = 400  # the decoder holds 448 positions, the start sequence included


@dataclass(frozen=True)
class SubtitleAlignment:
    """The cues as a transcript, with per segment where its times come from ("subtitle-aligned"
    or "subtitle-cue") and, for a cue's own times, why (empty when aligned)."""

    transcript: Transcript
    sources: tuple[str, ...]
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class _Aligned:
    """The words of one cue in the audio's timeline and the probabilities of its tokens."""

    words: list[RawWord]
    probabilities: list[float]


class SubtitleAligner:
    """One loaded Whisper model (CTranslate2 directory, never a download) aligning cue texts."""

    def __init__(
        self,
        model_dir: Path,
        *,
        expected_sha256: str | None = None,
        hint: str = "",
        device: str = "cpu",
        compute_type: str = "int8",
        cpu_threads: int = 2,
        config: FitConfig = DEFAULT_FIT,
    ) -> None:
        check_model_dir(model_dir, hint)
        self.sha256 = file_sha256(model_dir / "model.bin")
        if expected_sha256 is not None and self.sha256 != expected_sha256:
            raise ModelUnavailableError(
                f"{model_dir}/model.bin has sha256 {self.sha256}, expected {expected_sha256}; "
                f"{hint}"
            )
        self._model: Any = open_whisper(model_dir, device, compute_type, cpu_threads)
        has_json = (model_dir / "tokenizer.json").is_file()
        self._hf_tokenizer = _tokenizer_of(model_dir) if has_json else self._model.hf_tokenizer
        self.compute_type = compute_type
        self.config = config
        self._lock = threading.Lock()
        self._vad = shared_vad()

    def info(self) -> Mapping[str, object]:
        """Deterministic facts for a stage manifest."""
        return {
            "aligner": "whisper-cross-attention-dtw",
            "model_sha256": self.sha256,
            "compute_type": self.compute_type,
            "faster_whisper": version("faster-whisper"),
            "ctranslate2": version("ctranslate2"),
            **self._vad.info(),
        }

    def align_file(self, audio: Path, cues: Sequence[Cue], language: str) -> SubtitleAlignment:
        """align() on an audio file of any format audio.stream_16k reads."""
        samples = np.concatenate([np.zeros(0, np.float32), *stream_16k(audio)])
        return self.align(samples, cues, language)

    def align(self, samples: Samples, cues: Sequence[Cue], language: str) -> SubtitleAlignment:
        """The cues as segments of a transcript of samples (16 kHz mono), in order of start,
        laid end to end; the words of an aligned cue carry their token probabilities."""
        tokenizer = self._tokenizer(language)
        duration_ms = len(samples) * 1000 // SAMPLE_RATE
        ordered = sorted(cues, key=lambda c: (c.start_ms, c.end_ms))
        speech = self._speech(samples, duration_ms)
        spans = [(c.start_ms, c.end_ms) for c in ordered]
        windows = cue_windows(
            spans, duration_ms, self.config.window_pad_ms, self.config.max_window_ms
        )
        fitted = [
            self._fit(samples, cue, window, tokenizer, speech, duration_ms)
            for cue, window in zip(ordered, windows, strict=True)
        ]
        settled = settle(fitted)
        return SubtitleAlignment(
            Transcript(language, tuple(f.segment for f in settled), duration_ms),
            tuple(f.source for f in settled),
            tuple(f.reason for f in settled),
        )

    def _tokenizer(self, language: str) -> Any:
        if language not in LANGUAGES:
            raise AsrInputError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
        multilingual = bool(self._model.model.is_multilingual)
        if language != "en" and not multilingual:
            raise ModelUnavailableError(f"the model is English-only, cannot align {language}")
        from faster_whisper.tokenizer import Tokenizer

        return Tokenizer(self._hf_tokenizer, multilingual, task="transcribe", language=language)

    def _speech(self, samples: Samples, duration_ms: int) -> list[Interval]:
        probabilities = self._vad.probabilities([samples])
        return speech_intervals(probabilities, FRAME_MS, duration_ms, DEFAULT_SPEECH)

    def _fit(
        self,
        samples: Samples,
        cue: Cue,
        window: Interval,
        tokenizer: Any,
        speech: Sequence[Interval],
        duration_ms: int,
    ) -> Fitted:
        """The cue's segment: aligned and fitted to the speech, else the cue's own, marked."""
        text = cue.text.strip()
        prefix = " " if joiner(tokenizer.language_code) == " " else ""
        tokens = tokenizer.encode(prefix + text) if text else []
        reason = _unalignable(cue, tokens, duration_ms, self.config)
        if reason is None:
            outcome = self._aligned(samples, window, tokens, tokenizer, speech, duration_ms)
            if isinstance(outcome, Segment):
                return Fitted(outcome, ALIGNED)
            reason = outcome
        end = min(max(cue.end_ms, cue.start_ms), duration_ms)
        return Fitted(cue_segment(min(cue.start_ms, end), end, text), CUE, reason)

    def _aligned(
        self,
        samples: Samples,
        window: Interval,
        tokens: list[int],
        tokenizer: Any,
        speech: Sequence[Interval],
        duration_ms: int,
    ) -> Segment | str:
        """The segment of tokens aligned in the window and fitted to the speech, else why not."""
        lo, hi = window
        chunk = samples[lo * SAMPLE_RATE // 1000 : hi * SAMPLE_RATE // 1000]
        aligned = self._words(chunk, tokens, tokenizer)
        segment = build_segment(aligned.words, offset_ms=lo, duration_ms=duration_ms)
        if segment is None:
            return "no words were aligned"
        reason = degenerate_reason(segment, aligned.probabilities, speech, self.config)
        return reason if reason is not None else fit_edges(segment, speech, self.config)

    def _words(self, chunk: Samples, tokens: list[int], tokenizer: Any) -> _Aligned:
        """The words of tokens aligned to chunk (times in seconds from its start)."""
        from faster_whisper.audio import pad_or_trim
        from faster_whisper.transcribe import merge_punctuations

        features = self._model.feature_extractor(chunk)[..., :-1]
        num_frames = int(features.shape[-1])
        with self._lock:  # CTranslate2 threads are fixed: one alignment at a time per model
            encoded = self._model.encode(pad_or_trim(features))
            # A leading <|notimestamps|> row takes up the audio before the first word, as in
            # openai-whisper; without it the first word starts at the window's first frame.
            result = self._model.model.align(
                encoded, tokenizer.sot_sequence, [[tokenizer.no_timestamps, *tokens]], num_frames
            )[0]
        rows = np.array([pair[0] for pair in result.alignments])
        frames = np.array([pair[1] for pair in result.alignments])
        jumps = np.pad(np.diff(rows), (1, 0), constant_values=1).astype(bool)
        # one time per row: the absorbing row, each token, the end of text
        times = frames[jumps] / self._model.tokens_per_second
        probabilities = [float(p) for p in result.text_token_probs[1 : 1 + len(tokens)]]
        texts, groups = tokenizer.split_to_word_tokens([*tokens, tokenizer.eot])
        words: list[dict[str, Any]] = []
        spoken: list[float] = []  # the probabilities of the tokens of words, not punctuation
        at = 0
        for word, group in zip(texts[:-1], groups[:-1], strict=True):
            span = probabilities[at : at + len(group)]
            start, end = float(times[1 + at]), float(times[1 + at + len(group)])
            words.append({"word": word, "tokens": group, "start": start, "end": end, "p": span})
            spoken += [] if _punctuation(word) else span
            at += len(group)
        merge_punctuations(words, PREPEND_PUNCTUATIONS, APPEND_PUNCTUATIONS)
        raw = [
            RawWord(w["word"], w["start"], w["end"], float(np.mean(w["p"])) if w["p"] else 0.0)
            for w in words
            if w["word"]
        ]
        return _Aligned(raw, spoken)


def _punctuation(text: str) -> bool:
    """True for text of punctuation, symbols and spaces only (Whisper gives those little
    probability even where the words around them are certain, and a full-width mark is
    several tokens)."""
    return all(unicodedata.category(ch)[0] in "PSZ" for ch in text)


def _tokenizer_of(model_dir: Path) -> Any:
    """The model's tokenizer.json, with the first GPT-2 merge ("Ġ t") restored where a
    converter dropped it as if it were merges.txt's "#version" header: without it every word
    starting with " t" (" the", " to") encodes as " " + "the", two tokens Whisper never
    produces, which it then gives near-zero probability and a poor alignment."""
    import tokenizers

    doc = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
    merges = doc.get("model", {}).get("merges", [])
    first = merges[0] if merges else None
    if doc["model"].get("vocab", {}).get("Ġt") == 256 and first not in ("Ġ t", ["Ġ", "t"]):
        merges.insert(0, "Ġ t" if isinstance(first, str) else ["Ġ", "t"])
    return tokenizers.Tokenizer.from_str(json.dumps(doc))


def _unalignable(
    cue: Cue, tokens: Sequence[int], duration_ms: int, config: FitConfig
) -> str | None:
    """Why a cue cannot be aligned at all, None when it can be tried."""
    if not tokens:
        return "the cue has no text"
    if cue.start_ms >= duration_ms or cue.end_ms <= 0:
        return f"the cue lies outside the {duration_ms} ms of audio"
    if cue.end_ms - cue.start_ms > config.max_window_ms:
        return f"the cue lasts {cue.end_ms - cue.start_ms} ms, over the 30 s Whisper hears"
    if len(tokens) > MAX_TOKENS:
        return f"the cue's text is {len(tokens)} tokens, over {MAX_TOKENS}"
    return None


def load_aligner(model: str = "", model_dir: Path | None = None) -> SubtitleAligner:
    """The aligner on the model the faster-whisper backend would load (the embedded base model
    by default), on the configured device."""
    from dubset_asr.backends import compute_type_for, resolve_whisper
    from dubset_common.config import model_device

    path, _name, sha, hint = resolve_whisper(model, model_dir)
    device = model_device()
    return SubtitleAligner(
        path, expected_sha256=sha, hint=hint, device=device, compute_type=compute_type_for(device)
    )
