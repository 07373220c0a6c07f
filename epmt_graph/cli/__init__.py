"""``epmt-graph``: the command line. Each subcommand lives in a module of this package.

User mistakes, and the errors :mod:`epmt_graph.db` translates (an unreachable server, a
refused password, a failed query), end in one line on stderr and a non-zero exit, never a
traceback. A reader that stops early (``epmt-graph list | head -1``) ends the command
quietly, with the exit code of a Unix tool killed by SIGPIPE (141). On a terminal, control
characters in the data shown are escaped (:mod:`.terminal`).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence

from epmt_graph import __version__
from epmt_graph.cli import (
    browser,
    demo,
    jobs,
    load,
    migrate,
    outliers,
    server,
    terminal,
    trees,
    watch,
)
from epmt_graph.errors import EpmtGraphError

__all__ = ["BROKEN_PIPE_EXIT", "build_parser", "main"]

#: What a shell reports for a command killed by SIGPIPE.
BROKEN_PIPE_EXIT = 128 + signal.SIGPIPE


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``epmt-graph`` with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="epmt-graph",
        description="EPMT process trees in Neo4j: run the local server, load jobs, ask questions.",
    )
    parser.add_argument("--version", action="version", version=f"epmt-graph {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (server, load, watch, migrate, jobs, trees, outliers, demo, browser):
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``epmt-graph`` with ``argv``; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        with terminal.guarded():
            code = _run(args)
        sys.stdout.flush()  # a pipe's buffer: flushed here, so a closed one is caught here
    except BrokenPipeError:
        # the reader is gone: what is still buffered goes nowhere, rather than to a second
        # BrokenPipeError when Python flushes stdout at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE_EXIT
    return code


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
