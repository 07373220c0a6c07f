"""Readers while jobs load, are deleted and are replaced; and the driver's retries.

Eight reader threads ask tree questions (roots, the root, operation roots, a descendant
count, process counts, the job summary) in a loop while writers load two synthetic jobs
and delete a third, and then while another archive with the same job id replaces one of
them through ``epmt-graph load --replace``. Every answer must be one a whole job gives (or
the job's absence), as computed from the raw papiex rows by the oracle (``oracle.py``),
never from the graph; a job once seen whole stays whole, once seen gone stays gone. The
writers must finish within a global timeout (no deadlock) and the readers' latency is
recorded and bounded.

The retries: a transaction function that fails once with a transient error is run again
(``Graph.execute_read``/``execute_write``, and the loader and API through them, all or
nothing), and two writers that deadlock on each other's jobs both succeed because Neo4j's
``DeadlockDetected`` is a transient error the driver retries.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import neo4j
import pytest
from conftest import run_cli
from neo4j.exceptions import TransientError
from oracle import depths, descendant_counts, process_tree, raw_processes, roots

import epmt_graph.api as eq
from epmt_graph import cypher, db
from epmt_graph.cli import main as cli_main
from epmt_graph.db import Graph
from epmt_graph.errors import QueryError, UnknownJobError
from epmt_graph.loader import delete_job, load_job
from epmt_graph.synthetic import write_archive

READERS = 8
#: Seconds the writers of one scenario may take before the test calls it a deadlock.
WRITE_TIMEOUT = 240.0
#: Largest latency accepted for one reader's answer, in seconds.
MAX_LATENCY = 30.0
#: Synthetic archives: name -> (job id, processes, seed). "a2" has a's id, other content.
ARCHIVES = {
    "a": ("cc-job-a", 3000, 21),
    "b": ("cc-job-b", 2500, 22),
    "c": ("cc-job-c", 1500, 23),
    "a2": ("cc-job-a", 2000, 24),
    "x": ("cc-lock-x", 60, 25),
    "y": ("cc-lock-y", 60, 26),
}
OP = "op:hsmget"

Answers = dict[str, Any]


@dataclass(frozen=True)
class Job:
    """A synthetic archive and the answers the whole job gives, from the oracle."""

    jobid: str
    path: Path
    answers: Answers


#: The answers about a job that is not loaded.
ABSENT: Answers = {
    "roots": (),
    "root": None,
    "op_roots": 0,
    "descendants": None,
    "processes": 0,
    "summary": (0, 0, 0),
}


def oracle_answers(path: Path) -> Answers:
    """Each question's answer for the whole job, from its raw papiex rows."""
    tree = process_tree(raw_processes(path))
    top = roots(tree)
    first = min(tree, key=lambda key: (key[2], key[1]))  # EPMT's root: earliest, lowest pid

    def carries(key: Any) -> bool:
        return OP in tree.nodes[key]["tags"].split(";")

    op_roots = [k for k in tree if carries(k) and not any(map(carries, tree.pred[k]))]
    return {
        "roots": tuple(sorted(key[1] for key in top)),
        "root": first[1],
        "op_roots": len(op_roots),
        "descendants": descendant_counts(tree)[first],
        "processes": tree.number_of_nodes(),
        "summary": (tree.number_of_nodes(), len(top), max(depths(tree).values())),
    }


def ask(graph: Graph, question: str, jobid: str) -> Any:
    """One question, answered by one read transaction."""
    if question == "roots":
        try:
            return tuple(sorted(p["pid"] for p in eq.get_roots(jobid, graph=graph)))
        except UnknownJobError:  # no version published (EPMT's KeyError)
            return ()
    if question == "root":
        try:
            return eq.root(jobid, graph=graph)["pid"]
        except QueryError:
            return None
    if question == "op_roots":
        return len(eq.op_roots(jobid, OP, fmt="terse", graph=graph))
    if question == "descendants":
        found = graph.read("process-descendant-count", uid=f"{jobid}:0")
        return found[0]["n"] if found else None
    if question == "processes":
        try:
            return eq.get_procs(jobid, fmt="orm", graph=graph).count()
        except UnknownJobError:
            return 0
    (record,) = graph.read("job-summary", jobid=jobid)
    return (record["processes"], record["roots"], record["maxDepth"])


QUESTIONS = ("roots", "root", "op_roots", "descendants", "processes", "summary")


@dataclass(frozen=True)
class Observation:
    """One answer: which question about which job, what, and when (perf_counter)."""

    question: str
    jobid: str
    answer: Any
    start: float
    end: float


class Readers:
    """:data:`READERS` threads asking every question about ``jobids`` in turn until stopped."""

    def __init__(self, graph: Graph, jobids: list[str]) -> None:
        self.graph, self.jobids = graph, jobids
        self.stop = threading.Event()
        self.pool = ThreadPoolExecutor(READERS, thread_name_prefix="reader")
        self.futures = [self.pool.submit(self._loop, worker) for worker in range(READERS)]

    def _loop(self, worker: int) -> list[Observation]:
        seen, turn = [], worker
        while not self.stop.is_set():
            question = QUESTIONS[turn % len(QUESTIONS)]
            jobid = self.jobids[(turn // len(QUESTIONS)) % len(self.jobids)]
            began = time.perf_counter()
            answer = ask(self.graph, question, jobid)
            seen.append(Observation(question, jobid, answer, began, time.perf_counter()))
            turn += 1
        return seen

    def finish(self) -> list[Observation]:
        """Stop the readers; every observation (a reader's exception is raised here)."""
        self.stop.set()
        try:
            return [o for f in self.futures for o in f.result(timeout=MAX_LATENCY * 2)]
        finally:
            self.pool.shutdown(wait=False, cancel_futures=True)


def sweep(graph: Graph, jobids: list[str]) -> dict[str, Answers]:
    """Every question about every job, asked once, in this thread."""
    return {j: {q: ask(graph, q, j) for q in QUESTIONS} for j in jobids}


def inconsistencies(seen: list[Observation], states: dict[str, list[Answers]]) -> list[str]:
    """The answers that are no whole state of their job, or that go back to an earlier
    state than one an answer given before they were asked fits (states move forward only,
    in the order given)."""
    found = []
    for jobid, order in states.items():
        mine = [o for o in seen if o.jobid == jobid]
        fits = [[i for i, s in enumerate(order) if s[o.question] == o.answer] for o in mine]
        for o, fit in zip(mine, fits, strict=True):
            if not fit:
                found.append(f"{o.jobid} {o.question}: {str(o.answer)[:60]}")
        by_end = sorted(range(len(mine)), key=lambda i: mine[i].end)
        reached, done = 0, 0
        for i in sorted(range(len(mine)), key=lambda i: mine[i].start):
            while done < len(by_end) and mine[by_end[done]].end < mine[i].start:
                reached = max(reached, min(fits[by_end[done]], default=0))
                done += 1
            if fits[i] and max(fits[i]) < reached:
                found.append(f"{jobid} {mine[i].question}: back to state {max(fits[i])}")
    return found


def judge(found: list[str], total: int) -> None:
    """Fail on inconsistent answers: a job glimpsed half-written, or old and new mixed.

    Neo4j applies a commit record by record and read-committed readers do not wait for it,
    so this holds only because each load is published by one property write on the job's
    JobHead and every named query reads the head's version once (``loader/writer.py``)."""
    if not found:
        return
    shown = "; ".join(sorted(set(found))[:6])
    message = f"{len(found)} of {total} answers saw part of a job ({shown})"
    pytest.fail(message)


def latency_report(seen: list[Observation], record: Callable[[str, object], None]) -> float:
    """Record the p95 and max latency (s); return the max."""
    took = sorted(o.end - o.start for o in seen)
    p95 = took[int(0.95 * (len(took) - 1))]
    record("reader_answers", len(took))
    record("reader_latency_p95_s", round(p95, 3))
    record("reader_latency_max_s", round(took[-1], 3))
    record("reader_latency_median_s", round(statistics.median(took), 3))
    return took[-1]


@pytest.fixture(scope="module")
def jobs(graph: Graph, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Job]]:
    """The synthetic archives with their oracle answers; their job ids are deleted after."""
    folder = tmp_path_factory.mktemp("concurrency")
    made = {}
    for name, (jobid, n_procs, seed) in ARCHIVES.items():
        path = write_archive(folder / f"{name}.tgz", n_procs, seed=seed, jobid=jobid)
        made[name] = Job(jobid, path, oracle_answers(path))
    ids = {job.jobid for job in made.values()}
    for jobid in ids:
        delete_job(graph, jobid)
    yield made
    for jobid in ids:
        delete_job(graph, jobid)


def test_readers_see_whole_jobs_while_two_load_and_one_is_deleted(
    graph: Graph, jobs: dict[str, Job], record_property: Callable[[str, object], None]
) -> None:
    a, b, c = jobs["a"], jobs["b"], jobs["c"]
    assert load_job(c.path, graph=graph).status == "loaded"
    ids = [a.jobid, b.jobid, c.jobid]
    states = {
        a.jobid: [ABSENT, a.answers],
        b.jobid: [ABSENT, b.answers],
        c.jobid: [c.answers, ABSENT],
    }
    assert sweep(graph, ids) == {j: s[0] for j, s in states.items()}
    readers = Readers(graph, ids)
    writers = ThreadPoolExecutor(3, thread_name_prefix="writer")
    try:
        loads = [writers.submit(load_job, job.path, graph=graph) for job in (a, b)]
        deleted = writers.submit(delete_job, graph, c.jobid)
        results = [f.result(timeout=WRITE_TIMEOUT) for f in loads]  # else: a deadlock
        assert deleted.result(timeout=WRITE_TIMEOUT) == c.answers["processes"]
        time.sleep(0.5)  # the readers see the end state too
    finally:
        writers.shutdown(wait=False, cancel_futures=True)
        seen = readers.finish()
    assert [(r.status, r.processes) for r in results] == [
        ("loaded", a.answers["processes"]),
        ("loaded", b.answers["processes"]),
    ]
    assert sweep(graph, ids) == {j: s[-1] for j, s in states.items()}
    assert {(o.jobid, o.question) for o in seen} == {(j, q) for j in ids for q in QUESTIONS}
    assert latency_report(seen, record_property) < MAX_LATENCY
    judge(inconsistencies(seen, states), len(seen))


def test_replace_swaps_the_job_atomically_under_readers(
    graph: Graph,
    jobs: dict[str, Job],
    record_property: Callable[[str, object], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Another archive with job a's id is refused without ``--replace`` (one clear line,
    nothing written); ``epmt-graph load --replace`` (a subprocess) then swaps it in:
    readers see the old job or the new one, never a mix and never neither; job b,
    untouched, answers the same throughout; no process is left twice."""
    a, a2, b = jobs["a"], jobs["a2"], jobs["b"]
    for job in (a, b):
        assert load_job(job.path, graph=graph).status in ("loaded", "unchanged")
    assert a.answers["processes"] != a2.answers["processes"]
    ids = [a.jobid, b.jobid]
    states = {a.jobid: [a.answers, a2.answers], b.jobid: [b.answers]}
    assert sweep(graph, ids) == {j: s[0] for j, s in states.items()}
    assert cli_main(["load", str(a2.path)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith(f"epmt-graph: error: job {a.jobid} is already loaded from {a.path} ")
    assert err.endswith(f"than {a2.path}; pass replace=True (--replace) to swap it\n")
    assert sweep(graph, ids) == {j: s[0] for j, s in states.items()}
    readers = Readers(graph, ids)
    try:
        swapped = run_cli(graph, "load", "--replace", str(a2.path))
        time.sleep(0.5)
    finally:
        seen = readers.finish()
    assert swapped.returncode == 0, swapped.stderr
    summary = a2.answers["summary"]
    assert swapped.stdout.startswith(
        f"job {a.jobid}: replaced, {summary[0]} processes, {summary[1]} roots, "
        f"max depth {summary[2]} ("
    )
    assert sweep(graph, ids) == {j: s[-1] for j, s in states.items()}
    assert latency_report(seen, record_property) < MAX_LATENCY
    judge(inconsistencies(seen, states), len(seen))


# --- the driver's retries ------------------------------------------------------------------


def fail_once_after_work(monkeypatch: pytest.MonkeyPatch, method: str) -> list[tuple[str, int]]:
    """Make ``Graph.<method>`` (``execute_read`` or ``execute_write``) run each transaction
    function, then raise a transient error the first time, inside the transaction (so its
    work is rolled back). Returns a log of (function name, runs), appended as each ends."""
    log: list[tuple[str, int]] = []
    real = getattr(Graph, method)

    def execute(self: Graph, work: Callable[[neo4j.ManagedTransaction], Any]) -> Any:
        runs = 0

        def once_failing(tx: neo4j.ManagedTransaction) -> Any:
            nonlocal runs
            runs += 1
            result = work(tx)
            if runs == 1:
                raise TransientError("injected: Neo.TransientError.General.TransientError")
            return result

        try:
            return real(self, once_failing)
        finally:
            log.append((getattr(work, "__qualname__", "?"), runs))

    monkeypatch.setattr(Graph, method, execute)
    return log


def fail_reads_once_after_work(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Make every read fail once, inside its transaction, after its records are fetched:
    ``Graph.execute_read``'s transaction functions as :func:`fail_once_after_work` does,
    and ``Graph.read``'s (through its result transformer). The log notes each read's runs."""
    log = fail_once_after_work(monkeypatch, "execute_read")
    real = db._records
    runs = 0  # runs of the read in progress (reads come one after another here)

    def records(result: neo4j.Result) -> list[neo4j.Record]:
        nonlocal runs
        runs += 1
        fetched = real(result)
        if runs == 1:
            raise TransientError("injected: Neo.TransientError.General.TransientError")
        log.append(("Graph.read", runs))
        runs = 0
        return fetched

    monkeypatch.setattr(db, "_records", records)
    return log


def test_transient_errors_are_retried_and_writes_stay_whole(
    graph: Graph, jobs: dict[str, Job], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transient error raised inside a transaction, after its work: the driver reruns
    the transaction function (``Graph.execute_write``/``execute_read``/``read``, so the
    loader and the API), the first run is rolled back, and each write counts once."""
    x = jobs["x"]
    writes = fail_once_after_work(monkeypatch, "execute_write")
    result = load_job(x.path, graph=graph)
    assert (result.status, result.processes) == ("loaded", x.answers["processes"])
    assert eq.annotate_job(x.jobid, {"retried": 1}, graph=graph)["retried"] == 1
    assert [runs for _, runs in writes] == [2, 2, 2]  # the version, its publication, the note
    monkeypatch.undo()
    reads = fail_reads_once_after_work(monkeypatch)
    assert ask(graph, "summary", x.jobid) == x.answers["summary"]
    assert ask(graph, "roots", x.jobid) == x.answers["roots"]
    assert [runs for _, runs in reads] == [2, 2]  # the summary, the roots
    monkeypatch.undo()
    assert sweep(graph, [x.jobid]) == {x.jobid: x.answers}
    assert delete_job(graph, x.jobid) == x.answers["processes"]


def test_deadlocked_writers_are_retried_by_the_driver(graph: Graph, jobs: dict[str, Job]) -> None:
    """Two writers lock jobs x and y in opposite orders: Neo4j breaks the deadlock with a
    transient error, the driver reruns the loser's transaction, and both commit."""
    x, y = jobs["x"].jobid, jobs["y"].jobid
    for name in ("x", "y"):
        assert load_job(jobs[name].path, graph=graph).status in ("loaded", "unchanged")
    barrier = threading.Barrier(2, timeout=60)
    attempts: dict[str, int] = {"xy": 0, "yx": 0}
    errors: list[str] = []

    def lock_both(first: str, second: str, name: str) -> Callable[..., str]:
        def work(tx: neo4j.ManagedTransaction) -> str:
            attempts[name] += 1
            tx.run(cypher.query("job-annotations-lock"), jobid=first).consume()
            if attempts[name] == 1:
                barrier.wait()  # both hold their first lock before asking for the second
            try:
                tx.run(cypher.query("job-annotations-lock"), jobid=second).consume()
            except TransientError as exc:
                errors.append(str(exc.code))
                raise
            for jobid in (first, second):
                store = cypher.query("job-annotations-set")
                tx.run(store, jobid=jobid, json=json.dumps({"by": name})).consume()
            return name

        return work

    pool = ThreadPoolExecutor(2, thread_name_prefix="locker")
    try:
        done = [
            pool.submit(graph.execute_write, lock_both(x, y, "xy")),
            pool.submit(graph.execute_write, lock_both(y, x, "yx")),
        ]
        assert sorted(f.result(timeout=WRITE_TIMEOUT) for f in done) == ["xy", "yx"]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    assert errors and set(errors) == {"Neo.TransientError.Transaction.DeadlockDetected"}
    assert sum(attempts.values()) == 2 + len(errors)  # each deadlock cost one rerun
    last = eq.get_job_annotations(x, graph=graph)
    assert last in ({"by": "xy"}, {"by": "yx"})
    assert eq.get_job_annotations(y, graph=graph) == last  # one transaction wrote both
