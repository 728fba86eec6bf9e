"""scripts/devcloud without the services: its process bookkeeping (start only
what is not running, stop whole process groups, never trust a reused PID) and
the configuration that makes the compute hosts exactly 10 vCPU / 8192 MB."""

from __future__ import annotations

import configparser
import importlib.machinery
import importlib.util
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "devcloud"


def load_devcloud(run_dir: Path, port_base: int = 15000) -> ModuleType:
    """A fresh copy of the script as a module, bound to run_dir."""
    os.environ["CITYCLOUD_RUN_DIR"] = str(run_dir)
    os.environ["CITYCLOUD_DEVCLOUD_PORT_BASE"] = str(port_base)
    # The script has no .py suffix: keep its bytecode out of scripts/.
    writes_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        loader = importlib.machinery.SourceFileLoader("devcloud_script", str(SCRIPT))
        spec = importlib.util.spec_from_loader(loader.name, loader)
        assert spec is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[loader.name] = module
        loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = writes_bytecode
        del os.environ["CITYCLOUD_RUN_DIR"], os.environ["CITYCLOUD_DEVCLOUD_PORT_BASE"]
    for folder in ("log", "pid", "lib"):
        (module.RUN / folder).mkdir(parents=True, exist_ok=True)
    return module


@pytest.fixture
def devcloud(tmp_path: Path) -> ModuleType:
    return load_devcloud(tmp_path)


def group_members(dc: ModuleType, group: int) -> int:
    return sum(
        1
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and _in_live_group(dc, int(entry.name), group)
    )


def _in_live_group(dc: ModuleType, pid: int, group: int) -> bool:
    try:
        stat = dc._stat(pid)
    except OSError:
        return False
    return int(stat[2]) == group and stat[0] != "Z"


def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_start_twice_runs_one_process(devcloud: ModuleType) -> None:
    toy = devcloud.Process("toy", ["sleep", "300"])

    devcloud.start(toy)
    first = devcloud.recorded_pid(toy)
    devcloud.start(toy)

    assert first is not None
    assert devcloud.recorded_pid(toy) == first
    devcloud.stop([toy])
    assert devcloud.recorded_pid(toy) is None
    assert not toy.pid_file.exists()


def test_stop_ends_the_workers_of_the_group_too(devcloud: ModuleType) -> None:
    toy = devcloud.Process("toy", ["sh", "-c", "sleep 300 & sleep 300 & wait"])
    devcloud.start(toy)
    leader = devcloud.recorded_pid(toy)
    wait_until(lambda: group_members(devcloud, leader) == 3)

    devcloud.stop([toy])

    wait_until(lambda: group_members(devcloud, leader) == 0)
    assert group_members(devcloud, leader) == 0


def test_workers_orphaned_by_a_dead_leader_are_killed_before_a_restart(
    devcloud: ModuleType,
) -> None:
    toy = devcloud.Process("toy", ["sh", "-c", "sleep 300 & sleep 300 & wait"])
    devcloud.start(toy)
    old = devcloud.recorded_pid(toy)
    wait_until(lambda: group_members(devcloud, old) == 3)
    os.kill(old, signal.SIGKILL)
    os.waitpid(old, 0)  # the leader is this test's child: reap it

    devcloud.start(toy)
    new = devcloud.recorded_pid(toy)
    wait_until(lambda: group_members(devcloud, old) == 0)

    assert new not in (None, old)
    assert group_members(devcloud, old) == 0
    devcloud.stop([toy])


def test_a_recorded_pid_now_used_by_another_process_is_not_ours(
    devcloud: ModuleType,
) -> None:
    toy = devcloud.Process("toy", ["sleep", "300"])
    # This test's own PID, with a start time that is not its own.
    toy.pid_file.write_text(f"{os.getpid()} 1\n")

    assert devcloud.recorded_pid(toy) is None


def test_compute_hosts_offer_exact_sizes(devcloud: ModuleType) -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(devcloud.compute_conf("cn-02"))
    default = parser["DEFAULT"]

    assert default["host"] == "cn-02"
    assert default["compute_driver"] == "fake.MediumFakeDriver"
    assert float(default["cpu_allocation_ratio"]) == 1.0
    assert float(default["ram_allocation_ratio"]) == 1.0
    assert int(default["reserved_host_memory_mb"]) == 0
    assert int(default["graceful_shutdown_timeout"]) == 5
    assert not parser.has_section("database")  # computes go through the conductor


def test_nova_sends_a_service_token_for_cinder(devcloud: ModuleType) -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(devcloud.nova_conf())

    assert parser["service_user"]["send_service_user_token"] == "true"


@pytest.mark.parametrize("base", [15000, 16000], ids=["default", "shifted"])
def test_every_service_listens_on_loopback_in_its_port_range(
    tmp_path: Path, base: int
) -> None:
    dc = load_devcloud(tmp_path, base)

    assert dc.HOST == "127.0.0.1"
    assert all(base <= port < base + 1000 for port in dc.PORTS.values())
    assert len(set(dc.PORTS.values())) == len(dc.PORTS)
    keystone_url = dc.KEYSTONE_URL
    assert keystone_url == f"http://127.0.0.1:{base}"
