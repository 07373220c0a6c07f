"""Kill campaign with concurrent writers (issue 15): writers of one job id race while one dies.

A trial starts from the job absent or loaded (content ``a``), then starts three subprocesses
together: ``epmt-graph load --replace`` of content ``b``, the same of content ``c``, and
``epmt-graph delete`` of the job id; one of them (the *victim*, in turn) gets SIGKILL at a
seeded random point of its window (from the start to its exit in a clean race, measured
after a warm-up race). Half of the trials write each job in transactions of
:data:`SMALL_TX` processes (``store.TX_PROCESSES``, set in the subprocess), so that a
write is many transactions long, as a job of over 100,000 processes is.

Once the database has settled, the job is classified against the oracle (``tests/oracle.py``,
through :func:`campaign.expect`): ``absent``, one content whole (``a``, ``b`` or ``c``), or
``partial`` (a bug). Then:

* *lost*: the end contradicts what the writers reported: absent though a load reported the
  job written and the delete neither reported deleting it nor was killed; ``a`` though a
  load or the delete reported changing it; ``b`` or ``c`` though its load was refused or
  failed (and was not killed);
* *strays*: unpublished versions left behind, beyond the one the killed writer may hold (a
  version being written or deleted stays its writer's until its lease runs out);
* *orphans*: Processes without a Job, or Jobs without processes that no writer holds or
  held (a killed writer's are left to the sweep);
* the rerun: ``epmt-graph load --replace`` of ``a`` must exit 0 and leave ``a`` whole; the
  job is then deleted.

At the end of the campaign, once every lease has run out, one delete must remove everything
the killed writers left (:func:`leases.sweep`).
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from campaign import TIMEOUT, Expected, _reaped, _settle, cli_env, expect, observe
from leases import unpublished

from epmt_graph.db import Graph
from epmt_graph.loader import delete_job
from epmt_graph.synthetic import write_archive

__all__ = [
    "CONTENTS",
    "JOBID",
    "SMALL_TX",
    "WRITERS",
    "Race",
    "RacePlan",
    "calibrate",
    "make_contents",
    "race_campaign",
    "race_plan",
]

JOBID = "race-job"
#: The job id's contents: name -> (processes, seed) of a synthetic job.
CONTENTS = {"a": (4000, 61), "b": (5000, 62), "c": (3000, 63)}
#: Processes per write transaction in half of the trials (the loader's own in the others).
SMALL_TX = 1000
#: The three writers of a trial, in the order they are started.
WRITERS = ("load b", "load c", "delete")
#: Runs ``epmt-graph ARGS`` with ``store.TX_PROCESSES`` set from the first argument (0:
#: the loader's own).
_RUNNER = (
    "import sys\n"
    "from epmt_graph.store import jobs as store\n"
    "store.TX_PROCESSES = int(sys.argv[1]) or store.TX_PROCESSES\n"
    "from epmt_graph.cli import main\n"
    "sys.exit(main(sys.argv[2:]))\n"
)
_ORPHANS = (
    "CALL () { MATCH (p:Process) WHERE NOT (p)-[:BELONGS_TO]->(:Job) RETURN count(p) AS a } "
    "CALL () { MATCH (j:Job) WHERE NOT (:Process)-[:BELONGS_TO]->(j) "
    "AND j.lease_until IS NULL RETURN count(j) AS b } "
    "RETURN a + b AS n"
)


@dataclass(frozen=True)
class RacePlan:
    """One trial to run: the start, the transaction size, the victim and when (0..1)."""

    start: str
    small_tx: bool
    victim: str
    fraction: float


def race_plan(trials: int, seed: int) -> list[RacePlan]:
    """``trials`` trials: victims in turn, starts and transaction sizes alternating, kill
    points stratified over the window (one in each ``trials``-th, shuffled)."""
    rng = random.Random(seed)
    points = [(j + rng.random()) / trials for j in range(trials)]
    rng.shuffle(points)
    return [
        RacePlan("a" if i % 2 else "absent", (i // 2) % 2 == 1, WRITERS[i % 3], points[i])
        for i in range(trials)
    ]


def make_contents(folder: Path) -> dict[str, Path]:
    """The synthetic archives of the job id, by content name."""
    return {
        name: write_archive(folder / f"race-{name}.tgz", procs, seed=seed, jobid=JOBID)
        for name, (procs, seed) in CONTENTS.items()
    }


@dataclass(frozen=True)
class Race:
    """What one trial did (see the module docstring for the checks).

    Attributes
    ----------
    plan : RacePlan
    kill_at : float
        Seconds after the start when the SIGKILL was sent.
    injected : bool
        Whether it hit a live process (the victim could have exited first).
    ends : dict of str to str
        Each writer's end: ``replaced``, ``loaded``, ``unchanged``, ``refused``, ``deleted
        N``, ``killed``, or ``error: ...``.
    after : str
        ``absent``, ``a``, ``b``, ``c`` or ``partial``.
    lost, strays, orphans : int
    held : int
        Unpublished versions left (a killed writer's, until its lease runs out).
    rerun_ok : bool
    seconds : float
    """

    plan: RacePlan
    kill_at: float
    injected: bool
    ends: dict[str, str]
    after: str
    lost: int
    strays: int
    orphans: int
    held: int
    rerun_ok: bool
    seconds: float

    @property
    def ok(self) -> bool:
        """No partial job, nothing lost, no stray or orphan, no error, the rerun whole."""
        errors = any(end.startswith("error") for end in self.ends.values())
        bad = self.lost + self.strays + self.orphans
        return self.after != "partial" and not bad and self.rerun_ok and not errors

    def __str__(self) -> str:
        p = self.plan
        ends = ", ".join(f"{k} {v}" for k, v in self.ends.items())
        return (
            f"race from {p.start} ({'small' if p.small_tx else 'whole'} transactions), "
            f"{p.victim} killed at {self.kill_at:.2f} s "
            f"({'injected' if self.injected else 'had exited'}): {ends}; end {self.after}, "
            f"lost {self.lost}, strays {self.strays}, orphans {self.orphans}, held "
            f"{self.held}; rerun {'whole' if self.rerun_ok else 'NOT WHOLE'}; "
            f"trial {self.seconds:.1f} s"
        )


def _spawn(graph: Graph, tx: int, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _RUNNER, str(tx), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=cli_env(graph.connection),
    )


def _end(process: subprocess.Popen[str], stdout: str, stderr: str, killed: bool) -> str:
    if killed:
        return "killed"
    if process.returncode == 0 and stdout.startswith("job "):
        return stdout.split()[2].rstrip(",")
    if process.returncode == 0 and stdout.startswith("deleted "):
        return " ".join(stdout.split()[:2])
    last = (stderr.strip().splitlines() or ["failed"])[-1]
    if "by someone else" in last or "took over the version" in last:
        return "refused"
    return f"error: {last[:200]}"


def _state(graph: Graph, expected: Mapping[str, Expected]) -> str:
    observed = observe(graph, JOBID)
    states = {name: observed.state(e) for name, e in expected.items()}
    whole = [name for name, state in states.items() if state == "whole"]
    if whole:
        return whole[0]
    return "absent" if "absent" in states.values() else "partial"


def _lost(start: str, ends: dict[str, str], after: str) -> int:
    wrote = [w for w in ("b", "c") if ends[f"load {w}"] in ("replaced", "loaded")]
    deleted = ends["delete"] in ("deleted 1", "killed")
    if after == "absent":
        return int(bool(wrote) and not deleted)
    if after == "a":
        return int(start != "a" or bool(wrote) or ends["delete"] == "deleted 1")
    if after in ("b", "c"):
        return int(ends[f"load {after}"] not in ("replaced", "loaded", "killed"))
    return 0


def _orphans(graph: Graph) -> int:
    return int(graph.driver.execute_query(_ORPHANS).records[0]["n"])


def _race(
    graph: Graph, paths: Mapping[str, Path], tx: int, victim: str | None, target: float
) -> tuple[dict[str, str], float, bool, dict[str, float]]:
    """Start the three writers; kill ``victim`` at ``target`` s; their ends, when the kill
    was sent, whether it hit, and when each exited (seconds after the start)."""
    began = time.monotonic()
    args = {
        "load b": ("load", "--replace", str(paths["b"])),
        "load c": ("load", "--replace", str(paths["c"])),
        "delete": ("delete", JOBID),
    }
    processes = {name: _spawn(graph, tx, *a) for name, a in args.items()}
    exits: dict[str, float] = {}
    killed, kill_at = False, 0.0
    while len(exits) < len(processes):
        now = time.monotonic() - began
        if now > TIMEOUT:
            raise TimeoutError(f"a race of job {JOBID} took over {TIMEOUT:.0f} s")
        if victim is not None and not kill_at and now >= target:
            kill_at = now
            if processes[victim].poll() is None:
                processes[victim].send_signal(signal.SIGKILL)
                killed = True
        for name, process in processes.items():
            if name not in exits and process.poll() is not None:
                exits[name] = now
        time.sleep(0.01)
    if victim is not None and not kill_at:  # it exited before the kill was due
        kill_at = target
    ends = {}
    for name, process in processes.items():
        with _reaped(process):
            stdout, stderr = process.communicate(timeout=TIMEOUT)
        ends[name] = _end(process, stdout, stderr, killed and name == victim)
    return ends, kill_at, killed, exits


def _start_from(graph: Graph, paths: Mapping[str, Path], start: str, tx: int) -> None:
    delete_job(graph, JOBID)
    if start == "a":
        loaded = _spawn(graph, tx, "load", str(paths["a"]))
        with _reaped(loaded):
            loaded.communicate(timeout=TIMEOUT)
        if loaded.returncode != 0:
            raise RuntimeError(f"could not load {paths['a']} to start a race")


def calibrate(graph: Graph, paths: Mapping[str, Path], small_tx: bool) -> dict[str, float]:
    """Seconds from the start of a clean race (from ``a``, no kill) to each writer's exit,
    after one untimed race (a cold server writes several times slower).

    Raises
    ------
    AssertionError
        If a race leaves the job partial or a writer fails.
    """
    tx = SMALL_TX if small_tx else 0
    expected = {name: expect(path) for name, path in paths.items()}
    for _ in range(2):
        _start_from(graph, paths, "a", tx)
        ends, _, _, exits = _race(graph, paths, tx, None, 0.0)
        assert not any(end.startswith("error") for end in ends.values()), ends
        assert _state(graph, expected) != "partial"
    delete_job(graph, JOBID)
    return exits


def race_trial(
    graph: Graph,
    paths: Mapping[str, Path],
    expected: Mapping[str, Expected],
    plan: RacePlan,
    window: Mapping[str, float],
) -> Race:
    """One trial of :func:`race_campaign`: the victim is killed at ``plan.fraction`` of its
    exit time in ``window`` (a clean race's)."""
    tx = SMALL_TX if plan.small_tx else 0
    _start_from(graph, paths, plan.start, tx)
    orphans_before, (left_before, _) = _orphans(graph), unpublished(graph, JOBID)
    began = time.monotonic()
    target = plan.fraction * window[plan.victim]
    ends, kill_at, injected, _ = _race(graph, paths, tx, plan.victim, target)
    _settle(graph)
    after = _state(graph, expected)
    held = len(unpublished(graph, JOBID)[0] - left_before)  # earlier trials' may be held
    strays = max(0, held - int(injected))
    orphans = _orphans(graph) - orphans_before
    rerun = _spawn(graph, tx, "load", "--replace", str(paths["a"]))
    with _reaped(rerun):
        rerun.communicate(timeout=TIMEOUT)
    rerun_ok = rerun.returncode == 0 and _state(graph, expected) == "a"
    delete_job(graph, JOBID)
    return Race(
        plan=plan,
        kill_at=kill_at,
        injected=injected,
        ends=ends,
        after=after,
        lost=_lost(plan.start, ends, after),
        strays=strays,
        orphans=orphans,
        held=held,
        rerun_ok=rerun_ok,
        seconds=time.monotonic() - began,
    )


def race_campaign(
    graph: Graph, paths: Mapping[str, Path], plans: Sequence[RacePlan]
) -> tuple[list[Race], dict[bool, dict[str, float]]]:
    """Run ``plans`` (windows calibrated first, one per transaction size); the trials and
    the windows (each writer's exit in a clean race), by whether transactions were small."""
    expected = {name: expect(path) for name, path in paths.items()}
    windows = {small: calibrate(graph, paths, small) for small in (False, True)}
    trials = [race_trial(graph, paths, expected, p, windows[p.small_tx]) for p in plans]
    return trials, windows
