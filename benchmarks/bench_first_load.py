"""The first load on a freshly started server, against the warm loads that follow it.

    .venv/bin/python benchmarks/bench_first_load.py [--servers 3] [--warm 5] [--cold 1] [--write]

Each server is a fresh one in a temporary home, started as users start it: ``epmt-graph
server start`` (heap 1g, page cache 512m, auth off), which warms it up before it returns
(``loader/warmup.py``; ``epmt-graph demo`` does the same). Then job 685000 (3,480
processes, parsed beforehand) is written with ``write_job``: the first load, then ``--warm``
more, each after the job is deleted. Per load: wall seconds, and the server's CPU seconds
by thread (``/proc``: the JIT compilers, the garbage collector, the rest). ``--cold``
servers are started without the warm-up, for comparison. Servers are started in turn (warm,
cold, warm, ...). Prints a Markdown section; ``--write`` puts it in RESULTS.md in place of
the last one (between its markers). Target: the first load within 1.5x of the median warm
one, on every warmed server.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_archive import epmt_test_data, largest_archive
from bench_archive_epmt import epmt_python
from bench_archive_ours import cli_server, first_and_warm, job_of
from bench_util import load_average, machine_info, median, samples_dir, write_section

from epmt_graph.db import Graph
from epmt_graph.loader import JobRows, read_job
from epmt_graph.loader.writer import write_job
from epmt_graph.server import LocalServer, ServerSettings
from epmt_graph.store import delete_job

__all__ = ["main"]

BEGIN, END = "<!-- bench_first_load: begin -->", "<!-- bench_first_load: end -->"
JOB = "query/685000.tgz"
HEAP, PAGECACHE = "1g", "512m"
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def thread_cpu(pid: int) -> collections.Counter[str]:
    """CPU seconds of a process's threads so far, by kind: ``jit``, ``gc``, ``work``."""
    out: collections.Counter[str] = collections.Counter()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue  # a thread that ended meanwhile
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat.rsplit(")", 1)[1].split()
        seconds = (int(fields[11]) + int(fields[12])) / TICK
        if "Compiler" in name:
            out["jit"] += seconds
        elif name.startswith(("GC ", "G1 ")):
            out["gc"] += seconds
        else:
            out["work"] += seconds
    return out


def start(home: Path, *, warm: bool) -> tuple[LocalServer, float, float | None]:
    """A fresh server in ``home``: ``epmt-graph server start`` (warm), or started without the
    warm-up; its seconds to start, and the warm-up's seconds it printed."""
    ports = ["--bolt-port", str(free_port()), "--http-port", str(free_port())]
    t0 = time.perf_counter()
    if warm:
        command = [sys.executable, "-m", "epmt_graph.cli", "server", "--home", str(home)]
        done = subprocess.run(
            [*command, "start", *ports, "--no-auth", "--heap", HEAP, "--pagecache", PAGECACHE],
            capture_output=True,
            text=True,
            check=True,
            timeout=900,
        )
        found = re.search(r"warmed up in ([0-9.]+) s", done.stdout)
        if found is None:
            raise RuntimeError(f"no warm-up reported:\n{done.stdout}\n{done.stderr}")
        return LocalServer(home), time.perf_counter() - t0, float(found.group(1))
    server = LocalServer(home)
    settings = ServerSettings(
        bolt_port=int(ports[1]), http_port=int(ports[3]), auth=False, heap=HEAP, pagecache=PAGECACHE
    )
    server.start(settings, timeout=900)
    return server, time.perf_counter() - t0, None


def one_server(rows: JobRows, *, warm: bool, loads: int) -> dict[str, Any]:
    """Start a server, then the first load and ``loads`` warm ones; each load's figures."""
    home = Path(tempfile.mkdtemp(prefix="epmt_graph_bench_first_"))
    server = None
    try:
        server, started, warm_up = start(home, warm=warm)
        pid = server.pid()
        assert pid is not None
        figures = []
        with Graph(server.connection()) as graph:
            graph.ensure_schema()  # the warm-up made it; a cold server makes it here, untimed
            for _ in range(1 + loads):
                before, t0 = thread_cpu(pid), time.perf_counter()
                write_job(graph, rows)
                wall = time.perf_counter() - t0
                cpu = thread_cpu(pid) - before
                figures.append({"wall": wall, **{k: cpu[k] for k in ("jit", "gc", "work")}})
                delete_job(graph, rows.jobid)
        return {
            "warm": warm,
            "start": started,
            "warm_up": warm_up,
            "loads": figures,
            "load_average": os.getloadavg()[0],
        }
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(home, ignore_errors=True)


def archive_loads(warm: int) -> list[dict[str, Any]]:
    """``bench_archive.py``'s first part, for 685000 and EPMT's largest test archive."""
    esm4 = largest_archive(epmt_test_data(epmt_python()))
    out = []
    for label, path in (("685000", samples_dir() / JOB), (esm4.stem, esm4)):
        job = job_of(label, path)
        with cli_server() as (connection, _):
            figures = first_and_warm(connection, job, warm)
        out.append({"job": label, "processes": job.processes, **figures})
        print(out[-1], file=sys.stderr, flush=True)
    return out


def section(
    runs: list[dict[str, Any]],
    archives: list[dict[str, Any]],
    processes: int,
    info: dict[str, Any],
) -> str:
    lines = [
        BEGIN,
        "## The first load on a fresh server",
        "",
        "```",
        ".venv/bin/python benchmarks/bench_first_load.py --write",
        "```",
        "",
        f"- **Date**: {time.strftime('%Y-%m-%dT%H:%M:%S%z')}; load average at the start "
        f"{info['load']}; {info['cores']} cores",
        f"- **Job**: 685000 ({processes:,} processes), parsed beforehand, written by "
        "`write_job` on a fresh server (heap 1g, page cache 512m): the first load, then "
        f"{len(runs[0]['loads']) - 1} more, each after deleting it. *warmed*: started by "
        "`epmt-graph server start`, which warms it up (what `./dev demo` does too); *cold*: "
        "started without the warm-up. Server CPU from `/proc` by thread: JIT compilers, GC, "
        "the rest (query work)",
        "",
        "| server | start s (warm-up s) | first load s | warm loads s (median) "
        "| first / warm | server CPU first: work / JIT / GC s "
        "| warm median: work / JIT / GC s | load avg |",
        "|---|---|---|---|---|---|---|---|",
    ]
    worst = 0.0
    for number, run in enumerate(runs, 1):
        first, rest = run["loads"][0], run["loads"][1:]
        warm = median([r["wall"] for r in rest])
        ratio = first["wall"] / warm
        if run["warm"]:
            worst = max(worst, ratio)
        kind = "warmed" if run["warm"] else "cold"
        started = f"{run['start']:.1f}" + (
            f" ({run['warm_up']:.1f})" if run["warm_up"] is not None else ""
        )
        cpu_first = " / ".join(f"{first[k]:.2f}" for k in ("work", "jit", "gc"))
        cpu_warm = " / ".join(f"{median([r[k] for r in rest]):.2f}" for k in ("work", "jit", "gc"))
        walls = ", ".join(f"{r['wall']:.2f}" for r in rest)
        lines.append(
            f"| {number} {kind} | {started} | {first['wall']:.2f} | {walls} ({warm:.2f}) | "
            f"{ratio:.2f}x | {cpu_first} | {cpu_warm} | {run['load_average']:.1f} |"
        )
    lines += [
        "",
        "`loader.load` of the archive (parse included), as `bench_archive.py`'s first part: a "
        "server started by `epmt-graph server start` with its defaults, the first load, then "
        "deletes and reloads:",
        "",
        "| job | processes | first load s | warm loads s (median) | first / warm |",
        "|---|---|---|---|---|",
    ]
    for run in archives:
        warm = median(run["warm"])
        worst = max(worst, run["first"] / warm)
        walls = ", ".join(f"{w:.2f}" for w in run["warm"])
        lines.append(
            f"| {run['job']} | {run['processes']:,} | {run['first']:.2f} | {walls} ({warm:.2f}) "
            f"| {run['first'] / warm:.2f}x |"
        )
    verdict = "PASS" if worst <= 1.5 else "FAIL"
    lines += [
        "",
        f"Target: the first load on a warmed server within 1.5x of a warm one: **{verdict}** "
        f"(worst {worst:.2f}x).",
        END,
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", type=int, default=3, help="warmed servers (default 3)")
    parser.add_argument("--cold", type=int, default=1, help="cold servers (default 1)")
    parser.add_argument("--warm", type=int, default=5, help="warm loads a server (default 5)")
    parser.add_argument("--write", action="store_true", help="put the section in RESULTS.md")
    args = parser.parse_args(argv)
    info = {"load": load_average(), "cores": machine_info().get("cores")}
    rows = read_job(samples_dir() / JOB)
    kinds = [
        kind
        for i in range(max(args.servers, args.cold))
        for kind, count in ((True, args.servers), (False, args.cold))
        if i < count
    ]
    runs = []
    for warm in kinds:  # in turn: warmed, cold, warmed, ...
        runs.append(one_server(rows, warm=warm, loads=args.warm))
        print(runs[-1], file=sys.stderr, flush=True)
    archives = archive_loads(args.warm)
    text = section(runs, archives, len(rows.processes), info)
    print(text)
    if args.write:
        write_section(text, BEGIN, END)


if __name__ == "__main__":
    main()
