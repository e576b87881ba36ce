"""The quality stage through the runner: signals that follow the audio and the texts, a
fragment in the dataset, byte-identical re-runs, and inputs that are not what they claim."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from dubset_quality.core.packing import HeardWord
from dubset_quality.core.signals import FloatArray
from dubset_quality.handler import QualityStage, quality_key
from prometheus_client import CollectorRegistry

from dubset.v1 import common_pb2, quality_pb2
from dubset_common.errors import InvalidInputError
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import LocalStore, ObjectInfo
from dubset_common.runner import StageExecutor
from dubset_common.stagerequest import build_request

RATE = 16000
GOOD_JP = "aa/aa019ebb-0000-5000-8000-000000000001"
GOOD_EN = "bb/bb019ebb-0000-5000-8000-000000000002"
BAD_JP = "cc/cc019ebb-0000-5000-8000-000000000003"
BAD_EN = "dd/dd019ebb-0000-5000-8000-000000000004"


class Heard:
    """A recogniser that hears the clip's own text where the audio is loud (the first clip)
    and nonsense where it is quiet (the second: a garbled recognition), word by word at the
    times of each stretch of sound, as packed windows hold both."""

    name = "fake:heard"
    windows = 0

    def words(self, samples: FloatArray, language: str) -> list[HeardWord] | None:
        Heard.windows += 1
        frames = np.abs(samples[: samples.size // 160 * 160]).reshape(-1, 160).mean(axis=1)
        out = []
        for start, end, level in _stretches(frames):
            loud = level > 0.05
            if language == "en":
                said = ["hello", "there", "my", "friend"] if loud else ["cabbage"]
            else:
                said = list("こんにちは") if loud else ["あ"]
            step = (end - start) * 10 // len(said)
            out += [HeardWord(start * 10 + k * step, start * 10 + (k + 1) * step, w)
                    for k, w in enumerate(said)]  # fmt: skip
        return out


def _stretches(frames: FloatArray) -> list[tuple[int, int, float]]:
    """[start, end) 10 ms frames of each run of sound (mean level over 0.005), its level."""
    out, start = [], None
    for i, level in enumerate([*frames.tolist(), 0.0]):
        if level > 0.005 and start is None:
            start = i
        elif level <= 0.005 and start is not None:
            out.append((start, i, float(frames[start:i].mean())))
            start = None
    return out


def _voice(seconds: float, level: float, seed: int) -> FloatArray:
    t = np.arange(int(seconds * RATE)) / RATE
    rng = np.random.default_rng(seed)
    tone = np.sin(2 * np.pi * 180 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    return (level * tone + 0.002 * rng.standard_normal(t.size)).astype(np.float32)


def _inputs(store: LocalStore, tmp: Path) -> dict[str, ObjectInfo]:
    refs = {}
    for lang in ("ja", "en"):  # a loud line at 1-3 s, a quiet one at 5-7 s
        audio = np.concatenate([np.zeros(RATE, np.float32), _voice(2, 0.3, 1),
                                np.zeros(2 * RATE, np.float32), _voice(2, 0.02, 2),
                                np.zeros(RATE, np.float32)])  # fmt: skip
        path = tmp / f"{lang}_dialogue.flac"
        sf.write(str(path), audio, RATE)
        refs[f"{lang}_dialogue"] = store.put_file(f"in/{path.name}", path, "audio/flac")
        words = [{"start_ms": 1000 + 400 * i, "end_ms": 1300 + 400 * i, "text": "w",
                  "confidence": 0.9} for i in range(4)]  # fmt: skip
        words += [{"start_ms": 5000, "end_ms": 6000, "text": "w", "confidence": 0.2}]
        transcript = {"language": lang, "segments": [{"start_ms": 1000, "end_ms": 7000,
                                                      "text": "", "words": words}]}  # fmt: skip
        refs[lang] = store.put_bytes(f"in/{lang}.json", json.dumps(transcript).encode())
        turns = {"turns": [{"start_ms": 1000, "end_ms": 3000, "speaker": "A"},
                           {"start_ms": 5000, "end_ms": 7000, "speaker": "A"},
                           {"start_ms": 6000, "end_ms": 7000, "speaker": "B"}]}  # fmt: skip
        refs[f"{lang}_turns"] = store.put_bytes(f"in/{lang}_turns.json", json.dumps(turns).encode())
    backing = tmp / "en_backing.flac"
    sf.write(str(backing), _voice(8, 0.05, 3), RATE)
    refs["en_backing"] = store.put_file("in/en_backing.flac", backing, "audio/flac")
    clips = [
        {"jp_clip": GOOD_JP, "en_clip": GOOD_EN, "jp_text": "こんにちは",
         "en_text": "Hello there, my friend!", "jp_start_time": "00:00:01.000",
         "jp_end_time": "00:00:03.000", "en_start_time": "00:00:01.000",
         "en_end_time": "00:00:03.000", "speakers": ["A"]},
        {"jp_clip": BAD_JP, "en_clip": BAD_EN, "jp_text": "さようなら",
         "en_text": "Goodbye for now", "jp_start_time": "00:00:05.000",
         "jp_end_time": "00:00:07.000", "en_start_time": "00:00:05.000",
         "en_end_time": "00:00:06.000", "speakers": ["A", "B"]},
    ]  # fmt: skip
    fragment = {"format": "dubset-dataset-episode/1", "episode_id": "show-e01",
                "episode": {"clips": clips}}  # fmt: skip
    refs["episode"] = store.put_bytes("in/episode.json", json.dumps(fragment).encode())
    return refs


def _run(
    store: LocalStore, refs: dict[str, ObjectInfo], **params: object
) -> common_pb2.StageResult:
    stage = QualityStage(recognizer=lambda p, work: Heard())
    executor = StageExecutor(stage, store, StageMetrics.create(CollectorRegistry(), "q"))
    p = quality_pb2.QualityParams(dataset="ds", **params)  # type: ignore[arg-type]
    return executor.execute(build_request("quality", "job-1", "show-e01", refs, p))


@pytest.fixture
def scored(tmp_path: Path) -> tuple[LocalStore, dict[str, ObjectInfo], common_pb2.StageResult]:
    store = LocalStore(tmp_path / "store")
    refs = _inputs(store, tmp_path)
    return store, refs, _run(store, refs)


def test_signals_follow_the_audio_turns_and_texts(
    scored: tuple[LocalStore, dict[str, ObjectInfo], common_pb2.StageResult],
) -> None:
    store, _, result = scored
    doc = json.loads(store.get_bytes(quality_key("ds", "show-e01")))
    assert store.get_bytes(store.key_of(result.outputs["quality"].uri)) == store.get_bytes(
        quality_key("ds", "show-e01")
    )
    good, bad = doc["clips"][GOOD_JP], doc["clips"][BAD_JP]
    assert good["en_clip"] == GOOD_EN and bad["en_clip"] == BAD_EN
    assert good["agreement_en"] == 1.0 and good["agreement_ja"] == 1.0
    assert bad["agreement_en"] == 0.0
    assert good["confidence_en"] == 0.9 and bad["confidence_en"] == 0.2
    assert good["overlap_ja"] == 0.0 and bad["overlap_ja"] == 0.5
    assert good["duration_ratio"] == 1.0 and bad["duration_ratio"] == 2.0
    assert good["music_db"] < bad["music_db"]  # the same backing under a quieter voice
    assert 1.0 <= good["dnsmos_en"] <= 5.0
    assert good["score"] > bad["score"] + 0.3, (good, bad)
    assert result.backend == "dubset-quality+fake:heard+dnsmos-p835"


def test_a_rerun_is_byte_identical(
    scored: tuple[LocalStore, dict[str, ObjectInfo], common_pb2.StageResult], tmp_path: Path
) -> None:
    store, refs, result = scored
    first = store.get_bytes(quality_key("ds", "show-e01"))
    store.delete(store.key_of(result.outputs["quality"].uri))
    store.delete(quality_key("ds", "show-e01"))
    for name in store.list("stages"):
        store.delete(name)
    again = _run(store, refs)
    assert store.get_bytes(quality_key("ds", "show-e01")) == first
    assert again.outputs["quality"].sha256 == result.outputs["quality"].sha256


def test_signals_turned_off_are_left_out(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    refs = _inputs(store, tmp_path)
    del refs["en_backing"]
    result = _run(store, refs, reasr=False, dnsmos=False)
    doc = json.loads(store.get_bytes(store.key_of(result.outputs["quality"].uri)))
    good = doc["clips"][GOOD_JP]
    assert good["agreement_en"] is None and good["dnsmos_ja"] is None
    assert good["music_db"] is None and good["confidence_en"] == 0.9
    assert result.backend == "dubset-quality"


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("en_dialogue", b"not audio at all", "not a readable audio file"),
        ("episode", b"{}", "format"),
        ("ja_turns", b'{"turns": 3}', "no turns list"),
        ("en", b"[1]", "JSON object"),
    ],
)
def test_a_bad_input_fails_the_job_with_the_reason(
    tmp_path: Path, name: str, data: bytes, says: str
) -> None:
    store = LocalStore(tmp_path / "store")
    refs = _inputs(store, tmp_path)
    refs[name] = store.put_bytes(f"in/bad-{name}", data)
    with pytest.raises(InvalidInputError, match=says):
        _run(store, refs)


def test_params_are_checked(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    refs = _inputs(store, tmp_path)
    for params, says in (({"dataset": ""}, "dataset"), ({"asr_backend": "x"}, "asr_backend"),
                         ({"asr_model": "../up"}, "model")):  # fmt: skip
        p = {"dataset": "ds", **params}
        stage = QualityStage(recognizer=lambda p, work: Heard())
        executor = StageExecutor(stage, store, StageMetrics.create(CollectorRegistry(), "q"))
        request = build_request("quality", "j", "show-e01", refs, quality_pb2.QualityParams(**p))  # type: ignore[arg-type]
        with pytest.raises(InvalidInputError, match=says):
            executor.execute(request)


def test_a_clip_past_the_end_of_a_stem_is_scored_without_dnsmos(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    refs = _inputs(store, tmp_path)
    fragment = json.loads(store.get_bytes(store.key_of(refs["episode"].uri)))
    late = dict(fragment["episode"]["clips"][0])
    late.update(jp_start_time="00:00:07.900", jp_end_time="00:00:09.500",
                en_start_time="00:00:07.900", en_end_time="00:00:09.500")  # fmt: skip
    late["jp_clip"] = "ee/ee019ebb-0000-5000-8000-000000000005"
    late["en_clip"] = "ff/ff019ebb-0000-5000-8000-000000000006"
    fragment["episode"]["clips"].append(late)
    refs["episode"] = store.put_bytes("in/episode2.json", json.dumps(fragment).encode())
    result = _run(store, refs, reasr=False)
    doc = json.loads(store.get_bytes(store.key_of(result.outputs["quality"].uri)))
    q = doc["clips"][late["jp_clip"]]
    assert q["dnsmos_ja"] is None and q["dnsmos_en"] is None and 0 <= q["score"] <= 1
