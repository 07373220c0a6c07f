"""``epmt-graph list | show JOB | delete JOB...``: jobs from the command line."""

from __future__ import annotations

import argparse
from typing import Any

import epmt_graph.api as eq
from epmt_graph.cli.commands import SUMMARY
from epmt_graph.errors import QueryError

__all__ = ["register"]

_TOP = 10


def register(commands: Any) -> None:
    """Add ``list``, ``show`` and ``delete`` to ``commands`` (an argparse subparsers object)."""
    listing = commands.add_parser(
        "list", help=SUMMARY["list"], description="Job ids by start time, like `epmt list`."
    )
    listing.add_argument("--tags", default=None, help="job tag to match, e.g. 'exp_name:ESM4'")
    listing.add_argument("--long", action="store_true", help="one line per job with details")
    listing.set_defaults(run=_list)
    show = commands.add_parser(
        "show",
        help=SUMMARY["show"],
        description="A job's summary, roots and its top processes by inclusive CPU time.",
    )
    show.add_argument("job")
    show.add_argument("--top", type=int, default=_TOP, help=f"processes to show ({_TOP})")
    show.set_defaults(run=_show)
    delete = commands.add_parser(
        "delete",
        help=SUMMARY["delete"],
        description="Delete jobs with their processes and edges, each in one transaction. "
        "More than one job needs --force; a job a reference model was built from is kept.",
    )
    delete.add_argument("jobs", nargs="+", metavar="JOB")
    delete.add_argument("--force", action="store_true", help="allow deleting several jobs")
    delete.set_defaults(run=_delete)


def _list(args: argparse.Namespace) -> int:
    if not args.long:
        for jobid in eq.get_jobs(tags=args.tags, order=eq.Job.start, fmt="terse"):
            print(jobid)
        return 0
    for job in eq.get_jobs(tags=args.tags, order=eq.Job.start, fmt="dict"):
        print(
            f"{job['jobid']:>10}  {job['start']:%Y-%m-%d %H:%M}  {job['num_procs']:7d} procs  "
            f"exit {job['exitcode']}  {job['jobname']}"
        )
    return 0


def _show(args: argparse.Namespace) -> int:
    found = eq.get_jobs(args.job, fmt="dict")
    if not found:
        raise QueryError(f"job {args.job} is not loaded")
    job = found[0]
    roots = eq.get_roots(args.job, fmt="dict")
    print(f"job {job['jobid']}: {job['jobname']}")
    print(f"  user {job['user']}, {job['start']:%Y-%m-%d %H:%M:%S} .. {job['end']:%H:%M:%S}")
    seconds = job["duration"] / 1e6
    print(f"  duration {seconds:.1f} s, cpu {job['cpu_time'] / 1e6:.1f} s, exit {job['exitcode']}")
    print(f"  {job['num_procs']} processes, {job['num_threads']} threads, {len(roots)} roots")
    tags = ";".join(f"{k}:{v}" for k, v in sorted(job["tags"].items()))
    print(f"  tags {tags or '(none)'}")
    print(f"  top {args.top} processes by inclusive CPU:")
    top = eq.get_procs(
        args.job, order=eq.desc(eq.Process.inclusive_cpu_time), limit=args.top, fmt="dict"
    )
    for p in top:
        print(
            f"    {p['exename']:<16} pid {p['pid']:>7}  depth {p['depth']}  "
            f"inclusive {p['inclusive_cpu_time'] / 1e6:10.3f} s  own {p['cpu_time'] / 1e6:9.3f} s"
        )
    return 0


def _delete(args: argparse.Namespace) -> int:
    selected = eq.get_jobs(args.jobs, fmt="terse")
    if len(selected) > 1 and not args.force:
        raise QueryError(f"{len(selected)} jobs selected: several need --force; none deleted")
    deleted = eq.delete_jobs(selected or args.jobs, force=args.force)
    print(f"deleted {deleted} job{'s' if deleted != 1 else ''}")
    return 0
