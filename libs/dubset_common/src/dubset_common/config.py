"""Settings from environment variables, parsed once at start."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from dubset_common.errors import ConfigError

_SECRET_FIELDS = frozenset({"s3_secret_key", "kafka_sasl_password"})


@dataclass(frozen=True)
class Settings:
    """Everything a service reads from its environment."""

    service: str = "dubset"
    log_level: str = "INFO"
    bus: str = "kafka"  # kafka | inproc
    kafka_bootstrap: str = ""
    kafka_client_id: str = "dubset"
    kafka_session_timeout_ms: int = 10_000
    kafka_heartbeat_interval_ms: int = 3_000
    kafka_max_poll_interval_ms: int = 300_000
    kafka_fetch_max_wait_ms: int = 500
    kafka_partitions: int = 6  # of topics this service creates when they are missing
    kafka_replication_factor: int = 1  # likewise (a production cluster wants 3)
    # TLS and SASL to the brokers (MSK, Confluent Cloud, Strimzi): PLAINTEXT | SSL |
    # SASL_PLAINTEXT | SASL_SSL; SASL: PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512.
    kafka_security_protocol: str = "PLAINTEXT"
    kafka_sasl_mechanism: str = ""
    kafka_sasl_username: str = ""
    kafka_sasl_password: str = field(default="", repr=False)
    kafka_ssl_cafile: str = ""
    kafka_ssl_certfile: str = ""
    kafka_ssl_keyfile: str = ""
    topic_prefix: str = ""  # namespaces every topic (tenants, tests)
    store: str = "s3"  # s3 | local
    s3_endpoint: str = ""
    s3_region: str = "us-east-1"
    s3_bucket: str = "dubset"
    s3_prefix: str = ""  # every key lives under this prefix
    s3_access_key: str = ""
    s3_secret_key: str = field(default="", repr=False)
    local_store_dir: str = ".dubset-store"
    grpc_addr: str = "127.0.0.1:50051"
    grpc_grace_s: float = 30.0
    metrics_port: int = 0  # 0: no metrics endpoint
    metrics_addr: str = "0.0.0.0"
    # A consumer loop (workers, the jobs ingest) answers /healthz and /readyz on the metrics port.
    # Stalled: no poll and no progress of the work in hand for this long; liveness then fails,
    # as it does after this long without a broker session. DUBSET_HEALTH_STALL_S.
    health_stall_s: float = 1800.0
    # Liveness holds while the stage starts (models load) for up to this long.
    health_startup_s: float = 600.0
    # Where the model stages (asr, diarization's pyannote, tts's YourTTS) run: cpu | cuda | cuda:N.
    device: str = "cpu"
    max_attempts: int = 3  # tries of a request whose stage fails
    retry_backoff_s: float = 1.0
    transient_retry_s: float = 600.0  # a store/broker/API outage is waited out this long
    max_crashes: int = 3  # deliveries a worker may die on before the request fails; 0: off
    debug_pause_before_manifest_s: float = 0.0
    # The media stage: a video longer than this is refused (a film or a compilation, not an
    # episode; processing it would hold a worker for hours). DUBSET_MEDIA_MAX_DURATION_S.
    media_max_duration_s: float = 9000.0
    # The jobs service (orchestrator): DUBSET_JOBS_*.
    jobs_stage_timeout_s: float = 3600.0  # no result for this long: the request is re-sent
    jobs_max_tries: int = 3  # requests per task and job attempt before the job fails
    jobs_retry_backoff_s: float = 5.0  # before the 2nd try; doubles per try
    jobs_max_media_bytes: int = 20 * 1024**3  # a submitted video over this is refused
    jobs_retention_s: float = 7 * 24 * 3600.0  # a finished job is forgotten after this
    jobs_max_watches: int = 64  # concurrent WatchJob streams; more get RESOURCE_EXHAUSTED

    def redacted(self) -> dict[str, object]:
        """The settings as a dict with secrets masked, safe to log."""
        out: dict[str, object] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = "***" if name in _SECRET_FIELDS and value else value
        return out


_DEVICE = re.compile(r"cpu|cuda(:\d{1,2})?")


def check_device(value: str) -> str:
    """value if it names a torch/CTranslate2 device dubset supports, else ConfigError."""
    if not _DEVICE.fullmatch(value):
        raise ConfigError(f"DUBSET_DEVICE must be cpu, cuda or cuda:N, not {value[:40]!r}")
    return value


def model_device(env: Mapping[str, str] | None = None) -> str:
    """The device the model stages load their models on (DUBSET_DEVICE, default cpu)."""
    source = os.environ if env is None else env
    return check_device(source.get("DUBSET_DEVICE", "").strip() or "cpu")


def _get(env: Mapping[str, str], name: str, default: str) -> str:
    return env.get(f"DUBSET_{name.upper()}", default)


def load_settings(service: str, env: Mapping[str, str] | None = None) -> Settings:
    """Parse DUBSET_* variables into Settings; a malformed value stops with a clear message."""
    source = os.environ if env is None else env
    base = Settings(service=service)
    values: dict[str, object] = {"service": service}
    for name in base.__dataclass_fields__:
        if name == "service":
            continue
        default = getattr(base, name)
        raw = _get(source, name, "")
        if raw == "":
            values[name] = default
            continue
        values[name] = _coerce(name, raw, type(default))
    settings = Settings(**values)  # type: ignore[arg-type]
    _validate(settings)
    return settings


def _coerce(name: str, raw: str, kind: type) -> object:
    try:
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
    except ValueError:
        raise ConfigError(f"DUBSET_{name.upper()}={raw!r} is not a {kind.__name__}") from None
    return raw


def _validate(s: Settings) -> None:
    if s.bus not in ("kafka", "inproc"):
        raise ConfigError(f"DUBSET_BUS must be kafka or inproc, not {s.bus!r}")
    if s.store not in ("s3", "local"):
        raise ConfigError(f"DUBSET_STORE must be s3 or local, not {s.store!r}")
    if s.bus == "kafka" and not s.kafka_bootstrap:
        raise ConfigError("DUBSET_KAFKA_BOOTSTRAP is required when DUBSET_BUS=kafka")
    if s.store == "s3" and not s.s3_bucket:
        raise ConfigError("DUBSET_S3_BUCKET is required when DUBSET_STORE=s3")
    if s.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(
            f"DUBSET_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {s.log_level!r}"
        )
    check_device(s.device)
    _check_kafka_security(s)
    if s.kafka_partitions < 1 or s.kafka_replication_factor < 1:
        raise ConfigError(
            "DUBSET_KAFKA_PARTITIONS and DUBSET_KAFKA_REPLICATION_FACTOR must be at least 1"
        )
    if s.max_attempts < 1:
        raise ConfigError("DUBSET_MAX_ATTEMPTS must be at least 1")
    if s.transient_retry_s < 0 or s.max_crashes < 0:
        raise ConfigError("DUBSET_TRANSIENT_RETRY_S and DUBSET_MAX_CRASHES must not be negative")
    if not (s.health_stall_s >= 1 and s.health_startup_s >= 1):  # NaN too
        raise ConfigError("DUBSET_HEALTH_STALL_S and DUBSET_HEALTH_STARTUP_S must be at least 1")
    if not 1 <= s.media_max_duration_s <= 4 * 3600:
        raise ConfigError("DUBSET_MEDIA_MAX_DURATION_S must be between 1 and 14400 (4 h)")
    _check_jobs(s)


def _check_kafka_security(s: Settings) -> None:
    protocols = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
    if s.kafka_security_protocol not in protocols:
        raise ConfigError(
            f"DUBSET_KAFKA_SECURITY_PROTOCOL must be one of {', '.join(protocols)}, "
            f"not {s.kafka_security_protocol[:40]!r}"
        )
    if s.kafka_security_protocol.startswith("SASL_"):
        mechanisms = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
        if s.kafka_sasl_mechanism not in mechanisms:
            raise ConfigError(
                f"DUBSET_KAFKA_SASL_MECHANISM must be one of {', '.join(mechanisms)} with "
                f"{s.kafka_security_protocol}"
            )
        if not s.kafka_sasl_username or not s.kafka_sasl_password:
            raise ConfigError(
                "DUBSET_KAFKA_SASL_USERNAME and DUBSET_KAFKA_SASL_PASSWORD are required with "
                f"{s.kafka_security_protocol}"
            )
    if bool(s.kafka_ssl_certfile) != bool(s.kafka_ssl_keyfile):
        raise ConfigError("DUBSET_KAFKA_SSL_CERTFILE and DUBSET_KAFKA_SSL_KEYFILE go together")


def _check_jobs(s: Settings) -> None:
    if s.jobs_stage_timeout_s <= 0:
        raise ConfigError("DUBSET_JOBS_STAGE_TIMEOUT_S must be positive")
    if s.jobs_max_tries < 1:
        raise ConfigError("DUBSET_JOBS_MAX_TRIES must be at least 1")
    if s.jobs_retry_backoff_s < 0:
        raise ConfigError("DUBSET_JOBS_RETRY_BACKOFF_S must not be negative")
    if s.jobs_max_media_bytes < 1:
        raise ConfigError("DUBSET_JOBS_MAX_MEDIA_BYTES must be positive")
    if s.jobs_retention_s <= 0:
        raise ConfigError("DUBSET_JOBS_RETENTION_S must be positive")
    if s.jobs_max_watches < 1:
        raise ConfigError("DUBSET_JOBS_MAX_WATCHES must be at least 1")
