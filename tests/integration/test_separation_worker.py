"""The separation worker through the real broker and S3 server: both releases of a generated
episode in, dialogue and backing stems out that beat the mixture against the clean stems."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dubset.v1 import common_pb2, separation_pb2
from dubset_common.objstore import S3Store
from dubset_common.stagerequest import build_request
from dubset_eval.sisdr import si_sdr
from dubset_sample.generate import SampleOptions, generate
from tests.integration.conftest import StartWorker

OFFSET_MS = 1000


@pytest.fixture(scope="module")
def episode(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ep")
    generate(SampleOptions(out=out, seconds=20, characters=2, seed=31, ja_offset_ms=OFFSET_MS))
    for lang in ("ja", "en"):
        dialogue, rate = sf.read(out / f"{lang}_dialogue.wav", dtype="float32")
        backing, _ = sf.read(out / f"{lang}_backing.wav", dtype="float32")
        sf.write(out / f"{lang}_mix.wav", dialogue + backing, rate, subtype="PCM_16")
    return out


def test_dualdub_stems_beat_the_mixture(
    s3_store: S3Store, start_worker: StartWorker, episode: Path
) -> None:
    worker = start_worker("separation", "separation", DUBSET_MAX_ATTEMPTS="1")
    refs = {
        lang: s3_store.put_file(f"inputs/{lang}.wav", episode / f"{lang}_mix.wav", "audio/wav")
        for lang in ("ja", "en")
    }
    params = separation_pb2.SeparationParams(backend="dualdub", ja_offset_ms=OFFSET_MS)
    request = build_request("separation", "job-1", "ep-sep", refs, params)
    worker.send(request)

    (result,) = worker.results(request.request_id)
    assert result.status == common_pb2.STAGE_STATUS_OK, result.error_message
    assert result.backend.startswith("dualdub")
    for lang in ("ja", "en"):
        clean, _ = sf.read(episode / f"{lang}_dialogue.wav", dtype="float64")
        mix, _ = sf.read(episode / f"{lang}_mix.wav", dtype="float64")
        raw = s3_store.get_bytes(s3_store.key_of(result.outputs[f"{lang}_dialogue"].uri))
        estimate, _ = sf.read(io.BytesIO(raw), dtype="float64")
        n = min(len(clean), len(estimate))
        gain = si_sdr(estimate[:n], clean[:n]) - si_sdr(mix[:n], clean[:n])
        assert gain > 2.0, f"{lang}: dialogue SI-SDR improvement {gain:.1f} dB"
        assert np.isfinite(gain)
