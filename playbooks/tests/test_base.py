"""Checks of the base role: every host."""

from __future__ import annotations

from typing import Any

from conftest import Node


def test_base_packages_are_installed(host: Any, node: Node) -> None:
    for name in node.var(
        "base_packages", ["chrony", "openssh-server", "sudo", "logrotate"]
    ):
        assert host.package(name).is_installed, name


def test_hostname_is_the_inventory_name(host: Any, node: Node) -> None:
    assert host.file("/etc/hostname").content_string.strip() == node.name


def test_every_host_is_named_in_etc_hosts(host: Any, node: Node) -> None:
    lines = host.file("/etc/hosts").content_string.splitlines()
    for other in node.others:
        assert f"{other['address']} {other['name']}" in lines


def test_chrony_follows_the_controllers(host: Any, node: Node) -> None:
    config = host.file("/etc/chrony/chrony.conf").content_string
    controllers = node.addresses_of("controller")
    if node.role == "controller" or not controllers:
        assert "pool pool.ntp.org iburst" in config
    else:
        for address in controllers:
            assert f"server {address} iburst" in config
        assert "pool " not in config
    assert "makestep 1.0 3" in config


def test_controllers_serve_time(host: Any, node: Node) -> None:
    config = host.file("/etc/chrony/chrony.conf").content_string
    assert ("allow 10.0.0.0/8" in config) == (node.role == "controller")


def test_kernel_hardening_is_written(host: Any) -> None:
    conf = host.file("/etc/sysctl.d/60-citycloud-base.conf")
    assert conf.mode == 0o644
    lines = conf.content_string.splitlines()
    for setting in (
        "kernel.kptr_restrict = 2",
        "kernel.dmesg_restrict = 1",
        "net.ipv4.tcp_syncookies = 1",
        "net.ipv4.conf.all.accept_redirects = 0",
    ):
        assert setting in lines


def test_kernel_hardening_is_applied(host: Any, runtime: None) -> None:
    assert host.sysctl("kernel.kptr_restrict") == 2


def test_ssh_daemon_accepts_its_configuration(host: Any) -> None:
    check = host.run("/usr/sbin/sshd -t")
    assert check.rc == 0, check.stderr


def test_ssh_daemon_is_hardened(host: Any) -> None:
    dropin = host.file("/etc/ssh/sshd_config.d/60-citycloud.conf")
    assert dropin.user == "root"
    assert dropin.mode == 0o600
    effective = host.run("/usr/sbin/sshd -T").stdout.lower().splitlines()
    assert "permitrootlogin no" in effective
    assert "passwordauthentication no" in effective
    assert "x11forwarding no" in effective
    assert "allowgroups citycloud-ops" in effective


def test_ops_group_may_use_sudo(host: Any) -> None:
    assert host.group("citycloud-ops").exists
    sudoers = host.file("/etc/sudoers.d/citycloud-ops")
    assert sudoers.mode == 0o440
    assert "%citycloud-ops ALL=(ALL:ALL) NOPASSWD: ALL" in sudoers.content_string
    check = host.run("/usr/sbin/visudo -c")
    assert check.rc == 0, check.stdout + check.stderr


def test_ops_accounts_have_their_keys(host: Any, node: Node) -> None:
    for account in node.var("base_ops_users", []):
        user = host.user(account["name"])
        if account.get("state", "present") == "absent":
            assert not user.exists
            continue
        assert user.exists
        assert "citycloud-ops" in user.groups
        keys = host.file(f"{user.home}/.ssh/authorized_keys").content_string
        for key in account.get("ssh_keys", []):
            assert key in keys


def test_journald_retention_is_bounded(host: Any) -> None:
    conf = host.file("/etc/systemd/journald.conf.d/60-citycloud.conf").content_string
    assert "SystemMaxUse=2G" in conf
    assert "MaxRetentionSec=3month" in conf


def test_citycloud_logs_are_rotated(host: Any) -> None:
    policy = host.file("/etc/logrotate.d/citycloud")
    assert "rotate 30" in policy.content_string
    check = host.run("logrotate --debug /etc/logrotate.d/citycloud")
    assert check.rc == 0, check.stderr
