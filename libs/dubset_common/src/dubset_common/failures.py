"""A stage's failed request and the messages that report it: a dead letter and a failed result."""

from __future__ import annotations

import time
from dataclasses import dataclass

from google.protobuf.message import DecodeError

from dubset.v1 import common_pb2
from dubset_common.bus import Record

# A dead letter or failed result must always fit in a Kafka message (1 MiB by default).
MAX_LETTER_VALUE_BYTES = 512 * 1024
MAX_LETTER_KEY_BYTES = 1024
MAX_ERROR_CHARS = 4096


@dataclass(frozen=True)
class Failure:
    code: str
    message: str
    attempts: int
    started_unix_ms: int = 0
    letter: bool = True  # also a dead letter (False: this request is in the DLQ already)


def parse_request(value: bytes) -> common_pb2.StageRequest | None:
    """The request in a record's value, or None when it is not a StageRequest."""
    request = common_pb2.StageRequest()
    try:
        request.ParseFromString(value)
    except DecodeError:
        return None
    return request if request.request_id else None


def crashed(stage: str, deliveries: int, max_crashes: int) -> Failure:
    """The failure of a request delivered `deliveries` times without finishing (at least
    max_crashes). Only the first such delivery is dead-lettered: more come only as copies of
    the request (a replay, a re-send), and the DLQ holds it already."""
    return Failure(
        "CRASHED",
        f"the {stage} worker stopped {max_crashes} times while working on this request "
        "(killed, out of memory, or a crash in native code): not tried again",
        deliveries,
        letter=deliveries == max_crashes,
    )


def dead_letter(record: Record, failure: Failure) -> common_pb2.DeadLetter:
    """The record as it came, cut to fit a message, with why it failed."""
    return common_pb2.DeadLetter(
        source_topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=(record.key or b"")[:MAX_LETTER_KEY_BYTES],
        value=record.value[:MAX_LETTER_VALUE_BYTES],
        error_code=failure.code,
        error_message=failure.message[:MAX_ERROR_CHARS],
        attempts=failure.attempts,
    )


def failed_result(
    request: common_pb2.StageRequest, failure: Failure, stage: str
) -> common_pb2.StageResult:
    """The FAILED result of `request`, finished now."""
    return common_pb2.StageResult(
        request_id=request.request_id,
        job_id=request.job_id,
        episode_id=request.episode_id,
        stage=stage,
        status=common_pb2.STAGE_STATUS_FAILED,
        error_code=failure.code,
        error_message=failure.message[:MAX_ERROR_CHARS],
        attempts=failure.attempts,
        started_unix_ms=failure.started_unix_ms,
        finished_unix_ms=int(time.time() * 1000),
    )
