"""The adapter's client: paging that survives an expired token, reads of
missing objects, and every failure leaving as a citycloud error type."""

from __future__ import annotations

import socket

import pytest
from kubernetes.client.exceptions import ApiException

from citycloud.adapters.kubernetes import ApplyConflict, KubeClient, connect
from citycloud.adapters.kubernetes.errors import map_error
from citycloud.errors import PermanentError, TransientError
from tests.fakes.kubernetes.server import FakeKubeApiServer

pytestmark = pytest.mark.integration


def _ns(name: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "labels": {"app.kubernetes.io/managed-by": "citycloud"},
        },
    }


@pytest.fixture
def kube(fake: FakeKubeApiServer) -> KubeClient:
    return KubeClient(connect(host=fake.url), page_size=2)


def test_listing_restarts_once_when_the_continue_token_expires(
    kube: KubeClient, fake: FakeKubeApiServer
) -> None:
    for i in range(5):
        kube.apply(_ns(f"n{i}"))
    pages = kube.list("namespace")
    seen = [next(pages)["metadata"]["name"], next(pages)["metadata"]["name"]]
    fake.store.expire_continue_tokens()

    seen += [o["metadata"]["name"] for o in pages]

    assert set(seen) == {f"n{i}" for i in range(5)}
    statuses = [
        r.query.get("continue") is None for r in fake.requests if r.method == "GET"
    ]
    assert statuses.count(True) == 2, "one fresh list after the expired token"


def test_reading_a_missing_object_gives_none(kube: KubeClient) -> None:
    assert kube.read("namespace", "missing") is None
    assert kube.read("resourcequota", "quota", "missing") is None


def test_deleting_a_missing_object_is_not_an_error(kube: KubeClient) -> None:
    assert kube.delete("namespace", "missing") is False


def test_an_invalid_object_is_a_permanent_error(kube: KubeClient) -> None:
    with pytest.raises(PermanentError) as caught:
        kube.apply(_ns("Bad_Name"))
    assert "HTTP 422" in str(caught.value)
    assert not isinstance(caught.value, TransientError)


def test_an_unreachable_server_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    api = connect(host=f"http://127.0.0.1:{port}")
    api.configuration.retries = 0
    with pytest.raises(TransientError):
        list(KubeClient(api).list("namespace"))


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (429, TransientError),
        (503, TransientError),
        (500, TransientError),
        (410, TransientError),
        (403, PermanentError),
        (400, PermanentError),
        (404, PermanentError),
    ],
    ids=[
        "throttled",
        "unavailable",
        "server-error",
        "expired",
        "forbidden",
        "bad-request",
        "not-found",
    ],
)
def test_status_codes_map_to_retry_or_not(status: int, expected: type) -> None:
    error = ApiException(status=status, reason="x")
    mapped = map_error(error, "list Namespace")
    assert type(mapped) is expected
    assert mapped.system == "kubernetes"


def test_an_apply_conflict_names_the_fields() -> None:
    error = ApiException(status=409, reason="Conflict")
    error.body = (
        '{"kind":"Status","reason":"Conflict","code":409,"message":"Apply failed",'
        '"details":{"causes":[{"reason":"FieldManagerConflict","field":".spec.hard.cpu"}]}}'
    )
    mapped = map_error(error, "apply ResourceQuota a/quota")
    assert isinstance(mapped, ApplyConflict)
    assert mapped.fields == (".spec.hard.cpu",)
