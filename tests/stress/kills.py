"""Kill campaigns, the trials: SIGKILL the loader or the Neo4j server at a planned point
of a load, let the database settle, classify the job and reload it (see :mod:`campaign`
for the expectations, observations and plans these use)."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from campaign import (
    BYSTANDER,
    PARSE_SHARE,
    TIMEOUT,
    Archive,
    Expected,
    Load,
    Phase,
    Planned,
    State,
    Window,
    _other_transactions,
    _reaped,
    _settle,
    _spawn,
    expect,
    observe,
    orphans,
    run_cli,
    watched_load,
)
from leases import Sweep, only_held, sweep, unpublished

from epmt_graph.db import Graph
from epmt_graph.loader import delete_job
from epmt_graph.server import LocalServer, ServerSettings, port_is_free

__all__ = [
    "Summary",
    "Trial",
    "loader_campaign",
    "loader_kill",
    "loader_target",
    "server_campaign",
    "server_kill",
    "start_server",
    "summarize",
]


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
    phase : {'before write', 'in a transaction', 'before publish', 'after commit'}
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
        The rerun exited 0 and left the job whole, and once it was deleted nothing of the
        job remained but a version the killed writer still held on its lease.
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


def _phase(state: State, open_transactions: bool, unpublished: bool) -> Phase:
    if state == "whole":
        return "after commit"
    if unpublished:
        return "before publish"
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
    left_before: set[int],
    bystander: Expected | None = None,
) -> tuple[State, int, int, bool]:
    """The job's state, the jobs lost, the new orphans, and whether an unpublished version of
    the job was left behind (besides ``left_before``, earlier trials' that killed writers
    still hold), once the database has settled."""
    expected = archive.expected
    state = observe(graph, expected.jobid).state(expected)
    lost = int(acknowledged and state != "whole")
    if bystander is not None:
        lost += int(observe(graph, bystander.jobid).state(bystander) != "whole")
    left = state == "absent" and bool(unpublished(graph, expected.jobid)[0] - left_before)
    return state, lost, _orphan_count(graph) - orphans_before, left


def _rerun(graph: Graph, archive: Archive) -> tuple[Load, bool]:
    """Load again; it must exit 0 and leave the job whole. The job is deleted after, and
    nothing of it may remain but a version the killed writer still holds on its lease
    (removed by the campaign's :func:`leases.sweep`)."""
    load = watched_load(graph, archive.path)
    whole = observe(graph, archive.expected.jobid).state(archive.expected) == "whole"
    delete_job(graph, archive.expected.jobid)
    gone = only_held(graph, archive.expected.jobid)
    return load, load.returncode == 0 and whole and gone


@dataclass(frozen=True)
class _Fault:
    """A SIGKILL sent during a load: which campaign, when, whether it hit a live process,
    and whether the loader had reported the job loaded."""

    campaign: str
    reached: Reached
    injected: bool
    acknowledged: bool


def _judge(
    graph: Graph,
    archive: Archive,
    fault: _Fault,
    before: tuple[int, set[int]],
    began: float,
    bystander: Expected | None = None,
) -> Trial:
    """Check the settled database after ``fault``, reload the job, and say what happened
    (``before``: the orphans and the job's unpublished versions before the trial)."""
    state, lost, stray, left = _after_fault(graph, archive, fault.acknowledged, *before, bystander)
    reload, reload_ok = _rerun(graph, archive)
    reached = fault.reached
    return Trial(
        campaign=fault.campaign,
        archive=archive.path.name,
        fault_at=reached.at,
        injected=fault.injected,
        loader_exited=reached.at if reached.exited else None,
        phase=_phase(state, reached.open_transaction, left),
        after_fault=state,
        lost=lost,
        orphans=stray,
        reload=reload,
        reload_ok=reload_ok,
        seconds=time.monotonic() - began,
    )


def loader_kill(graph: Graph, archive: Archive, target: float) -> Trial:
    """SIGKILL ``epmt-graph load ARCHIVE`` at ``target`` s of its window; check; reload.

    The job must be absent before; it is deleted afterwards.
    """
    assert observe(graph, archive.expected.jobid).state(archive.expected) == "absent"
    began = time.monotonic()
    before = _orphan_count(graph), unpublished(graph, archive.expected.jobid)[0]
    with _reaped(_spawn(graph.connection, "load", str(archive.path))) as loader:
        reached = _run_to(loader, graph, archive.window, target)
        if not reached.exited:
            loader.send_signal(signal.SIGKILL)
        stdout, _ = loader.communicate(timeout=TIMEOUT)
    _settle(graph)
    fault = _Fault("loader kill", reached, not reached.exited, _acknowledged(loader, stdout))
    return _judge(graph, archive, fault, before, began)


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
        before = _orphan_count(graph), unpublished(graph, archive.expected.jobid)[0]
        with _reaped(_spawn(graph.connection, "load", str(archive.path))) as loader:
            reached = _run_to(loader, graph, archive.window, target)
            _kill_server(server)
            if _restart(server) and loader.poll() is None:
                # Meanwhile it retried; on the old port it cannot reach the database any
                # more, so spare the rest of its 30 s retry window.
                loader.terminate()
            stdout, _ = loader.communicate(timeout=TIMEOUT)
    fault = _Fault("server kill", reached, True, _acknowledged(loader, stdout))
    with Graph(server.connection()) as graph:
        return _judge(graph, archive, fault, before, began, bystander)


def server_campaign(
    home: Path, trials: Sequence[Planned], archives: Mapping[str, Archive]
) -> tuple[list[Trial], Sweep]:
    """Run the server kills of ``trials`` on a server of our own in ``home``; the trials,
    and the sweep of what the killed loads left (:func:`leases.sweep`).

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
        with Graph(server.connection()) as graph:
            swept = sweep(graph, {a.expected.jobid for a in archives.values()})
        return results, swept
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
