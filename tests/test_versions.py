"""Job versions: every load writes a version readers cannot see until one property write on
the job's JobHead publishes it (``loader/writer.py``).

What is checked here, with counts from the oracle (``oracle.py``, the raw papiex rows):
a version left unpublished is invisible, and the next load removes it once its writer's
lease has run out, not before; a load that loses a race to another load of the same job
keeps nothing; a version that lost processes, or was taken over, is not published; a delete
waits for the transactions that were reading the job, which keep seeing all of it; a
replace whose removal of the old version is cut short leaves the new one whole, and the next
delete ends the removal once the lease has run out; and a database written before versions
is brought up to date by ``Graph.ensure_schema``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from conftest import stored
from oracle import depths, inclusive_cpu, process_tree, raw_processes, roots

import epmt_graph.api as eq
from epmt_graph import cypher
from epmt_graph.db import Graph
from epmt_graph.errors import DuplicateJobError, UnknownJobError
from epmt_graph.loader import delete_job, load_job, read_job, writer
from epmt_graph.store import jobs as store
from epmt_graph.store import trees as store_trees
from epmt_graph.store import versions
from epmt_graph.synthetic import write_archive

JOBID = "versions-job"


def root_pids(graph: Graph, jobid: str) -> list[int]:
    """The root pids of the job's published version; [] when no version is published."""
    try:
        return sorted(p["pid"] for p in eq.get_roots([jobid], fmt="dict", graph=graph))
    except UnknownJobError:  # as EPMT's KeyError
        return []


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two archives of job ``versions-job`` with other content (400 and 300 processes)."""
    folder = tmp_path_factory.mktemp("versions")
    return {
        "first": write_archive(folder / "first.tgz", 400, seed=31, jobid=JOBID),
        "second": write_archive(folder / "second.tgz", 300, seed=32, jobid=JOBID),
    }


def oracle_roots(path: Path) -> list[int]:
    return sorted(key[1] for key in roots(process_tree(raw_processes(path))))


def run_out_leases(graph: Graph, jobid: str) -> None:
    """Make every lease on a version of ``jobid`` end now, as if its writer had been silent
    for ``versions.LEASE_MS``."""
    graph.driver.execute_query(
        "MATCH (j:Job {jobid: $jobid}) WHERE j.lease_until IS NOT NULL "
        "SET j.lease_until = timestamp() - 1",
        jobid=jobid,
    )


def test_an_unpublished_version_is_invisible_and_the_next_load_removes_it(
    graph: Graph, archives: dict[str, Path], absent: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def killed(*args: object) -> bool:  # the loader dies between the write and the publish
        raise KeyboardInterrupt

    monkeypatch.setattr(versions, "publish", killed)
    with pytest.raises(KeyboardInterrupt):
        load_job(archives["first"], graph=graph)
    monkeypatch.undo()
    assert stored(graph, absent) == (1, 400)
    assert root_pids(graph, absent) == []
    assert absent not in eq.get_jobs(fmt="terse", graph=graph)
    assert graph.read("job-summary", jobid=absent)[0]["processes"] == 0

    # While its lease lasts, its writer may still be alive: a load and a delete leave it.
    result = load_job(archives["second"], graph=graph)
    assert (result.status, result.processes) == ("loaded", 300)
    assert delete_job(graph, absent) == 300
    assert stored(graph, absent) == (1, 400)

    run_out_leases(graph, absent)
    result = load_job(archives["first"], graph=graph)
    assert (result.status, result.processes) == ("loaded", 400)
    assert stored(graph, absent) == (1, 400)
    assert root_pids(graph, absent) == oracle_roots(archives["first"])


def test_a_load_that_loses_the_race_keeps_nothing(
    graph: Graph, archives: dict[str, Path], absent: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows, other = read_job(archives["first"]), read_job(archives["second"])
    clean = store.delete_stale
    raced: list[str] = []

    def another_load_publishes(graph: Graph, jobid: str, token: str) -> None:
        clean(graph, jobid, token)
        if not raced:  # once: after this load found the job absent, before it writes
            raced.append("racing")
            raced.append(writer.write_job(graph, other).status)

    monkeypatch.setattr(store, "delete_stale", another_load_publishes)
    with pytest.raises(DuplicateJobError, match="was loaded or deleted by someone else"):
        writer.write_job(graph, rows)
    assert raced == ["racing", "loaded"]
    assert stored(graph, absent) == (1, 300)
    assert root_pids(graph, absent) == oracle_roots(archives["second"])


def test_a_load_that_loses_the_race_to_the_same_content_is_unchanged(
    graph: Graph, archives: dict[str, Path], absent: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = read_job(archives["first"])
    publish = versions.publish
    raced: list[str] = []

    def same_load_first(*args: Any) -> versions.Refusal | None:
        if not raced:  # once: this load has written its version, the other publishes first
            raced.append("racing")
            raced.append(writer.write_job(graph, rows).status)
        return publish(*args)

    monkeypatch.setattr(versions, "publish", same_load_first)
    result = writer.write_job(graph, rows)
    assert raced == ["racing", "loaded"]
    assert (result.status, result.processes) == ("unchanged", 400)
    assert stored(graph, absent) == (1, 400)


@pytest.mark.parametrize(
    ("meddling", "refusal"),
    [
        (
            "MATCH (p:Process {jobid: $jobid}) WITH p LIMIT 1 DETACH DELETE p",
            "lacked processes, so it was not published",
        ),
        (
            "MATCH (j:Job {jobid: $jobid}) SET j.writer = 'another writer'",
            "another load or delete of the job took over the version",
        ),
    ],
    ids=["a process lost", "taken over"],
)
def test_a_version_that_is_not_whole_or_not_its_writers_is_not_published(
    graph: Graph,
    archives: dict[str, Path],
    absent: str,
    monkeypatch: pytest.MonkeyPatch,
    meddling: str,
    refusal: str,
) -> None:
    """Between the write and the publish, a process of the version goes, or another writer
    takes the version over: the publish is refused with a clear error, nothing is shown,
    and (the version being still its own) the writer removes what it wrote."""
    publish = versions.publish

    def meddled(*args: Any) -> versions.Refusal | None:
        graph.driver.execute_query(meddling, jobid=absent)
        return publish(*args)

    monkeypatch.setattr(versions, "publish", meddled)
    with pytest.raises(DuplicateJobError, match=refusal):
        load_job(archives["first"], graph=graph)
    monkeypatch.undo()
    assert root_pids(graph, absent) == []
    if "took over" in refusal:  # the other writer's now: it stays until its lease runs out
        assert stored(graph, absent) == (1, 400)
        run_out_leases(graph, absent)
        assert delete_job(graph, absent) == 0
    assert stored(graph, absent) == (0, 0)


def test_a_delete_waits_for_the_readers_of_the_job(
    graph: Graph, archives: dict[str, Path], absent: str
) -> None:
    expected_roots = oracle_roots(archives["first"])
    load_job(archives["first"], graph=graph)
    version = graph.read("job-digest", jobid=absent)[0]["version"]
    count = "MATCH (p:Process {jobid: $jobid}) WHERE p.version = $version RETURN count(p) AS n"
    deleted: list[int] = []
    with graph.driver.session(database=graph.connection.database) as session:
        tx = session.begin_transaction()  # a reader that has resolved the job's head
        query = cypher.query("job-roots")
        assert sorted(r["p"]["pid"] for r in tx.run(query, jobids=[absent])) == expected_roots
        deleting = threading.Thread(target=lambda: deleted.append(delete_job(graph, absent)))
        deleting.start()
        deleting.join(timeout=1.0)
        assert deleting.is_alive()  # waiting for that reader
        assert root_pids(graph, absent) == []  # readers that come now no longer see the job
        assert tx.run(count, jobid=absent, version=version).single(strict=True)["n"] == 400
        tx.close()
    deleting.join(timeout=60)
    assert deleted == [400]
    assert stored(graph, absent) == (0, 0)


def test_a_database_written_before_versions_is_brought_up_to_date(
    graph: Graph, archives: dict[str, Path], absent: str
) -> None:
    load_job(archives["first"], graph=graph)
    old_style = (
        "MATCH (h:JobHead {jobid: $jobid}) DELETE h WITH 1 AS done "
        "MATCH (n) WHERE (n:Job OR n:Process) AND n.jobid = $jobid REMOVE n.version"
    )
    graph.driver.execute_query(old_style, jobid=absent)
    assert root_pids(graph, absent) == []
    with Graph(graph.connection) as fresh:
        fresh.ensure_schema()
    assert root_pids(graph, absent) == oracle_roots(archives["first"])
    assert graph.read("job-summary", jobid=absent)[0]["processes"] == 400


def test_a_job_larger_than_a_transaction_is_written_in_parts_and_published_once(
    graph: Graph, archives: dict[str, Path], absent: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = process_tree(raw_processes(archives["first"]))
    monkeypatch.setattr(store, "TX_PROCESSES", 150)
    published: list[int] = []
    publish = versions.publish

    def counting(graph: Graph, jobid: str, *args: Any) -> versions.Refusal | None:
        published.append(stored(graph, jobid)[1])  # every part is in before the publish
        return publish(graph, jobid, *args)

    monkeypatch.setattr(versions, "publish", counting)
    result = load_job(archives["first"], graph=graph)
    assert (result.status, result.processes, result.roots) == ("loaded", 400, len(roots(tree)))
    assert published == [400]
    values = sorted(
        (r["pid"], r["depth"], r["inclusive_cpu_time"])
        for r in graph.read("job-tree-values", jobid=absent)
    )
    cpu = inclusive_cpu(tree)
    assert values == sorted((key[1], depth, cpu[key]) for key, depth in depths(tree).items())


def test_compute_trees_walks_a_large_job_level_by_level(
    graph: Graph, archives: dict[str, Path], absent: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = process_tree(raw_processes(archives["first"]))
    load_job(archives["first"], graph=graph)
    graph.driver.execute_query(
        "MATCH (p:Process {jobid: $jobid}) REMOVE p.depth, p.inclusive_cpu_time", jobid=absent
    )
    monkeypatch.setattr(store, "TX_PROCESSES", 150)

    def one_transaction(*args: object) -> None:
        raise AssertionError("a job over TX_PROCESSES is walked in one transaction")

    monkeypatch.setattr(store_trees, "_walk_tree", one_transaction)
    assert eq.compute_process_trees([absent]) == [absent]
    values = sorted(
        (r["pid"], r["depth"], r["inclusive_cpu_time"])
        for r in graph.read("job-tree-values", jobid=absent)
    )
    cpu = inclusive_cpu(tree)
    assert values == sorted((key[1], depth, cpu[key]) for key, depth in depths(tree).items())
    assert eq.compute_process_trees([absent]) == []


def test_a_part_that_fails_leaves_nothing(
    graph: Graph, archives: dict[str, Path], absent: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "TX_PROCESSES", 150)
    parts = writer._parts

    def last_part_fails(*args: Any) -> list[writer.Part]:
        def fail(tx: object) -> None:
            raise ValueError("injected")

        written = parts(*args)
        assert len(written) > 3  # the job, nodes in parts of 150, edges across them
        return [*written[:-1], fail]

    monkeypatch.setattr(writer, "_parts", last_part_fails)
    with pytest.raises(ValueError, match="injected"):
        load_job(archives["first"], graph=graph)
    assert stored(graph, absent) == (0, 0)


class CutShort:
    """A graph whose writes stop, as if the process were killed, after ``writes`` of them."""

    def __init__(self, graph: Graph, writes: int) -> None:
        self.graph, self.writes = graph, writes

    def execute_write(self, work: Any) -> Any:
        if not self.writes:
            raise KeyboardInterrupt
        self.writes -= 1
        return self.graph.execute_write(work)


def test_a_removal_cut_short_spares_the_new_version_and_the_next_writer_ends_it(
    graph: Graph, archives: dict[str, Path], absent: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "DELETE_TX", 150)
    load_job(archives["first"], graph=graph)
    remove = store.delete_version

    def killed_after_one(graph: Graph, *args: Any) -> int:  # the old version's first 150 only
        return remove(CutShort(graph, 1), *args)

    monkeypatch.setattr(store, "delete_version", killed_after_one)
    with pytest.raises(KeyboardInterrupt):
        load_job(archives["second"], graph=graph, replace=True)
    monkeypatch.setattr(store, "delete_version", remove)
    assert stored(graph, absent) == (2, 300 + 400 - 150)
    assert root_pids(graph, absent) == oracle_roots(archives["second"])
    assert graph.read("job-summary", jobid=absent)[0]["processes"] == 300

    # The old version is still its killed writer's until the lease runs out.
    assert delete_job(graph, absent) == 300
    assert stored(graph, absent) == (1, 250)
    run_out_leases(graph, absent)
    assert delete_job(graph, absent) == 0
    assert stored(graph, absent) == (0, 0)
