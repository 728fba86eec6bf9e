"""The same round trip against a real cluster, when one is named.

Set KUBECONFIG_CITYCLOUD_LIVE to a kubeconfig path (its current context is
used; KUBE_CONTEXT_CITYCLOUD_LIVE picks another). The test creates one
synthetic tenant's namespace with a random name, checks that a second apply
writes nothing and that a hand edit shows in the plan, and deletes the
namespace at the end.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client as k8s

from citycloud.adapters.kubernetes import KubeClient, KubernetesEngine, connect
from citycloud.desired import build_desired
from citycloud.desired.kubernetes import namespace_name
from citycloud.plan import Action, SafetyPolicy
from citycloud.spec import parse_spec

KUBECONFIG = os.environ.get("KUBECONFIG_CITYCLOUD_LIVE")
CONTEXT = os.environ.get("KUBE_CONTEXT_CITYCLOUD_LIVE")

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not KUBECONFIG, reason="KUBECONFIG_CITYCLOUD_LIVE is not set"),
]


@pytest.fixture
def live_engine() -> KubernetesEngine:
    client = KubeClient(connect(KUBECONFIG, CONTEXT), page_size=50)
    return KubernetesEngine(
        client, policy=SafetyPolicy(allow_delete=True, allow_mass_delete=True)
    )


@pytest.fixture
def synthetic_spec(divisions_csv: Path):  # type: ignore[no-untyped-def]
    slug = f"cctest-{secrets.token_hex(3)}"
    data = {
        "city": {"name": "赤峰市", "code": "1504", "slug": "chifeng"},
        "datacenter": {"name": "chifeng-dc1", "regions": [{"name": "RegionOne"}]},
        "tenants": [
            {
                "name": "集成测试租户（合成）",
                "slug": slug,
                "department": "测试",
                "owner": "150402001",
                "kind": "container",
                "network": {"cidr": "10.250.0.0/24"},
                "quotas": {"cores": 2, "ram_mb": 2048, "volumes": 1, "gigabytes": 5},
            }
        ],
    }
    return parse_spec(data, divisions=[divisions_csv])


@pytest.fixture
def cleanup(live_engine: KubernetesEngine) -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        live_engine.client.delete("namespace", name)


def test_live_round_trip(
    live_engine: KubernetesEngine,
    synthetic_spec,
    cleanup: list[str],  # type: ignore[no-untyped-def]
) -> None:
    desired = [r for r in build_desired(synthetic_spec, ["kubernetes"])]
    namespace = namespace_name(synthetic_spec, synthetic_spec.tenants[0])
    cleanup.append(namespace)
    mine = [r for r in desired if r.id.key.split("/")[0] == namespace]

    first = live_engine.plan(mine)
    creates = [c for c in first if c.action is Action.CREATE]
    assert len(creates) == len(mine)
    live_engine.apply(first.for_tenants([synthetic_spec.tenants[0].slug or ""]))

    second = live_engine.plan(mine).for_tenants([synthetic_spec.tenants[0].slug or ""])
    assert second.is_empty, [str(c.id) for c in second]

    k8s.CoreV1Api(live_engine.client.api_client).patch_namespaced_resource_quota(
        "quota",
        namespace,
        {"spec": {"hard": {"limits.cpu": "3"}}},
        field_manager="citycloud-live-test",
    )
    drift = live_engine.plan(mine).for_tenants([synthetic_spec.tenants[0].slug or ""])
    assert [(c.action, c.id.kind) for c in drift] == [(Action.UPDATE, "resourcequota")]
