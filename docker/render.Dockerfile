# syntax=docker/dockerfile:1
# The render stage on the CPU base: a whole episode's English track (the speech over the
# separated bed or the ducked original, loudness-matched, true-peak limited) muxed beside the
# stream-copied video and Japanese track with spoken subtitles; `serve` or `worker`. ffmpeg and
# ffprobe come from the base; dubset-voices is built here with its core dependencies only (its
# loudness meter and limiters), not its `engines` extra.
# Build context: the repository root; BASE_IMAGE is docker/base.Dockerfile (see docker/README.md).
ARG BASE_IMAGE=dubset-base:0.1.0

FROM ${BASE_IMAGE} AS build
WORKDIR /tmp/src
COPY --chown=10001:10001 libs/dubset_voices libs/dubset_voices
COPY --chown=10001:10001 services/render services/render
RUN pip wheel --no-deps --wheel-dir /tmp/wheels ./libs/dubset_voices ./services/render

FROM ${BASE_IMAGE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="dubset-render" \
      org.opencontainers.image.description="dubset render stage: the dubbed episode (English track mixed, loudness-matched and muxed with spoken subtitles)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
USER 0:0
COPY --from=build /tmp/wheels /opt/dubset/wheels
# New dependencies of the service come in at their locked versions; the shared libraries are
# already in the base venv. The import check loads the mixer's whole chain (soundfile's
# libsndfile, scipy, pyloudnorm) and the ffmpeg tools it resolves at the first job.
RUN pip install --constraint /opt/dubset/constraints.txt /opt/dubset/wheels/*.whl \
 && pip check \
 && rm -rf /opt/dubset/wheels \
 && python -c "import dubset_render.__main__, dubset_render.mixer, dubset_render.ffmpeg as f; f.Tools().resolve()"
# Defaults for a container run by hand; the chart sets them explicitly.
ENV DUBSET_GRPC_ADDR=0.0.0.0:50051 \
    DUBSET_METRICS_ADDR=0.0.0.0 \
    DUBSET_METRICS_PORT=9090
EXPOSE 50051 9090
# Kubernetes probes the gRPC health service; a Docker HEALTHCHECK would need a shell and a client.
HEALTHCHECK NONE
USER 10001:10001
ENTRYPOINT ["python", "-m", "dubset_render"]
CMD ["serve"]
