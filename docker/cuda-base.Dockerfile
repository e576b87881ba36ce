# syntax=docker/dockerfile:1
# GPU base for the model stages (asr, diarization, tts): Ubuntu 24.04 with the NVIDIA container
# conventions, the very same CPython and /opt/venv as the CPU base (copied from it, so both run
# one interpreter build and one locked set of shared libraries), ffmpeg, and the CUDA 12.8 torch
# family of requirements/gpu-lock.txt. CUDA, cuBLAS and cuDNN come as torch's pinned nvidia-*
# wheels, which CTranslate2 (faster-whisper) loads too, so the image carries one copy of them,
# not the 3 GB cudnn-runtime layer as well. The driver comes from the node (>= 525, CUDA 12
# minor-version compatibility). Build the CPU base first; context: the repository root.
ARG BASE_IMAGE=dubset-base:0.1.0
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-base-ubuntu24.04

FROM ${BASE_IMAGE} AS cpu

FROM ${CUDA_IMAGE}
ARG DEBIAN_FRONTEND=noninteractive
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
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
COPY --from=cpu /opt/dubset/constraints.txt /opt/dubset/cpu-constraints.txt
COPY requirements/gpu-lock.txt /opt/dubset/gpu-lock.txt
COPY --chmod=0755 docker/pip-check.sh /opt/dubset/pip-check
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
    NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    LD_LIBRARY_PATH=/opt/venv/lib/python3.11/site-packages/nvidia/cublas/lib:/opt/venv/lib/python3.11/site-packages/nvidia/cudnn/lib \
    DUBSET_DEVICE=cuda
# The GPU constraint set: the main lock without its CPU torch family, plus gpu-lock.txt. Every
# GPU service image installs with it (/opt/dubset/constraints.txt, like the CPU images).
RUN grep -v -E '^(torch|torchaudio|torchcodec)==' /opt/dubset/cpu-constraints.txt \
      > /opt/dubset/constraints.txt \
 && grep -E '^[a-z0-9]' /opt/dubset/gpu-lock.txt | sed 's/ *#.*//' >> /opt/dubset/constraints.txt \
 && pip install --constraint /opt/dubset/constraints.txt torch torchaudio torchcodec \
 && /opt/dubset/pip-check
# Fails the build if a library the interpreter or the venv needs is missing on Ubuntu, or if
# torch is not the CUDA 12 build.
RUN ldconfig \
 && python -c "import ssl, sqlite3, ctypes, bz2, lzma, uuid, zlib, pyexpat, readline" \
 && python -c "import dubset.v1, dubset_common, grpc, kafka, boto3, prometheus_client" \
 && python -c "import torch; assert (torch.version.cuda or '').startswith('12.'), torch.version.cuda" \
 && ffmpeg -hide_banner -version >/dev/null
WORKDIR /opt/dubset
USER 10001:10001
CMD ["python"]
