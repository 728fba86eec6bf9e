"""What each container tenant's namespace carries: labels, quota with limits,
role bindings for the groups in the cluster's tokens."""

from __future__ import annotations

from decimal import Decimal

import pytest

from citycloud.desired import build_desired
from citycloud.desired.kubernetes import cpu_quantity, memory_quantity
from citycloud.desired.model import DesiredState
from tests.unit.kubernetes.k8s_helpers import SpecFactory, tenant


@pytest.fixture
def desired(make_spec: SpecFactory):  # type: ignore[no-untyped-def]
    spec = make_spec(
        [
            tenant(
                "grid",
                "150402001",
                1,
                quotas={
                    "cores": 16,
                    "ram_mb": 32768,
                    "volumes": 4,
                    "gigabytes": 400,
                    "instances": 0,
                },
            ),
            tenant("open", "1504", 2, quotas={"cores": -1}),
            tenant("vmonly", "150404", 3, kind="vm"),
        ],
        kubernetes={"version": "1.31", "oidc_group_prefix": "oidc:"},
    )
    return build_desired(spec, ["kubernetes"])


def _by_key(desired, kind: str) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {r.key: dict(r.attrs) for r in desired.kind("kubernetes", kind)}


def test_only_container_tenants_get_a_namespace(desired: DesiredState) -> None:
    tenants = {r.tenant for r in desired.kind("kubernetes", "namespace")}
    assert tenants == {"grid", "open"}


def test_namespace_labels_name_tier_org_and_tenant(desired: DesiredState) -> None:
    ns = _by_key(desired, "namespace")["hongshanqu-xitunjiedao-grid-150402001"]
    assert ns["metadata"]["labels"] == {
        "app.kubernetes.io/managed-by": "citycloud",
        "citycloud.io/org-code": "150402001",
        "citycloud.io/tenant": "grid",
        "citycloud.io/tier": "township",
    }


def test_quota_follows_the_spec_and_ignores_vm_keys(desired: DesiredState) -> None:
    quota = _by_key(desired, "resourcequota")[
        "hongshanqu-xitunjiedao-grid-150402001/quota"
    ]
    assert quota["spec"]["hard"] == {
        "limits.cpu": "16",
        "limits.memory": "32Gi",
        "persistentvolumeclaims": "4",
        "requests.cpu": "16",
        "requests.memory": "32Gi",
        "requests.storage": "400Gi",
    }


def test_every_quota_is_paired_with_a_limit_range(desired: DesiredState) -> None:
    namespaces = set(_by_key(desired, "namespace"))
    quotas = {k.split("/")[0] for k in _by_key(desired, "resourcequota")}
    limits = {k.split("/")[0] for k in _by_key(desired, "limitrange")}
    assert quotas == limits == namespaces


def test_limit_range_defaults_stay_within_the_quota(desired: DesiredState) -> None:
    limits = _by_key(desired, "limitrange")[
        "hongshanqu-xitunjiedao-grid-150402001/limits"
    ]
    (container,) = limits["spec"]["limits"]
    assert container["type"] == "Container"
    assert container["defaultRequest"] == {"cpu": "100m", "memory": "128Mi"}
    assert container["default"] == {"cpu": "500m", "memory": "512Mi"}
    assert container["max"] == {"cpu": "16", "memory": "32Gi"}


def test_unlimited_quota_keys_are_left_out(desired: DesiredState) -> None:
    quota = _by_key(desired, "resourcequota")["open-1504/quota"]
    assert "limits.cpu" not in quota["spec"]["hard"]


def test_owner_group_administers_and_supervising_tiers_view(
    desired: DesiredState,
) -> None:
    bindings = _by_key(desired, "rolebinding")
    admin = bindings["hongshanqu-xitunjiedao-grid-150402001/tenant-admin"]
    view = bindings["hongshanqu-xitunjiedao-grid-150402001/tenant-supervise"]

    assert admin["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "admin",
    }
    assert [s["name"] for s in admin["subjects"]] == ["oidc:/赤峰市/红山区/西屯街道"]
    assert view["roleRef"]["name"] == "view"
    assert [s["name"] for s in view["subjects"]] == [
        "oidc:/赤峰市",
        "oidc:/赤峰市/红山区",
    ]
    assert {s["kind"] for s in admin["subjects"] + view["subjects"]} == {"Group"}


def test_a_city_tenant_has_no_supervisors_to_bind(desired: DesiredState) -> None:
    bindings = _by_key(desired, "rolebinding")
    assert "open-1504/tenant-supervise" not in bindings
    assert [s["name"] for s in bindings["open-1504/tenant-admin"]["subjects"]] == [
        "oidc:/赤峰市"
    ]


def test_group_prefix_comes_from_the_spec(make_spec: SpecFactory) -> None:
    spec = make_spec(
        [tenant("grid", "150402", 1)], kubernetes={"oidc_group_prefix": "keycloak#"}
    )
    desired = build_desired(spec, ["kubernetes"])
    admin = _by_key(desired, "rolebinding")["hongshanqu-grid-150402/tenant-admin"]
    assert admin["subjects"][0]["name"] == "keycloak#/赤峰市/红山区"


@pytest.mark.parametrize(
    ("cores", "expected"),
    [(Decimal(2), "2"), (Decimal("0.5"), "500m"), (Decimal("1.25"), "1250m"), (0, "0")],
    ids=["whole", "half", "quarter-steps", "zero"],
)
def test_cpu_quantities_are_written_as_the_api_server_prints_them(
    cores: Decimal, expected: str
) -> None:
    assert cpu_quantity(cores) == expected


@pytest.mark.parametrize(
    ("mebibytes", "expected"),
    [
        (512, "512Mi"),
        (1024, "1Gi"),
        (1536, "1536Mi"),
        (32768, "32Gi"),
        (0, "0"),
        (1024 * 1024 * 3, "3Ti"),
    ],
    ids=["mi", "one-gi", "not-whole-gi", "many-gi", "zero", "ti"],
)
def test_memory_quantities_use_the_largest_whole_binary_unit(
    mebibytes: int, expected: str
) -> None:
    assert memory_quantity(mebibytes) == expected
