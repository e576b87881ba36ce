# syntax=docker/dockerfile:1
# The alignment service: `serve` (gRPC on 50051, the default) or `worker` (Kafka consumer).
# Build context: the repository root; BASE_IMAGE is docker/base.Dockerfile (see docker/README.md).
ARG BASE_IMAGE=dubset-base:0.1.0

FROM ${BASE_IMAGE} AS build
WORKDIR /tmp/src
COPY --chown=10001:10001 services/alignment services/alignment
RUN pip wheel --no-deps --wheel-dir /tmp/wheels ./services/alignment

FROM ${BASE_IMAGE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="dubset-alignment" \
      org.opencontainers.image.description="dubset alignment stage: JA+EN segments merged into clip pairs" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
USER 0:0
COPY --from=build /tmp/wheels /opt/dubset/wheels
# New dependencies of the service come in at their locked versions; the shared libraries are
# already in the base venv.
RUN pip install --constraint /opt/dubset/constraints.txt /opt/dubset/wheels/*.whl \
 && pip check \
 && rm -rf /opt/dubset/wheels \
 && python -c "import dubset_alignment.__main__"
# Defaults for a container run by hand; the chart sets them explicitly.
ENV DUBSET_GRPC_ADDR=0.0.0.0:50051 \
    DUBSET_METRICS_ADDR=0.0.0.0 \
    DUBSET_METRICS_PORT=9090
EXPOSE 50051 9090
# Kubernetes probes the gRPC health service; a Docker HEALTHCHECK would need a shell and a client.
HEALTHCHECK NONE
USER 10001:10001
ENTRYPOINT ["python", "-m", "dubset_alignment"]
CMD ["serve"]
