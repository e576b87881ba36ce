"""One episode's baseline dub: per clip translate, speak, fit, place, level and mix."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dubset_tts.core import fit as fitting
from dubset_tts.core.backend import Embedder, QualityScorer, SpeechSynthesizer, Translator
from dubset_tts.core.mix import mix_clip
from dubset_tts.core.model import (
    ClipDub,
    ClipSpec,
    EpisodeDub,
    FitPolicy,
    Scores,
    Speech,
    TtsInputError,
    Voice,
)
from dubset_tts.core.references import Turn, check_turns, reference
from dubset_tts.core.wav import WavInfo, exact, read_span, to_rate, wav_info
from dubset_voices.dsp import stretch as praat_stretch
from dubset_voices.dsp import trim_silence

Hook = Callable[[float, str], None]
# Voices already chosen for an episode (by an earlier chunk of its clips, with the same
# synthesizer, which still holds them): per speaker its voice and reference embedding.
Chosen = dict[str, tuple[Voice, np.ndarray | None]]


@dataclass(frozen=True)
class EpisodeInputs:
    clips: tuple[ClipSpec, ...]
    en_dialogue: Path  # WAV (any rate), EN timeline: loudness + speaker references
    en_backing: Path | None  # WAV, EN timeline; None: dry speech only
    ja_dialogue: Path | None  # WAV, JA timeline: speech translation input
    en_turns: tuple[Turn, ...]  # (speaker, start_ms, end_ms), EN diarization
    policy: FitPolicy = field(default_factory=FitPolicy)
    out_rate: int = 44100
    compute_scores: bool = True


@dataclass
class _Ports:
    synth: SpeechSynthesizer
    translator: Translator
    embedder: Embedder | None
    scorer: QualityScorer | None
    stretch: fitting.Stretch
    references: dict[str, np.ndarray] = field(default_factory=dict)  # speaker -> embedding


def dub_episode(
    inputs: EpisodeInputs,
    synth: SpeechSynthesizer,
    translator: Translator,
    embedder: Embedder | None,
    scorer: QualityScorer | None,
    hook: Hook,
    *,
    stretch: fitting.Stretch = praat_stretch,
    chosen: Chosen | None = None,
) -> EpisodeDub:
    """Dub every clip; reads only each clip's span of the WAVs (bounded memory). A speaker in
    `chosen` keeps its voice; the others' voices are chosen and added to it (so the chunks of
    one episode choose each voice once)."""
    if not 8000 <= inputs.out_rate <= 48000:
        raise TtsInputError(f"output sample rate {inputs.out_rate} Hz is outside 8000..48000")
    _check_clips(inputs.clips)
    turns = check_turns(inputs.en_turns)
    en = wav_info(inputs.en_dialogue, "EN dialogue stem")
    backing = wav_info(inputs.en_backing, "EN backing stem") if inputs.en_backing else None
    ja = wav_info(inputs.ja_dialogue, "JA dialogue stem") if inputs.ja_dialogue else None
    ports = _Ports(synth, translator, embedder, scorer, stretch)

    hook(0.0, "choosing voices")
    speakers = sorted({c.speakers[0] for c in inputs.clips if c.speakers})
    chosen = {} if chosen is None else chosen
    voices = []
    for i, speaker in enumerate(speakers):
        if speaker not in chosen:
            ref = reference(speaker, turns, en)
            embedded = None
            if ref is not None and embedder is not None and inputs.compute_scores:
                embedded = embedder.embed(ref)
            chosen[speaker] = (synth.voice_for(speaker, ref), embedded)
        voice, embedded = chosen[speaker]
        voices.append(voice)
        if embedded is not None:
            ports.references[speaker] = embedded
        hook(0.2 * (i + 1) / len(speakers), f"voice for {speaker}: {voice.label}")
    labels = {v.speaker: v.label for v in voices}

    dubs: list[ClipDub] = []
    skipped: list[tuple[str, str]] = []
    for i, clip in enumerate(inputs.clips):
        ja_speech = (
            read_span(ja, clip.ja_start_ms, clip.ja_end_ms, f"JA clip {clip.clip_id}")
            if ja is not None and translator.name != "reference"
            else None
        )
        text = translator.translate(clip, ja_speech).strip()
        if not text:
            skipped.append((clip.clip_id, "no English text to speak"))
        else:
            dub = _dub_clip(clip, text, labels, en, backing, inputs, ports)
            if dub is None:
                skipped.append((clip.clip_id, f"the voice produced no speech for {text!r}"))
            else:
                dubs.append(dub)
        hook(0.2 + 0.8 * (i + 1) / max(1, len(inputs.clips)), f"clip {i + 1}/{len(inputs.clips)}")
    return EpisodeDub(
        clips=tuple(dubs),
        voices=tuple(voices),
        mean_scores=mean_scores([d.scores for d in dubs]),
        unfit_clips=tuple(d.clip_id for d in dubs if not d.fits),
        skipped=tuple(skipped),
    )


def _check_clips(clips: tuple[ClipSpec, ...]) -> None:
    seen: set[str] = set()
    for clip in clips:
        if clip.clip_id in seen:
            raise TtsInputError(f"clip {clip.clip_id!r} appears twice")
        seen.add(clip.clip_id)
        if clip.en_start_ms < 0 or clip.en_end_ms <= clip.en_start_ms:
            raise TtsInputError(
                f"clip {clip.clip_id!r}: EN span {clip.en_start_ms}..{clip.en_end_ms} ms is empty"
            )
        if clip.ja_start_ms < 0 or clip.ja_end_ms <= clip.ja_start_ms:
            raise TtsInputError(
                f"clip {clip.clip_id!r}: JA span {clip.ja_start_ms}..{clip.ja_end_ms} ms is empty"
            )


def _dub_clip(
    clip: ClipSpec,
    text: str,
    labels: dict[str, str],
    en: WavInfo,
    backing_wav: WavInfo | None,
    inputs: EpisodeInputs,
    ports: _Ports,
) -> ClipDub | None:
    rate = inputs.out_rate
    n = clip.duration_ms * rate // 1000
    what = f"clip {clip.clip_id}"
    original = exact(to_rate(read_span(en, clip.en_start_ms, clip.en_end_ms, what), rate), n)
    backing = None
    if backing_wav is not None:
        span = read_span(backing_wav, clip.en_start_ms, clip.en_end_ms, what)
        backing = exact(to_rate(span, rate), n)
    speaker = clip.speakers[0] if clip.speakers else ""
    raw = ports.synth.speak(text, speaker)
    natural = _trim(to_rate(raw, rate), rate)
    if natural.size == 0:
        return None
    target = fitting.active_span(original, rate)
    fitted = fitting.fit(natural, rate, target, inputs.policy, ports.stretch)
    track, kept = fitting.place(fitted.samples, rate, n, target, inputs.policy.lead_ms)
    mixed = mix_clip(track, original, backing, rate)
    duration_ratio = kept / max(1, target.length)
    scores = Scores(None, duration_ratio, None)
    if inputs.compute_scores:
        dry = Speech(_trim(mixed.speech, rate), rate)
        scores = Scores(
            dnsmos=ports.scorer.dnsmos(dry) if ports.scorer is not None else None,
            duration_ratio=duration_ratio,
            speaker_similarity=_similarity(ports, speaker, dry),
        )
    return ClipDub(
        clip_id=clip.clip_id,
        text=text,
        voice=labels.get(speaker) or ports.synth.voice_for(speaker, None).label,
        mix=Speech(mixed.mix, rate),
        speech=Speech(mixed.speech, rate),
        natural_duration_ratio=fitted.natural_ratio,
        fits=fitted.fits,
        scores=scores,
    )


def _trim(audio: np.ndarray, rate: int) -> np.ndarray:
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak < 1e-4:
        return audio[:0].astype(np.float32)
    return trim_silence(audio.astype(np.float32), rate, threshold=0.02 * peak)


def _similarity(ports: _Ports, speaker: str, speech: Speech) -> float | None:
    ref = ports.references.get(speaker)
    if ref is None or ports.embedder is None or len(speech.samples) == 0:
        return None
    return float(np.dot(ports.embedder.embed(speech), ref))


def mean_scores(scores: list[Scores]) -> Scores:
    def mean(values: list[float | None]) -> float | None:
        present = [v for v in values if v is not None]
        return float(np.mean(present)) if present else None

    return Scores(
        dnsmos=mean([s.dnsmos for s in scores]),
        duration_ratio=mean([s.duration_ratio for s in scores]),
        speaker_similarity=mean([s.speaker_similarity for s in scores]),
    )
