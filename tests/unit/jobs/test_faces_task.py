"""The faces task of a dataset job: after packaging, reading the JA video, the clip pairs and
the JA turns; left out when the submission says run_faces false."""

from __future__ import annotations

import json

import pytest

from dubset_common.errors import InvalidInputError
from dubset_jobs.core import dag
from dubset_jobs.core.ingest_parse import parse_manifest
from dubset_jobs.core.model import JobPhase
from dubset_jobs.core.state import new_job
from tests.unit.jobs.test_core_ids_dag import JA, spec
from tests.unit.jobs.test_core_state import POLICY, outputs_of, run_to_end


def test_faces_runs_after_packaging_on_the_ja_video_clip_pairs_and_ja_turns() -> None:
    job, actions = new_job("job1", spec(dataset="anime"), POLICY, 0)
    job, sent = run_to_end(job, actions)
    assert job.phase is JobPhase.SUCCEEDED
    (faces,) = [s for s in sent if s.task == "faces"]
    assert faces.stage == "faces"
    assert faces.inputs == {
        "video": JA,
        "episode": outputs_of("packaging")["episode"],
        "ja_turns": outputs_of("diarization.ja")["turns"],
    }
    assert faces.params == {"dataset": "anime"}
    assert dag.BY_NAME["faces"].needs == ("packaging", "diarization.ja")
    assert "faces" not in dag.provenance(job)


def test_run_faces_false_leaves_the_task_out() -> None:
    job, actions = new_job("job1", spec(run_faces=False), POLICY, 0)
    assert "faces" not in [t.name for t in job.tasks]
    job, sent = run_to_end(job, actions)
    assert job.phase is JobPhase.SUCCEEDED and "faces" not in [s.task for s in sent]


def _manifest(options: object) -> bytes:
    return json.dumps(
        {
            "format": "dubset-episode-manifest/1",
            "episode_number": 1,
            "show": {"show": "S", "season": "1"},
            "ja": "ja.mp4",
            "en": "en.mp4",
            "options": options,
        }
    ).encode()


def test_an_ingest_manifest_may_turn_faces_off_and_nothing_else() -> None:
    assert parse_manifest(_manifest({"run_faces": False}), "drop/ep.json").run_faces is False
    assert parse_manifest(_manifest({}), "drop/ep.json").run_faces is True
    with pytest.raises(InvalidInputError, match="run_faces must be true or false"):
        parse_manifest(_manifest({"run_faces": "no"}), "drop/ep.json")
