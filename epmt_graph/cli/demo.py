"""``epmt-graph demo``: server up, the sample jobs loaded, the workbook's questions answered."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import epmt_graph.api as eq
from epmt_graph.cli.commands import SUMMARY
from epmt_graph.cli.fetching import showing_fetch
from epmt_graph.cli.warming import warm_up_started
from epmt_graph.config import server_home
from epmt_graph.db import Graph, default_graph
from epmt_graph.errors import EpmtGraphError
from epmt_graph.loader import find_jobs, load_job
from epmt_graph.samples import SAMPLE_FOLDERS, sample_dir
from epmt_graph.server import LocalServer, provision

__all__ = ["register"]

QUERY_JOBS = ["685000", "685003", "685016"]


def register(commands: Any) -> None:
    """Add the ``demo`` subcommand to ``commands`` (an argparse subparsers object)."""
    parser = commands.add_parser(
        "demo",
        help=SUMMARY["demo"],
        description="Without NEO4J_URI, starts the local server. Loads every sample job "
        "(from EPMT_SAMPLES, else from the epmt 5.0.1 wheel on PyPI); bad archives are "
        "refused with their error. Prints per job: processes, roots, maximum depth; then "
        "answers the Query API workbook's questions on the query jobs.",
    )
    parser.set_defaults(run=_demo)


def _demo(args: argparse.Namespace) -> int:
    if not os.environ.get("NEO4J_URI"):
        server = LocalServer(server_home())
        with showing_fetch() as show:
            provision(progress=show)
        if server.start():
            print(f"started the local Neo4j server (home {server.home})")
            warm_up_started(server)
    samples = sample_dir()
    print(f"loading the sample jobs from {samples}")
    graph = default_graph()
    for folder in SAMPLE_FOLDERS:
        _load_folder(graph, samples, samples / folder)
    print()
    _answer_questions()
    return 0


def _load_folder(graph: Graph, samples: Path, folder: Path) -> None:
    try:
        paths = list(find_jobs([folder]))
    except EpmtGraphError as exc:
        print(f"  refused {folder.relative_to(samples)}: {exc}")
        return
    for path in paths:
        try:
            result = load_job(path, graph=graph)
        except EpmtGraphError as exc:
            print(f"  refused {path.relative_to(samples)}: {exc}")
            continue
        print(
            f"  job {result.jobid:>8}: {result.processes:6d} processes, {result.roots:3d} roots,"
            f" max depth {result.max_depth}  ({path.relative_to(samples)}, {result.status})"
        )


def _answer_questions() -> None:
    print("The workbook's questions on the query jobs", ", ".join(QUERY_JOBS))
    for jobid in QUERY_JOBS:
        roots = eq.get_roots(jobid, fmt="terse")
        print(f"  eq.get_roots({jobid!r}): {len(roots)} roots")
    root = eq.root("685000", fmt="orm")
    print(
        f"  eq.root('685000'): pid {root.pid} {root.exename}, {len(root.children)} children, "
        f"{len(root.descendants)} descendants, inclusive CPU {root.inclusive_cpu_time} us"
    )
    hsmget = eq.op_roots("685000", "op:hsmget", fmt="dict")
    print(f"  eq.op_roots('685000', 'op:hsmget'): pids {[p['pid'] for p in hsmget][:8]} ...")
    long = eq.get_procs(QUERY_JOBS, fltr=eq.Process.duration > 1_000_000, fmt="orm")
    longest = long.order_by(eq.desc(eq.Process.duration)).first()
    print(
        f"  processes with duration > 1 s: {long.count()}, the longest "
        f"{longest.duration if longest else None} us"
    )
    for tags in ("op_sequence:4", "op_sequence:5", ["op_sequence:4", "op_sequence:5"]):
        count = eq.get_procs(QUERY_JOBS, tags=tags, fmt="orm").count()
        print(f"  eq.get_procs(tags={tags!r}): {count}")
    pids = sorted(eq.get_procs("685000", when="06/15/2019 07:53", fmt="pandas")["pid"])
    print(f"  running in 685000 at 06/15/2019 07:53: pids {pids}")
    top = eq.get_procs("685000", order=eq.desc(eq.Process.inclusive_cpu_time), limit=5, fmt="dict")
    print("  top inclusive CPU in 685000:")
    for process in top:
        print(
            f"    {process['exename']:<12} pid {process['pid']:>6}  depth {process['depth']}  "
            f"inclusive {process['inclusive_cpu_time']:>12} us  own {process['cpu_time']:>10} us"
        )
