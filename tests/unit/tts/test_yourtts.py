"""The YourTTS backend on a tiny random model laid out like the released model dir."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dubset_tts.backends.yourtts import YourTts
from dubset_tts.core.model import BackendUnavailableError, Speech, TtsInputError
from tests.unit.tts.yourtts_model import RATE, build

FILES = ("config.json", "model_file.pth", "model_se.pth", "config_se.json")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("yourtts") / "your_tts")


@pytest.fixture(scope="module")
def tts(model_dir: Path) -> YourTts:
    return YourTts(model_dir)


def voice_wav(path: Path, f0: float, rate: int = 22050, seconds: float = 2.0) -> Path:
    """A voiced, speech-like reference: harmonics of f0 with a syllable envelope."""
    t = np.arange(int(rate * seconds)) / rate
    wave = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 12))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2
    sf.write(path, (0.2 * wave * envelope).astype(np.float32), rate)
    return path


def load(path: Path) -> Speech:
    samples, rate = sf.read(path, dtype="float32")
    return Speech(samples, rate)


def linked_copy(src: Path, dst: Path, skip: str = "") -> Path:
    dst.mkdir()
    for f in src.iterdir():
        if f.name != skip:
            os.link(f, dst / f.name)
    return dst


def edit_config(model_dir: Path, name: str, **changes: object) -> None:
    path = model_dir / name
    config = json.loads(path.read_text())
    for key, value in changes.items():
        target = config
        *parents, leaf = key.split("__")
        for parent in parents:
            target = target[parent]
        target[leaf] = value
    path.unlink()  # a hard link: write a new file, not into the shared one
    path.write_text(json.dumps(config))


@pytest.mark.slow
def test_clones_a_reference_and_speaks_english_deterministically(
    tts: YourTts, model_dir: Path, tmp_path: Path
) -> None:
    voice = tts.voice_for("SPEAKER_00", load(voice_wav(tmp_path / "ref.wav", 140.0)))
    assert voice.speaker == "SPEAKER_00"
    assert voice.label.startswith("yourtts:your_tts+dvec=")
    assert voice.similarity is not None and -1.0 <= voice.similarity <= 1.0

    speech = tts.speak("Hello there. Where did you put the map?", "SPEAKER_00")
    assert speech.rate == RATE == tts.rate
    assert speech.duration_ms > 100
    assert np.all(np.isfinite(speech.samples)) and np.abs(speech.samples).max() <= 1.0
    assert np.abs(speech.samples).max() > 0
    again = tts.speak("Hello there. Where did you put the map?", "SPEAKER_00")
    assert again.samples.tobytes() == speech.samples.tobytes()

    fresh = YourTts(model_dir)
    assert fresh.voice_for("SPEAKER_00", load(tmp_path / "ref.wav")).label == voice.label
    same = fresh.speak("Hello there. Where did you put the map?", "SPEAKER_00")
    assert same.samples.tobytes() == speech.samples.tobytes()


@pytest.mark.slow
def test_different_references_give_different_voices(tts: YourTts, tmp_path: Path) -> None:
    low = tts.voice_for("A", load(voice_wav(tmp_path / "low.wav", 95.0)))
    high = tts.voice_for(
        "B", Speech(np.random.default_rng(3).uniform(-0.3, 0.3, 32000).astype(np.float32), 16000)
    )
    assert low.label != high.label  # the label carries the d-vector's hash
    a = tts.speak("A short line.", "A").samples
    b = tts.speak("A short line.", "B").samples
    assert a.shape != b.shape or not np.array_equal(a, b)


@pytest.mark.slow
def test_an_episode_cast_clones_each_character_and_refuses_pins(
    tts: YourTts, tmp_path: Path
) -> None:
    """Dubbing an episode: each speaker cloned from their own speech, so two characters never
    share a voice; stock voice pins mean nothing to a cloning model."""
    refs = {"Aoi": load(voice_wav(tmp_path / "aoi.wav", 230.0)),
            "Kaito": load(voice_wav(tmp_path / "kaito.wav", 105.0)), "Mob": None}  # fmt: skip
    voices = tts.cast(refs, {})
    assert [v.speaker for v in voices] == ["Aoi", "Kaito", "Mob"]
    assert len({v.label for v in voices}) == 3 and voices[2].similarity is None
    with pytest.raises(TtsInputError, match="clones each speaker"):
        tts.cast(refs, {"Aoi": "piper:joe"})


@pytest.mark.slow
def test_without_a_reference_the_first_training_speaker_speaks(tts: YourTts) -> None:
    voice = tts.voice_for("SPEAKER_09", None)
    assert voice.label == "yourtts:your_tts:VCTK_p225" and voice.similarity is None
    unknown = tts.speak("Nobody introduced me.", "never-seen")
    assert (
        unknown.samples.tobytes()
        == tts.speak("Nobody introduced me.", "SPEAKER_09").samples.tobytes()
    )


@pytest.mark.slow
def test_bad_text_and_short_references_are_input_errors(tts: YourTts) -> None:
    with pytest.raises(TtsInputError, match="empty"):
        tts.speak("  \n ", "SPEAKER_00")
    with pytest.raises(TtsInputError, match="no character"):
        tts.speak("\u3053\u3093\u306b\u3061\u306f", "SPEAKER_00")
    with pytest.raises(TtsInputError, match="at least 500 ms"):
        tts.voice_for("S", Speech(np.zeros(1600, np.float32), 16000))


@pytest.mark.slow
def test_backend_names_coqui_version_dir_and_config(tts: YourTts, model_dir: Path) -> None:
    sha = hashlib.sha256((model_dir / "config.json").read_bytes()).hexdigest()
    assert tts.backend() == f"coqui-tts-{metadata.version('coqui-tts')}/yourtts:your_tts:{sha[:12]}"


def test_missing_dir_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailableError, match=str(tmp_path / "nope")):
        YourTts(tmp_path / "nope")


@pytest.mark.parametrize("missing", FILES)
def test_missing_file_is_named(model_dir: Path, tmp_path: Path, missing: str) -> None:
    broken = linked_copy(model_dir, tmp_path / "broken", skip=missing)
    with pytest.raises(BackendUnavailableError, match=missing.replace(".", r"\.")) as err:
        YourTts(broken)
    assert str(broken) in str(err.value)


def test_config_naming_a_file_outside_the_dir_is_refused(model_dir: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    shutil.copy(model_dir / "speakers.pth", outside / "voices.pth")
    broken = linked_copy(model_dir, tmp_path / "broken", skip="speakers.pth")
    edit_config(broken, "config.json", model_args__d_vector_file=[str(outside / "voices.pth")])
    with pytest.raises(BackendUnavailableError, match=r"put voices\.pth into the model dir"):
        YourTts(broken)
    for url in ("s3://bucket/model_se.pth", "simplecache::/x/model_se.pth", "../.."):
        edit_config(broken, "config.json", model_args__speaker_encoder_model_path=url)
        with pytest.raises(BackendUnavailableError, match="not a model dir file"):
            YourTts(broken)


@pytest.mark.slow
def test_config_paths_are_rerooted_into_the_dir(model_dir: Path, tmp_path: Path) -> None:
    # The config names an existing foreign file of the same name: the dir's own file is read.
    outside = tmp_path / "training"
    outside.mkdir()
    (outside / "model_se.pth").write_bytes(b"not a checkpoint")
    moved = linked_copy(model_dir, tmp_path / "moved")
    edit_config(
        moved, "config.json", model_args__speaker_encoder_model_path=str(outside / "model_se.pth")
    )
    assert YourTts(moved).rate == RATE


@pytest.mark.parametrize(
    ("name", "key", "value", "message"),
    [
        ("config.json", "audio__stats_path", "/tmp/scale_stats.npy", "stats_path"),
        ("config_se.json", "audio__stats_path", "scale_stats.npy", "stats_path"),
        ("config.json", "characters__characters_class", "os.system", "not a coqui class"),
        ("config.json", "model", "glow_tts", "not VITS"),
        ("config.json", "model_args__use_d_vector_file", False, "d-vector"),
    ],
)
def test_unsafe_or_foreign_configs_are_refused(
    model_dir: Path, tmp_path: Path, name: str, key: str, value: object, message: str
) -> None:
    broken = linked_copy(model_dir, tmp_path / "broken")
    edit_config(broken, name, **{key: value})
    with pytest.raises(BackendUnavailableError, match=message):
        YourTts(broken)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_a_corrupt_checkpoint_is_unavailable_not_a_crash(model_dir: Path, tmp_path: Path) -> None:
    broken = linked_copy(model_dir, tmp_path / "broken", skip="model_file.pth")
    (broken / "model_file.pth").write_bytes(b"\x80\x04garbage")
    with pytest.raises(BackendUnavailableError, match="cannot load the model"):
        YourTts(broken)


def test_dubset_device_cuda_without_a_gpu_is_unavailable(
    model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DUBSET_DEVICE reaches the backend: no silent CPU run when CUDA was asked for."""
    import torch

    from dubset_tts.backends import load_synthesizer

    if torch.cuda.is_available():
        pytest.skip("a GPU is here")
    monkeypatch.setenv("DUBSET_DEVICE", "cuda")
    with pytest.raises(BackendUnavailableError, match="device 'cuda' is not available"):
        load_synthesizer("yourtts", model_dir=model_dir)
