"""The chart's monitoring objects: ServiceMonitor + PodMonitor, PrometheusRule, Grafana dashboard.

The rules are checked and unit-tested with promtool (tests/unit/fixtures/monitoring), and every
metric the rules and the dashboard query must be one the services export. The helm, kubeval
and chart fixtures come from conftest.py.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from dubset_common.grpcmetrics import MetricsInterceptor
from dubset_common.metrics import LATENCY_BUCKETS, StageMetrics
from dubset_common.worker import StageWorker
from dubset_jobs.metrics import JobsMetrics
from dubset_jobs.orchestrator import JobsOptions, Orchestrator
from tests.unit.test_helm import render

yaml = pytest.importorskip("yaml", reason="PyYAML is not installed (requirements/lock.txt)")

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "dubset"
PROMTOOL_TESTS = Path(__file__).parent / "fixtures" / "monitoring" / "alerts_test.yaml"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
KUBE_VERSION = "1.32.0"
RELEASE, NAMESPACE = "dubset", "dubset"
CRD_GROUP = "monitoring.coreos.com/v1"

STAGES = (
    "media",
    "asr",
    "diarization",
    "separation",
    "alignment",
    "packaging",
    "translation",
    "tts",
    "render",
    "faces",
    "quality",
)
ALERTS = {
    "DubsetConsumerLagHigh",
    "DubsetDeadLettersGrowing",
    "DubsetIngestRejected",
    "DubsetStageErrorsHigh",
    "DubsetStageSlow",
    "DubsetTargetDown",
}
OBJECTS = {  # what each switch adds
    "serviceMonitor": {("ServiceMonitor", "dubset"), ("PodMonitor", "dubset-workers")},
    "prometheusRule": {("PrometheusRule", "dubset")},
    "grafanaDashboard": {("ConfigMap", "dubset-dashboard")},
}
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
# The Prometheus Operator's duration pattern (monitoring.coreos.com/v1 Duration).
DURATION = re.compile(
    r"^(0|([0-9]+y)?([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?)$"
)
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")

Manifest = dict[str, Any]


def monitoring(*, prefix: str = "", **overrides: Any) -> dict[str, Any]:
    """Values with every monitoring object on; overrides go into monitoring.prometheusRule."""
    return {
        "global": {"kafka": {"topicPrefix": prefix}},
        "monitoring": {
            "serviceMonitor": {"enabled": True},
            "prometheusRule": {"enabled": True, **overrides},
            "grafanaDashboard": {"enabled": True},
        },
    }


def find(docs: list[Manifest], kind: str, name: str | None = None) -> Manifest:
    hits = [d for d in docs if d["kind"] == kind and name in (None, d["metadata"]["name"])]
    assert len(hits) == 1, f"{kind}/{name}: {len(hits)} objects"
    return hits[0]


def rule_spec(chart: Any, values: dict[str, Any]) -> Manifest:
    spec: Manifest = find(render(chart, values), "PrometheusRule")["spec"]
    return spec


def rules_of(spec: Manifest) -> list[Manifest]:
    return [rule for group in spec["groups"] for rule in group["rules"]]


def board_of(docs: list[Manifest]) -> Manifest:
    data = find(docs, "ConfigMap", "dubset-dashboard")["data"]
    assert list(data) == ["dubset.json"]
    board: Manifest = json.loads(data["dubset.json"])
    return board


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


# --- metric names --------------------------------------------------------------------------


def exported_metrics() -> set[str]:
    """Every series name the stages and the jobs service expose, from their own registries."""
    registry = CollectorRegistry()
    for stage in STAGES:
        StageMetrics.create(registry, stage)
        MetricsInterceptor(registry, stage)
    MetricsInterceptor(registry, "jobs")
    JobsMetrics.create(registry)
    text = generate_latest(registry).decode()
    names: set[str] = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M):
        names |= (
            {f"{name}_{s}" for s in ("bucket", "count", "sum")} if kind == "histogram" else {name}
        )
    return names


# Strings, label matchers, range selectors and grouping clauses hold no metric names.
_STRINGS = re.compile(r'"[^"]*"|`[^`]*`')
_NOT_NAMES = re.compile(r"\{[^}]*\}|\[[^\]]*\]|\b(?:by|without)\s*\([^)]*\)")
_IDENT = re.compile(r"(?<![\w:.])[a-zA-Z_:][\w:]*(?![\w:]|\s*\()")  # not followed by "(": a name
_KEYWORDS = {"and", "or", "unless", "bool", "offset"}


def metric_names(expr: str) -> set[str]:
    bare = _NOT_NAMES.sub(" ", _STRINGS.sub('""', expr))
    return set(_IDENT.findall(bare)) - _KEYWORDS


def test_metric_names_are_found_in_expressions() -> None:
    expr = 'histogram_quantile(0.95, sum by (le) (rate(a_bucket{x="${y}"}[5m]))) / b > bool 1'
    assert metric_names(expr) == {"a_bucket", "b"}
    assert "dubset_media_dead_letter_total" not in exported_metrics()  # a typo is caught
    assert {"dubset_media_dead_letters_total", "dubset_jobs_retries_total"} <= exported_metrics()


# --- switches and object structure -----------------------------------------------------------


def test_monitoring_is_off_by_default(chart: Any) -> None:
    kinds = {(d["kind"], d["metadata"]["name"]) for d in render(chart)}
    assert kinds.isdisjoint(set().union(*OBJECTS.values()))


@pytest.mark.parametrize("switch", OBJECTS)
def test_each_switch_adds_only_its_objects(chart: Any, switch: str) -> None:
    before = {(d["kind"], d["metadata"]["name"]) for d in render(chart)}
    values = {"monitoring": {switch: {"enabled": True}}}
    after = {(d["kind"], d["metadata"]["name"]) for d in render(chart, values)}
    assert after - before == OBJECTS[switch] and before <= after


def test_chart_lints_strictly_with_monitoring_on(helm: Any) -> None:
    values = monitoring(prefix="prod.")
    report = helm.lint(CHART, values, strict=True, kube_version=f"v{KUBE_VERSION}")
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


def test_built_in_objects_are_valid_kubernetes(chart: Any, kubeval: Any) -> None:
    docs = [d for d in render(chart, monitoring(prefix="prod.")) if d["apiVersion"] != CRD_GROUP]
    assert ("ConfigMap", "dubset-dashboard") in {(d["kind"], d["metadata"]["name"]) for d in docs}
    for doc in docs:
        kubeval.validate(doc, KUBE_VERSION, strict=True)


def _check_endpoint(endpoint: Manifest) -> None:
    assert endpoint["port"] == "metrics" and endpoint["path"] == "/metrics"
    assert DURATION.match(endpoint["interval"]) and DURATION.match(endpoint["scrapeTimeout"])
    assert set(endpoint) <= {"port", "path", "interval", "scrapeTimeout", "relabelings"}
    for relabel in endpoint["relabelings"]:
        assert set(relabel) <= {"sourceLabels", "targetLabel", "regex", "replacement", "action"}
        assert all(LABEL_NAME.match(label) for label in relabel["sourceLabels"])
        assert LABEL_NAME.match(relabel["targetLabel"])


def test_crd_objects_have_the_operator_shape(chart: Any) -> None:
    values = monitoring()
    values["monitoring"]["serviceMonitor"]["labels"] = {"release": "kube-prometheus-stack"}
    values["monitoring"]["prometheusRule"]["labels"] = {"release": "kube-prometheus-stack"}
    docs = [d for d in render(chart, values) if d["apiVersion"] == CRD_GROUP]
    assert sorted(d["kind"] for d in docs) == ["PodMonitor", "PrometheusRule", "ServiceMonitor"]
    for doc in docs:
        assert doc["metadata"]["namespace"] == NAMESPACE
        assert doc["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        assert all(isinstance(v, str) for v in doc["metadata"]["labels"].values())
    service_monitor, pod_monitor = find(docs, "ServiceMonitor"), find(docs, "PodMonitor")
    assert set(service_monitor["spec"]) == {"selector", "namespaceSelector", "endpoints"}
    assert set(pod_monitor["spec"]) == {"selector", "namespaceSelector", "podMetricsEndpoints"}
    for monitor, endpoints in (
        (service_monitor, "endpoints"),
        (pod_monitor, "podMetricsEndpoints"),
    ):
        assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
        assert set(monitor["spec"]["selector"]) == {"matchLabels"}
        [endpoint] = monitor["spec"][endpoints]
        _check_endpoint(endpoint)
    spec = find(docs, "PrometheusRule")["spec"]
    assert set(spec) == {"groups"}
    assert len({g["name"] for g in spec["groups"]}) == len(spec["groups"])
    for rule in rules_of(spec):
        assert set(rule) <= {"alert", "record", "expr", "for", "labels", "annotations"}
        assert ("alert" in rule) != ("record" in rule)
        assert all(isinstance(v, str) for v in rule.get("labels", {}).values())
        assert DURATION.match(rule.get("for", "0"))


# --- scrape selectors ------------------------------------------------------------------------


def test_every_pod_is_scraped_once_on_its_metrics_port(chart: Any) -> None:
    """The ServiceMonitor finds the servers through their Services; the PodMonitor the workers."""
    docs = render(chart, monitoring())
    pods = {d["metadata"]["name"]: d["spec"]["template"] for d in docs if d["kind"] == "Deployment"}
    services = [d for d in docs if d["kind"] == "Service"]
    by_service = find(docs, "ServiceMonitor")["spec"]["selector"]["matchLabels"]
    scraped = [s for s in services if _selects(by_service, s["metadata"]["labels"])]
    assert {s["metadata"]["name"] for s in scraped} == {f"dubset-{s}" for s in (*STAGES, "jobs")}
    via_services = set()
    for service in scraped:
        assert "metrics" in {p["name"] for p in service["spec"]["ports"]}
        selector = service["spec"]["selector"]
        via_services |= {n for n, t in pods.items() if _selects(selector, t["metadata"]["labels"])}
    by_pod = find(docs, "PodMonitor")["spec"]["selector"]["matchLabels"]
    via_pods = {n for n, t in pods.items() if _selects(by_pod, t["metadata"]["labels"])}
    assert via_services == {n for n in pods if n.endswith("-server")}
    assert via_pods == {n for n in pods if n.endswith("-worker")}
    for name in via_pods:
        ports = pods[name]["spec"]["containers"][0]["ports"]
        assert [p["name"] for p in ports] == ["metrics"]


def test_relabelings_read_labels_the_pods_have(chart: Any) -> None:
    docs = render(chart, monitoring())
    [endpoint] = find(docs, "PodMonitor")["spec"]["podMetricsEndpoints"]
    assert endpoint == find(docs, "ServiceMonitor")["spec"]["endpoints"][0]
    worker = find(docs, "Deployment", "dubset-media-worker")["spec"]["template"]["metadata"]
    meta = {"__meta_kubernetes_pod_label_" + re.sub(r"\W", "_", k) for k in worker["labels"]}
    targets = {}
    for relabel in endpoint["relabelings"]:
        [source] = relabel["sourceLabels"]
        assert source in meta
        targets[relabel["targetLabel"]] = source
    assert set(targets) == {"dubset_stage", "dubset_role"}  # not `stage`: dubset_jobs_* use it


# --- PrometheusRule --------------------------------------------------------------------------


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    if not Path(PROMTOOL).exists():
        pytest.skip("promtool is not installed (Debian package prometheus, /usr/bin/promtool)")
    return subprocess.run(
        [PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def run_promtool_tests(spec: Manifest, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    shutil.copy(PROMTOOL_TESTS, tmp_path / "alerts_test.yaml")
    return promtool("test", "rules", "alerts_test.yaml", cwd=tmp_path)


@pytest.mark.parametrize("prefix", ["", "prod."])
def test_rules_pass_promtool_check(chart: Any, tmp_path: Path, prefix: str) -> None:
    spec = rule_spec(chart, monitoring(prefix=prefix))
    assert {r["alert"] for r in rules_of(spec) if "alert" in r} == ALERTS
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    result = promtool("check", "rules", "rules.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_alerts_fire_as_the_promtool_tests_expect(chart: Any, tmp_path: Path) -> None:
    result = run_promtool_tests(rule_spec(chart, monitoring(prefix="prod.")), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


# Rules wrong for the fixture's series: other values, or an edit (old -> new) of every expr.
WRONG_RULES = {
    "errorRatio above 20%": ({"errorRatio": 0.25}, None, "DubsetStageErrorsHigh"),
    "lagMessages above the lag": ({"lagMessages": 300}, None, "DubsetConsumerLagHigh"),
    "lagFor past the eval time": ({"lagFor": "30m"}, None, "DubsetConsumerLagHigh"),
    "p95Seconds below the fast stage": ({"p95Seconds": 500}, None, "DubsetStageSlow"),
    "> on the top bucket never fires": ({}, (">=", ">"), "DubsetStageSlow"),
    "prefix not regex-quoted": ({}, ("prod\\.", "prod."), "DubsetConsumerLagHigh"),
    "no namespace filter": ({}, ('{namespace="dubset"}', ""), "DubsetDeadLettersGrowing"),
}


@pytest.mark.parametrize("overrides, edit, alert", WRONG_RULES.values(), ids=WRONG_RULES.keys())
def test_promtool_tests_catch_wrong_rules(
    chart: Any, tmp_path: Path, overrides: dict[str, Any], edit: Any, alert: str
) -> None:
    spec = rule_spec(chart, monitoring(prefix="prod.", **overrides))
    if edit:
        edited = [r for r in rules_of(spec) if edit[0] in r["expr"]]
        assert edited
        for rule in edited:
            rule["expr"] = rule["expr"].replace(*edit)
    result = run_promtool_tests(spec, tmp_path)
    assert result.returncode != 0, f"promtool tests passed with wrong rules ({alert})"
    assert f"alertname: {alert}," in result.stderr


def test_rules_query_only_exported_metrics(chart: Any) -> None:
    rules = rules_of(rule_spec(chart, monitoring(lagMetric="kafka_consumergroup_lag_sum")))
    recorded = {r["record"] for r in rules if "record" in r}
    known = exported_metrics() | recorded | {"kafka_consumergroup_lag_sum", "up"}
    for rule in rules:
        assert metric_names(rule["expr"]), rule["expr"]
        assert metric_names(rule["expr"]) <= known, rule["expr"]
    # One set of records per stage, each labelled with it.
    for name in recorded:
        stages = [r["labels"]["stage"] for r in rules if r.get("record") == name]
        assert sorted(stages) == sorted(STAGES), name


def test_alerts_say_what_to_do(chart: Any) -> None:
    for rule in rules_of(rule_spec(chart, monitoring())):
        if "alert" in rule:
            assert rule["labels"]["severity"] in {"critical", "warning"}
            assert set(rule["annotations"]) == {"summary", "description"}
            where = "{{ $labels.reason }}" if rule["alert"] == "DubsetIngestRejected" else None
            assert (where or "{{ $labels.stage }}") in rule["annotations"]["summary"]
            assert rule["annotations"]["description"].endswith("See docs/deploy.md#alerts.")


def consumer_group(stage: str, prefix: str) -> str:
    """The group a stage's worker (dubset_common.worker) or the jobs orchestrator consumes as."""
    if stage == "jobs":
        orchestrator = Orchestrator(None, None, JobsOptions(), topic_prefix=prefix)  # type: ignore[arg-type]
        return orchestrator.group
    executor = SimpleNamespace(stage=SimpleNamespace(name=stage), hook=lambda _f, _m: None)
    worker = StageWorker(executor, bus=None, topic_prefix=prefix)  # type: ignore[arg-type]
    worker._pool.shutdown()
    return worker.group


def test_lag_rule_selects_the_groups_the_services_consume_as(chart: Any) -> None:
    values = monitoring(prefix="prod.")
    values["tts"] = {"enabled": False}
    values["media"] = {"worker": {"enabled": False}}
    rules = rules_of(rule_spec(chart, values))
    [lag] = [r for r in rules if r.get("alert") == "DubsetConsumerLagHigh"]
    found = re.search(r"consumergroup=~`([^`]+)`", lag["expr"])
    assert found
    consuming = {"jobs"} | set(STAGES) - {"tts", "media"}
    for stage in (*STAGES, "jobs"):
        matched = re.fullmatch(found[1], consumer_group(stage, "prod."))
        assert bool(matched) == (stage in consuming), stage
    assert not re.fullmatch(found[1], "prodXdubset-asr")
    exprs = " ".join(r["expr"] for r in rules)
    assert "dubset_tts_" not in exprs and "dubset_media_requests_total" in exprs


def test_p95_threshold_above_the_top_bucket_is_refused(chart: Any, helm: Any) -> None:
    assert max(LATENCY_BUCKETS) == 1800  # the chart's files/alerts.yaml assumes it
    rule_spec(chart, monitoring(p95Seconds=1800))
    with pytest.raises(helm.HelmValuesError, match="p95Seconds': maximum"):
        rule_spec(chart, monitoring(p95Seconds=1801))  # the schema refuses it first


# --- Grafana dashboard -----------------------------------------------------------------------


def panels_of(board: Manifest) -> Iterator[Manifest]:
    for panel in board["panels"]:
        yield panel
        yield from panel.get("panels", [])


def test_dashboard_configmap_goes_where_the_sidecar_looks(chart: Any) -> None:
    values = monitoring()
    docs = render(chart, values)
    configmap = find(docs, "ConfigMap", "dubset-dashboard")
    assert configmap["metadata"]["namespace"] == NAMESPACE
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    values["monitoring"]["grafanaDashboard"]["namespace"] = "monitoring"
    moved = find(render(chart, values), "ConfigMap", "dubset-dashboard")
    assert moved["metadata"]["namespace"] == "monitoring"
    assert board_of([moved])["templating"] == board_of(docs)["templating"]  # still our series


def test_dashboard_queries_the_datasource_variable(chart: Any) -> None:
    board = board_of(render(chart, monitoring(prefix="prod.", lagMetric="kafka_lag")))
    assert board["schemaVersion"] == 39 and len(board["uid"]) <= 40
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert {o["value"] for o in variables["stage"]["options"]} == {"$__all", *STAGES}
    constants = {n: v["query"] for n, v in variables.items() if v["type"] == "constant"}
    assert constants == {"namespace": NAMESPACE, "lag_metric": "kafka_lag", "topic_prefix": "prod."}
    ids = [p["id"] for p in panels_of(board)]
    assert len(ids) == len(set(ids))
    for panel in panels_of(board):
        assert panel["datasource"] == DATASOURCE, panel["title"]
        if panel["type"] != "row":
            assert panel["targets"], panel["title"]
            assert all(t["datasource"] == DATASOURCE for t in panel["targets"]), panel["title"]


def test_dashboard_queries_only_exported_metrics(chart: Any) -> None:
    board = board_of(render(chart, monitoring(lagMetric="kafka_lag")))
    exprs = [t["expr"] for p in panels_of(board) for t in p.get("targets", [])]
    exported = exported_metrics()
    used: set[str] = set()
    for expr in exprs:
        for stage in STAGES:
            names = metric_names(
                expr.replace("${stage}", stage).replace("${lag_metric}", "kafka_lag")
            )
            assert names and names <= exported | {"kafka_lag"}, expr
            used |= {n.replace(f"dubset_{stage}_", "dubset_<stage>_") for n in names}
    per_stage = {"requests_total", "processing_seconds_bucket", "handoff_seconds_bucket"}
    per_stage |= {"inflight", "dead_letters_total", "retries_total", "grpc_requests_total"}
    per_stage |= {"input_bytes_total", "output_bytes_total"}
    assert {f"dubset_<stage>_{m}" for m in per_stage} | {"kafka_lag"} <= used
