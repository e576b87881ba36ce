"""Typed stage params keep every content key and manifest: each stage's parsed params hash
exactly as the plain dict its parse_params returned before (written out here literally)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.message import Message
from prometheus_client import CollectorRegistry

from dubset.v1 import (
    alignment_pb2,
    asr_pb2,
    common_pb2,
    diarization_pb2,
    media_pb2,
    packaging_pb2,
    separation_pb2,
    tts_pb2,
)
from dubset_alignment.handler import AlignmentStage
from dubset_asr.handler import AsrStage
from dubset_common.keys import canonical_json, content_key
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import LocalStore
from dubset_common.runner import StageExecutor, params_json
from dubset_common.stagerequest import build_request
from dubset_diarization.handler import DiarizationStage
from dubset_media.handler import MediaStage
from dubset_packaging.handler import PackagingStage
from dubset_separation.handler import SeparationStage
from dubset_tts import VERSION as TTS_VERSION
from dubset_tts.config import TtsConfig
from dubset_tts.convert import params_from_proto as tts_params_from_proto
from dubset_tts.handler import TtsStage
from dubset_tts.models import Models
from dubset_tts.synth import synth_key

TTS_DEFAULT = {
    "dataset": "default",
    "backend": "piper",
    "voice": "",
    "translation": "reference",
    "fit_duration": True,
    "mix_backing": True,
    "sample_rate_hz": 44100,
    "compute_scores": True,
    "model_dir": "",
}
TTS_INPUTS = ("episode", "en_dialogue", "en_backing", "en_turns")
PACKAGING_INPUTS = ("ja_video", "en_video", "media", "clips", "ja_turns", "en_turns", "episode")


def _tts() -> TtsStage:
    return TtsStage(Models(TtsConfig()))


CASES = [
    pytest.param(
        AlignmentStage, ("en", "ja"), None, {"max_gap_ms": 125, "ja_offset_ms": 0},
        id="alignment",
    ),
    pytest.param(
        AlignmentStage, ("en", "ja"),
        alignment_pb2.AlignmentParams(max_gap_ms=0, ja_offset_ms=-1500),
        {"max_gap_ms": 0, "ja_offset_ms": -1500},
        id="alignment-set",
    ),
    pytest.param(
        AlignmentStage, ("en", "ja"), alignment_pb2.AlignmentParams(split_lines=False),
        {"max_gap_ms": 125, "ja_offset_ms": 0, "split_lines_off": True},
        id="alignment-papers-rule",
    ),
    pytest.param(
        AsrStage, ("audio",), asr_pb2.AsrParams(language=common_pb2.LANGUAGE_JA),
        {
            "language": "ja", "backend": "faster-whisper", "model": "base", "vad": True,
            "beam_size": 5, "temperature": 0.0, "initial_prompt": "",
        },
        id="asr",
    ),
    pytest.param(
        AsrStage, ("audio",),
        asr_pb2.AsrParams(
            language=common_pb2.LANGUAGE_EN, vad=False, beam_size=1, initial_prompt="こんにちは"
        ),
        {
            "language": "en", "backend": "faster-whisper", "model": "base", "vad": False,
            "beam_size": 1, "temperature": 0.0, "initial_prompt": "こんにちは",
        },
        id="asr-set",
    ),
    pytest.param(
        DiarizationStage, ("audio",), None,
        {
            "language": None, "backend": "embedded", "model": "", "num_speakers": None,
            "min_speakers": None, "max_speakers": None,
        },
        id="diarization",
    ),
    pytest.param(
        DiarizationStage, ("audio",),
        diarization_pb2.DiarizationParams(
            language=common_pb2.LANGUAGE_EN, min_speakers=1, max_speakers=5
        ),
        {
            "language": "en", "backend": "embedded", "model": "", "num_speakers": None,
            "min_speakers": 1, "max_speakers": 5,
        },
        id="diarization-set",
    ),
    pytest.param(
        MediaStage, ("ja", "en"), None,
        {
            "sample_rate_hz": 16000, "channels": 1, "ja_stream_index": None,
            "en_stream_index": None, "max_offset_ms": 300_000, "max_duration_diff_ms": 300_000,
        },
        id="media",
    ),
    pytest.param(
        MediaStage, ("ja", "en"),
        media_pb2.MediaParams(ja_stream_index=0, channels=2, max_offset_ms=0),
        {
            "sample_rate_hz": 16000, "channels": 2, "ja_stream_index": 0,
            "en_stream_index": None, "max_offset_ms": 0, "max_duration_diff_ms": 300_000,
        },
        id="media-set",
    ),
    pytest.param(
        PackagingStage, PACKAGING_INPUTS, None,
        {"dataset": "default", "video_clips": True, "audio_bitrate_kbps": 96},
        id="packaging",
    ),
    pytest.param(
        PackagingStage, PACKAGING_INPUTS,
        packaging_pb2.PackagingParams(dataset="anime", video_clips=False, audio_bitrate_kbps=128),
        {"dataset": "anime", "video_clips": False, "audio_bitrate_kbps": 128},
        id="packaging-set",
    ),
    pytest.param(
        SeparationStage, ("ja", "en"), None, {"backend": "", "model": "", "ja_offset_ms": 0},
        id="separation",
    ),
    pytest.param(
        SeparationStage, ("ja",),
        separation_pb2.SeparationParams(backend="Repet ", ja_offset_ms=-700),
        {"backend": "repet", "model": "", "ja_offset_ms": -700},
        id="separation-set",
    ),
    pytest.param(_tts, TTS_INPUTS, None, TTS_DEFAULT, id="tts"),
    pytest.param(
        _tts, (*TTS_INPUTS, "ja_dialogue"),
        tts_pb2.TtsParams(
            backend="espeak-ng", voice="en-us", translation_backend="whisper",
            fit_duration=False, sample_rate_hz=22_050, compute_scores=False,
        ),
        {
            **TTS_DEFAULT, "backend": "espeak-ng", "voice": "en-us", "translation": "whisper",
            "fit_duration": False, "sample_rate_hz": 22050, "compute_scores": False,
        },
        id="tts-set",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("make_stage", "inputs", "params", "old"), CASES)
def test_typed_params_keep_the_content_key_and_manifest_params_of_the_dict_params(
    tmp_path: Path,
    make_stage: Callable[[], Any],
    inputs: tuple[str, ...],
    params: Message | None,
    old: dict[str, object],
) -> None:
    stage = make_stage()
    store = LocalStore(tmp_path / "store")
    refs = {name: store.put_bytes(f"in/{name}", name.encode()) for name in inputs}
    request = build_request(stage.name, "job-1", "ep-1", refs, params)
    executor = StageExecutor(stage, store, StageMetrics.create(CollectorRegistry(), stage.name))
    key, parsed = executor.output_key(request)
    digests = {name: info.sha256 for name, info in refs.items()}
    # Bytes, not ==: True == 1 in Python, but not in the hashed JSON.
    assert key == content_key(stage.name, stage.version, digests, old)
    assert canonical_json(params_json(parsed)) == canonical_json(old)
    field = dataclasses.fields(parsed)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(parsed, field, None)


def test_synthesize_keeps_its_key() -> None:
    request = tts_pb2.SynthesizeRequest(text="hi", ja_text="やあ", target_duration_ms=1200)
    request.backing.CopyFrom(common_pb2.MediaRef(uri="file:///b.wav", sha256="a" * 64))
    old = {**TTS_DEFAULT, "text": "hi", "ja_text": "やあ", "target_duration_ms": 1200}
    expected = content_key("tts-synth", TTS_VERSION, {"backing": "a" * 64}, old)
    assert synth_key(request, tts_params_from_proto(request.params)) == expected
