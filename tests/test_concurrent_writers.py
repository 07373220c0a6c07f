"""Writers of one job id at the same time (issue 15): two replaces and a delete, many rounds.

Each round starts with the job absent or loaded (content ``a``), then two ``write_job(...,
replace=True)`` (contents ``b`` and ``c``) and one ``delete_job`` of the same job id start
together (the delete after a delay that varies by round), with jobs written in many
transactions (``store.TX_PROCESSES`` and
``store.BATCH`` made small) so that a write is long enough to be raced. A watcher thread
reads the published job throughout. Every state seen, and the end state, must be the job
absent or one content whole as the oracle (``oracle.py``, the raw papiex rows) builds it;
each writer must succeed or refuse with ``DuplicateJobError``; a content published at the
end must be one its writer reported written; a job absent at the end must have been
deleted by the delete, which must report a whole content's process count (or 0); and
nothing but the published version may be left stored.

The default graph: ``db.default_graph`` made from two threads at once makes one handle.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import neo4j
import pytest
from conftest import stored
from oracle import depths, inclusive_cpu, process_tree, raw_processes

from epmt_graph import db
from epmt_graph.db import Graph
from epmt_graph.errors import DuplicateJobError
from epmt_graph.loader import JobRows, delete_job, read_job, writer
from epmt_graph.store import jobs as store
from epmt_graph.synthetic import write_archive

JOBID = "writers-job"
#: Rounds of two replaces and a delete started together.
ROUNDS = 40
#: Processes per write transaction (and per batch) while racing: a job is many transactions.
SMALL_TX = 200
#: Contents of the job id: name -> (processes, seed).
CONTENTS = {"a": (1200, 51), "b": (2400, 52), "c": (1800, 53)}
#: Seconds the delete starts after the replaces, by turns: during their parse, their write,
#: about their publish, after it.
DELETE_DELAYS = (0.0, 0.4, 0.8, 1.2, 1.6)
#: Seconds one round's writers may take before the test calls it a deadlock.
ROUND_TIMEOUT = 240.0

#: One read of the published version of a job: its head, then everything of that version.
#: Neo4j reads committed data, not a snapshot: a head deleted (by ``unpublish-job``) while
#: this read finds it can come back without its properties; the job is then absent, as
#: ``job-digest`` and the API's reads, which match the version it names, see it.
_HEAD = "MATCH (h:JobHead {jobid: $jobid}) WHERE h.version IS NOT NULL RETURN h.version AS version"
_VERSION = (
    "MATCH (p:Process {jobid: $jobid}) WHERE p.version = $version "
    "RETURN p.pid AS pid, p.depth AS depth, p.inclusive_cpu_time AS cpu, "
    "COUNT { (p)-[:BELONGS_TO]->(:Job {jobid: $jobid, version: $version}) } AS belongs, "
    "COUNT { (p)-[:PARENT_OF]->(:Process {version: $version}) } AS children"
)
_JOBS = "MATCH (j:Job {jobid: $jobid, version: $version}) RETURN count(j) AS n"
#: What a read of a job gives: ``absent``, a content name, or ``partial: ...``.
State = str


@dataclass(frozen=True)
class Content:
    """One content of the job id: parsed rows, and its whole-job signature from the oracle."""

    name: str
    rows: JobRows
    signature: tuple[Any, ...]


def oracle_signature(path: Path) -> tuple[Any, ...]:
    """(Job nodes, sorted (pid, depth, inclusive CPU) of every process, PARENT_OF edges)."""
    tree = process_tree(raw_processes(path))
    cpu = inclusive_cpu(tree)
    values = sorted((key[1], depth, cpu[key]) for key, depth in depths(tree).items())
    return (1, values, tree.number_of_edges())


def read_state(graph: Graph, jobid: str, contents: dict[str, Content]) -> State:
    """What readers see of ``jobid``, in one read transaction, by content."""

    def work(tx: neo4j.ManagedTransaction) -> State:
        head = tx.run(_HEAD, jobid=jobid).single()
        if head is None:
            return "absent"
        version = head["version"]
        jobs = tx.run(_JOBS, jobid=jobid, version=version).single(strict=True)["n"]
        rows = list(tx.run(_VERSION, jobid=jobid, version=version))
        if any(r["belongs"] != 1 for r in rows):
            return f"partial: {sum(r['belongs'] != 1 for r in rows)} processes not in the Job"
        values = sorted((r["pid"], r["depth"], r["cpu"]) for r in rows)
        signature = (jobs, values, sum(r["children"] for r in rows))
        for content in contents.values():
            if signature == content.signature:
                return content.name
        return f"partial: {jobs} Job, {len(rows)} processes, {signature[2]} edges"

    return graph.execute_read(work)


@pytest.fixture(scope="module")
def contents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Content]:
    folder = tmp_path_factory.mktemp("writers")
    made = {}
    for name, (n_procs, seed) in CONTENTS.items():
        path = write_archive(folder / f"{name}.tgz", n_procs, seed=seed, jobid=JOBID)
        made[name] = Content(name, read_job(path), oracle_signature(path))
    return made


class Watcher:
    """A thread reading the job's state until stopped; the states it saw, in order."""

    def __init__(self, graph: Graph, contents: dict[str, Content]) -> None:
        self.stop = threading.Event()
        self.seen: list[State] = []
        self.thread = threading.Thread(target=self._loop, args=(graph, contents), daemon=True)
        self.thread.start()

    def _loop(self, graph: Graph, contents: dict[str, Content]) -> None:
        while not self.stop.is_set():
            self.seen.append(read_state(graph, JOBID, contents))

    def finish(self) -> list[State]:
        self.stop.set()
        self.thread.join(timeout=60)
        return self.seen


def outcome(future: Future[Any]) -> str:
    """A writer's end: its status or deleted count, ``refused``, or the unexpected error."""
    try:
        result = future.result(timeout=ROUND_TIMEOUT)
    except DuplicateJobError:
        return "refused"
    except Exception as exc:  # reported as the round's failure
        return f"error: {type(exc).__name__}: {exc}"[:300]
    return str(result.status if isinstance(result, writer.LoadResult) else result)


def one_round(
    graph: Graph,
    contents: dict[str, Content],
    start: str | None,
    pool: ThreadPoolExecutor,
    delay: float,
) -> tuple[list[str], dict[str, str]]:
    """Race two replaces and a delete from ``start`` (absent, or a content loaded), the
    delete ``delay`` seconds after the replaces; the problems found (none if the round went
    right) and each writer's end."""
    delete_job(graph, JOBID)
    if start is not None:
        writer.write_job(graph, contents[start].rows)
    barrier = threading.Barrier(3, timeout=60)

    def together(work: Callable[[], Any]) -> Any:
        barrier.wait()
        return work()

    watcher = Watcher(graph, contents)
    futures = {
        "b": pool.submit(
            together, lambda: writer.write_job(graph, contents["b"].rows, replace=True)
        ),
        "c": pool.submit(
            together, lambda: writer.write_job(graph, contents["c"].rows, replace=True)
        ),
        "delete": pool.submit(together, lambda: time.sleep(delay) or delete_job(graph, JOBID)),
    }
    ends = {name: outcome(f) for name, f in futures.items()}
    seen = watcher.finish()
    final = read_state(graph, JOBID, contents)
    problems = [f"{name}: {end}" for name, end in ends.items() if end.startswith("error")]
    problems += sorted({f"seen {state}" for state in seen if state.startswith("partial")})
    if final.startswith("partial"):
        problems.append(f"end {final}")
    elif final in ("b", "c") and ends[final] not in ("loaded", "replaced"):
        problems.append(f"end {final}, whose writer ended {ends[final]}")
    elif final == "absent" and ends["delete"] in ("0", "refused"):
        problems.append(f"end absent, but the delete deleted {ends['delete']}")
    elif final == "a":
        problems.append("end a: the delete deleted nothing")
    counts = {"0", *(str(len(c.rows.processes)) for c in contents.values())}
    if ends["delete"] not in counts:  # it deletes the version it unpublished, all of it
        problems.append(f"the delete deleted {ends['delete']} processes: no content's count")
    if final in contents or final == "absent":
        whole = (0, 0) if final == "absent" else (1, len(contents[final].rows.processes))
        left = stored(graph, JOBID)
        if left != whole:
            problems.append(f"end {final}, stored (jobs, processes) {left}, not {whole}")
    story = ", ".join(f"{name} {end}" for name, end in ends.items())
    return [f"from {start or 'absent'} ({story}; end {final}): {p}" for p in problems], ends


def test_two_replaces_and_a_delete_of_one_job_leave_it_whole_or_absent(
    graph: Graph,
    contents: dict[str, Content],
    absent: str,
    monkeypatch: pytest.MonkeyPatch,
    record_property: Callable[[str, object], None],
) -> None:
    monkeypatch.setattr(store, "TX_PROCESSES", SMALL_TX)
    monkeypatch.setattr(store, "BATCH", SMALL_TX)
    pool = ThreadPoolExecutor(3, thread_name_prefix="writer")
    problems: list[str] = []
    tally: dict[str, int] = {}  # end states, and writers' ends
    began = time.monotonic()
    try:
        for turn in range(ROUNDS):
            start, delay = "a" if turn % 2 else None, DELETE_DELAYS[turn // 2 % len(DELETE_DELAYS)]
            found, ends = one_round(graph, contents, start, pool, delay)
            problems += [f"round {turn}: {problem}" for problem in found]
            for key in [f"end {read_state(graph, JOBID, contents)}", *ends.values()]:
                tally[key] = tally.get(key, 0) + 1
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    failed = {problem.split(":")[0] for problem in problems}
    for name, value in [("rounds", ROUNDS), ("rounds_failed", len(failed)), ("tally", tally)]:
        record_property(name, value)
    record_property("seconds", round(time.monotonic() - began, 1))
    print(f"{ROUNDS} rounds, {len(failed)} failed; {dict(sorted(tally.items()))}")
    print("\n".join(problems))
    assert problems == []
    assert tally.get("refused", 0) >= ROUNDS // 4  # the writers did collide


def test_the_default_graph_is_made_once_by_threads_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[object] = []

    class SlowGraph:
        """Stands in for Graph: its construction takes long enough for a race."""

        def __init__(self) -> None:
            time.sleep(0.05)
            made.append(self)

    monkeypatch.setattr(db, "Graph", SlowGraph)
    monkeypatch.setattr(db, "_default", None)
    barrier = threading.Barrier(8, timeout=30)

    def get() -> object:
        barrier.wait()
        return db.default_graph()

    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda _: get(), range(8)))
    assert len(made) == 1
    assert all(handle is made[0] for handle in got)
