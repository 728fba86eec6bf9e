"""The rendered NetworkPolicies, evaluated: DNS and the tenant's own pods are
reachable; everything else, other tenants and the internet included, is not."""

from __future__ import annotations

import pytest

from citycloud.desired import build_desired
from citycloud.desired.kubernetes import namespace_name
from tests.unit.kubernetes.k8s_helpers import SpecFactory, tenant
from tests.unit.kubernetes.netpol_eval import Cluster, External, Pod

KUBE_DNS = Pod("kube-system", {"k8s-app": "kube-dns"})
METRICS = Pod("kube-system", {"k8s-app": "metrics-server"})


@pytest.fixture
def cluster(make_spec: SpecFactory) -> tuple[Cluster, dict[str, str]]:
    spec = make_spec(
        [
            tenant("grid", "150402001", 1),
            tenant("bigdata", "1504", 2),
            tenant(
                "web",
                "150404",
                3,
                security=[
                    {
                        "direction": "ingress",
                        "protocol": "tcp",
                        "ports": "443",
                        "public": True,
                    },
                    {
                        "direction": "egress",
                        "protocol": "tcp",
                        "ports": "5432",
                        "remote": "10.30.0.0/16",
                    },
                ],
            ),
        ]
    )
    desired = build_desired(spec, ["kubernetes"])
    world = Cluster()
    world.add_namespace("kube-system")
    names = {}
    for ns in desired.kind("kubernetes", "namespace"):
        world.add_namespace(ns.key, ns.attrs["metadata"]["labels"])
    for t in spec.tenants:
        names[t.slug or ""] = namespace_name(spec, t)
    world.policies = [
        dict(r.attrs) for r in desired.kind("kubernetes", "networkpolicy")
    ]
    return world, names


def pod(names: dict[str, str], slug: str, **labels: str) -> Pod:
    return Pod(names[slug], {"app": "web", **labels})


@pytest.mark.parametrize(
    ("protocol", "port"), [("UDP", 53), ("TCP", 53)], ids=["udp-53", "tcp-53"]
)
def test_dns_to_kube_dns_is_allowed(
    cluster: tuple[Cluster, dict[str, str]], protocol: str, port: int
) -> None:
    world, names = cluster
    assert world.may_connect(pod(names, "grid"), KUBE_DNS, protocol, port)


@pytest.mark.parametrize(
    ("target", "protocol", "port"),
    [
        (External("8.8.8.8"), "UDP", 53),
        (External("114.114.114.114"), "TCP", 53),
        (External("220.181.38.148"), "TCP", 443),
        (External("10.30.1.5"), "TCP", 5432),
        (METRICS, "UDP", 53),
        (KUBE_DNS, "UDP", 5353),
        (KUBE_DNS, "TCP", 443),
    ],
    ids=[
        "public-dns-udp",
        "public-dns-tcp",
        "internet-https",
        "database-not-declared-by-this-tenant",
        "other-kube-system-pod-on-53",
        "kube-dns-other-port",
        "kube-dns-https",
    ],
)
def test_other_egress_is_denied(
    cluster: tuple[Cluster, dict[str, str]],
    target: Pod | External,
    protocol: str,
    port: int,
) -> None:
    world, names = cluster
    assert not world.may_connect(pod(names, "grid"), target, protocol, port)


def test_pods_of_one_tenant_reach_each_other_on_any_port(
    cluster: tuple[Cluster, dict[str, str]],
) -> None:
    world, names = cluster
    web, db = pod(names, "grid"), pod(names, "grid", app="db")
    assert world.may_connect(web, db, "TCP", 5432)
    assert world.may_connect(db, web, "UDP", 9999)


@pytest.mark.parametrize(
    ("src", "dst"),
    [("grid", "bigdata"), ("bigdata", "grid"), ("web", "grid")],
    ids=["county-to-city", "city-to-county", "declared-tenant-to-other"],
)
def test_tenants_cannot_reach_each_other(
    cluster: tuple[Cluster, dict[str, str]], src: str, dst: str
) -> None:
    world, names = cluster
    assert not world.may_connect(pod(names, src), pod(names, dst), "TCP", 8080)


def test_nothing_from_outside_reaches_a_tenant_without_a_declared_rule(
    cluster: tuple[Cluster, dict[str, str]],
) -> None:
    world, names = cluster
    assert not world.may_connect(
        External("203.0.113.9"), pod(names, "grid"), "TCP", 443
    )


def test_declared_security_rules_open_only_their_ports(
    cluster: tuple[Cluster, dict[str, str]],
) -> None:
    world, names = cluster
    web = pod(names, "web")
    assert world.may_connect(External("203.0.113.9"), web, "TCP", 443)
    assert not world.may_connect(External("203.0.113.9"), web, "TCP", 80)
    assert world.may_connect(web, External("10.30.1.5"), "TCP", 5432)
    assert not world.may_connect(web, External("10.31.1.5"), "TCP", 5432)
    # The declared rules do not open DNS or the internet wider.
    assert not world.may_connect(web, External("8.8.8.8"), "UDP", 53)


def test_without_the_rendered_policies_the_same_traffic_would_flow(
    cluster: tuple[Cluster, dict[str, str]],
) -> None:
    world, names = cluster
    open_world = Cluster(namespaces=world.namespaces, policies=[])
    assert open_world.may_connect(pod(names, "grid"), External("8.8.8.8"), "UDP", 53)
    assert open_world.may_connect(
        pod(names, "grid"), pod(names, "bigdata"), "TCP", 8080
    )
