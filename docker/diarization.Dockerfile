# syntax=docker/dockerfile:1
# The diarization stage on the GPU base: the embedded backend and pyannote.audio (the paper's),
# with the pipeline read from /models/pyannote; `serve` or `worker`.
# Build context: the repository root; BASE_IMAGE is docker/cuda-base.Dockerfile (see docker/README.md).
ARG BASE_IMAGE=dubset-cuda-base:0.1.0

FROM ${BASE_IMAGE} AS build
WORKDIR /tmp/src
COPY --chown=10001:10001 services/diarization services/diarization
RUN pip wheel --no-deps --wheel-dir /tmp/wheels ./services/diarization

FROM ${BASE_IMAGE}
ARG VERSION=0.1.0
ARG DEBIAN_FRONTEND=noninteractive
LABEL org.opencontainers.image.title="dubset-diarization" \
      org.opencontainers.image.description="dubset diarization stage: speaker turns (embedded, pyannote.audio on CUDA)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
USER 0:0
COPY --from=build /tmp/wheels /opt/dubset/wheels
COPY docker/requirements/diarization.txt /opt/dubset/requirements.txt
# Dependencies come in at the GPU constraint set's versions (the main lock, CUDA torch family).
RUN pip install --constraint /opt/dubset/constraints.txt -r /opt/dubset/requirements.txt \
 && pip install --constraint /opt/dubset/constraints.txt --no-deps resemblyzer \
 && pip install --constraint /opt/dubset/constraints.txt /opt/dubset/wheels/*.whl \
 && /opt/dubset/pip-check \
 && rm -rf /opt/dubset/wheels \
 && python -c "import dubset_diarization.__main__, pyannote.audio, torch"
# Defaults for a container run by hand; the chart sets them explicitly. Models are read from the
# mounted model directory (/models, filled by the chart's init container), never downloaded.
ENV DUBSET_GRPC_ADDR=0.0.0.0:50051 \
    DUBSET_METRICS_ADDR=0.0.0.0 \
    DUBSET_METRICS_PORT=9090 \
    DUBSET_DIARIZATION_PYANNOTE_DIR=/models/pyannote
EXPOSE 50051 9090
# Kubernetes probes the gRPC health service; a Docker HEALTHCHECK would need a shell and a client.
HEALTHCHECK NONE
USER 10001:10001
ENTRYPOINT ["python", "-m", "dubset_diarization"]
CMD ["serve"]
