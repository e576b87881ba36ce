"""Kafka worker of the asr stage: requests topic in, transcript.json to S3, result out."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from dubset_asr.handler import MAX_INPUT_BYTES, AsrStage, BackendLoader, default_loader
from dubset_common.bus import Bus
from dubset_common.config import Settings
from dubset_common.objstore import ObjectStore
from dubset_common.service import stage_worker
from dubset_common.worker import StageWorker


def build_worker(
    settings: Settings,
    store: ObjectStore,
    bus: Bus,
    registry: CollectorRegistry,
    loader: BackendLoader = default_loader,
) -> StageWorker:
    return stage_worker(
        AsrStage(loader), settings, store, bus, registry, max_input_bytes=MAX_INPUT_BYTES
    )
