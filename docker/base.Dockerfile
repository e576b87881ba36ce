# syntax=docker/dockerfile:1
# CPU base of every dubset service image: Python 3.11, ffmpeg, and a venv at /opt/venv holding
# dubset-protos, dubset-common and their dependencies pinned by requirements/lock.txt.
# Build context: the repository root (see docker/README.md).

# Pinned by full tag; pin the digest too (python:3.11.14-slim-bookworm@sha256:...) in the
# registry mirror you build from, and let a bot bump both.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    VIRTUAL_ENV=/opt/venv
WORKDIR /src
COPY requirements/lock.txt requirements/lock.txt
COPY libs/dubset_protos libs/dubset_protos
COPY libs/dubset_common libs/dubset_common
# The lock also pins dev tools, so it is a constraint, not a list to install: only the
# libraries' own dependencies go in, each at its locked version.
RUN pip wheel --no-deps --wheel-dir /wheels ./libs/dubset_protos ./libs/dubset_common \
 && pip install --constraint requirements/lock.txt /wheels/*.whl \
 && pip check

FROM ${PYTHON_IMAGE} AS runtime
ARG DEBIAN_FRONTEND=noninteractive
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="dubset-base" \
      org.opencontainers.image.description="dubset CPU base: Python 3.11, ffmpeg, dubset-common" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg \
 && rm -rf /var/lib/apt/lists/* \
 && ffmpeg -hide_banner -version >/dev/null \
 && ffprobe -hide_banner -version >/dev/null
# A fixed numeric uid lets Kubernetes check runAsNonRoot without a passwd lookup.
RUN groupadd --system --gid 10001 dubset \
 && useradd --system --uid 10001 --gid 10001 --home-dir /tmp --no-create-home \
      --shell /usr/sbin/nologin dubset
# The venv stays root-owned: the service user can read it, never change it.
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /src/requirements/lock.txt /opt/dubset/constraints.txt
# HOME and TMPDIR point at /tmp, the only writable path (an emptyDir in the chart), so the
# root filesystem can be read-only. PYTHONSAFEPATH keeps the working directory off sys.path.
ENV PATH=/opt/venv/bin:$PATH \
    VIRTUAL_ENV=/opt/venv \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONSAFEPATH=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    HOME=/tmp \
    TMPDIR=/tmp
RUN python -c "import dubset.v1, dubset_common, grpc, grpc_health, kafka, boto3, prometheus_client"
WORKDIR /opt/dubset
USER 10001:10001
CMD ["python"]
