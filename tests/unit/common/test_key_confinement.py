"""Object keys can never escape their store's prefix or root, whatever string arrives: a
property test over arbitrary keys and URIs (hostile ids, uploads, manifests, Kafka records)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from dubset_common.errors import InvalidInputError
from dubset_common.objstore import LocalStore, S3Store

PIECES = st.sampled_from(["..", ".", "", "/", "\\", "a", "b", "%2e%2e", "\x00", "~", "é", " "])
KEYS = st.one_of(st.text(max_size=40), st.lists(PIECES, max_size=8).map("".join))


@settings(max_examples=400, deadline=None)
@given(key=KEYS)
def test_an_s3_key_always_lands_under_the_prefix(key: str) -> None:
    store = S3Store(client=None, bucket="dubset", prefix="tenant")  # type: ignore[arg-type]
    try:
        full = store._full(key)
    except InvalidInputError:
        return
    assert full.startswith("tenant/")
    assert all(part not in ("", ".", "..") for part in full.split("/")), full
    assert store.key_of(store.uri(key)) == key


@settings(max_examples=400, deadline=None)
@given(path=KEYS, bucket=st.sampled_from(["dubset", "other", ""]))
def test_a_uri_maps_to_a_key_inside_the_prefix_or_is_refused(path: str, bucket: str) -> None:
    store = S3Store(client=None, bucket="dubset", prefix="tenant")  # type: ignore[arg-type]
    try:
        key = store.key_of(f"s3://{bucket}/{path}")
    except InvalidInputError:
        return
    assert bucket == "dubset"
    assert store._full(key) == path.lstrip("/") and path.lstrip("/").startswith("tenant/")


@settings(max_examples=300, deadline=None)
@given(key=KEYS)
def test_a_local_key_always_lands_under_the_root(key: str) -> None:
    root = Path("/tmp/dubset-confinement-root")
    store = LocalStore(root)
    try:
        path = store._path(key)
    except InvalidInputError:
        return
    assert path.resolve().is_relative_to(root.resolve()), path
