"""Loading several jobs side by side (``loader.pipeline``): order, same-jobid jobs, errors."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_cli

from epmt_graph.db import Graph
from epmt_graph.errors import ArchiveError, DuplicateJobError
from epmt_graph.loader import JobRows, delete_job, load, run_ahead
from epmt_graph.synthetic import write_archive

JOBS = ("pipe-a", "pipe-b")


def count_processes(graph: Graph, jobid: str) -> int:
    records = graph.driver.execute_query(
        "MATCH (h:JobHead {jobid: $jobid}) "
        "MATCH (p:Process {jobid: h.jobid, version: h.version}) RETURN count(p) AS n",
        jobid=jobid,
    ).records
    return int(records[0]["n"])


@pytest.fixture
def archives(tmp_path: Path, graph: Graph) -> Iterator[dict[str, Path]]:
    """Two jobs, and a second archive of job pipe-a with other content; deleted after."""
    made = {
        "a": write_archive(tmp_path / "a.tgz", 120, seed=1, jobid="pipe-a"),
        "a2": write_archive(tmp_path / "a2.tgz", 90, seed=2, jobid="pipe-a"),
        "b": write_archive(tmp_path / "b.tgz", 60, seed=3, jobid="pipe-b"),
    }
    yield made
    for jobid in JOBS:
        delete_job(graph, jobid)


def test_one_archive_twice_in_one_call_is_unchanged_the_second_time(
    graph: Graph, archives: dict[str, Path]
) -> None:
    results = load([archives["a"], archives["b"], archives["a"]], graph=graph)
    assert [(r.jobid, r.status, r.processes) for r in results] == [
        ("pipe-a", "loaded", 120),
        ("pipe-b", "loaded", 60),
        ("pipe-a", "unchanged", 120),
    ]


def test_same_jobid_archives_are_written_in_path_order(
    graph: Graph, archives: dict[str, Path]
) -> None:
    for _ in range(3):  # a race would show as the wrong archive winning now and then
        results = load([archives["a"], archives["b"], archives["a2"]], graph=graph, replace=True)
        assert [r.status for r in results][-1] == "replaced"
        assert count_processes(graph, "pipe-a") == 90
        delete_job(graph, "pipe-a")
    with pytest.raises(DuplicateJobError, match="already loaded"):
        load([archives["a"], archives["a2"]], graph=graph)
    assert count_processes(graph, "pipe-a") == 120


def test_futures_come_in_path_order_with_their_own_errors(tmp_path: Path) -> None:
    slow = write_archive(tmp_path / "slow.tgz", 40, seed=4, jobid="slow")
    fast = write_archive(tmp_path / "fast.tgz", 40, seed=5, jobid="fast")
    bad = tmp_path / "bad.tgz"
    bad.write_bytes(slow.read_bytes()[:200])
    running: set[str] = set()
    overlap = threading.Event()

    def work(rows: JobRows) -> str:
        running.add(rows.jobid)
        if len(running) > 1:
            overlap.set()
        time.sleep(0.3 if rows.jobid == "slow" else 0.0)
        running.discard(rows.jobid)
        return rows.jobid

    out = []
    for path, done in run_ahead([slow, fast, bad], work, workers=2):
        try:
            out.append((path.name, done.result()))
        except ArchiveError as exc:
            out.append((path.name, type(exc).__name__))
    assert out == [("slow.tgz", "slow"), ("fast.tgz", "fast"), ("bad.tgz", "ArchiveError")]
    assert overlap.is_set()


def test_workers_must_be_at_least_one(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        next(run_ahead([tmp_path], lambda rows: rows, workers=0))


def test_cli_reports_every_job_in_order_and_fails_for_the_bad_one(
    graph: Graph, archives: dict[str, Path], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.tgz"
    bad.write_bytes(archives["a"].read_bytes()[:300])
    result = run_cli(graph, "load", str(archives["a"]), str(bad), str(archives["b"]))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert [line.split(",")[0] for line in lines] == ["job pipe-a: loaded", "job pipe-b: loaded"]
    assert "bad.tgz" in result.stderr and result.stderr.startswith("epmt-graph: error: ")
