"""The policy pack's checks, called directly as the engine would call them."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "policies"))

import guardrails


@dataclass
class Args:
    resource_type: str
    props: dict[str, Any]
    name: str = "r"
    urn: str = "urn:r"
    config: dict[str, Any] = field(default_factory=dict)
    parent: Any = None

    def get_config(self) -> dict[str, Any]:
        return self.config


def violations(check: Any, args: Any) -> list[str]:
    found: list[str] = []
    check(args, lambda message, urn=None: found.append(message))
    return found


def rule(**props: Any) -> Args:
    return Args(
        guardrails.RULE, {"direction": "ingress", "protocol": "tcp", **props}, "rule"
    )


@pytest.mark.parametrize(
    ("props", "bad"),
    [
        pytest.param(
            {"remoteIpPrefix": "0.0.0.0/0", "portRangeMin": 443, "portRangeMax": 443},
            False,
            id="https-public",
        ),
        pytest.param(
            {"remoteIpPrefix": "0.0.0.0/0", "portRangeMin": 22, "portRangeMax": 22},
            True,
            id="ssh-to-world",
        ),
        pytest.param(
            {"remoteIpPrefix": "0.0.0.0/0", "protocol": None},
            True,
            id="all-ports-to-world",
        ),
        pytest.param(
            {"portRangeMin": 443, "portRangeMax": 444}, True, id="no-remote-means-world"
        ),
        pytest.param(
            {"remoteIpPrefix": "10.0.0.0/8", "portRangeMin": 22, "portRangeMax": 22},
            False,
            id="ssh-from-private",
        ),
        pytest.param(
            {"remoteIpPrefix": "0.0.0.0/0", "direction": "egress", "protocol": None},
            False,
            id="egress",
        ),
    ],
)
def test_open_ingress(props: dict[str, Any], bad: bool) -> None:
    assert bool(violations(guardrails.check_open_ingress, rule(**props))) is bad


def test_public_ports_come_from_config() -> None:
    args = rule(remoteIpPrefix="0.0.0.0/0", portRangeMin=80, portRangeMax=80)
    assert violations(guardrails.check_open_ingress, args)
    args.config = {"publicPorts": [80, 443]}
    assert not violations(guardrails.check_open_ingress, args)


@pytest.mark.parametrize(
    ("resource_type", "props", "name", "bad"),
    [
        pytest.param(
            guardrails.NETWORK, {"name": "gis-net"}, "gis-net", False, id="tenant-net"
        ),
        pytest.param(
            guardrails.NETWORK,
            {"name": "gis-net", "shared": True},
            "gis-net",
            True,
            id="shared",
        ),
        pytest.param(
            guardrails.NETWORK,
            {"name": "gis-net", "external": True},
            "gis-net",
            True,
            id="tenant-external",
        ),
        pytest.param(
            guardrails.NETWORK,
            {"name": "external", "external": True},
            "external-external",
            False,
            id="provider",
        ),
        pytest.param(
            guardrails.SUBNET,
            {"cidr": "10.20.1.0/24"},
            "gis-subnet",
            False,
            id="private-subnet",
        ),
        pytest.param(
            guardrails.SUBNET,
            {"cidr": "8.8.8.0/24"},
            "gis-subnet",
            True,
            id="public-subnet",
        ),
        pytest.param(
            guardrails.SUBNET,
            {"cidr": "198.51.100.0/24"},
            "external-subnet-external",
            False,
            id="provider-subnet",
        ),
    ],
)
def test_private_networks(
    resource_type: str, props: dict[str, Any], name: str, bad: bool
) -> None:
    args = Args(resource_type, props, name)
    assert bool(violations(guardrails.check_private_networks, args)) is bad


@dataclass
class Stack:
    resources: list[Args]


def tenant(name: str, quota: dict[str, Any] | None) -> list[Args]:
    component = Args(guardrails.TENANT, {}, name, f"urn:{name}")
    children = [
        Args(guardrails.PROJECT, {"name": name}, f"{name}-project", parent=component)
    ]
    if quota is not None:
        children.append(
            Args(
                guardrails.COMPUTE_QUOTA,
                quota,
                f"{name}-compute-quota",
                parent=component,
            )
        )
    return [component, *children]


def test_every_tenant_has_its_quotas() -> None:
    stack = Stack(
        [
            *tenant("gis", {"instances": 4, "cores": 8, "ram": 16384}),
            *tenant("bigdata", {"instances": -1, "cores": -1, "ram": -1}),
            *tenant("loose", None),
            *tenant("partial", {"instances": 4}),
        ]
    )
    found = violations(guardrails.check_quotas, stack)
    assert found == [
        "tenant loose has no compute quota set",
        "tenant partial sets no quota for cores, ram",
    ]
