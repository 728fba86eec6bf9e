"""Kubernetes options of ``citycloud plan`` and ``citycloud apply``.

``--kubeconfig FILE`` and/or ``--kube-context NAME`` put the kubernetes layer
on a live cluster: ``plan`` then lists the differences between the desired
namespaces and what the cluster holds, ``apply`` makes them by server-side
apply (after schema validation and the plan's safety rules).
``--force-conflicts`` lets apply take over fields another field manager
changed; without it such a conflict stops the apply and names the fields.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from citycloud.cli_common import engine_option, plain_option
from citycloud.spec.tree import Spec

if TYPE_CHECKING:
    from citycloud.adapters.kubernetes import KubernetesEngine


def _engine(
    spec: Spec, kubeconfig: str | None, context: str | None, params: dict[str, Any]
) -> KubernetesEngine:
    # The kubernetes client is an optional install: import it only when used.
    from citycloud.adapters.kubernetes import KubeClient, KubernetesEngine, connect

    client = KubeClient(connect(kubeconfig, context))
    # apply_plan checks the plan's safety with the person's flags before any
    # engine runs, so the engine does not check again (policy=None).
    return KubernetesEngine(
        client,
        spec.city.kubernetes.version,
        policy=None,
        force=bool(params.get("force_conflicts")),
    )


@engine_option(
    "--kubeconfig",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Kubeconfig of the cluster for container tenants (kubernetes layer).",
)
def _from_kubeconfig(
    value: Any, spec: Spec, params: dict[str, Any]
) -> KubernetesEngine:
    return _engine(spec, str(value), params.get("kube_context"), params)


@engine_option(
    "--kube-context",
    default=None,
    help="Context in the kubeconfig (default: its current context).",
)
def _from_context(
    value: Any, spec: Spec, params: dict[str, Any]
) -> KubernetesEngine | None:
    if params.get("kubeconfig"):
        return None  # built once, by --kubeconfig
    return _engine(spec, None, str(value), params)


plain_option(
    "--force-conflicts",
    is_flag=True,
    default=False,
    help="Kubernetes: take over fields another field manager owns.",
)
