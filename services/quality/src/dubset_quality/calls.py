"""The Quality rpc: the very same stage executed on the service's store."""

from __future__ import annotations

from dubset.v1 import common_pb2, quality_pb2
from dubset_common.errors import InvalidInputError
from dubset_common.keys import check_id
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import ObjectStore
from dubset_common.runner import StageExecutor
from dubset_quality import STAGE
from dubset_quality.handler import MAX_INPUT_BYTES, QualityStage


class QualityCalls:
    def __init__(self, store: ObjectStore, metrics: StageMetrics) -> None:
        self.executor = StageExecutor(
            QualityStage(), store, metrics, max_input_bytes=MAX_INPUT_BYTES
        )

    def quality(self, request: quality_pb2.QualityRequest) -> quality_pb2.QualityResponse:
        check_id(request.episode_id, "episode id")
        for name, ref in request.inputs.items():
            if not ref.uri or len(ref.sha256) != 64:
                raise InvalidInputError(f"input {name} needs a uri and its sha256")
        stage_request = common_pb2.StageRequest(
            request_id="inline", job_id="grpc", episode_id=request.episode_id, stage=STAGE
        )
        for name, ref in request.inputs.items():
            stage_request.inputs[name].CopyFrom(ref)
        stage_request.params.Pack(request.params)
        out = self.executor.execute(stage_request).outputs
        return quality_pb2.QualityResponse(quality=out["quality"])
