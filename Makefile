# dubset: `make help` lists every target.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV ?= .venv
PY := $(VENV)/bin/python
RUN_DIR ?= .run
SAMPLE_BENCH_SECONDS ?= 120
# make bench: the long episode's seconds and the throughput runs' episodes (0 skips either)
BENCH_LONG_SECONDS ?= 1440
BENCH_BATCH ?= 4
BENCH_BATCH_SECONDS ?= 30
PYTEST_ARGS ?=
GPU_SET_ARGS ?=
PYTHON_311 ?= python3
# make eval-heldout: how many held-out episodes (seeds 1000000 and up)
HELDOUT_EPISODES ?= 20

.PHONY: help setup protos check-protos lint helm-lint fmt test test-unit test-integration test-load infra up down status \
        services services-down bench bench-speed gpu-env test-gpu-set eval-heldout demo sample clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' '{printf "  \033[1m%-18s\033[0m %s\n", $$1, $$2}'

setup: ## Install Debian packages, the venv and pinned Python packages (idempotent)
	@tools/setup.sh

protos: setup ## Regenerate Python code from protos/ into libs/dubset_protos
	@PY=$(PY) tools/gen_protos.sh
	@echo "protos: generated into libs/dubset_protos/src/dubset"

check-protos: setup ## Fail when the generated protobuf code is not current
	@PY=$(PY) tools/check_protos.sh

lint: setup ## ruff (lint + format check), mypy --strict on libs/, services/ and apps/, hadolint on docker/
	$(VENV)/bin/ruff check libs services apps tests tools bench
	$(VENV)/bin/ruff format --check libs services apps tests tools bench
	$(VENV)/bin/mypy libs/dubset_common/src libs/dubset_voices/src services/*/src apps/*/src tools/infra.py tools/localinfra tools/services.py tools/lock_gpu.py tools/helm_check.py
	$(VENV)/bin/hadolint --config .hadolint.yaml docker/*.Dockerfile
	@$(PY) tools/helm_check.py

helm-lint: setup ## Lint + render the Helm chart with each ci/*.yaml values file; validate every object (Kubernetes 1.32) and alert rule (promtool)
	@$(PY) tools/helm_check.py

fmt: setup ## Format the code with ruff
	$(VENV)/bin/ruff format libs services apps tests tools bench
	$(VENV)/bin/ruff check --fix libs services apps tests tools bench

infra: setup ## Start the Kafka-protocol broker, S3 server and Prometheus on 127.0.0.1 (writes .run/infra.env)
	@$(PY) tools/infra.py up --dir $(RUN_DIR)

up: services ## Start the broker, S3 server, Prometheus and every dubset service on 127.0.0.1

down: ## Stop exactly what `make up` (and `make services`) started
	@if [ -x $(PY) ]; then $(PY) tools/services.py down --dir $(RUN_DIR) 2>/dev/null || true; \
	  $(PY) tools/infra.py down --dir $(RUN_DIR); fi

status: ## Show whether the local infrastructure and services are healthy
	@$(PY) tools/infra.py status --dir $(RUN_DIR)
	@$(PY) tools/services.py status --dir $(RUN_DIR)

services: infra ## Start every service (gRPC servers, Kafka workers, jobs) as local processes
	@$(PY) tools/services.py up --dir $(RUN_DIR)

services-down: ## Stop the local service processes
	@$(PY) tools/services.py down --dir $(RUN_DIR)

test-unit: setup ## Unit tests only (no servers needed)
	$(VENV)/bin/pytest tests/unit -q $(PYTEST_ARGS)

test: setup check-protos ## Unit + integration tests; brings the local infrastructure up when needed
	@$(PY) tools/infra.py up --dir $(RUN_DIR)
	$(VENV)/bin/pytest tests -q -m "not load and not gpuset" --durations=25 $(PYTEST_ARGS)

test-load: setup ## Load: 100 short episodes at once through the distributed pipeline (~30 min; bench/out/load.json)
	@$(PY) tools/infra.py up --dir $(RUN_DIR)
	$(VENV)/bin/pytest tests/load -q -s $(PYTEST_ARGS)

gpu-env: ## The GPU images' Python set (CUDA torch 2.10, pyannote.audio, coqui-tts, faster-whisper) as .venv-gpu (~7.5 GB; not part of setup)
	@PYTHON=$(PYTHON_311) tools/setup_gpu_env.sh

test-gpu-set: setup gpu-env ## In .venv-gpu: pyannote.audio's pipeline code on a tiny model through the stage, and each GPU service (asr, diarization, tts) started and answering (GPU_SET_ARGS="--device cuda" on a GPU)
	@[ -f $(RUN_DIR)/gpuset-episode/truth.json ] || $(VENV)/bin/dubset sample --seconds 40 --seed 5 --characters 2 --out $(RUN_DIR)/gpuset-episode
	DUBSET_GPUSET_EPISODE=$(abspath $(RUN_DIR))/gpuset-episode .venv-gpu/bin/pytest tests/gpuset -q -m gpuset -p no:cacheprovider --durations=10 $(GPU_SET_ARGS) $(PYTEST_ARGS)

test-integration: setup ## Integration tests against the real broker and S3 server
	@$(PY) tools/infra.py up --dir $(RUN_DIR)
	$(VENV)/bin/pytest tests/integration -q $(PYTEST_ARGS)

bench: setup ## Benchmarks + report: stages alone, the pipeline embedded + distributed (2 and 24 min, the 24 with and without dubs), 1 vs 2 workers per stage (bench/report.json, bench/report.png; ~1.5 h)
	@$(PY) tools/infra.py up --dir $(RUN_DIR)
	DUBSET_RUN_DIR=$(RUN_DIR) $(PY) bench/alignment_bench.py --out bench/out/alignment.json
	$(PY) bench/sample_bench.py --seconds $(SAMPLE_BENCH_SECONDS) --out bench/out/sample.json
	$(PY) bench/stages_bench.py --generate $(SAMPLE_BENCH_SECONDS) --librivox --out bench/out/stages.json
	$(PY) bench/releases_bench.py --seconds $(SAMPLE_BENCH_SECONDS) --long-seconds $(BENCH_LONG_SECONDS) --quality --out bench/out/releases.json
	DUBSET_RUN_DIR=$(RUN_DIR) $(PY) bench/pipeline_bench.py --seconds $(SAMPLE_BENCH_SECONDS) --distributed --out bench/out/pipeline.json
	@if [ "$(BENCH_LONG_SECONDS)" != 0 ]; then \
	  DUBSET_RUN_DIR=$(RUN_DIR) $(PY) bench/pipeline_bench.py --seconds $(BENCH_LONG_SECONDS) --distributed --out bench/out/pipeline_long.json && \
	  DUBSET_RUN_DIR=$(RUN_DIR) $(PY) bench/pipeline_bench.py --seconds $(BENCH_LONG_SECONDS) --distributed --no-tts --out bench/out/pipeline_long_nodubs.json; fi
	@if [ "$(BENCH_BATCH)" != 0 ]; then \
	  DUBSET_RUN_DIR=$(RUN_DIR) $(PY) bench/pipeline_bench.py --no-single --batch $(BENCH_BATCH) --batch-seconds $(BENCH_BATCH_SECONDS) --workers 1,2 --out bench/out/pipeline_throughput.json; fi
	$(PY) bench/dub_bench.py --seconds $(SAMPLE_BENCH_SECONDS) --score --out bench/out/dub_quality.json
	$(PY) bench/faces_bench.py --seconds $(SAMPLE_BENCH_SECONDS) --seeds 3,11,29,41 --out bench/out/faces.json
	$(PY) bench/faces_bench.py --seconds 60 --seeds 3,11,29,41,53 --pipeline --out bench/out/faces_speaking.json
	@if [ "$(BENCH_LONG_SECONDS)" != 0 ]; then \
	  $(PY) bench/faces_bench.py --seconds $(BENCH_LONG_SECONDS) --seeds 3 --out bench/out/faces_long.json; fi
	@if [ "$(BENCH_LONG_SECONDS)" != 0 ]; then \
	  $(PY) bench/dub_bench.py --seconds $(BENCH_LONG_SECONDS) --out bench/out/dub.json; fi
	$(PY) bench/report.py

bench-speed: setup ## The speed runs alone: the pipeline embedded + distributed (2 and 24 min, the 24 with and without dubs); the report keeps its other sections, marked as carried (~1.5 h)
	@$(PY) tools/infra.py up --dir $(RUN_DIR)
	DUBSET_RUN_DIR=$(RUN_DIR) $(PY) bench/pipeline_bench.py --seconds $(SAMPLE_BENCH_SECONDS) --distributed --out bench/out/pipeline.json
	DUBSET_RUN_DIR=$(RUN_DIR) $(PY) bench/pipeline_bench.py --seconds $(BENCH_LONG_SECONDS) --distributed --out bench/out/pipeline_long.json
	DUBSET_RUN_DIR=$(RUN_DIR) $(PY) bench/pipeline_bench.py --seconds $(BENCH_LONG_SECONDS) --distributed --no-tts --out bench/out/pipeline_long_nodubs.json
	$(PY) bench/report.py --carry --pipeline bench/out/pipeline.json --pipeline bench/out/pipeline_long.json --pipeline bench/out/pipeline_long_nodubs.json

eval-heldout: setup ## Quality on episodes nobody tuned on: $(HELDOUT_EPISODES) held-out generated episodes (1-5 min) and real recordings (bench/out/heldout.json, realspeech.json; ~1 h)
	$(PY) bench/heldout_bench.py --episodes $(HELDOUT_EPISODES) --librivox --out bench/out/heldout.json
	$(PY) bench/realspeech.py --out bench/out/realspeech.json

DEMO_DIR ?= $(RUN_DIR)/demo

demo: setup ## Generate a 60 s test episode, run the whole pipeline on it (dubset run), verify and score the dataset
	$(VENV)/bin/dubset sample --out $(DEMO_DIR)/episode --seconds 60 --seed 1 --ja-offset-ms 1500
	$(VENV)/bin/dubset run --ja $(DEMO_DIR)/episode/ja.mp4 --en $(DEMO_DIR)/episode/en.mp4 \
		--show $(DEMO_DIR)/episode/show.json --out $(DEMO_DIR)/out
	$(VENV)/bin/dubset verify $(DEMO_DIR)/out/datasets/default
	$(VENV)/bin/dubset eval --truth $(DEMO_DIR)/episode/truth.json --result $(DEMO_DIR)/out

sample: setup ## Generate a 2-minute test episode with ground truth into $(RUN_DIR)/sample
	$(VENV)/bin/dubset sample --out $(RUN_DIR)/sample --seconds 120

clean: down ## Remove caches and local run state
	rm -rf $(RUN_DIR) .pytest_cache .mypy_cache .ruff_cache .hypothesis
