"""dub_episode with fake models: exact lengths, levels, placement, skips, errors, determinism."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dubset_tts.core.episode import Chosen, EpisodeInputs, dub_episode
from dubset_tts.core.model import ClipSpec, Speech, TtsInputError, Voice
from dubset_tts.translation import ReferenceTranslator
from dubset_voices.level import CEILING, loudness

IN_RATE = 48000
OUT_RATE = 44100
SYNTH_RATE = 22050


def buzz(seconds: float, rate: int, f0: float, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    wave = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 10))
    return (amp * wave / np.max(np.abs(wave))).astype(np.float32)


def linear_stretch(audio: np.ndarray, rate: int, factor: float) -> np.ndarray:
    n = round(len(audio) * factor)
    x = np.linspace(0, len(audio) - 1, n)
    return np.interp(x, np.arange(len(audio)), audio).astype(np.float32)


class FakeSynth:
    """Speaks 70 ms per character as a buzz at the speaker's pitch; remembers references."""

    name = "fake"

    def __init__(self) -> None:
        self.references: dict[str, Speech | None] = {}

    def backend(self) -> str:
        return "fake-1"

    def voice_for(self, speaker: str, reference: Speech | None) -> Voice:
        self.references[speaker] = reference
        return Voice(speaker, f"fake:{speaker}", None if reference is None else 0.5)

    def speak(self, text: str, speaker: str) -> Speech:
        if text == "...":
            return Speech(np.zeros(SYNTH_RATE, np.float32), SYNTH_RATE)
        f0 = 120.0 if speaker == "S0" else 220.0
        return Speech(buzz(0.07 * len(text), SYNTH_RATE, f0), SYNTH_RATE)


class FakeEmbedder:
    def embed(self, speech: Speech) -> np.ndarray:
        v = np.array([1.0, float(np.std(speech.samples))], np.float32)
        return v / np.linalg.norm(v)


class FakeScorer:
    def dnsmos(self, speech: Speech) -> float:
        return 3.0


def clip(cid: str, text: str, start: int, end: int, speakers: tuple[str, ...]) -> ClipSpec:
    return ClipSpec(cid, text, "", start, end, start + 500, end + 500, speakers)


@pytest.fixture
def episode(tmp_path: Path) -> tuple[Path, Path]:
    """10 s stems: S0 speaks 1.2..2.6 s, S1 5.0..7.0 s; a loud backing under everything."""
    dialogue = np.zeros(10 * IN_RATE, np.float32)
    dialogue[int(1.2 * IN_RATE) : int(2.6 * IN_RATE)] = buzz(1.4, IN_RATE, 110, amp=0.2)
    dialogue[5 * IN_RATE : 7 * IN_RATE] = buzz(2.0, IN_RATE, 230, amp=0.05)
    rng = np.random.default_rng(7)
    backing = (0.6 * rng.standard_normal(10 * IN_RATE)).clip(-0.95, 0.95).astype(np.float32)
    sf.write(tmp_path / "en_dialogue.wav", dialogue, IN_RATE, subtype="FLOAT")
    sf.write(tmp_path / "en_backing.wav", backing, IN_RATE, subtype="FLOAT")
    return tmp_path / "en_dialogue.wav", tmp_path / "en_backing.wav"


TURNS = (("S0", 1200, 2600), ("S1", 5000, 7000))
CLIPS = (
    clip("xx/a", "x" * 20, 1000, 3000, ("S0",)),  # 1.4 s of speech for a 1.4 s target: fits
    clip("xx/empty", "  ", 3000, 4000, ("S0",)),
    clip("xx/long", "y" * 60, 4800, 7300, ("S1", "S0")),  # 4.2 s for 2.0 s: unfit
    clip("xx/mute", "...", 7300, 8000, ("S1",)),
    clip("xx/nobody", "z" * 14, 8000, 9000, ("S9",)),  # silent original: the whole clip
)


def run(inputs: EpisodeInputs, hook: object = None) -> object:
    calls: list[tuple[float, str]] = []
    dub = dub_episode(
        inputs,
        FakeSynth(),
        ReferenceTranslator(),
        FakeEmbedder(),
        FakeScorer(),
        lambda f, m: calls.append((f, m)),
        stretch=linear_stretch,
    )
    return dub, calls


def inputs_for(episode: tuple[Path, Path], clips: tuple[ClipSpec, ...] = CLIPS) -> EpisodeInputs:
    dialogue, backing = episode
    return EpisodeInputs(clips, dialogue, backing, None, TURNS, out_rate=OUT_RATE)


def test_clips_have_exact_length_no_clipping_and_the_dialogue_level(
    episode: tuple[Path, Path],
) -> None:
    dub, calls = run(inputs_for(episode))
    assert [c.clip_id for c in dub.clips] == ["xx/a", "xx/long", "xx/nobody"]
    original, _ = sf.read(episode[0], dtype="float32")
    for c, spec in zip(dub.clips, (CLIPS[0], CLIPS[2], CLIPS[4]), strict=True):
        n = (spec.en_end_ms - spec.en_start_ms) * OUT_RATE // 1000
        assert len(c.mix.samples) == len(c.speech.samples) == n and c.mix.rate == OUT_RATE
        assert np.max(np.abs(c.mix.samples)) <= CEILING  # loud backing + speech: limited
        if spec.speakers[0] != "S9":
            span = original[spec.en_start_ms * 48 : spec.en_end_ms * 48]
            assert loudness(c.speech.samples, OUT_RATE) == pytest.approx(
                loudness(span, IN_RATE), abs=1.0
            )
    assert [f for f, _ in calls] == sorted(f for f, _ in calls) and calls[-1][0] == 1.0


def test_placement_fit_and_unfit_reporting(episode: tuple[Path, Path]) -> None:
    dub, _ = run(inputs_for(episode))
    fitting, long = dub.clips[0], dub.clips[1]
    onset = np.flatnonzero(np.abs(fitting.speech.samples) > 1e-3)[0] / OUT_RATE
    assert onset == pytest.approx(0.2, abs=0.03)  # the original speech starts 200 ms in
    assert fitting.fits and fitting.scores.duration_ratio == pytest.approx(1.0, abs=0.01)
    assert not long.fits and long.natural_duration_ratio == pytest.approx(2.1, abs=0.05)
    assert dub.unfit_clips == ("xx/long",)
    assert dict(dub.skipped).keys() == {"xx/empty", "xx/mute"}
    assert "no English text" in dict(dub.skipped)["xx/empty"]


def test_voices_references_and_scores(episode: tuple[Path, Path]) -> None:
    dub, _ = run(inputs_for(episode))
    assert [(v.speaker, v.similarity) for v in dub.voices] == [
        ("S0", 0.5),
        ("S1", 0.5),
        ("S9", None),  # no turns: the backend default voice, no similarity
    ]
    assert dub.clips[2].scores.speaker_similarity is None
    assert dub.clips[0].scores.speaker_similarity is not None
    assert dub.mean_scores.dnsmos == 3.0
    ratios = [c.scores.duration_ratio for c in dub.clips]
    assert dub.mean_scores.duration_ratio == pytest.approx(np.mean(ratios))


def test_chunks_of_one_episode_choose_each_voice_once(episode: tuple[Path, Path]) -> None:
    synth = FakeSynth()
    asked: list[str] = []
    voice_for = synth.voice_for

    def counted(speaker: str, reference: Speech | None) -> Voice:
        asked.append(speaker)
        return voice_for(speaker, reference)

    synth.voice_for = counted  # type: ignore[method-assign]
    chosen: Chosen = {}
    parts = []
    for part in ((CLIPS[0], CLIPS[2]), (CLIPS[1], CLIPS[3], CLIPS[4])):  # S0, S1 in both
        parts.append(dub_episode(inputs_for(episode, part), synth, ReferenceTranslator(),
                                 FakeEmbedder(), FakeScorer(), lambda f, m: None,
                                 stretch=linear_stretch, chosen=chosen))  # fmt: skip
    assert asked == ["S0", "S1", "S9"]  # S0 and S1 again in the second chunk: not re-chosen
    whole, _ = run(inputs_for(episode))
    split = {c.clip_id: c for p in parts for c in p.clips}
    assert sorted(split) == sorted(c.clip_id for c in whole.clips)
    for y in whole.clips:  # the same dubs as in one piece
        x = split[y.clip_id]
        assert np.array_equal(x.mix.samples, y.mix.samples) and x.scores == y.scores
    assert [v.speaker for v in parts[1].voices] == ["S0", "S1", "S9"]


def test_same_input_same_output(episode: tuple[Path, Path]) -> None:
    a, _ = run(inputs_for(episode))
    b, _ = run(inputs_for(episode))
    for x, y in zip(a.clips, b.clips, strict=True):
        assert np.array_equal(x.mix.samples, y.mix.samples)
        assert np.array_equal(x.speech.samples, y.speech.samples)


def test_reads_only_clip_spans(episode: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    requested: list[int] = []
    original_read = sf.SoundFile.read

    def counting_read(self: sf.SoundFile, frames: int = -1, **kw: object) -> object:
        requested.append(frames)
        return original_read(self, frames, **kw)

    monkeypatch.setattr(sf.SoundFile, "read", counting_read)
    run(inputs_for(episode))
    assert requested and -1 not in requested
    assert max(requested) <= 2500 * IN_RATE // 1000  # the longest clip, never the episode


def test_without_backing_the_mix_is_the_dry_speech(episode: tuple[Path, Path]) -> None:
    inputs = EpisodeInputs(CLIPS[:1], episode[0], None, None, TURNS, out_rate=OUT_RATE)
    dub, _ = run(inputs)
    assert np.array_equal(dub.clips[0].mix.samples, dub.clips[0].speech.samples)


@pytest.mark.parametrize(
    ("clips", "message"),
    [
        ((clip("xx/late", "hello", 9500, 12000, ("S0",)),), "beyond the end"),
        ((clip("xx/a", "hi", 0, 500, ()), clip("xx/a", "hi", 0, 500, ())), "twice"),
        ((clip("xx/neg", "hi", 500, 500, ()),), "empty"),
    ],
)
def test_bad_clips_are_input_errors(
    episode: tuple[Path, Path], clips: tuple[ClipSpec, ...], message: str
) -> None:
    with pytest.raises(TtsInputError, match=message):
        run(inputs_for(episode, clips))


def test_empty_or_unreadable_wav_is_an_input_error(
    episode: tuple[Path, Path], tmp_path: Path
) -> None:
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0, np.float32), IN_RATE)
    with pytest.raises(TtsInputError, match="empty"):
        run(EpisodeInputs(CLIPS[:1], empty, None, None, TURNS))
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not a wav at all")
    with pytest.raises(TtsInputError, match="not a readable WAV"):
        run(EpisodeInputs(CLIPS[:1], episode[0], junk, None, TURNS))
    with pytest.raises(TtsInputError, match=r"8000\.\.48000"):
        run(EpisodeInputs(CLIPS[:1], episode[0], None, None, TURNS, out_rate=96000))
    with pytest.raises(TtsInputError, match="speaker turn"):
        run(EpisodeInputs(CLIPS[:1], episode[0], None, None, (("S0", 500, 100),)))
