"""A cloud as the scheduler's binding reads it: Placement and Nova's server
list, holding only what the unit tests give them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from citycloud.scheduler import Workload
from citycloud.scheduler.binding import (
    CREATE,
    EVICT,
    OFFLOADED,
    SERVER_ID,
    UNSHELVE,
    Binding,
)


def namespace(**attrs: Any) -> Any:
    return SimpleNamespace(**attrs)


class FakePlacement:
    """Two compute providers and a sharing one, with allocations by consumer."""

    def __init__(
        self,
        allocations: dict[str, dict[str, Any]] | None = None,
        size: tuple[int, int, int] = (10, 8192, 100),
    ) -> None:
        self.names = {"rp-1": "cn-01", "rp-2": "cn-02", "rp-3": "shared-disk"}
        self.size = size
        self.allocations = allocations or {
            "rp-1": {"vm-a": {"VCPU": 2, "MEMORY_MB": 1024}},
            "rp-2": {},
            "rp-3": {"vm-a": {"DISK_GB": 10}},
        }

    def resource_providers(self) -> list[Any]:
        return [namespace(id=k, name=v) for k, v in self.names.items()]

    def get(self, url: str) -> Any:
        rp = url.split("/")[2]
        vcpus, ram_mb, disk_gb = self.size
        if url.endswith("inventories"):
            body: dict[str, Any] = {
                "inventories": {
                    "VCPU": {"total": vcpus, "reserved": 0, "allocation_ratio": 4.0},
                    "MEMORY_MB": {
                        "total": ram_mb,
                        "reserved": 512,
                        "allocation_ratio": 1.0,
                    },
                    "DISK_GB": {
                        "total": disk_gb,
                        "reserved": 0,
                        "allocation_ratio": 1.0,
                    },
                }
            }
            if rp == "rp-3":
                body = {"inventories": {"DISK_GB": body["inventories"]["DISK_GB"]}}
        else:
            body = {
                "allocations": {
                    consumer: {"resources": amounts}
                    for consumer, amounts in self.allocations[rp].items()
                }
            }
        return namespace(json=lambda: body)


# The project of the servers a fake cloud lists unless told otherwise, and
# the one its admin connection is scoped to.
ADMIN_PROJECT = "p-admin"


def server(
    id: str,
    name: str,
    status: str,
    launched: str | None = None,
    *,
    project_id: str = ADMIN_PROJECT,
    task_state: str | None = None,
) -> Any:
    return namespace(
        id=id,
        name=name,
        status=status,
        launched_at=launched,
        created_at=None,
        project_id=project_id,
        task_state=task_state,
    )


class FakeCompute:
    def __init__(self, servers: list[Any]) -> None:
        self.listed = servers

    def servers(self, **query: Any) -> list[Any]:
        assert query.get("all_projects") is True
        return self.listed


def fake_conn(
    placement: FakePlacement,
    compute: FakeCompute,
    projects: dict[str, str] | None = None,
) -> Any:
    """An admin connection, scoped to ADMIN_PROJECT, to a fake cloud whose
    Keystone knows `projects` (name -> id) besides the admin's own."""
    known = {"admin": ADMIN_PROJECT, **(projects or {})}
    return namespace(
        placement=placement,
        compute=compute,
        identity=FakeIdentity(known),
        current_project_id=ADMIN_PROJECT,
    )


class RecordingBinder:
    """Binds without a cloud: each call is recorded and succeeds, unless
    told to misplace servers or to leave evicted ones stuck."""

    def __init__(
        self, conn: Any = None, *, misplace: bool = False, stuck: bool = False
    ) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.misplace = misplace
        self.stuck = stuck

    def bind(self, workload: Workload, host: str) -> Binding:
        action = UNSHELVE if workload.extra.get(SERVER_ID) else CREATE
        self.calls.append((action, workload.key, host))
        actual = "elsewhere" if self.misplace else host
        return Binding(
            workload.key, host, "id-1", workload.key, actual, "ACTIVE", action
        )

    def evict(self, workload: Workload, host: str) -> Binding:
        self.calls.append((EVICT, workload.key, host))
        if self.stuck:
            return Binding(
                workload.key, host, "id-9", workload.key, host, "ERROR", EVICT
            )
        return Binding(workload.key, host, "id-9", workload.key, None, OFFLOADED, EVICT)


class FakeIdentity:
    """Keystone's project list: name -> id."""

    def __init__(self, projects: dict[str, str]) -> None:
        self.listed = projects

    def projects(self) -> list[Any]:
        return [namespace(id=i, name=n) for n, i in self.listed.items()]


class ScriptedNova:
    """Nova's compute API for one server that shows the given states, as
    (status, task_state, host), one per read (the last one from then on).
    Shelving refuses the states Nova refuses; the actions asked are kept."""

    def __init__(self, states: list[tuple[str, str | None, str | None]]) -> None:
        self.states = list(states)
        self.actions: list[str] = []

    def get_server(self, server_id: str) -> Any:
        status, task, on = self.states[0]
        if len(self.states) > 1:
            self.states.pop(0)
        return namespace(
            id=server_id,
            status=status,
            task_state=task,
            compute_host=on,
            hypervisor_hostname=on,
        )

    def shelve_server(self, server_id: str) -> None:
        from openstack.exceptions import ConflictException

        status = self.states[0][0]
        if status not in {"ACTIVE", "SHUTOFF", "PAUSED", "SUSPENDED"}:
            raise ConflictException(f"Cannot 'shelve' instance while it is {status}")
        self.actions.append("shelve")

    def shelve_offload_server(self, server_id: str) -> None:
        self.actions.append("offload")
