"""The one place that talks to a Kubernetes API server.

Everything goes through the official ``kubernetes`` client's typed APIs, with
raw JSON replies (``_preload_content=False``) so that the rest of the adapter
works on plain dictionaries shaped like the manifests it renders:

* lists are paged with ``limit``/``continue``; a continue token the server no
  longer accepts (410 Gone) restarts the listing once;
* writes are server-side apply (``application/apply-patch+yaml``) under the
  field manager ``citycloud``; ``force`` is only sent when asked for;
* every failure leaves as a :mod:`citycloud.errors` type (see ``errors.py``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from kubernetes import client as k8s
from kubernetes import config as k8s_config

from citycloud.adapters.kubernetes.errors import (
    FAILURES,
    is_not_found,
    map_error,
    mapped,
)
from citycloud.desired.kubernetes import KINDS, ObjectKind

log = logging.getLogger(__name__)

FIELD_MANAGER = "citycloud"
APPLY_PATCH = "application/apply-patch+yaml"
DEFAULT_PAGE_SIZE = 100

Obj = dict[str, Any]


@dataclass(frozen=True)
class _Methods:
    """Which typed API serves a kind, and the suffix of its method names."""

    api: Callable[[k8s.ApiClient], Any]
    suffix: str


_METHODS: dict[str, _Methods] = {
    "namespace": _Methods(k8s.CoreV1Api, "namespace"),
    "resourcequota": _Methods(k8s.CoreV1Api, "resource_quota"),
    "limitrange": _Methods(k8s.CoreV1Api, "limit_range"),
    "networkpolicy": _Methods(k8s.NetworkingV1Api, "network_policy"),
    "rolebinding": _Methods(k8s.RbacAuthorizationV1Api, "role_binding"),
}


def connect(
    kubeconfig: str | None = None,
    context: str | None = None,
    *,
    host: str | None = None,
) -> k8s.ApiClient:
    """An API client from a kubeconfig file (and context), or a bare URL.

    ``host`` is for servers that need no credentials, such as the test fake.
    """
    if host is not None:
        configuration = k8s.Configuration()
        configuration.host = host
        return k8s.ApiClient(configuration)
    with mapped("load kubeconfig"):
        load: Any = k8s_config.new_client_from_config  # the client is untyped
        api_client: k8s.ApiClient = load(
            config_file=kubeconfig, context=context, persist_config=False
        )
        return api_client


class KubeClient:
    """Reads and writes the kinds in :data:`KINDS` as plain dictionaries."""

    def __init__(
        self,
        api_client: k8s.ApiClient,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        field_manager: str = FIELD_MANAGER,
    ) -> None:
        self.api_client = api_client
        self.page_size = page_size
        self.field_manager = field_manager
        self._apis: dict[Callable[[k8s.ApiClient], Any], Any] = {}

    def _call(
        self, kind: ObjectKind, verb: str, namespaced: bool
    ) -> Callable[..., Any]:
        methods = _METHODS[kind.name]
        api = self._apis.get(methods.api)
        if api is None:
            api = methods.api(self.api_client)
            self._apis[methods.api] = api
        middle = "namespaced_" if namespaced else ""
        if verb == "list" and kind.namespaced and not namespaced:
            name = f"list_{methods.suffix}_for_all_namespaces"
        else:
            name = f"{verb}_{middle}{methods.suffix}"
        fn: Callable[..., Any] = getattr(api, name)
        return fn

    @staticmethod
    def _json(response: Any) -> Obj:
        data: Obj = json.loads(response.data or b"{}")
        return data

    # reads

    def list(
        self,
        kind_name: str,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
    ) -> Iterator[Obj]:
        """Every object of a kind (in one namespace or all), page by page."""
        kind = KINDS[kind_name]
        namespaced = kind.namespaced and namespace is not None
        fn = self._call(kind, "list", namespaced)
        args: tuple[str, ...] = (namespace,) if namespaced and namespace else ()
        restarted = False
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {
                "limit": self.page_size,
                "_preload_content": False,
            }
            if label_selector:
                kwargs["label_selector"] = label_selector
            if token:
                kwargs["_continue"] = token
            try:
                page = self._json(fn(*args, **kwargs))
            except k8s.ApiException as error:
                if error.status == 410 and token and not restarted:
                    # The snapshot behind the token expired: list again from
                    # the start; callers key objects by name, so repeats of
                    # already-seen objects are harmless.
                    log.debug("list %s: continue token expired, restarting", kind.kind)
                    restarted, token = True, None
                    continue
                raise map_error(error, f"list {kind.kind}") from error
            except FAILURES as error:
                raise map_error(error, f"list {kind.kind}") from error
            for item in page.get("items") or ():
                item.setdefault("apiVersion", kind.api_version)
                item.setdefault("kind", kind.kind)
                yield item
            token = (page.get("metadata") or {}).get("continue") or None
            if not token:
                return

    def read(
        self, kind_name: str, name: str, namespace: str | None = None
    ) -> Obj | None:
        """The live object, or None when it does not exist."""
        kind = KINDS[kind_name]
        fn = self._call(kind, "read", kind.namespaced)
        args = (name, namespace) if kind.namespaced else (name,)
        try:
            return self._json(fn(*args, _preload_content=False))
        except k8s.ApiException as error:
            if is_not_found(error):
                return None
            raise map_error(error, f"read {kind.kind} {name}") from error
        except FAILURES as error:
            raise map_error(error, f"read {kind.kind} {name}") from error

    # writes

    def apply(self, manifest: Obj, *, force: bool = False) -> Obj:
        """Server-side apply ``manifest``; returns the object as stored."""
        kind = kind_of(manifest)
        meta = manifest["metadata"]
        name, namespace = meta["name"], meta.get("namespace")
        fn = self._call(kind, "patch", kind.namespaced)
        args = (name, namespace) if kind.namespaced else (name,)
        kwargs: dict[str, Any] = {
            "field_manager": self.field_manager,
            "_content_type": APPLY_PATCH,
            "_preload_content": False,
        }
        if force:
            kwargs["force"] = True
        where = f"{namespace}/{name}" if namespace else name
        try:
            stored = self._json(fn(*args, manifest, **kwargs))
        except FAILURES as error:
            raise map_error(error, f"apply {kind.kind} {where}") from error
        log.info(
            "kubernetes: applied %s %s (resourceVersion %s%s)",
            kind.kind,
            where,
            (stored.get("metadata") or {}).get("resourceVersion"),
            ", forced" if force else "",
        )
        return stored

    def delete(self, kind_name: str, name: str, namespace: str | None = None) -> bool:
        """Delete an object; False when it was already gone."""
        kind = KINDS[kind_name]
        fn = self._call(kind, "delete", kind.namespaced)
        args = (name, namespace) if kind.namespaced else (name,)
        where = f"{namespace}/{name}" if namespace else name
        try:
            fn(*args, _preload_content=False)
        except k8s.ApiException as error:
            if is_not_found(error):
                log.debug("delete %s %s: already gone", kind.kind, where)
                return False
            raise map_error(error, f"delete {kind.kind} {where}") from error
        except FAILURES as error:
            raise map_error(error, f"delete {kind.kind} {where}") from error
        log.info("kubernetes: deleted %s %s", kind.kind, where)
        return True


def kind_of(manifest: Obj) -> ObjectKind:
    for kind in KINDS.values():
        if kind.kind == manifest.get("kind") and kind.api_version == manifest.get(
            "apiVersion"
        ):
            return kind
    raise ValueError(
        f"citycloud does not manage {manifest.get('apiVersion')}/{manifest.get('kind')}"
    )
