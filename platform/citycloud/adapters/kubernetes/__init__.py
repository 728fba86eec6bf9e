"""Kubernetes adapter: container tenants' namespaces on one cluster.

``connect`` builds an API client from a kubeconfig; :class:`KubeClient` reads
(paged lists) and writes (server-side apply, delete) plain manifests;
``observe`` shapes live objects like the desired ones; :class:`KubernetesEngine`
plans and applies a plan after the safety rules and schema validation.
"""

from citycloud.adapters.kubernetes.client import FIELD_MANAGER, KubeClient, connect
from citycloud.adapters.kubernetes.engine import ApplyReport, KubernetesEngine
from citycloud.adapters.kubernetes.errors import ApplyConflict
from citycloud.adapters.kubernetes.observe import observe
from citycloud.adapters.kubernetes.schema import ManifestError, validate_manifests

__all__ = [
    "FIELD_MANAGER",
    "ApplyConflict",
    "ApplyReport",
    "KubeClient",
    "KubernetesEngine",
    "ManifestError",
    "connect",
    "observe",
    "validate_manifests",
]
