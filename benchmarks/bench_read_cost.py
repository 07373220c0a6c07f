"""What reading alone costs per process: the archives parsed, or each EPMT source read.

    .venv/bin/python benchmarks/bench_read_cost.py [--rounds 5] [--instructions]

The sample jobs are submitted by the real EPMT 5.0.1 into a SQLite file and, when
PostgreSQL is installed, a throwaway cluster, as ``bench_migrate.py`` does (its ``sources``);
then, in turn, every job is read into the rows a load writes, nothing written: the archives
with ``read_job``, each source with ``read_stored_job``. Printed per process: this process's
CPU (user and system, least of ``--rounds``; CPU time rises with other work on the machine,
so compare sides of one run); with ``--instructions``, the instructions executed (valgrind's
cachegrind, ``--cache-sim=no``: a child reads every job twice, another once, the difference
is one reading; the same on any machine, whatever its load). The PostgreSQL server's own CPU
is not this process's: ``bench_migrate.py`` counts it.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench_migrate import sources
from bench_util import REPO, load_average, samples_dir

from epmt_graph.loader import read_job
from epmt_graph.loader.migrate.jobs import read_stored_job
from epmt_graph.loader.migrate.source import Source

sys.path.insert(0, str(REPO / "tests"))
from oracle import sample_jobs

__all__ = ["main"]

ARCHIVES = "archives (read_job)"


def reader(side: str, url: str | None) -> Callable[[], int]:
    """A function that reads every job of ``side`` and returns how many processes."""
    if url is None:
        paths = [samples_dir() / rel for rel in sample_jobs(samples_dir())]
        return lambda: sum(len(read_job(path).processes) for path in paths)

    def stored() -> int:
        with Source(url) as source:
            return sum(len(read_stored_job(source, j).processes) for j in source.job_ids())

    return stored


def cpu(read: Callable[[], int], rounds: int) -> float:
    """CPU microseconds per process of ``read``, least of ``rounds``."""
    best = float("inf")
    for _ in range(rounds):
        before = resource.getrusage(resource.RUSAGE_SELF)
        processes = read()
        after = resource.getrusage(resource.RUSAGE_SELF)
        spent = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        best = min(best, spent / processes * 1e6)
    return best


def instructions(side: str, url: str | None) -> float:
    """Instructions per process of one reading of ``side`` (valgrind's cachegrind)."""
    counts = []
    for reads in (2, 1):
        done = subprocess.run(
            [
                *("valgrind", "--tool=cachegrind", "--cache-sim=no"),
                "--cachegrind-out-file=/dev/null",
                *(sys.executable, __file__, "--child", str(reads), side, url or ""),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        refs = [line for line in done.stderr.splitlines() if "I   refs:" in line]
        processes = int(done.stdout.strip().splitlines()[-1])
        counts.append(int(refs[-1].rsplit(":", 1)[1].replace(",", "")))
    return (counts[0] - counts[1]) / processes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="readings per side (default 5)")
    parser.add_argument("--instructions", action="store_true", help="count them (valgrind)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:  # under valgrind: read the side ``reads`` times
        reads, side, url = args.child
        read = reader(side, url or None)
        processes = [read() for _ in range(int(reads))]
        print(processes[-1])
        return
    if args.instructions and shutil.which("valgrind") is None:
        parser.error("--instructions needs valgrind (apt-get install valgrind)")
    start = load_average()
    work = Path(tempfile.mkdtemp(prefix="epmt_graph_bench_read_"))
    rows = []
    try:
        with sources(work) as urls:
            sides: dict[str, str | None] = {ARCHIVES: None}
            sides |= {f"{name} (read_stored_job)": url for name, url in urls.items()}
            for name, url in sides.items():
                counted = instructions(name, url) if args.instructions else None
                rows.append((name, cpu(reader(name, url), args.rounds), counted))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"load average at the start {start}, at the end {load_average()}\n")
    print("| reading alone, per process | CPU µs | instructions |\n|---|---|---|")
    for name, spent, counted in rows:
        shown = "" if counted is None else f"{counted:,.0f}"
        print(f"| {name} | {spent:.1f} | {shown} |")
    print(json.dumps({name: [spent, counted] for name, spent, counted in rows}))


if __name__ == "__main__":
    main()
