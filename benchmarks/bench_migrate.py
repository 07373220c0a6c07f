"""Migration against archive loading, in processes per second, same jobs, same run.

    .venv/bin/python benchmarks/bench_migrate.py [--rounds 4] [--write]

The sample jobs (tests/constants.py GOOD_FOLDERS) are submitted by the real EPMT 5.0.1 (its
venv: benchmarks/epmt_ref/setup_venv.sh; ``fill_db.py`` without changes, so every job's
content is its archive's) into a SQLite file and, when PostgreSQL's ``initdb``/``pg_ctl``
are installed, into a throwaway PostgreSQL cluster (where EPMT leaves its CSV v2 jobs in
the staging table). Filling is not timed. Then, on one fresh Neo4j server, after one untimed
round of each, rounds in turn: every job deleted, then loaded from its archive with
``epmt_graph.loader.load`` (what ``epmt-graph load`` does); every job deleted, then migrated
with ``epmt_graph.loader.migrate.migrate`` (what ``epmt-graph migrate`` does), from each
source. Each side's CPU is counted too (``/proc``): this process's (reading, and the Python side
of the writes), the Neo4j server's, and the PostgreSQL server's (its postmaster and
backends), per process written; and reading alone (nothing written), per process. Prints a
Markdown section; ``--write`` puts it in RESULTS.md in place of the last one (between its
markers). Target: migration at least as fast per process as loading.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bench_util import (
    REPO,
    load_average,
    machine_info,
    median,
    samples_dir,
    throwaway_server,
    write_section,
)

from epmt_graph.db import Graph
from epmt_graph.loader import delete_job, load, read_job
from epmt_graph.loader.migrate import migrate
from epmt_graph.loader.migrate.jobs import read_stored_job
from epmt_graph.loader.migrate.source import Source
from epmt_graph.server import LocalServer

sys.path.insert(0, str(REPO / "tests"))
from migrate_sources import copies, epmt_python, pg_bin, throwaway_postgres
from oracle import sample_jobs

__all__ = ["main"]

FILL = REPO / "benchmarks" / "epmt_ref" / "fill_db.py"
BEGIN, END = "<!-- bench_migrate: begin -->", "<!-- bench_migrate: end -->"


def fill(url: str, work: Path) -> list[str]:
    """``epmt submit`` of the samples into ``url``; the job ids EPMT reports."""
    paths = copies(work / "in")
    done = subprocess.run(
        [str(epmt_python()), str(FILL), *paths],
        capture_output=True,
        text=True,
        env={**os.environ, "EPMT_DB_URL": url},
        cwd=work,
        check=True,
    )
    return list(json.loads(done.stdout.strip().splitlines()[-1])["submitted"])


@contextlib.contextmanager
def sources(work: Path) -> Iterator[dict[str, str]]:
    """The source databases EPMT filled: SQLite, and PostgreSQL when it is installed."""
    urls = {"SQLite": f"sqlite:///{work / 'epmt.db'}"}
    fill(urls["SQLite"], work / "sqlite")
    with contextlib.ExitStack() as stack:
        if pg_bin() is not None:
            urls["PostgreSQL"] = stack.enter_context(throwaway_postgres())
            fill(urls["PostgreSQL"], work / "postgresql")
        yield urls


TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_cpu(pid: int, *, children: bool = False) -> float:
    """CPU seconds of process ``pid`` so far (with its ended children's, if ``children``)."""
    fields = _stat(pid)
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICK


def postgres_cpu(url: str) -> float:
    """CPU seconds so far of the PostgreSQL server behind ``url``: its postmaster (with the
    backends that ended) and its live backends."""
    port = url.rsplit(":", 1)[1].split("/")[0].encode()
    pids = [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]
    master = next((pid for pid in pids if _is_postmaster(pid, port)), None)
    if master is None:
        return 0.0
    total = process_cpu(master, children=True)
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):  # ended meanwhile
            if int(_stat(pid)[1]) == master:
                total += process_cpu(pid)
    return total


def _is_postmaster(pid: int, port: bytes) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return command[0].endswith(b"postgres") and b"-p " + port in b" ".join(command)


class Meter:
    """CPU seconds spent meanwhile by this process, the Neo4j server and each PostgreSQL
    server."""

    def __init__(self, neo4j_pid: int, urls: dict[str, str]) -> None:
        self.neo4j_pid = neo4j_pid
        self.pg_urls = [url for url in urls.values() if url.startswith("postgresql")]

    def now(self) -> dict[str, float]:
        """The counters now."""
        times = os.times()
        return {
            "python": times.user + times.system,
            "neo4j": process_cpu(self.neo4j_pid),
            "postgresql": sum(postgres_cpu(url) for url in self.pg_urls),
        }


def clear(graph: Graph, jobids: list[str]) -> None:
    for jobid in jobids:
        delete_job(graph, jobid)


def round_of(
    graph: Graph,
    paths: list[Path],
    urls: dict[str, str],
    jobids: list[str],
    meter: Meter,
    *,
    flip: bool,
) -> dict[str, dict[str, float]]:
    """One round: processes per second of loading the archives and of each migration (the
    archives last when ``flip``, so that a drift of the machine's load favours neither), and
    the CPU microseconds each spent per process (this process, Neo4j, PostgreSQL)."""

    def archives() -> int:
        return sum(r.processes for r in load(paths, graph=graph))

    def migration(url: str) -> int:
        summary = migrate(url, graph=graph)
        assert not summary.failed, summary.failed
        return summary.processes

    sides = [("archives (loader.load)", archives)]
    sides += [
        (f"migrate from {name}", functools.partial(migration, url)) for name, url in urls.items()
    ]
    rates = {}
    for name, side in reversed(sides) if flip else sides:
        clear(graph, jobids)
        before, t0 = meter.now(), time.perf_counter()
        processes = side()
        wall = time.perf_counter() - t0
        time.sleep(0.5)  # the backends of the source just closed end, their CPU counted
        after = meter.now()
        rates[name] = {"rate": processes / wall}
        rates[name].update((k, (after[k] - before[k]) / processes * 1e6) for k in after)
    return {name: rates[name] for name, _ in sides}


def reading(
    paths: list[Path], urls: dict[str, str], jobids: list[str]
) -> dict[str, dict[str, float]]:
    """Processes per second of reading alone (nothing written), best of two: the archives
    parsed (``read_job``), each source read (``read_stored_job``); and this process's CPU
    microseconds per process, least of two."""

    def archives() -> int:
        return sum(len(read_job(path).processes) for path in paths)

    def stored(url: str) -> int:
        with Source(url) as source:
            return sum(len(read_stored_job(source, jobid).processes) for jobid in jobids)

    sides = [("archives (loader.load)", archives)]
    sides += [
        (f"migrate from {name}", functools.partial(stored, url)) for name, url in urls.items()
    ]
    rates = {}
    for name, side in sides:
        best, cpu = 0.0, float("inf")
        for _ in range(2):
            t0, c0 = time.perf_counter(), time.process_time()
            processes = side()
            best = max(best, processes / (time.perf_counter() - t0))
            cpu = min(cpu, (time.process_time() - c0) / processes * 1e6)
        rates[name] = {"rate": best, "python": cpu}
    return rates


def section(
    rounds: list[dict[str, dict[str, float]]],
    reads: dict[str, dict[str, float]],
    processes: int,
    jobs: int,
    info: dict[str, object],
) -> str:
    names = list(rounds[0])
    lines = [
        BEGIN,
        "## Migration: an EPMT database against the same jobs' archives",
        "",
        "```",
        ".venv/bin/python benchmarks/bench_migrate.py --write",
        "```",
        "",
        f"- **Date**: {time.strftime('%Y-%m-%dT%H:%M:%S%z')}; load average at the start "
        f"{info['load']}, at the end {load_average()}; {info['cores']} cores",
        f"- **Jobs**: the {jobs} loadable sample jobs ({processes:,} processes), submitted by "
        "EPMT 5.0.1 (`epmt submit`, not post-processed: as EPMT leaves them) into each source; "
        "one fresh Neo4j server (heap 1g, page cache 512m); one untimed round, then rounds in "
        "turn: all jobs deleted, then written again by each side (the archives first in odd "
        "rounds, last in even ones)",
        "",
        "| processes/s | "
        + " | ".join(f"round {i + 1}" for i in range(len(rounds)))
        + " | median | / archives | reading alone |",
        "|---|" + "---|" * (len(rounds) + 3),
    ]
    base = median([r[names[0]]["rate"] for r in rounds])
    for name in names:
        values = [r[name]["rate"] for r in rounds]
        cells = " | ".join(f"{v:,.0f}" for v in values)
        ratio = median(values) / base
        lines.append(
            f"| {name} | {cells} | {median(values):,.0f} | {ratio:.2f}x "
            f"| {reads[name]['rate']:,.0f} |"
        )
    lines += [
        "",
        "| CPU µs per process (median of the rounds) | this process | Neo4j | PostgreSQL "
        "| total | reading alone: this process |",
        "|---|---|---|---|---|---|",
    ]
    totals = {}
    for name in names:
        cpu = {k: median([r[name][k] for r in rounds]) for k in ("python", "neo4j", "postgresql")}
        totals[name] = sum(cpu.values())
        lines.append(
            f"| {name} | {cpu['python']:.0f} | {cpu['neo4j']:.0f} | {cpu['postgresql']:.0f} "
            f"| {totals[name]:.0f} | {reads[name]['python']:.0f} |"
        )
    ratios = {n: median([r[n]["rate"] for r in rounds]) / base for n in names[1:]}
    worst = min(ratios.values())
    verdict = "PASS" if worst >= 1.0 else "FAIL"
    extra = ", ".join(
        f"{n.removeprefix('migrate from ')} {totals[n] - totals[names[0]]:+.0f} µs "
        f"(reading alone {reads[n]['python'] - reads[names[0]]['python']:+.0f})"
        for n in names[1:]
    )
    lines += [
        "",
        f"Target: migration at least as fast per process as loading the archives: **{verdict}** "
        f"(slowest source {worst:.2f}x). Reading alone: the archives parsed (`read_job`) or "
        "each source read into the same rows (`read_stored_job`), nothing written, best of two "
        "(CPU: least of two); loading parses a job, then writes it, on each of two workers; "
        "a migration reads the next jobs on a thread of its own while two are written. The "
        "PostgreSQL server runs on the same cores as Neo4j and the benchmark. "
        f"CPU per process against the archives': {extra}.",
        END,
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=4, help="timed rounds (default 4)")
    parser.add_argument("--write", action="store_true", help="put the section in RESULTS.md")
    args = parser.parse_args(argv)
    info = {"load": load_average(), "cores": machine_info().get("cores")}
    work = Path(tempfile.mkdtemp(prefix="epmt_graph_bench_migrate_"))
    server = throwaway_server(heap="1g", pagecache="512m")  # a shared machine: keep it small
    try:
        with sources(work) as urls, server as (connection, started), Graph(connection) as graph:
            pid = LocalServer(Path(started["home"])).pid()
            assert pid is not None
            meter = Meter(pid, urls)
            paths = [samples_dir() / rel for rel in sample_jobs(samples_dir())]
            first = load(paths, graph=graph)
            jobids = [r.jobid for r in first]
            processes = sum(r.processes for r in first)
            round_of(graph, paths, urls, jobids, meter, flip=False)  # untimed: the server warms
            rounds = [
                round_of(graph, paths, urls, jobids, meter, flip=bool(i % 2))
                for i in range(args.rounds)
            ]
            reads = reading(paths, urls, jobids)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = section(rounds, reads, processes, len(jobids), info)
    print(text)
    if args.write:
        write_section(text, BEGIN, END)


if __name__ == "__main__":
    main()
