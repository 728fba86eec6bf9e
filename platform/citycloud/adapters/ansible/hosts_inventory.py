"""The Ansible inventory of the data center's hosts, rendered from desired state.

The desired "hosts" layer holds one resource per physical host (name, address,
role, rack, region). This module turns it into the inventory playbooks/site.yml
expects: every host in the group named after its role, with ``citycloud_*``
variables, and the known racks listed for the validation play.

The inventory is checked here, in Python, before Ansible is started: a host
without a role, an address used twice or an unknown rack is refused with a
problem naming the host and the field. The same rules run again in the first
play, so an inventory built by hand is refused too.

How Ansible reaches a host is not in the spec: per-host connection variables
(``ansible_*`` only) are laid over the rendered ones, and anything that would
switch off SSH host key checking is refused.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from citycloud.desired.model import Resource
from citycloud.errors import Problem, SpecError
from citycloud.i18n import register, t

ROLES = ("controller", "compute", "storage", "monitoring")
INVENTORY_SOURCE = "inventory"

# Inventory host names Ansible accepts without transforming them.
_HOST_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")

# SSH options that would accept any host key; never allowed.
_UNCHECKED_KEYS = re.compile(
    r"StrictHostKeyChecking\s*=?\s*(no|off|accept-new)|UserKnownHostsFile\s*=?\s*/dev/null",
    re.IGNORECASE,
)

register(
    {
        "hosts.role_missing": {
            "zh": "主机没有角色（应为 {roles} 之一）",
            "en": "the host has no role (expected one of {roles})",
        },
        "hosts.role_unknown": {
            "zh": "未知角色 {role!r}（应为 {roles} 之一）",
            "en": "unknown role {role!r} (expected one of {roles})",
        },
        "hosts.address_missing": {
            "zh": "主机没有地址",
            "en": "the host has no address",
        },
        "hosts.address_invalid": {
            "zh": "地址 {address!r} 不是 IP 地址",
            "en": "address {address!r} is not an IP address",
        },
        "hosts.address_duplicate": {
            "zh": "地址 {address} 已被主机 {other} 使用",
            "en": "address {address} is already used by host {other}",
        },
        "hosts.rack_missing": {
            "zh": "主机没有机柜",
            "en": "the host has no rack",
        },
        "hosts.rack_unknown": {
            "zh": "未知机柜 {rack!r}（已知：{racks}）",
            "en": "unknown rack {rack!r} (known: {racks})",
        },
        "hosts.name_invalid": {
            "zh": "主机名 {name!r} 不能用作 Ansible 主机名",
            "en": "host name {name!r} cannot be an Ansible inventory name",
        },
        "hosts.var_not_connection": {
            "zh": "只能覆盖连接变量（ansible_*），不能覆盖 {var}",
            "en": "only connection variables (ansible_*) may be set, not {var}",
        },
        "hosts.host_key_unchecked": {
            "zh": "{var} 会关闭 SSH 主机密钥校验，不允许",
            "en": "{var} would switch off SSH host key checking; refused",
        },
        "hosts.unknown_host": {
            "zh": "清单中没有主机 {name}",
            "en": "there is no host {name} in the inventory",
        },
        "hosts.name_duplicate": {
            "zh": "主机名 {name} 出现了不止一次",
            "en": "host name {name} appears more than once",
        },
        "hosts.none_known": {"zh": "无", "en": "none"},
    }
)


@dataclass(frozen=True, slots=True)
class HostRecord:
    """One host as the inventory knows it; ``None`` marks a missing field."""

    name: str
    role: str | None
    address: str | None
    rack: str | None
    region: str | None = None
    zone: str | None = None
    maintenance: bool = False

    @classmethod
    def from_resource(cls, resource: Resource) -> HostRecord:
        attrs = resource.attrs

        def text(key: str) -> str | None:
            value = attrs.get(key)
            return None if value in (None, "") else str(value)

        return cls(
            name=str(attrs.get("name") or resource.key),
            role=text("role"),
            address=text("address"),
            rack=text("rack"),
            region=text("region"),
            zone=text("zone"),
            maintenance=bool(attrs.get("maintenance", False)),
        )


@dataclass(frozen=True)
class HostsInventory:
    """The hosts, the racks they may sit in, and how Ansible reaches each host."""

    hosts: tuple[HostRecord, ...]
    racks: tuple[str, ...]
    connection: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [h.name for h in self.hosts]

    def host(self, name: str) -> HostRecord:
        for record in self.hosts:
            if record.name == name:
                return record
        raise KeyError(name)

    def host_vars(self, name: str) -> dict[str, Any]:
        """Every variable the inventory gives ``name``, connection included."""
        record = self.host(name)
        values: dict[str, Any] = {
            "ansible_host": record.address,
            "citycloud_role": record.role,
            "citycloud_address": record.address,
            "citycloud_rack": record.rack,
            "citycloud_region": record.region,
            "citycloud_zone": record.zone,
            "citycloud_maintenance": record.maintenance,
        }
        values = {k: v for k, v in values.items() if v is not None}
        values.update(self.connection.get(name, {}))
        return values

    def to_ansible(self) -> dict[str, Any]:
        """The inventory as Ansible's YAML/JSON inventory structure."""
        groups: dict[str, dict[str, Any]] = {}
        ungrouped: dict[str, Any] = {}
        for record in self.hosts:
            target = ungrouped
            if record.role in ROLES:
                target = groups.setdefault(record.role, {"hosts": {}})["hosts"]
            target[record.name] = self.host_vars(record.name)
        body: dict[str, Any] = {"vars": {"citycloud_racks": list(self.racks)}}
        if ungrouped:
            body["hosts"] = ungrouped
        body["children"] = {role: groups[role] for role in ROLES if role in groups}
        return {"all": body}


def inventory_from_resources(
    resources: Iterable[Resource],
    racks: Iterable[str],
    connection: Mapping[str, Mapping[str, Any]] | None = None,
) -> HostsInventory:
    """Build the inventory from the desired "hosts" layer (kind ``host``)."""
    records = tuple(
        sorted(
            (HostRecord.from_resource(r) for r in resources if r.id.kind == "host"),
            key=lambda h: h.name,
        )
    )
    return HostsInventory(records, tuple(racks), dict(connection or {}))


def _problem(name: str, fieldname: str, message: str) -> Problem:
    return Problem(INVENTORY_SOURCE, None, f"hosts.{name}.{fieldname}", message)


def _host_problems(record: HostRecord, racks: Sequence[str]) -> Iterable[Problem]:
    roles = ", ".join(ROLES)
    if not _HOST_NAME.match(record.name):
        yield _problem(record.name, "name", t("hosts.name_invalid", name=record.name))
    if record.role is None:
        yield _problem(record.name, "role", t("hosts.role_missing", roles=roles))
    elif record.role not in ROLES:
        message = t("hosts.role_unknown", role=record.role, roles=roles)
        yield _problem(record.name, "role", message)
    if record.address is None:
        yield _problem(record.name, "address", t("hosts.address_missing"))
    else:
        try:
            ipaddress.ip_address(record.address)
        except ValueError:
            message = t("hosts.address_invalid", address=record.address)
            yield _problem(record.name, "address", message)
    if record.rack is None:
        yield _problem(record.name, "rack", t("hosts.rack_missing"))
    elif record.rack not in racks:
        known = ", ".join(racks) or t("hosts.none_known")
        message = t("hosts.rack_unknown", rack=record.rack, racks=known)
        yield _problem(record.name, "rack", message)


def _connection_problems(inventory: HostsInventory) -> Iterable[Problem]:
    names = set(inventory.names)
    for name, variables in sorted(inventory.connection.items()):
        if name not in names:
            yield _problem(name, "connection", t("hosts.unknown_host", name=name))
            continue
        for var, value in sorted(variables.items()):
            if not var.startswith("ansible_"):
                yield _problem(name, var, t("hosts.var_not_connection", var=var))
            elif var in ("ansible_host_key_checking", "ansible_ssh_host_key_checking"):
                if str(value).lower() in ("false", "no", "0", "off"):
                    yield _problem(name, var, t("hosts.host_key_unchecked", var=var))
            elif isinstance(value, str) and _UNCHECKED_KEYS.search(value):
                yield _problem(name, var, t("hosts.host_key_unchecked", var=var))


def inventory_problems(inventory: HostsInventory) -> list[Problem]:
    """Everything that makes the inventory unusable, each naming host and field."""
    problems: list[Problem] = []
    owners: dict[str, str] = {}
    seen: set[str] = set()
    for record in inventory.hosts:
        if record.name in seen:
            message = t("hosts.name_duplicate", name=record.name)
            problems.append(_problem(record.name, "name", message))
        seen.add(record.name)
        problems.extend(_host_problems(record, inventory.racks))
        if record.address is None:
            continue
        other = owners.setdefault(record.address, record.name)
        if other != record.name:
            message = t("hosts.address_duplicate", address=record.address, other=other)
            problems.append(_problem(record.name, "address", message))
    problems.extend(_connection_problems(inventory))
    return problems


def check_inventory(inventory: HostsInventory) -> None:
    """Raise :class:`SpecError` listing every problem, before any task runs."""
    problems = inventory_problems(inventory)
    if problems:
        raise SpecError(problems)
