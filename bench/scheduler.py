"""How fast the scheduler decides, and how good its placements are.

    .venv/bin/python bench/scheduler.py [--hosts 1000] [--requests 10000]
                                        [--instances 30] [--seed 7]

1. Speed: decisions per second placing --requests VMs on --hosts hosts that
   already run workloads, with Prometheus-like metrics (some hosts hot, some
   stale), replica groups and mixed priorities; once judging every host, and
   once stopping at --candidates hosts that pass (rotating start).
2. Quality, on the same inputs for every method: the scheduler against
   first-fit and least-allocated (both see allocations only, like a scheduler
   without metrics), and on small instances against the exact optimum found
   by brute force over every assignment.

Quality is judged on the hosts' true utilisation after placing: the use of
the VMs already running (what Prometheus sees, which allocations hide) plus
the expected use of the new ones. Figures: VMs placed, hosts used (hosts
that received a new VM), peak utilisation (the busiest host's larger of CPU
and memory; above 100 % means overloaded), hot hosts (above the red line,
including hosts that were hot before). The optimum keeps the scheduler's
rules (capacity, no host pushed over the red line, priorities first) and
places the most VMs of each priority in turn, then uses the fewest hosts,
then has the lowest peak.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "platform"))

from citycloud.scheduler import (
    PRIORITY_RANKS,
    Allocation,
    FakeClock,
    Host,
    HostMetrics,
    MetricsSnapshot,
    Resources,
    Scheduler,
    Settings,
    Workload,
)

NOW = 1_800_000_000.0
SETTINGS = Settings()
FLAVORS = [Resources(2, 4096, 40), Resources(4, 8192, 80), Resources(8, 16384, 100)]
PRIORITIES = [PRIORITY_RANKS[p] for p in ("critical", "high", "normal", "batch")]


@dataclass
class Instance:
    hosts: list[Host]
    existing: list[Allocation]
    # Host -> (cpu, memory) really in use by the existing VMs, as fractions.
    truth: dict[str, tuple[float, float]]
    metrics: MetricsSnapshot
    requests: list[Workload]


def make_instance(
    rng: random.Random,
    hosts: int,
    requests: int,
    *,
    host_size: tuple[int, int] = (64, 262144),
    fill: float = 0.4,
    stale_share: float = 0.05,
    groups: bool = True,
) -> Instance:
    vcpus, ram = host_size
    host_list = [
        Host(f"h{i:04d}", f"r{i // 20:02d}", vcpus, ram, 4000, cpu_allocation_ratio=2.0)
        for i in range(hosts)
    ]
    existing: list[Allocation] = []
    truth: dict[str, tuple[float, float]] = {}
    seen: dict[str, HostMetrics] = {}
    for h in host_list:
        cpu = mem = 0.0
        used = Resources()
        # Most hosts run moderate work; a few run VMs that are very busy.
        busy = rng.random() < 0.1
        while used.ram_mb < fill * ram * rng.uniform(0.3, 1.5):
            size = rng.choice(FLAVORS)
            if not (used + size).fits_in(h.capacity):
                break
            w = Workload(f"old/{h.name}/{len(existing)}", "old", "x", size)
            existing.append(Allocation(w, h.name, NOW - 86400))
            used = used + size
            cpu += size.vcpus * (rng.uniform(0.7, 1.0) if busy else rng.uniform(0, 0.4))
            mem += size.ram_mb * (
                rng.uniform(0.9, 1.0) if busy else rng.uniform(0.3, 0.8)
            )
        truth[h.name] = (min(1.0, cpu / vcpus), min(1.0, mem / ram))
        stale = rng.random() < stale_share
        seen[h.name] = HostMetrics(
            h.name,
            NOW - (3600 if stale else rng.uniform(1, 30)),
            truth[h.name][0],
            truth[h.name][1],
            rng.uniform(0, 0.15),
            rng.uniform(0, 0.05),
            True,
        )
    reqs = []
    i = 0
    while len(reqs) < requests:
        size = rng.choice(FLAVORS)
        priority = rng.choice(PRIORITIES)
        count = rng.choice([1, 1, 2, 3]) if groups else 1
        for r in range(min(count, requests - len(reqs))):
            reqs.append(
                Workload(
                    f"t{i % 40}/app{i}/{r}",
                    f"t{i % 40}",
                    f"app{i}",
                    size,
                    priority,
                    preemptible=priority == PRIORITY_RANKS["batch"],
                    replicas=count,
                )
            )
        i += 1
    return Instance(host_list, existing, truth, MetricsSnapshot(seen, NOW), reqs)


@dataclass
class Quality:
    placed: int
    hosts_used: int
    peak: float
    hot: int

    def row(self, name: str) -> str:
        return (
            f"  {name:<16} placed {self.placed:>6}  hosts used {self.hosts_used:>5}"
            f"  peak {self.peak:6.1%}  hot hosts {self.hot:>4}"
        )


def judge(inst: Instance, placement: dict[str, str]) -> Quality:
    sizes = {h.name: h for h in inst.hosts}
    load = {name: list(v) for name, v in inst.truth.items()}
    by_key = {w.key: w for w in inst.requests}
    for key, name in placement.items():
        h, w = sizes[name], by_key[key]
        load[name][0] += w.resources.vcpus * SETTINGS.cpu_use / h.vcpus
        load[name][1] += w.resources.ram_mb / h.ram_mb
    peaks = {name: max(v) for name, v in load.items()}
    return Quality(
        len(placement),
        len(set(placement.values())),
        max(peaks.values()),
        sum(p > SETTINGS.red_line for p in peaks.values()),
    )


def judge_hot_hosts(inst: Instance, placement: dict[str, str]) -> set[str]:
    sizes = {h.name: h for h in inst.hosts}
    load = {name: list(v) for name, v in inst.truth.items()}
    by_key = {w.key: w for w in inst.requests}
    for key, name in placement.items():
        h, w = sizes[name], by_key[key]
        load[name][0] += w.resources.vcpus * SETTINGS.cpu_use / h.vcpus
        load[name][1] += w.resources.ram_mb / h.ram_mb
    return {name for name, v in load.items() if max(v) > SETTINGS.red_line}


def ordered(requests: Sequence[Workload]) -> list[Workload]:
    # The baselines get the same priority order the scheduler uses.
    return sorted(requests, key=lambda w: -w.priority)


def allocation_baseline(
    inst: Instance, choose: Callable[[list[tuple[Host, Resources]]], Host]
) -> dict[str, str]:
    free = {h.name: h.capacity for h in inst.hosts}
    for a in inst.existing:
        free[a.host] = free[a.host] - a.workload.resources
    groups: dict[str, set[str]] = {}
    placement = {}
    for w in ordered(inst.requests):
        taken = groups.setdefault(w.group, set())
        fits = [
            (h, free[h.name])
            for h in inst.hosts
            if w.resources.fits_in(free[h.name]) and h.name not in taken
        ]
        if fits:
            h = choose(fits)
            free[h.name] = free[h.name] - w.resources
            placement[w.key] = h.name
            if w.replicas > 1:
                taken.add(h.name)
    return placement


def first_fit(inst: Instance) -> dict[str, str]:
    return allocation_baseline(inst, lambda fits: fits[0][0])


def least_allocated(inst: Instance) -> dict[str, str]:
    def most_free(fits: list[tuple[Host, Resources]]) -> Host:
        return max(
            fits,
            key=lambda f: min(
                f[1].vcpus / f[0].capacity.vcpus, f[1].ram_mb / f[0].capacity.ram_mb
            ),
        )[0]

    return allocation_baseline(inst, most_free)


def citycloud(
    inst: Instance, settings: Settings = SETTINGS
) -> tuple[dict[str, str], float]:
    scheduler = Scheduler(clock=FakeClock(NOW), settings=settings)
    # CPU time of this process: on a shared machine wall time mostly
    # measures the neighbours.
    started = time.process_time()
    result = scheduler.schedule(inst.hosts, inst.requests, inst.existing, inst.metrics)
    elapsed = time.process_time() - started
    # Workloads that already ran and were displaced are not new placements.
    placement = {k: h for k, h in result.placements.items() if not k.startswith("old/")}
    return placement, elapsed


def optimum(inst: Instance) -> dict[str, str]:
    """Brute force over every assignment (or none) of every request.

    Feasible: every VM fits its host's capacity and no host that receives a
    VM ends above the red line (the rule the scheduler keeps). Best: most
    critical VMs placed, then most high, normal and batch ones (the priority
    rule the scheduler keeps), then fewest hosts used, then lowest peak.
    """
    free0 = {h.name: h.capacity for h in inst.hosts}
    for a in inst.existing:
        free0[a.host] = free0[a.host] - a.workload.resources
    size = {h.name: h for h in inst.hosts}
    names = [h.name for h in inst.hosts]
    reqs = inst.requests
    best: tuple[tuple[float, ...], dict[str, str]] | None = None
    for choice in itertools.product([None, *names], repeat=len(reqs)):
        free = dict(free0)
        load = {n: list(v) for n, v in inst.truth.items()}
        ok = True
        placement = {}
        for w, name in zip(reqs, choice, strict=True):
            if name is None:
                continue
            if not w.resources.fits_in(free[name]):
                ok = False
                break
            free[name] = free[name] - w.resources
            load[name][0] += w.resources.vcpus * SETTINGS.cpu_use / size[name].vcpus
            load[name][1] += w.resources.ram_mb / size[name].ram_mb
            placement[w.key] = name
        if not ok or any(
            max(load[n]) > SETTINGS.red_line for n in set(placement.values())
        ):
            continue
        q = judge(inst, placement)
        score = (*_by_priority(reqs, placement), q.hosts_used, round(q.peak, 9))
        if best is None or score < best[0]:
            best = (score, placement)
    assert best is not None
    return best[1]


def _by_priority(reqs: Sequence[Workload], placement: dict[str, str]) -> list[int]:
    """Minus the VMs placed per priority, most important first."""
    return [
        -sum(1 for w in reqs if w.priority == p and w.key in placement)
        for p in PRIORITIES
    ]


def speed(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    inst = make_instance(rng, args.hosts, args.requests)
    stale = sum(1 for m in inst.metrics.hosts.values() if NOW - m.sampled_at > 120)
    print(
        f"speed: {args.hosts} hosts ({stale} with stale metrics), "
        f"{len(inst.existing)} VMs already running, {args.requests} requests"
    )
    sampled = Settings(max_candidates=args.candidates)
    runs = {
        "citycloud": citycloud(inst),
        f"citycloud/{args.candidates}": citycloud(inst, sampled),
    }
    load = os.getloadavg()[0]
    for name, (_, elapsed) in runs.items():
        print(
            f"  {name:<16} {args.requests / elapsed:8.1f} decisions per CPU second"
            f" ({elapsed:.1f} s of CPU)"
        )
    print(f"  ({os.cpu_count()} cores, load average {load:.1f} when done)")
    stale = {n for n, m in inst.metrics.hosts.items() if NOW - m.sampled_at > 120}
    print("quality on the same inputs:")
    for name, (placement, _) in runs.items():
        quality = judge(inst, placement)
        hot_stale = judge_hot_hosts(inst, placement) & stale
        print(quality.row(name) + f" ({len(hot_stale)} with stale metrics)")
    print(judge(inst, first_fit(inst)).row("first-fit"))
    print(judge(inst, least_allocated(inst)).row("least-allocated"))


def small(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed + 1)
    methods: dict[str, list[Quality]] = {
        k: [] for k in ("optimum", "citycloud", "first-fit", "least-allocated")
    }
    matches = {k: 0 for k in methods}
    gaps: list[int] = []
    for _ in range(args.instances):
        inst = make_instance(
            rng,
            4,
            6,
            host_size=(16, 32768),
            fill=0.45,
            stale_share=0.0,
            groups=False,
        )
        best = judge(inst, optimum(inst))
        results = {
            "optimum": best,
            "citycloud": judge(inst, citycloud(inst)[0]),
            "first-fit": judge(inst, first_fit(inst)),
            "least-allocated": judge(inst, least_allocated(inst)),
        }
        for name, q in results.items():
            methods[name].append(q)
            if q.placed >= best.placed and q.hot <= best.hot:
                matches[name] += 1
            if name == "citycloud":
                gaps.append(q.hosts_used - best.hosts_used)
    print(
        f"small instances: {args.instances} x (4 hosts of 16 vCPU / 32 GiB, "
        "6 requests), exact optimum by brute force"
    )
    for name, qs in methods.items():
        print(
            f"  {name:<16} placed {statistics.mean(q.placed for q in qs):5.2f}"
            f"  hosts used {statistics.mean(q.hosts_used for q in qs):4.2f}"
            f"  peak {statistics.mean(q.peak for q in qs):6.1%}"
            f"  hot hosts {statistics.mean(q.hot for q in qs):4.2f}"
            f"  placed as many, no more hot: {matches[name]}/{args.instances}"
        )
    print(
        "  citycloud uses the optimum's number of hosts in "
        f"{sum(g <= 0 for g in gaps)}/{len(gaps)} instances"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=10000)
    parser.add_argument("--instances", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--candidates",
        type=int,
        default=100,
        help="hosts judged per decision in the sampled run (max_candidates)",
    )
    args = parser.parse_args()
    small(args)
    speed(args)


if __name__ == "__main__":
    main()
