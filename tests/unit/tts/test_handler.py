"""The tts stage through the stage runner over a local store: baseline mp3s under the dataset,
the baseline fragment written last, byte-identical re-runs, clear refusals."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from prometheus_client import CollectorRegistry

from dubset.v1 import common_pb2, tts_pb2
from dubset_common.anim400k import format_time
from dubset_common.errors import ConfigError, InvalidInputError
from dubset_common.keys import sha256_hex
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import LocalStore
from dubset_common.runner import StageExecutor
from dubset_common.stagerequest import build_request
from dubset_tts.core.model import Speech, Voice
from dubset_tts.handler import TtsStage
from dubset_tts.metrics import TtsMetrics
from dubset_tts.models import Models
from tests.unit.tts.decode import decoded_ms

RATE = 16_000
EPISODE = "show-s01e01"
NS = uuid.UUID("11111111-2222-3333-4444-555555555555")
# (en start, en end, ja start, ja end, en text, speaker)
CLIPS = [
    (1_000, 3_200, 2_500, 4_600, "Come on, we have to hurry!", "SPEAKER_00"),
    (4_000, 5_500, 5_400, 7_000, "I know.", "SPEAKER_01"),
    (6_500, 9_000, 8_000, 10_400, "", "SPEAKER_00"),  # no EN text: skipped
    (9_500, 12_400, 11_000, 13_900, "The train leaves in five minutes, you know.", "SPEAKER_01"),
]


def clip_id(n: int) -> str:
    u = str(uuid.uuid5(NS, f"en/{n}"))
    return f"{u[:2]}/{u}"


class ToneVoice:
    """A test synthesizer speaking a real signal: voiced syllables, 65 ms per character, at
    the speaker's pitch (never used by the product)."""

    name = "piper"

    def __init__(self) -> None:
        self.pitch: dict[str, float] = {}

    def backend(self) -> str:
        return "tone-voice-1"

    def voice_for(self, speaker: str, reference: Speech | None) -> Voice:
        self.pitch[speaker] = 120.0 + 15 * (sum(map(ord, speaker)) % 7)
        return Voice(speaker, f"tone:{self.pitch[speaker]:g}Hz", 0.5 if reference else None)

    def speak(self, text: str, speaker: str) -> Speech:
        n = int(len(text) * 0.065 * 22_050)
        t = np.arange(n) / 22_050
        f0 = self.pitch.get(speaker, 150.0)
        voiced = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6))
        syllables = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t - np.pi / 2)
        return Speech((0.3 * voiced * syllables).astype(np.float32), 22_050)


class BandEmbedder:
    """Unit-norm log band energies: similar voices, similar vectors."""

    def embed(self, speech: Speech) -> np.ndarray:
        spec = np.abs(np.fft.rfft(speech.samples[: 1 << 15], 1 << 15))
        bands = np.log1p(np.array([b.sum() for b in np.array_split(spec, 32)]))
        return (bands / np.linalg.norm(bands)).astype(np.float32)


class VoicedScorer:
    def dnsmos(self, speech: Speech) -> float:
        active = np.mean(np.abs(speech.samples) > 0.01) if len(speech.samples) else 0.0
        return float(1 + 4 * active)


def fake_models() -> Models:
    return Models(
        synth_loader=lambda name, voice, model_dir: ToneVoice(),
        embedder=BandEmbedder,
        scorer=VoicedScorer,
    )


def _speechy(n: int, f0: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / RATE
    env = 0.5 + 0.5 * np.sin(2 * np.pi * 3.5 * t)
    return (0.25 * env * np.sin(2 * np.pi * f0 * t) + 0.01 * rng.standard_normal(n)).astype(
        np.float32
    )


def write_episode(folder: Path, seconds: int = 14) -> dict[str, Path]:
    """EN dialogue (speech where the clips are), backing (noise + hum), turns, fragment."""
    n = 14 * RATE
    dialogue = np.zeros(n, np.float32)
    turns = []
    for i, (s, e, _js, _je, _text, speaker) in enumerate(CLIPS):
        a, b = s * RATE // 1000 + 1600, e * RATE // 1000 - 1600
        dialogue[a:b] = _speechy(b - a, 140 + 40 * (speaker == "SPEAKER_01"), i)
        turns.append({"speaker": speaker, "start_ms": s + 100, "end_ms": e - 100})
    rng = np.random.default_rng(7)
    t = np.arange(n) / RATE
    backing = (0.02 * rng.standard_normal(n) + 0.05 * np.sin(2 * np.pi * 55 * t)).astype(np.float32)
    folder.mkdir(parents=True, exist_ok=True)
    keep = seconds * RATE
    sf.write(folder / "en_dialogue.wav", dialogue[:keep], RATE, subtype="PCM_16")
    sf.write(folder / "en_backing.wav", backing[:keep], RATE, subtype="PCM_16")
    (folder / "en_turns.json").write_text(json.dumps({"language": "en", "turns": turns}))
    (folder / "episode.json").write_bytes(fragment_bytes())
    return {
        "episode": folder / "episode.json",
        "en_dialogue": folder / "en_dialogue.wav",
        "en_backing": folder / "en_backing.wav",
        "en_turns": folder / "en_turns.json",
    }


def fragment_bytes(**overrides: object) -> bytes:
    clips = [
        {
            "jp_clip": clip_id(100 + i),
            "en_clip": clip_id(i),
            "jp_text": "いくよ",
            "en_text": text,
            "jp_start_time": format_time(js),
            "jp_end_time": format_time(je),
            "en_start_time": format_time(s),
            "en_end_time": format_time(e),
            "speakers": [speaker],
        }
        for i, (s, e, js, je, text, speaker) in enumerate(CLIPS)
    ]
    doc = {
        "format": "dubset-dataset-episode/1",
        "episode_id": EPISODE,
        "episode_number": "1",
        "show": {"show": "Show"},
        "episode": {"url": "", "clips": clips},
        "files": [],
        "provenance": {"packaging": "ffmpeg-5.1"},
        **overrides,
    }
    return json.dumps(doc, sort_keys=True).encode()


@pytest.fixture(scope="module")
def episode_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_episode(tmp_path_factory.mktemp("episode"))


def executor(store: LocalStore, models: Models | None = None) -> StageExecutor:
    stage = TtsStage(models or fake_models(), TtsMetrics.create(CollectorRegistry()))
    return StageExecutor(stage, store, StageMetrics.create(CollectorRegistry(), "tts"))


def request(
    store: LocalStore,
    files: dict[str, Path],
    params: tts_pb2.TtsParams | None = None,
    **replace: bytes,
) -> common_pb2.StageRequest:
    refs = {}
    for name, path in files.items():
        data = replace.get(name, path.read_bytes())
        refs[name] = store.put_bytes(f"in/{name}", data, "application/octet-stream")
    return build_request("tts", "job-1", EPISODE, refs, params or tts_pb2.TtsParams(dataset="ds"))


def test_stage_writes_baseline_clips_and_the_fragment_last(
    tmp_path: Path, episode_files: dict[str, Path]
) -> None:
    store = LocalStore(tmp_path / "store")
    req = request(store, episode_files)
    result = executor(store).execute(req)
    assert result.status == common_pb2.STAGE_STATUS_OK and result.backend == "tone-voice-1"

    frag_bytes = store.get_bytes(f"datasets/ds/baseline/{EPISODE}.json")
    assert store.get_bytes(store.key_of(result.outputs["baseline"].uri)) == frag_bytes
    frag = json.loads(frag_bytes)
    assert frag["format"] == "dubset-dataset-baseline/1"
    assert frag["episode_sha256"] == sha256_hex(episode_files["episode"].read_bytes())
    assert frag["provenance"] == {"tts": "tone-voice-1", "translation": "reference"}
    assert set(frag["voices"]) == {"SPEAKER_00", "SPEAKER_01"}
    assert frag["skipped"] == [{"clip": clip_id(2), "reason": "no English text to speak"}]
    dubbed = [0, 1, 3]
    paths = sorted(f"anim400k_baseline_clips/{clip_id(i)}.mp3" for i in dubbed)
    assert [f["path"] for f in frag["files"]] == paths
    for entry in frag["files"]:
        i = next(i for i in dubbed if clip_id(i) == entry["clip"])
        key = f"datasets/ds/{entry['path']}"
        data = store.get_bytes(key)
        assert (len(data), sha256_hex(data)) == (entry["bytes"], entry["sha256"])
        assert data[:3] != b"ID3"  # no tag, no metadata
        want_ms = CLIPS[i][1] - CLIPS[i][0]
        assert abs(entry["duration_ms"] - want_ms) <= 30
        assert abs(decoded_ms(store.root / key) - want_ms) <= 30
        assert entry["text"] == CLIPS[i][4] and entry["voice"].startswith("tone:")
        assert entry["kind"] == "baseline" and entry["episode_id"] == EPISODE
        assert (entry["sample_rate"], entry["channels"], entry["codec"]) == (44100, 1, "mp3")
        assert set(entry["scores"]) == {"dnsmos", "duration_ratio", "speaker_similarity"}
    assert not store.list("datasets/ds/anim400k_baseline_clips/" + clip_id(2)[:2] + "/x")
    assert not store.exists(f"datasets/ds/anim400k_baseline_clips/{clip_id(2)}.mp3")
    assert set(frag["mean_scores"]) == {"dnsmos", "duration_ratio", "speaker_similarity"}


def test_rerun_is_byte_identical_and_rewrites_nothing(
    tmp_path: Path, episode_files: dict[str, Path]
) -> None:
    store = LocalStore(tmp_path / "store")
    first = executor(store).execute(request(store, episode_files))
    dataset = sorted(store.list("datasets"))
    stamps = {k: os.stat(store.root / k).st_mtime_ns for k in dataset}
    contents = {k: store.get_bytes(k) for k in dataset}
    for key in store.list("stages"):  # forget the stage's outputs: the work runs again
        store.delete(key)
    second = executor(store).execute(request(store, episode_files))
    assert not second.reused and second.output_key == first.output_key
    assert sorted(store.list("datasets")) == dataset
    assert {k: store.get_bytes(k) for k in dataset} == contents
    mp3s = [k for k in dataset if k.endswith(".mp3")]
    assert mp3s and all(os.stat(store.root / k).st_mtime_ns == stamps[k] for k in mp3s)


def test_dry_unfitted_variant_gets_its_own_key(
    tmp_path: Path, episode_files: dict[str, Path]
) -> None:
    store = LocalStore(tmp_path / "store")
    run = executor(store)
    base = run.execute(request(store, episode_files))
    params = tts_pb2.TtsParams(dataset="ds", mix_backing=False, compute_scores=False)
    dry = run.execute(request(store, episode_files, params))
    assert dry.output_key != base.output_key
    frag = json.loads(store.get_bytes(store.key_of(dry.outputs["baseline"].uri)))
    assert "mean_scores" in frag and set(frag["mean_scores"]) == {"duration_ratio"}
    assert all(set(f["scores"]) == {"duration_ratio"} for f in frag["files"])


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        (tts_pb2.TtsParams(backend="sam"), "unknown backend 'sam'"),
        (tts_pb2.TtsParams(translation_backend="deepl"), "unknown translation_backend"),
        (tts_pb2.TtsParams(sample_rate_hz=4000), "sample_rate_hz must be 8000..48000"),
        (tts_pb2.TtsParams(dataset="../etc"), "invalid dataset name"),
        (tts_pb2.TtsParams(dataset="a/b"), "invalid dataset name"),
        (tts_pb2.TtsParams(model_dir="/models/yt"), "model_dir is for the yourtts backend only"),
        (tts_pb2.TtsParams(backend="yourtts", model_dir="/m/../etc"), "plain absolute path"),
        (tts_pb2.TtsParams(backend="yourtts", model_dir="models"), "plain absolute path"),
        (tts_pb2.TtsParams(voice="joe; rm -rf /"), "is not a voice name"),
        (tts_pb2.TtsParams(translation_backend="whisper"), "give the ja_dialogue input"),
    ],
)
def test_bad_params_are_refused_before_any_work(
    tmp_path: Path, episode_files: dict[str, Path], params: tts_pb2.TtsParams, reason: str
) -> None:
    store = LocalStore(tmp_path / "store")
    with pytest.raises(InvalidInputError, match=reason.replace("(", r"\(").replace(".", r"\.")):
        executor(store).execute(request(store, episode_files, params))
    assert not store.list("stages") and not store.list("datasets")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"episode": b"[]"}, "must be a JSON object"),
        ({"episode": fragment_bytes(format="dubset-episode/1")}, "give the packaging stage"),
        ({"episode": fragment_bytes(episode_id="../x")}, "is not a safe id"),
        ({"en_turns": b'{"turns": [{"speaker": "A", "start_ms": 5, "end_ms": 1}]}'}, "start_ms"),
        ({"en_dialogue": b"RIFF not a wav"}, "not a readable WAV"),
    ],
)
def test_bad_inputs_fail_with_a_reason_and_write_nothing(
    tmp_path: Path, episode_files: dict[str, Path], change: dict[str, bytes], reason: str
) -> None:
    store = LocalStore(tmp_path / "store")
    with pytest.raises(InvalidInputError, match=reason):
        executor(store).execute(request(store, episode_files, **change))
    assert not store.list("stages") and not store.list("datasets")


def test_hostile_clip_ids_are_refused(tmp_path: Path, episode_files: dict[str, Path]) -> None:
    doc = json.loads(fragment_bytes())
    doc["episode"]["clips"][0]["en_clip"] = "../../../../etc/passwd"
    store = LocalStore(tmp_path / "store")
    bad = json.dumps(doc).encode()
    with pytest.raises(InvalidInputError, match="is not of the form xx/<uuid>"):
        executor(store).execute(request(store, episode_files, episode=bad))


def test_clip_beyond_the_stems_is_an_input_error(tmp_path: Path) -> None:
    files = write_episode(tmp_path / "short", seconds=8)
    store = LocalStore(tmp_path / "store")
    with pytest.raises(InvalidInputError, match="beyond the end"):
        executor(store).execute(request(store, files))
    assert not store.exists(f"datasets/ds/baseline/{EPISODE}.json")


def test_yourtts_without_a_model_dir_is_a_config_error(
    tmp_path: Path, episode_files: dict[str, Path]
) -> None:
    store = LocalStore(tmp_path / "store")
    stage = TtsStage(Models(), TtsMetrics.create(CollectorRegistry()))
    run = StageExecutor(stage, store, StageMetrics.create(CollectorRegistry(), "tts"))
    with pytest.raises(ConfigError, match="yourtts needs a model directory"):
        run.execute(request(store, episode_files, tts_pb2.TtsParams(backend="yourtts")))


def test_dubbing_in_small_chunks_gives_the_same_bytes(
    tmp_path: Path, episode_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Long episodes are dubbed a chunk of clips at a time (bounded memory): same dataset."""
    import dubset_tts.handler

    whole = LocalStore(tmp_path / "whole")
    executor(whole).execute(request(whole, episode_files))
    monkeypatch.setattr(dubset_tts.handler, "CHUNK_CLIPS", 1)
    chunked = LocalStore(tmp_path / "chunked")
    executor(chunked).execute(request(chunked, episode_files))
    keys = sorted(whole.list("datasets"))
    assert keys == sorted(chunked.list("datasets")) and len(keys) == 4
    assert all(whole.get_bytes(k) == chunked.get_bytes(k) for k in keys)
