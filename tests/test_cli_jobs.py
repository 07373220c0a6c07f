"""``epmt-graph list | show | delete`` as subprocesses, against EPMT's published facts."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_cli
from constants import SAMPLES

from epmt_graph.db import Graph
from epmt_graph.loader import delete_job, read_job
from epmt_graph.loader.writer import write_job


def test_list_gives_every_loaded_job_by_start(loaded_graph: Graph) -> None:
    result = run_cli(loaded_graph, "list")
    assert result.returncode == 0, result.stderr
    jobids = result.stdout.split()
    assert {"685000", "685003", "685016", "692500", "804268", "804280"} <= set(jobids)
    assert jobids.index("685000") < jobids.index("685003") < jobids.index("685016")


def test_list_long_and_by_tag(loaded_graph: Graph) -> None:
    result = run_cli(
        loaded_graph, "list", "--long", "--tags", "exp_component:ocean_annual_rho2_1x1deg"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["685000", "691201"]
    assert "3480 procs" in lines[0]
    assert "3412 procs" in lines[1]


def test_show_a_job(loaded_graph: Graph) -> None:
    result = run_cli(loaded_graph, "show", "685000", "--top", "3")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("job 685000: ESM4_historical_D151_ocean_annual_rho2_1x1deg_18840101")
    assert "3480 processes, 3668 threads, 32 roots" in result.stdout
    assert lines[-3].split()[:3] == ["tcsh", "pid", "6098"]
    assert len(lines) == 3 + 3 + 3


def test_show_an_unknown_job_is_one_clear_line(loaded_graph: Graph) -> None:
    result = run_cli(loaded_graph, "show", "no-such-job")
    assert result.returncode == 1
    assert result.stderr == "epmt-graph: error: job no-such-job is not loaded\n"


@pytest.fixture
def two_copies(graph: Graph) -> Iterator[list[str]]:
    rows = read_job(SAMPLES / "tsv" / "12340")
    ids = ["cli-copy-1", "cli-copy-2"]
    for jobid in ids:
        processes = [{**p, "jobid": jobid, "uid": f"{jobid}:{p['idx']}"} for p in rows.processes]
        job = {**rows.job, "jobid": jobid, "digest": jobid}
        write_job(graph, dataclasses.replace(rows, job=job, processes=processes))
    yield ids
    for jobid in ids:
        delete_job(graph, jobid)


def count(graph: Graph, jobid: str) -> int:
    query = "MATCH (p:Process {jobid: $jobid}) RETURN count(p) AS n"
    return int(graph.driver.execute_query(query, jobid=jobid).records[0]["n"])


def test_delete_needs_force_for_several(graph: Graph, two_copies: list[str]) -> None:
    refused = run_cli(graph, "delete", *two_copies)
    assert refused.returncode == 1
    assert refused.stderr.startswith("epmt-graph: error: ")
    assert [count(graph, j) for j in two_copies] == [18, 18]
    done = run_cli(graph, "delete", "--force", *two_copies)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "deleted 2 jobs\n"
    assert [count(graph, j) for j in two_copies] == [0, 0]


def test_samples_path_is_shared() -> None:
    assert Path(SAMPLES, "query", "685000.tgz").is_file()
