"""The city spec: models, loading, checks, divisions import.

``load_spec(path)`` is the one entry point: it reads a file or a folder of
YAML files (plus any divisions CSV they import), validates the typed models,
runs every cross-object check and returns a :class:`Spec`, or raises
:class:`~citycloud.errors.SpecError` listing every problem with its file, line
and field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from citycloud.errors import Problem, SpecError
from citycloud.spec.checks import run_checks
from citycloud.spec.loading import (
    DivisionRow,
    Path_,
    SourceMap,
    dotted,
    read_divisions,
    read_documents,
)
from citycloud.spec.models import (
    DEFAULT_ROLES,
    App,
    Organisation,
    PlatformRole,
    SpecDocument,
    Tenant,
    Tier,
)
from citycloud.spec.naming import org_slug, slug_for
from citycloud.spec.tree import Spec

__all__ = ["Spec", "SpecDocument", "Tier", "load_spec", "parse_spec"]

Progress = Callable[[str], None]
OrgOrigin = dict[str, tuple[str, int | None, str]]

_LEVELS = {tier.value: tier for tier in Tier}


def _validation_problems(exc: ValidationError, sources: SourceMap) -> list[Problem]:
    problems = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown field (check its spelling and indentation)"
        elif error["type"] == "missing":
            message = "required field is missing"
        else:
            if error["type"] == "value_error":
                # our own validators' words, without pydantic's "Value error, "
                message = str(error.get("ctx", {}).get("error", message))
            shown = repr(error.get("input"))
            if (
                "input" in error
                and not isinstance(error["input"], dict | list | tuple)
                and (shown not in message)
            ):
                message = f"{message} (got {shown})"
            if error["type"] == "string_type" and isinstance(
                error.get("input"), int | float
            ):
                # YAML reads 1504 as a number: codes and names must be quoted
                message += f'; write it in quotes: "{error["input"]}"'

        file, line = sources.locate(loc)
        problems.append(Problem(file, line, dotted(loc), message))
    return problems


def _division_orgs(
    rows: Iterable[DivisionRow], levels: set[Tier], origin: OrgOrigin
) -> tuple[list[Organisation], list[Problem]]:
    orgs: list[Organisation] = []
    problems: list[Problem] = []
    for row in rows:
        level = _LEVELS.get(row.level)
        if level is None:
            problems.append(
                Problem(
                    row.file,
                    row.line,
                    "level",
                    f"unknown level {row.level!r}; "
                    f"expected one of {', '.join(_LEVELS)}",
                )
            )
            continue
        if level not in levels:
            continue
        parent = None if level is Tier.CITY else row.parent
        try:
            orgs.append(
                Organisation(code=row.code, name=row.name, level=level, parent=parent)
            )
        except ValidationError as exc:
            problems.extend(
                Problem(row.file, row.line, dotted(tuple(e["loc"])), e["msg"])
                for e in exc.errors()
            )
            continue
        if row.code in origin:
            first = origin[row.code]
            problems.append(
                Problem(
                    row.file,
                    row.line,
                    "code",
                    f"duplicate code {row.code} (first at {first[0]}:{first[1]})",
                )
            )
        origin[row.code] = (row.file, row.line, f"organisation {row.code}")
    return orgs, problems


def _named(
    tenant: Tenant, index: int, sources: SourceMap
) -> tuple[Tenant, list[Problem]]:
    """The tenant with its slug and its apps' slugs filled in."""
    problems: list[Problem] = []
    slug = tenant.slug or slug_for(tenant.name)
    if slug is None:
        problems.append(
            sources.problem(
                ("tenants", index, "name"),
                f"{tenant.name!r} cannot become an identifier; add a slug",
            )
        )
        slug = f"invalid-{index}"
    apps: list[App] = []
    for j, app in enumerate(tenant.apps):
        app_slug = app.slug or slug_for(app.name, max_len=20)
        if app_slug is None:
            problems.append(
                sources.problem(
                    ("tenants", index, "apps", j, "name"),
                    f"{app.name!r} cannot become an identifier; add a slug",
                )
            )
            app_slug = f"invalid-{j}"
        apps.append(app.model_copy(update={"slug": app_slug}))
    return tenant.model_copy(update={"slug": slug, "apps": apps}), problems


# Where several files' values meet: with a file unread, a field missing (or a
# list too short) here may well be written in that file.
_MERGED_TYPES = ("missing", "too_short")


def _merged_away(error: Any) -> bool:
    loc = tuple(error["loc"])
    return error["type"] in _MERGED_TYPES and (
        len(loc) == 1 or (len(loc) == 2 and loc[0] == "datacenter")
    )


def _field_problems(data: dict[str, Any], sources: SourceMap) -> list[Problem]:
    """The schema and field problems of a spec some of whose files could not be
    read: only what the files that were read get wrong on their own. What the
    unread files may supply (a required section, the datacenter's regions) and
    the checks across the whole spec are left out."""
    try:
        document = SpecDocument.model_validate(data)
    except ValidationError as exc:
        problems = _validation_problems(exc, sources)
        return [
            problem
            for problem, error in zip(problems, exc.errors(), strict=True)
            if not _merged_away(error)
        ]
    return [
        problem
        for i, tenant in enumerate(document.tenants)
        for problem in _named(tenant, i, sources)[1]
    ]


def parse_spec(
    data: dict[str, Any],
    sources: SourceMap | None = None,
    divisions: Sequence[Path] = (),
    base_dir: Path | None = None,
    progress: Progress | None = None,
) -> Spec:
    """Validate an already-read document (used by the loader and by the portal,
    which builds tenant drafts in memory)."""
    sources = sources or SourceMap()
    say = progress or (lambda _step: None)
    try:
        document = SpecDocument.model_validate(data)
    except ValidationError as exc:
        raise SpecError(
            _validation_problems(exc, sources), checks_skipped=True
        ) from exc

    say("organisations")
    origin: OrgOrigin = {}
    problems: list[Problem] = []
    orgs: dict[str, Organisation] = {}
    # each CSV with the place in the spec that imports it (none for --divisions)
    imports: list[tuple[Path, set[Tier], Path_ | None]] = []
    for i, item in enumerate(document.divisions):
        file, _line = sources.locate(("divisions", i))
        here = (
            Path(file).parent if file != sources.default_file else (base_dir or Path())
        )
        imports.append((here / item.csv, set(item.levels), ("divisions", i, "csv")))
    imports.extend((Path(d), set(Tier), None) for d in divisions)
    for csv_path, levels, declared in imports:
        try:
            rows = read_divisions(csv_path)
        except SpecError as exc:
            for problem in exc.problems:
                if problem.line is None and declared is not None:
                    # the file as a whole is wrong: point at the line naming it
                    problem = sources.problem(
                        declared, f"{csv_path}: {problem.message}"
                    )
                problems.append(problem)
            continue
        found, bad = _division_orgs(rows, levels, origin)
        problems.extend(bad)
        orgs.update((o.code, o) for o in found)
    inline_seen: dict[str, int] = {}
    for i, org in enumerate(document.organisations):
        if org.code in inline_seen:
            problems.append(
                sources.problem(
                    ("organisations", i, "code"),
                    f"duplicate code {org.code} (also organisations[{inline_seen[org.code]}])",
                )
            )
            continue
        inline_seen[org.code] = i
        file, line = sources.locate(("organisations", i))
        origin[org.code] = (file, line, f"organisations[{i}]")
        orgs[org.code] = org
    city = document.city
    if city.code not in orgs:
        # The city itself need not be written twice.
        orgs[city.code] = Organisation(code=city.code, name=city.name, level=Tier.CITY)
        file, line = sources.locate(("city",))
        origin[city.code] = (file, line, "city")
    orgs = {
        code: org
        if org.slug
        else org.model_copy(update={"slug": org_slug(org.name, code)})
        for code, org in orgs.items()
    }

    say("tenants")
    tenants: list[Tenant] = []
    for i, tenant in enumerate(document.tenants):
        named, bad = _named(tenant, i, sources)
        problems.extend(bad)
        owner = orgs.get(named.owner)
        if named.tier is None and owner is not None:
            named = named.model_copy(update={"tier": owner.level})
        tenants.append(named)

    roles: dict[str, PlatformRole] = {r.name: r for r in DEFAULT_ROLES}
    roles.update((r.name, r) for r in document.roles)
    spec = Spec(
        document=document,
        orgs=orgs,
        tenants=tuple(tenants),
        roles=tuple(roles.values()),
        sources=sources,
    )
    say("checks")
    problems.extend(run_checks(spec, origin))
    if problems:
        raise SpecError(problems)
    return spec


def load_spec(
    path: str | Path,
    divisions: Sequence[str | Path] = (),
    progress: Progress | None = None,
) -> Spec:
    """Read, validate and check the spec at ``path`` (a file or a folder).

    ``divisions`` adds divisions CSVs (code,name,parent_code,level) to the
    organisation tree; organisations written in the spec override their rows.
    """
    root = Path(path)
    (progress or (lambda _s: None))("read")
    data, sources, unread = read_documents(root)
    if unread:
        # Go on with what the other files hold, so that one run reports their
        # problems too; but only field by field, and say what was not checked.
        raise SpecError(
            [*unread, *_field_problems(data, sources)],
            unread=dict.fromkeys(problem.file for problem in unread),
        )
    base = root if root.is_dir() else root.parent
    return parse_spec(
        data, sources, [Path(d) for d in divisions], base_dir=base, progress=progress
    )
