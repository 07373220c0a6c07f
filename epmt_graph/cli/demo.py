"""``epmt-graph demo``: server up, the sample jobs loaded, tree questions answered."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from epmt_graph.config import server_home
from epmt_graph.db import default_graph
from epmt_graph.errors import EpmtGraphError
from epmt_graph.loader import find_jobs, load_job
from epmt_graph.samples import SAMPLE_FOLDERS, sample_dir
from epmt_graph.server import LocalServer

__all__ = ["register"]


def register(commands: Any) -> None:
    """Add the ``demo`` subcommand to ``commands`` (an argparse subparsers object)."""
    parser = commands.add_parser(
        "demo",
        help="start the server, load the EPMT sample jobs, answer the workbook's questions",
        description="Without NEO4J_URI, starts the local server. Loads every sample job "
        "(from EPMT_SAMPLES, else from the epmt 5.0.1 wheel on PyPI); bad archives are "
        "refused with their error. Prints per job: processes, roots, maximum depth.",
    )
    parser.set_defaults(run=_demo)


def _demo(args: argparse.Namespace) -> int:
    if not os.environ.get("NEO4J_URI"):
        server = LocalServer(server_home())
        if server.start():
            print(f"started the local Neo4j server (home {server.home})")
    samples = sample_dir()
    print(f"sample jobs from {samples}")
    graph = default_graph()
    graph.ensure_schema()
    for folder in SAMPLE_FOLDERS:
        for path in find_jobs([samples / folder]):
            try:
                result = load_job(path, graph=graph)
            except EpmtGraphError as exc:
                print(f"  refused {path.relative_to(samples)}: {exc}", file=sys.stdout)
                continue
            print(
                f"  job {result.jobid:>8}: {result.processes:6d} processes, "
                f"{result.roots:3d} roots, max depth {result.max_depth}  "
                f"({path.relative_to(samples)}, {result.status})"
            )
    return 0
