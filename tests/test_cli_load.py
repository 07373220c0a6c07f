"""``epmt-graph load`` as a subprocess: summaries, idempotent reloads, refusals, dry runs."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_cli
from neo4j.exceptions import Neo4jError

from epmt_graph.db import Graph
from epmt_graph.errors import ServerError
from epmt_graph.loader import JobRows, delete_job, load_job, writer

JOB = "685016"


def run_load(graph: Graph, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(graph, "load", *args)


def count_processes(graph: Graph, jobid: str) -> int:
    records = graph.driver.execute_query(
        "MATCH (p:Process {jobid: $jobid}) RETURN count(p) AS n", jobid=jobid
    ).records
    return int(records[0]["n"])


@pytest.fixture
def fresh_job(graph: Graph, samples: Path) -> Iterator[str]:
    """Job 685016 absent for the test; put back afterwards (other tests share it)."""
    delete_job(graph, JOB)
    yield JOB
    delete_job(graph, JOB)
    load_job(samples / "query" / f"{JOB}.tgz", graph=graph)


def test_load_twice_is_a_noop(graph: Graph, samples: Path, fresh_job: str) -> None:
    first = run_load(graph, str(samples / "query" / f"{JOB}.tgz"))
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"job {JOB}: loaded, 3412 processes, 31 roots, max depth ")
    second = run_load(graph, str(samples / "query" / f"{JOB}.tgz"))
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith(f"job {JOB}: unchanged, 3412 processes, 31 roots")
    assert count_processes(graph, JOB) == 3412


def test_dry_run_writes_nothing(graph: Graph, samples: Path, fresh_job: str) -> None:
    result = run_load(graph, "--dry-run", str(samples / "query" / f"{JOB}.tgz"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"job {JOB}: validated, 3412 processes, 31 roots (")
    assert count_processes(graph, JOB) == 0


@pytest.mark.parametrize("bad", ["misc/corrupted-csv.tgz", "corrupted_csv"])
def test_bad_archive_is_refused_and_writes_nothing(graph: Graph, samples: Path, bad: str) -> None:
    before = graph.driver.execute_query("MATCH (n) RETURN count(n) AS n").records[0]["n"]
    result = run_load(graph, str(samples / bad))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("epmt-graph: error: ")
    assert ".csv" in line
    after = graph.driver.execute_query("MATCH (n) RETURN count(n) AS n").records[0]["n"]
    assert after == before


def test_missing_path_is_a_clear_error(graph: Graph, tmp_path: Path) -> None:
    result = run_load(graph, str(tmp_path / "nope.tgz"))
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == f"epmt-graph: error: {tmp_path / 'nope.tgz'}: no such file or directory"
    )


def test_a_job_too_big_for_the_transaction_memory_is_a_clear_error(
    graph: Graph, samples: Path, fresh_job: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    too_big = Neo4jError._hydrate_neo4j(
        code=writer.TOO_BIG, message="The allocation of an extra 16.0 MiB would use more..."
    )
    calls = []

    def nodes(rows: JobRows, *args: object) -> None:  # the server answers half-way
        calls.append(rows.jobid)
        raise too_big

    monkeypatch.setattr(writer, "_write_processes", nodes)
    with pytest.raises(ServerError, match=r"job 685016 \(3,412 processes\) does not fit"):
        load_job(samples / "query" / f"{JOB}.tgz", graph=graph)
    assert calls == [JOB]  # not retried
    assert count_processes(graph, JOB) == 0
