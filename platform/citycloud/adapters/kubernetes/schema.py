"""Validate manifests against the Kubernetes OpenAPI schemas, offline.

Nothing is applied until every manifest of the plan validates against the
schemas of the targeted Kubernetes version (``city.kubernetes.version`` in the
spec), in strict mode, so an unknown or misspelt field fails here with the
object and the field named, instead of being dropped by the API server. The
schemas ship inside the ``kubernetes-validate`` package; no network is used.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import jsonschema
from kubernetes_validate.utils import (
    VersionNotSupportedError,
    all_versions,
    major_minor,
    schema_contents,
)
from referencing import Registry, Resource

from citycloud.errors import PlanError, Problem
from citycloud.i18n import register, t

log = logging.getLogger(__name__)

DEFAULT_VERSION = "1.31"

register(
    {
        "kubernetes.invalid": {
            "zh": "{count} 个 Kubernetes 对象不符合 {version} 版的 OpenAPI 模式：",
            "en": "{count} Kubernetes object(s) do not match the OpenAPI schema "
            "of version {version}:",
        },
    }
)


class ManifestError(PlanError):
    """Manifests that do not match the target version's schemas.

    ``problems`` name the object (``Kind namespace/name``) and the field.
    """

    def __init__(self, version: str, problems: Iterable[Problem]) -> None:
        self.version = version
        self.problems = tuple(problems)
        lines = [t("kubernetes.invalid", count=len(self.problems), version=version)]
        lines += [f"  {p.file}: {p.field}: {p.message}" for p in self.problems]
        super().__init__("\n".join(lines))


def object_ref(manifest: Mapping[str, Any]) -> str:
    meta = manifest.get("metadata") or {}
    name = meta.get("name", "?")
    where = f"{meta['namespace']}/{name}" if meta.get("namespace") else name
    return f"{manifest.get('kind', '?')} {where}"


def _schema_version(version: str) -> str:
    """The newest shipped schema version not newer than ``version``."""
    wanted = tuple(int(x) for x in major_minor(version.lstrip("v")).split("."))
    usable = [
        v
        for v in all_versions()
        if tuple(int(x) for x in major_minor(v).split(".")) <= wanted
    ]
    newest = tuple(int(x) for x in major_minor(all_versions()[-1]).split("."))
    if not usable or wanted > newest:
        raise VersionNotSupportedError(version)
    return str(usable[-1])


@lru_cache(maxsize=8)
def _registry(schema_dir: str) -> Registry:
    # The shared definitions are large; load them once per version.
    definitions = schema_contents(
        f"kubernetes-json-schema/{schema_dir}/_definitions.json", ""
    )
    return Resource.from_contents(definitions) @ Registry()


@lru_cache(maxsize=128)
def _validator(
    version: str, api_version: str, kind: str
) -> jsonschema.Draft202012Validator | None:
    """A strict validator for one kind, or None when no schema ships for it."""
    schema_dir = f"v{_schema_version(version)}-local-strict"
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = schema_contents(
            f"kubernetes-json-schema/{schema_dir}/{kind.lower()}-{group}.json", version
        )
    except FileNotFoundError:
        return None
    registry = Resource.from_contents(schema) @ _registry(schema_dir)
    return jsonschema.Draft202012Validator(schema, registry=registry)


def problems_of(manifest: Mapping[str, Any], version: str) -> list[Problem]:
    """Everything wrong with one manifest, deepest first per branch."""
    ref = object_ref(manifest)
    try:
        validator = _validator(
            version, str(manifest.get("apiVersion", "")), str(manifest.get("kind", ""))
        )
    except VersionNotSupportedError:
        return [Problem(ref, None, "(version)", f"no schemas for Kubernetes {version}")]
    if validator is None:
        return [
            Problem(
                ref,
                None,
                "apiVersion",
                f"no schema for {manifest.get('apiVersion')} {manifest.get('kind')} "
                f"in Kubernetes {version}",
            )
        ]
    problems = []
    for error in sorted(
        validator.iter_errors(dict(manifest)), key=lambda e: [str(p) for p in e.path]
    ):
        path = ".".join(str(part) for part in error.path) or "(object)"
        problems.append(Problem(ref, None, path, error.message))
    return problems


def validate_manifests(
    manifests: Iterable[Mapping[str, Any]], version: str = DEFAULT_VERSION
) -> int:
    """Check every manifest; raise :class:`ManifestError` listing all failures.

    Returns how many manifests were checked.
    """
    problems: list[Problem] = []
    count = 0
    for manifest in manifests:
        count += 1
        problems.extend(problems_of(manifest, version))
    if problems:
        raise ManifestError(version, problems)
    log.debug("validated %s manifest(s) against Kubernetes %s", count, version)
    return count
