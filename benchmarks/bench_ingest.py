"""Our ingest, against a live Neo4j: cold and warm loads of the query jobs, and where the
write time goes.

Every load goes through the public code paths: :func:`epmt_graph.loader.read_job`,
:func:`epmt_graph.loader.writer.write_job` (one transaction, tree walks included) and
:func:`epmt_graph.loader.load` (two jobs side by side, the path the CLI takes). :func:`write_split`
re-does ``write_job``'s statements one by one, only to say where the write time goes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import neo4j
from bench_util import median, throwaway_server, timed_load

from epmt_graph.config import Connection
from epmt_graph.db import Graph
from epmt_graph.loader import JobRows, delete_job, load, read_job
from epmt_graph.loader import writer as writer_module
from epmt_graph.loader.writer import write_job
from epmt_graph.schema import node_properties
from epmt_graph.store import versions
from epmt_graph.synthetic import write_archive

__all__ = [
    "PIPELINE_WARMUP",
    "ingest",
    "loader_memory",
    "memory_markdown",
    "memory_run",
    "server_floor",
    "split_all",
    "write_split",
]

#: Untimed ``loader.load`` rounds before the timed ones. On a fresh server a pipelined load
#: of the three query jobs gets faster for its first six to eight rounds (two write
#: transactions at once are new to the JIT; measured 7-9 s for the first, 1.3-2 s from
#: the eighth on), so fewer untimed rounds time the server's warm-up, not the load.
PIPELINE_WARMUP = 8

#: The server's floor for a job's rows: the same Process node properties a load writes,
#: created by one statement on a label nothing indexes, with no edge, Job node, digest or
#: publication. Used only by :func:`server_floor`, then deleted.
FLOOR_CREATE = "UNWIND $rows AS row CREATE (p:BenchFloor) SET p = row"
FLOOR_DELETE = "MATCH (p:BenchFloor) DELETE p"


def ingest(graph: Graph, paths: Sequence[Path], warm: int) -> dict[str, Any]:
    """Load the jobs cold (first load on a fresh server), then ``warm`` delete-and-reloads each,
    then ``warm`` times all of them with :func:`epmt_graph.loader.load` (pipelined; after
    :data:`PIPELINE_WARMUP` untimed such loads, whose seconds are kept too).

    Returns
    -------
    dict
        ``jobs``: per job, processes, cold parse/write seconds, the warm lists, their best
        and median, and delete seconds; ``totals``: processes/s for cold, warm-best and
        warm-median (parse + write over all jobs).
    """
    graph.ensure_schema()  # once per database, not per job: outside the timings
    jobs: dict[str, dict[str, Any]] = {}
    for path in paths:
        rows, result, parse, write = timed_load(graph, path)
        if result.processes != len(rows.processes):
            raise RuntimeError(f"{path}: wrote {result.processes} of {len(rows.processes)}")
        jobs[rows.jobid] = {
            "path": str(path),
            "processes": len(rows.processes),
            "max_depth": result.max_depth,
            "cold": {"parse": parse, "write": write},
            "warm": {"parse": [], "write": [], "delete": []},
        }
    for _ in range(warm):
        for jobid, job in jobs.items():
            t0 = time.perf_counter()
            delete_job(graph, jobid)
            job["warm"]["delete"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            rows = read_job(job["path"])
            job["warm"]["parse"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            write_job(graph, rows)
            job["warm"]["write"].append(time.perf_counter() - t0)
    pipelined: list[float] = []  # what `epmt-graph load` does: jobs side by side
    warmup: list[float] = []
    for series in [warmup] * PIPELINE_WARMUP + [pipelined] * warm:
        for jobid in jobs:
            delete_job(graph, jobid)
        t0 = time.perf_counter()
        load(paths, graph=graph)
        series.append(time.perf_counter() - t0)
    for job in jobs.values():
        both = [p + w for p, w in zip(job["warm"]["parse"], job["warm"]["write"], strict=True)]
        job["warm_best"] = {"parse": min(job["warm"]["parse"]), "write": min(job["warm"]["write"])}
        job["warm_median"] = {
            "parse": median(job["warm"]["parse"]),
            "write": median(job["warm"]["write"]),
        }
        job["warm_best_total"], job["warm_median_total"] = min(both), median(both)
    n = sum(job["processes"] for job in jobs.values())
    cold = sum(job["cold"]["parse"] + job["cold"]["write"] for job in jobs.values())
    best = sum(job["warm_best_total"] for job in jobs.values())
    med = sum(job["warm_median_total"] for job in jobs.values())
    totals = {
        "processes": n,
        "seconds": {"cold": cold, "warm_best": best, "warm_median": med},
        "processes_per_second": {
            "cold": n / cold,
            "warm_best": n / best,
            "warm_median": n / med,
            "load_best": n / min(pipelined),
            "load_median": n / median(pipelined),
        },
        "load_seconds": pipelined,
        "load_warmup_seconds": warmup,
        "parse_seconds": {
            "cold": sum(j["cold"]["parse"] for j in jobs.values()),
            "warm_median": sum(j["warm_median"]["parse"] for j in jobs.values()),
        },
        "write_seconds": {
            "cold": sum(j["cold"]["write"] for j in jobs.values()),
            "warm_median": sum(j["warm_median"]["write"] for j in jobs.values()),
        },
    }
    return {"jobs": jobs, "totals": totals, "warm_repeats": warm}


def write_split(graph: Graph, rows: JobRows) -> dict[str, float]:
    """Write a job (not loaded) with ``write_job``'s statements, timing each phase.

    Mirrors :func:`epmt_graph.loader.writer.write_job` for a new job: the digest check,
    then in one transaction the new version's Job node and Process nodes (with the depth
    and inclusive CPU time the reader computed) and the PARENT_OF edges inside each batch
    (``load-processes``), the edges across batches, the writer's lease renewed
    (``lock-version``); the commit; its publication
    (``publish-job``, a second transaction); the summary read. Seconds per phase, measured
    on the client (server work included, as each statement is consumed before the next).
    """
    marks: dict[str, float] = {}
    t0 = time.perf_counter()
    if graph.read("job-digest", jobid=rows.jobid):
        raise RuntimeError(f"job {rows.jobid} is loaded; delete it before write_split")
    marks["digest check"] = time.perf_counter() - t0
    end_of_work = [0.0]
    version = time.time_ns() // 1000
    writer = versions.new_writer()

    def work(tx: neo4j.ManagedTransaction) -> None:
        nodes, across = "Job + Process nodes, PARENT_OF in a batch", "PARENT_OF across batches"
        marks[nodes] = marks[across] = 0.0
        for part in writer_module._parts(rows, version, writer, None):  # the writer's own
            phase = across if getattr(part, "func", None) is writer_module._write_edges else nodes
            t = time.perf_counter()
            part(tx)
            marks[phase] += time.perf_counter() - t
        t = time.perf_counter()
        versions.hold(tx, rows.jobid, version, writer)  # the lease renewed at the end
        marks[nodes] += time.perf_counter() - t
        end_of_work[0] = time.perf_counter()

    graph.execute_write(work)
    marks["commit"] = time.perf_counter() - end_of_work[0]
    t0 = time.perf_counter()
    if versions.publish(graph, rows.jobid, version, writer, len(rows.processes), None):
        raise RuntimeError(f"job {rows.jobid} was not published")
    marks["publish"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    graph.read("job-summary", jobid=rows.jobid)
    marks["summary read"] = time.perf_counter() - t0
    return marks


def server_floor(graph: Graph, paths: Sequence[Path], repeat: int) -> dict[str, Any]:
    """Seconds the server takes to create and commit each job's Process node properties
    alone (:data:`FLOOR_CREATE`): ``repeat`` per job after one untimed round, and the
    processes/s of the jobs' medians.

    No load can write its rows faster than this: it also makes the Job node, the
    BELONGS_TO and PARENT_OF edges and the index entries, checks the digest and
    publishes. Parsing is not timed (the rows are read once, before).
    """
    jobs: dict[str, Any] = {}
    for path in paths:
        rows = read_job(path)
        props = [{**node_properties(p), "version": 0} for p in rows.processes]
        seconds = []
        for _ in range(repeat + 1):
            t0 = time.perf_counter()
            graph.execute_write(lambda tx, props=props: tx.run(FLOOR_CREATE, rows=props).consume())
            seconds.append(time.perf_counter() - t0)
            graph.execute_write(lambda tx: tx.run(FLOOR_DELETE).consume())
        jobs[rows.jobid] = {"processes": len(props), "seconds": seconds[1:]}
    n = sum(job["processes"] for job in jobs.values())
    total = sum(median(job["seconds"]) for job in jobs.values())
    return {"jobs": jobs, "processes": n, "processes_per_second": n / total}


def split_all(graph: Graph, paths: Sequence[Path]) -> dict[str, dict[str, float]]:
    """:func:`write_split` of each job (deleted first), leaving it loaded as before."""
    out: dict[str, dict[str, float]] = {}
    for path in paths:
        rows = read_job(path)
        delete_job(graph, rows.jobid)
        out[rows.jobid] = write_split(graph, rows)
    return out


#: Runs ``epmt-graph`` (argv after the first argument) and, at its exit, writes its peak
#: resident memory (``VmHWM``, kB) to the file named by the first argument. ``wait4``'s
#: ``ru_maxrss`` would not do: Linux starts a child's from the peak of the address space
#: it had before ``exec``, which is the parent's, so it never reads below the benchmark's.
PEAK_PROBE = """
import atexit, runpy, sys
out = sys.argv.pop(1)
def peak():
    with open("/proc/self/status") as status, open(out, "w") as f:
        f.write(next(line for line in status if line.startswith("VmHWM:")).split()[1])
atexit.register(peak)
runpy.run_module("epmt_graph.cli", run_name="__main__", alter_sys=True)
"""


def loader_memory(
    connection: Connection, workdir: Path, sizes: Sequence[int]
) -> list[dict[str, Any]]:
    """Peak memory of ``epmt-graph load`` (a child process) on synthetic jobs of ``sizes``.

    Each job is generated (seeded), loaded by the CLI into the server ``connection`` names,
    and deleted again. The child reports its own peak resident set (:data:`PEAK_PROBE`).

    Returns
    -------
    list of dict
        Per size: ``processes``, ``archive_mb``, ``seconds`` (the whole CLI run),
        ``peak_rss_mb``, ``returncode``.
    """
    env = {**os.environ, "NEO4J_URI": connection.uri}
    out = []
    for n in sizes:
        jobid = f"memory-{n}"
        path = write_archive(workdir / f"{jobid}.tgz", n, seed=3, jobid=jobid)
        t0 = time.perf_counter()
        peak_file = workdir / f"{jobid}.peak"
        child = subprocess.Popen(
            [sys.executable, "-c", PEAK_PROBE, str(peak_file), "load", str(path)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stderr is not None
        errors = child.stderr.read()  # to EOF: the child has exited or closed it
        _, status, _ = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        child.stderr.close()
        out.append(
            {
                "processes": n,
                "archive_mb": path.stat().st_size / 2**20,
                "seconds": time.perf_counter() - t0,
                "peak_rss_mb": int(peak_file.read_text()) / 1024 if peak_file.exists() else None,
                "returncode": child.returncode,
                "error": errors.strip().splitlines()[-1] if child.returncode else None,
            }
        )
        with Graph(connection) as graph:
            delete_job(graph, jobid)
        path.unlink()
    return out


def memory_run(sizes: Sequence[int], heap: str) -> dict[str, Any]:
    """:func:`loader_memory` on its own throwaway server with ``heap`` (page cache 1g)."""
    with (
        throwaway_server(heap=heap, pagecache="1g") as (connection, server),
        tempfile.TemporaryDirectory(prefix="epmt_graph_bench_memory_") as workdir,
    ):
        return {"server": server, "rows": loader_memory(connection, Path(workdir), sizes)}


def memory_markdown(memory: dict[str, Any]) -> list[str]:
    """The loader-memory section of RESULTS.md."""
    rows = memory.get("rows") or []
    if not rows:
        return []
    lines = [
        "## Loader memory",
        "",
        "`epmt-graph load ARCHIVE` as a child process on seeded synthetic jobs (loaded, then "
        "deleted); peak resident memory of that process (its `VmHWM` at exit; `wait4`'s "
        "`ru_maxrss` starts from the benchmark's own peak on Linux). On its own server "
        f"(heap {memory['server']['heap']}). The server holds about 10 KB of heap per process "
        "of a write transaction until its commit, so a job of more than 100,000 processes is "
        "written in several (its nodes and edges 100,000 at a time), "
        "unseen until it is published. The loader streams: it keeps 8 integers per process "
        "(order, parent links, checks, tree values) and, past 20,000 processes, the rows in a "
        "temporary file, read back a batch at a time."
        + (
            f" Measured in a later run, at commit {memory['measured_at']}."
            if "measured_at" in memory
            else ""
        ),
        "",
        "| processes | archive MB | load s | peak RSS MB | MB per 1,000 processes | exit |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['processes']:,} | {row['archive_mb']:.1f} | {row['seconds']:.1f} | "
            f"{_mb(row['peak_rss_mb'])} | {_mb(row['peak_rss_mb'], row['processes'] / 1000)} | "
            f"{row['returncode']}{' (' + row['error'] + ')' if row.get('error') else ''} |"
        )
    return [*lines, ""]


def _mb(mb: float | None, per: float = 1.0) -> str:
    return "n/a" if mb is None else f"{mb / per:,.{0 if per == 1.0 else 1}f}"
