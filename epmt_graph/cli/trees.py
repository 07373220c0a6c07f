"""``epmt-graph tree JOB | export JOB``: a job's process tree as text, GraphML or JSON."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from epmt_graph.cli.commands import SUMMARY
from epmt_graph.tree import EXPORT_FORMATS, ProcessTree, export_text, render_text, write_export

__all__ = ["register"]


def register(commands: Any) -> None:
    """Add ``tree`` and ``export`` to ``commands`` (an argparse subparsers object)."""
    tree = commands.add_parser(
        "tree",
        help=SUMMARY["tree"],
        description="Every process of a job, indented under its parent, with exclusive and "
        "inclusive CPU time; sibling subtrees below --threshold seconds fold into one line. "
        "The last line is the job's critical path (as eq.critical_path walks it).",
    )
    tree.add_argument("job")
    tree.add_argument(
        "--threshold", type=float, default=1.0, help="fold below this many CPU seconds (1.0)"
    )
    tree.set_defaults(run=_tree)
    export = commands.add_parser(
        "export",
        help=SUMMARY["export"],
        description="Write a job's process tree (processes as nodes, PARENT_OF as edges).",
    )
    export.add_argument("job")
    export.add_argument("--format", choices=EXPORT_FORMATS, default="graphml", dest="fmt")
    export.add_argument("--output", "-o", type=Path, default=None, help="file (default: stdout)")
    export.set_defaults(run=_export)


def _tree(args: argparse.Namespace) -> int:
    tree = ProcessTree.of_job(args.job)
    print(render_text(tree, args.threshold))
    exename, pid = tree.values("exename"), tree.values("pid")
    steps = (f"{exename[p]} [{pid[p]}]" for p in tree.critical_path())
    print("critical path:", " > ".join(steps))
    return 0


def _export(args: argparse.Namespace) -> int:
    tree = ProcessTree.of_job(args.job)
    if args.output is None:
        print(export_text(tree, args.fmt), end="")
    else:
        write_export(tree, args.fmt, args.output)
        print(f"wrote {args.output}")
    return 0
