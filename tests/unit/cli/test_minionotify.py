"""`dubset minio-notify` sends MinIO the bucket-notification rule dubset's ingest expects."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dubset_cli import minionotify
from dubset_cli.main import main

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
EXISTING = (
    '<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    "<QueueConfiguration><Id>someone-else</Id><Queue>arn:minio:sqs::other:webhook</Queue>"
    "<Event>s3:ObjectRemoved:*</Event></QueueConfiguration>"
    "</NotificationConfiguration>"
)


class Recorder(BaseHTTPRequestHandler):
    """An S3 endpoint that answers the two notification calls and keeps what it was sent."""

    calls: list[tuple[str, str, bytes]] = []

    def log_message(self, format: str, *args: object) -> None:
        return None

    def _reply(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.calls.append(("GET", self.path, b""))
        self._reply(EXISTING.encode())

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.calls.append(("PUT", self.path, body))
        self._reply(b"")


@pytest.fixture
def endpoint() -> Iterator[str]:
    Recorder.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _run(argv: list[str]) -> int:
    return main(["minio-notify", *argv])


def test_sets_a_kafka_queue_rule_for_episode_manifests_and_keeps_other_rules(
    endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUBSET_S3_ACCESS_KEY", "admin")
    monkeypatch.setenv("DUBSET_S3_SECRET_KEY", "secret-key-1")
    code = _run(["--endpoint", endpoint, "--bucket", "shows", "--prefix", "incoming/"])
    assert code == 0
    puts = [c for c in Recorder.calls if c[0] == "PUT"]
    assert len(puts) == 1 and puts[0][1] == "/shows?notification="
    root = ET.fromstring(puts[0][2])
    queues = root.findall(f"{NS}QueueConfiguration")
    by_id = {q.findtext(f"{NS}Id"): q for q in queues}
    assert set(by_id) == {"someone-else", "dubset-ingest-dubset"}
    ours = by_id["dubset-ingest-dubset"]
    assert ours.findtext(f"{NS}Queue") == "arn:minio:sqs::dubset:kafka"
    assert [e.text for e in ours.findall(f"{NS}Event")] == ["s3:ObjectCreated:*"]
    rules = {
        r.findtext(f"{NS}Name"): r.findtext(f"{NS}Value") for r in ours.iter(f"{NS}FilterRule")
    }
    assert rules == {"prefix": "incoming/", "suffix": ".episode.json"}


def test_running_it_twice_leaves_one_rule(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUBSET_S3_ACCESS_KEY", "admin")
    monkeypatch.setenv("DUBSET_S3_SECRET_KEY", "secret-key-1")
    rule = minionotify.rule_for("dubset", "in/")
    config = minionotify.merged(minionotify.merged(minionotify.NotificationConfig(), rule), rule)
    assert len(config.queue_config_list) == 1


def test_server_env_names_the_ingest_topic(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["--endpoint", "x", "--bucket", "b", "--server-env", "kafka:9092"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "MINIO_NOTIFY_KAFKA_ENABLE_DUBSET=on",
        "MINIO_NOTIFY_KAFKA_BROKERS_DUBSET=kafka:9092",
        "MINIO_NOTIFY_KAFKA_TOPIC_DUBSET=dubset.ingest.v1",
    ]


@pytest.mark.parametrize("endpoint_arg", ["ftp://host:21", "http://host:9000/path"])
def test_a_bad_endpoint_is_one_line_and_exit_2(
    endpoint_arg: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DUBSET_S3_ACCESS_KEY", "admin")
    monkeypatch.setenv("DUBSET_S3_SECRET_KEY", "secret-key-1")
    assert _run(["--endpoint", endpoint_arg, "--bucket", "b"]) == 2
    assert "--endpoint" in capsys.readouterr().err


def test_missing_credentials_are_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("DUBSET_S3_ACCESS_KEY", "DUBSET_S3_SECRET_KEY", "MINIO_ROOT_USER"):
        monkeypatch.delenv(name, raising=False)
    assert _run(["--endpoint", "http://127.0.0.1:1", "--bucket", "b"]) == 2
    assert "DUBSET_S3_ACCESS_KEY" in capsys.readouterr().err
