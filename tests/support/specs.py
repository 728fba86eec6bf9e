"""Small specs written on the fly for tests of bad input."""

from __future__ import annotations

from pathlib import Path

CITY = """\
city: {name: 赤峰市, code: "1504", slug: chifeng}
datacenter:
  name: dc1
  regions: [{name: RegionOne}]
  racks: [{name: r01, region: RegionOne, zone: az1}]
  flavors: [{name: c2.m4, vcpus: 2, ram_mb: 4096, disk_gb: 20}]
  images: [{name: debian-12}]
"""


def tenant(
    slug: str = "gis", cidr: str = "10.20.1.0/24", owner: str = "1504", extra: str = ""
) -> str:
    return f"""\
  - name: 租户{slug}
    slug: {slug}
    department: 数据局
    owner: "{owner}"
    network: {{cidr: {cidr}}}
{extra}"""


def write(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path
