"""Kafka worker of the render stage: requests topic in, the dubbed video to S3, result out."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from dubset_common.bus import Bus
from dubset_common.config import Settings
from dubset_common.objstore import ObjectStore
from dubset_common.service import stage_worker
from dubset_common.worker import StageWorker
from dubset_render.handler import MAX_INPUT_BYTES, RenderStage


def build_worker(
    settings: Settings, store: ObjectStore, bus: Bus, registry: CollectorRegistry
) -> StageWorker:
    return stage_worker(
        RenderStage(), settings, store, bus, registry, max_input_bytes=MAX_INPUT_BYTES
    )
