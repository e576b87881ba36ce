"""The quality task of a dataset job: after packaging, reading the episode fragment, both
dialogue stems, the music stem, both transcripts and both turns; left out when the submission
says run_quality false (and a submission that says true is the default job)."""

from __future__ import annotations

import pytest

from dubset.v1 import jobs_pb2
from dubset_common.errors import InvalidInputError
from dubset_jobs import convert
from dubset_jobs.core import dag
from dubset_jobs.core.ingest_parse import parse_manifest
from dubset_jobs.core.model import JobPhase
from dubset_jobs.core.state import new_job
from tests.unit.jobs.test_core_ids_dag import spec
from tests.unit.jobs.test_core_state import POLICY, outputs_of, run_to_end
from tests.unit.jobs.test_faces_task import _manifest


def test_quality_runs_after_packaging_on_the_stems_transcripts_and_turns() -> None:
    job, actions = new_job("job1", spec(dataset="anime"), POLICY, 0)
    job, sent = run_to_end(job, actions)
    assert job.phase is JobPhase.SUCCEEDED
    (quality,) = [s for s in sent if s.task == "quality"]
    assert quality.stage == "quality"
    separation = outputs_of("separation")
    assert quality.inputs == {
        "episode": outputs_of("packaging")["episode"],
        "ja_dialogue": separation["ja_dialogue"],
        "en_dialogue": separation["en_dialogue"],
        "en_backing": separation["en_backing"],
        "ja": outputs_of("asr.ja")["transcript"],
        "en": outputs_of("asr.en")["transcript"],
        "ja_turns": outputs_of("diarization.ja")["turns"],
        "en_turns": outputs_of("diarization.en")["turns"],
    }
    assert quality.params == {"dataset": "anime"}
    assert "quality" not in dag.provenance(job)
    assert dag.PARAMS_TYPES["quality"] == "dubset.v1.QualityParams"


def test_run_quality_false_leaves_the_task_out() -> None:
    job, actions = new_job("job1", spec(run_quality=False), POLICY, 0)
    assert "quality" not in [t.name for t in job.tasks]
    job, sent = run_to_end(job, actions)
    assert job.phase is JobPhase.SUCCEEDED and "quality" not in [s.task for s in sent]


def test_run_quality_unset_or_true_is_the_same_job() -> None:
    options = jobs_pb2.JobOptions()
    assert convert.run_quality(options) is True
    options.run_quality = True
    assert convert.run_quality(options) is True
    options.run_quality = False
    assert convert.run_quality(options) is False


def test_an_ingest_manifest_may_turn_quality_off() -> None:
    assert parse_manifest(_manifest({"run_quality": False}), "drop/ep.json").run_quality is False
    assert parse_manifest(_manifest({}), "drop/ep.json").run_quality is True
    with pytest.raises(InvalidInputError, match="run_quality must be true or false"):
        parse_manifest(_manifest({"run_quality": "no"}), "drop/ep.json")
