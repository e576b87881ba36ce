"""Build stage requests: inputs by reference, typed params packed into the envelope."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import TypeVar

from google.protobuf.message import Message

from dubset.v1 import common_pb2
from dubset_common.errors import InvalidInputError
from dubset_common.objstore import ObjectInfo


def media_ref(info: ObjectInfo) -> common_pb2.MediaRef:
    return common_pb2.MediaRef(
        uri=info.uri, sha256=info.sha256, mime=info.content_type, size_bytes=info.size_bytes
    )


def build_request(
    stage: str,
    job_id: str,
    episode_id: str,
    inputs: Mapping[str, ObjectInfo | common_pb2.MediaRef],
    params: Message | None = None,
    request_id: str | None = None,
) -> common_pb2.StageRequest:
    request = common_pb2.StageRequest(
        request_id=request_id or uuid.uuid4().hex,
        job_id=job_id,
        episode_id=episode_id,
        stage=stage,
        submitted_unix_ms=int(time.time() * 1000),
    )
    for name, ref in inputs.items():
        request.inputs[name].CopyFrom(media_ref(ref) if isinstance(ref, ObjectInfo) else ref)
    if params is not None:
        request.params.Pack(params)
    return request


M = TypeVar("M", bound=Message)


def unpack_params(request: common_pb2.StageRequest, message: type[M], stage: str) -> M:
    """The request's params as `message` (its defaults when it has none), or the stage's
    InvalidInputError naming the type it was given."""
    params = message()
    if request.HasField("params") and not request.params.Unpack(params):
        raise InvalidInputError(
            f"{stage} params must be {message.DESCRIPTOR.full_name}, not {request.params.type_url}"
        )
    return params
