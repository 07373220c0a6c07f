"""``epmt-graph migrate DB_URL``: move an EPMT database's jobs and models into the graph."""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import time
import zoneinfo
from typing import Any

from tqdm import tqdm

from epmt_graph.cli import terminal
from epmt_graph.cli.commands import SUMMARY
from epmt_graph.errors import ConfigError
from epmt_graph.loader.migrate import HEADER, migrate, verify
from epmt_graph.loader.writer import LoadResult

__all__ = ["register"]

#: Model outcomes that make the command fail.
_MODEL_FAILURES = ("taken",)


def register(commands: Any) -> None:
    """Add the ``migrate`` subcommand to ``commands`` (an argparse subparsers object)."""
    parser = commands.add_parser(
        "migrate",
        help=SUMMARY["migrate"],
        description="Read an EPMT database (never writing it) and write each job as loading "
        "its archive would, whole or not at all, then its reference models. A job already "
        "migrated with the same content is skipped, so an interrupted migration is finished "
        "by running it again.",
    )
    parser.add_argument(
        "url", metavar="DB_URL", help="sqlite:///path/epmt.db or postgresql://user@host/db"
    )
    parser.add_argument(
        "--jobs", action="append", metavar="ID[,ID...]", help="only these jobs (repeatable)"
    )
    parser.add_argument(
        "--since", metavar="DATE", help="only jobs that start then or later (ISO date or time)"
    )
    parser.add_argument("--dry-run", action="store_true", help="read and check; write nothing")
    parser.add_argument(
        "--replace", action="store_true", help="swap out jobs the graph holds with other content"
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="write nothing: compare every job with the graph (processes, roots, CPU time, "
        "content) in a table; exit 1 on a difference",
    )
    parser.add_argument(
        "--server-tz",
        metavar="ZONE",
        help="zone of the machine EPMT ran on, for the times it wrote in it (default: this "
        "machine's)",
    )
    parser.set_defaults(run=_run)


def _options(args: argparse.Namespace) -> dict[str, Any]:
    jobs = None
    if args.jobs:
        jobs = [j for value in args.jobs for j in re.split(r"[,\s]+", value) if j]
    since = None
    if args.since:
        try:
            since = dt.datetime.fromisoformat(args.since)
        except ValueError as exc:
            raise ConfigError(f"--since {args.since!r} is not an ISO date or time") from exc
    server_tz = None
    if args.server_tz:
        try:
            server_tz = zoneinfo.ZoneInfo(args.server_tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"--server-tz {args.server_tz!r} is not a time zone") from exc
    return {"jobs": jobs, "since": since, "server_tz": server_tz}


def _run(args: argparse.Namespace) -> int:
    options = _options(args)
    if args.verify:
        return _verify(args.url, options)
    bar_file = terminal.raw(sys.stderr)
    started = time.monotonic()
    written = 0
    with tqdm(desc="migrating", unit="job", disable=None, file=bar_file) as bar:

        def total(count: int) -> None:
            bar.reset(total=count)

        def wrote(processes: int) -> None:
            nonlocal written
            written += processes
            elapsed = max(time.monotonic() - started, 1e-9)
            bar.set_postfix_str(f"{written / elapsed:,.0f} processes/s", refresh=False)

        def done(jobid: str, result: LoadResult | None, error: str | None) -> None:
            bar.update(1)
            line = f"epmt-graph: error: {error}" if result is None else str(result)
            with tqdm.external_write_mode(file=bar_file):
                print(line, file=sys.stdout if result else sys.stderr)

        summary = migrate(
            args.url,
            dry_run=args.dry_run,
            replace=args.replace,
            on_total=total,
            on_job=done,
            progress=wrote,
            **options,
        )
    for ident, name, outcome in summary.models:
        named = "" if name is None else f" ({name})"
        print(f"model {ident}{named}: {outcome}")
    seconds = time.monotonic() - started
    counts = ", ".join(f"{n} {status}" for status, n in sorted(summary.jobs.items())) or "no jobs"
    print(
        f"{sum(summary.jobs.values())} jobs in {seconds:.1f} s ({counts}); "
        f"{summary.processes} processes written ({summary.processes / max(seconds, 1e-9):,.0f}/s)",
        file=sys.stderr,
    )
    taken = [m for m in summary.models if m[2] in _MODEL_FAILURES]
    return 1 if summary.failed or taken else 0


def _verify(url: str, options: dict[str, Any]) -> int:
    differ = 0
    print(HEADER)
    for check in verify(url, **options):
        print(check.line())
        differ += not check.equal
    print(f"{differ} of the jobs differ from the graph" if differ else "every job is equal")
    return 1 if differ else 0
