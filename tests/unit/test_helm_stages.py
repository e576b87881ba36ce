"""The chart's GPU stages, model volumes, probes, autoscaling, topics Job and NetworkPolicy."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dubset_common.config import load_settings
from tests.unit.test_helm import (
    GPU_STAGES,
    SERVER_AND_WORKER,
    _values,
    container,
    env_of,
    find,
    render,
    validate_object,
)

CPU_STAGES = [s for s in SERVER_AND_WORKER if s not in GPU_STAGES]


def pod_of(deployment: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return spec


def merged(*paths: tuple[str, Any]) -> dict[str, Any]:
    values = copy.deepcopy(_values())
    for path, value in paths:
        *parents, leaf = path.split(".")
        node = values
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return values


# --- GPU placement ---------------------------------------------------------------------------


@pytest.mark.parametrize("stage", GPU_STAGES)
@pytest.mark.parametrize("role", ["server", "worker"])
def test_gpu_stages_request_a_gpu_and_land_on_the_gpu_pool(
    chart: Any, stage: str, role: str
) -> None:
    d = find(render(chart), "Deployment", f"dubset-{stage}-{role}")
    res = container(d)["resources"]
    assert res["limits"]["nvidia.com/gpu"] == 1 and res["requests"]["nvidia.com/gpu"] == 1
    pod = pod_of(d)
    assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod[
        "tolerations"
    ]
    assert env_of(container(d))["DUBSET_DEVICE"]["value"] == "cuda"


@pytest.mark.parametrize("stage", CPU_STAGES)
def test_cpu_stages_stay_off_the_gpu_pool(chart: Any, stage: str) -> None:
    pod = pod_of(find(render(chart), "Deployment", f"dubset-{stage}-worker"))
    assert "nvidia.com/gpu" not in str(pod["containers"][0].get("resources"))
    assert "nodeSelector" not in pod and "tolerations" not in pod


def test_stage_placement_adds_to_the_gpu_pool_and_wins_on_a_clash(chart: Any) -> None:
    values = merged(
        ("asr.nodeSelector", {"nvidia.com/gpu.present": "false", "pool": "h100"}),
        ("asr.tolerations", [{"key": "spot", "operator": "Exists"}]),
        ("global.gpuPool.runtimeClassName", "nvidia"),
        ("asr.worker.gpus", 2),
    )
    pod = pod_of(find(render(chart, values), "Deployment", "dubset-asr-worker"))
    assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "false", "pool": "h100"}
    assert [t["key"] for t in pod["tolerations"]] == ["nvidia.com/gpu", "spot"]
    assert pod["runtimeClassName"] == "nvidia"
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 2
    cpu = pod_of(find(render(chart, values), "Deployment", "dubset-media-worker"))
    assert "runtimeClassName" not in cpu


def test_a_gpu_stage_can_run_on_cpu(chart: Any) -> None:
    values = merged(("asr.worker.gpus", 0), ("asr.env", {"DUBSET_DEVICE": "cpu"}))
    pod = pod_of(find(render(chart, values), "Deployment", "dubset-asr-worker"))
    assert "nodeSelector" not in pod and "tolerations" not in pod
    assert env_of(pod["containers"][0])["DUBSET_DEVICE"]["value"] == "cpu"


# --- the model volume ------------------------------------------------------------------------


def test_asr_assembles_the_embedded_model_into_its_model_volume(chart: Any) -> None:
    pod = pod_of(find(render(chart), "Deployment", "dubset-asr-worker"))
    [init] = pod["initContainers"]
    assert init["command"] == [
        "python", "-m", "dubset_asr.assemble", "--dest", "/models/whisper-base",
    ]  # fmt: skip
    assert init["image"] == pod["containers"][0]["image"]
    assert {"name": "models", "mountPath": "/models"} in init["volumeMounts"]
    assert init["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = pod["containers"][0]["volumeMounts"]
    assert {"name": "models", "mountPath": "/models", "readOnly": True} in mounts
    volume = next(v for v in pod["volumes"] if v["name"] == "models")
    assert volume["emptyDir"] == {"sizeLimit": "20Gi"}


def test_a_model_prefix_is_synced_first_from_the_model_bucket(chart: Any) -> None:
    values = merged(("asr.models.prefix", "models/asr"), ("global.models.bucket", "dubset-models"))
    pod = pod_of(find(render(chart, values), "Deployment", "dubset-asr-server"))
    names = [c["name"] for c in pod["initContainers"]]
    assert names == ["models-sync", "models-prepare-1"]
    sync = pod["initContainers"][0]
    assert sync["command"] == [
        "python", "-m", "dubset_common.modelsync", "sync", "--prefix", "models/asr",
        "--dest", "/models",
    ]  # fmt: skip
    env = env_of(sync)
    assert env["DUBSET_MODELS_BUCKET"]["value"] == "dubset-models"
    assert env["DUBSET_S3_SECRET_KEY"]["valueFrom"]["secretKeyRef"]["key"] == "s3-secret-key"


def test_an_existing_claim_is_mounted_read_only_without_init(chart: Any) -> None:
    values = merged(("diarization.models.existingClaim", "pyannote-models"))
    pod = pod_of(find(render(chart, values), "Deployment", "dubset-diarization-worker"))
    assert "initContainers" not in pod
    volume = next(v for v in pod["volumes"] if v["name"] == "models")
    assert volume["persistentVolumeClaim"] == {"claimName": "pyannote-models", "readOnly": True}


def test_the_init_commands_run(chart: Any, tmp_path: Path) -> None:
    """The rendered argv are real commands: assemble writes the model; modelsync parses its
    arguments and fails only on the unreachable bucket (exit 1, not argparse's 2)."""
    values = merged(("asr.models.prefix", "models/asr"))
    pod = pod_of(find(render(chart, values), "Deployment", "dubset-asr-worker"))
    sync, prepare = pod["initContainers"]
    dest = tmp_path / "whisper-base"
    argv = [a if a != "/models/whisper-base" else str(dest) for a in prepare["command"]]
    assert argv[0] == "python"
    done = subprocess.run([sys.executable, *argv[1:]], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert (dest / "model.bin").stat().st_size > 100_000_000
    env = {**os.environ, "DUBSET_S3_ENDPOINT": "http://127.0.0.1:9", "DUBSET_S3_ACCESS_KEY": "x"}
    env["AWS_MAX_ATTEMPTS"] = "1"
    argv = [a if a != "/models" else str(tmp_path / "m") for a in sync["command"]]
    done = subprocess.run(
        [sys.executable, *argv[1:]], env=env, capture_output=True, text=True, check=False,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "modelsync:" in done.stderr


def test_cpu_stages_have_no_model_volume(chart: Any) -> None:
    pod = pod_of(find(render(chart), "Deployment", "dubset-alignment-worker"))
    assert [v["name"] for v in pod["volumes"]] == ["tmp"]


# --- probes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("stage", "threshold"), [("asr", 60), ("alignment", 12)])
def test_servers_get_a_startup_probe_sized_for_model_loading(
    chart: Any, stage: str, threshold: int
) -> None:
    c = container(find(render(chart), "Deployment", f"dubset-{stage}-server"))
    probe = c["startupProbe"]
    assert probe["grpc"] == {"port": 50051}
    assert probe["periodSeconds"] * probe["failureThreshold"] >= threshold * 5
    assert probe["failureThreshold"] == threshold
    assert "livenessProbe" in c and "readinessProbe" in c


@pytest.mark.parametrize(("stage", "threshold"), [("asr", 60), ("tts", 60), ("alignment", 12)])
def test_workers_get_a_startup_probe_sized_for_model_loading(
    chart: Any, stage: str, threshold: int
) -> None:
    """Until it consumes with a session (/readyz) a starting worker is not killed, for as long
    as its stage's startupSeconds (300 for the GPU stages' models)."""
    c = container(find(render(chart), "Deployment", f"dubset-{stage}-worker"))
    probe = c["startupProbe"]
    assert probe["httpGet"] == {"path": "/readyz", "port": "metrics"}
    assert probe["periodSeconds"] * probe["failureThreshold"] >= threshold * 5
    assert probe["failureThreshold"] == threshold
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"


# --- autoscaling and partitions ----------------------------------------------------------------


def test_keda_scales_a_gpu_worker_to_zero_on_its_consumer_lag(chart: Any, kubeval: Any) -> None:
    values = merged(
        ("asr.worker.autoscaling", {"enabled": True}), ("global.kafka.topicPrefix", "prod.")
    )
    docs = render(chart, values)
    scaled = find(docs, "ScaledObject", "dubset-asr-worker")
    validate_object(kubeval, scaled)
    spec = scaled["spec"]
    assert spec["scaleTargetRef"]["name"] == "dubset-asr-worker"
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (0, 4)
    meta = spec["triggers"][0]["metadata"]
    assert meta["topic"] == "prod.dubset.asr.requests.v1"
    assert meta["consumerGroup"] == "prod.dubset-asr"
    assert meta["lagThreshold"] == "1"
    assert "replicas" not in find(docs, "Deployment", "dubset-asr-worker")["spec"]
    assert "replicas" in find(docs, "Deployment", "dubset-media-worker")["spec"]


def test_the_keda_topic_and_group_are_the_ones_the_worker_uses() -> None:
    from dubset_common import topics

    assert topics.requests("asr", "prod.") == "prod.dubset.asr.requests.v1"
    worker = Path(__file__).parents[2] / "libs/dubset_common/src/dubset_common/worker.py"
    assert 'f"{topic_prefix}dubset-{stage}"' in worker.read_text()


def test_hpa_engine_scales_on_cpu_and_refuses_scale_to_zero(
    chart: Any, helm: Any, kubeval: Any
) -> None:
    values = merged(
        ("global.autoscaling.engine", "hpa"),
        ("media.worker.autoscaling", {"enabled": True, "minReplicas": 2, "maxReplicas": 6}),
    )
    hpa = find(render(chart, values), "HorizontalPodAutoscaler", "dubset-media-worker")
    validate_object(kubeval, hpa)
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 6)
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 80
    values["asr"]["worker"]["autoscaling"] = {"enabled": True}  # minReplicas 0
    with pytest.raises(helm.HelmError, match=r"scaling to zero needs global\.autoscaling\.engine"):
        render(chart, values)


def test_more_workers_than_partitions_stops_the_install(chart: Any, helm: Any) -> None:
    values = merged(("tts.worker.autoscaling", {"enabled": True, "maxReplicas": 20}))
    with pytest.raises(
        helm.HelmError, match=r"tts.worker can run 20 replicas but global.kafka.partitions is 12"
    ):
        render(chart, values)
    values["global"]["kafka"]["partitions"] = 24
    assert find(render(chart, values), "ScaledObject", "dubset-tts-worker")


# --- topics Job ------------------------------------------------------------------------------


def test_topics_job_creates_topics_with_the_chart_settings(chart: Any) -> None:
    values = merged(("global.kafka.topicPrefix", "prod."), ("global.kafka.partitions", 16))
    job = find(render(chart, values), "Job", "dubset-topics")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-install,post-upgrade"
    pod = job["spec"]["template"]["spec"]
    c = pod["containers"][0]
    assert c["command"] == ["python", "-m", "dubset_jobs.topics"]
    assert c["image"] == "dubset-jobs:0.1.0"
    env = {e["name"]: e["value"] for e in c["env"]}
    settings = load_settings("jobs", env)
    assert (settings.kafka_partitions, settings.kafka_replication_factor) == (16, 3)
    assert settings.topic_prefix == "prod."
    assert pod["serviceAccountName"] == "dubset-jobs"
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert "S3" not in str(env)  # the Job gets no credentials


def test_topics_job_can_be_left_to_the_operator(chart: Any) -> None:
    docs = render(chart, merged(("global.kafka.createTopics", False)))
    assert not [d for d in docs if d["kind"] == "Job"]


# --- NetworkPolicy and ServiceAccounts ---------------------------------------------------------


def test_network_policy_admits_grpc_from_the_release_and_metrics_from_prometheus(
    chart: Any,
) -> None:
    docs = render(chart)
    policy = find(docs, "NetworkPolicy", "dubset")
    spec = policy["spec"]
    assert spec["policyTypes"] == ["Ingress"]
    grpc, metrics = spec["ingress"]
    assert grpc["ports"] == [{"port": "grpc", "protocol": "TCP"}]
    assert {"podSelector": {}} in grpc["from"]
    assert metrics["ports"] == [{"port": "metrics", "protocol": "TCP"}]
    selector = spec["podSelector"]["matchLabels"]
    for d in docs:
        if d["kind"] == "Deployment":
            labels = d["spec"]["template"]["metadata"]["labels"]
            assert all(labels.get(k) == v for k, v in selector.items())
            names = {p["name"] for p in container(d)["ports"]}
            assert "metrics" in names


def test_network_policy_egress_allows_dns_the_release_and_listed_peers(chart: Any) -> None:
    rule = {"to": [{"ipBlock": {"cidr": "10.1.0.0/16"}}], "ports": [{"port": 9092}]}
    values = merged(("networkPolicy.egress", {"enabled": True, "to": [rule]}))
    spec = find(render(chart, values), "NetworkPolicy", "dubset")["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    dns, own, peer = spec["egress"]
    assert {"port": 53, "protocol": "UDP"} in dns["ports"]
    assert own["ports"] == [{"port": 50051, "protocol": "TCP"}]
    assert peer == rule
    assert not [
        d
        for d in render(chart, merged(("networkPolicy.enabled", False)))
        if d["kind"] == "NetworkPolicy"
    ]


def test_each_stage_has_its_own_service_account_with_its_own_annotations(chart: Any) -> None:
    values = merged(
        ("serviceAccount.annotations", {"team": "dubbing"}),
        ("asr.serviceAccountAnnotations", {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/t"}),
    )
    docs = render(chart, values)
    asr = find(docs, "ServiceAccount", "dubset-asr")
    assert asr["metadata"]["annotations"] == {
        "team": "dubbing",
        "eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/t",
    }
    assert find(docs, "ServiceAccount", "dubset-media")["metadata"]["annotations"] == {
        "team": "dubbing"
    }
    for stage in SERVER_AND_WORKER:
        pod = pod_of(find(docs, "Deployment", f"dubset-{stage}-worker"))
        assert pod["serviceAccountName"] == f"dubset-{stage}"


def test_without_created_accounts_a_stage_names_an_existing_one(chart: Any) -> None:
    values = merged(("serviceAccount.create", False), ("asr.serviceAccountName", "asr-irsa"))
    docs = render(chart, values)
    assert pod_of(find(docs, "Deployment", "dubset-asr-worker"))["serviceAccountName"] == "asr-irsa"
    assert (
        pod_of(find(docs, "Deployment", "dubset-media-worker"))["serviceAccountName"] == "default"
    )


def test_scrape_annotations_give_way_to_the_service_monitor(chart: Any) -> None:
    values = merged(("monitoring.serviceMonitor.enabled", True))
    template = find(render(chart, values), "Deployment", "dubset-media-worker")["spec"]["template"]
    assert "prometheus.io/scrape" not in template["metadata"].get("annotations", {})
    template = find(render(chart), "Deployment", "dubset-media-worker")["spec"]["template"]
    assert template["metadata"]["annotations"]["prometheus.io/scrape"] == "true"


def test_grpc_token_comes_from_its_secret_on_servers_only(chart: Any) -> None:
    values = merged(("global.grpcAuth", {"existingSecret": "dubset-api", "key": "token"}))
    docs = render(chart, values)
    server = env_of(container(find(docs, "Deployment", "dubset-jobs-server")))
    assert server["DUBSET_GRPC_TOKEN"]["valueFrom"]["secretKeyRef"] == {
        "name": "dubset-api",
        "key": "token",
    }
    assert "value" not in server["DUBSET_GRPC_TOKEN"]
    worker = env_of(container(find(docs, "Deployment", "dubset-asr-worker")))
    assert "DUBSET_GRPC_TOKEN" not in worker
    plain = env_of(container(find(render(chart), "Deployment", "dubset-jobs-server")))
    assert "DUBSET_GRPC_TOKEN" not in plain


def test_kafka_sasl_reaches_services_and_the_topics_job_from_the_secret(chart: Any) -> None:
    values = merged(("global.kafka.security", {"protocol": "SASL_SSL", "caFile": "/ca.pem"}))
    docs = render(chart, values)
    job = [d for d in docs if d["kind"] == "Job" and "topics" in d["metadata"]["name"]]
    envs = [env_of(container(find(docs, "Deployment", "dubset-asr-worker")))]
    envs += [{e["name"]: e for e in job[0]["spec"]["template"]["spec"]["containers"][0]["env"]}]
    for env in envs:
        assert env["DUBSET_KAFKA_SECURITY_PROTOCOL"]["value"] == "SASL_SSL"
        assert env["DUBSET_KAFKA_SASL_MECHANISM"]["value"] == "SCRAM-SHA-512"
        assert env["DUBSET_KAFKA_SSL_CAFILE"]["value"] == "/ca.pem"
        ref = env["DUBSET_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert (
            ref["key"] == "kafka-sasl-password" and "value" not in env["DUBSET_KAFKA_SASL_PASSWORD"]
        )
    plain = env_of(container(find(render(chart), "Deployment", "dubset-asr-worker")))
    assert not [k for k in plain if k.startswith("DUBSET_KAFKA_S")]


# --- translation: CPU, the asr model assembly, the openai allow-list, key and egress -----------

TRANSLATION_PODS = ("dubset-translation-server", "dubset-translation-worker")
OPENAI: dict[str, Any] = {
    "endpoints": ["http://vllm.llm.svc:8000/v1", "https://api.openai.com/v1"],
    "apiKey": {"existingSecret": "dubset-translation-key", "key": "openai"},
    "egress": [
        {
            "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "llm"}}}],
            "ports": [{"port": 8000, "protocol": "TCP"}],
        }
    ],
}


def test_translation_runs_on_cpu_with_the_whisper_base_assembled_as_for_asr(
    chart: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whisper backend resolves the embedded base under DUBSET_MODEL_DIR; the init container
    writes it exactly where that resolves, with asr's own command, from the pod's own image."""
    from dubset_asr.assemble import default_base_dir

    docs = render(chart)
    asr = pod_of(find(docs, "Deployment", "dubset-asr-worker"))
    for name in TRANSLATION_PODS:
        pod = pod_of(find(docs, "Deployment", name))
        c = pod["containers"][0]
        assert c["image"] == "dubset-translation:0.1.0"
        assert "nvidia.com/gpu" not in str(c["resources"]) and "nodeSelector" not in pod
        assert "DUBSET_DEVICE" not in env_of(c)
        [init] = pod["initContainers"]
        assert init["command"] == asr["initContainers"][0]["command"]
        assert init["image"] == c["image"]
        monkeypatch.setenv("DUBSET_MODEL_DIR", env_of(c)["DUBSET_MODEL_DIR"]["value"])
        assert str(default_base_dir()) == init["command"][-1] == "/models/whisper-base"
        assert {"name": "models", "mountPath": "/models", "readOnly": True} in c["volumeMounts"]
    worker = container(find(docs, "Deployment", "dubset-translation-worker"))
    assert worker["resources"]["requests"]["cpu"] == "2"
    assert env_of(worker)["DUBSET_HEALTH_STALL_S"]["value"] == "3600"


def test_translation_allows_no_endpoint_by_default(
    chart: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unset, the service would call any URL a request names: the chart always sets the list,
    empty by default, and the openai backend then refuses every endpoint."""
    from dubset_common.errors import ConfigError
    from dubset_translation.backends.openai import check_endpoint
    from dubset_translation.handler import ENDPOINTS_ENV, allowed_endpoints

    docs = render(chart)
    for name in TRANSLATION_PODS:
        env = env_of(container(find(docs, "Deployment", name)))
        assert env[ENDPOINTS_ENV] == {"name": ENDPOINTS_ENV, "value": ""}
        monkeypatch.setenv(ENDPOINTS_ENV, env[ENDPOINTS_ENV]["value"])
        assert allowed_endpoints() == ()
        with pytest.raises(ConfigError, match="no endpoint"):
            check_endpoint("http://10.0.0.1/v1", allowed_endpoints())
    for stage in CPU_STAGES:
        if stage != "translation":
            env = env_of(container(find(docs, "Deployment", f"dubset-{stage}-worker")))
            assert not [k for k in env if k.startswith("DUBSET_TRANSLATION_")], stage


def test_translation_calls_only_the_listed_endpoints(
    chart: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dubset_common.errors import ConfigError
    from dubset_translation.backends.openai import check_endpoint
    from dubset_translation.handler import ENDPOINTS_ENV, allowed_endpoints

    docs = render(chart, merged(("translation.openai", OPENAI)))
    for name in TRANSLATION_PODS:
        env = env_of(container(find(docs, "Deployment", name)))
        monkeypatch.setenv(ENDPOINTS_ENV, env[ENDPOINTS_ENV]["value"])
        assert allowed_endpoints() == tuple(OPENAI["endpoints"])
        check_endpoint("http://vllm.llm.svc:8000/v1", allowed_endpoints())
        check_endpoint("https://api.openai.com/v1/chat", allowed_endpoints())
        with pytest.raises(ConfigError):
            check_endpoint("http://vllm.llm.svc:8000/v1evil", allowed_endpoints())


def test_translation_api_key_is_a_secret_file_in_its_pods_only(
    chart: Any, kubeval: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Like every credential, from a Secret the user names: mounted read-only into the server
    and the worker, named by DUBSET_TRANSLATION_API_KEY_FILE; the model init containers and
    the other stages get neither, and with no Secret named there is no mount at all."""
    from dubset_translation.handler import KEY_FILE_ENV, api_key

    docs = render(chart, merged(("translation.openai", OPENAI)))
    for name in TRANSLATION_PODS:
        d = find(docs, "Deployment", name)
        validate_object(kubeval, d)
        pod, c = pod_of(d), container(d)
        [volume] = [v for v in pod["volumes"] if "secret" in v]
        assert volume["secret"]["secretName"] == "dubset-translation-key"
        assert volume["secret"]["defaultMode"] == 0o440  # the pod's fsGroup reads it
        [item] = volume["secret"]["items"]
        assert item["key"] == "openai"
        [mount] = [m for m in c["volumeMounts"] if m["name"] == volume["name"]]
        assert mount["readOnly"] is True
        path = env_of(c)[KEY_FILE_ENV]["value"]
        assert path == f"{mount['mountPath']}/{item['path']}"
        for init in pod["initContainers"]:
            assert KEY_FILE_ENV not in env_of(init)
            assert volume["name"] not in [m["name"] for m in init["volumeMounts"]]
        # The service reads what the kubelet writes there.
        (tmp_path / item["path"]).write_text("sk-test\n")
        monkeypatch.setenv(KEY_FILE_ENV, str(tmp_path / item["path"]))
        assert api_key() == "sk-test"
    for d in docs:
        if d["kind"] == "Deployment" and d["metadata"]["name"] not in TRANSLATION_PODS:
            assert "secret" not in str(pod_of(d)["volumes"]), d["metadata"]["name"]
    plain = pod_of(find(render(chart), "Deployment", "dubset-translation-worker"))
    assert not [v for v in plain["volumes"] if "secret" in v]
    assert KEY_FILE_ENV not in env_of(plain["containers"][0])


def test_translation_egress_reaches_the_endpoints_from_its_pods_only(
    chart: Any, kubeval: Any
) -> None:
    """NetworkPolicies match addresses, not URLs: the rules in translation.openai.egress go in
    a policy of their own that selects the translation pods alone; policies add up, so those
    pods keep the release-wide egress (DNS, gRPC, Kafka, S3) too."""
    values = merged(("translation.openai", OPENAI), ("networkPolicy.egress.enabled", True))
    docs = render(chart, values)
    policy = find(docs, "NetworkPolicy", "dubset-translation-egress")
    validate_object(kubeval, policy)
    assert policy["spec"]["policyTypes"] == ["Egress"]
    assert policy["spec"]["egress"] == OPENAI["egress"]
    selector = policy["spec"]["podSelector"]["matchLabels"]
    pods = {
        d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"]
        for d in docs
        if d["kind"] == "Deployment"
    }
    selected = {
        n for n, labels in pods.items() if all(labels.get(k) == v for k, v in selector.items())
    }
    assert selected == set(TRANSLATION_PODS)
    release = find(docs, "NetworkPolicy", "dubset")["spec"]["podSelector"]["matchLabels"]
    assert release.items() <= selector.items()
    # No policy without egress restrictions, without rules, or without the stage.
    for off in (
        merged(("translation.openai", OPENAI)),
        merged(("networkPolicy.egress.enabled", True)),
        merged(("translation.openai", OPENAI), ("networkPolicy.egress.enabled", True),
               ("translation.enabled", False)),
        merged(("translation.openai", OPENAI), ("networkPolicy.egress.enabled", True),
               ("networkPolicy.enabled", False)),
    ):  # fmt: skip
        names = {d["metadata"]["name"] for d in render(chart, off) if d["kind"] == "NetworkPolicy"}
        assert "dubset-translation-egress" not in names


def test_translation_settings_are_ones_the_service_reads() -> None:
    """The chart's names for the translation settings are the handler's."""
    from dubset_translation import handler

    text = (Path(__file__).parents[2] / "deploy/helm/dubset/templates/_helpers.tpl").read_text()
    assert f'"{handler.ENDPOINTS_ENV}"' in text and f'"{handler.KEY_FILE_ENV}"' in text


# --- quality: CPU by default, asr's model assembly; re-recognition on the GPU pool on request ---

QUALITY_PODS = ("dubset-quality-server", "dubset-quality-worker")


def test_quality_runs_on_cpu_with_the_whisper_base_assembled_as_for_asr(
    chart: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Re-recognition uses asr's faster-whisper code: the embedded base resolves under
    DUBSET_MODEL_DIR, and the init container writes it exactly there, with asr's own command,
    from the pod's own image; nothing requests a GPU or asks for CUDA by default."""
    from dubset_asr.assemble import default_base_dir

    docs = render(chart)
    asr = pod_of(find(docs, "Deployment", "dubset-asr-worker"))
    for name in QUALITY_PODS:
        pod = pod_of(find(docs, "Deployment", name))
        c = pod["containers"][0]
        assert c["image"] == "dubset-quality:0.1.0"
        assert "nvidia.com/gpu" not in str(c["resources"]) and "nodeSelector" not in pod
        assert "DUBSET_DEVICE" not in env_of(c)
        [init] = pod["initContainers"]
        assert init["command"] == asr["initContainers"][0]["command"]
        assert init["image"] == c["image"]
        monkeypatch.setenv("DUBSET_MODEL_DIR", env_of(c)["DUBSET_MODEL_DIR"]["value"])
        assert str(default_base_dir()) == init["command"][-1] == "/models/whisper-base"
        assert {"name": "models", "mountPath": "/models", "readOnly": True} in c["volumeMounts"]
    worker = container(find(docs, "Deployment", "dubset-quality-worker"))
    assert worker["resources"]["requests"]["cpu"] == "2"
    assert "GPU stages (asr, diarization, tts) request" in find_notes(chart, None)


def test_quality_worker_moves_to_the_gpu_pool_with_its_cuda_image(chart: Any, kubeval: Any) -> None:
    """worker.gpus, the CUDA build of the image and DUBSET_DEVICE=cuda put re-recognition on
    the GPU pool; the server stays on the CPU, and the install notes name the stage."""
    values = merged(
        ("quality.image", {"repository": "dubset-quality-cuda", "tag": ""}),
        ("quality.worker", {"gpus": 1}),
        ("quality.env", {"DUBSET_MODEL_DIR": "/models", "DUBSET_DEVICE": "cuda"}),
    )
    docs = render(chart, values)
    d = find(docs, "Deployment", "dubset-quality-worker")
    validate_object(kubeval, d)
    pod, c = pod_of(d), container(d)
    assert c["image"] == "dubset-quality-cuda:0.1.0"
    assert c["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert c["resources"]["requests"]["cpu"] == "2"  # the chart's worker sizing stays
    assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    plain = {n: e.get("value", "x") for n, e in env_of(c).items()}
    assert load_settings("quality", plain).device == "cuda"
    server = pod_of(find(docs, "Deployment", "dubset-quality-server"))
    assert "nvidia.com/gpu" not in str(server["containers"][0]["resources"])
    assert "nodeSelector" not in server
    notes = find_notes(chart, values)
    assert "GPU stages (asr, diarization, tts, quality)" in notes


def find_notes(chart: Any, values: dict[str, Any] | None) -> str:
    rendered = chart.render(values, name="dubset", namespace="dubset", is_install=True)
    notes: str = rendered["dubset/templates/NOTES.txt"]
    return notes


# --- render: CPU, ffmpeg, a whole episode in /tmp ----------------------------------------------

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def _bytes(quantity: str) -> int:
    for suffix, factor in _BINARY.items():
        if quantity.endswith(suffix):
            return int(quantity.removesuffix(suffix)) * factor
    return int(quantity)


def test_render_runs_on_cpu_with_room_for_a_whole_episode(chart: Any, kubeval: Any) -> None:
    """The render pods run the image's ffmpeg on the CPU pool, with no model volume. /tmp (the
    only writable path, where the executor fetches and works) holds an episode video twice (the
    fetched one and the dubbed copy; as large as media takes in, half its /tmp) plus the 48 kHz
    WAVs the stage writes for a 24-minute episode; the worker's memory leaves the ~220 MB it
    keeps resident room for the page cache of those WAVs."""
    from dubset_render.ffmpeg import RATE

    docs = render(chart)
    media = pod_of(find(docs, "Deployment", "dubset-media-worker"))
    [media_tmp] = [v for v in media["volumes"] if v["name"] == "tmp"]
    video = _bytes(media_tmp["emptyDir"]["sizeLimit"]) // 2
    # original.wav and mix.wav: 16-bit stereo; speech48.wav and dialogue48.wav: float mono.
    wavs = 24 * 60 * RATE * (2 * 2 + 4 + 4 + 2 * 2)
    for role, args in (("server", ["serve"]), ("worker", ["worker"])):
        d = find(docs, "Deployment", f"dubset-render-{role}")
        validate_object(kubeval, d)
        pod, c = pod_of(d), container(d)
        assert c["image"] == "dubset-render:0.1.0" and c["args"] == args
        assert "nvidia.com/gpu" not in str(c["resources"]) and "nodeSelector" not in pod
        assert "initContainers" not in pod and [v["name"] for v in pod["volumes"]] == ["tmp"]
        assert {"name": "tmp", "mountPath": "/tmp"} in c["volumeMounts"]
        tmp = _bytes(pod["volumes"][0]["emptyDir"]["sizeLimit"])
        assert tmp >= 2 * video + wavs, role
    worker = container(find(docs, "Deployment", "dubset-render-worker"))["resources"]
    assert worker["requests"] == {"cpu": "1", "memory": "1Gi"}
    assert _bytes(worker["limits"]["memory"]) >= 1536 * 2**20
