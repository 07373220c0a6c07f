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
import dataclasses
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import neo4j

from epmt_graph.config import Connection
from epmt_graph.db import Graph
from epmt_graph.loader import delete_job
from epmt_graph.server import LocalServer, ServerSettings, port_is_free

__all__ = [
    "FULL",
    "REDUCED",
    "Archive",
    "Expected",
    "Load",
    "Observed",
    "Planned",
    "Sizes",
    "Summary",
    "Trial",
    "Window",
    "archive_paths",
    "calibrate",
    "cli_env",
    "expect",
    "loader_campaign",
    "loader_kill",
    "loader_target",
    "make_synthetic",
    "observe",
    "orphans",
    "plan",
    "plans",
    "prepare",
    "run_cli",
    "server_campaign",
    "server_kill",
    "start_server",
    "summarize",
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
SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "data" / "epmt-samples"
#: A two-process job loaded before the server kills; it must survive every one of them.
BYSTANDER = SAMPLES / "tsv" / "collated-tsv-2220.tgz"

State = Literal["absent", "whole", "partial"]
Phase = Literal["before write", "in a transaction", "after commit"]


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
    """

    synthetic_procs: int
    loader: dict[str, int]
    server: dict[str, int]

    @property
    def loader_kills(self) -> int:
        """The number of loader kills."""
        return sum(self.loader.values())

    @property
    def server_kills(self) -> int:
        """The number of server kills."""
        return sum(self.server.values())


#: The issue's campaign: 20 loader kills, 5 server kills (``--stress``, the benchmark).
FULL = Sizes(
    synthetic_procs=20_000,
    loader={
        "synthetic": 8,
        "query/685000.tgz": 4,
        "query/685003.tgz": 4,
        "query/685016.tgz": 4,
    },
    server={"synthetic": 3, "query/685016.tgz": 2},
)
#: The default (CI) run: 4 loader kills, 1 server kill, a smaller synthetic job.
REDUCED = Sizes(
    synthetic_procs=5_000,
    loader={"synthetic": 2, "query/685016.tgz": 2},
    server={"query/685016.tgz": 1},
)

# Literal Cypher, parameters only.
_JOB_COUNTS = {
    "jobs": "MATCH (j:Job {jobid: $jobid}) RETURN count(j) AS n",
    "processes": "MATCH (p:Process {jobid: $jobid}) RETURN count(p) AS n",
    "belonging": (
        "MATCH (p:Process {jobid: $jobid})-[:BELONGS_TO]->(:Job {jobid: $jobid}) "
        "RETURN count(p) AS n"
    ),
    "edges_out": "MATCH (:Process {jobid: $jobid})-[e:PARENT_OF]->() RETURN count(e) AS n",
    "edges_in": "MATCH ()-[e:PARENT_OF]->(:Process {jobid: $jobid}) RETURN count(e) AS n",
    "with_tree": (
        "MATCH (p:Process {jobid: $jobid}) "
        "WHERE p.depth IS NOT NULL AND p.inclusive_cpu_time IS NOT NULL RETURN count(p) AS n"
    ),
    "roots": "MATCH (p:Process {jobid: $jobid}) WHERE p.depth = 0 RETURN count(p) AS n",
    "max_depth": "MATCH (p:Process {jobid: $jobid}) RETURN coalesce(max(p.depth), -1) AS n",
}
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
    """``python -m epmt_graph.loader.synthetic`` into ``folder``; returns the archive."""
    out = folder / f"synthetic-{procs}-seed{seed}.tgz"
    command = [sys.executable, "-m", "epmt_graph.loader.synthetic", str(out)]
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


# ---------------------------------------------------------------- trials


@dataclass(frozen=True)
class Trial:
    """What one fault did.

    Attributes
    ----------
    campaign : {'loader kill', 'server kill'}
    archive : str
    fault_at : float
        Seconds after the loader started when the SIGKILL was sent.
    injected : bool
        Whether the signal hit a live process (the loader could have finished first).
    loader_exited : float or None
        Seconds after it started when the loader exited, if that was before the kill.
    phase : {'before write', 'in a transaction', 'after commit'}
        Where the load was: the job whole afterwards means its commit came first; else
        whether a transaction was open on the server at the kill.
    after_fault : {'absent', 'whole', 'partial'}
        The job once the database settled (a killed server restarted).
    lost : int
        Jobs acknowledged as loaded (the loader's exit 0, a bystander) not whole after it.
    orphans : int
        Processes without a Job plus Jobs without processes, database-wide, that were not
        there before the trial.
    reload : Load
        The rerun of the load.
    reload_ok : bool
        The rerun exited 0 and left the job whole.
    seconds : float
        The whole trial, reload included.
    """

    campaign: str
    archive: str
    fault_at: float
    injected: bool
    loader_exited: float | None
    phase: Phase
    after_fault: State
    lost: int
    orphans: int
    reload: Load
    reload_ok: bool
    seconds: float

    @property
    def ok(self) -> bool:
        """No partial job, nothing lost, no orphan, and the rerun completed the job."""
        return self.after_fault != "partial" and self.reload_ok and not self.lost + self.orphans

    def __str__(self) -> str:
        return (
            f"{self.campaign} {self.archive} at {self.fault_at:.2f} s "
            f"({'injected' if self.injected else 'loader had exited'}, {self.phase}): "
            f"{self.after_fault}, lost {self.lost}, orphans {self.orphans}; rerun "
            f"{self.reload.status} in {self.reload.window.total:.1f} s "
            f"({'whole' if self.reload_ok else 'NOT WHOLE'}); trial {self.seconds:.1f} s"
        )


def _phase(state: State, open_transactions: bool) -> Phase:
    if state == "whole":
        return "after commit"
    return "in a transaction" if open_transactions else "before write"


@dataclass(frozen=True)
class Reached:
    """Where a loader got to: seconds after its start, and whether it had exited by then
    (else whether a transaction was open on the server)."""

    at: float
    exited: bool
    open_transaction: bool


def _await_write(loader: subprocess.Popen[str], graph: Graph, began: float) -> float | None:
    """Seconds after ``began`` when the load's write transaction showed up (the same
    transaction open in two polls 50 ms apart); None if the loader exited first."""
    before: set[str] = set()
    while loader.poll() is None:
        now = set(_other_transactions(graph))
        if now & before:
            return time.monotonic() - began
        before = now
        time.sleep(0.05)
    return None


def _run_to(loader: subprocess.Popen[str], graph: Graph, window: Window, target: float) -> Reached:
    """Let the loader run to ``target`` seconds of its ``window``.

    A point before the window's write start is reached by the clock; a later one is counted
    from the moment the write transaction shows up, so that kills meant for the write land
    in it even when this load runs faster or slower than the calibration.
    """
    began = time.monotonic()
    delay = target
    if target >= window.write_start:
        write_start = _await_write(loader, graph, began)
        if write_start is None:
            return Reached(time.monotonic() - began, exited=True, open_transaction=False)
        delay = write_start + target - window.write_start
    try:
        loader.wait(timeout=max(0.0, began + delay - time.monotonic()))
    except subprocess.TimeoutExpired:
        open_tx = bool(_other_transactions(graph))
        return Reached(time.monotonic() - began, exited=False, open_transaction=open_tx)
    return Reached(time.monotonic() - began, exited=True, open_transaction=False)


def _acknowledged(loader: subprocess.Popen[str], stdout: str) -> bool:
    return loader.returncode == 0 and ": loaded," in stdout


def _orphan_count(graph: Graph) -> int:
    return sum(orphans(graph).values())


def _after_fault(
    graph: Graph,
    archive: Archive,
    acknowledged: bool,
    orphans_before: int,
    bystander: Expected | None = None,
) -> tuple[State, int, int]:
    """The job's state, the jobs lost and the new orphans, once the database has settled."""
    expected = archive.expected
    state = observe(graph, expected.jobid).state(expected)
    lost = int(acknowledged and state != "whole")
    if bystander is not None:
        lost += int(observe(graph, bystander.jobid).state(bystander) != "whole")
    return state, lost, _orphan_count(graph) - orphans_before


def _rerun(graph: Graph, archive: Archive) -> tuple[Load, bool]:
    """Load again; it must exit 0 and leave the job whole. The job is deleted after."""
    load = watched_load(graph, archive.path)
    whole = observe(graph, archive.expected.jobid).state(archive.expected) == "whole"
    delete_job(graph, archive.expected.jobid)
    return load, load.returncode == 0 and whole


def loader_kill(graph: Graph, archive: Archive, target: float) -> Trial:
    """SIGKILL ``epmt-graph load ARCHIVE`` at ``target`` s of its window; check; reload.

    The job must be absent before; it is deleted afterwards.
    """
    assert observe(graph, archive.expected.jobid).state(archive.expected) == "absent"
    began, orphans_before = time.monotonic(), _orphan_count(graph)
    with _reaped(_spawn(graph.connection, "load", str(archive.path))) as loader:
        reached = _run_to(loader, graph, archive.window, target)
        if not reached.exited:
            loader.send_signal(signal.SIGKILL)
        stdout, _ = loader.communicate(timeout=TIMEOUT)
    _settle(graph)
    acknowledged = _acknowledged(loader, stdout)
    state, lost, stray = _after_fault(graph, archive, acknowledged, orphans_before)
    reload, reload_ok = _rerun(graph, archive)
    return Trial(
        campaign="loader kill",
        archive=archive.path.name,
        fault_at=reached.at,
        injected=not reached.exited,
        loader_exited=reached.at if reached.exited else None,
        phase=_phase(state, reached.open_transaction),
        after_fault=state,
        lost=lost,
        orphans=stray,
        reload=reload,
        reload_ok=reload_ok,
        seconds=time.monotonic() - began,
    )


def _refreshed(archive: Archive, trial: Trial, *, rerun: bool = True) -> Archive:
    """The archive with the window of the trial's rerun, when that was a full clean load
    (and ``rerun``); else with the loader's exit time, when it beat the kill. Windows drift
    with the machine's load."""
    if rerun and trial.reload.status == "loaded":
        return dataclasses.replace(archive, window=trial.reload.window)
    if trial.loader_exited is not None:
        total = max(trial.loader_exited, archive.window.write_start)
        return dataclasses.replace(archive, window=Window(total, archive.window.write_start))
    return archive


def loader_target(window: Window, fraction: float) -> float:
    """Where in ``window`` a loader kill planned at ``fraction`` goes.

    The first ``PARSE_SHARE`` of the fractions spread over the parse (start to the write
    transaction), the rest over the write (its start to the loader's exit).
    """
    if fraction < PARSE_SHARE:
        return window.write_start * fraction / PARSE_SHARE
    share = (fraction - PARSE_SHARE) / (1 - PARSE_SHARE)
    return window.write_start + share * (window.total - window.write_start)


def loader_campaign(
    graph: Graph, trials: Sequence[Planned], archives: Mapping[str, Archive]
) -> list[Trial]:
    """Run the loader kills of ``trials`` (see :func:`loader_target`)."""
    current = dict(archives)
    results = []
    for t in trials:
        archive = current[t.archive]
        trial = loader_kill(graph, archive, loader_target(archive.window, t.fraction))
        current[t.archive] = _refreshed(archive, trial)
        results.append(trial)
    return results


# ---------------------------------------------------------------- server kills


def _kill_server(server: LocalServer) -> None:
    """SIGKILL the server's Java process (``<home>/server.pid``) and reap it."""
    pid = server.pid()
    if pid is None:
        raise RuntimeError(f"no server running in {server.home}")
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise TimeoutError(f"server process {pid} survived SIGKILL")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _restart(server: LocalServer) -> bool:
    """Start the server again from its home; on new ports if the old ones are still held.

    A killed server leaves its closed connections in TIME_WAIT for up to a minute, and
    ``LocalServer.start`` refuses a port it cannot bind (``port_is_free`` binds without
    SO_REUSEADDR, which the JVM itself would use).

    Returns
    -------
    bool
        Whether the ports changed.
    """
    settings = server.settings
    if all(port_is_free(p) for p in (settings.bolt_port, settings.http_port)):
        server.start(settings)
        return False
    server.start(dataclasses.replace(settings, bolt_port=_free_port(), http_port=_free_port()))
    return True


def start_server(home: Path) -> LocalServer:
    """A throwaway server in ``home``: auth off, free ports, heap 1g, page cache 256m."""
    server = LocalServer(home)
    settings = ServerSettings(
        bolt_port=_free_port(), http_port=_free_port(), auth=False, heap="1g", pagecache="256m"
    )
    server.start(settings)
    return server


def server_kill(server: LocalServer, archive: Archive, target: float, bystander: Expected) -> Trial:
    """SIGKILL the server at ``target`` s of ``epmt-graph load ARCHIVE``'s window, restart it
    from the same home, check the job and the bystander, reload. The job is deleted after."""
    began = time.monotonic()
    with Graph(server.connection()) as graph:
        assert observe(graph, archive.expected.jobid).state(archive.expected) == "absent"
        orphans_before = _orphan_count(graph)
        with _reaped(_spawn(graph.connection, "load", str(archive.path))) as loader:
            reached = _run_to(loader, graph, archive.window, target)
            _kill_server(server)
            if _restart(server) and loader.poll() is None:
                # Meanwhile it retried; on the old port it cannot reach the database any
                # more, so spare the rest of its 30 s retry window.
                loader.terminate()
            stdout, _ = loader.communicate(timeout=TIMEOUT)
    with Graph(server.connection()) as graph:
        acknowledged = _acknowledged(loader, stdout)
        state, lost, stray = _after_fault(graph, archive, acknowledged, orphans_before, bystander)
        reload, reload_ok = _rerun(graph, archive)
    return Trial(
        campaign="server kill",
        archive=archive.path.name,
        fault_at=reached.at,
        injected=True,
        loader_exited=reached.at if reached.exited else None,
        phase=_phase(state, reached.open_transaction),
        after_fault=state,
        lost=lost,
        orphans=stray,
        reload=reload,
        reload_ok=reload_ok,
        seconds=time.monotonic() - began,
    )


def server_campaign(
    home: Path, trials: Sequence[Planned], archives: Mapping[str, Archive]
) -> list[Trial]:
    """Run the server kills of ``trials`` on a server of our own in ``home``.

    The bystander job is loaded first. Each kill lands in the archive's write window:
    ``write_start + (0.05 + 0.9 * fraction) * (total - write_start)``. The server is stopped
    at the end, whatever happens.
    """
    bystander = expect(BYSTANDER)
    current = dict(archives)
    server = start_server(home)
    try:
        with Graph(server.connection()) as graph:
            graph.ensure_schema()
            assert run_cli(graph.connection, "load", str(BYSTANDER)).returncode == 0
        results = []
        for t in trials:
            archive = current[t.archive]
            start, total = archive.window.write_start, archive.window.total
            target = start + (0.05 + 0.9 * t.fraction) * (total - start)
            trial = server_kill(server, archive, target, bystander)
            current[t.archive] = _refreshed(archive, trial, rerun=False)  # reruns run cold
            results.append(trial)
        return results
    finally:
        server.stop()


# ---------------------------------------------------------------- figures


@dataclass(frozen=True)
class Summary:
    """A campaign's figures."""

    trials: int
    faults: int
    lost: int
    partial: int
    orphans: int
    reloads: int
    phases: dict[str, int]
    seconds: float


def summarize(trials: Sequence[Trial]) -> Summary:
    """Count the trials, the faults injected, lost and partial jobs, completed reloads."""
    phases: dict[str, int] = {}
    for t in trials:
        phases[t.phase] = phases.get(t.phase, 0) + 1
    return Summary(
        trials=len(trials),
        faults=sum(t.injected for t in trials),
        lost=sum(t.lost for t in trials),
        partial=sum(t.after_fault == "partial" for t in trials),
        orphans=sum(t.orphans for t in trials),
        reloads=sum(t.reload_ok for t in trials),
        phases=phases,
        seconds=sum(t.seconds for t in trials),
    )
