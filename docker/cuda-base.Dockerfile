# syntax=docker/dockerfile:1
# GPU base for the model stages: the CUDA 12 + cuDNN 9 runtime with the very same CPython and
# /opt/venv as the CPU base (copied from it, so both images run one interpreter build and one
# locked set of libraries), ffmpeg, and the same non-root, read-only-root conventions.
# Build the CPU base first; build context: the repository root (see docker/README.md).
ARG BASE_IMAGE=dubset-base:0.1.0
ARG CUDA_IMAGE=nvidia/cuda:12.6.3-cudnn-runtime-ubuntu24.04

FROM ${BASE_IMAGE} AS cpu

FROM ${CUDA_IMAGE}
ARG DEBIAN_FRONTEND=noninteractive
# The shared libraries the official Python build links against (Ubuntu 24.04 names; glibc
# 2.39 here is newer than bookworm's 2.36, which is the direction that works).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates ffmpeg libbz2-1.0 libexpat1 libffi8 liblzma5 libncursesw6 \
      libreadline8t64 libsqlite3-0 libssl3t64 libuuid1 netbase tzdata zlib1g \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 dubset \
 && useradd --system --uid 10001 --gid 10001 --home-dir /tmp --no-create-home \
      --shell /usr/sbin/nologin dubset
COPY --from=cpu /usr/local/bin/ /usr/local/bin/
COPY --from=cpu /usr/local/lib/ /usr/local/lib/
COPY --from=cpu /opt/venv /opt/venv
COPY --from=cpu /opt/dubset/constraints.txt /opt/dubset/constraints.txt
ENV PATH=/opt/venv/bin:$PATH \
    VIRTUAL_ENV=/opt/venv \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONSAFEPATH=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    HOME=/tmp \
    TMPDIR=/tmp \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
# Fails the build if a library the interpreter or the venv needs is missing on Ubuntu.
RUN ldconfig \
 && python -c "import ssl, sqlite3, ctypes, bz2, lzma, uuid, zlib, pyexpat, readline" \
 && python -c "import dubset.v1, dubset_common, grpc, kafka, boto3, prometheus_client" \
 && ffmpeg -hide_banner -version >/dev/null
WORKDIR /opt/dubset
USER 10001:10001
CMD ["python"]
