"""The Helm chart lints, renders valid Kubernetes 1.32 objects, and wires what the services read."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dubset_common.config import Settings, load_settings
from dubset_common.metrics import HEALTH_PATHS

yaml = pytest.importorskip("yaml", reason="PyYAML is not installed (requirements/lock.txt)")
jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed")

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "dubset"
KUBE_VERSION = "1.32.0"
RELEASE, NAMESPACE = "dubset", "dubset"
SECRET_KEYS = {"DUBSET_S3_ACCESS_KEY": "s3-access-key", "DUBSET_S3_SECRET_KEY": "s3-secret-key"}
NO_SDK = (
    "helm-python-sdk==0.2.2 and kubernetes-validate==1.37.0 are needed to lint and render the "
    "chart (no helm binary exists here); install requirements/lock.txt"
)

Manifest = dict[str, Any]


def _values() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((CHART / "values.yaml").read_text())
    return loaded


def _schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((CHART / "values.schema.json").read_text())
    return loaded


def _with(path: str, value: Any) -> dict[str, Any]:
    """The default values with one dotted path set (a new key is created)."""
    values = copy.deepcopy(_values())
    *parents, leaf = path.split(".")
    node = values
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value
    return values


# Mistakes a user could make in a values file, each of which the schema must refuse.
BAD_VALUES = {
    "misspelt stage block": _with("alignmnet", {"enabled": True}),
    "negative replicas": _with("alignment.server.replicas", -1),
    "bootstrap without port": _with("global.kafka.bootstrap", "kafka"),
    "empty existingSecret": _with("global.existingSecret", ""),
    "unknown log level": _with("global.logLevel", "verbose"),
    "secret in plain env": _with("alignment.env", {"DUBSET_S3_SECRET_KEY": "hunter2"}),
    "metrics port in env": _with("asr.env", {"DUBSET_METRICS_PORT": "0"}),
    "metrics address in env": _with("stageDefaults.env", {"DUBSET_METRICS_ADDR": "127.0.0.1"}),
    "stall limit too short": _with("tts.stallSeconds", 1),
    "misspelt resources key": _with("alignment.worker.resources", {"limit": {"cpu": "1"}}),
    "malformed quantity": _with("alignment.worker.resources", {"limits": {"memory": "1 GB"}}),
    "port out of range": _with("global.ports.grpc", 70000),
    "pdb without budget": _with("alignment.server.pdb", {"enabled": True, "maxUnavailable": None}),
    "pull policy typo": _with("global.image.pullPolicy", "always"),
    "api key in plain env": _with("translation.env", {"DUBSET_TRANSLATION_API_KEY": "sk-1"}),
    "api key in default env": _with("stageDefaults.env", {"DUBSET_TRANSLATION_API_KEY": "sk-1"}),
    "endpoint not a URL": _with("translation.openai.endpoints", ["vllm.llm.svc:8000"]),
    "two endpoints in one": _with("translation.openai.endpoints", ["http://a:1/v1,http://b:2/v1"]),
    "misspelt openai key": _with("translation.openai.apikey", {"existingSecret": "k"}),
    "misspelt translation key": _with("translation.opneai", {"endpoints": []}),
    "openai block on another stage": _with("asr.openai", {"endpoints": []}),
    "bad key secret name": _with("translation.openai.apiKey.existingSecret", "Key_Secret"),
}


# --- values.schema.json (needs only PyYAML + jsonschema) --------------------------------------


def test_schema_is_draft7_and_accepts_the_default_values() -> None:
    schema = _schema()
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft7Validator(schema).validate(_values())


@pytest.mark.parametrize("values", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_schema_refuses_bad_values(values: dict[str, Any]) -> None:
    assert list(jsonschema.Draft7Validator(_schema()).iter_errors(values))


def resolve(ref: str) -> dict[str, Any]:
    """The schema a local $ref (a JSON pointer, e.g. #/definitions/stage/properties/env) names."""
    assert ref.startswith("#/"), ref
    node: Any = _schema()
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    assert isinstance(node, dict), ref
    return node


def test_translation_schema_is_the_stage_schema_plus_openai() -> None:
    """Its block takes every stage key, each validated by the stage schema's own definition (so
    a new stage key reaches it too), and `openai`; the other stages do not take `openai`."""
    definitions = _schema()["definitions"]
    stage, translation = definitions["stage"], definitions["translationStage"]
    assert _schema()["properties"]["translation"] == {"$ref": "#/definitions/translationStage"}
    assert set(translation["properties"]) == set(stage["properties"]) | {"openai"}
    for key in stage["properties"]:
        ref = f"#/definitions/stage/properties/{key}"
        assert translation["properties"][key] == {"$ref": ref}
        assert resolve(ref) is not None
    assert translation["additionalProperties"] is False
    assert translation["required"] == stage["required"]
    assert "openai" not in stage["properties"]


def test_schema_covers_every_default_value() -> None:
    """Each key in values.yaml is declared, so additionalProperties: false stays honest."""

    def walk(values: Any, schema: dict[str, Any], path: str) -> Iterator[str]:
        if "$ref" in schema:
            schema = resolve(schema["$ref"])
        if "allOf" in schema:  # jobs: the stage schema plus its own limits
            yield from walk(values, schema["allOf"][0], path)
            return
        if not isinstance(values, dict) or "properties" not in schema:
            return
        for key, value in values.items():
            if key not in schema["properties"]:
                yield f"{path}{key}"
            else:
                yield from walk(value, schema["properties"][key], f"{path}{key}.")

    assert list(walk(_values(), _schema(), "")) == []


# --- Helm SDK: lint, render, kubernetes-validate ---------------------------------------------


def render(chart: Any, values: dict[str, Any] | None = None) -> list[Manifest]:
    """Validate values like an install does, render, and parse every object."""
    chart.validate_schema(values)
    rendered = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    docs: list[Manifest] = []
    for name, text in sorted(rendered.items()):
        if name.endswith(".yaml"):
            docs += [d for d in yaml.safe_load_all(text) if d]
    return docs


def find(docs: list[Manifest], kind: str, name: str) -> Manifest:
    hits = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(hits) == 1, f"{kind}/{name}: {len(hits)} objects"
    return hits[0]


def container(deployment: Manifest) -> Manifest:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    c: Manifest = containers[0]
    return c


def env_of(c: Manifest) -> dict[str, Manifest]:
    names = [e["name"] for e in c["env"]]
    assert len(names) == len(set(names)), f"duplicate env names: {names}"
    return {e["name"]: e for e in c["env"]}


# Every optional part switched on, so its template path is rendered and validated too.
FULL_VALUES = {
    "global": {
        "image": {"registry": "registry.example.com/dubset/", "tag": "1.2.3"},
        "imagePullSecrets": [{"name": "regcred"}],
        "kafka": {"bootstrap": "k-0.kafka:9092,k-1.kafka:9092", "topicPrefix": "prod."},
        "s3": {"endpoint": "https://minio.minio.svc:9000", "prefix": "tenant-a/"},
    },
    "serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/x"}},
    "networkPolicy": {
        "egress": {
            "enabled": True,
            "to": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"port": 9092}]}],
        }
    },
    "asr": {
        "serviceAccountAnnotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/asr"},
        "models": {"prefix": "models/asr"},
        "worker": {"autoscaling": {"enabled": True}},
        "server": {"autoscaling": {"enabled": True, "minReplicas": 1, "maxReplicas": 2}},
    },
    "diarization": {"models": {"existingClaim": "pyannote-models"}},
    "translation": {
        "models": {"prefix": "models/translation"},
        "openai": {
            "endpoints": ["http://vllm.llm.svc:8000/v1", "https://api.openai.com/v1/"],
            "apiKey": {"existingSecret": "dubset-translation-key", "key": "openai"},
            "egress": [
                {
                    "to": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": "llm"}
                            }
                        }
                    ],
                    "ports": [{"port": 8000, "protocol": "TCP"}],
                },
                {
                    "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}],
                    "ports": [{"port": 443, "protocol": "TCP"}],
                },
            ],
        },
        "worker": {"autoscaling": {"enabled": True}},
    },
    "alignment": {
        "image": {"tag": "1.2.4"},
        "env": {"DUBSET_LOG_LEVEL": "DEBUG", "DUBSET_MAX_ATTEMPTS": 5},
        "podAnnotations": {"team": "dubbing"},
        "nodeSelector": {"kubernetes.io/arch": "amd64"},
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "dubset"}],
        "affinity": {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 100,
                        "podAffinityTerm": {
                            "topologyKey": "kubernetes.io/hostname",
                            "labelSelector": {"matchLabels": {"dubset.io/stage": "alignment"}},
                        },
                    }
                ]
            }
        },
        "server": {"pdb": {"enabled": True, "maxUnavailable": "50%"}},
        "worker": {"replicas": 0, "preStopSleepSeconds": 3},
    },
}


# Custom resources have no schema in kubernetes-validate, and no CRD can be fetched here: these
# follow KEDA 2.x's documented ScaledObject spec for the fields the chart may set (trigger
# metadata values must be strings; KEDA rejects numbers).
_STR_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
CR_SCHEMAS: dict[str, dict[str, Any]] = {
    "keda.sh/v1alpha1/ScaledObject": {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "spec": {
                "type": "object",
                "additionalProperties": False,
                "required": ["scaleTargetRef", "triggers"],
                "properties": {
                    "scaleTargetRef": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["name"],
                        "properties": {
                            "apiVersion": {"type": "string"},
                            "kind": {"type": "string"},
                            "name": {"type": "string", "minLength": 1},
                        },
                    },
                    "pollingInterval": {"type": "integer", "minimum": 1},
                    "cooldownPeriod": {"type": "integer", "minimum": 0},
                    "minReplicaCount": {"type": "integer", "minimum": 0},
                    "maxReplicaCount": {"type": "integer", "minimum": 1},
                    "triggers": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["type", "metadata"],
                            "properties": {"type": {"const": "kafka"}, "metadata": _STR_MAP},
                        },
                    },
                },
            }
        },
    },
}


def validate_object(kubeval: Any, doc: Manifest) -> None:
    """kubernetes-validate (strict) for built-in kinds; CR_SCHEMAS, or the monitoring tests'
    checks, for custom resources."""
    key = f"{doc['apiVersion']}/{doc['kind']}"
    if key in CR_SCHEMAS:
        jsonschema.Draft7Validator(CR_SCHEMAS[key]).validate(doc)
    elif doc["apiVersion"].startswith("monitoring.coreos.com/"):
        assert doc["kind"] in ("ServiceMonitor", "PodMonitor", "PrometheusRule")
    else:
        kubeval.validate(doc, KUBE_VERSION, strict=True)


def test_chart_lints_strictly(helm: Any) -> None:
    report = helm.lint(CHART, strict=True, kube_version=f"v{KUBE_VERSION}")
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


@pytest.mark.parametrize("values", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_helm_refuses_bad_values(helm: Any, chart: Any, values: dict[str, Any]) -> None:
    with pytest.raises(helm.HelmValuesError):
        chart.validate_schema(values)


@pytest.mark.parametrize("values", [None, FULL_VALUES], ids=["defaults", "everything-on"])
def test_rendered_objects_are_valid_kubernetes(
    chart: Any, kubeval: Any, values: dict[str, Any] | None
) -> None:
    docs = render(chart, values)
    assert docs
    for doc in docs:
        # Raises ValidationError on a wrong or unknown field, SchemaNotFoundError on a bad kind.
        validate_object(kubeval, doc)


def test_strict_validation_catches_an_unknown_field(chart: Any, kubeval: Any) -> None:
    server = find(render(chart), "Deployment", "dubset-alignment-server")
    container(server)["readinesProbe"] = {"grpc": {"port": 50051}}
    with pytest.raises(kubeval.ValidationError):
        kubeval.validate(server, KUBE_VERSION, strict=True)


SERVER_AND_WORKER = (
    "alignment",
    "media",
    "separation",
    "packaging",
    "asr",
    "diarization",
    "tts",
    "translation",
    "render",
    "faces",
    "quality",
)
GPU_STAGES = ("asr", "diarization", "tts")
STAGE_ENV = {  # the stages' own settings, read outside dubset_common.config
    "DUBSET_MODEL_DIR",
    "DUBSET_DIARIZATION_PYANNOTE_DIR",
    "DUBSET_TTS_YOURTTS_DIR",
    "DUBSET_FACES_TRANSNET_DIR",
    "DUBSET_FACES_YOLO_DIR",
    "DUBSET_ASR_MODEL_DIR",
    "DUBSET_TRANSLATION_ENDPOINTS",
    "DUBSET_TRANSLATION_API_KEY_FILE",
}


def test_defaults_render_every_stage_server_worker_and_budgets(chart: Any) -> None:
    kinds = sorted((d["kind"], d["metadata"]["name"]) for d in render(chart))
    want = [("Deployment", "dubset-jobs-server"), ("Service", "dubset-jobs")]
    want += [("NetworkPolicy", "dubset"), ("Job", "dubset-topics")]
    want += [("ServiceAccount", f"dubset-{s}") for s in (*SERVER_AND_WORKER, "jobs")]
    for stage in SERVER_AND_WORKER:
        want.append(("Service", f"dubset-{stage}"))
        for role in ("server", "worker"):
            want += [("Deployment", f"dubset-{stage}-{role}")]
            want += [("PodDisruptionBudget", f"dubset-{stage}-{role}")]
    assert kinds == sorted(want)


def test_jobs_runs_once_and_is_replaced_not_rolled(chart: Any, helm: Any) -> None:
    """Job state is rebuilt from the state topic by one process: two would both orchestrate."""
    jobs = find(render(chart), "Deployment", "dubset-jobs-server")
    assert jobs["spec"]["replicas"] == 1 and jobs["spec"]["strategy"] == {"type": "Recreate"}
    assert container(jobs)["args"] == ["serve"]
    for path, value in (("jobs.server", {"replicas": 2}), ("jobs.worker", {"enabled": True})):
        with pytest.raises(helm.HelmValuesError):
            chart.validate_schema(_with(path, value))


def test_a_stage_block_overrides_the_defaults_role_key_by_key(chart: Any) -> None:
    """`media.worker.replicas: 0` (a false-y value) wins; the worker keeps the default drain."""
    values = _with("media.worker", {"replicas": 0, "resources": {"limits": {"memory": "3Gi"}}})
    worker = find(render(chart, values), "Deployment", "dubset-media-worker")
    assert worker["spec"]["replicas"] == 0
    # Helm deep-merges a user's values into values.yaml: media's own requests stay.
    assert container(worker)["resources"] == {
        "requests": {"cpu": "1", "memory": "1Gi"},
        "limits": {"memory": "3Gi"},
    }
    pod = worker["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] == 60 + 0 + 10  # stageDefaults.worker
    packaging = find(render(chart), "Deployment", "dubset-packaging-worker")
    assert container(packaging)["resources"]["requests"]["cpu"] == "2"
    tmp = next(v for v in packaging["spec"]["template"]["spec"]["volumes"] if v["name"] == "tmp")
    assert tmp["emptyDir"]["sizeLimit"] == "10Gi"


def test_server_has_grpc_probes_and_a_drain_shorter_than_the_grace_period(chart: Any) -> None:
    server = find(render(chart), "Deployment", "dubset-alignment-server")
    c = container(server)
    assert c["args"] == ["serve"]
    assert "command" not in c  # the image's ENTRYPOINT runs
    assert {"name": "grpc", "containerPort": 50051, "protocol": "TCP"} in c["ports"]
    assert c["readinessProbe"]["grpc"] == {"port": 50051}
    assert c["livenessProbe"]["grpc"] == {"port": 50051}
    drain = float(env_of(c)["DUBSET_GRPC_GRACE_S"]["value"])
    pause = c["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert server["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > drain + pause


def test_pods_run_non_root_read_only_without_token(chart: Any) -> None:
    for name in ("dubset-alignment-server", "dubset-alignment-worker"):
        pod = find(render(chart), "Deployment", name)["spec"]["template"]["spec"]
        sc = container({"spec": {"template": {"spec": pod}}})["securityContext"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == 10001
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert sc["runAsNonRoot"] is True
        assert sc["readOnlyRootFilesystem"] is True
        assert sc["allowPrivilegeEscalation"] is False
        assert sc["capabilities"]["drop"] == ["ALL"]
        assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        assert pod["serviceAccountName"] == "dubset-alignment"
        tmp = next(v for v in pod["volumes"] if v["name"] == "tmp")
        assert "emptyDir" in tmp
        mounts = pod["containers"][0]["volumeMounts"]
        assert {"name": "tmp", "mountPath": "/tmp"} in mounts


def test_service_accounts_do_not_mount_a_token(chart: Any) -> None:
    accounts = [d for d in render(chart) if d["kind"] == "ServiceAccount"]
    assert len(accounts) == len(SERVER_AND_WORKER) + 1  # and jobs
    assert all(a["automountServiceAccountToken"] is False for a in accounts)


def test_s3_keys_come_from_the_existing_secret(chart: Any) -> None:
    docs = render(chart, _with("global.existingSecret", "minio-creds"))
    for name in ("dubset-alignment-server", "dubset-alignment-worker"):
        env = env_of(container(find(docs, "Deployment", name)))
        for var, key in SECRET_KEYS.items():
            assert "value" not in env[var]
            assert env[var]["valueFrom"]["secretKeyRef"] == {"name": "minio-creds", "key": key}


@pytest.mark.parametrize("values", [None, FULL_VALUES], ids=["defaults", "everything-on"])
def test_rendered_env_is_what_the_service_parses(chart: Any, values: Any) -> None:
    """Every DUBSET_* variable is a setting dubset_common.config knows, and it loads cleanly."""
    known = {f"DUBSET_{name.upper()}" for name in Settings.__dataclass_fields__} | STAGE_ENV
    docs = render(chart, values)
    roles = [(st, r) for st in SERVER_AND_WORKER for r in ("server", "worker")]
    for stage, role in [*roles, ("jobs", "server")]:
        env = env_of(container(find(docs, "Deployment", f"dubset-{stage}-{role}")))
        unknown = {n for n in env if n.startswith("DUBSET_")} - known
        assert not unknown, f"settings nobody reads: {unknown}"
        plain = {n: e.get("value", f"<{n}>") for n, e in env.items()}
        settings = load_settings(stage, plain)
        assert (settings.bus, settings.store) == ("kafka", "s3")
        assert settings.metrics_port == 9090
        assert settings.s3_secret_key == "<DUBSET_S3_SECRET_KEY>"
        if role == "server":
            assert settings.grpc_addr == "0.0.0.0:50051"
        else:
            assert "DUBSET_GRPC_ADDR" not in env


def test_full_values_reach_the_pods(chart: Any) -> None:
    docs = render(chart, FULL_VALUES)
    server = find(docs, "Deployment", "dubset-alignment-server")
    c, pod = container(server), server["spec"]["template"]["spec"]
    env = env_of(c)
    assert c["image"] == "registry.example.com/dubset/dubset-alignment:1.2.4"
    assert env["DUBSET_LOG_LEVEL"]["value"] == "DEBUG"  # the stage's env wins, once
    assert env["DUBSET_MAX_ATTEMPTS"]["value"] == "5"
    assert env["DUBSET_TOPIC_PREFIX"]["value"] == "prod."
    assert env["DUBSET_S3_PREFIX"]["value"] == "tenant-a/"
    assert env["DUBSET_KAFKA_BOOTSTRAP"]["value"] == "k-0.kafka:9092,k-1.kafka:9092"
    assert pod["imagePullSecrets"] == [{"name": "regcred"}]
    assert pod["nodeSelector"] == {"kubernetes.io/arch": "amd64"}
    assert pod["tolerations"][0]["key"] == "dedicated"
    assert "podAntiAffinity" in pod["affinity"]
    assert server["spec"]["template"]["metadata"]["annotations"]["team"] == "dubbing"
    worker = find(docs, "Deployment", "dubset-alignment-worker")
    assert worker["spec"]["replicas"] == 0
    assert container(worker)["lifecycle"]["preStop"]["sleep"]["seconds"] == 3
    assert find(docs, "PodDisruptionBudget", "dubset-alignment-server")["spec"] == {
        "maxUnavailable": "50%",
        "selector": server["spec"]["selector"],
    }


def test_pods_are_scraped_on_the_metrics_port(chart: Any) -> None:
    for name in ("dubset-alignment-server", "dubset-alignment-worker"):
        template = find(render(chart), "Deployment", name)["spec"]["template"]
        assert template["metadata"]["annotations"] == {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": "9090",
            "prometheus.io/path": "/metrics",
        }
        ports = template["spec"]["containers"][0]["ports"]
        assert {"name": "metrics", "containerPort": 9090, "protocol": "TCP"} in ports


def test_worker_runs_the_consumer_without_grpc(chart: Any) -> None:
    c = container(find(render(chart), "Deployment", "dubset-alignment-worker"))
    assert c["args"] == ["worker"]
    assert [p["name"] for p in c["ports"]] == ["metrics"]
    assert not any("grpc" in c[probe] for probe in ("startupProbe", "readinessProbe"))
    assert "lifecycle" not in c


@pytest.mark.parametrize("values", [None, FULL_VALUES], ids=["defaults", "everything-on"])
def test_every_workload_has_startup_readiness_and_liveness_probes(
    chart: Any, values: dict[str, Any] | None
) -> None:
    """Workers are probed over HTTP on the metrics port's health paths, servers over gRPC
    health; the jobs server's liveness is its ingest loop's /healthz."""
    docs = render(chart, values)
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    want = {f"dubset-{s}-{r}" for s in SERVER_AND_WORKER for r in ("server", "worker")}
    assert set(deployments) == want | {"dubset-jobs-server"}
    liveness, readiness = ({"path": path, "port": "metrics"} for path in HEALTH_PATHS)
    for name, deployment in deployments.items():
        c = container(deployment)
        probes = {p: c[p] for p in ("startupProbe", "readinessProbe", "livenessProbe")}
        assert {"name": "metrics", "containerPort": 9090, "protocol": "TCP"} in c["ports"]
        if name.endswith("-worker"):
            assert probes["startupProbe"]["httpGet"] == readiness, name
            assert probes["readinessProbe"]["httpGet"] == readiness, name
        else:
            assert probes["startupProbe"]["grpc"] == {"port": 50051}, name
            assert probes["readinessProbe"]["grpc"] == {"port": 50051}, name
        if name.endswith("-worker") or name == "dubset-jobs-server":
            assert probes["livenessProbe"]["httpGet"] == liveness, name
            env = env_of(c)
            assert env["DUBSET_METRICS_PORT"]["value"] == "9090"
            assert "DUBSET_HEALTH_STALL_S" in env and "DUBSET_HEALTH_STARTUP_S" in env
        else:
            assert probes["livenessProbe"]["grpc"] == {"port": 50051}, name
            assert "DUBSET_HEALTH_STALL_S" not in env_of(c)
        # The app decides a stall (minutes); the kubelet's own budget only covers a process
        # too wedged to answer, and must not restart one that is merely busy.
        live = probes["livenessProbe"]
        assert live["periodSeconds"] * live["failureThreshold"] >= 30


def test_the_stall_limit_and_startup_grace_reach_the_worker(chart: Any) -> None:
    values = _with("alignment.stallSeconds", 300)
    docs = render(chart, values)
    settings: dict[str, Settings] = {}
    for name in ("dubset-alignment-worker", "dubset-asr-worker", "dubset-jobs-server"):
        env = env_of(container(find(docs, "Deployment", name)))
        plain = {n: e.get("value", "x") for n, e in env.items()}
        settings[name] = load_settings(name.split("-")[1], plain)
    assert settings["dubset-alignment-worker"].health_stall_s == 300
    assert settings["dubset-alignment-worker"].health_startup_s == 60
    assert settings["dubset-asr-worker"].health_stall_s == 1800  # stageDefaults
    assert settings["dubset-asr-worker"].health_startup_s == 300  # a GPU stage loads models
    assert settings["dubset-jobs-server"].health_startup_s == 60


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def test_selectors_pick_exactly_their_own_pods(chart: Any) -> None:
    docs = render(chart)
    pods = {
        d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"]
        for d in docs
        if d["kind"] == "Deployment"
    }
    service = find(docs, "Service", "dubset-alignment")
    assert [n for n, labels in pods.items() if _selects(service["spec"]["selector"], labels)] == [
        "dubset-alignment-server"
    ]
    assert {p["name"]: p["port"] for p in service["spec"]["ports"]} == {
        "grpc": 50051,
        "metrics": 9090,
    }
    for d in docs:
        if d["kind"] in ("Deployment", "PodDisruptionBudget"):
            selector = d["spec"]["selector"]["matchLabels"]
            matched = [n for n, labels in pods.items() if _selects(selector, labels)]
            assert matched == [d["metadata"]["name"]], d["kind"]


def test_chart_ports_are_the_ones_the_image_exposes(chart: Any) -> None:
    text = (ROOT / "docker" / "alignment.Dockerfile").read_text()
    exposed = {int(p) for line in re.findall(r"^EXPOSE (.+)$", text, re.M) for p in line.split()}
    for d in render(chart):
        if d["kind"] == "Deployment":
            assert {p["containerPort"] for p in container(d)["ports"]} <= exposed


@pytest.mark.parametrize(
    "path, value, gone",
    [
        ("alignment.enabled", False, {"dubset-alignment-server", "dubset-alignment-worker"}),
        ("alignment.worker.enabled", False, {"dubset-alignment-worker"}),
        ("alignment.server.enabled", False, {"dubset-alignment-server"}),
    ],
)
def test_switches_remove_their_objects(chart: Any, path: str, value: bool, gone: set[str]) -> None:
    docs = render(chart, _with(path, value))
    names = {d["metadata"]["name"] for d in docs if d["kind"] != "ServiceAccount"}
    assert names.isdisjoint(gone)
    assert "dubset-media-server" in names  # the other stages stay
    if "dubset-alignment-server" in gone:
        assert "dubset-alignment" not in names  # no Service without a server


def test_optional_parts_can_be_switched_off(chart: Any) -> None:
    values = _with("serviceAccount", {"create": False})
    values["global"]["metrics"]["scrapeAnnotations"] = False
    values["alignment"]["server"] = {"pdb": {"enabled": False}}
    docs = render(chart, values)
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert not [k for k in kinds if k[0] == "ServiceAccount"]
    assert ("PodDisruptionBudget", "dubset-alignment-server") not in kinds
    server = find(docs, "Deployment", "dubset-alignment-server")["spec"]["template"]
    assert server["spec"]["serviceAccountName"] == "default"
    assert "annotations" not in server["metadata"]


def test_release_name_prefixes_every_object(chart: Any) -> None:
    rendered = chart.render(None, name="prod", namespace="dubbing")
    docs = [
        d
        for name, text in rendered.items()
        if name.endswith(".yaml")
        for d in yaml.safe_load_all(text)
        if d
    ]
    assert docs
    for d in docs:
        assert d["metadata"]["name"].startswith("prod-dubset"), d["metadata"]["name"]
        assert d["metadata"]["namespace"] == "dubbing"
    assert "prod-dubset-alignment" in rendered["dubset/templates/NOTES.txt"]


def test_missing_secret_name_stops_the_install(helm: Any, chart: Any) -> None:
    values = _with("global.existingSecret", "")
    with pytest.raises(helm.HelmValuesError):
        chart.validate_schema(values)
    with pytest.raises(helm.HelmError, match="existingSecret"):
        chart.render(values, name=RELEASE, namespace=NAMESPACE)
