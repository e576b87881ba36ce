"""One clip dubbed from local files: the call behind gRPC Synthesize and `dubset tts`.

The clip is laid out as a one-clip episode for the core. Its length is target_ms; without a
target, the JA audio's length when there is JA audio, else the natural length of the speech.
With a target, the speaker reference is taken as the clip's original EN speech: the dub is
placed over its speech and levelled to it (the voice is cloned from all of it, up to 20 s).
Without a target the reference only gives the voice and the clip is levelled to -24 LUFS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from dubset_tts.convert import TtsParams, policy_of
from dubset_tts.core.backend import SpeechSynthesizer, Translator
from dubset_tts.core.episode import EpisodeInputs, dub_episode
from dubset_tts.core.model import ClipDub, ClipSpec, TtsInputError, Voice
from dubset_tts.core.references import reference
from dubset_tts.core.wav import wav_info
from dubset_tts.models import Models

SPEAKER = "SPEAKER_00"
CLIP_ID = "00/00000000-0000-0000-0000-000000000000"
MAX_TEXT_CHARS = 2000
MAX_TARGET_MS = 10 * 60 * 1000
Hook = Callable[[float, str], None]


@dataclass(frozen=True)
class OneClip:
    text: str  # EN text; empty: the translation backend makes it from ja_audio
    ja_text: str = ""
    target_ms: int = 0  # 0: see the module docstring
    reference: Path | None = None  # the speaker's original EN speech
    backing: Path | None = None  # the clip's backing stem (mixed under the dub)
    ja_audio: Path | None = None  # the clip's JA speech (speech translation)


@dataclass(frozen=True)
class OneDub:
    dub: ClipDub
    voice: Voice
    backend: str
    translation_backend: str


def _audio(path: Path, what: str) -> tuple[np.ndarray, int]:
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, OSError, sf.LibsndfileError) as exc:
        raise TtsInputError(f"{what} is not a readable WAV/FLAC/OGG file: {exc}") from None
    if len(data) == 0:
        raise TtsInputError(f"{what} is empty")
    return np.ascontiguousarray(data.mean(axis=1), np.float32), int(rate)


def _check(clip: OneClip, translation: str) -> None:
    if len(clip.text) > MAX_TEXT_CHARS or len(clip.ja_text) > MAX_TEXT_CHARS:
        raise TtsInputError(f"text is over {MAX_TEXT_CHARS} characters: dub one clip at a time")
    if not 0 <= clip.target_ms <= MAX_TARGET_MS:
        raise TtsInputError(f"target duration must be 0..{MAX_TARGET_MS} ms, not {clip.target_ms}")
    if translation == "reference" and not clip.text.strip():
        raise TtsInputError(
            "no English text: give the text, or translate the JA audio "
            "(translation backend whisper with the JA audio)"
        )
    if translation != "reference" and clip.ja_audio is None:
        raise TtsInputError(f"translation backend {translation} needs the clip's JA audio")


def _natural_ms(synth: SpeechSynthesizer, text: str, ref: Path | None) -> int:
    """How long the voice takes to say text (the clip length when no target is given)."""
    voice_ref = None
    if ref is not None:
        info = wav_info(ref, "speaker reference")
        voice_ref = reference(SPEAKER, ((SPEAKER, 0, info.duration_ms),), info)
    synth.voice_for(SPEAKER, voice_ref)
    speech = synth.speak(text, SPEAKER)
    if speech.duration_ms <= 0:
        raise TtsInputError(f"the voice produced no speech for {text[:80]!r}")
    return speech.duration_ms


def _dialogue(
    clip: OneClip, target_ms: int, lead_ms: int, workdir: Path
) -> tuple[Path, tuple[tuple[str, int, int], ...]]:
    """The EN dialogue track of the one-clip episode: lead_ms of silence, then the reference
    (padded to cover the clip); the turn covers the reference."""
    turns: tuple[tuple[str, int, int], ...] = ()
    if clip.reference is None:
        samples, rate = np.zeros(0, np.float32), 16_000
    else:
        samples, rate = _audio(clip.reference, "speaker reference")
        ref_ms = len(samples) * 1000 // rate
        turns = ((SPEAKER, lead_ms, lead_ms + ref_ms),) if ref_ms > 0 else ()
    lead = np.zeros(lead_ms * rate // 1000, np.float32)
    need = (target_ms - lead_ms) * rate // 1000 + rate // 10
    tail = np.zeros(max(0, need - len(samples)), np.float32)
    path = workdir / "one-en-dialogue.wav"
    sf.write(str(path), np.concatenate([lead, samples, tail]), rate, subtype="FLOAT")
    return path, turns


def dub_one(
    clip: OneClip,
    params: TtsParams,
    models: Models,
    workdir: Path,
    hook: Hook,
) -> OneDub:
    """Dub one clip with the backends params name (TtsInputError, BackendUnavailableError)."""
    translation, rate = params.translation, params.sample_rate_hz
    _check(clip, translation)
    scoring = params.compute_scores
    backing = clip.backing if params.mix_backing else None
    with models.lock:
        synth: SpeechSynthesizer = models.synthesizer(
            params.backend, params.voice, params.model_dir
        )
        translator: Translator = models.translator(translation)
        target, lead = clip.target_ms, 0
        ja_ms = wav_info(clip.ja_audio, "JA audio").duration_ms if clip.ja_audio else 0
        if target == 0:
            target = ja_ms or _natural_ms(synth, clip.text, clip.reference)
            lead = target
        en, turns = _dialogue(clip, target, lead, workdir)
        spec = ClipSpec(
            clip_id=CLIP_ID,
            en_text=clip.text,
            ja_text=clip.ja_text,
            en_start_ms=0,
            en_end_ms=target,
            ja_start_ms=0,
            ja_end_ms=ja_ms or target,
            speakers=(SPEAKER,),
        )
        inputs = EpisodeInputs(
            (spec,), en, backing, clip.ja_audio, turns, policy_of(params), rate, scoring
        )
        embedder = models.embedder() if scoring else None
        scorer = models.scorer() if scoring else None
        dub = dub_episode(inputs, synth, translator, embedder, scorer, hook)
        if not dub.clips:
            reason = dub.skipped[0][1] if dub.skipped else "nothing to say"
            raise TtsInputError(f"the clip was not dubbed: {reason}")
        return OneDub(dub.clips[0], dub.voices[0], synth.backend(), translator.backend())
