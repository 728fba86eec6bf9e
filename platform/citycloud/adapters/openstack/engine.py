"""The OpenStack engine: observe the ``cloud`` and ``openstack`` layers live
and carry out a plan for them through Ansible.

Observation is in-process with openstacksdk (seconds for dozens of tenants);
changes go through the openstack.cloud collection, one inventory host per
tenant that the plan changes, so a no-op apply costs only the observation.
Every check that reads live state runs before the first write: conflicts with
other domains' names and networks during observation, quota cuts below usage
at the start of apply.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import openstack
from openstack.connection import Connection

from citycloud.adapters.ansible.runner import RunResult, run_playbook
from citycloud.adapters.ansible.tenants import (
    OpsUser,
    all_tenant_hosts,
    cloud_vars,
    tenant_hosts,
)
from citycloud.adapters.openstack.conflicts import TenantIntent, check_conflicts
from citycloud.adapters.openstack.errors import mapped
from citycloud.adapters.openstack.guards import below_usage, refuse_quota_cuts
from citycloud.adapters.openstack.live import (
    QUOTA_FIELDS,
    LiveCloud,
    read_live,
    read_quotas,
)
from citycloud.adapters.openstack.observe import observe
from citycloud.desired.model import DesiredState, Resource
from citycloud.errors import PermanentError
from citycloud.i18n import register, t
from citycloud.plan.model import Action, Plan
from citycloud.spec.tree import Spec

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
ENGINES = ("ansible", "pulumi")

register(
    {
        "openstack.engine.unknown": {
            "zh": "未知的执行引擎 {engine}（可选：{choices}）",
            "en": "unknown engine {engine} (choose from {choices})",
        },
        "openstack.engine.pulumi": {
            "zh": "无法确定规格文件位置，Pulumi 引擎需要它；请使用 --engine ansible",
            "en": "the Pulumi engine needs the spec's location, which is unknown; "
            "use --engine ansible",
        },
        "openstack.cloud.delete": {
            "zh": "不会自动删除云级共享资源：{items}",
            "en": "shared cloud resources are never deleted automatically: {items}",
        },
    }
)


def connect(cloud: str) -> Connection:
    """A connection to the cloud named in clouds.yaml."""
    with mapped(f"connect to cloud {cloud}"):
        return openstack.connect(cloud=cloud)


def close_connection(conn: Connection) -> None:
    """Release a connection's thread pool and its pooled HTTP connections.

    openstacksdk's close() stops the thread pool only; the keystoneauth
    session's requests.Session keeps its sockets until closed itself.
    """
    conn.close()
    conn.session.session.close()


def ops_user(conn: Connection) -> OpsUser:
    """The user the connection authenticates as (the engine's operator)."""
    auth: dict[str, Any] = dict(conn.config.config.get("auth") or {})
    domain = auth.get("user_domain_name") or auth.get("user_domain_id") or "Default"
    return OpsUser(name=str(auth.get("username", "admin")), domain=str(domain))


def _domain_name(desired: DesiredState, spec: Spec | None) -> str:
    domains = desired.kind("cloud", "domain")
    if domains:
        return str(domains[0].attrs["name"])
    if spec is not None:
        return spec.domain
    raise PermanentError("openstack", "the desired state names no domain")


def intents(desired: DesiredState) -> list[TenantIntent]:
    """What the conflict checks need from the desired ``openstack`` layer."""
    found = []
    for project in desired.kind("openstack", "project"):
        slug = str(project.tenant)
        cidrs = tuple(
            str(s.attrs["cidr"])
            for s in desired.kind("openstack", "subnet")
            if s.tenant == slug
        )
        found.append(TenantIntent(slug, str(project.attrs["name"]), cidrs))
    return found


def _spec_path(spec: Spec | None) -> Path | None:
    """The spec file or folder the loaded spec came from, if known."""
    if spec is None:
        return None
    files = {Path(f) for f, _line in spec.sources.lines.values()}
    if len(files) == 1:
        return files.pop()
    parents = {f.parent for f in files}
    return parents.pop() if len(parents) == 1 else None


def image_files(spec: Spec | None) -> dict[str, str]:
    """The spec's image files by image name, relative paths taken from the
    spec file that declares them. A URL is refused: nothing is downloaded."""
    if spec is None:
        return {}
    found: dict[str, str] = {}
    for index, image in enumerate(spec.datacenter.images):
        if image.source is None:
            continue
        if "://" in image.source:
            raise PermanentError(
                "openstack",
                f"image {image.name}: source {image.source} is a URL; download it "
                "and give the file's path",
            )
        declared, _line = spec.sources.locate(("datacenter", "images", index))
        path = Path(image.source)
        if not path.is_absolute():
            path = Path(declared).parent / path
        if not path.is_file():
            raise PermanentError("openstack", f"image {image.name}: no file {path}")
        found[image.name] = str(path)
    return found


def _placeholder_image(directory: Path) -> Path:
    # Test and bootstrap images without a source get a small blank disk; a
    # real site names its image files in the spec's datacenter.images.
    path = directory / "blank.img"
    with path.open("wb") as handle:
        handle.truncate(1024 * 1024)
    return path


class OpenStackEngine:
    """Engine for the ``cloud`` and ``openstack`` layers of one cloud."""

    name = "openstack"
    layers: Sequence[str] = ("cloud", "openstack")

    def __init__(
        self,
        cloud: str,
        *,
        engine: str = "ansible",
        force_quota: bool = False,
        forks: int = 5,
        connection: Connection | None = None,
    ) -> None:
        if engine not in ENGINES:
            raise PermanentError(
                "openstack",
                t(
                    "openstack.engine.unknown",
                    engine=engine,
                    choices=", ".join(ENGINES),
                ),
            )
        self.cloud = cloud
        self.engine = engine
        self.force_quota = force_quota
        self.forks = forks
        self._conn = connection
        self._owns_conn = False
        self.live: LiveCloud | None = None
        self.last_runs: list[RunResult] = []

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            self._conn = connect(self.cloud)
            self._owns_conn = True
        return self._conn

    def close(self) -> None:
        """Close the connection this engine opened (one it was given is the
        caller's): its HTTP connections, not only the SDK's thread pool."""
        if self._conn is None or not self._owns_conn:
            return
        conn, self._conn, self._owns_conn = self._conn, None, False
        close_connection(conn)

    def read(self, desired: DesiredState, spec: Spec | None = None) -> LiveCloud:
        self.live = read_live(self.conn, _domain_name(desired, spec))
        return self.live

    def observe(
        self, desired: DesiredState, spec: Spec | None = None
    ) -> list[Resource]:
        """Live state in the desired shapes; PlanError on conflicts with it."""
        live = self.read(desired, spec)
        check_conflicts(intents(desired), live, _domain_name(desired, spec))
        return observe(live, desired)

    def check_quota_cuts(
        self, plan: Plan, live: LiveCloud
    ) -> dict[str, dict[str, int]]:
        """Refuse quota updates below current usage unless forced.

        Returns the cuts below usage that go ahead (only when forced), by
        project ID.
        """
        cuts: dict[str, dict[str, int]] = {}
        for change in plan:
            if change.id.kind != "quota" or change.action is not Action.UPDATE:
                continue
            before, after = change.before or {}, change.after or {}
            lowered = {
                name: int(value)
                for name, value in after.items()
                if name != "project"
                and isinstance(value, int)
                and value != -1
                and (before.get(name) == -1 or int(before.get(name) or 0) > value)
            }
            if lowered:
                cuts[str(change.tenant)] = lowered
        if not cuts:
            return {}
        ids = {}
        for slug in cuts:
            project = live.project_by_name(slug)
            if project is not None:
                ids[slug] = project["id"]
        usage = read_quotas(self.conn, ids.values(), usage=True)
        problems: list[str] = []
        forced: dict[str, dict[str, int]] = {}
        for slug, lowered in sorted(cuts.items()):
            quota = usage.get(ids.get(slug, ""))
            if quota is None:
                continue
            found = below_usage(slug, lowered, quota.usage)
            if found:
                problems += found
                forced[ids[slug]] = lowered
        refuse_quota_cuts(problems, force=self.force_quota)
        return forced

    def force_compute_cuts(self, forced: dict[str, dict[str, int]]) -> None:
        """Set compute limits below usage with Nova's force flag.

        Nova refuses such a limit unless the request says ``force``, and the
        collection's quota module cannot say it; Neutron and Cinder accept
        the limit as it is, so only Nova's part is set here, before Ansible.
        """
        for project_id, lowered in sorted(forced.items()):
            values: dict[str, Any] = {
                QUOTA_FIELDS[name][1]: value
                for name, value in lowered.items()
                if QUOTA_FIELDS.get(name, ("", ""))[0] == "compute"
            }
            if not values:
                continue
            log.info("forcing compute quota %s on project %s", values, project_id)
            with mapped(f"force compute quota of project {project_id}"):
                self.conn.compute.update_quota_set(project_id, force=True, **values)

    def apply(
        self,
        plan: Plan,
        desired: DesiredState,
        spec: Spec | None = None,
        progress: Progress | None = None,
    ) -> list[Resource] | None:
        """Carry out the plan's cloud and tenant changes, then observe again."""
        say = progress or (lambda _step, _done, _total: None)
        if self.engine == "pulumi":
            return self._apply_with_pulumi(desired, spec)
        live = self.live if self.live is not None else self.read(desired, spec)
        forced = self.check_quota_cuts(plan, live)
        self.last_runs = []
        cloud_changes = [c for c in plan if c.id.layer == "cloud"]
        deletes = [str(c.id) for c in cloud_changes if c.action is Action.DELETE]
        if deletes:
            raise PermanentError(
                "openstack", t("openstack.cloud.delete", items=", ".join(deletes))
            )
        if cloud_changes:
            say("openstack:cloud", 0, 2)
            with tempfile.TemporaryDirectory(prefix="citycloud-img-") as tmp:
                image = _placeholder_image(Path(tmp))
                self.last_runs.append(
                    run_playbook(
                        "cloud.yml",
                        {
                            "cloud": cloud_vars(
                                desired, self.cloud, str(image), image_files(spec)
                            )
                        },
                        forks=1,
                    )
                )
        self.force_compute_cuts(forced)
        hosts = tenant_hosts(plan, desired, live, ops_user(self.conn), self.cloud)
        if hosts:
            say("openstack:tenants", 1, 2)
            self.last_runs.append(run_playbook("tenants.yml", hosts, forks=self.forks))
        say("openstack:observe", 2, 2)
        return observe(self.read(desired, spec), desired)

    def _apply_with_pulumi(
        self, desired: DesiredState, spec: Spec | None
    ) -> list[Resource]:
        """Hand the whole spec to the Pulumi program in infra/, then observe.

        Pulumi diffs by itself, so it gets the spec rather than the plan; the
        runner refuses before any change when the Pulumi CLI is missing.
        """
        from citycloud.adapters.pulumi.runner import pulumi_cli, up

        pulumi_cli()
        spec_path = _spec_path(spec)
        if spec_path is None:
            raise PermanentError("openstack", t("openstack.engine.pulumi"))
        up(stack="citycloud", spec=spec_path, cloud=self.cloud)
        return observe(self.read(desired, spec), desired)

    def verify_all(self, desired: DesiredState) -> RunResult:
        """Run every desired tenant through Ansible (a convergence check)."""
        hosts = all_tenant_hosts(desired, ops_user(self.conn), self.cloud)
        return run_playbook("tenants.yml", hosts, forks=self.forks)
