# syntax=docker/dockerfile:1
# The faces stage on the CPU base: AniVid's pipeline on the Japanese video (PySceneDetect shots,
# animeface faces tracked through each shot, DVR-Scan motion, the paper's filters, 256x256 face
# clips) and who speaks on screen in each clip pair; `serve` or `worker`. ffmpeg and ffprobe
# come from the base. animeface needs Pillow < 12 (with 12 it runs and finds nothing): the lock
# pins pillow 11.3, and the import check below runs the detector's runtime check.
# Build context: the repository root; BASE_IMAGE is docker/base.Dockerfile (see docker/README.md).
ARG BASE_IMAGE=dubset-base:0.1.0

FROM ${BASE_IMAGE} AS build
WORKDIR /tmp/src
COPY --chown=10001:10001 services/faces services/faces
RUN pip wheel --no-deps --wheel-dir /tmp/wheels ./services/faces

FROM ${BASE_IMAGE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="dubset-faces" \
      org.opencontainers.image.description="dubset faces stage: AniVid face clips of the Japanese video and who speaks on screen" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
USER 0:0
COPY --from=build /tmp/wheels /opt/dubset/wheels
# OpenCV (headless), PySceneDetect and animeface come in at their locked versions. The check
# loads cv2, the shot detector and animeface (refusing a Pillow it finds nothing with), and the
# ffmpeg tools the stage resolves at its first job.
RUN pip install --constraint /opt/dubset/constraints.txt /opt/dubset/wheels/*.whl \
 && pip check \
 && rm -rf /opt/dubset/wheels \
 && python -c "import dubset_faces.__main__, dubset_faces.motion, dubset_faces.backends.scenedetect_shots; from dubset_faces.backends.animeface_faces import check_runtime; check_runtime(); from dubset_common.ffmpeg import Tools; Tools().resolve()"
# Defaults for a container run by hand; the chart sets them explicitly.
ENV DUBSET_GRPC_ADDR=0.0.0.0:50051 \
    DUBSET_METRICS_ADDR=0.0.0.0 \
    DUBSET_METRICS_PORT=9090
EXPOSE 50051 9090
# Kubernetes probes the gRPC health service; a Docker HEALTHCHECK would need a shell and a client.
HEALTHCHECK NONE
USER 10001:10001
ENTRYPOINT ["python", "-m", "dubset_faces"]
CMD ["serve"]
