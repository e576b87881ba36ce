"""The models of one process: each synthesizer, translator and scorer loaded once and kept.

Loading is the expensive part (a YourTTS checkpoint, a Whisper model, the DNSMOS sessions), so
the stage, the gRPC servicer and the CLI share one Models and ask it per request. A request
never gets another backend than the one it named. Models are not assumed thread-safe: callers
hold `lock` while they use them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from dubset_tts.config import TtsConfig
from dubset_tts.core.backend import Embedder, QualityScorer, SpeechSynthesizer, Translator

SynthLoader = Callable[[str, str, Path | None], SpeechSynthesizer]
TranslatorLoader = Callable[[str, Path | None], Translator]


def default_synth_loader(name: str, voice: str, model_dir: Path | None) -> SpeechSynthesizer:
    from dubset_tts.backends import load_synthesizer

    return load_synthesizer(name, voice, model_dir)


def default_translator_loader(name: str, model_dir: Path | None) -> Translator:
    from dubset_tts.translation import load_translator

    return load_translator(name, model_dir)


def default_embedder() -> Embedder:
    from dubset_tts.quality import ResemblyzerEmbedder

    return ResemblyzerEmbedder()


def default_scorer() -> QualityScorer:
    from dubset_tts.quality import DnsmosScorer

    return DnsmosScorer()


class Models:
    """Per-process cache keyed by (backend, voice, model_dir) and translator name."""

    def __init__(
        self,
        config: TtsConfig | None = None,
        *,
        synth_loader: SynthLoader = default_synth_loader,
        translator_loader: TranslatorLoader = default_translator_loader,
        embedder: Callable[[], Embedder] = default_embedder,
        scorer: Callable[[], QualityScorer] = default_scorer,
    ) -> None:
        self.config = config or TtsConfig()
        self.lock = threading.RLock()
        self._synth_loader = synth_loader
        self._translator_loader = translator_loader
        self._embedder_factory = embedder
        self._scorer_factory = scorer
        self._synths: dict[tuple[str, str, Path | None], SpeechSynthesizer] = {}
        self._translators: dict[str, Translator] = {}
        self._embedder: Embedder | None = None
        self._scorer: QualityScorer | None = None

    def synthesizer(self, name: str, voice: str, model_dir: str) -> SpeechSynthesizer:
        """The named backend; yourtts without a model_dir uses DUBSET_TTS_YOURTTS_DIR."""
        directory = Path(model_dir) if model_dir else None
        if name == "yourtts" and directory is None:
            directory = self.config.yourtts_dir
        key = (name, voice, directory)
        with self.lock:
            if key not in self._synths:
                self._synths[key] = self._synth_loader(name, voice, directory)
            return self._synths[key]

    def translator(self, name: str) -> Translator:
        model_dir = self.config.whisper_dir if name == "whisper" else None
        with self.lock:
            if name not in self._translators:
                self._translators[name] = self._translator_loader(name, model_dir)
            return self._translators[name]

    def embedder(self) -> Embedder:
        with self.lock:
            if self._embedder is None:
                self._embedder = self._embedder_factory()
            return self._embedder

    def scorer(self) -> QualityScorer:
        with self.lock:
            if self._scorer is None:
                self._scorer = self._scorer_factory()
            return self._scorer
