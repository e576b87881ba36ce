# syntax=docker/dockerfile:1
# The tts stage on the GPU base: stock voices (piper, festival, espeak-ng) matched to each speaker,
# YourTTS (coqui-tts) from /models/your_tts on CUDA, quality scores; `serve` or `worker`.
# Build context: the repository root; BASE_IMAGE is docker/cuda-base.Dockerfile (see docker/README.md).
ARG BASE_IMAGE=dubset-cuda-base:0.1.0

FROM ${BASE_IMAGE} AS build
WORKDIR /tmp/src
COPY --chown=10001:10001 libs/dubset_voices libs/dubset_voices
COPY --chown=10001:10001 services/tts services/tts
RUN pip wheel --no-deps --wheel-dir /tmp/wheels ./libs/dubset_voices ./services/tts

FROM ${BASE_IMAGE}
ARG VERSION=0.1.0
ARG DEBIAN_FRONTEND=noninteractive
LABEL org.opencontainers.image.title="dubset-tts" \
      org.opencontainers.image.description="dubset tts stage: the baseline English dub of every clip (stock voices, YourTTS on CUDA)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
USER 0:0
# The stock voices' engines (the same Debian/Ubuntu packages tools/setup.sh installs).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      espeak-ng festival festvox-kallpc16k festvox-us-slt-hts \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /tmp/wheels /opt/dubset/wheels
COPY docker/requirements/tts.txt /opt/dubset/requirements.txt
# Dependencies come in at the GPU constraint set's versions (the main lock, CUDA torch family).
RUN pip install --constraint /opt/dubset/constraints.txt -r /opt/dubset/requirements.txt \
 && pip install --constraint /opt/dubset/constraints.txt --no-deps resemblyzer /opt/dubset/wheels/*.whl \
 && /opt/dubset/pip-check \
 && rm -rf /opt/dubset/wheels \
 && python -c "import dubset_tts.__main__, TTS, piper, torch"
# Defaults for a container run by hand; the chart sets them explicitly. Models are read from the
# mounted model directory (/models, filled by the chart's init container), never downloaded.
# The stock voices' calibration is cached in /tmp (the pod's emptyDir): a restarted container
# skips it.
ENV DUBSET_GRPC_ADDR=0.0.0.0:50051 \
    DUBSET_METRICS_ADDR=0.0.0.0 \
    DUBSET_METRICS_PORT=9090 \
    DUBSET_TTS_YOURTTS_DIR=/models/your_tts \
    DUBSET_ASR_MODEL_DIR=/models/whisper-base \
    DUBSET_TTS_CACHE_DIR=/tmp/tts-calibration
EXPOSE 50051 9090
# Kubernetes probes the gRPC health service; a Docker HEALTHCHECK would need a shell and a client.
HEALTHCHECK NONE
USER 10001:10001
ENTRYPOINT ["python", "-m", "dubset_tts"]
CMD ["serve"]
