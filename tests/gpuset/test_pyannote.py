"""pyannote.audio's real pipeline code (segmentation, embedding, clustering) through dubset's
diarization stage, on a tiny random model in the release layout, on a generated episode; and
the pipeline directories a user may get wrong, refused at load with the worker unchanged.

With DUBSET_DIARIZATION_PYANNOTE_DIR naming a real pipeline directory (community-1's layout),
the same run reports DER against the episode's truth."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.gpuset.conftest import REAL_PYANNOTE_ENV

LANGUAGE = "en"


def _stage(root: Path, models: Path) -> tuple[Any, Any]:
    """The diarization stage with pyannote as its backend and `models` as its model root (each
    request names its directory, as DiarizationParams.model), and its local store."""
    from prometheus_client import CollectorRegistry

    from dubset_common.metrics import StageMetrics
    from dubset_common.objstore import LocalStore
    from dubset_common.runner import StageExecutor
    from dubset_diarization.config import DiarizationConfig
    from dubset_diarization.handler import Backends, DiarizationStage

    store = LocalStore(root / "store")
    stage = DiarizationStage(Backends(DiarizationConfig("pyannote", models)))
    metrics = StageMetrics.create(CollectorRegistry(), "diarization")
    return StageExecutor(stage, store, metrics), store


def _request(store: Any, audio: Path, model: str) -> Any:
    from dubset.v1 import common_pb2, diarization_pb2
    from dubset_common.stagerequest import build_request

    ref = store.put_file(f"in/{audio.name}", audio, "audio/wav")
    params = diarization_pb2.DiarizationParams(
        language=common_pb2.LANGUAGE_EN, backend="pyannote", model=model
    )
    return build_request("diarization", "job-1", "ep-1", {"audio": ref}, params)


def _run(root: Path, model_dir: Path, audio: Path) -> tuple[Any, Any]:
    executor, store = _stage(root, model_dir.parent)
    return executor.execute(_request(store, audio, model_dir.name)), store


def _json(store: Any, ref: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(store.get_bytes(store.key_of(ref.uri)))
    return doc


def test_the_pipeline_code_runs_through_the_stage(
    tiny_pyannote: Path, episode: Path, tmp_path: Path, device: str
) -> None:
    from dubset.v1 import common_pb2

    audio = episode / f"{LANGUAGE}_dialogue.wav"
    result, store = _run(tmp_path / "a", tiny_pyannote, audio)
    assert result.status == common_pb2.STAGE_STATUS_OK, result.error_message
    assert result.backend == "pyannote"
    doc = _json(store, result.outputs["turns"])
    turns = doc["turns"]
    assert turns, doc
    truth = json.loads((episode / "truth.json").read_text())
    duration = int(truth["duration_ms"][LANGUAGE])
    for turn in turns:
        assert 0 <= turn["start_ms"] < turn["end_ms"] <= duration + 50, turn
        assert turn["speaker"].startswith("SPEAKER_")
    info = _json(store, result.manifest)["info"]
    assert info["versions"]["pyannote.audio"].startswith("4."), info
    files = {k.split("/", 1)[0] for k in info["checksums"]}
    assert {"config.yaml", "segmentation", "embedding", "plda"} <= files, info
    # The same request on a fresh worker and store: the same turns.
    again, store2 = _run(tmp_path / "b", tiny_pyannote, audio)
    assert _json(store2, again.outputs["turns"]) == doc


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _break_missing(d: Path) -> str:
    (d / "segmentation" / "pytorch_model.bin").unlink()
    return "could not load the pipeline"


def _break_outside(d: Path) -> str:
    text = (d / "config.yaml").read_text().replace("$model/embedding", "../outside")
    (d.parent / "outside").mkdir(exist_ok=True)
    (d / "config.yaml").write_text(text)
    return "is outside"


def _break_architecture(d: Path) -> str:
    # the embedding network's checkpoint where the segmentation model belongs
    shutil.copy(d / "embedding" / "pytorch_model.bin", d / "segmentation" / "pytorch_model.bin")
    return "is a WeSpeakerResNet34 (REPRESENTATION), not a segmentation model"


def _break_corrupt(d: Path) -> str:
    path = d / "embedding" / "pytorch_model.bin"
    path.write_bytes(path.read_bytes()[:4096] + b"\x00garbage")
    return "could not load the pipeline"


def _break_plda(d: Path) -> str:
    (d / "plda" / "plda.npz").write_bytes(b"not a numpy archive")
    return "could not load the pipeline"


def _break_params(d: Path) -> str:
    # a clustering param left out: pyannote loads, then fails on the first file
    text = (d / "config.yaml").read_text().replace("    threshold: 0.7\n", "")
    (d / "config.yaml").write_text(text)
    return "params do not fit"


@pytest.mark.parametrize(
    "damage",
    [
        _break_missing,
        _break_outside,
        _break_architecture,
        _break_corrupt,
        _break_plda,
        _break_params,
    ],
)
def test_bad_pipeline_dirs_fail_at_load_and_leave_the_worker_unchanged(
    tiny_pyannote: Path, episode: Path, tmp_path: Path, damage: Callable[[Path], str], device: str
) -> None:
    from dubset.v1 import common_pb2

    models = tmp_path / "models"
    models.mkdir()
    bad = _copy(tiny_pyannote, models / "bad")
    good = _copy(tiny_pyannote, models / "good")
    needle = damage(bad)
    executor, store = _stage(tmp_path, models)
    from dubset_common.errors import ConfigError

    audio = episode / f"{LANGUAGE}_dialogue.wav"
    with pytest.raises(ConfigError) as err:  # the worker publishes it as a CONFIG failure
        executor.execute(_request(store, audio, "bad"))
    assert needle in str(err.value), err.value
    print(f"\n{damage.__name__}: {err.value}")
    # The same worker then serves a good directory.
    ok = executor.execute(_request(store, audio, good.name))
    assert ok.status == common_pb2.STAGE_STATUS_OK, ok.error_message


def test_hub_ids_are_refused(tiny_pyannote: Path, tmp_path: Path) -> None:
    from dubset_diarization.core.model import BackendUnavailableError
    from dubset_diarization.pyannote_backend import PyannoteDiarizer

    bad = _copy(tiny_pyannote, tmp_path / "hub")
    text = (
        (bad / "config.yaml")
        .read_text()
        .replace("$model/segmentation", "pyannote/segmentation-3.0")
    )
    (bad / "config.yaml").write_text(text)
    with pytest.raises(BackendUnavailableError, match="hub ids are not loaded"):
        PyannoteDiarizer(bad, tmp_path / "work")


@pytest.mark.skipif(not os.environ.get(REAL_PYANNOTE_ENV), reason=f"{REAL_PYANNOTE_ENV} unset")
def test_a_real_pipeline_dir_reports_der(episode: Path, tmp_path: Path, device: str) -> None:
    from dubset.v1 import common_pb2
    from dubset_eval.der import Turn, diarization_error
    from dubset_eval.evaluate import reference_turns
    from dubset_eval.truth import load_truth

    real = Path(os.environ[REAL_PYANNOTE_ENV])
    result, store = _run(tmp_path, real, episode / f"{LANGUAGE}_dialogue.wav")
    assert result.status == common_pb2.STAGE_STATUS_OK, result.error_message
    turns = _json(store, result.outputs["turns"])["turns"]
    hyp = [Turn(t["speaker"], t["start_ms"], t["end_ms"]) for t in turns]
    truth = load_truth(episode / "truth.json")
    score = diarization_error(reference_turns(truth, LANGUAGE), hyp)
    print(f"\npyannote {real.name} on {episode.name} ({LANGUAGE}): DER {score.der}")
    assert score.der is not None
