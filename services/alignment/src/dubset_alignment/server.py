"""gRPC AlignmentService: maps requests onto the handler, errors onto status codes."""

from __future__ import annotations

import grpc

from dubset.v1 import alignment_pb2, alignment_pb2_grpc
from dubset_alignment.handler import align_inline
from dubset_common.errors import DubsetError
from dubset_common.grpcserver import RunningServer, create_server, status_for

SERVICE_NAME = "dubset.v1.AlignmentService"


class AlignmentServicer(alignment_pb2_grpc.AlignmentServiceServicer):
    def Align(
        self, request: alignment_pb2.AlignRequest, context: grpc.ServicerContext
    ) -> alignment_pb2.AlignResponse:
        try:
            return align_inline(request)
        except DubsetError as exc:
            context.abort(status_for(exc.code), str(exc))


def start(addr: str) -> RunningServer:
    """Start the service on addr ('127.0.0.1:0' picks a port); health and reflection included."""
    servicer = AlignmentServicer()
    return create_server(
        addr,
        [SERVICE_NAME],
        [
            lambda server: alignment_pb2_grpc.add_AlignmentServiceServicer_to_server(
                servicer, server
            )
        ],
    )
