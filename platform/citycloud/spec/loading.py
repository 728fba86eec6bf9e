"""Reading the spec: YAML files (one or a folder), merged, with a source map.

The loader keeps, for every value, the file and line it came from, so that any
later problem (a schema error, a duplicate, an overlap) can point at the exact
place a person has to edit. Nothing below this module reads YAML.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from citycloud.errors import Problem, SpecError

Path_ = tuple[str | int, ...]

# Top-level keys whose lists several files may each contribute to.
LIST_KEYS = ("organisations", "divisions", "tenants", "roles")
SINGLE_KEYS = ("city",)
DATACENTER_LIST_KEYS = (
    "regions",
    "racks",
    "hosts",
    "provider_networks",
    "storage_pools",
    "flavors",
    "images",
)


@dataclass
class SourceMap:
    """Where each value of the merged document was written."""

    lines: dict[Path_, tuple[str, int]] = field(default_factory=dict)
    default_file: str = "<spec>"

    def locate(self, path: Path_) -> tuple[str, int | None]:
        """The file and line of ``path`` or of its nearest located ancestor."""
        for end in range(len(path), -1, -1):
            hit = self.lines.get(tuple(path[:end]))
            if hit is not None:
                return hit
        return self.default_file, None

    def problem(self, path: Path_, message: str) -> Problem:
        file, line = self.locate(path)
        return Problem(file, line, dotted(path), message)


def dotted(path: Path_) -> str:
    """``("tenants", 3, "network", "cidr")`` -> ``tenants[3].network.cidr``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(top)"


# libyaml's C parser when present: large specs load many times faster.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _record_lines(
    node: yaml.Node,
    path: Path_,
    file: str,
    lines: dict[Path_, tuple[str, int]],
    problems: list[Problem],
) -> None:
    """Walk the composed node tree and note the 1-based line of every key/item.

    The values themselves come from the safe loader; this walk only locates
    them, following the same keys and indices. It also catches a key written
    twice in one mapping, which YAML loaders otherwise resolve silently.
    """
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if (*path, key) in lines:
                first = lines[(*path, key)][1]
                problems.append(
                    Problem(
                        file,
                        line,
                        dotted((*path, key)),
                        f"key repeated (first at line {first})",
                    )
                )
            lines[(*path, key)] = (file, line)
            _record_lines(value_node, (*path, key), file, lines, problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = (file, item.start_mark.line + 1)
            _record_lines(item, (*path, index), file, lines, problems)


def spec_files(path: Path) -> list[Path]:
    """The YAML files making up the spec at ``path`` (a file or a folder)."""
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(
            p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()
        )
        if files:
            return files
        raise SpecError([Problem(str(path), None, "(top)", "no .yaml files in folder")])
    raise SpecError([Problem(str(path), None, "(top)", "no such file or folder")])


def _read_yaml(file: Path) -> tuple[Any, dict[Path_, tuple[str, int]]]:
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(
            [Problem(str(file), None, "(top)", f"not UTF-8: {exc}")]
        ) from exc
    try:
        data = yaml.load(text, Loader=_Loader)
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise SpecError(
            [Problem(str(file), line, "(top)", f"not valid YAML: {exc.problem}")]
        ) from exc
    except yaml.YAMLError as exc:
        raise SpecError(
            [Problem(str(file), None, "(top)", f"not valid YAML: {exc}")]
        ) from exc
    lines: dict[Path_, tuple[str, int]] = {}
    problems: list[Problem] = []
    if node is not None:
        _record_lines(node, (), str(file), lines, problems)
    if problems:
        raise SpecError(problems)
    return data, lines


def _shift(
    lines: dict[Path_, tuple[str, int]], prefix: Path_, offset: int
) -> Iterator[tuple[Path_, tuple[str, int]]]:
    """Re-address list items under ``prefix`` by ``offset`` for the merged list."""
    n = len(prefix)
    for path, where in lines.items():
        if path[:n] != prefix or len(path) <= n:
            continue
        index = path[n]
        if isinstance(index, int):
            yield (*prefix, index + offset, *path[n + 1 :]), where


def read_documents(path: Path) -> tuple[dict[str, Any], SourceMap]:
    """Read and merge every file of the spec into one plain document."""
    merged: dict[str, Any] = {}
    sources = SourceMap(default_file=str(path))
    problems: list[Problem] = []
    for file in spec_files(path):
        try:
            doc, lines = _read_yaml(file)
        except SpecError as exc:
            problems.extend(exc.problems)
            continue
        if doc is None:
            continue
        if not isinstance(doc, dict):
            problems.append(Problem(str(file), 1, "(top)", "must be a mapping of keys"))
            continue
        for key, value in doc.items():
            here = lines.get((key,), (str(file), 1))
            if key in LIST_KEYS:
                if not isinstance(value, list):
                    problems.append(Problem(here[0], here[1], key, "must be a list"))
                    continue
                target = merged.setdefault(key, [])
                sources.lines.setdefault((key,), here)
                sources.lines.update(_shift(lines, (key,), len(target)))
                target.extend(value)
            elif key == "datacenter" and isinstance(value, dict):
                target_dc = merged.setdefault("datacenter", {})
                sources.lines.setdefault((key,), here)
                for sub, subvalue in value.items():
                    sub_here = lines.get((key, sub), here)
                    if sub in DATACENTER_LIST_KEYS and isinstance(subvalue, list):
                        sub_target = target_dc.setdefault(sub, [])
                        sources.lines.setdefault((key, sub), sub_here)
                        sources.lines.update(_shift(lines, (key, sub), len(sub_target)))
                        sub_target.extend(subvalue)
                    elif sub in target_dc:
                        problems.append(
                            Problem(*sub_here, f"datacenter.{sub}", "set in two files")
                        )
                    else:
                        target_dc[sub] = subvalue
                        sources.lines.update(
                            (p, w) for p, w in lines.items() if p[:2] == (key, sub)
                        )
            else:
                if key in merged:
                    problems.append(Problem(here[0], here[1], key, "set in two files"))
                    continue
                merged[key] = value
                sources.lines.update(
                    (p, w) for p, w in lines.items() if p[:1] == (key,)
                )
    if problems:
        raise SpecError(problems)
    return merged, sources


@dataclass(frozen=True, slots=True)
class DivisionRow:
    code: str
    name: str
    parent: str | None
    level: str
    file: str
    line: int


DIVISION_COLUMNS = ("code", "name", "parent_code", "level")


def read_divisions(file: Path) -> list[DivisionRow]:
    """Rows of a divisions CSV in the statistical-code format.

    Errors name the CSV line; a UTF-8 byte order mark (as Excel writes) is fine.
    """
    try:
        text = file.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise SpecError(
            [Problem(str(file), None, "csv", f"cannot read: {exc}")]
        ) from exc
    except UnicodeDecodeError as exc:
        raise SpecError([Problem(str(file), None, "csv", f"not UTF-8: {exc}")]) from exc
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in DIVISION_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise SpecError(
            [
                Problem(
                    str(file), 1, "header", f"missing column(s): {', '.join(missing)}"
                )
            ]
        )
    rows: list[DivisionRow] = []
    problems: list[Problem] = []
    for line, raw in enumerate(reader, start=2):
        code = (raw.get("code") or "").strip()
        name = (raw.get("name") or "").strip()
        parent = (raw.get("parent_code") or "").strip() or None
        level = (raw.get("level") or "").strip()
        if not code.isdigit():
            problems.append(Problem(str(file), line, "code", f"not a code: {code!r}"))
            continue
        if not name:
            problems.append(Problem(str(file), line, "name", "empty"))
            continue
        if parent is not None and not parent.isdigit():
            problems.append(
                Problem(str(file), line, "parent_code", f"not a code: {parent!r}")
            )
            continue
        rows.append(DivisionRow(code, name, parent, level, str(file), line))
    if problems:
        raise SpecError(problems)
    return rows
