"""Where decisions go: anything that takes a decision's dict.

The audit ledger only needs to offer `record(entry: dict)`; a JSON-lines
file and an in-memory list are provided for the CLI and tests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol


class DecisionRecorder(Protocol):
    def record(self, entry: dict[str, Any]) -> None: ...


class ListRecorder:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def record(self, entry: dict[str, Any]) -> None:
        self.entries.append(entry)


class JsonLinesRecorder:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def record(self, entry: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
