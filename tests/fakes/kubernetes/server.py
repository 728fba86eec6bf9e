"""HTTP front of the fake kube-apiserver, on 127.0.0.1 with a free port.

It routes the REST paths of the kinds in :mod:`state` the way kube-apiserver
lays them out (core group under ``/api/v1``, named groups under
``/apis/GROUP/VERSION``, namespaced objects under ``namespaces/NS``), answers
errors as ``Status`` objects, and keeps a log of the requests it served so that
tests can count what a client wrote. It runs in a daemon thread; use it as a
context manager or call ``start()``/``stop()``.

    with FakeKubeApiServer() as fake:
        client = kubernetes_client_for(fake.url)
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

from .state import RESOURCE_TYPES, ApiError, ResourceType, Store

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    content_type: str


@dataclass(frozen=True)
class _Route:
    rt: ResourceType
    namespace: str | None  # None: every namespace (lists only)
    name: str | None


def _route(path: str) -> _Route:
    parts = [unquote(p) for p in path.strip("/").split("/") if p]
    if parts[:2] == ["api", "v1"]:
        gv, rest = "v1", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        gv, rest = f"{parts[1]}/{parts[2]}", parts[3:]
    else:
        raise ApiError(
            404, "NotFound", "the server could not find the requested resource"
        )
    namespace: str | None = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 2:
        raise ApiError(
            404, "NotFound", "the server could not find the requested resource"
        )
    rt = RESOURCE_TYPES.get(rest[0])
    if (
        rt is None
        or rt.group_version != gv
        or (namespace is not None and not rt.namespaced)
    ):
        raise ApiError(
            404, "NotFound", "the server could not find the requested resource"
        )
    name = rest[1] if len(rest) == 2 else None
    if rt.namespaced and namespace is None and name is not None:
        raise ApiError(
            404, "NotFound", "the server could not find the requested resource"
        )
    if not rt.namespaced:
        namespace = ""
    return _Route(rt, namespace, name)


class FakeKubeApiServer:
    """A stateful stand-in for kube-apiserver serving plain HTTP on loopback."""

    def __init__(self) -> None:
        self.store = Store()
        self.requests: list[Request] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle

    def start(self) -> str:
        handler = _make_handler(self)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="fake-kube-apiserver", daemon=True
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeKubeApiServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "the fake API server is not running"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    # what tests look at

    def writes(self) -> list[Request]:
        return [r for r in self.requests if r.method in MUTATING]

    def reset_log(self) -> None:
        self.requests.clear()

    def kubeconfig(self, context: str = "fake") -> dict[str, Any]:
        """A kubeconfig document pointing at this server."""
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": context, "cluster": {"server": self.url}}],
            "users": [{"name": context, "user": {"token": "fake-token"}}],
            "contexts": [
                {"name": context, "context": {"cluster": context, "user": context}}
            ],
            "current-context": context,
        }

    # request handling

    def handle(
        self, method: str, raw_path: str, content_type: str, body: bytes
    ) -> tuple[int, Any]:
        split = urlsplit(raw_path)
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        self.requests.append(Request(method, split.path, query, content_type))
        try:
            return self._dispatch(method, split.path, query, content_type, body)
        except ApiError as err:
            return err.code, err.status()

    def _dispatch(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        content_type: str,
        body: bytes,
    ) -> tuple[int, Any]:
        if path == "/version":
            return 200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0-fake"}
        route = _route(path)
        rt, ns, name = route.rt, route.namespace, route.name
        manager = query.get("fieldManager", "")
        if method == "GET" and name is None:
            limit = int(query.get("limit", "0") or 0)
            return 200, self.store.list(
                rt, ns, query.get("labelSelector", ""), limit, query.get("continue", "")
            )
        if method == "GET" and name is not None:
            return 200, self.store.get(rt, ns or "", name)
        if method == "POST" and name is None and ns is not None:
            created = self.store.create(
                rt, ns, _decode(body, content_type), manager or "unknown"
            )
            return 201, created
        if method == "PATCH" and name is not None:
            patch = _decode(body, content_type)
            force = query.get("force", "false") == "true"
            media = content_type.split(";")[0].strip()
            if media == "application/apply-patch+yaml":
                return 200, self.store.apply(rt, ns or "", name, patch, manager, force)
            if force:
                raise ApiError(
                    400,
                    "BadRequest",
                    "force flag must be unset for non-apply patch requests",
                )
            if media in (
                "application/merge-patch+json",
                "application/strategic-merge-patch+json",
            ):
                return 200, self.store.patch(
                    rt, ns or "", name, patch, manager or "unknown"
                )
            raise ApiError(
                415,
                "UnsupportedMediaType",
                f"the body of the request was in an unknown format: {media}",
            )
        if method == "DELETE" and name is not None:
            deleted = self.store.delete(rt, ns or "", name)
            if rt.plural == "namespaces":
                return 200, deleted
            return 200, {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "details": {
                    "name": name,
                    "kind": rt.plural,
                    "uid": deleted["metadata"]["uid"],
                },
            }
        raise ApiError(
            405,
            "MethodNotAllowed",
            f"the server does not allow {method} on the requested resource",
        )


def _decode(body: bytes, content_type: str) -> Any:
    try:
        if "yaml" in content_type:
            return yaml.safe_load(body.decode("utf-8"))
        return json.loads(body.decode("utf-8") or "null")
    except (ValueError, yaml.YAMLError) as exc:
        raise ApiError(
            400, "BadRequest", f"the request body could not be decoded: {exc}"
        ) from exc


def _make_handler(fake: FakeKubeApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; without TCP_NODELAY the body
        # waits for the client's delayed ACK (about 40 ms per request).
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            code, payload = fake.handle(
                self.command, self.path, self.headers.get("Content-Type", ""), body
            )
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    return Handler
