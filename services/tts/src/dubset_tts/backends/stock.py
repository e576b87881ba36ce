"""Stock-voice backends: the nearest packaged voice per speaker, pitch/formant-matched.

Per speaker, every candidate stock voice speaks one fixed calibration text (once per process)
and the candidate whose resemblyzer embedding is nearest the speaker's reference is the first
choice. Then Praat's "Change gender" moves each of the nearest three to the reference's median
F0 (formant ratio 1, or the fourth root of the pitch ratio), and a shifted voice replaces the
choice only if its calibration text is nearer the reference. A speaker without a reference
gets the backend's default voice, unshifted.
"""

from __future__ import annotations

import functools
import importlib.metadata
import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dubset_tts import calibration
from dubset_tts.core.backend import Embedder
from dubset_tts.core.casting import assign
from dubset_tts.core.model import BackendUnavailableError, Speech, TtsInputError, Voice
from dubset_tts.quality import ResemblyzerEmbedder
from dubset_voices.base import Engine, VoiceError
from dubset_voices.dsp import median_pitch_hz, shift_voice, trim_silence
from dubset_voices.engines import EspeakEngine, PiperEngine
from dubset_voices.festival import FestivalEngine

CALIBRATION = (
    "I never thought we would see each other again. Come on, we have to hurry, "
    "the train leaves in five minutes!"
)
SHIFT_CANDIDATES = 3  # the nearest three voices are tried pitch-shifted, not only the first
PITCH_TOLERANCE = 1.05  # references within 5 % of the voice's F0 keep it unshifted
FORMANT_RANGE = (0.85, 1.2)


@dataclass(frozen=True)
class StockVoice:
    engine: str  # "piper" | "festival" | "espeak-ng"
    name: str
    pitch_hz: float = 0.0  # new median F0; 0 keeps the voice's own
    formant: float = 1.0

    @property
    def base(self) -> str:
        return f"{self.engine}:{self.name}"

    @property
    def label(self) -> str:
        if self.pitch_hz or self.formant != 1.0:
            return f"{self.base}+f0={self.pitch_hz:g}Hz,formant={self.formant:g}"
        return self.base


STOCK: tuple[StockVoice, ...] = (
    StockVoice("piper", "joe"),
    StockVoice("festival", "kal"),
    StockVoice("festival", "slt"),
    StockVoice("espeak-ng", "en-us"),
    StockVoice("espeak-ng", "en-us+m3"),
    StockVoice("espeak-ng", "en-us+f2"),
    StockVoice("espeak-ng", "en-us+f4"),
    StockVoice("espeak-ng", "en-gb+f3"),
)
# The stock voices from the clearest to the least clear: Whisper base's WER on 14 bank lines
# each says (piper:joe 1.3 %, festival:slt 2.6 %, espeak-ng en-us+f2 5.1 %, en-gb+f3 6.4 %,
# en-us 10.3 %, en-us+m3 15.4 %, festival:kal and en-us+f4 16.7 %; piper and slt moved to
# another F0 stay at 2.6 %). A dub's cast is drawn from the clearest voices that give each
# character a voice of their own.
CLARITY = (
    "piper:joe",
    "festival:slt",
    "espeak-ng:en-us+f2",
    "espeak-ng:en-gb+f3",
    "espeak-ng:en-us",
    "espeak-ng:en-us+m3",
    "festival:kal",
    "espeak-ng:en-us+f4",
)
ENGINE_FACTORIES: dict[str, Callable[[], Engine]] = {
    "piper": PiperEngine,
    "festival": FestivalEngine,
    "espeak-ng": EspeakEngine,
}
VERSIONS: dict[str, Callable[[], str]] = {
    "piper": PiperEngine.version,
    "festival": FestivalEngine.version,
    "espeak-ng": EspeakEngine.version,
}


@dataclass(frozen=True)
class _Calibrated:
    speech: Speech
    embedding: npt.NDArray[np.float32]
    f0: float | None


# One calibration per (voice, embedder class) per process: the voices and embedder are fixed.
_CALIBRATION: dict[tuple[str, str], _Calibrated] = {}


class StockSynthesizer:
    """A SpeechSynthesizer over a set of stock voices (or one fixed voice)."""

    def __init__(
        self,
        name: str,
        voices: tuple[StockVoice, ...],
        embedder: Embedder,
        fixed: StockVoice | None = None,
        engines: Mapping[str, Callable[[], Engine]] | None = None,
    ) -> None:
        if not voices:
            raise TtsInputError(f"{name}: no stock voices")
        self.name = name
        self._candidates = (fixed,) if fixed else voices
        self._default = fixed or voices[0]
        self._embedder = embedder
        self._factories = dict(engines or ENGINE_FACTORIES)
        self._engines: dict[str, Engine] = {}
        self._voices: dict[str, StockVoice] = {}

    def backend(self) -> str:
        engines = dict.fromkeys(v.engine for v in self._candidates)
        try:
            return "+".join(VERSIONS[e]() for e in engines)
        except VoiceError as exc:
            raise BackendUnavailableError(f"{self.name}: {exc}") from exc

    def _engine(self, engine: str) -> Engine:
        if engine not in self._engines:
            self._engines[engine] = self._factories[engine]()
        return self._engines[engine]

    def _synth(self, voice: StockVoice, text: str) -> Speech:
        try:
            audio, rate = self._engine(voice.engine).synthesize(text, voice.name)
        except VoiceError as exc:
            raise BackendUnavailableError(f"{voice.label}: {exc}") from exc
        peak = float(np.max(np.abs(audio))) if audio.size else 0.0
        audio = trim_silence(audio, rate, threshold=0.02 * peak) if peak > 0 else audio
        if voice.pitch_hz or voice.formant != 1.0:
            audio = shift_voice(audio, rate, voice.pitch_hz, voice.formant)
        return Speech(np.asarray(audio, np.float32), rate)

    def _calibrated(self, voice: StockVoice) -> _Calibrated:
        key = (voice.label, type(self._embedder).__qualname__)
        if key not in _CALIBRATION:
            _CALIBRATION[key] = self._calibrate(voice)
        return _CALIBRATION[key]

    def _calibrate(self, voice: StockVoice) -> _Calibrated:
        """The voice speaking CALIBRATION, its embedding and F0: from the disk cache
        (calibration.py) when an entry for exactly this voice, engine and code is there."""
        folder = calibration.cache_dir()
        path = None
        # Only the real engines and embedder are cached: a test's stand-ins never are.
        real = self._factories[voice.engine] is ENGINE_FACTORIES.get(voice.engine) and isinstance(
            self._embedder, ResemblyzerEmbedder
        )
        code = _code_digest() if folder is not None and real else None
        if folder is not None and code is not None:
            path = calibration.entry_path(folder, (
                voice.label, VERSIONS[voice.engine](), _embedder_version(), CALIBRATION, code,
            ))  # fmt: skip
            entry = calibration.load(path)
            if entry is not None:
                return _Calibrated(Speech(entry.samples, entry.rate), entry.embedding, entry.f0)
        speech = self._synth(voice, CALIBRATION)
        out = _Calibrated(
            speech, self._embedder.embed(speech), median_pitch_hz(speech.samples, speech.rate)
        )
        if path is not None:
            calibration.save(path, calibration.Entry(
                np.asarray(speech.samples, np.float32), speech.rate,
                np.asarray(out.embedding, np.float32), out.f0,
            ))  # fmt: skip
        return out

    def voice_for(self, speaker: str, reference: Speech | None) -> Voice:
        if reference is None:
            self._voices[speaker] = self._default
            return Voice(speaker, self._default.label, None)
        target = self._embedder.embed(reference)
        sims = [float(np.dot(self._calibrated(v).embedding, target)) for v in self._candidates]
        order = sorted(range(len(sims)), key=lambda i: (-sims[i], i))  # ties: preferred voice
        chosen, similarity = self._candidates[order[0]], sims[order[0]]
        f0 = median_pitch_hz(reference.samples, reference.rate)
        for i in order[:SHIFT_CANDIDATES]:
            for shifted, sim in self._shifts(self._candidates[i], f0, target):
                if sim > similarity:
                    chosen, similarity = shifted, sim
        self._voices[speaker] = chosen
        return Voice(speaker, chosen.label, similarity)

    def _shifts(
        self, voice: StockVoice, f0: float | None, target: npt.NDArray[np.float32]
    ) -> list[tuple[StockVoice, float]]:
        """The voice moved to the reference's F0 (two formant ratios), with similarities."""
        calibrated = self._calibrated(voice)
        if f0 is None or calibrated.f0 is None:
            return []
        ratio = f0 / calibrated.f0
        if abs(math.log(ratio)) <= math.log(PITCH_TOLERANCE):
            return []
        formant = round(min(max(ratio**0.25, FORMANT_RANGE[0]), FORMANT_RANGE[1]), 2)
        out = []
        for form in dict.fromkeys((1.0, formant)):
            shifted = StockVoice(voice.engine, voice.name, float(round(f0)), form)
            audio = shift_voice(
                calibrated.speech.samples, calibrated.speech.rate, shifted.pitch_hz, form
            )
            emb = self._embedder.embed(Speech(audio, calibrated.speech.rate))
            out.append((shifted, float(np.dot(emb, target))))
        return out

    def speak(self, text: str, speaker: str) -> Speech:
        return self._synth(self._voices.get(speaker, self._default), text)

    def cast(self, references: Mapping[str, Speech | None], pins: Mapping[str, str]) -> list[Voice]:
        """One voice per speaker (references in priority order), distinct while the voices
        last (core/casting.py), each then matched to its speaker's F0 within that voice; a
        pinned voice ("festival:slt") is kept as named."""
        speakers = list(references)
        unknown = sorted(set(pins) - set(speakers))
        if unknown:
            raise TtsInputError(
                f"--voice names {', '.join(unknown)}, not a speaker of this episode "
                f"({', '.join(speakers) or 'none'})"
            )
        targets = {s: self._embedder.embed(r) for s, r in references.items() if r is not None}
        pinned_voices = {s: parse_voice(pins[s], self._candidates) for s in speakers if s in pins}
        pool = cast_pool(self._candidates, list(pinned_voices.values()), len(speakers))
        sims = [
            [float(np.dot(self._calibrated(v).embedding, targets[s])) if s in targets else 0.0
             for v in pool]
            for s in speakers
        ]  # fmt: skip
        pinned = {i: pool.index(pinned_voices[s]) for i, s in enumerate(speakers) if s in pins}
        casting = assign(sims, pinned)
        out = []
        for i, speaker in enumerate(speakers):
            chosen = pool[casting.voices[i]]
            reference = references[speaker]
            similarity = sims[i][casting.voices[i]] if speaker in targets else None
            if reference is not None and similarity is not None and i not in pinned:
                f0 = median_pitch_hz(reference.samples, reference.rate)
                for shifted, sim in self._shifts(chosen, f0, targets[speaker]):
                    if sim > similarity:
                        chosen, similarity = shifted, sim
            self._voices[speaker] = chosen
            out.append(Voice(speaker, chosen.label, similarity))
        return out


def cast_pool(
    candidates: tuple[StockVoice, ...], pinned: list[StockVoice], speakers: int
) -> list[StockVoice]:
    """The voices a cast of `speakers` is drawn from: the pinned ones, then the clearest others
    (CLARITY), as many as the unpinned speakers need to have one each (all when they are more)."""
    rank = {name: k for k, name in enumerate(CLARITY)}
    free = sorted((v for v in candidates if v not in pinned),
                  key=lambda v: (rank.get(v.base, len(rank)), candidates.index(v)))  # fmt: skip
    need = max(0, speakers - len(pinned))
    return [*dict.fromkeys(pinned), *free[:need]]


def _embedder_version() -> str:
    return f"resemblyzer-{importlib.metadata.version('resemblyzer')}"


@functools.cache
def _code_digest() -> str | None:
    """The source of what makes a calibration: this module, the engines, the DSP, the
    embedder. None (no caching) where the source is not installed (bytecode only)."""
    import dubset_voices.dsp
    import dubset_voices.engines
    import dubset_voices.festival
    from dubset_tts import quality

    modules = (sys.modules[__name__], dubset_voices.dsp, dubset_voices.engines,
               dubset_voices.festival, quality)  # fmt: skip
    try:
        return calibration.source_digest(modules)
    except (OSError, TypeError):
        return None


def parse_voice(text: str, allowed: tuple[StockVoice, ...]) -> StockVoice:
    """A fixed stock voice by name ("festival:slt", "espeak-ng:en-us+f2", "piper:joe")."""
    for voice in allowed:
        if voice.base == text:
            return voice
    names = ", ".join(v.base for v in allowed)
    raise TtsInputError(f"unknown voice {text!r}; this backend's voices: {names}")


def stock_synthesizer(name: str, voice: str, embedder: Embedder) -> StockSynthesizer:
    """The "piper" backend matches over all stock voices; "festival"/"espeak-ng" over theirs."""
    allowed = STOCK if name == "piper" else tuple(v for v in STOCK if v.engine == name)
    fixed = parse_voice(voice, allowed) if voice else None
    synth = StockSynthesizer(name, allowed, embedder, fixed)
    synth.backend()  # a missing package or binary stops here, before any clip
    return synth
