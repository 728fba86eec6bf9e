"""Rendered artifacts: the desired state in each tool's own file format.

A renderer turns the desired state into ``{relative path: text}``; the CLI
writes them to the output folder. Rendering is pure, so the artifacts are
tested like any other value. Layers register their renderers here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import yaml

from citycloud.desired.model import DesiredState
from citycloud.spec.tree import Spec

Renderer = Callable[[DesiredState, Spec], Mapping[str, str]]
RENDERERS: dict[str, Renderer] = {}


def renderer(name: str) -> Callable[[Renderer], Renderer]:
    """Register a renderer under ``name`` (replacing any earlier one)."""

    def wrap(func: Renderer) -> Renderer:
        RENDERERS[name] = func
        return func

    return wrap


class _NoAliases(yaml.SafeDumper):
    """Write shared values out in full: anchors confuse people and some tools."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def to_yaml(data: Any) -> str:
    return yaml.dump(
        data,
        Dumper=_NoAliases,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
    )


def to_yaml_documents(docs: Iterable[Any]) -> str:
    return "---\n".join(to_yaml(doc) for doc in docs)


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def render_all(desired: DesiredState, spec: Spec) -> dict[str, str]:
    """Every registered artifact for the layers present in ``desired``."""
    files: dict[str, str] = {}
    for func in RENDERERS.values():
        files.update(func(desired, spec))
    return files


@renderer("inventory")
def render_inventory(desired: DesiredState, spec: Spec) -> Mapping[str, str]:
    """Ansible inventory: one group per host role and per rack."""
    hosts = desired.kind("hosts", "host")
    if not hosts:
        return {}
    groups: dict[str, dict[str, Any]] = {}
    for host in sorted(hosts, key=lambda r: r.key):
        a = host.attrs
        for group in (a["role"], f"rack_{a['rack']}".replace("-", "_")):
            groups.setdefault(group, {"hosts": {}})["hosts"][host.key] = None
    hostvars = {
        h.key: {
            "ansible_host": h.attrs["address"],
            "citycloud_role": h.attrs["role"],
            "citycloud_rack": h.attrs["rack"],
            "citycloud_zone": h.attrs["zone"],
            "citycloud_region": h.attrs["region"],
            "citycloud_maintenance": h.attrs["maintenance"],
        }
        for h in hosts
    }
    inventory = {
        "all": {
            "vars": {
                "citycloud_city": spec.city.slug,
                "citycloud_dc": spec.datacenter.name,
            },
            "hosts": dict(sorted(hostvars.items())),
            "children": dict(sorted(groups.items())),
        }
    }
    return {"hosts/inventory.yml": to_yaml(inventory)}


@renderer("kubernetes")
def render_manifests(desired: DesiredState, spec: Spec) -> Mapping[str, str]:
    """One multi-document YAML file per tenant namespace."""
    files: dict[str, list[Any]] = {}
    for resource in sorted(desired.layer("kubernetes"), key=lambda r: r.key):
        namespace = resource.key.split("/", 1)[0]
        files.setdefault(f"kubernetes/{namespace}.yaml", []).append(
            dict(resource.attrs)
        )
    return {path: to_yaml_documents(docs) for path, docs in files.items()}


@renderer("openstack")
def render_openstack(desired: DesiredState, spec: Spec) -> Mapping[str, str]:
    """The cloud and tenant resources as JSON, one file per tenant."""
    out: dict[str, str] = {}
    cloud = [r.to_dict() for r in desired.layer("cloud")]
    if cloud:
        out["openstack/cloud.json"] = to_json(cloud)
    tenants: dict[str, list[dict[str, Any]]] = {}
    for resource in desired.layer("openstack"):
        tenants.setdefault(resource.tenant or "_", []).append(resource.to_dict())
    for slug, items in tenants.items():
        out[f"openstack/tenants/{slug}.json"] = to_json(
            sorted(items, key=lambda i: i["key"])
        )
    return out


@renderer("monitoring")
def render_monitoring(desired: DesiredState, spec: Spec) -> Mapping[str, str]:
    """Prometheus configuration, one rule file per group, Alertmanager routes."""
    from citycloud.desired.monitoring import monitoring_files

    return monitoring_files(spec, desired.layer("monitoring"), to_yaml)
