"""The session's Neo4j server and the sample jobs loaded once: a pytest plugin, registered by
the root ``conftest.py`` so that the tests and the doctests of ``epmt_graph`` share them.

The server is, in order of preference: the one ``NEO4J_URI`` names; a testcontainers
``neo4j:5.26`` container when a Docker engine answers; else our own local server, started
on free loopback ports with auth off in a temporary home, and stopped at the end.
Read-only tests share the loaded sample jobs (``loaded_graph``); tests that write use
their own job ids and delete what they wrote.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from constants import GOOD_FOLDERS, SAMPLES

from epmt_graph.config import Connection
from epmt_graph.db import Graph, default_connection, set_default_graph
from epmt_graph.loader import find_jobs, load_job
from epmt_graph.server import LocalServer, ServerSettings

#: The HTTP address (Neo4j Browser at ``<it>/browser/``) of the servers started here, by Bolt URI.
HTTP_URLS: dict[str, str] = {}
#: The Neo4j image's HTTP port (the Browser), published next to Bolt.
CONTAINER_HTTP_PORT = 7474


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def throwaway_server(
    home: Path, heap: str = "512m", pagecache: str = "256m"
) -> Iterator[Connection]:
    """A local Neo4j server of its own in ``home``, on free loopback ports with auth off,
    stopped on exit (for tests that must not share the session's database)."""
    server = LocalServer(home)
    server.start(
        ServerSettings(
            bolt_port=free_port(), http_port=free_port(), auth=False, heap=heap, pagecache=pagecache
        )
    )
    try:
        yield server.connection()
    finally:
        server.stop()


def _docker_answers() -> bool:
    """Whether a Docker engine answers ``docker info``."""
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

        neo4j = Neo4jContainer("neo4j:5.26", password="test-password")
        # as the local server: no usage reports, no Browser analytics (nor their banner)
        neo4j.with_env("NEO4J_dbms_usage__report_enabled", "false")
        neo4j.with_env("NEO4J_client_allow__telemetry", "false")
        with neo4j.with_exposed_ports(CONTAINER_HTTP_PORT) as container:
            uri = container.get_connection_url()
            port = container.get_exposed_port(CONTAINER_HTTP_PORT)
            HTTP_URLS[uri] = f"http://{container.get_container_host_ip()}:{port}"
            yield Connection(uri=uri, password="test-password")
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
    """The test server's HTTP address: the one started here, else ``NEO4J_HTTP_URL``."""
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
