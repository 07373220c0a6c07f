"""Shared pieces of the benchmark: timing, statistics, the machine, and a throwaway Neo4j.

Statistics follow ``benchmarks/epmt_ref/ingest_timing.py`` exactly (linear-interpolated
percentiles over milliseconds), so that our figures and EPMT's are computed the same way.
"""

from __future__ import annotations

import contextlib
import importlib.metadata as md
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from epmt_graph.config import Connection
from epmt_graph.db import Graph
from epmt_graph.loader import JobRows, LoadResult, read_job
from epmt_graph.loader.writer import write_job
from epmt_graph.server import LocalServer, ServerSettings

__all__ = [
    "REPO",
    "RESULTS",
    "Stats",
    "cpu_probe",
    "git_state",
    "load_average",
    "machine_info",
    "median",
    "other_jvms",
    "pct",
    "recorded_run",
    "samples_dir",
    "snapshot",
    "stats_ms",
    "throwaway_server",
    "timed",
    "timed_load",
    "write_section",
]

#: The repository root (``benchmarks/..``).
REPO = Path(__file__).resolve().parents[1]
#: Where the benchmarks' figures are kept.
RESULTS = REPO / "benchmarks" / "RESULTS.md"

Stats = dict[str, Any]


def samples_dir() -> Path:
    """The shared sample archives: ``EPMT_SAMPLES``, else ``<repo>/../shared/data/epmt-samples``."""
    env = os.environ.get("EPMT_SAMPLES")
    return Path(env) if env else REPO.parent / "shared" / "data" / "epmt-samples"


def pct(samples: list[float], q: float) -> float | None:
    """The ``q`` quantile of ``samples``, linearly interpolated (as EPMT's timing script).

    Examples
    --------
    >>> pct([1.0, 2.0, 3.0, 4.0], 0.5)
    2.5
    >>> pct([], 0.5) is None
    True
    """
    ordered = sorted(samples)
    if not ordered:
        return None
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: Sequence[float]) -> float:
    """The median of ``values`` as a float.

    Examples
    --------
    >>> median([3, 1, 2])
    2.0
    """
    return float(statistics.median(values))


def stats_ms(samples: list[float]) -> Stats:
    """``n``, ``p50_ms``, ``p95_ms``, ``mean_ms``, ``max_ms`` of durations given in seconds.

    Examples
    --------
    >>> stats_ms([0.001, 0.003])["p50_ms"]
    2.0
    >>> stats_ms([])
    {'n': 0}
    """
    ms = [x * 1000.0 for x in samples]
    if not ms:
        return {"n": 0}
    return {
        "n": len(ms),
        "p50_ms": round(pct(ms, 0.50) or 0.0, 3),
        "p95_ms": round(pct(ms, 0.95) or 0.0, 3),
        "mean_ms": round(statistics.fmean(ms), 3),
        "max_ms": round(max(ms), 3),
    }


def timed(
    fn: Callable[[], object],
    repeat: int,
    *,
    warmup: bool = True,
    budget: float | None = None,
) -> list[float]:
    """Seconds taken by each of ``repeat`` calls of ``fn``, after one untimed warm-up call.

    Parameters
    ----------
    fn : callable
        What to time; its result is discarded.
    repeat : int
        Timed calls.
    warmup : bool
        Make one untimed call first (EPMT's script does).
    budget : float, optional
        Stop early, after at least one timed call, once the timed calls have taken this
        many seconds: keeps the run bounded if something is pathologically slow. The
        number of samples (``n`` in :func:`stats_ms`) then says so.

    Examples
    --------
    >>> len(timed(lambda: None, 3))
    3
    """
    if warmup:
        fn()
    out: list[float] = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
        if budget is not None and sum(out) > budget:
            break
    return out


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages, rounded."""
    return [round(x, 2) for x in os.getloadavg()]


def cpu_probe() -> float:
    """Median milliseconds of a fixed pure-Python loop (5 tries): how contended the CPU is now.

    Only meaningful compared with other probes of the same run: a section whose probe is
    twice another's ran with about half the CPU.
    """
    tries = []
    for _ in range(5):
        t0 = time.perf_counter()
        sum(i * i for i in range(200_000))
        tries.append(time.perf_counter() - t0)
    return round(statistics.median(tries) * 1000.0, 1)


def snapshot() -> dict[str, Any]:
    """Load averages and a :func:`cpu_probe`, taken at the start of a section."""
    return {"load": load_average(), "cpu_probe_ms": cpu_probe()}


def other_jvms() -> int:
    """How many Java processes run on the machine (other Neo4j servers compete for the CPU)."""
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "java":
                    count += 1
    return count


def _meminfo_gib() -> float | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    return None


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _version(dist: str) -> str | None:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    """Cores, memory, CPU model, OS and the Python-side versions of this interpreter."""
    return {
        "cores": os.cpu_count(),
        "memory_gib": _meminfo_gib(),
        "cpu_model": _cpu_model(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "neo4j_driver": _version("neo4j"),
        "neo4j_rust_ext": _version("neo4j-rust-ext"),
        "epmt_graph": _version("epmt-graph"),
        "networkx": _version("networkx"),
        "pandas": _version("pandas"),
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def throwaway_server(
    heap: str = "2g", pagecache: str = "1g", timeout: float = 240.0
) -> Iterator[tuple[Connection, dict[str, Any]]]:
    """A fresh Neo4j in a temporary home on free loopback ports, auth off; gone afterwards.

    Yields
    ------
    (Connection, dict)
        How to reach it, and what it was started with (ports, memory, start seconds).
    """
    home = Path(tempfile.mkdtemp(prefix="epmt_graph_bench_neo4j_"))
    server = LocalServer(home)
    settings = ServerSettings(
        bolt_port=_free_port(), http_port=_free_port(), auth=False, heap=heap, pagecache=pagecache
    )
    t0 = time.perf_counter()
    try:
        server.start(settings, timeout=timeout)
        info = {
            "home": str(home),
            "bolt_port": settings.bolt_port,
            "heap": heap,
            "pagecache": pagecache,
            "start_seconds": round(time.perf_counter() - t0, 2),
        }
        yield server.connection(), info
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)


def git_state() -> dict[str, Any]:
    """The repository's commit, and whether ``epmt_graph/`` has uncommitted changes."""

    def git(*args: str) -> str:
        try:
            done = subprocess.run(
                ["git", "-C", str(REPO), *args], capture_output=True, text=True, timeout=30
            )
        except (OSError, subprocess.SubprocessError):
            return ""
        return done.stdout.strip()

    return {
        "commit": git("rev-parse", "--short", "HEAD") or None,
        "epmt_graph_uncommitted": bool(git("status", "--porcelain", "--", "epmt_graph")),
    }


def timed_load(graph: Graph, path: Path) -> tuple[JobRows, LoadResult, float, float]:
    """Load one job with ``read_job`` then ``write_job``, timing each.

    Returns
    -------
    (JobRows, LoadResult, float, float)
        The parsed rows, what the write did, parse seconds and write seconds.
    """
    t0 = time.perf_counter()
    rows = read_job(path)
    parse = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = write_job(graph, rows)
    return rows, result, parse, time.perf_counter() - t0


def write_section(text: str, begin: str, end: str, results: Path = RESULTS) -> None:
    """Put a benchmark's Markdown section (from its ``begin`` marker to its ``end`` one) at
    the end of ``results``, removing its previous one and leaving one blank line there."""
    old = results.read_text()
    if begin in old:
        before, after = old[: old.index(begin)], old[old.index(end) + len(end) :]
        old = before.rstrip("\n") + "\n\n" + after.lstrip("\n")
    results.write_text(old.rstrip("\n") + "\n\n" + text)


def recorded_run(
    name: str, argv: Sequence[str] | None, run: Callable[[Path], dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``run(work)`` in a temporary folder ``work`` (removed after), and what a section
    says of the run: date, the ``benchmarks/NAME.py`` command line, git state, machine,
    wall seconds. Returns that, and what ``run`` returned."""
    info: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": f"benchmarks/{name}.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "git": git_state(),
        "machine": machine_info(),
    }
    work = Path(tempfile.mkdtemp(prefix=f"epmt_graph_{name}_"))
    t0 = time.perf_counter()
    try:
        figures = run(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    info["wall_seconds"] = time.perf_counter() - t0
    return info, figures
