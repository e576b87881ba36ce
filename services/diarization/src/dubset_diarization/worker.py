"""Kafka worker of the diarization stage: requests topic in, turns.json + RTTM to S3, result out."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from dubset_common.bus import Bus
from dubset_common.config import Settings
from dubset_common.objstore import ObjectStore
from dubset_common.service import stage_worker
from dubset_common.worker import StageWorker
from dubset_diarization.handler import MAX_INPUT_BYTES, Backends, DiarizationStage


def build_worker(
    settings: Settings,
    store: ObjectStore,
    bus: Bus,
    registry: CollectorRegistry,
    backends: Backends | None = None,
) -> StageWorker:
    return stage_worker(
        DiarizationStage(backends), settings, store, bus, registry, max_input_bytes=MAX_INPUT_BYTES
    )
