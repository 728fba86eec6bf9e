"""Checks of the compute role: virtualisation prerequisites."""

from __future__ import annotations

from typing import Any

ROLES = {"compute"}


def test_qemu_is_installed(host: Any) -> None:
    for name in ("qemu-system-x86", "qemu-utils"):
        assert host.package(name).is_installed, name
    assert host.run("qemu-img --version").rc == 0
    assert host.run("qemu-system-x86_64 --version").rc == 0


def test_virtualisation_modules_load_at_boot(host: Any) -> None:
    lines = host.file("/etc/modules-load.d/citycloud-compute.conf").content_string
    for module in ("kvm", "vhost_net", "br_netfilter"):
        assert module in lines.splitlines()


def test_nested_virtualisation_is_on(host: Any) -> None:
    options = host.file("/etc/modprobe.d/citycloud-kvm.conf").content_string
    assert "options kvm_intel nested=1" in options
    assert "options kvm_amd nested=1" in options


def test_guest_traffic_is_forwarded(host: Any) -> None:
    lines = host.file("/etc/sysctl.d/60-citycloud-compute.conf").content_string
    assert "net.ipv4.ip_forward = 1" in lines.splitlines()
    assert "net.bridge.bridge-nf-call-iptables = 1" in lines.splitlines()


def test_instances_directory_exists(host: Any) -> None:
    assert host.file("/var/lib/nova/instances").is_directory
