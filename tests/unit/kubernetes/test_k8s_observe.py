"""Live objects projected onto the desired shape: what the plan compares."""

from __future__ import annotations

from typing import Any

import pytest

from citycloud.adapters.kubernetes.observe import project, to_resource
from citycloud.desired.kubernetes import KINDS


def _quota(hard: dict[str, str], managed: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {
            "name": "quota",
            "namespace": "portal-1504",
            "uid": "u",
            "resourceVersion": "7",
            "labels": {
                "app.kubernetes.io/managed-by": "citycloud",
                "citycloud.io/tenant": "portal",
                "team": "ops",
            },
            "managedFields": managed,
        },
        "spec": {"hard": hard},
        "status": {"used": {"requests.cpu": "1"}},
    }


def _entry(manager: str, operation: str, *keys: str) -> dict[str, Any]:
    return {
        "manager": manager,
        "operation": operation,
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": {"f:hard": {f"f:{k}": {} for k in keys}}},
    }


OURS = _entry("citycloud", "Apply", "requests.cpu")


@pytest.mark.parametrize(
    ("extra", "kept"),
    [
        (_entry("quota-operator", "Apply", "pods"), False),
        (_entry("kubectl-edit", "Update", "pods"), True),
        (_entry("kube-controller", "Update", "requests.cpu"), True),
    ],
    ids=["other-applier-field-left-out", "hand-edit-shows", "taken-over-field-shows"],
)
def test_only_fields_of_other_appliers_are_left_out(
    extra: dict[str, Any], kept: bool
) -> None:
    hard = {"requests.cpu": "8", "pods": "50"}
    shaped = project(KINDS["resourcequota"], _quota(hard, [OURS, extra]))
    expected = hard if kept else {"requests.cpu": "8"}
    assert shaped["spec"]["hard"] == expected


def test_projection_keeps_identity_and_citycloud_labels_only() -> None:
    shaped = project(KINDS["resourcequota"], _quota({"requests.cpu": "8"}, [OURS]))
    assert shaped == {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {
            "name": "quota",
            "namespace": "portal-1504",
            "labels": {
                "app.kubernetes.io/managed-by": "citycloud",
                "citycloud.io/tenant": "portal",
            },
        },
        "spec": {"hard": {"requests.cpu": "8"}},
    }


def test_observed_resource_is_keyed_like_the_desired_one() -> None:
    resource = to_resource(KINDS["resourcequota"], _quota({}, [OURS]))
    assert str(resource.id) == "kubernetes/resourcequota/portal-1504/quota"
    assert resource.tenant == "portal"
    assert resource.parent is not None and resource.parent.key == "portal-1504"
