"""Optional stage inputs: may be absent, are checked when present, and keep keys apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from dubset.v1 import common_pb2
from dubset_common.errors import IntegrityError, InvalidInputError
from dubset_common.keys import content_key, sha256_hex
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import LocalStore
from dubset_common.runner import (
    Output,
    StageContext,
    StageExecutor,
    StageOutcome,
    optional_inputs_of,
)
from dubset_common.testing.stages import STAGE, FakeStage, NoParams, make_request

# Taken with the runner before optional inputs existed: requests that give every input must
# keep their output keys, and their manifests their bytes.
KNOWN = {
    None: (
        "bf4f86977b2854ca0d291bb31fa51748cb5208e090368e4cf6d97196aedfecad",
        "7547503bc13901577aa5d096b45dff1a8118131e4d4e50d3a68dec7e9d2be72a",
    ),
    "!": (
        "fa052424e6023c7b40c9a78e9caea8c80ebb6aa28eb492203603e3eb6f5886ba",
        "c389b42b8e8ba533682a68ca5a731f7557eb7f2112296039099a2eee7b300155",
    ),
}


class OptionalStage:
    """Requires `src`, takes `ja` and `en` if given; echoes which it saw."""

    name = "opt"
    version = "1"
    inputs: tuple[str, ...] = ("src",)
    optional_inputs: tuple[str, ...] = ("ja", "en")

    def __init__(self) -> None:
        self.calls = 0
        self.seen: dict[str, bool] = {}

    def parse_params(self, request: common_pb2.StageRequest) -> NoParams:
        return NoParams()

    def run(self, ctx: StageContext[NoParams]) -> StageOutcome:
        self.calls += 1
        self.seen = {n: ctx.has_input(n) for n in ("src", "ja", "en", "fr")}
        parts = [ctx.read_input(n) for n in ("src", "ja", "en") if ctx.has_input(n)]
        data = b"|".join(parts)
        return StageOutcome(
            outputs=(Output("out", "out.txt", "text/plain", data=data),), backend="opt"
        )


def _executor(store: LocalStore, stage: object) -> StageExecutor:
    metrics = StageMetrics.create(CollectorRegistry(), "opt")
    return StageExecutor(stage, store, metrics)  # type: ignore[arg-type]


def _request(store: LocalStore, **inputs: bytes) -> common_pb2.StageRequest:
    request = common_pb2.StageRequest(
        request_id="r", job_id="job-1", episode_id="ep-1", stage="opt"
    )
    for name, data in inputs.items():
        info = store.put_bytes(f"in/{name}", data)
        request.inputs[name].CopyFrom(common_pb2.MediaRef(uri=info.uri, sha256=info.sha256))
    return request


@pytest.mark.parametrize("suffix", [None, "!"])
def test_full_requests_keep_their_keys_and_manifest_bytes(
    tmp_path: Path, suffix: str | None
) -> None:
    store = LocalStore(tmp_path / "s")
    metrics = StageMetrics.create(CollectorRegistry(), STAGE)
    result = StageExecutor(FakeStage(), store, metrics).execute(  # type: ignore[arg-type]
        make_request(store, suffix=suffix)
    )
    assert (result.output_key, result.manifest.sha256) == KNOWN[suffix]


def test_optional_absent_runs_and_keys_as_before(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s")
    stage = OptionalStage()
    request = _request(store, src=b"abc")
    result = _executor(store, stage).execute(request)
    assert stage.calls == 1
    assert stage.seen == {"src": True, "ja": False, "en": False, "fr": False}
    assert store.get_bytes(store.key_of(result.outputs["out"].uri)) == b"abc"
    # Declaring optional inputs does not move the key of a request that gives none of them.
    assert result.output_key == content_key("opt", "1", {"src": sha256_hex(b"abc")}, {})
    manifest = json.loads(store.get_bytes(store.key_of(result.manifest.uri)))
    assert manifest["inputs"] == {"src": sha256_hex(b"abc")}
    assert set(request.inputs) == {"src"}  # has_input did not add map entries


def test_optional_present_is_read_checked_and_keyed(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s")
    stage = OptionalStage()
    executor = _executor(store, stage)
    absent = executor.execute(_request(store, src=b"abc"))
    present = executor.execute(_request(store, src=b"abc", en=b"EN"))
    assert stage.seen == {"src": True, "ja": False, "en": True, "fr": False}
    assert store.get_bytes(store.key_of(present.outputs["out"].uri)) == b"abc|EN"
    assert present.output_key != absent.output_key
    manifest = json.loads(store.get_bytes(store.key_of(present.manifest.uri)))
    assert manifest["inputs"] == {"src": sha256_hex(b"abc"), "en": sha256_hex(b"EN")}

    tampered = _request(store, src=b"abc", ja=b"JA")
    store.put_bytes("in/ja", b"not JA")
    with pytest.raises(IntegrityError, match="input ja"):
        executor.execute(tampered)
    bad_sha = _request(store, src=b"abc", ja=b"JA")
    bad_sha.inputs["ja"].sha256 = "0" * 63
    with pytest.raises(InvalidInputError, match="input ja has no valid sha256"):
        executor.execute(bad_sha)


def test_which_optional_input_is_given_changes_the_key(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s")
    executor = _executor(store, OptionalStage())
    ja_only = executor.execute(_request(store, src=b"abc", ja=b"same bytes"))
    en_only = executor.execute(_request(store, src=b"abc", en=b"same bytes"))
    both = executor.execute(_request(store, src=b"abc", ja=b"same bytes", en=b"same bytes"))
    assert len({ja_only.output_key, en_only.output_key, both.output_key}) == 3
    assert not en_only.reused and not both.reused


@pytest.mark.parametrize("stage", [OptionalStage(), FakeStage()], ids=["optional", "plain"])
def test_unknown_input_is_refused_before_any_work(tmp_path: Path, stage: object) -> None:
    store = LocalStore(tmp_path / "s")
    request = make_request(store) if isinstance(stage, FakeStage) else _request(store, src=b"x")
    info = store.put_bytes("in/fr", b"FR")
    request.inputs["fr"].CopyFrom(common_pb2.MediaRef(uri=info.uri, sha256=info.sha256))
    with pytest.raises(InvalidInputError, match=r"unknown inputs for .*: fr; it takes src"):
        _executor(store, stage).execute(request)
    assert store.list("stages") == []


def test_missing_required_input_is_refused_even_with_optional_ones(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s")
    stage = OptionalStage()
    with pytest.raises(InvalidInputError, match="missing inputs: src"):
        _executor(store, stage).execute(_request(store, ja=b"JA", en=b"EN"))
    assert stage.calls == 0 and store.list("stages") == []


def test_reading_an_absent_input_is_a_clear_error(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s")
    request = _request(store, src=b"abc")
    ctx = StageContext(request, NoParams(), store, tmp_path, lambda _f, _m: None, 1 << 20)
    assert not ctx.has_input("ja")
    with pytest.raises(InvalidInputError, match="input ja was not given"):
        ctx.read_input("ja")
    assert set(request.inputs) == {"src"}


def test_optional_inputs_default_to_none_and_must_be_names() -> None:
    assert optional_inputs_of(FakeStage()) == ()  # type: ignore[arg-type]
    assert optional_inputs_of(OptionalStage()) == ("ja", "en")
    bad = OptionalStage()
    bad.optional_inputs = ["ja"]  # type: ignore[assignment]
    with pytest.raises(TypeError, match="tuple of names"):
        optional_inputs_of(bad)
