"""Ours and EPMT's ingest of the same archives in turn, round after round, and its part of
RESULTS.md. The two ingest targets are judged on these rounds: taken in turn, both sides meet
the shared machine's load as it is at that moment.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench_util import median

from epmt_graph.db import Graph
from epmt_graph.loader import delete_job, load, read_job

__all__ = ["alternated", "turn_markdown"]


def alternated(
    graph: Graph, paths: Sequence[Path], epmt_ingest: Callable[[], dict[str, Any]], rounds: int
) -> dict[str, Any]:
    """Ours and EPMT's ingest of the same archives in turn, ``rounds`` times each.

    A round is one ``epmt_ingest()`` (EPMT's script with ``--ingest-only``: a fresh SQLite,
    submit, post_process, process_trees; its JSON) and then our ``loader.load`` of the
    archives (deleted first). Taken in turn, both sides meet the shared machine's load as
    it is at that moment, which separate sections minutes apart do not (their CPU probes
    differed by up to 1.9x).

    Returns
    -------
    dict
        ``ours`` (seconds per round), ``epmt`` (per round: its ``seconds`` by phase),
        ``processes`` and ``processes_per_second`` from the medians: ``ours``,
        ``epmt_submit``, ``epmt_total``; ``error`` if an EPMT round failed.
    """
    ours: list[float] = []
    epmt: list[dict[str, float]] = []
    jobs = {rows.jobid: len(rows.processes) for rows in map(read_job, paths)}
    for _ in range(rounds):
        result = epmt_ingest()
        if "error" in result:
            return {"error": result["error"], "ours": ours, "epmt": epmt}
        epmt.append(result["seconds"])
        for jobid in jobs:
            delete_job(graph, jobid)
        t0 = time.perf_counter()
        load(paths, graph=graph)
        ours.append(time.perf_counter() - t0)
    n = sum(jobs.values())
    return {
        "ours": ours,
        "epmt": epmt,
        "processes": n,
        "processes_per_second": {
            "ours": n / median(ours),
            "epmt_submit": n / median([r["submit"] for r in epmt]),
            "epmt_total": n / median([r["total"] for r in epmt]),
        },
    }


def turn_markdown(turn: dict[str, Any]) -> list[str]:
    """The rounds in turn as a RESULTS.md table, with the medians and their ratios."""
    if "processes_per_second" not in turn:
        return [f"Ours and EPMT in turn: not measured ({turn.get('error', 'no rounds')}).", ""]
    pps = turn["processes_per_second"]
    lines = [
        "Ours and EPMT in turn (the figures the two ingest targets are judged on): each round "
        "runs EPMT's script with `--ingest-only` (a fresh SQLite: submit, post_process, "
        "process_trees of the 3 archives) and then our `loader.load` of the same archives "
        "(deleted first), on a server already warm from the loads above; seconds per round.",
        "",
        "| round | ours `loader.load` s | EPMT submit s | EPMT to queryable trees s |",
        "|---|---|---|---|",
    ]
    for n, (ours, epmt) in enumerate(zip(turn["ours"], turn["epmt"], strict=True), start=1):
        lines.append(f"| {n} | {ours:.2f} | {epmt['submit']:.2f} | {epmt['total']:.2f} |")
    lines += [
        "",
        f"Medians, processes/s ({turn['processes']:,} processes): ours {pps['ours']:,.0f}; "
        f"EPMT submit {pps['epmt_submit']:,.0f} (ours {pps['ours'] / pps['epmt_submit']:.2f}x); "
        f"EPMT to queryable trees {pps['epmt_total']:,.0f} "
        f"(ours {pps['ours'] / pps['epmt_total']:.2f}x).",
        "",
    ]
    return lines
