"""``epmt-graph load PATH...``: parse, validate and write EPMT jobs."""

from __future__ import annotations

import argparse
import functools
import sys
from typing import Any

from tqdm import tqdm

from epmt_graph.cli import terminal
from epmt_graph.cli.commands import SUMMARY
from epmt_graph.errors import EpmtGraphError, ServerUnavailableError
from epmt_graph.loader import find_jobs, read_job, run_ahead, store_job

__all__ = ["register"]


def register(commands: Any) -> None:
    """Add the ``load`` subcommand to ``commands`` (an argparse subparsers object)."""
    parser = commands.add_parser(
        "load",
        help=SUMMARY["load"],
        description="Load .tgz archives, job directories, or folders of them; each job is "
        "written whole or not at all. A job already loaded with the same content is skipped.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH")
    parser.add_argument(
        "--replace", action="store_true", help="swap out a loaded job with the same jobid"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="parse and validate only; write nothing"
    )
    parser.set_defaults(run=_load)


def _load(args: argparse.Namespace) -> int:
    failed = 0
    bar_file = terminal.raw(sys.stderr)
    with tqdm(desc="loading", unit="proc", leave=False, disable=None, file=bar_file) as bar:
        work = functools.partial(
            store_job, replace=args.replace, dry_run=args.dry_run, progress=bar.update
        )
        read = functools.partial(read_job, digest_ahead=True)  # made while the job is written
        for _, done in run_ahead(find_jobs(args.paths), work, read=read):
            try:
                line, out = str(done.result()), sys.stdout
            except ServerUnavailableError:
                raise  # every other job would fail the same way: one line says it
            except EpmtGraphError as exc:
                failed += 1
                line, out = f"epmt-graph: error: {exc}", sys.stderr
            with tqdm.external_write_mode(file=bar_file):
                print(line, file=out)
    return 1 if failed else 0
