"""A small evaluator of Kubernetes NetworkPolicy semantics, for assertions.

It answers "may this connection happen" the way the NetworkPolicy API defines
it: a pod that no policy selects for a direction is open in that direction; a
selected pod allows only what some rule of some selecting policy allows; a
connection between two pods needs the source's egress and the destination's
ingress. Peers: ``podSelector`` alone means pods of the policy's namespace,
``namespaceSelector`` alone every pod of the matching namespaces, both
together the matching pods in the matching namespaces, ``ipBlock`` addresses
outside the cluster. Ports: no list means every port; a port without a number
means every port of its protocol (TCP when unnamed); ``endPort`` makes a range.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Obj = Mapping[str, Any]


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class External:
    ip: str


Endpoint = Pod | External


def _selects(selector: Obj | None, labels: Mapping[str, str]) -> bool:
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or ():
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


@dataclass
class Cluster:
    """Namespaces (with labels) and the policies in force."""

    namespaces: dict[str, dict[str, str]] = field(default_factory=dict)
    policies: list[Obj] = field(default_factory=list)

    def add_namespace(self, name: str, labels: Mapping[str, str] | None = None) -> None:
        # The API server labels every namespace with its own name.
        self.namespaces[name] = {"kubernetes.io/metadata.name": name, **(labels or {})}

    def _selecting(self, pod: Pod, direction: str) -> list[Obj]:
        return [
            p
            for p in self.policies
            if p["metadata"]["namespace"] == pod.namespace
            and direction in p["spec"].get("policyTypes", ["Ingress"])
            and _selects(p["spec"].get("podSelector", {}), pod.labels)
        ]

    def _peer_matches(self, peer: Obj, policy_ns: str, other: Endpoint) -> bool:
        if "ipBlock" in peer:
            if not isinstance(other, External):
                return False
            ip = ipaddress.ip_address(other.ip)
            block = peer["ipBlock"]
            if ip not in ipaddress.ip_network(block["cidr"]):
                return False
            return not any(
                ip in ipaddress.ip_network(e) for e in block.get("except", ())
            )
        if not isinstance(other, Pod):
            return False
        ns_sel = peer.get("namespaceSelector")
        pod_sel = peer.get("podSelector")
        if ns_sel is None:
            ns_ok = other.namespace == policy_ns
        else:
            ns_ok = _selects(ns_sel, self.namespaces.get(other.namespace, {}))
        pod_ok = True if pod_sel is None else _selects(pod_sel, other.labels)
        return ns_ok and pod_ok

    @staticmethod
    def _port_matches(ports: Sequence[Obj] | None, protocol: str, port: int) -> bool:
        if not ports:
            return True
        for entry in ports:
            if entry.get("protocol", "TCP") != protocol:
                continue
            number = entry.get("port")
            if number is None:
                return True
            end = entry.get("endPort", number)
            if int(number) <= port <= int(end):
                return True
        return False

    def _allowed(
        self, pod: Pod, direction: str, other: Endpoint, protocol: str, port: int
    ) -> bool:
        selecting = self._selecting(pod, direction)
        if not selecting:
            return True
        rules_key, peers_key = (
            ("egress", "to") if direction == "Egress" else ("ingress", "from")
        )
        for policy in selecting:
            for rule in policy["spec"].get(rules_key) or ():
                peers = rule.get(peers_key)
                peer_ok = not peers or any(
                    self._peer_matches(p, policy["metadata"]["namespace"], other)
                    for p in peers
                )
                if peer_ok and self._port_matches(rule.get("ports"), protocol, port):
                    return True
        return False

    def may_connect(
        self, src: Endpoint, dst: Endpoint, protocol: str, port: int
    ) -> bool:
        """Whether ``src`` may open ``protocol``/``port`` to ``dst``."""
        egress = not isinstance(src, Pod) or self._allowed(
            src, "Egress", dst, protocol, port
        )
        ingress = not isinstance(dst, Pod) or self._allowed(
            dst, "Ingress", src, protocol, port
        )
        return egress and ingress
