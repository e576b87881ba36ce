"""S3Store's URI logic and error mapping, against a stubbed client that never opens a socket."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.response import StreamingBody
from botocore.stub import Stubber

from dubset_common.errors import InvalidInputError, NotFoundError, TransientError
from dubset_common.objstore import S3Store


@pytest.fixture
def client() -> Any:
    return boto3.client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="y",
        endpoint_url="http://127.0.0.1:9",
    )


@pytest.fixture
def stub(client: Any) -> Iterator[Stubber]:
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def test_uri_and_key_of_without_prefix(client: Any) -> None:
    store = S3Store(client, "dubset")
    assert store.uri("stages/asr/k/_manifest.json") == "s3://dubset/stages/asr/k/_manifest.json"
    assert store.key_of("s3://dubset/stages/asr/k/a=b+c.json") == "stages/asr/k/a=b+c.json"


def test_uri_and_key_of_with_prefix(client: Any) -> None:
    store = S3Store(client, "dubset", prefix="/tenant-a/run1/")
    assert store.prefix == "tenant-a/run1"
    uri = store.uri("stages/x")
    assert uri == "s3://dubset/tenant-a/run1/stages/x"
    assert store.key_of(uri) == "stages/x"


@pytest.mark.parametrize(
    "uri",
    [
        "s3://other-bucket/tenant/x",
        "s3://dubset.evil/tenant/x",
        "file:///tenant/x",
        "https://dubset.s3.amazonaws.com/tenant/x",
        "s3://dubset/x",  # outside the prefix
        "s3://dubset/tenantx/y",  # shares the prefix's first letters only
        "s3://dubset/tenant",  # the prefix itself is not an object of this store
        "s3://dubset/tenant/../x",
        "s3://dubset/tenant//x",
        "s3://dubset/tenant/a\\b",
        "s3:///tenant/x",
    ],
)
def test_key_of_rejects_other_buckets_prefixes_and_tricks(client: Any, uri: str) -> None:
    with pytest.raises(InvalidInputError):
        S3Store(client, "dubset", prefix="tenant").key_of(uri)


def test_bad_prefix_is_rejected(client: Any) -> None:
    with pytest.raises(InvalidInputError):
        S3Store(client, "dubset", prefix="../other")


def test_hostile_keys_are_rejected_before_any_request(client: Any, stub: Stubber) -> None:
    store = S3Store(client, "dubset", prefix="t")
    for key in ["../x", "/abs", "a//b"]:
        with pytest.raises(InvalidInputError):
            store.put_bytes(key, b"1")
        with pytest.raises(InvalidInputError):
            store.get_bytes(key)
        with pytest.raises(InvalidInputError):
            store.uri(key)


def test_put_bytes_sends_key_under_prefix_with_sha256(client: Any, stub: Stubber) -> None:
    data = b"segments"
    digest = hashlib.sha256(data).hexdigest()
    stub.add_response(
        "put_object",
        {},
        {
            "Bucket": "dubset",
            "Key": "t/a/b.json",
            "Body": data,
            "ContentType": "application/json",
            "Metadata": {"sha256": digest},
        },
    )
    info = S3Store(client, "dubset", prefix="t").put_bytes("a/b.json", data, "application/json")
    assert (info.key, info.uri, info.sha256, info.size_bytes) == (
        "a/b.json",
        "s3://dubset/t/a/b.json",
        digest,
        len(data),
    )


def _body(data: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(data), len(data))


def test_get_bytes_and_max_bytes(client: Any, stub: Stubber) -> None:
    params = {"Bucket": "dubset", "Key": "a"}
    stub.add_response("get_object", {"Body": _body(b"hello"), "ContentLength": 5}, params)
    stub.add_response("get_object", {"Body": _body(b"hello"), "ContentLength": 5}, params)
    store = S3Store(client, "dubset")
    assert store.get_bytes("a", max_bytes=5) == b"hello"
    with pytest.raises(InvalidInputError, match="over the limit of 4"):
        store.get_bytes("a", max_bytes=4)


def test_missing_object_is_not_found(client: Any, stub: Stubber) -> None:
    stub.add_client_error("get_object", "NoSuchKey", http_status_code=404)
    stub.add_client_error("head_object", "404", http_status_code=404)
    stub.add_client_error("head_object", "404", http_status_code=404)
    store = S3Store(client, "dubset")
    with pytest.raises(NotFoundError, match="nope"):
        store.get_bytes("nope")
    with pytest.raises(NotFoundError):
        store.size("nope")
    assert store.exists("nope") is False


@pytest.mark.parametrize(
    ("code", "status"), [("SlowDown", 503), ("InternalError", 500), ("RequestTimeout", 400)]
)
def test_server_trouble_is_transient(client: Any, stub: Stubber, code: str, status: int) -> None:
    stub.add_client_error("get_object", code, http_status_code=status)
    with pytest.raises(TransientError) as info:
        S3Store(client, "dubset").get_bytes("a")
    assert info.value.retryable


def test_access_denied_is_not_hidden_as_transient(client: Any, stub: Stubber) -> None:
    stub.add_client_error("get_object", "AccessDenied", http_status_code=403)
    with pytest.raises(ClientError):
        S3Store(client, "dubset").get_bytes("a")


def test_unreachable_endpoint_is_transient() -> None:
    class Down:
        def head_object(self, **_: object) -> None:
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")

    with pytest.raises(TransientError, match="unreachable"):
        S3Store(Down(), "dubset").size("a")  # type: ignore[arg-type]


def test_list_strips_prefix_and_sorts(client: Any, stub: Stubber) -> None:
    stub.add_response(
        "list_objects_v2",
        {"Contents": [{"Key": "t/p/b"}, {"Key": "t/p/a/c"}], "IsTruncated": False},
        {"Bucket": "dubset", "Prefix": "t/p/"},
    )
    assert S3Store(client, "dubset", prefix="t").list("p") == ["p/a/c", "p/b"]
