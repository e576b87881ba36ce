# syntax=docker/dockerfile:1
# The separation stage with the Spleeter backend (the paper's): the separation service in the main
# venv, plus Spleeter in its own venv at /opt/spleeter (Python 3.11, TensorFlow 2.12 CPU,
# numpy < 2, which the main venv cannot hold; requirements/spleeter-lock.txt). The 2-stem model is
# read from /models/spleeter (2stems/checkpoint, model.*), filled by the chart's init container.
# Spleeter runs on CPU: TensorFlow 2.12's GPU build needs CUDA 11.8, and the 2-stem U-Net runs
# far faster than real time on a few cores, so this image stays on the CPU base and node pool.
# Build context: the repository root; BASE_IMAGE is docker/base.Dockerfile (see docker/README.md).
ARG BASE_IMAGE=dubset-base:0.1.0

FROM ${BASE_IMAGE} AS build
WORKDIR /tmp/src
COPY --chown=10001:10001 services/separation services/separation
RUN pip wheel --no-deps --wheel-dir /tmp/wheels ./services/separation

FROM ${BASE_IMAGE} AS spleeter
# The same version tools/setup_spleeter.sh installs; it pins tensorflow==2.12.1 (the 500 MB GPU
# build), so it goes in with --no-deps over the locked CPU build of the same API.
ARG SPLEETER_VERSION=2.4.2
# Root only in this stage, to create /opt/spleeter; the final stage runs as 10001.
# hadolint ignore=DL3002
USER 0:0
COPY requirements/spleeter-lock.txt /src/spleeter-lock.txt
RUN python -m venv /opt/spleeter \
 && /opt/spleeter/bin/pip install --no-deps -r /src/spleeter-lock.txt \
 && /opt/spleeter/bin/pip install --no-deps "spleeter==${SPLEETER_VERSION}" \
 && /opt/spleeter/bin/python -c "import numpy, spleeter.separator, tensorflow; assert numpy.__version__ < '2'"

FROM ${BASE_IMAGE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="dubset-separation-spleeter" \
      org.opencontainers.image.description="dubset separation stage with Spleeter 2-stem (TensorFlow CPU) besides dualdub and REPET" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
USER 0:0
COPY --from=spleeter /opt/spleeter /opt/spleeter
COPY --from=build /tmp/wheels /opt/dubset/wheels
RUN pip install --constraint /opt/dubset/constraints.txt /opt/dubset/wheels/*.whl \
 && pip check \
 && rm -rf /opt/dubset/wheels \
 && python -c "import dubset_separation.__main__, dubset_separation.spleeter_backend"
# Defaults for a container run by hand; the chart sets them explicitly.
ENV DUBSET_GRPC_ADDR=0.0.0.0:50051 \
    DUBSET_METRICS_ADDR=0.0.0.0 \
    DUBSET_METRICS_PORT=9090 \
    DUBSET_SPLEETER_PYTHON=/opt/spleeter/bin/python \
    DUBSET_SPLEETER_MODEL_DIR=/models/spleeter \
    TF_CPP_MIN_LOG_LEVEL=2
EXPOSE 50051 9090
# Kubernetes probes the gRPC health service; a Docker HEALTHCHECK would need a shell and a client.
HEALTHCHECK NONE
USER 10001:10001
ENTRYPOINT ["python", "-m", "dubset_separation"]
CMD ["serve"]
