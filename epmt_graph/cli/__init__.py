"""``epmt-graph``: the command line. Each subcommand lives in a module of this package.

User mistakes, and the errors :mod:`epmt_graph.db` translates (an unreachable server, a
refused password, a failed query), end in one line on stderr and a non-zero exit, never a
traceback. On a terminal, control characters in the data shown are escaped
(:mod:`.terminal`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from epmt_graph import __version__
from epmt_graph.cli import browser, demo, jobs, load, migrate, server, terminal, trees
from epmt_graph.errors import EpmtGraphError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``epmt-graph`` with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="epmt-graph",
        description="EPMT process trees in Neo4j: run the local server, load jobs, ask questions.",
    )
    parser.add_argument("--version", action="version", version=f"epmt-graph {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (server, load, migrate, jobs, trees, demo, browser):
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``epmt-graph`` with ``argv``; returns the exit code."""
    args = build_parser().parse_args(argv)
    with terminal.guarded():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        code: int = args.run(args)
    except EpmtGraphError as exc:
        print(f"epmt-graph: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("epmt-graph: interrupted", file=sys.stderr)
        return 130
    return code
