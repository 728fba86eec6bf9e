"""Checks of the storage role."""

from __future__ import annotations

from typing import Any

ROLES = {"storage"}


def test_storage_tools_are_installed(host: Any) -> None:
    for name in ("lvm2", "xfsprogs", "smartmontools"):
        assert host.package(name).is_installed, name
    assert host.run("mkfs.xfs -V").rc == 0


def test_lvm_passes_discards(host: Any) -> None:
    # lvmconfig needs /proc, which a chroot host lacks: read the file instead.
    lines = host.file("/etc/lvm/lvm.conf").content_string.splitlines()
    settings = [line.strip() for line in lines if line.strip().startswith("issue_")]
    assert settings == ["issue_discards = 1"]


def test_disks_get_a_scheduler_by_kind(host: Any) -> None:
    rules = host.file("/etc/udev/rules.d/60-citycloud-io-scheduler.rules")
    assert 'ATTR{queue/scheduler}="mq-deadline"' in rules.content_string
    assert 'ATTR{queue/scheduler}="none"' in rules.content_string


def test_storage_data_directory_is_private(host: Any) -> None:
    folder = host.file("/srv/citycloud/storage")
    assert folder.is_directory
    assert folder.mode == 0o750


def test_write_back_is_tuned(host: Any) -> None:
    lines = host.file("/etc/sysctl.d/60-citycloud-storage.conf").content_string
    assert "vm.dirty_ratio = 10" in lines.splitlines()
