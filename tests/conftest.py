"""The tests' own fixtures and helpers: ``--stress``, :func:`run_cli`, the hostile job, and
the check that a test changed nothing.

The session's server and the loaded sample jobs (``graph``, ``loaded_graph``, ...) come from
``graph_fixtures``, a plugin the root ``conftest.py`` registers for the doctests too.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import pytest
from constants import SAMPLES

# the tests import it from here
from graph_fixtures import free_port as free_port
from injection_support import JOBID, N_PROCS, HostileJob, fingerprint, snapshot, write_hostile_job
from oracle import roots

from epmt_graph.db import Graph
from epmt_graph.loader import JobRows, delete_job, load_job, read_job
from epmt_graph.loader.writer import write_job
from epmt_graph.schema import tag_pairs, tag_string


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--stress",
        action="store_true",
        default=False,
        help="run the kill campaigns at full count (20 loader kills, 5 server kills)",
    )


def cli_env(graph: Graph, env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of an ``epmt-graph`` subprocess connected to ``graph``'s server."""
    full = {**os.environ, **(env or {}), "NEO4J_URI": graph.connection.uri}
    full.pop("NEO4J_PASSWORD", None)
    if graph.connection.password is not None:
        full["NEO4J_PASSWORD"] = graph.connection.password
    return full


def run_cli(
    graph: Graph, *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``epmt-graph ARGS`` as a subprocess, connected to ``graph``'s server (plus ``env``),
    given ``timeout`` seconds."""
    return subprocess.run(
        [sys.executable, "-m", "epmt_graph.cli", *args],
        capture_output=True,
        text=True,
        env=cli_env(graph, env),
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="session")
def hostile_job(
    loaded_graph: Graph, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HostileJob]:
    """:func:`write_hostile_job`, loaded through the API; deleted at the end of the session."""
    job = write_hostile_job(tmp_path_factory.mktemp("hostile") / "job", JOBID, seed=7)
    delete_job(loaded_graph, JOBID)
    result = load_job(job.path, graph=loaded_graph)
    assert (result.jobid, result.status, result.processes) == (JOBID, "loaded", N_PROCS)
    assert result.roots == len(roots(job.tree))
    yield job
    delete_job(loaded_graph, JOBID)


@pytest.fixture(scope="session")
def baseline(loaded_graph: Graph, hostile_job: HostileJob) -> list[list[dict[str, Any]]]:
    """The fingerprint of the database once the hostile job is loaded."""
    return fingerprint(loaded_graph)


@pytest.fixture
def unchanged(loaded_graph: Graph, baseline: Any) -> Iterator[None]:
    """Errors the test (at teardown) if it changed a node count, an edge count or a Job."""
    before = snapshot(loaded_graph)
    yield
    assert snapshot(loaded_graph) == before


def stored(graph: Graph, jobid: str) -> tuple[int, int]:
    """(Job nodes, Process nodes) of ``jobid`` in the database, of every version."""
    record = graph.driver.execute_query(
        "OPTIONAL MATCH (j:Job {jobid: $jobid}) WITH count(j) AS jobs "
        "OPTIONAL MATCH (p:Process {jobid: $jobid}) RETURN jobs, count(p) AS processes",
        jobid=jobid,
    ).records[0]
    return record["jobs"], record["processes"]


@pytest.fixture
def absent(graph: Graph, request: pytest.FixtureRequest) -> Iterator[str]:
    """The test module's ``JOBID``, with nothing of it stored before and after the test."""
    jobid: str = request.module.JOBID
    delete_job(graph, jobid)
    assert stored(graph, jobid) == (0, 0)
    yield jobid
    delete_job(graph, jobid)
    assert stored(graph, jobid) == (0, 0)


#: Writes a sample job under another job id: ``copy(path, jobid, tags=None, **job_changes)``.
Copier = Callable[..., str]


@cache
def sample(path: str) -> JobRows:
    """A sample archive (a path below ``SAMPLES``), parsed once per session."""
    return read_job(SAMPLES / path)


def counts(graph: Graph) -> tuple[int, int]:
    """(nodes, relationships) in the whole database."""
    nodes = graph.driver.execute_query("MATCH (n) RETURN count(n) AS n").records[0]["n"]
    rels = graph.driver.execute_query("MATCH ()-[r]->() RETURN count(r) AS n").records[0]["n"]
    return nodes, rels


@pytest.fixture
def copy_job(loaded_graph: Graph) -> Iterator[Copier]:
    """Writes a sample under another job id (with job property changes); deletes it after."""
    made: list[str] = []

    def copy(path: str, jobid: str, tags: dict[str, str] | None = None, **changes: Any) -> str:
        rows = sample(path)
        processes = [{**p, "jobid": jobid, "uid": f"{jobid}:{p['idx']}"} for p in rows.processes]
        job = {**rows.job, "jobid": jobid, "digest": f"copy:{jobid}", **changes}
        if tags is not None:
            job |= {"tags": tag_string(tags), "tag_pairs": tag_pairs(tags)}
        write_job(loaded_graph, dataclasses.replace(rows, job=job, processes=processes))
        made.append(jobid)
        return jobid

    yield copy
    for jobid in made:
        delete_job(loaded_graph, jobid)
