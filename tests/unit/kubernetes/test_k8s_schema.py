"""Manifests are checked against the target version's OpenAPI schemas before
any apply; a failure names the object and the field."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from citycloud.adapters.kubernetes.schema import ManifestError, validate_manifests
from citycloud.desired import build_desired
from tests.unit.kubernetes.k8s_helpers import SpecFactory, tenant


@pytest.fixture
def manifests(make_spec: SpecFactory) -> list[dict[str, Any]]:
    spec = make_spec(
        [
            tenant("grid", "150402001", 1, quotas={"cores": 8, "ram_mb": 16384}),
            tenant(
                "web",
                "1504",
                2,
                security=[
                    {"direction": "ingress", "ports": "8000-8080", "public": True}
                ],
            ),
        ]
    )
    return [
        dict(r.attrs) for r in build_desired(spec, ["kubernetes"]).layer("kubernetes")
    ]


@pytest.mark.parametrize("version", ["1.29", "1.31", "1.33"], ids=lambda v: f"k8s-{v}")
def test_every_rendered_manifest_validates(
    manifests: list[dict[str, Any]], version: str
) -> None:
    assert validate_manifests(manifests, version) == len(manifests)


def _find(manifests: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    for m in manifests:
        if m["kind"] == kind and m["metadata"]["name"] == name:
            return copy.deepcopy(m)
    raise AssertionError(f"no {kind} {name}")


def _break_policy_types(m: dict[str, Any]) -> None:
    m["spec"]["polcyTypes"] = m["spec"].pop("policyTypes")


def _break_port(m: dict[str, Any]) -> None:
    m["spec"]["egress"][0]["ports"][0]["port"] = [53]


def _drop_role_name(m: dict[str, Any]) -> None:
    del m["roleRef"]["name"]


def _bad_quota_value(m: dict[str, Any]) -> None:
    m["spec"]["hard"]["requests.cpu"] = {"cores": 8}


@pytest.mark.parametrize(
    ("kind", "name", "breaker", "field"),
    [
        ("NetworkPolicy", "default-deny", _break_policy_types, "spec"),
        ("NetworkPolicy", "allow-dns", _break_port, "spec.egress.0.ports.0.port"),
        ("RoleBinding", "tenant-admin", _drop_role_name, "roleRef"),
        ("ResourceQuota", "quota", _bad_quota_value, "spec.hard.requests.cpu"),
    ],
    ids=["misspelt-field", "wrong-type", "missing-required", "not-a-quantity"],
)
def test_invalid_manifest_is_refused_naming_object_and_field(
    manifests: list[dict[str, Any]], kind: str, name: str, breaker: Any, field: str
) -> None:
    broken = _find(manifests, kind, name)
    breaker(broken)
    with pytest.raises(ManifestError) as caught:
        validate_manifests([*manifests, broken], "1.31")

    (problem,) = caught.value.problems
    assert problem.file == f"{kind} {broken['metadata']['namespace']}/{name}"
    assert problem.field == field
    assert problem.file in str(caught.value)


def test_all_invalid_objects_are_reported_together(
    manifests: list[dict[str, Any]],
) -> None:
    first = _find(manifests, "NetworkPolicy", "default-deny")
    second = _find(manifests, "RoleBinding", "tenant-admin")
    _break_policy_types(first)
    _drop_role_name(second)
    with pytest.raises(ManifestError) as caught:
        validate_manifests([first, second], "1.31")
    assert [p.file.split()[0] for p in caught.value.problems] == [
        "NetworkPolicy",
        "RoleBinding",
    ]


def test_a_kind_without_a_schema_is_refused(manifests: list[dict[str, Any]]) -> None:
    odd = {"apiVersion": "example.org/v1", "kind": "Widget", "metadata": {"name": "w"}}
    with pytest.raises(ManifestError) as caught:
        validate_manifests([odd], "1.31")
    assert caught.value.problems[0].field == "apiVersion"


def test_an_unsupported_version_is_refused(manifests: list[dict[str, Any]]) -> None:
    with pytest.raises(ManifestError) as caught:
        validate_manifests(manifests[:1], "9.0")
    assert "9.0" in str(caught.value)
