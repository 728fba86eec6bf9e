"""A reduced Chifeng spec sized for the test OpenStack (three small compute
hosts), written to a folder so tests and the bench can change it and re-plan.

The city and its government tree are Chifeng's; the tenants are a handful of
real-sounding departments with Chinese names. The data center matches what
scripts/devcloud runs: compute hosts cn-01..cn-03, a flat external network on
physnet1, tiny flavors and a raw image.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

CITY: dict[str, Any] = {
    "city": {"name": "赤峰市", "code": "1504", "slug": "chifeng"},
    "organisations": [
        {"code": "1504", "name": "赤峰市", "level": "city"},
        {"code": "150402", "name": "红山区", "level": "county", "parent": "1504"},
        {"code": "150404", "name": "松山区", "level": "county", "parent": "1504"},
        {"code": "150421", "name": "阿鲁科尔沁旗", "level": "county", "parent": "1504"},
    ],
}

DATACENTER: dict[str, Any] = {
    "datacenter": {
        "name": "chifeng-test",
        "regions": [{"name": "RegionOne"}],
        "racks": [
            {"name": "r01", "region": "RegionOne", "zone": "az1"},
            {"name": "r02", "region": "RegionOne", "zone": "az2"},
        ],
        "hosts": [
            {
                "name": "cn-01",
                "rack": "r01",
                "role": "compute",
                "address": "10.10.1.21",
                "cpu": 10,
                "ram_gb": 8,
                "disk_gb": 100,
            },
            {
                "name": "cn-02",
                "rack": "r01",
                "role": "compute",
                "address": "10.10.1.22",
                "cpu": 10,
                "ram_gb": 8,
                "disk_gb": 100,
            },
            {
                "name": "cn-03",
                "rack": "r02",
                "role": "compute",
                "address": "10.10.2.21",
                "cpu": 10,
                "ram_gb": 8,
                "disk_gb": 100,
            },
        ],
        "provider_networks": [
            {
                "name": "external",
                "physical_network": "physnet1",
                "type": "flat",
                "cidr": "198.51.100.0/24",
                "gateway": "198.51.100.1",
                "floating_range": ["198.51.100.100", "198.51.100.200"],
            },
        ],
        "flavors": [
            {"name": "c1.m512", "vcpus": 1, "ram_mb": 512, "disk_gb": 1},
            {"name": "c2.m1024", "vcpus": 2, "ram_mb": 1024, "disk_gb": 1},
        ],
        "images": [{"name": "tiny-raw", "disk_format": "raw"}],
    }
}


def tenant(
    slug: str,
    name: str,
    index: int,
    *,
    owner: str = "150402",
    quotas: dict[str, int] | None = None,
    servers: int = 0,
    volume_gb: int = 0,
    security: list[dict[str, Any]] | None = None,
    network: str = "10.77",
) -> dict[str, Any]:
    """One VM tenant with network <network>.<index>.0/24."""
    body: dict[str, Any] = {
        "name": name,
        "slug": slug,
        "department": f"{name}主管部门",
        "owner": owner,
        "network": {"cidr": f"{network}.{index}.0/24"},
        "quotas": quotas
        or {
            "instances": 4,
            "cores": 8,
            "ram_mb": 4096,
            "volumes": 4,
            "gigabytes": 20,
            "networks": 2,
            "security_groups": 5,
            "security_group_rules": 30,
        },
        "security": security
        if security is not None
        else [
            {
                "protocol": "tcp",
                "ports": "443",
                "public": True,
                "description": "HTTPS 服务",
            }
        ],
    }
    if servers:
        workload: dict[str, Any] = {
            "name": "app",
            "flavor": "c1.m512",
            "image": "tiny-raw",
            "replicas": servers,
        }
        if volume_gb:
            workload["volume_gb"] = volume_gb
        body["apps"] = [{"name": f"{name}系统", "slug": "sys", "workloads": [workload]}]
    return body


def default_tenants() -> list[dict[str, Any]]:
    return [
        tenant("oa", "协同办公", 1, servers=1, volume_gb=1),
        tenant("hr", "人事管理", 2, owner="150404", servers=1),
        tenant(
            "risk",
            "应急管理",
            3,
            owner="1504",
            security=[
                {
                    "protocol": "tcp",
                    "ports": "22",
                    "remote": "10.0.0.0/8",
                    "description": "运维 SSH",
                },
                {
                    "protocol": "udp",
                    "ports": "5060-5061",
                    "remote": "10.0.0.0/8",
                    "description": "语音调度",
                },
            ],
        ),
        tenant("edu", "教育服务", 4, owner="150421"),
    ]


def write_spec(
    folder: Path, tenants: list[dict[str, Any]], domain: str | None = None
) -> Path:
    """Write city.yaml, datacenter.yaml and tenants.yaml into ``folder``.

    ``domain`` puts the city in another Keystone domain than "chifeng", so
    that a benchmark can run beside the tests without touching their tenants.
    """
    city = copy.deepcopy(CITY)
    if domain is not None:
        city["city"]["domain"] = domain
    folder.mkdir(parents=True, exist_ok=True)
    yaml = YAML()
    yaml.allow_unicode = True
    for name, body in (
        ("city.yaml", city),
        ("datacenter.yaml", DATACENTER),
        ("tenants.yaml", {"tenants": tenants}),
    ):
        with (folder / name).open("w", encoding="utf-8") as handle:
            yaml.dump(copy.deepcopy(body), handle)
    return folder
