"""Typed models of the city spec: what cloud ops and departments write.

Every model forbids unknown fields, so a typo is an error that names the file,
line and field instead of a setting silently ignored. Cross-object rules
(duplicates, overlaps, envelopes) live in :mod:`citycloud.spec.checks`.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Slug = Annotated[
    str,
    Field(
        pattern=r"^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$",
        description="DNS label: lowercase letters, digits and '-', at most 40",
    ),
]


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

    instances: int | None = Field(default=None, ge=-1)
    cores: int | None = Field(default=None, ge=-1)
    ram_mb: int | None = Field(default=None, ge=-1)
    volumes: int | None = Field(default=None, ge=-1)
    gigabytes: int | None = Field(default=None, ge=-1)
    floating_ips: int | None = Field(default=None, ge=-1)
    networks: int | None = Field(default=None, ge=-1)
    security_groups: int | None = Field(default=None, ge=-1)
    security_group_rules: int | None = Field(default=None, ge=-1)

    def items_set(self) -> dict[str, int]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class AuditSettings(Model):
    retention_days: int = Field(default=180, ge=180)


class IdentitySettings(Model):
    realm: Slug | None = None
    events_retention_days: int = Field(default=180, ge=1)
    admin_events_retention_days: int = Field(default=365, ge=1)
    # Keycloak server the realm lives on; only used by the identity adapter.
    url: str | None = None


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
    name: str = Field(min_length=1)
    code: str = Field(pattern=r"^\d{4}$", description="statistical code, 4 digits")
    slug: Slug
    timezone: str = "Asia/Shanghai"
    domain: Slug | None = None
    audit: AuditSettings = AuditSettings()
    identity: IdentitySettings = IdentitySettings()
    kubernetes: KubernetesSettings = KubernetesSettings()
    monitoring: MonitoringSettings = MonitoringSettings()


class Organisation(Model):
    """A unit of government. ``code`` is its statistical division code."""

    code: str = Field(pattern=r"^\d{2,12}$")
    name: str = Field(min_length=1, max_length=64)
    level: Tier
    parent: str | None = Field(default=None, pattern=r"^\d{2,12}$")
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
    address: ipaddress.IPv4Address
    cpu: int = Field(gt=0, description="physical cores")
    ram_gb: int = Field(gt=0)
    disk_gb: int = Field(gt=0)
    maintenance: bool = False
    # Where the hypervisor has another name than the host (Nova's host name).
    hypervisor: str | None = None


class ProviderNetwork(Model):
    name: Slug
    physical_network: str
    type: Literal["flat", "vlan"] = "flat"
    segmentation_id: int | None = Field(default=None, ge=1, le=4094)
    cidr: ipaddress.IPv4Network
    gateway: ipaddress.IPv4Address | None = None
    floating_range: tuple[ipaddress.IPv4Address, ipaddress.IPv4Address] | None = None
    external: bool = True

    @model_validator(mode="after")
    def _range_inside(self) -> ProviderNetwork:
        if self.floating_range is not None:
            start, end = self.floating_range
            if start not in self.cidr or end not in self.cidr:
                raise ValueError(f"floating_range must lie inside {self.cidr}")
            if int(start) > int(end):
                raise ValueError("floating_range starts after it ends")
        if self.type == "vlan" and self.segmentation_id is None:
            raise ValueError("a vlan network needs segmentation_id")
        return self


class StoragePool(Model):
    name: Slug
    backend: Literal["ceph", "lvm", "nfs", "fake"] = "ceph"
    capacity_gb: int = Field(gt=0)
    volume_type: Slug


class Flavor(Model):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{0,62}$")
    vcpus: int = Field(gt=0)
    ram_mb: int = Field(gt=0)
    disk_gb: int = Field(ge=0)


class Image(Model):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{0,62}$")
    disk_format: Literal["raw", "qcow2"] = "qcow2"
    min_disk_gb: int = Field(default=0, ge=0)
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
    cpu_allocation_ratio: float = Field(default=4.0, gt=0)
    ram_allocation_ratio: float = Field(default=1.0, gt=0)


class Port(Model):
    """One port or a range, as in ``443`` or ``8000-8080``."""

    low: int = Field(ge=1, le=65535)
    high: int = Field(ge=1, le=65535)


class SecurityRule(Model):
    direction: Literal["ingress", "egress"] = "ingress"
    protocol: Literal["tcp", "udp", "icmp", "any"] = "tcp"
    ports: str | None = Field(default=None, pattern=r"^\d{1,5}(-\d{1,5})?$")
    remote: ipaddress.IPv4Network = ipaddress.IPv4Network("0.0.0.0/0")
    # Ingress from 0.0.0.0/0 is only allowed on ports declared public.
    public: bool = False
    description: str = ""

    @model_validator(mode="after")
    def _ports_valid(self) -> SecurityRule:
        if self.ports is not None:
            low, _, high = self.ports.partition("-")
            lo, hi = int(low), int(high or low)
            if not (1 <= lo <= hi <= 65535):
                raise ValueError(f"ports {self.ports!r} is not a range in 1-65535")
            if self.protocol in ("icmp", "any"):
                raise ValueError(f"protocol {self.protocol} takes no ports")
        return self

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
    replicas: int = Field(default=1, ge=0, le=100)
    volume_gb: int = Field(default=0, ge=0)
    storage_pool: str | None = None
    # Container sizing (kubernetes): requests per replica.
    cpu: float | None = Field(default=None, gt=0)
    memory_mb: int | None = Field(default=None, gt=0)


class Access(Model):
    """Who may use an app: tiers, platform roles, and optionally departments."""

    tiers: list[Tier] = [Tier.CITY, Tier.COUNTY, Tier.TOWNSHIP, Tier.VILLAGE]
    roles: list[str] = ["staff"]
    departments: list[str] = []
    # owner: only the owning organisation's subtree; city: every organisation.
    scope: Literal["owner", "city"] = "owner"


class App(Model):
    name: str = Field(min_length=1, max_length=80)
    slug: Slug | None = None
    url: str | None = None
    description: str = ""
    workloads: list[Workload] = []
    access: Access = Access()


class TenantNetwork(Model):
    cidr: ipaddress.IPv4Network
    dns: list[ipaddress.IPv4Address] = []

    @field_validator("cidr")
    @classmethod
    def _private(cls, value: ipaddress.IPv4Network) -> ipaddress.IPv4Network:
        if not value.is_private:
            raise ValueError(f"tenant network {value} must be a private range")
        if value.prefixlen > 28:
            raise ValueError(f"tenant network {value} is too small (at most /28)")
        return value


class Tenant(Model):
    """A department's system hosted on the city cloud."""

    name: str = Field(min_length=1, max_length=80)
    slug: Slug | None = None
    department: str = Field(min_length=1)
    owner: str = Field(pattern=r"^\d{2,12}$", description="owning organisation code")
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
