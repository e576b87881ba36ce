"""Settings come from DUBSET_* variables; bad or missing values stop with a clear message."""

from __future__ import annotations

import pytest

from dubset_common.config import Settings, load_settings
from dubset_common.errors import ConfigError

KAFKA_S3 = {"DUBSET_KAFKA_BOOTSTRAP": "broker:9092"}


def test_defaults_with_only_required_values() -> None:
    s = load_settings("asr", KAFKA_S3)
    assert s.service == "asr"
    assert s.bus == "kafka" and s.kafka_bootstrap == "broker:9092"
    assert s.store == "s3" and s.s3_bucket == "dubset"
    assert s.max_attempts == 3


def test_values_are_parsed_to_their_types() -> None:
    s = load_settings(
        "alignment",
        {
            "DUBSET_BUS": "inproc",
            "DUBSET_STORE": "local",
            "DUBSET_LOCAL_STORE_DIR": "/data/store",
            "DUBSET_KAFKA_PARTITIONS": "12",
            "DUBSET_GRPC_GRACE_S": "2.5",
            "DUBSET_METRICS_PORT": " 9100 ",
            "DUBSET_MAX_ATTEMPTS": "5",
            "DUBSET_LOG_LEVEL": "debug",
        },
    )
    assert (s.bus, s.store, s.local_store_dir) == ("inproc", "local", "/data/store")
    assert s.kafka_partitions == 12 and isinstance(s.kafka_partitions, int)
    assert s.grpc_grace_s == 2.5 and isinstance(s.grpc_grace_s, float)
    assert s.metrics_port == 9100
    assert s.max_attempts == 5
    assert s.log_level == "debug"


def test_empty_value_means_default() -> None:
    s = load_settings("asr", {**KAFKA_S3, "DUBSET_MAX_ATTEMPTS": ""})
    assert s.max_attempts == Settings().max_attempts


def test_service_name_cannot_be_overridden_from_env() -> None:
    assert load_settings("asr", {**KAFKA_S3, "DUBSET_SERVICE": "evil"}).service == "asr"


def test_reads_os_environ_when_no_env_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUBSET_BUS", "inproc")
    monkeypatch.setenv("DUBSET_STORE", "local")
    monkeypatch.setenv("DUBSET_MAX_ATTEMPTS", "7")
    assert load_settings("asr").max_attempts == 7


def test_kafka_bus_without_bootstrap_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match=r"DUBSET_KAFKA_BOOTSTRAP is required.*DUBSET_BUS=kafka"):
        load_settings("asr", {})


def test_inproc_bus_needs_no_bootstrap() -> None:
    assert load_settings("asr", {"DUBSET_BUS": "inproc"}).kafka_bootstrap == ""


@pytest.mark.parametrize(
    ("name", "raw", "kind"),
    [
        ("DUBSET_KAFKA_PARTITIONS", "six", "int"),
        ("DUBSET_METRICS_PORT", "9100.5", "int"),
        ("DUBSET_GRPC_GRACE_S", "soon", "float"),
    ],
)
def test_malformed_number_names_the_variable(name: str, raw: str, kind: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings("asr", {**KAFKA_S3, name: raw})
    message = str(info.value)
    assert name in message and repr(raw) in message and kind in message


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"DUBSET_BUS": "rabbit"}, "DUBSET_BUS must be kafka or inproc"),
        ({**KAFKA_S3, "DUBSET_STORE": "ftp"}, "DUBSET_STORE must be s3 or local"),
        ({**KAFKA_S3, "DUBSET_MAX_ATTEMPTS": "0"}, "DUBSET_MAX_ATTEMPTS must be at least 1"),
    ],
)
def test_invalid_choices_are_rejected(env: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        load_settings("asr", env)


def test_config_error_is_not_retryable() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings("asr", {})
    assert info.value.code == "CONFIG" and not info.value.retryable


def test_redacted_masks_secrets_and_keeps_the_rest() -> None:
    s = load_settings(
        "asr",
        {
            **KAFKA_S3,
            "DUBSET_S3_SECRET_KEY": "s3cr3t-value",
            "DUBSET_S3_ACCESS_KEY": "AKIAEXAMPLE",
        },
    )
    red = s.redacted()
    assert red["s3_secret_key"] == "***"
    assert red["s3_access_key"] == "AKIAEXAMPLE"
    assert red["kafka_bootstrap"] == "broker:9092"
    assert "s3cr3t-value" not in str(red)
    # Every setting is present, so the startup log line shows the full picture.
    assert set(red) == set(Settings.__dataclass_fields__)


def test_redacted_leaves_unset_secrets_empty() -> None:
    red = load_settings("asr", KAFKA_S3).redacted()
    assert red["s3_secret_key"] == ""


def test_repr_does_not_leak_secrets() -> None:
    s = load_settings("asr", {**KAFKA_S3, "DUBSET_S3_SECRET_KEY": "s3cr3t-value"})
    assert "s3cr3t-value" not in repr(s)


def test_settings_are_frozen() -> None:
    s = load_settings("asr", KAFKA_S3)
    with pytest.raises(AttributeError):
        s.bus = "inproc"  # type: ignore[misc]


def test_bad_log_level_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="DUBSET_LOG_LEVEL"):
        load_settings("asr", {**KAFKA_S3, "DUBSET_LOG_LEVEL": "LOUD"})


def test_jobs_settings_parse_and_validate() -> None:
    env = {"DUBSET_BUS": "inproc", "DUBSET_STORE": "local"}
    s = load_settings(
        "jobs", {**env, "DUBSET_JOBS_STAGE_TIMEOUT_S": "90", "DUBSET_JOBS_MAX_TRIES": "5"}
    )
    assert (s.jobs_stage_timeout_s, s.jobs_max_tries) == (90.0, 5)
    assert s.jobs_max_media_bytes == 20 * 1024**3 and s.jobs_retry_backoff_s == 5.0
    for name, raw in (("STAGE_TIMEOUT_S", "0"), ("MAX_TRIES", "0"), ("RETRY_BACKOFF_S", "-1")):
        with pytest.raises(ConfigError, match=f"DUBSET_JOBS_{name}"):
            load_settings("jobs", {**env, f"DUBSET_JOBS_{name}": raw})


def test_jobs_retention_and_watch_cap_settings() -> None:
    env = {"DUBSET_BUS": "inproc", "DUBSET_STORE": "local"}
    s = load_settings("jobs", env)
    assert (s.jobs_retention_s, s.jobs_max_watches) == (7 * 24 * 3600.0, 64)
    s = load_settings(
        "jobs", {**env, "DUBSET_JOBS_RETENTION_S": "3600", "DUBSET_JOBS_MAX_WATCHES": "8"}
    )
    assert (s.jobs_retention_s, s.jobs_max_watches) == (3600.0, 8)
    for name, raw in (("RETENTION_S", "0"), ("MAX_WATCHES", "0")):
        with pytest.raises(ConfigError, match=f"DUBSET_JOBS_{name}"):
            load_settings("jobs", {**env, f"DUBSET_JOBS_{name}": raw})


@pytest.mark.parametrize("value", ["cpu", "cuda", "cuda:0", "cuda:12"])
def test_model_device_accepts_cpu_and_cuda(value: str) -> None:
    from dubset_common.config import model_device

    assert model_device({"DUBSET_DEVICE": value}) == value
    assert load_settings("asr", {"DUBSET_BUS": "inproc", "DUBSET_DEVICE": value}).device == value


@pytest.mark.parametrize("value", ["gpu", "cuda:", "cuda:x", "mps", "cpu; rm -rf /"])
def test_model_device_refuses_anything_else(value: str) -> None:
    from dubset_common.config import model_device

    with pytest.raises(ConfigError, match="DUBSET_DEVICE must be cpu, cuda or cuda:N"):
        model_device({"DUBSET_DEVICE": value})
    with pytest.raises(ConfigError, match="DUBSET_DEVICE"):
        load_settings("asr", {"DUBSET_BUS": "inproc", "DUBSET_DEVICE": value})


def test_model_device_defaults_to_cpu() -> None:
    from dubset_common.config import model_device

    assert model_device({}) == "cpu"
    assert model_device({"DUBSET_DEVICE": " "}) == "cpu"
