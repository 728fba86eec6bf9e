"""Reading the spec: YAML files (one or a folder), merged, with a source map.

The loader keeps, for every value, the file and line it came from, so that any
later problem (a schema error, a duplicate, an overlap) can point at the exact
place a person has to edit. Nothing below this module reads YAML.
"""

from __future__ import annotations

import csv
import io
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


# Aliases may repeat what an anchor holds, but not without bound: a few lines
# of nested aliases ("billion laughs") would otherwise expand to billions of
# values, and an alias inside its own anchor to infinitely many.
MAX_ALIAS_EXPANSION = 100_000
_KEY_TAGS = ("tag:yaml.org,2002:str", "tag:yaml.org,2002:merge")


def _node_graph(root: yaml.Node) -> tuple[int, yaml.Node | None]:
    """How many distinct nodes ``root`` holds (an alias adds none), and a node
    that contains itself through an alias, if any (a depth-first walk that
    notes which nodes are still open on the current path)."""
    done: dict[int, bool] = {}  # False while open on the current path
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        if leaving:
            done[id(node)] = True
            continue
        if id(node) in done:
            if not done[id(node)]:
                return len(done), node
            continue
        done[id(node)] = False
        stack.append((node, True))
        if isinstance(node, yaml.MappingNode):
            stack.extend((child, False) for pair in node.value for child in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((child, False) for child in node.value)
    return len(done), None


def _record_lines(
    root: yaml.Node,
    file: str,
    lines: dict[Path_, tuple[str, int]],
    problems: list[Problem],
) -> None:
    """Walk the composed node tree and note the 1-based line of every key/item.

    The values themselves come from the safe loader; this walk only locates
    them, following the same keys and indices. It also catches a key written
    twice in one mapping (which YAML loaders otherwise resolve silently), a key
    that is not text, and aliases that expand without bound. The walk keeps
    its own stack, so deep nesting cannot exhaust Python's.
    """
    distinct, looped = _node_graph(root)
    if looped is not None:
        problems.append(
            Problem(
                file,
                looped.start_mark.line + 1,
                "(top)",
                "an alias refers to the anchor it is inside of (the value would never end)",
            )
        )
        return
    budget = distinct + MAX_ALIAS_EXPANSION
    stack: list[tuple[yaml.Node, Path_]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        budget -= 1
        if budget < 0:
            problems.append(
                Problem(
                    file,
                    node.start_mark.line + 1,
                    dotted(path),
                    f"aliases expand to more than {MAX_ALIAS_EXPANSION} values "
                    "(aliases of aliases of aliases...)",
                )
            )
            return
        children: list[tuple[yaml.Node, Path_]] = []
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                line = key_node.start_mark.line + 1
                if (
                    not isinstance(key_node, yaml.ScalarNode)
                    or key_node.tag not in _KEY_TAGS
                ):
                    shown = (
                        key_node.value
                        if isinstance(key_node, yaml.ScalarNode)
                        else "..."
                    )
                    problems.append(
                        Problem(
                            file,
                            line,
                            dotted(path),
                            f"key {shown!r} is not text: field names are words "
                            "(quote a key that reads as a number, true/false or null)",
                        )
                    )
                    continue
                key = str(key_node.value)
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
                children.append((value_node, (*path, key)))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                lines[(*path, index)] = (file, item.start_mark.line + 1)
                children.append((item, (*path, index)))
        stack.extend(reversed(children))


def spec_files(path: Path) -> list[Path]:
    """The YAML files making up the spec at ``path`` (a file or a folder)."""
    if path.is_file():
        return [path]
    if path.is_dir():
        # Hidden files and folders (editor backups, Kubernetes ConfigMap
        # "..data" links) are not part of the spec.
        files = sorted(
            p
            for p in path.rglob("*")
            if p.suffix in (".yaml", ".yml")
            and p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        if files:
            return files
        raise SpecError([Problem(str(path), None, "(top)", "no .yaml files in folder")])
    if path.exists():
        raise SpecError(
            [Problem(str(path), None, "(top)", "not a regular file or a folder")]
        )
    raise SpecError([Problem(str(path), None, "(top)", "no such file or folder")])


def read_text(file: Path, field: str = "(top)") -> str:
    """The text of a UTF-8 file (a leading byte order mark is dropped). A file
    that cannot be read, or is not UTF-8, is a problem naming the line."""
    if file.exists() and not file.is_file():
        # a folder, or a pipe or device that reading would wait on forever
        raise SpecError([Problem(str(file), None, field, "not a regular file")])
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise SpecError(
            [Problem(str(file), None, field, f"cannot read: {exc.strerror or exc}")]
        ) from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SpecError(
            [
                Problem(
                    str(file),
                    line,
                    field,
                    f"not UTF-8 (byte 0x{data[exc.start]:02x}); save the file as "
                    "UTF-8 (GBK or UTF-16 are not read)",
                )
            ]
        ) from exc


def _yaml_problem(file: Path, text: str, exc: yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        return Problem(str(file), None, "(top)", f"not valid YAML: {exc}")
    what = getattr(exc, "problem", None) or str(exc)
    source = text.splitlines()[mark.line] if mark.line < len(text.splitlines()) else ""
    if "\t" in source[: mark.column + 1]:
        what += "; a tab cannot indent YAML, use spaces"
    return Problem(
        str(file),
        mark.line + 1,
        "(top)",
        f"not valid YAML: {what} (column {mark.column + 1})",
    )


def _read_yaml(file: Path) -> tuple[Any, dict[Path_, tuple[str, int]]]:
    """The plain data of one YAML file and the line of each of its values.

    The file is composed once; its nodes are located and checked before any
    value is built from them."""
    text = read_text(file)
    lines: dict[Path_, tuple[str, int]] = {}
    problems: list[Problem] = []
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _record_lines(node, str(file), lines, problems)
        if problems:
            raise SpecError(problems)
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise SpecError([_yaml_problem(file, text, exc)]) from exc
    finally:
        loader.dispose()
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


def read_documents(
    path: Path,
) -> tuple[dict[str, Any], SourceMap, list[Problem]]:
    """Read and merge every file of the spec into one plain document.

    A file that cannot be read, or not in full (a YAML syntax error, a list
    key that is not a list), does not stop the others: its problems are
    returned with what the other files hold, so that one run can report the
    problems of every file. Only a spec path that is itself wrong (missing, an
    empty folder) raises."""
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
    return merged, sources, problems


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
    text = read_text(file, "csv")
    # strict: an unclosed quote is an error, not the rest of the file in one field
    reader = csv.reader(
        io.StringIO(text, newline=""), strict=True, skipinitialspace=True
    )
    problems: list[Problem] = []
    rows: list[DivisionRow] = []
    try:
        header = [column.strip() for column in next(reader, [])]
        missing = [c for c in DIVISION_COLUMNS if c not in header]
        twice = sorted({c for c in header if c and header.count(c) > 1})
        header_problems = [
            Problem(str(file), 1, "header", message)
            for wrong, message in (
                (missing, f"missing column(s): {', '.join(missing)}"),
                (twice, f"column(s) named twice: {', '.join(twice)}"),
            )
            if wrong
        ]
        if header_problems:
            raise SpecError(header_problems)
        where = {c: header.index(c) for c in DIVISION_COLUMNS}
        start = reader.line_num + 1
        for record in reader:
            # a quoted name may span lines: the record's first line
            line, start = start, reader.line_num + 1
            if not any(field.strip() for field in record):
                continue  # a blank line
            if len(record) != len(header):
                problems.append(
                    Problem(
                        str(file),
                        line,
                        "row",
                        f"{len(record)} fields but the header has {len(header)} "
                        "(quote a name that contains a comma)",
                    )
                )
                continue
            code, name, parent_code, level = (
                record[where[c]].strip() for c in DIVISION_COLUMNS
            )
            parent = parent_code or None
            if not _is_code(code):
                problems.append(
                    Problem(str(file), line, "code", f"not a code: {code!r}")
                )
                continue
            if not name:
                problems.append(Problem(str(file), line, "name", "empty"))
                continue
            if parent is not None and not _is_code(parent):
                problems.append(
                    Problem(str(file), line, "parent_code", f"not a code: {parent!r}")
                )
                continue
            rows.append(DivisionRow(code, name, parent, level, str(file), line))
    except csv.Error as exc:
        problems.append(
            Problem(str(file), reader.line_num, "csv", f"not valid CSV: {exc}")
        )
    if problems:
        raise SpecError(problems)
    return rows


def _is_code(text: str) -> bool:
    return text.isascii() and text.isdigit()
