"""Stage facts: what a stage reports travels on its result, survives in its manifest for
reused work, and never moves a content key."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from dubset.v1 import common_pb2
from dubset_common.errors import IntegrityError
from dubset_common.facts import Facts
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import LocalStore
from dubset_common.runner import StageContext, StageExecutor, StageOutcome
from dubset_common.testing.stages import STAGE, FakeStage, make_request

FACTS = Facts(ja_offset_ms=-1250, offset_confidence=0.8125, clips=3)


class ReportingStage(FakeStage):
    """FakeStage that also reports facts."""

    def run(self, ctx: StageContext) -> StageOutcome:
        return dataclasses.replace(super().run(ctx), facts=FACTS)


def _executor(store: LocalStore, stage: FakeStage) -> StageExecutor:
    metrics = StageMetrics.create(CollectorRegistry(), STAGE)
    return StageExecutor(stage, store, metrics)  # type: ignore[arg-type]


def _manifest(store: LocalStore, result: common_pb2.StageResult) -> dict[str, object]:
    value = json.loads(store.get_bytes(store.key_of(result.manifest.uri)))
    assert isinstance(value, dict)
    return value


def test_the_plain_facts_are_the_wire_facts() -> None:
    names = [f.name for f in dataclasses.fields(Facts)]
    assert names == [f.name for f in common_pb2.StageFacts.DESCRIPTOR.fields]
    assert all(f.has_presence for f in common_pb2.StageFacts.DESCRIPTOR.fields)


def test_only_reported_facts_are_written_and_read_back() -> None:
    assert Facts().to_json() == {}
    assert FACTS.to_json() == {"ja_offset_ms": -1250, "offset_confidence": 0.8125, "clips": 3}
    assert Facts.from_json(FACTS.to_json()) == FACTS
    wire = FACTS.to_proto()
    assert wire.HasField("ja_offset_ms") and not wire.HasField("turns")
    assert (wire.ja_offset_ms, wire.offset_confidence, wire.clips) == (-1250, 0.8125, 3)
    # A newer stage's fact is left out; a whole-number confidence is still a float.
    assert Facts.from_json({"clips": 2, "shots": 9, "offset_confidence": 1}) == Facts(
        clips=2, offset_confidence=1.0
    )


@pytest.mark.parametrize(
    "value", [[], {"clips": "3"}, {"clips": 2.5}, {"turns": True}, {"offset_confidence": "x"}]
)
def test_malformed_manifest_facts_are_an_integrity_error(value: object) -> None:
    with pytest.raises(IntegrityError, match="facts"):
        Facts.from_json(value)


def test_a_stage_s_facts_reach_its_result_and_manifest(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s")
    result = _executor(store, ReportingStage()).execute(make_request(store))
    assert result.HasField("facts") and result.facts == FACTS.to_proto()
    assert _manifest(store, result)["facts"] == FACTS.to_json()


def test_a_replay_re_emits_the_facts_without_running(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s")
    stage = ReportingStage()
    first = _executor(store, stage).execute(make_request(store, request_id="r1"))
    again = _executor(store, stage).execute(make_request(store, request_id="r2"))
    assert stage.calls == 1 and again.reused
    assert again.facts == first.facts == FACTS.to_proto()
    assert again.manifest == first.manifest


def test_facts_are_outputs_never_part_of_the_content_key(tmp_path: Path) -> None:
    plain = LocalStore(tmp_path / "plain")
    reporting = LocalStore(tmp_path / "reporting")
    a = _executor(plain, FakeStage()).execute(make_request(plain, suffix="!"))
    b = _executor(reporting, ReportingStage()).execute(make_request(reporting, suffix="!"))
    assert a.output_key == b.output_key
    assert dict(a.outputs).keys() == dict(b.outputs).keys()
    assert all(a.outputs[n].sha256 == b.outputs[n].sha256 for n in a.outputs)
    without = _manifest(reporting, b)
    del without["facts"]
    assert without == _manifest(plain, a)  # the manifest gains one key, nothing else moves


def test_a_stage_without_facts_writes_none_and_its_result_has_none(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s")
    result = _executor(store, FakeStage()).execute(make_request(store))
    assert "facts" not in _manifest(store, result)
    assert not result.HasField("facts")


def test_work_done_before_facts_existed_is_reused_without_facts(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s")
    stage = ReportingStage()
    first = _executor(store, stage).execute(make_request(store, request_id="r1"))
    key = store.key_of(first.manifest.uri)
    old = _manifest(store, first)
    del old["facts"]  # as the runner wrote it before facts existed
    store.put_bytes(key, json.dumps(old).encode(), "application/json")
    again = _executor(store, stage).execute(make_request(store, request_id="r2"))
    assert stage.calls == 1 and again.reused
    assert not again.HasField("facts")
