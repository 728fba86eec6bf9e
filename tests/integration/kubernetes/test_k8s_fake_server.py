"""The fake answers the official client the way kube-apiserver does: the
tests here pin that behaviour, so the adapter's tests can rely on it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from citycloud.adapters.kubernetes import connect
from tests.fakes.kubernetes.server import FakeKubeApiServer

pytestmark = pytest.mark.integration

APPLY = "application/apply-patch+yaml"


def _ns(name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": labels},
    }


@pytest.fixture
def core(fake: FakeKubeApiServer) -> k8s.CoreV1Api:
    return k8s.CoreV1Api(connect(host=fake.url))


def _status(error: ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(error.body)
    return body


def test_reading_a_missing_object_is_a_404_status(core: k8s.CoreV1Api) -> None:
    with pytest.raises(ApiException) as caught:
        core.read_namespace("missing")
    assert caught.value.status == 404
    status = _status(caught.value)
    assert (status["kind"], status["reason"]) == ("Status", "NotFound")


def test_creating_twice_is_409_already_exists(core: k8s.CoreV1Api) -> None:
    core.create_namespace(_ns("dup"))
    with pytest.raises(ApiException) as caught:
        core.create_namespace(_ns("dup"))
    assert caught.value.status == 409
    assert _status(caught.value)["reason"] == "AlreadyExists"


def test_namespaced_object_needs_its_namespace(core: k8s.CoreV1Api) -> None:
    quota = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "q", "namespace": "nowhere"},
        "spec": {"hard": {}},
    }
    with pytest.raises(ApiException) as caught:
        core.patch_namespaced_resource_quota(
            "q", "nowhere", quota, field_manager="citycloud", _content_type=APPLY
        )
    assert caught.value.status == 404


def test_apply_records_ownership_and_bumps_resource_version_only_on_change(
    core: k8s.CoreV1Api, fake: FakeKubeApiServer
) -> None:
    first = core.patch_namespace(
        "a", _ns("a", team="x"), field_manager="citycloud", _content_type=APPLY
    )
    same = core.patch_namespace(
        "a", _ns("a", team="x"), field_manager="citycloud", _content_type=APPLY
    )
    changed = core.patch_namespace(
        "a", _ns("a", team="y"), field_manager="citycloud", _content_type=APPLY
    )

    assert first.metadata.resource_version == same.metadata.resource_version
    assert int(changed.metadata.resource_version) > int(first.metadata.resource_version)
    (entry,) = changed.metadata.managed_fields
    assert (entry.manager, entry.operation) == ("citycloud", "Apply")
    assert entry.fields_v1 == {"f:metadata": {"f:labels": {"f:team": {}}}}
    # The API server's own label is not anyone's field.
    assert changed.metadata.labels["kubernetes.io/metadata.name"] == "a"


def test_apply_drops_fields_the_manager_no_longer_sends(core: k8s.CoreV1Api) -> None:
    core.patch_namespace(
        "a", _ns("a", one="1", two="2"), field_manager="citycloud", _content_type=APPLY
    )
    after = core.patch_namespace(
        "a", _ns("a", one="1"), field_manager="citycloud", _content_type=APPLY
    )
    assert "two" not in after.metadata.labels


def test_conflict_with_another_manager_unless_forced(core: k8s.CoreV1Api) -> None:
    core.patch_namespace(
        "a", _ns("a", team="x"), field_manager="citycloud", _content_type=APPLY
    )
    core.patch_namespace(
        "a", {"metadata": {"labels": {"team": "z"}}}, field_manager="kubectl-edit"
    )

    with pytest.raises(ApiException) as caught:
        core.patch_namespace(
            "a", _ns("a", team="x"), field_manager="citycloud", _content_type=APPLY
        )
    assert caught.value.status == 409
    causes = _status(caught.value)["details"]["causes"]
    assert causes == [
        {
            "reason": "FieldManagerConflict",
            "message": 'conflict with "kubectl-edit"',
            "field": ".metadata.labels.team",
        }
    ]

    forced = core.patch_namespace(
        "a",
        _ns("a", team="x"),
        field_manager="citycloud",
        force=True,
        _content_type=APPLY,
    )
    assert forced.metadata.labels["team"] == "x"
    assert [e.manager for e in forced.metadata.managed_fields] == ["citycloud"]


def test_same_value_from_two_appliers_is_shared_not_a_conflict(
    core: k8s.CoreV1Api,
) -> None:
    core.patch_namespace(
        "a", _ns("a", team="x"), field_manager="citycloud", _content_type=APPLY
    )
    shared = core.patch_namespace(
        "a", _ns("a", team="x"), field_manager="other", _content_type=APPLY
    )
    assert sorted(e.manager for e in shared.metadata.managed_fields) == [
        "citycloud",
        "other",
    ]


def test_list_pages_with_limit_and_continue(core: k8s.CoreV1Api) -> None:
    for i in range(5):
        core.create_namespace(_ns(f"n{i}", group="g" if i % 2 else "h"))

    first = core.list_namespace(limit=2)
    second = core.list_namespace(limit=2, _continue=first.metadata._continue)
    third = core.list_namespace(limit=2, _continue=second.metadata._continue)

    names = [n.metadata.name for page in (first, second, third) for n in page.items]
    assert names == ["n0", "n1", "n2", "n3", "n4"]
    assert third.metadata._continue is None
    assert first.metadata.remaining_item_count == 3
    assert [
        n.metadata.name for n in core.list_namespace(label_selector="group=g").items
    ] == ["n1", "n3"]


def test_a_bad_or_expired_continue_token_is_refused(
    core: k8s.CoreV1Api, fake: FakeKubeApiServer
) -> None:
    for i in range(3):
        core.create_namespace(_ns(f"n{i}"))
    token = core.list_namespace(limit=1).metadata._continue

    with pytest.raises(ApiException) as bad:
        core.list_namespace(limit=1, _continue="not-a-token")
    fake.store.expire_continue_tokens()
    with pytest.raises(ApiException) as old:
        core.list_namespace(limit=1, _continue=token)

    assert bad.value.status == 400
    assert old.value.status == 410


def test_deleting_a_namespace_takes_its_objects_and_a_second_delete_is_404(
    core: k8s.CoreV1Api, fake: FakeKubeApiServer
) -> None:
    core.create_namespace(_ns("gone"))
    core.create_namespaced_limit_range(
        "gone",
        {
            "apiVersion": "v1",
            "kind": "LimitRange",
            "metadata": {"name": "l"},
            "spec": {"limits": []},
        },
    )
    core.delete_namespace("gone")

    assert list(fake.store.iter_objects()) == []
    with pytest.raises(ApiException) as caught:
        core.delete_namespace("gone")
    assert caught.value.status == 404


def test_invalid_namespace_name_is_422(core: k8s.CoreV1Api) -> None:
    with pytest.raises(ApiException) as caught:
        core.create_namespace(_ns("Not_A_Label"))
    assert caught.value.status == 422
