"""gRPC SeparationService: stems written to the object store, references returned."""

from __future__ import annotations

import grpc
from prometheus_client import CollectorRegistry

from dubset.v1 import common_pb2, separation_pb2, separation_pb2_grpc
from dubset_common.errors import InvalidInputError
from dubset_common.grpcmetrics import MetricsInterceptor
from dubset_common.grpcserver import RunningServer, create_server
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import ObjectStore
from dubset_common.runner import StageExecutor
from dubset_separation import STAGE
from dubset_separation.handler import MAX_INPUT_BYTES, SeparationStage

SERVICE_NAME = "dubset.v1.SeparationService"
INLINE_JOB = "grpc"


class SeparationServicer(separation_pb2_grpc.SeparationServiceServicer):
    """Runs the same stage (and outputs under the same keys) as the worker."""

    def __init__(self, store: ObjectStore, metrics: StageMetrics) -> None:
        self.executor = StageExecutor(
            SeparationStage(), store, metrics, max_input_bytes=MAX_INPUT_BYTES
        )

    def Separate(
        self, request: separation_pb2.SeparateRequest, context: grpc.ServicerContext
    ) -> separation_pb2.SeparateResponse:
        return self.separate(request)

    def separate(self, request: separation_pb2.SeparateRequest) -> separation_pb2.SeparateResponse:
        refs = {}
        if request.HasField("ja_audio"):
            refs["ja"] = request.ja_audio
        if request.HasField("en_audio"):
            refs["en"] = request.en_audio
        if not refs:
            raise InvalidInputError("no audio given: set ja_audio and/or en_audio")
        stage_request = common_pb2.StageRequest(
            request_id="inline", job_id=INLINE_JOB, episode_id=INLINE_JOB, stage=STAGE
        )
        for lang, ref in refs.items():
            stage_request.inputs[lang].CopyFrom(ref)
        stage_request.params.Pack(request.params)
        result = self.executor.execute(stage_request)
        response = separation_pb2.SeparateResponse(backend=result.backend)
        for lang in refs:
            stems = response.ja if lang == "ja" else response.en
            stems.dialogue.CopyFrom(result.outputs[f"{lang}_dialogue"])
            stems.backing.CopyFrom(result.outputs[f"{lang}_backing"])
        response.model = _model_of(request.params, result.backend)
        return response


def _model_of(params: separation_pb2.SeparationParams, backend: str) -> str:
    if backend == "spleeter":
        return params.model or "spleeter:2stems"
    return {"dualdub": "dualdub-stft-v1", "repet": "repet-sim"}.get(backend, "")


def start(
    addr: str, store: ObjectStore, registry: CollectorRegistry | None = None
) -> RunningServer:
    """Start the service on addr ('127.0.0.1:0' picks a port); health and reflection included."""
    metrics = StageMetrics.create(registry or CollectorRegistry(), STAGE)
    servicer = SeparationServicer(store, metrics)

    def add(server: grpc.Server) -> None:
        separation_pb2_grpc.add_SeparationServiceServicer_to_server(servicer, server)

    interceptors = [MetricsInterceptor(registry, STAGE)] if registry is not None else []
    return create_server(addr, [SERVICE_NAME], [add], interceptors=interceptors)
