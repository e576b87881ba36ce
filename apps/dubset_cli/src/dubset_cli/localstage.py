"""One stage on local files: its inputs put in a local store, the very same stage executed
(content-addressed, so a repeat is a lookup), its outputs copied where the user asked."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from google.protobuf.message import Message
from prometheus_client import CollectorRegistry

from dubset.v1 import common_pb2
from dubset_cli.progress import Progress
from dubset_common.errors import InvalidInputError
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import LocalStore
from dubset_common.runner import StageExecutor
from dubset_common.stagerequest import build_request

CLI_EPISODE = "local"


def run_stage(
    stage: Any,
    params: Message,
    inputs: Mapping[str, Path | None],
    work: Path,
    progress: Progress,
    max_input_bytes: int,
) -> tuple[common_pb2.StageResult, LocalStore]:
    """Execute stage on the given files (None: left out) in a store under work."""
    store = LocalStore(work)
    refs = {}
    for name, path in inputs.items():
        if path is None:
            continue
        if not path.is_file():
            raise InvalidInputError(f"{path}: no such file")
        refs[name] = store.put_file(f"inputs/{name}/{path.name}", path)
    executor = StageExecutor(
        stage,
        store,
        StageMetrics.create(CollectorRegistry(), stage.name),
        max_input_bytes=max_input_bytes,
        hook=lambda fraction, message: progress(stage.name, fraction),
    )
    request = build_request(stage.name, "cli", CLI_EPISODE, refs, params)
    return executor.execute(request), store


def save(store: LocalStore, ref: common_pb2.MediaRef, path: Path) -> Path:
    """A stage output copied to path (its folder made)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    store.get_file(store.key_of(ref.uri), path)
    return path
