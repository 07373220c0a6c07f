"""Shared fixtures: one Neo4j server per test session, and the sample jobs loaded once.

The server is, in order of preference: the one ``NEO4J_URI`` names; a testcontainers
``neo4j:5.26`` container when a Docker engine answers; else our own local server, started
on free loopback ports with auth off in a temporary home, and stopped at the end.
Read-only tests share the loaded sample jobs (``loaded_graph``); tests that write use
their own job ids and delete what they wrote.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from constants import GOOD_FOLDERS, SAMPLES
from injection_support import JOBID, N_PROCS, HostileJob, fingerprint, snapshot, write_hostile_job
from oracle import roots

from epmt_graph.config import Connection
from epmt_graph.db import Graph, default_connection, set_default_graph
from epmt_graph.loader import delete_job, find_jobs, load_job
from epmt_graph.server import LocalServer, ServerSettings

#: The HTTP address (Neo4j Browser at ``<it>/browser/``) of the servers started here, by Bolt URI.
HTTP_URLS: dict[str, str] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--stress",
        action="store_true",
        default=False,
        help="run the kill campaigns at full count (20 loader kills, 5 server kills)",
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_cli(
    graph: Graph, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``epmt-graph ARGS`` as a subprocess, connected to ``graph``'s server (plus ``env``)."""
    env = {**os.environ, **(env or {}), "NEO4J_URI": graph.connection.uri}
    env.pop("NEO4J_PASSWORD", None)
    if graph.connection.password is not None:
        env["NEO4J_PASSWORD"] = graph.connection.password
    return subprocess.run(
        [sys.executable, "-m", "epmt_graph.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@pytest.fixture(scope="session")
def samples() -> Path:
    """The shared sample archives (``../shared/data/epmt-samples``)."""
    if not (SAMPLES / "query").is_dir():
        pytest.fail(f"sample jobs not found at {SAMPLES}")
    return SAMPLES


@pytest.fixture(scope="session")
def neo4j_connection(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Connection]:
    """Where the test session's Neo4j server is."""
    if os.environ.get("NEO4J_URI"):
        yield default_connection()
    elif _docker_answers():
        from testcontainers.neo4j import Neo4jContainer

        with Neo4jContainer("neo4j:5.26", password="test-password") as container:
            yield Connection(uri=container.get_connection_url(), password="test-password")
    else:
        server = LocalServer(tmp_path_factory.mktemp("neo4j-server"))
        settings = ServerSettings(
            bolt_port=free_port(), http_port=free_port(), auth=False, heap="1g", pagecache="512m"
        )
        server.start(settings)
        HTTP_URLS[server.connection().uri] = f"http://127.0.0.1:{settings.http_port}"
        try:
            yield server.connection()
        finally:
            server.stop()


@pytest.fixture(scope="session")
def neo4j_http_url(neo4j_connection: Connection) -> str:
    """The test server's HTTP address: our local server's, else ``NEO4J_HTTP_URL``."""
    url = HTTP_URLS.get(neo4j_connection.uri) or os.environ.get("NEO4J_HTTP_URL")
    if url is None:
        pytest.skip("the test server's HTTP address is unknown: set NEO4J_HTTP_URL")
    return url


@pytest.fixture(scope="session")
def graph(neo4j_connection: Connection) -> Iterator[Graph]:
    """The test database, also installed as the API's default graph."""
    with Graph(neo4j_connection) as handle:
        handle.ensure_schema()
        old = set_default_graph(handle)
        yield handle
        set_default_graph(old)


@pytest.fixture(scope="session")
def loaded_graph(graph: Graph, samples: Path) -> Graph:
    """The test database with every good sample job loaded (shared; do not modify)."""
    for path in find_jobs([samples / folder for folder in GOOD_FOLDERS]):
        load_job(path, graph=graph)
    return graph


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
