"""A placement decision with everything that led to it.

`Decision.to_dict()` is the record: plain JSON-ready data that the audit
ledger, the CLI and the portal take as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from citycloud.scheduler.model import Workload, priority_name

PLACED = "placed"
UNPLACED = "unplaced"


@dataclass(frozen=True, slots=True)
class FilterReport:
    name: str
    passed: int
    # Host name -> why it was rejected.
    rejected: dict[str, str]


@dataclass(frozen=True, slots=True)
class HostScore:
    host: str
    total: float
    # Weigher name -> (score in [-1, 1], multiplier, note). Notes are written
    # for the best few hosts only; the others carry an empty note.
    parts: dict[str, tuple[float, float, str]]
    usage_source: str


@dataclass(frozen=True, slots=True)
class Displacement:
    workload: Workload
    host: str


@dataclass(frozen=True, slots=True)
class Decision:
    sequence: int
    workload: Workload
    host: str | None
    outcome: str
    decided_at: float
    filters: list[FilterReport]
    # The best candidates, best first (all of them unless the scheduler
    # reports only the top few); `candidates` counts every host that passed.
    scores: list[HostScore]
    candidates: int
    # Host name -> why its metrics were not used (candidates only).
    stale_hosts: dict[str, str]
    displaced: list[Displacement] = field(default_factory=list)
    metrics_note: str | None = None
    shadow: bool = False
    reason: str = ""
    latency_s: float = 0.0

    @property
    def placed(self) -> bool:
        return self.host is not None

    def to_dict(self) -> dict[str, Any]:
        w = self.workload
        return {
            "kind": "scheduler.decision",
            "sequence": self.sequence,
            "workload": w.key,
            "tenant": w.tenant,
            "app": w.app,
            "priority": priority_name(w.priority),
            "request": {
                "vcpus": w.resources.vcpus,
                "ram_mb": w.resources.ram_mb,
                "disk_gb": w.resources.disk_gb,
            },
            "outcome": self.outcome,
            "host": self.host,
            "reason": self.reason,
            "decided_at": self.decided_at,
            "shadow": self.shadow,
            "latency_s": round(self.latency_s, 6),
            "metrics_note": self.metrics_note,
            "stale_hosts": dict(sorted(self.stale_hosts.items())),
            "filters": [
                {"name": f.name, "passed": f.passed, "rejected": dict(f.rejected)}
                for f in self.filters
            ],
            "candidates": self.candidates,
            "scores": [
                {
                    "host": s.host,
                    "total": round(s.total, 4),
                    "usage_source": s.usage_source,
                    "weighers": {
                        name: {"score": round(v, 4), "multiplier": m}
                        | ({"note": note} if note else {})
                        for name, (v, m, note) in s.parts.items()
                    },
                }
                for s in self.scores
            ],
            "displaced": [
                {
                    "workload": d.workload.key,
                    "tenant": d.workload.tenant,
                    "priority": priority_name(d.workload.priority),
                    "host": d.host,
                }
                for d in self.displaced
            ],
        }

    def explain(self) -> str:
        """A few human lines: where it went and why (English, for logs)."""
        w = self.workload
        head = f"{w.key} [{priority_name(w.priority)}] -> {self.host or 'nowhere'}"
        head += f" ({self.reason})" if self.reason else ""
        return "\n".join([head, *self.reasons()])

    def reasons(self) -> list[str]:
        """The indented lines of `explain` below its first: each filter's
        verdict, the best scores, stale hosts and displacements."""
        lines = []
        for f in self.filters:
            lines.append(f"  filter {f.name}: {f.passed} passed, {len(f.rejected)} out")
            for host, why in sorted(f.rejected.items())[:5]:
                lines.append(f"    {host}: {why}")
        for s in self.scores[:5]:
            parts = ", ".join(
                f"{n}={v:+.2f}x{m:g} ({note})" for n, (v, m, note) in s.parts.items()
            )
            lines.append(f"  {s.host} {s.total:+.3f}: {parts}")
        for host, why in sorted(self.stale_hosts.items()):
            lines.append(f"  stale {host}: {why}")
        for d in self.displaced:
            lines.append(f"  displaced {d.workload.key} from {d.host}")
        return lines
