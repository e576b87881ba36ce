"""`dubset minio-notify`: announce uploaded episode manifests on dubset.ingest.v1 (MinIO)."""

from __future__ import annotations

import argparse
import os
import sys
from urllib.parse import urlparse

from minio import Minio
from minio.error import S3Error
from minio.notificationconfig import (
    NotificationConfig,
    PrefixFilterRule,
    QueueConfig,
    SuffixFilterRule,
)

from dubset_common import topics

SUFFIX = ".episode.json"
EVENTS = ["s3:ObjectCreated:*"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "minio-notify",
        help="configure a MinIO bucket so uploaded *.episode.json manifests reach dubset",
        description="Sets a bucket notification on BUCKET: every object created under PREFIX "
        f"whose name ends in {SUFFIX} is announced on MinIO's Kafka target TARGET, which the "
        "MinIO server must publish to the dubset.ingest.v1 topic (--server-env prints the "
        "server settings). Other notification rules of the bucket are kept. See docs/ingest.md.",
    )
    p.add_argument("--endpoint", required=True, help="MinIO URL, e.g. http://minio:9000")
    p.add_argument("--bucket", required=True)
    p.add_argument("--prefix", default="incoming/", help="key prefix to watch (default incoming/)")
    p.add_argument("--target", default="dubset", help="MinIO Kafka target id (default dubset)")
    p.add_argument("--region", default="us-east-1")
    p.add_argument(
        "--server-env",
        metavar="BROKERS",
        help="only print the MinIO server environment for a Kafka target on BROKERS",
    )
    p.add_argument("--topic-prefix", default="", help="topic namespace, as DUBSET_TOPIC_PREFIX")
    p.set_defaults(func=run)


def queue_arn(target: str, region: str = "") -> str:
    """The ARN MinIO gives a Kafka notification target."""
    return f"arn:minio:sqs:{region}:{target}:kafka"


def server_env(target: str, brokers: str, topic_prefix: str = "") -> list[str]:
    """The MinIO server settings that make target publish to dubset's ingest topic."""
    t = target.upper()
    return [
        f"MINIO_NOTIFY_KAFKA_ENABLE_{t}=on",
        f"MINIO_NOTIFY_KAFKA_BROKERS_{t}={brokers}",
        f"MINIO_NOTIFY_KAFKA_TOPIC_{t}={topic_prefix}{topics.INGEST}",
    ]


def merged(config: NotificationConfig, rule: QueueConfig) -> NotificationConfig:
    """config with rule added, replacing an earlier rule of the same id."""
    queues = [q for q in config.queue_config_list if q.config_id != rule.config_id]
    return NotificationConfig(
        cloud_func_config_list=list(config.cloud_func_config_list),
        queue_config_list=[*queues, rule],
        topic_config_list=list(config.topic_config_list),
    )


def rule_for(target: str, prefix: str) -> QueueConfig:
    return QueueConfig(
        queue=queue_arn(target),
        events=list(EVENTS),
        config_id=f"dubset-ingest-{target}",
        prefix_filter_rule=PrefixFilterRule(prefix) if prefix else None,
        suffix_filter_rule=SuffixFilterRule(SUFFIX),
    )


def client_for(endpoint: str, region: str) -> Minio:
    url = urlparse(endpoint if "://" in endpoint else f"http://{endpoint}")
    if url.scheme not in ("http", "https") or not url.netloc or url.path not in ("", "/"):
        raise ValueError(f"--endpoint must be http(s)://HOST:PORT, not {endpoint!r}")
    access = os.environ.get("DUBSET_S3_ACCESS_KEY") or os.environ.get("MINIO_ROOT_USER", "")
    secret = os.environ.get("DUBSET_S3_SECRET_KEY") or os.environ.get("MINIO_ROOT_PASSWORD", "")
    if not access or not secret:
        raise ValueError("set DUBSET_S3_ACCESS_KEY and DUBSET_S3_SECRET_KEY (an admin of BUCKET)")
    return Minio(url.netloc, access, secret, secure=url.scheme == "https", region=region)


def run(args: argparse.Namespace) -> int:
    if args.server_env:
        print("\n".join(server_env(args.target, args.server_env, args.topic_prefix)))
        return 0
    try:
        client = client_for(args.endpoint, args.region)
        rule = rule_for(args.target, args.prefix)
        config = merged(client.get_bucket_notification(args.bucket), rule)
        client.set_bucket_notification(args.bucket, config)
    except (ValueError, S3Error) as exc:
        print(f"dubset minio-notify: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"dubset minio-notify: cannot reach {args.endpoint}: {exc}", file=sys.stderr)
        return 2
    print(
        f"bucket {args.bucket}: objects created under {args.prefix!r} ending in {SUFFIX} are "
        f"announced to {queue_arn(args.target)}",
        file=sys.stderr,
    )
    return 0
