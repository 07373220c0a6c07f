"""One job's archive to answers, ours against EPMT 5.0.1, in one run (issue 18's targets).

    .venv/bin/python benchmarks/bench_archive.py [--rounds 3] [--warm 3] [--write]
    .venv/bin/python benchmarks/bench_archive.py --quick     # the sample alone, one round

Three archives, each a job alone: the 3,480-process sample 685000, the largest job of
EPMT's own test data (by processes: the 13,530-process ESM4 job 625151 of its outliers
notebook, never used by this project's tests) and a seeded 50,000-process synthetic job.

1. First load against warm loads: for each archive a new server, started as users start it
   (``epmt-graph server start``, its defaults); the archive's first ``loader.load`` there,
   then ``--warm`` deletes and reloads. The last server stays up for the rest.
2. Archive to answers, in process, rounds in turn with EPMT (who goes first alternates):
   ours = ``loader.load`` of the archive on the warm server (the job deleted first,
   untimed), then ``eq.get_roots(job)`` and ``eq.op_roots(job, 'op:<v>')`` for every op of
   the job; EPMT = ``epmt_ref/archive_timing.py`` in its venv (submit, post-process, its
   process tree, get_roots, op_roots) on a fresh SQLite, after an untimed pass over a
   small archive. Ours after one untimed round. Every transaction of ours is traced
   (``bench_archive_ours.TracedGraph``) to say where the time goes.
3. The server's floor for each job, a ladder of four rungs (``bench_archive_floor``: the
   nodes bare on an unindexed label; on a label with :Process's indexes; + BELONGS_TO;
   + PARENT_OF, the data model written bare), against our load alone. The last rung bounds
   every target: the report says where even a load costing nothing but it would miss one.
4. Whole commands, rounds in turn: ``epmt-graph load ARCHIVE`` as a child process against
   EPMT's ``epmt submit ARCHIVE`` then ``epmt daemon -D --post-process --no-analyze`` to the
   end of its first pass (``bench_archive_epmt``), each round on a fresh SQLite file; and
   what any ``epmt-graph`` command pays to start (``epmt-graph --version``), and what any
   command writing through the driver pays before its first query (an interpreter, ``import
   neo4j``, a connection: ``bench_archive_ours.DRIVER_START``), before each of our commands.

``--quick`` checks the code: the sample archive alone, one round of
each part, one warm reload, one floor round, in about a minute (its figures judge nothing).

Prints a Markdown section; ``--write`` puts it in RESULTS.md in place of the last one
(between its markers); ``--json FILE`` keeps the raw figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_archive_epmt import epmt_cli, epmt_in_process, epmt_python
from bench_archive_floor import ladder
from bench_archive_ours import (
    TracedGraph,
    cli_server,
    cli_startup,
    first_and_warm,
    job_of,
    ours_cli,
    ours_round,
)
from bench_archive_report import section
from bench_util import recorded_run, samples_dir, snapshot, write_section

from epmt_graph.errors import ArchiveError
from epmt_graph.loader import read_job
from epmt_graph.synthetic import write_archive

__all__ = ["main"]

BEGIN, END = "<!-- bench_archive: begin -->", "<!-- bench_archive: end -->"
SAMPLE = "query/685000.tgz"


def epmt_test_data(python: Path) -> Path:
    """The test data folder of the EPMT wheel installed in EPMT's venv."""
    done = subprocess.run(
        [str(python), "-c", "import epmt, os; print(os.path.dirname(epmt.__file__))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(done.stdout.strip()) / "test" / "data"


def largest_archive(folder: Path) -> Path:
    """The archive below ``folder`` with the most processes (those we cannot read skipped:
    EPMT's kern-6656 jobs need their recording zone)."""
    sizes = {}
    for path in sorted(folder.rglob("*.tgz")):
        try:
            sizes[path] = len(read_job(path).processes)
        except ArchiveError:
            continue
    return max(sizes, key=lambda path: sizes[path])


def in_turn(first: Callable[[], Any], second: Callable[[], Any], flip: bool) -> tuple[Any, Any]:
    """``first()`` and ``second()``, run in that order (reversed when ``flip``)."""
    if flip:
        b = second()
        return first(), b
    a = first()
    return a, second()


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    python = Path(args.epmt_python) if args.epmt_python else epmt_python()
    out: dict[str, Any] = {"snapshots": {"start": snapshot()}, "rounds": args.rounds}
    jobs = [job_of(f"sample {SAMPLE}", samples_dir() / SAMPLE)]
    if not args.quick:
        esm4 = largest_archive(epmt_test_data(python))
        synthetic = write_archive(
            work / f"synthetic-{args.synthetic}.tgz",
            args.synthetic,
            seed=7,
            jobid="bench-synthetic",
        )
        jobs += [
            job_of(f"EPMT test data {esm4.parent.name}/{esm4.name}", esm4),
            job_of(f"synthetic, seed 7, {args.synthetic:,} processes", synthetic),
        ]
    out["quick"] = args.quick
    warm_job = job_of("warm-up", write_archive(work / "warm.tgz", 300, seed=1, jobid="warm-300"))
    out["jobs"] = [dataclasses.asdict(job) | {"path": str(job.path)} for job in jobs]
    out["archive_mb"] = {job.jobid: job.path.stat().st_size / 2**20 for job in jobs}

    out["first"] = {}
    out["snapshots"]["first load"] = snapshot()
    for job in jobs[:-1]:
        with cli_server() as (connection, server):
            out["first"][job.jobid] = first_and_warm(connection, job, args.warm) | {
                "server_start": server["start_seconds"]
            }
    with cli_server() as (connection, server), TracedGraph(connection) as graph:
        out["server"] = server
        last = jobs[-1]
        out["first"][last.jobid] = first_and_warm(connection, last, args.warm) | {
            "server_start": server["start_seconds"]
        }
        out["snapshots"]["in process"] = snapshot()
        for job in jobs:
            ours_round(graph, job)  # untimed: each job's first round on this server
        ours: dict[str, list[dict[str, Any]]] = {job.jobid: [] for job in jobs}
        epmt: dict[str, list[dict[str, Any]]] = {job.jobid: [] for job in jobs}
        for r in range(args.rounds):
            for job in jobs:
                a, b = in_turn(
                    lambda job=job: ours_round(graph, job),
                    lambda job=job: epmt_in_process(python, job, warm_job),
                    flip=r % 2 == 1,
                )
                ours[job.jobid].append(a)
                epmt[job.jobid].append(b)
                print(f"in process, round {r + 1}, {job.jobid}: ours {a['total']:.2f} s, "
                      f"EPMT {b['seconds']['total']:.2f} s", file=sys.stderr)  # fmt: skip
        out["ours"], out["epmt"] = ours, epmt
        out["snapshots"]["floor"] = snapshot()
        out["ladder"] = ladder(graph, [job.path for job in jobs], args.floor_repeat)
        graph.take()
        out["snapshots"]["commands"] = snapshot()
        home = Path(server["home"])
        cli_startup(home)  # untimed: the first run reads the files
        startup: dict[str, list[float]] = {"version": [], "import": [], "driver": []}
        cli: dict[str, dict[str, list[Any]]] = {job.jobid: {"ours": [], "epmt": []} for job in jobs}
        for r in range(args.rounds):
            for job in jobs:
                for name, seconds in cli_startup(home).items():  # next to ours, in time
                    startup[name].append(seconds)
                a, b = in_turn(
                    lambda job=job: ours_cli(graph, home, job),
                    lambda job=job: epmt_cli(python, job),
                    flip=r % 2 == 1,
                )
                cli[job.jobid]["ours"].append(a)
                cli[job.jobid]["epmt"].append(b)
                print(f"commands, round {r + 1}, {job.jobid}: ours {a:.2f} s, "
                      f"EPMT {b['total']:.2f} s", file=sys.stderr)  # fmt: skip
        out["cli"], out["startup"] = cli, startup
    out["snapshots"]["end"] = snapshot()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds in turn (default 3)")
    parser.add_argument("--warm", type=int, default=3, help="warm reloads after a first load")
    parser.add_argument("--floor-repeat", type=int, default=5, help="floor ladder rounds")
    parser.add_argument("--synthetic", type=int, default=50_000, help="synthetic job's processes")
    parser.add_argument("--epmt-python", help="EPMT venv python (default: from setup_venv.sh)")
    parser.add_argument("--write", action="store_true", help="put the section in RESULTS.md")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument(
        "--quick", action="store_true", help="the sample alone, one round of everything"
    )
    args = parser.parse_args(argv)
    if args.quick and args.write:
        parser.error("--quick figures judge nothing: not written to RESULTS.md")
    if args.quick:
        args.rounds, args.warm, args.floor_repeat = 1, 1, 1
    info, figures = recorded_run("bench_archive", argv, functools.partial(run, args))
    if args.json:
        args.json.write_text(json.dumps(info | figures, default=_plain, indent=1) + "\n")
    text = section(info, figures, BEGIN, END)
    print(text)
    if args.write:
        write_section(text, BEGIN, END)


def _plain(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return str(value)


if __name__ == "__main__":
    main()
