"""Desired state of Kubernetes: one isolated namespace per container tenant.

Each resource's attrs is the full manifest to apply (server-side apply sends
exactly this), so the rendered artifact and the observed live object, projected
onto the same shape, compare field by field. Per tenant:

* a **Namespace** named after the owning organisation's path, the tenant slug
  and the owner's statistical code (see :func:`namespace_name`), labelled with
  tenant, organisation code and tier;
* a **ResourceQuota** from the tenant's quotas, always paired with a
  **LimitRange** giving every container default requests and limits (a quota
  on cpu/memory otherwise rejects pods that do not declare them);
* **NetworkPolicies**: deny all ingress and egress, then allow DNS (UDP and TCP
  53 to kube-dns in kube-system), traffic between the tenant's own pods, and
  the tenant's declared security rules as CIDR blocks;
* **RoleBindings** from Keycloak groups, as they reach the cluster in OpenID
  Connect tokens (the ``groups`` claim with full paths, prefixed by the API
  server's ``--oidc-groups-prefix``, ``oidc:`` by default), to cluster roles.

Role mapping (one table, :data:`ROLE_BINDINGS`): the realm's groups mirror the
organisation tree, and the groups claim lists direct memberships only, so

=====================  ==========  =============================================
binding                cluster     subjects
=====================  ==========  =============================================
``tenant-admin``       ``admin``   the owning organisation's group: the people
                                   who run the tenant
``tenant-supervise``   ``view``    every organisation above the owner: the
                                   tiers that oversee it may look, not change
=====================  ==========  =============================================

``edit`` has no subject yet: the realm has no group narrower than an
organisation, and the owning organisation's members already hold ``admin``.
Per-tenant groups (developers, say), once the identity layer has them, get
``edit`` with one more row in the table.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from citycloud.desired.model import Resource, ResourceId, res
from citycloud.desired.naming import fit_label, transliterate
from citycloud.spec.models import SecurityRule, Tenant
from citycloud.spec.tree import Spec

LAYER = "kubernetes"
MANAGED_BY = "citycloud"

LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_PREFIX = "citycloud.io/"
LABEL_TENANT = "citycloud.io/tenant"
LABEL_ORG = "citycloud.io/org-code"
LABEL_TIER = "citycloud.io/tier"

RBAC_GROUP = "rbac.authorization.k8s.io"

# Container defaults the LimitRange hands to pods that declare nothing.
DEFAULT_REQUEST_CPU = Decimal("0.1")
DEFAULT_REQUEST_MEMORY_MB = 128
DEFAULT_LIMIT_CPU = Decimal("0.5")
DEFAULT_LIMIT_MEMORY_MB = 512


@dataclass(frozen=True)
class ObjectKind:
    """How one kind of object looks on the API server.

    ``sections`` are the top-level fields beside metadata that citycloud sets
    and compares; labels outside citycloud's own keys are left to others.
    """

    name: str
    api_version: str
    kind: str
    namespaced: bool
    sections: tuple[str, ...]


KINDS: Mapping[str, ObjectKind] = {
    k.name: k
    for k in (
        ObjectKind("namespace", "v1", "Namespace", False, ()),
        ObjectKind("resourcequota", "v1", "ResourceQuota", True, ("spec",)),
        ObjectKind("limitrange", "v1", "LimitRange", True, ("spec",)),
        ObjectKind(
            "networkpolicy", "networking.k8s.io/v1", "NetworkPolicy", True, ("spec",)
        ),
        ObjectKind(
            "rolebinding",
            f"{RBAC_GROUP}/v1",
            "RoleBinding",
            True,
            ("roleRef", "subjects"),
        ),
    )
}


@dataclass(frozen=True)
class RoleBindingRule:
    """One RoleBinding per tenant: its name, cluster role and group subjects."""

    name: str
    cluster_role: str
    groups: Literal["owner", "supervisors"]


ROLE_BINDINGS: tuple[RoleBindingRule, ...] = (
    RoleBindingRule("tenant-admin", "admin", "owner"),
    RoleBindingRule("tenant-supervise", "view", "supervisors"),
)


# --- names -------------------------------------------------------------------


def namespace_name(spec: Spec, tenant: Tenant) -> str:
    """``<org path in pinyin>-<tenant slug>-<owner code>``, a DNS label <= 63.

    The path (below the city, which every tenant shares) makes namespaces of
    one county sort together; the owner's code last makes the name injective:
    codes are digits only, so the last ``-`` part is the code, the code fixes
    the path, and what is left is the tenant slug, unique in the city. A name
    longer than 63 characters is cut and ends in a hash of the full name
    (:func:`fit_label`), so it stays unique. Nothing but the tenant's own
    slug and its owner's lineage goes in: adding a tenant renames no other.
    """
    slug = tenant.slug or ""
    path = [transliterate(spec.orgs[code].name) for code in spec.lineage(tenant.owner)]
    parts = [p for p in path[1:] if p]
    return fit_label("-".join([*parts, slug, tenant.owner]))


def key_of(namespace: str, name: str | None = None) -> str:
    """Resource key: the namespace alone, or ``namespace/name``."""
    return namespace if name is None else f"{namespace}/{name}"


def split_key(kind: ObjectKind, key: str) -> tuple[str | None, str]:
    """(namespace, name) of a resource key."""
    if not kind.namespaced:
        return None, key
    namespace, _, name = key.partition("/")
    return namespace, name


# --- quantities --------------------------------------------------------------


def cpu_quantity(cores: Decimal | float | int) -> str:
    """Cores as the API server prints them: ``2``, ``500m``, ``1250m``."""
    value = Decimal(str(cores))
    if value == value.to_integral_value():
        return str(int(value))
    return f"{int((value * 1000).to_integral_value())}m"


def memory_quantity(mebibytes: int) -> str:
    """MiB in the largest binary unit that keeps it whole: ``8Gi``, ``1536Mi``."""
    value = mebibytes
    if value == 0:
        return "0"
    for unit in ("Mi", "Gi", "Ti", "Pi"):
        if value % 1024 or unit == "Pi":
            return f"{value}{unit}"
        value //= 1024
    raise AssertionError("unreachable")


def _limited(value: int | None) -> bool:
    return value is not None and value >= 0


def quota_hard(tenant: Tenant) -> dict[str, str]:
    """ResourceQuota ``hard`` from the spec's quotas (-1 or unset: no limit).

    VM-only keys (instances, floating IPs, networks) have no meaning here.
    """
    q = tenant.quotas
    hard: dict[str, str] = {}
    if q.cores is not None and _limited(q.cores):
        hard["requests.cpu"] = hard["limits.cpu"] = cpu_quantity(q.cores)
    if q.ram_mb is not None and _limited(q.ram_mb):
        hard["requests.memory"] = hard["limits.memory"] = memory_quantity(q.ram_mb)
    if q.volumes is not None and _limited(q.volumes):
        hard["persistentvolumeclaims"] = str(q.volumes)
    if q.gigabytes is not None and _limited(q.gigabytes):
        hard["requests.storage"] = memory_quantity(q.gigabytes * 1024)
    return dict(sorted(hard.items()))


def limit_range_spec(tenant: Tenant) -> dict[str, Any]:
    """Container defaults, capped so no default exceeds the tenant's quota."""
    q = tenant.quotas
    max_cpu = Decimal(q.cores) if q.cores is not None and q.cores >= 0 else None
    max_mem = q.ram_mb if q.ram_mb is not None and q.ram_mb >= 0 else None

    def cpu(value: Decimal) -> str:
        return cpu_quantity(min(value, max_cpu) if max_cpu is not None else value)

    def mem(value: int) -> str:
        return memory_quantity(min(value, max_mem) if max_mem is not None else value)

    limit: dict[str, Any] = {
        "type": "Container",
        "default": {
            "cpu": cpu(DEFAULT_LIMIT_CPU),
            "memory": mem(DEFAULT_LIMIT_MEMORY_MB),
        },
        "defaultRequest": {
            "cpu": cpu(DEFAULT_REQUEST_CPU),
            "memory": mem(DEFAULT_REQUEST_MEMORY_MB),
        },
    }
    maximum: dict[str, str] = {}
    if max_cpu is not None:
        maximum["cpu"] = cpu_quantity(max_cpu)
    if max_mem is not None:
        maximum["memory"] = memory_quantity(max_mem)
    if maximum:
        limit["max"] = maximum
    return {"limits": [limit]}


# --- network policies --------------------------------------------------------

KUBE_DNS_PEER: dict[str, Any] = {
    "namespaceSelector": {
        "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
    },
    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
}


def _rule_ports(rule: SecurityRule) -> list[dict[str, Any]] | None:
    """NetworkPolicy ports of a spec rule; None when it covers every port."""
    if rule.protocol == "any":
        return None
    port: dict[str, Any] = {"protocol": rule.protocol.upper()}
    if rule.port_range is not None:
        low, high = rule.port_range
        port["port"] = low
        if high != low:
            port["endPort"] = high
    return [port]


def network_policies(tenant: Tenant) -> list[tuple[str, dict[str, Any]]]:
    """(name, spec) of every NetworkPolicy of a tenant's namespace."""
    everyone: dict[str, Any] = {}
    policies: list[tuple[str, dict[str, Any]]] = [
        (
            "default-deny",
            {"podSelector": everyone, "policyTypes": ["Ingress", "Egress"]},
        ),
        (
            "allow-dns",
            {
                "podSelector": everyone,
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [KUBE_DNS_PEER],
                        "ports": [
                            {"protocol": "UDP", "port": 53},
                            {"protocol": "TCP", "port": 53},
                        ],
                    }
                ],
            },
        ),
        (
            "allow-same-namespace",
            {
                "podSelector": everyone,
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": [{"podSelector": everyone}]}],
                "egress": [{"to": [{"podSelector": everyone}]}],
            },
        ),
    ]
    ingress: list[dict[str, Any]] = []
    egress: list[dict[str, Any]] = []
    for rule in tenant.security:
        if rule.protocol == "icmp":
            # NetworkPolicy has no ICMP; such a rule only applies to VM tenants.
            continue
        entry: dict[str, Any] = {}
        peer = [{"ipBlock": {"cidr": str(rule.remote)}}]
        ports = _rule_ports(rule)
        if rule.direction == "ingress":
            entry["from"] = peer
        else:
            entry["to"] = peer
        if ports is not None:
            entry["ports"] = ports
        (ingress if rule.direction == "ingress" else egress).append(entry)
    if ingress or egress:
        types = [t for t, rules in (("Ingress", ingress), ("Egress", egress)) if rules]
        spec: dict[str, Any] = {"podSelector": everyone, "policyTypes": types}
        if ingress:
            spec["ingress"] = ingress
        if egress:
            spec["egress"] = egress
        policies.append(("allow-declared", spec))
    return policies


# --- role bindings -----------------------------------------------------------


def oidc_group(spec: Spec, code: str) -> str:
    """An organisation's group as the API server sees it in a token."""
    return f"{spec.city.kubernetes.oidc_group_prefix}{spec.group_path(code)}"


def role_bindings(spec: Spec, tenant: Tenant) -> list[tuple[str, str, list[str]]]:
    """(binding name, cluster role, group names) per :data:`ROLE_BINDINGS` row."""
    bindings: list[tuple[str, str, list[str]]] = []
    for rule in ROLE_BINDINGS:
        if rule.groups == "owner":
            codes = [tenant.owner]
        else:
            codes = spec.ancestors(tenant.owner)
        groups = [oidc_group(spec, code) for code in codes]
        if groups:
            bindings.append((rule.name, rule.cluster_role, groups))
    return bindings


# --- manifests ---------------------------------------------------------------


def labels_for(spec: Spec, tenant: Tenant) -> dict[str, str]:
    tier = tenant.tier or spec.tier_of(tenant.owner)
    return {
        LABEL_MANAGED_BY: MANAGED_BY,
        LABEL_ORG: tenant.owner,
        LABEL_TENANT: tenant.slug or "",
        LABEL_TIER: tier.value,
    }


def manifest(
    kind_name: str,
    name: str,
    namespace: str | None,
    labels: Mapping[str, str],
    body: Mapping[str, Any],
) -> dict[str, Any]:
    """A complete manifest of one of :data:`KINDS`."""
    kind = KINDS[kind_name]
    meta: dict[str, Any] = {"name": name}
    if kind.namespaced:
        meta["namespace"] = namespace
    meta["labels"] = dict(labels)
    return {"apiVersion": kind.api_version, "kind": kind.kind, "metadata": meta, **body}


def tenant_manifests(spec: Spec, tenant: Tenant) -> Iterator[Resource]:
    ns = namespace_name(spec, tenant)
    slug = tenant.slug or ""
    labels = labels_for(spec, tenant)
    ns_id = ResourceId(LAYER, "namespace", ns)
    yield Resource(ns_id, manifest("namespace", ns, None, labels, {}), tenant=slug)

    def child(kind: str, name: str, body: dict[str, Any]) -> Resource:
        return res(
            LAYER,
            kind,
            key_of(ns, name),
            manifest(kind, name, ns, labels, body),
            tenant=slug,
            parent=ns_id,
        )

    yield child("resourcequota", "quota", {"spec": {"hard": quota_hard(tenant)}})
    yield child("limitrange", "limits", {"spec": limit_range_spec(tenant)})
    for name, policy in network_policies(tenant):
        yield child("networkpolicy", name, {"spec": policy})
    for name, role, groups in role_bindings(spec, tenant):
        yield child(
            "rolebinding",
            name,
            {
                "roleRef": {
                    "apiGroup": RBAC_GROUP,
                    "kind": "ClusterRole",
                    "name": role,
                },
                "subjects": [
                    {"apiGroup": RBAC_GROUP, "kind": "Group", "name": group}
                    for group in groups
                ],
            },
        )


def kubernetes_resources(spec: Spec) -> Iterator[Resource]:
    for tenant in spec.tenants:
        if tenant.kind == "container":
            yield from tenant_manifests(spec, tenant)
