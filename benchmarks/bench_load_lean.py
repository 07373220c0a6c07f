"""``loader.load`` of one archive against the floor's rung d, paired on one server.

    .venv/bin/python benchmarks/bench_load_lean.py [--rounds 5] [--profile] [ARCHIVE ...]

For each archive (default: the sample 685000 and EPMT's 13,530-process 625151), on one
throwaway server: an untimed round, then ``--rounds`` rounds of each load variant (the job
deleted first, untimed) and ``bench_archive_floor``'s rung d (the data model written bare
from rows built beforehand; its nodes deleted after, untimed), their order rotating each
round. The variants: ``load`` = ``loader.load``; ``before`` = what it did before issue 18's
lean-load changes: the digest made before the write (``read_job`` as is), the node rows
made from the process rows, and the ``job-summary`` read after the publish; ``--eager``
adds ``loader.load`` with the digest made before the write.
Each side: wall seconds and the server's CPU seconds (its JVM's user + system time from
``/proc``); the load's transactions by phase (``bench_archive_ours.load_phases``).
``--profile`` adds a cProfile of one more load (``load_job`` on the calling thread: parse,
reads, sending, publish; the batches and the digest are made on threads of their own), top
functions by own time. Prints Markdown; judges nothing on a busy machine unless rounds are paired.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import io
import pstats
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench_archive_floor import _clear, _write_rung, floor_rows, indexed_labels
from bench_archive_ours import TracedGraph, load_phases
from bench_delete import Clock
from bench_util import load_average, median, samples_dir, throwaway_server

from epmt_graph.db import Graph
from epmt_graph.loader import load, load_job, read_job, run_ahead, store_job, writer
from epmt_graph.loader.slices import Slice
from epmt_graph.loader.writer import LoadResult
from epmt_graph.schema import Row, node_properties
from epmt_graph.server import LocalServer
from epmt_graph.store import delete_job

__all__ = ["main"]

DEFAULTS = (
    samples_dir() / "query" / "685000.tgz",
    Path("/tmp/epmtwheel/epmt/test/data/outliers_nb/625151.tgz"),
)


def eager(graph: Graph, path: Path) -> LoadResult:
    """``loader.load``, but with the digest made by the parse, before the write."""
    work = functools.partial(store_job, graph=graph)
    ((_, done),) = run_ahead([path], work, read=read_job)
    result: LoadResult = done.result()
    return result


def _rows_then_nodes(processes: Sequence[Row], part: Slice) -> list[Row]:
    return [node_properties(p) for p in processes[part.start : part.end]]


def before(graph: Graph, path: Path) -> LoadResult:
    """A load as it was: the digest made by the parse, node rows made from the process
    rows (``schema.node_properties``), the summary read back after the publish."""
    kept, writer._nodes = writer._nodes, _rows_then_nodes
    try:
        result = eager(graph, path)
    finally:
        writer._nodes = kept
    graph.read("job-summary", jobid=result.jobid)
    return result


VARIANTS: dict[str, Callable[[Graph, Path], LoadResult]] = {
    "load": lambda graph, path: load([path], graph=graph)[0],
    "before": before,
}


def bench(graph: TracedGraph, clock: Clock, path: Path, rounds: int) -> dict[str, Any]:
    """Paired rounds of each variant and rung d for one archive."""
    floor = floor_rows(path)
    jobid = floor.jobid
    out: dict[str, Any] = {"jobid": jobid, "processes": floor.processes}
    costs: dict[str, list[tuple[float, float]]] = {name: [] for name in [*VARIANTS, "d"]}
    phases: dict[str, list[dict[str, float]]] = {name: [] for name in VARIANTS}

    def one_load(name: str) -> None:
        delete_job(graph, jobid)
        graph.take()
        t0, c0 = clock.now()
        result = VARIANTS[name](graph, path)
        t1, c1 = clock.now()
        if result.status != "loaded" or result.processes != floor.processes:
            raise RuntimeError(str(result))
        costs[name].append((t1 - t0, c1 - c0))
        phases[name].append(load_phases(graph.take(), t1 - t0))

    def one_rung() -> None:
        costs["d"].append(clock.cost(lambda: _write_rung(graph, "d", floor)))
        _clear(graph)

    steps = [*VARIANTS, "d"]
    for r in range(rounds + 1):
        turn = steps[r % len(steps) :] + steps[: r % len(steps)]
        for name in turn:
            if name == "d":
                one_rung()
            else:
                one_load(name)
        if r == 0:
            for found in [*costs.values(), *phases.values()]:
                found.clear()
    out["costs"], out["phases"] = costs, phases
    return out


def profile(graph: TracedGraph, path: Path, top: int = 25) -> str:
    """cProfile of one ``load_job`` (this thread: parse, reads, sending; not the threads
    making the batches and the digest), top functions by own time."""
    jobid = read_job(path).jobid
    delete_job(graph, jobid)
    profiler = cProfile.Profile()
    profiler.enable()
    load_job(path, graph=graph)
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(top)
    return text.getvalue()


def report(found: dict[str, Any]) -> list[str]:
    """Markdown lines: per variant and rung d, medians of wall and server CPU, the variant
    over d (median and per paired round), and its phases."""
    costs = found["costs"]
    d_wall = median([w for w, _ in costs["d"]])
    lines = [
        f"- {found['jobid']} ({found['processes']:,} processes): rung d {d_wall:.3f} s "
        f"(server CPU {median([c for _, c in costs['d']]):.2f}); rounds "
        + ", ".join(f"{w:.2f}" for w, _ in costs["d"])
    ]
    keys = ("write", "publish", "reads", "other", "outside")
    for name in VARIANTS:
        wall = median([w for w, _ in costs[name]])
        cpu = median([c for _, c in costs[name]])
        ratios = [w / d for (w, _), (d, _) in zip(costs[name], costs["d"], strict=True)]
        phase = {k: median([p[k] for p in found["phases"][name]]) for k in keys}
        counts = {k: int(found["phases"][name][0][f"n_{k}"]) for k in keys if k != "outside"}
        lines += [
            f"  - {name}: {wall:.3f} s (server CPU {cpu:.2f}), / d {wall / d_wall:.2f}x, "
            f"paired median {median(ratios):.2f}x; rounds "
            + ", ".join(f"{w:.2f}" for w, _ in costs[name]),
            "    - phases (medians): "
            + ", ".join(f"{k} {phase[k]:.3f}" for k in keys)
            + " (transactions: "
            + ", ".join(f"{k} {v}" for k, v in counts.items())
            + ")",
        ]
    return lines


def main(argv: list[str] | None = None) -> None:
    """Run the comparison and print it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archives", nargs="*", type=Path, default=list(DEFAULTS))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--eager", action="store_true", help="also: the digest made first")
    args = parser.parse_args(argv)
    if args.eager:
        VARIANTS["eager digest"] = eager
    lines = [f"load average before: {load_average()}"]
    with throwaway_server() as (connection, info), TracedGraph(connection) as graph:
        pid = LocalServer(Path(info["home"])).pid()
        assert pid is not None
        clock = Clock(pid)
        graph.ensure_schema()
        with indexed_labels(graph):
            for path in args.archives:
                lines += report(bench(graph, clock, path, args.rounds))
                if args.profile:
                    lines += ["", "```", profile(graph, path), "```"]
    lines.append(f"load average after: {load_average()}")
    print("\n".join(lines))


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"({time.perf_counter() - t0:.0f} s)")
