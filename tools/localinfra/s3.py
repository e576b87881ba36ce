"""The S3 server (SeaweedFS `weed mini`): credentials, a client, a health check and its start."""

from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from localinfra.base import HOST, REGION, Env
from localinfra.files import write_private
from localinfra.processes import find_executable, free_ports, spawn

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

BUCKET = "dubset"
# weed's port flags; each gets a free port.
PORT_FLAGS = (
    "s3.port",
    "s3.port.grpc",
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "admin.port",
    "admin.port.grpc",
)


def weed_bin() -> str:
    return find_executable("DUBSET_WEED_BIN", [Path(sys.executable).parent / "weed"], "weed")


def s3_credentials(run_dir: Path) -> tuple[str, str]:
    """The access/secret key from s3.json, generated on first use and reused afterwards."""
    path = run_dir / "s3.json"
    if not path.exists():
        access, secret = "DUBSET" + secrets.token_hex(7).upper(), secrets.token_urlsafe(30)
        identity = {
            "name": "dubset",
            "credentials": [{"accessKey": access, "secretKey": secret}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        write_private(path, json.dumps({"identities": [identity]}, indent=2) + "\n")
    credentials = json.loads(path.read_text())["identities"][0]["credentials"][0]
    return str(credentials["accessKey"]), str(credentials["secretKey"])


def s3_client(env: Env) -> S3Client:
    config = Config(
        connect_timeout=2,
        read_timeout=5,
        retries={"max_attempts": 1},
        s3={"addressing_style": "path"},
    )
    return boto3.client(
        "s3",
        endpoint_url=env["DUBSET_S3_ENDPOINT"],
        region_name=env["DUBSET_S3_REGION"],
        aws_access_key_id=env["DUBSET_S3_ACCESS_KEY"],
        aws_secret_access_key=env["DUBSET_S3_SECRET_KEY"],
        config=config,
    )


def ensure_bucket(client: S3Client, bucket: str) -> None:
    try:
        client.create_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in (
            "BucketAlreadyOwnedByYou",
            "BucketAlreadyExists",
        ):
            raise


def s3_healthy(env: Env) -> bool:
    """A real PUT, GET and DELETE in the dubset bucket (created if missing)."""
    client, key, body = (
        s3_client(env),
        f"_dubset_ready/{secrets.token_hex(8)}",
        secrets.token_bytes(16),
    )
    try:
        ensure_bucket(client, env["DUBSET_S3_BUCKET"])
        client.put_object(Bucket=env["DUBSET_S3_BUCKET"], Key=key, Body=body)
        same = client.get_object(Bucket=env["DUBSET_S3_BUCKET"], Key=key)["Body"].read() == body
        client.delete_object(Bucket=env["DUBSET_S3_BUCKET"], Key=key)
    except (BotoCoreError, ClientError):
        return False
    return same


def weed_argv(run_dir: Path, ports: dict[str, int]) -> list[str]:
    """`weed mini` on HOST with its data under seaweed/ and the identities of s3.json."""
    data = run_dir / "seaweed"
    data.mkdir(exist_ok=True)
    return [
        weed_bin(),
        "mini",
        f"-dir={data}",
        "-master.telemetry=false",
        f"-ip={HOST}",
        f"-ip.bind={HOST}",
        f"-s3.config={run_dir / 's3.json'}",
        "-webdav=false",
        "-admin.ui=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        *(f"-{flag}={port}" for flag, port in ports.items()),
    ]


def start_s3(run_dir: Path, env: Env) -> Env:
    access, secret = s3_credentials(run_dir)
    ports = dict(zip(PORT_FLAGS, free_ports(len(PORT_FLAGS)), strict=True))
    spawn(run_dir, "s3", weed_argv(run_dir, ports))
    return {
        "DUBSET_S3_ENDPOINT": f"http://{HOST}:{ports['s3.port']}",
        "DUBSET_S3_ACCESS_KEY": access,
        "DUBSET_S3_SECRET_KEY": secret,
        "DUBSET_S3_REGION": REGION,
        "DUBSET_S3_BUCKET": BUCKET,
    }
