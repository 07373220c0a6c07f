"""Our side of the one-archive benchmark: an archive to answers in process, traced; the
first load on a fresh server; ``epmt-graph load`` as a command; servers started as users
start them.

Every call goes through the public code paths: :func:`epmt_graph.loader.load` (what
``epmt-graph load`` runs), ``eq.get_roots`` and ``eq.op_roots`` with EPMT's default format.
:class:`TracedGraph` only watches: it times each transaction the code runs through it and
names the statements, so that the load's time can be split (:func:`load_phases`) without
re-doing its work. :func:`cli_startup`: what any ``epmt-graph`` command pays to start.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import neo4j

import epmt_graph.api as eq
from epmt_graph import cypher
from epmt_graph.config import Connection
from epmt_graph.db import Graph
from epmt_graph.loader import delete_job, load, read_job
from epmt_graph.server import LocalServer

__all__ = [
    "ArchiveJob",
    "Event",
    "TracedGraph",
    "cli_env",
    "cli_server",
    "cli_startup",
    "epmt_graph_command",
    "first_and_warm",
    "job_of",
    "load_phases",
    "ours_cli",
    "ours_round",
]

T = TypeVar("T")

#: Statement text -> its name in ``epmt_graph/cypher/`` (how a traced transaction names
#: what it ran).
_NAMES = {cypher.query(name).strip(): name for name in cypher.names()}


@dataclass(frozen=True)
class ArchiveJob:
    """One archive of the benchmark: a label, its path, jobid, processes and op values."""

    label: str
    path: Path
    jobid: str
    processes: int
    ops: list[str]


@dataclass
class Event:
    """One transaction (or ``Graph.read``): its kind, the statements it ran, its seconds."""

    kind: str
    statements: list[str] = field(default_factory=list)
    seconds: float = 0.0


class _CountingTx:
    """A managed transaction that notes the name of each statement run through it."""

    def __init__(self, tx: neo4j.ManagedTransaction, event: Event) -> None:
        self._tx = tx
        self._event = event

    def run(self, query: str, *args: Any, **kwargs: Any) -> neo4j.Result:
        self._event.statements.append(_NAMES.get(query.strip(), "(unnamed)"))
        return self._tx.run(query, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)


class TracedGraph(Graph):
    """A :class:`~epmt_graph.db.Graph` that records each transaction it runs (any thread).

    ``take()`` returns the events recorded since the last ``take()``.
    """

    def __init__(self, connection: Connection | None = None) -> None:
        super().__init__(connection)
        self._events: list[Event] = []
        self._trace_lock = threading.Lock()

    def take(self) -> list[Event]:
        """The events since the last call, oldest first."""
        with self._trace_lock:
            events, self._events = self._events, []
        return events

    def _note(self, event: Event, t0: float) -> None:
        event.seconds = time.perf_counter() - t0
        with self._trace_lock:
            self._events.append(event)

    def read(self, name: str, **params: Any) -> list[neo4j.Record]:
        """:meth:`Graph.read`, timed."""
        event, t0 = Event("read", [name]), time.perf_counter()
        try:
            return super().read(name, **params)
        finally:
            self._note(event, t0)

    def execute_read(self, work: Callable[[neo4j.ManagedTransaction], T]) -> T:
        """:meth:`Graph.execute_read`, timed, its statements named."""
        return self._traced("read tx", work, super().execute_read)

    def execute_write(self, work: Callable[[neo4j.ManagedTransaction], T]) -> T:
        """:meth:`Graph.execute_write`, timed, its statements named."""
        return self._traced("write tx", work, super().execute_write)

    def _traced(
        self,
        kind: str,
        work: Callable[[neo4j.ManagedTransaction], T],
        run: Callable[[Callable[[neo4j.ManagedTransaction], T]], T],
    ) -> T:
        event, t0 = Event(kind), time.perf_counter()

        def counted(tx: neo4j.ManagedTransaction) -> T:
            return work(_CountingTx(tx, event))  # type: ignore[arg-type]

        try:
            return run(counted)
        finally:
            self._note(event, t0)


def load_phases(events: Sequence[Event], wall: float) -> dict[str, float]:
    """A load's traced transactions summed by phase: ``write`` (transactions running
    ``load-*`` statements), ``publish`` (``publish-job``), ``reads`` (``Graph.read``:
    digest, versions, summary), ``other`` transactions, ``outside`` (the wall time in no
    transaction: parsing not overlapped, Python), and their counts (``n_*``)."""
    out = dict.fromkeys(("write", "publish", "reads", "other"), 0.0)
    counts = dict.fromkeys(out, 0)
    for event in events:
        if "publish-job" in event.statements:
            phase = "publish"
        elif any(name.startswith("load-") for name in event.statements):
            phase = "write"
        elif event.kind == "read":
            phase = "reads"
        else:
            phase = "other"
        out[phase] += event.seconds
        counts[phase] += 1
    out["outside"] = wall - sum(out.values())
    return out | {f"n_{k}": float(v) for k, v in counts.items()}


def ours_round(graph: TracedGraph, job: ArchiveJob) -> dict[str, Any]:
    """One round of ours: the job deleted (untimed), parsed alone (timed apart), then loaded
    with ``loader.load`` and asked its roots and the op roots of each of its ops.

    Returns
    -------
    dict
        ``parse`` (``read_job`` alone), ``load``, ``get_roots``, ``op_roots`` (sum) and
        ``total`` (load + questions) seconds; ``load_events``, ``roots_events`` and
        ``op_events`` (per op) as :class:`Event` lists; ``answers``: their sizes.
    """
    delete_job(graph, job.jobid)
    t0 = time.perf_counter()
    read_job(job.path)
    parse = time.perf_counter() - t0
    graph.take()
    t0 = time.perf_counter()
    (result,) = load([job.path], graph=graph)
    loaded = time.perf_counter() - t0
    load_events = graph.take()
    if result.status != "loaded" or result.processes != job.processes:
        raise RuntimeError(f"{job.path}: {result}")
    t0 = time.perf_counter()
    roots = eq.get_roots(job.jobid, graph=graph)
    seconds_roots = time.perf_counter() - t0
    roots_events = graph.take()
    op_seconds: dict[str, float] = {}
    op_events: dict[str, list[Event]] = {}
    sizes: dict[str, int] = {}
    for op in job.ops:
        t0 = time.perf_counter()
        found = eq.op_roots(job.jobid, f"op:{op}", graph=graph)
        op_seconds[op] = time.perf_counter() - t0
        op_events[op] = graph.take()
        sizes[op] = len(found)
    op_total = sum(op_seconds.values())
    return {
        "parse": parse,
        "load": loaded,
        "get_roots": seconds_roots,
        "op_roots": op_total,
        "total": loaded + seconds_roots + op_total,
        "op_roots_seconds": op_seconds,
        "load_events": load_events,
        "roots_events": roots_events,
        "op_events": op_events,
        "answers": {"roots": len(roots), "op_roots": sizes},
    }


def first_and_warm(connection: Connection, job: ArchiveJob, warm: int) -> dict[str, Any]:
    """The job's first ``loader.load`` on a server nothing was loaded into yet (a new
    :class:`Graph`: driver, connection and schema check included), then ``warm`` deletes and
    reloads on the same server; seconds."""
    with Graph(connection) as graph:
        t0 = time.perf_counter()
        (result,) = load([job.path], graph=graph)
        first = time.perf_counter() - t0
        if result.status != "loaded":
            raise RuntimeError(f"{job.path}: {result}")
        again = []
        for _ in range(warm):
            delete_job(graph, job.jobid)
            t0 = time.perf_counter()
            load([job.path], graph=graph)
            again.append(time.perf_counter() - t0)
    return {"first": first, "warm": again}


def epmt_graph_command() -> list[str]:
    """``epmt-graph`` as installed next to this interpreter (else ``python -m``)."""
    script = Path(sys.executable).parent / "epmt-graph"
    return [str(script)] if script.exists() else [sys.executable, "-m", "epmt_graph.cli"]


def cli_env(home: Path) -> dict[str, str]:
    """The environment of an ``epmt-graph`` command on the local server in ``home``: this
    checkout's code first on the path, no ``NEO4J_*`` override."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    repo = str(Path(__file__).resolve().parents[1])
    return {**env, "EPMT_GRAPH_HOME": str(home), "PYTHONPATH": repo}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def cli_server() -> Iterator[tuple[Connection, dict[str, Any]]]:
    """A new server started as users start it, ``epmt-graph server start`` (its defaults:
    heap, page cache, authentication, and whatever it does before it says it is ready), in
    a temporary home on free ports; stopped and removed afterwards.

    Yields
    ------
    (Connection, dict)
        How to reach it, and its home, ports, start seconds and what the command printed.
    """
    home = Path(tempfile.mkdtemp(prefix="epmt_graph_bench_archive_neo4j_"))
    command = [*epmt_graph_command(), "server", "--home", str(home)]
    bolt, http = _free_port(), _free_port()
    t0 = time.perf_counter()
    try:
        started = subprocess.run(
            [*command, "start", "--bolt-port", str(bolt), "--http-port", str(http)],
            env=cli_env(home),
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
        info = {
            "home": str(home),
            "bolt_port": bolt,
            "start_seconds": time.perf_counter() - t0,
            "said": started.stdout.strip().splitlines(),
        }
        yield LocalServer(home).connection(), info
    finally:
        subprocess.run([*command, "stop"], env=cli_env(home), capture_output=True, timeout=300)
        shutil.rmtree(home, ignore_errors=True)


def ours_cli(graph: Graph, home: Path, job: ArchiveJob) -> float:
    """``epmt-graph load ARCHIVE`` as a child process on the running server in ``home``,
    the job deleted first (untimed); the seconds from its start to its exit.

    Raises
    ------
    RuntimeError
        If the command fails or the job is not there whole afterwards.
    """
    delete_job(graph, job.jobid)
    t0 = time.perf_counter()
    done = subprocess.run(
        [*epmt_graph_command(), "load", str(job.path)],
        env=cli_env(home),
        capture_output=True,
        text=True,
        timeout=3600,
    )
    seconds = time.perf_counter() - t0
    summary = graph.read("job-summary", jobid=job.jobid)
    if done.returncode != 0 or not summary or summary[0]["processes"] != job.processes:
        raise RuntimeError(f"epmt-graph load {job.path}: exit {done.returncode}: {done.stderr}")
    return seconds


#: The least a command that writes through the official driver pays before its first
#: query: an interpreter, ``import neo4j`` with the driver's optional numpy, pandas and pyarrow
#: hidden (installed, as here, the driver imports all three, which costs 0.3 s more), and one
#: connection (``verify_connectivity``). Arguments: URI, user, password ("" for none).
DRIVER_START = """
import sys
sys.modules.update(dict.fromkeys(("numpy", "pandas", "pyarrow")))
import neo4j
uri, user, password = sys.argv[1:4]
with neo4j.GraphDatabase.driver(uri, auth=(user, password) if password else None) as driver:
    driver.verify_connectivity()
"""


def cli_startup(home: Path) -> dict[str, float]:
    """What every ``epmt-graph`` command pays before it does anything: the seconds of
    ``epmt-graph --version`` (the console script: interpreter start, ``import
    epmt_graph.cli`` and the argument parser; a subcommand's modules are imported when it
    runs) and, for comparison, of ``python -c "import epmt_graph.cli"``; and ``driver``, the
    least any command that writes through the driver pays (:data:`DRIVER_START`) on the
    server in ``home``."""
    reach = LocalServer(home).connection()
    commands = {
        "version": [*epmt_graph_command(), "--version"],
        "import": [sys.executable, "-c", "import epmt_graph.cli"],
        "driver": [
            sys.executable,
            "-c",
            DRIVER_START,
            reach.uri,
            reach.user,
            reach.password or "",
        ],
    }
    out = {}
    for name, command in commands.items():
        t0 = time.perf_counter()
        subprocess.run(command, env=cli_env(home), capture_output=True, check=True)
        out[name] = time.perf_counter() - t0
    return out


def job_of(label: str, path: Path) -> ArchiveJob:
    """An :class:`ArchiveJob` for ``path``, read once with ``read_job``."""
    rows = read_job(path)
    ops = sorted(
        {pair[3:] for p in rows.processes for pair in p.get("tag_pairs") or () if pair[:3] == "op:"}
    )
    return ArchiveJob(label, Path(path), rows.jobid, len(rows.processes), ops)
