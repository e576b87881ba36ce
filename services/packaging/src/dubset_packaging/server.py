"""gRPC PackagingService: Package runs the stage; Export and Verify run on the same store."""

from __future__ import annotations

import grpc
from prometheus_client import CollectorRegistry

from dubset.v1 import common_pb2, packaging_pb2, packaging_pb2_grpc
from dubset_common.errors import InvalidInputError
from dubset_common.grpcmetrics import MetricsInterceptor
from dubset_common.grpcserver import RunningServer, create_server
from dubset_common.keys import check_key
from dubset_common.metrics import StageMetrics
from dubset_common.objstore import ObjectInfo, ObjectStore
from dubset_packaging import STAGE
from dubset_packaging.calls import PackagingCalls
from dubset_packaging.handler import dataset_prefix

SERVICE_NAME = "dubset.v1.PackagingService"
_PROBLEM_KINDS = {
    "missing": packaging_pb2.VERIFY_PROBLEM_KIND_MISSING,
    "checksum_mismatch": packaging_pb2.VERIFY_PROBLEM_KIND_CHECKSUM_MISMATCH,
    "size_mismatch": packaging_pb2.VERIFY_PROBLEM_KIND_SIZE_MISMATCH,
    "not_in_manifest": packaging_pb2.VERIFY_PROBLEM_KIND_NOT_IN_MANIFEST,
    "unreferenced": packaging_pb2.VERIFY_PROBLEM_KIND_UNREFERENCED,
    "invalid_annotations": packaging_pb2.VERIFY_PROBLEM_KIND_INVALID_ANNOTATIONS,
}


def _ref(info: ObjectInfo) -> common_pb2.MediaRef:
    return common_pb2.MediaRef(
        uri=info.uri, sha256=info.sha256, mime=info.content_type, size_bytes=info.size_bytes
    )


class PackagingServicer(packaging_pb2_grpc.PackagingServiceServicer):
    """Maps requests onto the handler, the exporter and the verifier; errors onto codes."""

    def __init__(self, store: ObjectStore, metrics: StageMetrics) -> None:
        self.store = store
        self.calls = PackagingCalls(store, metrics)

    def Package(
        self, request: packaging_pb2.PackageRequest, context: grpc.ServicerContext
    ) -> packaging_pb2.PackageResponse:
        return self.calls.package(request)

    def Export(
        self, request: packaging_pb2.ExportRequest, context: grpc.ServicerContext
    ) -> packaging_pb2.ExportResponse:
        return self.export(request)

    def Verify(
        self, request: packaging_pb2.VerifyRequest, context: grpc.ServicerContext
    ) -> packaging_pb2.VerifyResponse:
        return self.verify(request)

    def export(self, request: packaging_pb2.ExportRequest) -> packaging_pb2.ExportResponse:
        from dubset_packaging.exporter import ExportOptions, export_dataset

        dataset = request.dataset or "default"
        if request.dataset_uri and self._prefix(request.dataset_uri) != dataset_prefix(dataset):
            raise InvalidInputError("dataset_uri and dataset name two different datasets: give one")
        options = ExportOptions(dataset=dataset, archives=request.archives, lhotse=request.lhotse)
        if request.HasField("splits"):
            s = request.splits
            options = ExportOptions(dataset, (s.train, s.val, s.test), request.archives,
                                    request.lhotse)  # fmt: skip
        summary = export_dataset(self.store, options)
        return packaging_pb2.ExportResponse(
            dataset_uri=summary.dataset_uri,
            annotations=_ref(summary.annotations),
            manifest=_ref(summary.manifest),
            archives=[_ref(a) for a in summary.archives],
            lhotse_manifests=[_ref(m) for m in summary.lhotse],
            num_shows=summary.num_shows,
            num_episodes=summary.num_episodes,
            num_clips=summary.num_clips,
            clips_per_split=dict(summary.clips_per_split),
        )

    def verify(self, request: packaging_pb2.VerifyRequest) -> packaging_pb2.VerifyResponse:
        from dubset_packaging.datasetfiles import StoreDatasetFiles
        from dubset_packaging.verifier import verify_dataset

        if not request.dataset_uri:
            raise InvalidInputError("dataset_uri is required (s3://<bucket>/datasets/<name>/)")
        files = StoreDatasetFiles(self.store, self._prefix(request.dataset_uri))
        report = verify_dataset(files, skip_checksums=request.skip_checksums)
        return packaging_pb2.VerifyResponse(
            ok=report.ok,
            files_checked=report.files_checked,
            problems=[
                packaging_pb2.VerifyProblem(
                    kind=_PROBLEM_KINDS.get(p.kind, packaging_pb2.VERIFY_PROBLEM_KIND_UNSPECIFIED),
                    path=p.path,
                    detail=p.detail,
                )
                for p in report.problems
            ],
        )

    def _prefix(self, uri: str) -> str:
        return check_key(self.store.key_of(uri.rstrip("/")))


def start(
    addr: str, store: ObjectStore, registry: CollectorRegistry | None = None
) -> RunningServer:
    """Start the service on addr ('127.0.0.1:0' picks a port); health and reflection included."""
    metrics = StageMetrics.create(registry or CollectorRegistry(), STAGE)
    servicer = PackagingServicer(store, metrics)

    def add(server: grpc.Server) -> None:
        packaging_pb2_grpc.add_PackagingServiceServicer_to_server(servicer, server)

    interceptors = [MetricsInterceptor(registry, STAGE)] if registry is not None else []
    return create_server(addr, [SERVICE_NAME], [add], interceptors=interceptors)
