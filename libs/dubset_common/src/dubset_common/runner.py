"""The stage runner: content-addressed, skip-if-done execution of one stage request."""

from __future__ import annotations

import dataclasses
import json
import logging
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from dubset.v1 import common_pb2
from dubset_common.errors import IntegrityError, InvalidInputError
from dubset_common.facts import Facts
from dubset_common.keys import (
    canonical_json,
    check_id,
    content_key,
    file_sha256,
    join_key,
    sha256_hex,
)
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import ObjectInfo, ObjectStore

log = logging.getLogger(__name__)

MANIFEST = "_manifest.json"
ProgressHook = Callable[[float, str], None]


class StageParams(Protocol):
    """A stage's validated params: a frozen dataclass whose fields are plain JSON values
    (str, int, float, bool, None); params_json of it is hashed into the output key and written
    to the manifest, so field names and value types are part of every stored key."""

    __dataclass_fields__: ClassVar[dict[str, Any]]


P = TypeVar("P", bound=StageParams)


OPTIONAL = {"omit_when_none": True}  # field metadata: a param added later, absent when unset


def params_json(params: StageParams) -> dict[str, object]:
    """The params as the JSON object the content key and the manifest hold. A field marked
    OPTIONAL is left out while None, so adding one keeps the content keys of finished work."""
    value = dataclasses.asdict(params)
    for f in dataclasses.fields(params):
        if f.metadata.get("omit_when_none") and value.get(f.name) is None:
            del value[f.name]
    return value


@dataclass(frozen=True)
class Output:
    """One file a stage produces; exactly one of data or path is set."""

    name: str
    filename: str
    content_type: str
    data: bytes | None = None
    path: Path | None = None


@dataclass(frozen=True)
class StageOutcome:
    """What a stage's run returns. info and facts must be deterministic (no clocks, no hosts);
    facts also travel on the result (StageResult.facts)."""

    outputs: tuple[Output, ...]
    backend: str
    info: Mapping[str, object] = field(default_factory=dict)
    facts: Facts = field(default_factory=Facts)


@dataclass(frozen=True)
class StageContext(Generic[P]):
    """Everything a stage's run may touch; params as the stage's parse_params returned them."""

    request: common_pb2.StageRequest
    params: P
    store: ObjectStore
    workdir: Path
    hook: ProgressHook
    max_input_bytes: int
    count_input: Callable[[int], None] = lambda _n: None

    def has_input(self, name: str) -> bool:
        """Whether the request gave this input (always true for a stage's required inputs)."""
        return name in self.request.inputs

    def read_input(self, name: str) -> bytes:
        """The bytes of a named input, checked against the sha256 it was referenced with."""
        if not self.has_input(name):
            raise InvalidInputError(f"input {name} was not given")
        ref = self.request.inputs[name]
        data = self.store.get_bytes(self.store.key_of(ref.uri), max_bytes=self.max_input_bytes)
        if sha256_hex(data) != ref.sha256:
            raise IntegrityError(f"input {name} ({ref.uri}) does not match its sha256")
        self.count_input(len(data))
        return data

    def input_file(self, name: str, filename: str | None = None) -> Path:
        """A named input streamed into the work directory (media does not fit in memory),
        checked against its size limit and sha256."""
        if not self.has_input(name):
            raise InvalidInputError(f"input {name} was not given")
        path = self.workdir / (filename or f"input-{name}")
        ref = self.request.inputs[name]
        self.count_input(
            fetch_to_file(self.store, ref, path, self.max_input_bytes, f"input {name}")
        )
        return path


def fetch_to_file(
    store: ObjectStore, ref: common_pb2.MediaRef, dest: Path, max_bytes: int, what: str
) -> int:
    """Copy a referenced object to dest, streamed; refuse it over max_bytes or when it does not
    match the ref's sha256 (when the ref carries one). Returns its size."""
    if not ref.uri:
        raise InvalidInputError(f"{what}: no uri")
    key = store.key_of(ref.uri)
    size = store.size(key)
    if size > max_bytes:
        raise InvalidInputError(f"{what} is {size} bytes, over the limit of {max_bytes}")
    store.get_file(key, dest)
    if ref.sha256 and file_sha256(dest) != ref.sha256:
        dest.unlink(missing_ok=True)
        raise IntegrityError(f"{what} ({ref.uri}) does not match its sha256")
    return size


class Stage(Protocol[P]):
    """A stage plugs its pure work into the runner through this.

    inputs are required. A stage may also set `optional_inputs: tuple[str, ...]` (read with
    optional_inputs_of, default none): names a request may leave out; the stage checks which
    ones it got with StageContext.has_input (parse_params sees the request, so it can refuse a
    combination before any work). Any other input name is refused.
    """

    name: str
    version: str
    inputs: tuple[str, ...]

    def parse_params(self, request: common_pb2.StageRequest) -> P:
        """The request's params, validated once: run gets them as ctx.params."""

    def run(self, ctx: StageContext[P]) -> StageOutcome: ...


def optional_inputs_of(stage: Stage[Any]) -> tuple[str, ...]:
    """The inputs a stage accepts but does not require (none unless it declares some)."""
    optional = getattr(stage, "optional_inputs", ())
    if not isinstance(optional, tuple) or not all(isinstance(n, str) for n in optional):
        raise TypeError(f"{stage.name}.optional_inputs must be a tuple of names")
    return tuple(n for n in optional if n not in stage.inputs)


def _log_hook(fraction: float, message: str) -> None:
    log.info("progress %.0f%% %s", fraction * 100, message)


class StageExecutor(Generic[P]):
    """Runs one request: skip if its manifest exists, else run, write outputs, manifest last."""

    def __init__(
        self,
        stage: Stage[P],
        store: ObjectStore,
        metrics: StageMetrics,
        *,
        max_input_bytes: int = 256 * 1024 * 1024,
        pause_before_manifest_s: float = 0.0,
        hook: ProgressHook = _log_hook,
    ) -> None:
        self.stage = stage
        self.store = store
        self.metrics = metrics
        self.max_input_bytes = max_input_bytes
        self.pause_before_manifest_s = pause_before_manifest_s
        self.hook = hook

    def output_key(self, request: common_pb2.StageRequest) -> tuple[str, P]:
        """The content address of this request's outputs, and its validated params."""
        check_id(request.job_id, "job id")
        check_id(request.episode_id, "episode id")
        if request.stage != self.stage.name:
            raise InvalidInputError(
                f"request for stage {request.stage!r} sent to {self.stage.name}"
            )
        optional = optional_inputs_of(self.stage)
        known = (*self.stage.inputs, *optional)
        unknown = sorted(n for n in request.inputs if n not in known)
        if unknown:
            raise InvalidInputError(
                f"unknown inputs for {self.stage.name}: {', '.join(unknown)}; "
                f"it takes {_describe(self.stage.inputs, optional)}"
            )
        missing = [n for n in self.stage.inputs if n not in request.inputs]
        if missing:
            raise InvalidInputError(f"missing inputs: {', '.join(missing)}")
        # Names and sha256s both go into the key: "ja only" and "en only" differ.
        digests = {}
        for name in self.present_inputs(request):
            ref = request.inputs[name]
            if len(ref.sha256) != 64 or any(c not in "0123456789abcdef" for c in ref.sha256):
                raise InvalidInputError(f"input {name} has no valid sha256")
            self.store.key_of(ref.uri)
            digests[name] = ref.sha256
        params = self.stage.parse_params(request)
        key = content_key(self.stage.name, self.stage.version, digests, params_json(params))
        return key, params

    def present_inputs(self, request: common_pb2.StageRequest) -> tuple[str, ...]:
        """The stage's declared inputs that this request gives, required ones first."""
        known = (*self.stage.inputs, *optional_inputs_of(self.stage))
        return tuple(n for n in known if n in request.inputs)

    def execute(self, request: common_pb2.StageRequest) -> common_pb2.StageResult:
        key, params = self.output_key(request)
        prefix = join_key("stages", self.stage.name, key)
        manifest_key = join_key(prefix, MANIFEST)
        if self.store.exists(manifest_key):
            manifest = json.loads(self.store.get_bytes(manifest_key))
            self.metrics.requests.labels("reused", manifest["backend"]).inc()
            log.info("outputs already exist, reusing", extra={"output_key": key})
            return self._result(request, key, manifest, reused=True)
        started = time.monotonic()
        with self.metrics.inflight.track_inprogress(), tempfile.TemporaryDirectory() as tmp:
            ctx = StageContext(
                request,
                params,
                self.store,
                Path(tmp),
                self.hook,
                self.max_input_bytes,
                self.metrics.input_bytes.inc,
            )
            outcome = self.stage.run(ctx)
            written = {o.name: self._write(prefix, o) for o in outcome.outputs}
        if self.pause_before_manifest_s:
            time.sleep(self.pause_before_manifest_s)
        manifest = self._manifest(key, params, request, outcome, written)
        self.store.put_bytes(manifest_key, canonical_json(manifest), "application/json")
        self.metrics.processing_seconds.observe(time.monotonic() - started)
        self.metrics.requests.labels("ok", outcome.backend).inc()
        return self._result(request, key, manifest, reused=False)

    def _write(self, prefix: str, output: Output) -> ObjectInfo:
        key = join_key(prefix, output.filename)
        if output.data is not None:
            info = self.store.put_bytes(key, output.data, output.content_type)
        elif output.path is not None:
            info = self.store.put_file(key, output.path, output.content_type)
        else:
            raise ValueError(f"output {output.name} has neither data nor path")
        self.metrics.output_bytes.inc(info.size_bytes)
        return info

    def _manifest(
        self,
        key: str,
        params: P,
        request: common_pb2.StageRequest,
        outcome: StageOutcome,
        written: Mapping[str, ObjectInfo],
    ) -> dict[str, object]:
        manifest: dict[str, object] = {
            "stage": self.stage.name,
            "version": self.stage.version,
            "key": key,
            "backend": outcome.backend,
            "params": params_json(params),
            "inputs": {n: request.inputs[n].sha256 for n in self.present_inputs(request)},
            "outputs": {
                name: {
                    "key": i.key,
                    "sha256": i.sha256,
                    "size_bytes": i.size_bytes,
                    "content_type": i.content_type,
                }
                for name, i in sorted(written.items())
            },
            "info": dict(outcome.info),
        }
        # Only when reported: the manifest of a stage without facts keeps its bytes.
        if facts := outcome.facts.to_json():
            manifest["facts"] = facts
        return manifest

    def _result(
        self,
        request: common_pb2.StageRequest,
        key: str,
        manifest: Mapping[str, object],
        *,
        reused: bool,
    ) -> common_pb2.StageResult:
        prefix = join_key("stages", self.stage.name, key)
        manifest_key = join_key(prefix, MANIFEST)
        result = common_pb2.StageResult(
            request_id=request.request_id,
            job_id=request.job_id,
            episode_id=request.episode_id,
            stage=self.stage.name,
            status=common_pb2.STAGE_STATUS_OK,
            output_key=key,
            backend=str(manifest["backend"]),
            reused=reused,
        )
        if "facts" in manifest:  # a manifest written before facts existed has none
            result.facts.CopyFrom(Facts.from_json(manifest["facts"]).to_proto())
        raw = canonical_json(manifest)
        result.manifest.CopyFrom(
            common_pb2.MediaRef(
                uri=self.store.uri(manifest_key),
                sha256=sha256_hex(raw),
                mime="application/json",
                size_bytes=len(raw),
            )
        )
        outputs = manifest["outputs"]
        assert isinstance(outputs, dict)
        for name, o in outputs.items():
            result.outputs[name].CopyFrom(
                common_pb2.MediaRef(
                    uri=self.store.uri(o["key"]),
                    sha256=o["sha256"],
                    mime=o["content_type"],
                    size_bytes=o["size_bytes"],
                )
            )
        return result


def _describe(required: tuple[str, ...], optional: tuple[str, ...]) -> str:
    parts = []
    if required:
        parts.append(", ".join(required))
    if optional:
        parts.append(f"optionally {', '.join(optional)}")
    return " and ".join(parts) or "no inputs"
