"""Deleting and replacing a job against loading it, in processes per second, in one run.

    .venv/bin/python benchmarks/bench_delete.py [--sizes 10000 50000 100000] [--rounds 3]
        [--heap 2g] [--write]

Per size, two seeded synthetic jobs (``epmt_graph.synthetic``) of the same job id and as
many processes, parsed beforehand (not timed). On one fresh Neo4j server, after one untimed
round on the smallest size, rounds of: load ``a`` (``write_job``: nodes, edges, publish);
replace it by ``b`` (``write_job(..., replace=True)``: ``b`` written and published, then
``a`` removed, which is timed on its own too); delete the job (``delete_job``, what
``epmt-graph delete``, ``delete_jobs`` and ``retire_jobs`` call). Beside each rate,
the server's CPU time per process (its JVM's user and system time, from ``/proc``): on a
shared machine the rates follow the other processes' load, the CPU time much less. Prints a
Markdown section; ``--write`` puts it in RESULTS.md in place of the last one (between its
markers). Target (issue 18, item 5): removing a version (a delete, the old version in a
replace) at least as fast per process as loading one.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench_util import (
    git_state,
    load_average,
    machine_info,
    median,
    throwaway_server,
    write_section,
)

from epmt_graph.db import Graph
from epmt_graph.loader import JobRows, delete_job, read_job
from epmt_graph.loader.writer import write_job
from epmt_graph.server import LocalServer
from epmt_graph.store import jobs
from epmt_graph.synthetic import write_archive

__all__ = ["main"]

BEGIN, END = "<!-- bench_delete: begin -->", "<!-- bench_delete: end -->"
#: The columns, in order: what is timed in a round.
STEPS = ("load", "replace", "replace: old removed", "delete")
#: What is removed: the steps the target is about.
REMOVALS = ("replace: old removed", "delete")
#: One step's cost: (seconds, the server's CPU seconds).
Cost = tuple[float, float]


class Clock:
    """Wall seconds and the server's CPU seconds (user and system time of its JVM)."""

    def __init__(self, pid: int) -> None:
        self.stat = f"/proc/{pid}/stat"
        self.hz = os.sysconf("SC_CLK_TCK")

    def now(self) -> Cost:
        with open(self.stat) as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return time.perf_counter(), (int(fields[11]) + int(fields[12])) / self.hz

    def cost(self, work: Callable[[], object]) -> Cost:
        t0, c0 = self.now()
        work()
        t1, c1 = self.now()
        return t1 - t0, c1 - c0


@contextlib.contextmanager
def removals(clock: Clock) -> Iterator[list[Cost]]:
    """The cost of each ``store.jobs.delete_version`` call made meanwhile (a replace's
    removal of the version it replaced)."""
    spent: list[Cost] = []
    original = jobs.delete_version

    def timed(*args: Any, **kwargs: Any) -> int:
        t0, c0 = clock.now()
        try:
            return original(*args, **kwargs)
        finally:
            t1, c1 = clock.now()
            spent.append((t1 - t0, c1 - c0))

    jobs.delete_version = timed  # type: ignore[assignment]
    try:
        yield spent
    finally:
        jobs.delete_version = original  # type: ignore[assignment]


def one_round(clock: Clock, graph: Graph, a: JobRows, b: JobRows) -> dict[str, Cost]:
    """Load ``a``, replace it by ``b``, delete the job: the cost of each, per process."""
    n = len(a.processes)
    assert delete_job(graph, a.jobid) == 0
    costs = {"load": clock.cost(lambda: write_job(graph, a))}
    with removals(clock) as spent:
        costs["replace"] = clock.cost(lambda: write_job(graph, b, replace=True))
    assert len(spent) == 1, spent
    costs["replace: old removed"] = spent[0]
    removed = []
    costs["delete"] = clock.cost(lambda: removed.append(delete_job(graph, a.jobid)))
    assert removed == [len(b.processes)], removed
    return {step: (wall / n, cpu / n) for step, (wall, cpu) in costs.items()}


def section(results: dict[int, list[dict[str, Cost]]], info: dict[str, Any]) -> str:
    lines = [
        BEGIN,
        "## Deletes and replaces against loads (issue 18, item 5)",
        "",
        "```",
        ".venv/bin/python benchmarks/bench_delete.py --write",
        "```",
        "",
        f"- **Date**: {time.strftime('%Y-%m-%dT%H:%M:%S%z')}; commit {info['commit']}; load "
        f"average at the start {info['load']}, at the end {info['load_end']}; "
        f"{info['cores']} cores",
        "- **Jobs**: per size, two seeded synthetic jobs of one job id and as many processes, "
        f"parsed beforehand (not timed); one fresh Neo4j server (heap {info['heap']}, page "
        "cache 1g); one untimed round, then per round: *load* the first (`write_job`: nodes, "
        "edges, publish), *replace* it by the second (`write_job(..., replace=True)`: the "
        "second written and published, then the first removed, also timed on its own: *old "
        "removed*), *delete* the job (`delete_job`: what `epmt-graph delete`, `delete_jobs` "
        "and `retire_jobs` call)",
        "",
        "| processes/s | " + " | ".join(STEPS) + " | removal / load |",
        "|---|" + "---|" * (len(STEPS) + 1),
    ]
    worst = float("inf")
    for n, rounds in results.items():
        rates = {s: median([1 / r[s][0] for r in rounds]) for s in STEPS}
        cells = []
        for s in STEPS:
            each = ", ".join(f"{1 / r[s][0]:,.0f}" for r in rounds)
            cells.append(f"**{rates[s]:,.0f}** ({each})")
        ratio = min(rates[s] for s in REMOVALS) / rates["load"]
        worst = min(worst, ratio)
        lines.append(f"| {n:,} | " + " | ".join(cells) + f" | {ratio:.2f}x |")
    lines += [
        "",
        "| server CPU µs per process | " + " | ".join(STEPS) + " | load / removal |",
        "|---|" + "---|" * (len(STEPS) + 1),
    ]
    for n, rounds in results.items():
        cpu = {s: median([1e6 * r[s][1] for r in rounds]) for s in STEPS}
        ratio = cpu["load"] / max(cpu[s] for s in REMOVALS)
        cells = [f"{cpu[s]:,.0f}" for s in STEPS]
        lines.append(f"| {n:,} | " + " | ".join(cells) + f" | {ratio:.2f}x |")
    verdict = "PASS" if worst >= 1.0 else "FAIL"
    lines += [
        "",
        "Rates: medians in bold, then each round; server CPU: medians (a replace's includes "
        "its removal). Target: removing a version (a delete, the old version in a replace) at "
        f"least as fast per process as loading one: **{verdict}** (slowest {worst:.2f}x the "
        "load).",
        END,
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (default 3)")
    parser.add_argument(
        "--heap", default="3g", help="the server's heap (default 3g: a 100,000-process load)"
    )
    parser.add_argument("--write", action="store_true", help="put the section in RESULTS.md")
    args = parser.parse_args(argv)
    info: dict[str, Any] = {
        "load": load_average(),
        "cores": machine_info().get("cores"),
        "commit": git_state()["commit"],
        "heap": args.heap,
    }
    work = Path(tempfile.mkdtemp(prefix="epmt_graph_bench_delete_"))
    results: dict[int, list[dict[str, Cost]]] = {}
    try:
        contents = {}
        for n in args.sizes:
            jobid = f"delete-{n}"
            contents[n] = tuple(
                read_job(write_archive(work / f"{jobid}-{seed}.tgz", n, seed=seed, jobid=jobid))
                for seed in (1, 2)
            )
        with (
            throwaway_server(heap=args.heap, pagecache="1g") as (connection, server),
            Graph(connection) as graph,
        ):
            pid = LocalServer(Path(server["home"])).pid()
            assert pid is not None
            clock = Clock(pid)
            one_round(clock, graph, *contents[min(args.sizes)])  # untimed: the server warms up
            for n in args.sizes:
                results[n] = []
                for _ in range(args.rounds):
                    results[n].append(one_round(clock, graph, *contents[n]))
                    shown = {
                        k: f"{1 / w:,.0f}/s {1e6 * c:.0f}us" for k, (w, c) in results[n][-1].items()
                    }
                    print(n, shown, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    info["load_end"] = load_average()
    text = section(results, info)
    print(text)
    if args.write:
        write_section(text, BEGIN, END)


if __name__ == "__main__":
    main()
