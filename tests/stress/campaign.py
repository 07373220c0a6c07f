"""Kill campaigns against atomic loads: SIGKILL the loader, or the Neo4j server, mid-load.

Shared by ``tests/stress/test_kill_campaigns.py`` (reduced counts by default, the full ones
with ``--stress``) and ``benchmarks/reliability.py`` (full counts, figures for
``docs/reliability.md``).

A trial starts ``epmt-graph load ARCHIVE`` as a subprocess, sends SIGKILL to the loader (or to
the server's Java process) at a seeded random point of the load window (loader kills: a
quarter in the parse, the rest in the write; server kills: in the write), lets the database
settle (the killed client's transaction ends; a killed server is restarted from the same
home), then reads the job back and classifies it against an independent expectation computed
by ``tests/oracle.py`` from the raw papiex rows:

* ``absent``: no Job node, no Process, no PARENT_OF edge of the job;
* ``whole``: one Job, every process (each BELONGS_TO it, each with ``depth`` and
  ``inclusive_cpu_time``), every PARENT_OF edge, the oracle's roots and maximum depth;
* ``partial``: anything else (a bug).

Then the load is run again and must leave the job whole. A job the loader reported as loaded
(exit 0) must be whole after the fault; so must a bystander job loaded before a server kill;
otherwise it counts as lost.
"""

from __future__ import annotations

import contextlib
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import neo4j
from constants import SAMPLES

from epmt_graph.config import Connection
from epmt_graph.db import Graph
from epmt_graph.loader import delete_job

__all__ = [
    "FULL",
    "REDUCED",
    "Archive",
    "Expected",
    "Load",
    "Observed",
    "Planned",
    "Sizes",
    "Window",
    "archive_paths",
    "calibrate",
    "cli_env",
    "expect",
    "make_synthetic",
    "observe",
    "orphans",
    "plan",
    "plans",
    "prepare",
    "run_cli",
    "stored",
    "watched_load",
]

#: Seconds any one subprocess (a load, a reload) may take before the trial fails.
TIMEOUT = 600.0
#: Seconds to wait for a killed client's transaction to end on the server.
SETTLE_TIMEOUT = 120.0
#: The seed of every campaign (kill points, synthetic job).
SEED = 7
#: Share of each archive's loader kills aimed at the parse; the rest go to the write.
PARSE_SHARE = 0.25
#: Where the sample jobs are (``../shared/data/epmt-samples``).
#: A two-process job loaded before the server kills; it must survive every one of them.
BYSTANDER = SAMPLES / "tsv" / "collated-tsv-2220.tgz"

State = Literal["absent", "whole", "partial"]
Phase = Literal["before write", "in a transaction", "before publish", "after commit"]


@dataclass(frozen=True)
class Sizes:
    """How many kills of each kind, and on which archives.

    Attributes
    ----------
    synthetic_procs : int
        Processes of the seeded synthetic job (``--seed 7``).
    loader : dict of str to int
        Loader kills per archive: ``"synthetic"`` or a path relative to the samples.
    server : dict of str to int
        Server kills per archive, likewise.
    writers : int
        Trials of concurrent writers of one job id, one of them killed (``racing.py``).
    """

    synthetic_procs: int
    loader: dict[str, int]
    server: dict[str, int]
    writers: int

    @property
    def loader_kills(self) -> int:
        """The number of loader kills."""
        return sum(self.loader.values())

    @property
    def server_kills(self) -> int:
        """The number of server kills."""
        return sum(self.server.values())


#: The issue's campaign: 20 loader kills, 5 server kills, 27 races of concurrent writers
#: (``--stress``, the benchmark).
FULL = Sizes(
    synthetic_procs=20_000,
    loader={
        "synthetic": 8,
        "query/685000.tgz": 4,
        "query/685003.tgz": 4,
        "query/685016.tgz": 4,
    },
    server={"synthetic": 3, "query/685016.tgz": 2},
    writers=27,
)
#: The default (CI) run: 4 loader kills, 1 server kill, a smaller synthetic job, 3 races.
REDUCED = Sizes(
    synthetic_procs=5_000,
    loader={"synthetic": 2, "query/685016.tgz": 2},
    server={"query/685016.tgz": 1},
    writers=3,
)

# Literal Cypher, parameters only. A job is what readers see: its published version.
_HEAD = "MATCH (h:JobHead {jobid: $jobid}) "
_PROCS = _HEAD + "MATCH (p:Process {jobid: $jobid, version: h.version}) "
_JOB_COUNTS = {
    "jobs": _HEAD + "MATCH (j:Job {jobid: $jobid, version: h.version}) RETURN count(j) AS n",
    "processes": _PROCS + "RETURN count(p) AS n",
    "belonging": _PROCS + "MATCH (p)-[:BELONGS_TO]->(:Job {jobid: $jobid, version: h.version}) "
    "RETURN count(p) AS n",
    "edges_out": _PROCS + "MATCH (p)-[e:PARENT_OF]->() RETURN count(e) AS n",
    "edges_in": _PROCS + "MATCH ()-[e:PARENT_OF]->(p) RETURN count(e) AS n",
    "with_tree": _PROCS + "WHERE p.depth IS NOT NULL AND p.inclusive_cpu_time IS NOT NULL "
    "RETURN count(p) AS n",
    "roots": _PROCS + "WHERE p.depth = 0 RETURN count(p) AS n",
    "max_depth": _PROCS + "RETURN coalesce(max(p.depth), -1) AS n",
}
#: Every version of a job, published or not, and their processes.
_STORED = (
    "OPTIONAL MATCH (j:Job {jobid: $jobid}) OPTIONAL MATCH (p:Process {jobid: $jobid}) "
    "RETURN count(DISTINCT j) + count(DISTINCT p) AS n"
)
_ORPHANS = {
    "processes_without_job": (
        "MATCH (p:Process) WHERE NOT (p)-[:BELONGS_TO]->(:Job) RETURN count(p) AS n"
    ),
    "jobs_without_processes": (
        "MATCH (j:Job) WHERE NOT (:Process)-[:BELONGS_TO]->(j) RETURN count(j) AS n"
    ),
}
_OTHER_TRANSACTIONS = (
    "SHOW TRANSACTIONS YIELD transactionId, currentQuery "
    "WHERE NOT coalesce(currentQuery, '') STARTS WITH 'SHOW TRANSACTIONS' "
    "RETURN transactionId AS id"
)


# ---------------------------------------------------------------- expectations and state


@dataclass(frozen=True)
class Expected:
    """A job as the oracle computes it from its raw papiex rows."""

    jobid: str
    processes: int
    edges: int
    roots: int
    max_depth: int


def expect(path: Path) -> Expected:
    """The oracle's view of the job at ``path`` (``tests/oracle.py``, not the loader)."""
    import oracle  # tests/ is on sys.path: pytest's rootdir conftest, or the benchmark

    frame = oracle.raw_processes(path)
    tree = oracle.process_tree(frame)
    depths = oracle.depths(tree)
    return Expected(
        jobid=str(frame["jobid"].iloc[0]),
        processes=tree.number_of_nodes(),
        edges=tree.number_of_edges(),
        roots=len(oracle.roots(tree)),
        max_depth=max(depths.values()),
    )


@dataclass(frozen=True)
class Observed:
    """A job's counts as read from the graph (see ``_JOB_COUNTS``)."""

    jobs: int
    processes: int
    belonging: int
    edges_out: int
    edges_in: int
    with_tree: int
    roots: int
    max_depth: int

    def state(self, expected: Expected) -> State:
        """``absent``, ``whole`` (exactly as ``expected``) or ``partial``."""
        if self == _ABSENT:
            return "absent"
        n, e = expected.processes, expected.edges
        whole = Observed(1, n, n, e, e, n, expected.roots, expected.max_depth)
        return "whole" if self == whole else "partial"


_ABSENT = Observed(0, 0, 0, 0, 0, 0, 0, -1)


def observe(graph: Graph, jobid: str) -> Observed:
    """Count what the graph holds of job ``jobid`` (one read transaction)."""

    def work(tx: neo4j.ManagedTransaction) -> Observed:
        counts = {
            k: tx.run(q, jobid=jobid).single(strict=True)["n"] for k, q in _JOB_COUNTS.items()
        }
        return Observed(**counts)

    return graph.execute_read(work)


def stored(graph: Graph, jobid: str) -> int:
    """Job and Process nodes of ``jobid`` in the database, of any version."""
    records = graph.driver.execute_query(_STORED, jobid=jobid).records
    return int(records[0]["n"])


def orphans(graph: Graph) -> dict[str, int]:
    """Processes without a Job and Jobs without processes, in the whole database."""
    records = {k: graph.driver.execute_query(q).records for k, q in _ORPHANS.items()}
    return {k: int(rows[0]["n"]) for k, rows in records.items()}


def _other_transactions(graph: Graph) -> list[str]:
    records = graph.driver.execute_query(_OTHER_TRANSACTIONS, database_=graph.connection.database)
    return [str(r["id"]) for r in records.records]


def _settle(graph: Graph) -> float:
    """Wait until no transaction but ours is open (a killed client's has ended)."""
    began = time.monotonic()
    while _other_transactions(graph):
        if time.monotonic() - began > SETTLE_TIMEOUT:
            raise TimeoutError(f"transactions still open after {SETTLE_TIMEOUT:.0f} s")
        time.sleep(0.1)
    return time.monotonic() - began


# ---------------------------------------------------------------- the loader as a subprocess


def cli_env(connection: Connection) -> dict[str, str]:
    """The environment that points ``epmt-graph`` at ``connection``."""
    env = {**os.environ, "NEO4J_URI": connection.uri, "NEO4J_USER": connection.user}
    env["NEO4J_DATABASE"] = connection.database
    env.pop("NEO4J_PASSWORD", None)
    if connection.password is not None:
        env["NEO4J_PASSWORD"] = connection.password
    return env


def _spawn(connection: Connection, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "epmt_graph.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=cli_env(connection),
    )


def run_cli(connection: Connection, *args: str) -> subprocess.CompletedProcess[str]:
    """``epmt-graph ARGS`` as a subprocess against ``connection``, bounded by ``TIMEOUT``."""
    return subprocess.run(
        [sys.executable, "-m", "epmt_graph.cli", *args],
        capture_output=True,
        text=True,
        env=cli_env(connection),
        timeout=TIMEOUT,
        check=False,
    )


@contextlib.contextmanager
def _reaped(process: subprocess.Popen[str]) -> Iterator[subprocess.Popen[str]]:
    """Kill ``process`` on the way out if it still runs (a failed trial leaves nothing)."""
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def make_synthetic(folder: Path, procs: int, seed: int = SEED) -> Path:
    """``python -m epmt_graph.synthetic`` into ``folder``; returns the archive."""
    out = folder / f"synthetic-{procs}-seed{seed}.tgz"
    command = [sys.executable, "-m", "epmt_graph.synthetic", str(out)]
    subprocess.run(
        [*command, "--procs", str(procs), "--seed", str(seed)],
        check=True,
        capture_output=True,
        timeout=TIMEOUT,
    )
    return out


# ---------------------------------------------------------------- calibration and plans


@dataclass(frozen=True)
class Window:
    """When a clean load of one archive does what, in seconds after the loader starts.

    Attributes
    ----------
    total : float
        Until the loader exits.
    write_start : float
        When its longest transaction (the job's write) was first seen on the server.
    """

    total: float
    write_start: float


@dataclass(frozen=True)
class Load:
    """A clean ``epmt-graph load``: its exit code and output, and its window."""

    returncode: int
    stdout: str
    stderr: str
    window: Window

    @property
    def status(self) -> str:
        """``loaded``, ``unchanged``... from ``job ID: STATUS, ...``; else its last error."""
        if self.returncode == 0 and self.stdout.startswith("job "):
            return self.stdout.split()[2].rstrip(",")
        return (self.stderr.strip().splitlines() or ["failed"])[-1][:200]


def watched_load(graph: Graph, path: Path) -> Load:
    """``epmt-graph load PATH``, timed, with the server's transactions watched meanwhile."""
    seen: dict[str, list[float]] = {}
    began = time.monotonic()
    with _reaped(_spawn(graph.connection, "load", str(path))) as loader:
        while loader.poll() is None:
            now = time.monotonic() - began
            if now > TIMEOUT:
                raise TimeoutError(f"loading {path} took over {TIMEOUT:.0f} s")
            for tx in _other_transactions(graph):
                seen.setdefault(tx, [now, now])[1] = now
            time.sleep(0.05)
        total = time.monotonic() - began
        stdout, stderr = loader.communicate()
    longest = max(seen.values(), key=lambda span: span[1] - span[0], default=[0.0, 0.0])
    return Load(loader.returncode, stdout, stderr, Window(total, write_start=longest[0]))


def calibrate(graph: Graph, path: Path, expected: Expected) -> Window:
    """Time one clean load of ``path`` (the job must be absent), check it, delete it.

    Raises
    ------
    AssertionError
        If the load fails or does not leave the job whole.
    """
    load = watched_load(graph, path)
    assert load.returncode == 0, load.stderr
    assert observe(graph, expected.jobid).state(expected) == "whole"
    delete_job(graph, expected.jobid)
    return load.window


@dataclass(frozen=True)
class Archive:
    """A campaign's archive: where it is, what the oracle expects, its load window."""

    path: Path
    expected: Expected
    window: Window


def prepare(
    graph: Graph, paths: Mapping[str, Path], expected: Mapping[str, Expected] | None = None
) -> dict[str, Archive]:
    """Expectations (oracle, unless given) and load windows of ``paths``, by name.

    The smallest job is loaded and deleted once first, untimed: a cold server writes several
    times slower, and a window measured cold would put the kills after the commit.
    """
    expected = expected or {name: expect(path) for name, path in paths.items()}
    smallest = min(paths, key=lambda name: expected[name].processes)
    calibrate(graph, paths[smallest], expected[smallest])
    return {
        name: Archive(path, expected[name], calibrate(graph, path, expected[name]))
        for name, path in paths.items()
    }


@dataclass(frozen=True)
class Planned:
    """One trial to run: the archive, and where in its window the kill goes (0..1)."""

    archive: str
    fraction: float


def plan(counts: Mapping[str, int], seed: int = SEED) -> list[Planned]:
    """Stratified kill points: ``k`` trials of an archive get one point in each k-th of
    its window, drawn from a generator seeded with ``seed``."""
    rng = random.Random(seed)
    return [
        Planned(archive, (j + rng.random()) / k) for archive, k in counts.items() for j in range(k)
    ]


def plans(sizes: Sizes, seed: int = SEED) -> tuple[list[Planned], list[Planned]]:
    """The loader kills and the server kills of a campaign (seeds ``seed`` and ``seed + 1``)."""
    return plan(sizes.loader, seed), plan(sizes.server, seed + 1)


def archive_paths(sizes: Sizes, folder: Path, seed: int = SEED) -> dict[str, Path]:
    """The campaign's archives by name: the synthetic job (written into ``folder``) and the
    samples."""
    paths = {"synthetic": make_synthetic(folder, sizes.synthetic_procs, seed=seed)}
    for name in sorted({*sizes.loader, *sizes.server} - {"synthetic"}):
        paths[name] = SAMPLES / name
    return paths
