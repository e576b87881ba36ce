"""Kafka worker of the media stage: requests in, ja.wav, en.wav, media.json to S3, result out."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from dubset_common.bus import Bus
from dubset_common.config import Settings
from dubset_common.objstore import ObjectStore
from dubset_common.service import stage_worker
from dubset_common.worker import StageWorker
from dubset_media.core.model import Limits
from dubset_media.ffmpeg import Tools
from dubset_media.handler import MAX_INPUT_BYTES, MediaStage


def limits_from(settings: Settings) -> Limits:
    return Limits(max_duration_ms=round(settings.media_max_duration_s * 1000))


def build_worker(
    settings: Settings, store: ObjectStore, bus: Bus, registry: CollectorRegistry
) -> StageWorker:
    return stage_worker(
        MediaStage(Tools().resolve(), limits_from(settings)),
        settings,
        store,
        bus,
        registry,
        max_input_bytes=MAX_INPUT_BYTES,
    )
