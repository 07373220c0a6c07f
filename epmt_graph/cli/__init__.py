"""``epmt-graph``: the command line. Each subcommand lives in a module of this package,
imported only when that subcommand runs (:mod:`.commands` lists them).

User mistakes, and the errors :mod:`epmt_graph.db` translates (an unreachable server, a
refused password, a failed query), end in one line on stderr and a non-zero exit, never a
traceback. A reader that stops early (``epmt-graph list | head -1``) ends the command
quietly, with the exit code of a Unix tool killed by SIGPIPE (141). On a terminal, control
characters in the data shown are escaped (:mod:`.terminal`).
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from collections.abc import Collection, Sequence

from epmt_graph import __version__
from epmt_graph.cli import terminal
from epmt_graph.cli.commands import MODULES
from epmt_graph.errors import EpmtGraphError

__all__ = ["BROKEN_PIPE_EXIT", "build_parser", "main"]

#: What a shell reports for a command killed by SIGPIPE.
BROKEN_PIPE_EXIT = 128 + signal.SIGPIPE


def build_parser(declared: Collection[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser of ``epmt-graph``: every subcommand, with the arguments of those
    in ``declared``.

    Parameters
    ----------
    declared : collection of str, optional
        The subcommands whose modules are imported to declare their arguments (default:
        every one); the others are listed by name alone, and take no argument.

    Examples
    --------
    >>> parser = build_parser(declared=["list"])
    >>> parser.parse_args(["list", "--long"]).long
    True
    >>> parser.parse_known_args(["tree", "685000"])[1]  # not declared: its arguments unread
    ['685000']
    """
    parser = argparse.ArgumentParser(
        prog="epmt-graph",
        description="EPMT process trees in Neo4j: run the local server, load jobs, ask questions.",
    )
    parser.add_argument("--version", action="version", version=f"epmt-graph {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module, names in MODULES.items():
        if declared is None or any(name in declared for name in names):
            importlib.import_module(f"{__name__}.{module}").register(commands)
        else:
            for name, line in names.items():
                commands.add_parser(name, help=line, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``epmt-graph`` with ``argv``; returns the exit code."""
    # which subcommand (or --help, --version) from a parser that imports no subcommand, then
    # the arguments from one that declares that subcommand's alone
    command = build_parser(declared=()).parse_known_args(argv)[0].command
    args = build_parser(declared={command}).parse_args(argv)
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
