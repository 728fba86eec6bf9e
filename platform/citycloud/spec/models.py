"""Typed models of the city spec: what cloud ops and departments write.

Every model forbids unknown fields, so a typo is an error that names the file,
line and field instead of a setting silently ignored. Cross-object rules
(duplicates, overlaps, envelopes) live in :mod:`citycloud.spec.checks`.
"""

from __future__ import annotations

import ipaddress
import unicodedata
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from citycloud.spec.naming import bad_path_chars

Slug = Annotated[
    str,
    Field(
        pattern=r"^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$",
        description="DNS label: lowercase letters, digits and '-', at most 40",
    ),
]


def _no_bool(value: object) -> object:
    """YAML reads yes/no/true/false as booleans; a number field takes none."""
    if isinstance(value, bool):
        raise ValueError(f"a number is needed, not {str(value).lower()}")
    return value


Int = Annotated[int, BeforeValidator(_no_bool)]
Float = Annotated[float, BeforeValidator(_no_bool)]


def _ip(
    kind: type[ipaddress.IPv4Network] | type[ipaddress.IPv4Address], example: str
) -> Callable[[object], object]:
    """Parse an IPv4 network or address written as text, with ipaddress's
    reason when it is not one (host bits set, a bad netmask, IPv6...)."""
    what = "network" if kind is ipaddress.IPv4Network else "address"

    def parse(value: object) -> object:
        if isinstance(value, kind):
            return value
        if not isinstance(value, str):
            raise ValueError(f"write the {what} as text, like {example}")
        if ":" in value:
            raise ValueError(f"{value!r} is IPv6; only IPv4 is supported")
        try:
            return kind(value.strip())
        except ValueError as exc:
            raise ValueError(f"{value!r} is not an IPv4 {what}: {exc}") from None

    return parse


IPv4Net = Annotated[
    ipaddress.IPv4Network, BeforeValidator(_ip(ipaddress.IPv4Network, "10.20.1.0/24"))
]
IPv4Addr = Annotated[
    ipaddress.IPv4Address, BeforeValidator(_ip(ipaddress.IPv4Address, "10.10.1.21"))
]


def _printable(value: str) -> str:
    """No control or invisible formatting characters (a bell, an escape
    sequence, a right-to-left override) in names people read."""
    bad = sorted(
        {ch for ch in value if ch != "\u200d" and unicodedata.category(ch)[0] == "C"}
    )
    if bad:
        shown = ", ".join(f"U+{ord(ch):04X}" for ch in bad)
        raise ValueError(f"contains control or invisible characters ({shown})")
    return value


def _path_safe(value: str) -> str:
    bad = bad_path_chars(value)
    if bad:
        raise ValueError(f"contains {bad!r}, which would break the group path")
    return value


Name = Annotated[str, AfterValidator(_printable)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Tier(StrEnum):
    """The four tiers of government, top down."""

    CITY = "city"
    COUNTY = "county"  # county, district, banner (旗)
    TOWNSHIP = "township"  # township, town, sumu (苏木), street
    VILLAGE = "village"  # village, gacha (嘎查), community

    @property
    def depth(self) -> int:
        return list(Tier).index(self)


class Priority(StrEnum):
    """Scheduling priority of a tenant's workloads; critical goes first."""

    CRITICAL = "critical"
    HIGH = "high"
    NORMAL = "normal"
    BATCH = "batch"

    @property
    def rank(self) -> int:
        return list(Priority).index(self)


class Quotas(Model):
    """Resource quotas. ``-1`` means unlimited; an absent key means "not set"."""

    instances: Int | None = Field(default=None, ge=-1)
    cores: Int | None = Field(default=None, ge=-1)
    ram_mb: Int | None = Field(default=None, ge=-1)
    volumes: Int | None = Field(default=None, ge=-1)
    gigabytes: Int | None = Field(default=None, ge=-1)
    floating_ips: Int | None = Field(default=None, ge=-1)
    networks: Int | None = Field(default=None, ge=-1)
    security_groups: Int | None = Field(default=None, ge=-1)
    security_group_rules: Int | None = Field(default=None, ge=-1)

    def items_set(self) -> dict[str, int]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class AuditSettings(Model):
    retention_days: Int = Field(default=180, ge=180)


class IdentitySettings(Model):
    realm: Slug | None = None
    events_retention_days: Int = Field(default=180, ge=1)
    admin_events_retention_days: Int = Field(default=365, ge=1)
    # Keycloak server the realm lives on; only used by the identity adapter.
    url: str | None = None
    # Where the portal is served; its client accepts only this callback.
    portal_url: str = Field(
        default="http://127.0.0.1:8501", pattern=r"^https?://[^\s*]+$"
    )


class KubernetesSettings(Model):
    version: str = Field(default="1.31", pattern=r"^1\.\d+$")
    oidc_group_prefix: str = "oidc:"


class MonitoringSettings(Model):
    # Alertmanager posts each receiver's alerts to <alert_webhook>/<receiver>.
    alert_webhook: str = "http://127.0.0.1:8501/alerts"
    alertmanagers: list[str] = Field(
        default=[], description="host:port of Alertmanagers; default: monitoring hosts"
    )


class City(Model):
    name: Annotated[str, AfterValidator(_path_safe)] = Field(min_length=1)
    code: str = Field(pattern=r"^[0-9]{4}$", description="statistical code, 4 digits")
    slug: Slug
    timezone: str = "Asia/Shanghai"
    domain: Slug | None = None
    audit: AuditSettings = AuditSettings()
    identity: IdentitySettings = IdentitySettings()
    kubernetes: KubernetesSettings = KubernetesSettings()
    monitoring: MonitoringSettings = MonitoringSettings()


class Organisation(Model):
    """A unit of government. ``code`` is its statistical division code."""

    code: str = Field(pattern=r"^[0-9]{2,12}$")
    name: str = Field(min_length=1, max_length=64)
    level: Tier
    parent: str | None = Field(default=None, pattern=r"^[0-9]{2,12}$")
    slug: Slug | None = None
    envelope: Quotas | None = None
    synthetic: bool = False


class DivisionsImport(Model):
    """Import organisations from a divisions CSV (code,name,parent_code,level)."""

    csv: str
    levels: list[Tier] = [Tier.CITY, Tier.COUNTY, Tier.TOWNSHIP, Tier.VILLAGE]


class Region(Model):
    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


class Rack(Model):
    name: Slug
    region: str
    zone: Slug = Field(description="availability zone the rack belongs to")


class HostRole(StrEnum):
    CONTROLLER = "controller"
    COMPUTE = "compute"
    STORAGE = "storage"
    MONITORING = "monitoring"


class Host(Model):
    name: Slug
    rack: str
    role: HostRole
    address: IPv4Addr
    cpu: Int = Field(gt=0, description="physical cores")
    ram_gb: Int = Field(gt=0)
    disk_gb: Int = Field(gt=0)
    maintenance: bool = False
    # Where the hypervisor has another name than the host (Nova's host name).
    hypervisor: str | None = None


class ProviderNetwork(Model):
    name: Slug
    physical_network: str
    type: Literal["flat", "vlan"] = "flat"
    segmentation_id: Int | None = Field(default=None, ge=1, le=4094)
    cidr: IPv4Net
    gateway: IPv4Addr | None = None
    floating_range: tuple[IPv4Addr, IPv4Addr] | None = None
    external: bool = True

    @field_validator("gateway")
    @classmethod
    def _gateway_inside(
        cls, value: ipaddress.IPv4Address | None, info: ValidationInfo
    ) -> ipaddress.IPv4Address | None:
        cidr = info.data.get("cidr")
        if value is not None and cidr is not None and value not in cidr:
            raise ValueError(f"gateway {value} is outside {cidr}")
        return value

    @field_validator("floating_range")
    @classmethod
    def _range_inside(
        cls,
        value: tuple[ipaddress.IPv4Address, ipaddress.IPv4Address] | None,
        info: ValidationInfo,
    ) -> tuple[ipaddress.IPv4Address, ipaddress.IPv4Address] | None:
        cidr, gateway = info.data.get("cidr"), info.data.get("gateway")
        if value is None or cidr is None:
            return value
        start, end = value
        if start not in cidr or end not in cidr:
            raise ValueError(f"floating_range must lie inside {cidr}")
        if int(start) > int(end):
            raise ValueError("floating_range starts after it ends")
        if cidr.prefixlen < 31 and (
            start == cidr.network_address or end == cidr.broadcast_address
        ):
            raise ValueError(
                f"floating_range must leave out {cidr.network_address} and "
                f"{cidr.broadcast_address} (network and broadcast addresses)"
            )
        if gateway is not None and int(start) <= int(gateway) <= int(end):
            raise ValueError(f"floating_range holds the gateway {gateway}")
        return value

    @model_validator(mode="after")
    def _vlan_needs_id(self) -> ProviderNetwork:
        if self.type == "vlan" and self.segmentation_id is None:
            raise ValueError("a vlan network needs segmentation_id")
        return self


class StoragePool(Model):
    name: Slug
    backend: Literal["ceph", "lvm", "nfs", "fake"] = "ceph"
    capacity_gb: Int = Field(gt=0)
    volume_type: Slug


class Flavor(Model):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{0,62}$")
    vcpus: Int = Field(gt=0)
    ram_mb: Int = Field(gt=0)
    disk_gb: Int = Field(ge=0)


class Image(Model):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{0,62}$")
    disk_format: Literal["raw", "qcow2"] = "qcow2"
    min_disk_gb: Int = Field(default=0, ge=0)
    source: str | None = Field(default=None, description="file or URL to upload")


class DataCenter(Model):
    name: Slug
    regions: list[Region] = Field(min_length=1)
    racks: list[Rack] = []
    hosts: list[Host] = []
    provider_networks: list[ProviderNetwork] = []
    storage_pools: list[StoragePool] = []
    flavors: list[Flavor] = []
    images: list[Image] = []
    cpu_allocation_ratio: Float = Field(default=4.0, gt=0)
    ram_allocation_ratio: Float = Field(default=1.0, gt=0)


class Port(Model):
    """One port or a range, as in ``443`` or ``8000-8080``."""

    low: Int = Field(ge=1, le=65535)
    high: Int = Field(ge=1, le=65535)


class SecurityRule(Model):
    direction: Literal["ingress", "egress"] = "ingress"
    protocol: Literal["tcp", "udp", "icmp", "any"] = "tcp"
    ports: str | None = Field(default=None, pattern=r"^[0-9]{1,5}(-[0-9]{1,5})?$")
    remote: IPv4Net = ipaddress.IPv4Network("0.0.0.0/0")
    # Ingress from 0.0.0.0/0 is only allowed on ports declared public.
    public: bool = False
    description: str = ""

    @field_validator("ports", mode="before")
    @classmethod
    def _port_number(cls, value: object) -> object:
        """``ports: 22`` means ``ports: "22"``."""
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("ports")
    @classmethod
    def _ports_valid(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            low, _, high = value.partition("-")
            lo, hi = int(low), int(high or low)
            if not (1 <= lo <= hi <= 65535):
                raise ValueError(f"ports {value!r} is not a range in 1-65535")
            protocol = info.data.get("protocol")
            if protocol in ("icmp", "any"):
                raise ValueError(f"protocol {protocol} takes no ports")
        return value

    @property
    def port_range(self) -> tuple[int, int] | None:
        if self.ports is None:
            return None
        low, _, high = self.ports.partition("-")
        return int(low), int(high or low)


class Workload(Model):
    name: Slug
    kind: Literal["vm", "container"] = "vm"
    flavor: str | None = None
    image: str | None = None
    replicas: Int = Field(default=1, ge=0, le=100)
    volume_gb: Int = Field(default=0, ge=0)
    storage_pool: str | None = None
    # Container sizing (kubernetes): requests per replica.
    cpu: Float | None = Field(default=None, gt=0)
    memory_mb: Int | None = Field(default=None, gt=0)


class Access(Model):
    """Who may use an app: tiers, platform roles, and optionally departments."""

    tiers: list[Tier] = [Tier.CITY, Tier.COUNTY, Tier.TOWNSHIP, Tier.VILLAGE]
    roles: list[str] = ["staff"]
    departments: list[str] = []
    # owner: only the owning organisation's subtree; city: every organisation.
    scope: Literal["owner", "city"] = "owner"


class App(Model):
    name: Name = Field(min_length=1, max_length=80)
    slug: Slug | None = None
    url: str | None = None
    description: str = ""
    workloads: list[Workload] = []
    access: Access = Access()


class TenantNetwork(Model):
    cidr: IPv4Net
    dns: list[IPv4Addr] = []

    @field_validator("cidr")
    @classmethod
    def _private(cls, value: IPv4Net) -> IPv4Net:
        if not value.is_private:
            raise ValueError(f"tenant network {value} must be a private range")
        if value.prefixlen > 28:
            raise ValueError(f"tenant network {value} is too small (at most /28)")
        return value


class Tenant(Model):
    """A department's system hosted on the city cloud."""

    name: Name = Field(min_length=1, max_length=80)
    slug: Slug | None = None
    department: Name = Field(min_length=1)
    owner: str = Field(pattern=r"^[0-9]{2,12}$", description="owning organisation code")
    tier: Tier | None = None
    kind: Literal["vm", "container"] = "vm"
    priority: Priority = Priority.NORMAL
    preemptible: bool = False
    network: TenantNetwork
    quotas: Quotas = Quotas()
    security: list[SecurityRule] = []
    apps: list[App] = []
    hosts: list[str] = Field(default=[], description="restrict VMs to these hosts")
    admins: list[str] = Field(default=[], description="Keycloak usernames")


class PlatformRole(Model):
    name: Slug
    description: str = ""


DEFAULT_ROLES = (
    PlatformRole(name="cloud-admin", description="云平台管理员 / cloud administrator"),
    PlatformRole(name="ops", description="运维人员 / operations"),
    PlatformRole(name="tenant-admin", description="租户管理员 / tenant administrator"),
    PlatformRole(name="staff", description="工作人员 / staff"),
    PlatformRole(name="auditor", description="审计员 / auditor"),
)


class SpecDocument(Model):
    """The whole spec once its files are merged."""

    city: City
    organisations: list[Organisation] = []
    divisions: list[DivisionsImport] = []
    datacenter: DataCenter
    tenants: list[Tenant] = []
    roles: list[PlatformRole] = list(DEFAULT_ROLES)
