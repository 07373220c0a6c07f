"""The local server, driven through the CLI as a user would: auth, idempotence, clear errors."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import neo4j
import pytest
from conftest import free_port
from neo4j.exceptions import AuthError

from epmt_graph import cypher
from epmt_graph.errors import ServerError
from epmt_graph.server import LocalServer, toolchain


def epmt_graph(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "epmt_graph.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        check=False,
    )


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int, int]]:
    home = tmp_path_factory.mktemp("auth-server")
    bolt, http = free_port(), free_port()
    result = epmt_graph(
        "server", "--home", str(home), "start", "--bolt-port", str(bolt),
        "--http-port", str(http), "--heap", "512m", "--pagecache", "128m",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "started Neo4j 5.26" in result.stdout
    assert "warmed up in" in result.stdout, result.stderr
    yield home, bolt, http
    assert epmt_graph("server", "--home", str(home), "stop").stdout.strip() == "stopped"


def test_password_is_generated_private_and_never_printed(
    auth_server: tuple[Path, int, int],
) -> None:
    home, bolt, _ = auth_server
    credentials = home / "credentials"
    password = credentials.read_text().strip()
    assert len(password) >= 24
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    status = epmt_graph("server", "--home", str(home), "status")
    assert status.returncode == 0
    assert f"bolt://127.0.0.1:{bolt}" in status.stdout
    assert password not in status.stdout + status.stderr
    with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{bolt}", auth=("neo4j", password)) as d:
        assert d.execute_query("RETURN 41 + 1 AS answer").records[0]["answer"] == 42


def test_heap_reaches_the_jvm(auth_server: tuple[Path, int, int]) -> None:
    """``--heap 512m`` is the JVM's heap, initial and most (the JVM's own report, by JMX)."""
    home, bolt, _ = auth_server
    password = (home / "credentials").read_text().strip()
    jmx = "CALL dbms.queryJmx('java.lang:type=Memory') YIELD attributes RETURN attributes"
    with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{bolt}", auth=("neo4j", password)) as d:
        attributes = d.execute_query(jmx).records[0]["attributes"]
    heap = attributes["HeapMemoryUsage"]["value"]["properties"]
    assert heap["max"] == heap["init"] == 512 * 1024 * 1024


def full_collections(home: Path, bolt: int) -> int:
    """How many times the server's JVM collected its whole heap (its own count, by JMX)."""
    password = (home / "credentials").read_text().strip()
    jmx = (
        "CALL dbms.queryJmx('java.lang:type=GarbageCollector,name=G1 Old Generation') "
        "YIELD attributes RETURN attributes"
    )
    with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{bolt}", auth=("neo4j", password)) as d:
        return int(d.execute_query(jmx).records[0]["attributes"]["CollectionCount"]["value"])


@pytest.mark.skipif(shutil.which("jcmd") is None, reason="no jcmd (a JDK tool) on PATH")
def test_start_collects_the_heap_after_the_warm_up(auth_server: tuple[Path, int, int]) -> None:
    """The warm-up's garbage is collected before start returns (a 512m heap holding one
    small job needs no full collection of its own), and each call collects once more."""
    home, bolt, _ = auth_server
    before = full_collections(home, bolt)
    assert before >= 1
    assert LocalServer(home).collect_garbage()
    assert full_collections(home, bolt) == before + 1


def test_the_warm_up_leaves_only_the_schema(auth_server: tuple[Path, int, int]) -> None:
    """start loaded a synthetic job and deleted it: no node, no edge, the constraints in place."""
    home, bolt, _ = auth_server
    auth = ("neo4j", (home / "credentials").read_text().strip())
    with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{bolt}", auth=auth) as d:
        assert d.execute_query("MATCH (n) RETURN count(n) AS n").records[0]["n"] == 0
        assert d.execute_query("MATCH ()-[r]->() RETURN count(r) AS n").records[0]["n"] == 0
        constraints = d.execute_query("SHOW CONSTRAINTS YIELD labelsOrTypes").records
        assert ["JobHead"] in [c["labelsOrTypes"] for c in constraints]


def test_plans_are_cached_by_parameter_type_not_size(auth_server: tuple[Path, int, int]) -> None:
    """A jobid of another length, or a list of another size, shares one cached plan (the
    server's own count of cached queries), so the warm-up's plans serve every job; a
    parameter of another type does not."""
    home, bolt, _ = auth_server
    auth = ("neo4j", (home / "credentials").read_text().strip())
    query = cypher.query("job-digest")
    with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{bolt}", auth=auth) as d:

        def cached_after(*values: object) -> str:
            d.execute_query("CALL db.clearQueryCaches()")
            for value in values:
                d.execute_query(query, jobid=value)
            return str(d.execute_query("CALL db.clearQueryCaches()").records[0][0])

        one, two = "cleared of 1 queries", "cleared of 2 queries"
        assert cached_after("685000", "epmt-graph-warm-up", "x" * 500).endswith(f"{one}.")
        assert cached_after(["a"] * 3, ["a"] * 3000).endswith(f"{one}.")
        assert cached_after("685000", 685000).endswith(f"{two}.")


def test_wrong_password_is_refused(auth_server: tuple[Path, int, int]) -> None:
    _, bolt, _ = auth_server
    with (
        neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{bolt}", auth=("neo4j", "wrong")) as d,
        pytest.raises(AuthError),
    ):
        d.verify_connectivity()


def test_routing_uri_reaches_the_local_server(auth_server: tuple[Path, int, int]) -> None:
    home, bolt, _ = auth_server
    auth = ("neo4j", (home / "credentials").read_text().strip())
    with neo4j.GraphDatabase.driver(f"neo4j://127.0.0.1:{bolt}", auth=auth) as driver:
        assert driver.execute_query("RETURN 1 AS one").records[0]["one"] == 1


def test_start_twice_says_so(auth_server: tuple[Path, int, int]) -> None:
    home, _, _ = auth_server
    result = epmt_graph("server", "--home", str(home), "start")
    assert result.returncode == 0
    assert "already running" in result.stdout


def test_listens_on_loopback_only(auth_server: tuple[Path, int, int]) -> None:
    home, bolt, http = auth_server
    conf = (home / "conf" / "neo4j.conf").read_text()
    assert "server.default_listen_address=127.0.0.1\n" in conf
    assert f"server.bolt.listen_address=127.0.0.1:{bolt}\n" in conf
    assert f"server.http.listen_address=127.0.0.1:{http}\n" in conf


def test_browser_is_served(auth_server: tuple[Path, int, int]) -> None:
    import urllib.request

    _, _, http = auth_server
    with urllib.request.urlopen(f"http://127.0.0.1:{http}/browser/", timeout=30) as response:
        assert response.status == 200
        assert b"Neo4j Browser" in response.read()


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = epmt_graph(
            "server", "--home", str(tmp_path), "start", "--bolt-port", str(port),
            "--http-port", str(free_port()),
        )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"epmt-graph: error: port {port} on 127.0.0.1 is already in use by another program; "
        "choose free ports with --bolt-port/--http-port"
    )
    assert "Traceback" not in result.stderr


def test_nothing_is_reported_home(auth_server: tuple[Path, int, int]) -> None:
    home, bolt, _ = auth_server
    password = (home / "credentials").read_text().strip()
    with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{bolt}", auth=("neo4j", password)) as d:
        config = {
            r["name"]: r["value"]
            for r in d.execute_query(
                "CALL dbms.listConfig() YIELD name, value RETURN name, value"
            ).records
        }
        client = {
            r["name"]: r["value"]
            for r in d.execute_query(
                "CALL dbms.clientConfig() YIELD name, value RETURN name, value"
            ).records
        }
    # the server refuses to start on a setting it does not know: these are 5.26's own names
    assert config["server.config.strict_validation.enabled"] == "true"
    assert config["dbms.usage_report.enabled"] == "false"  # the server's usage reports
    assert config["server.bolt.telemetry.enabled"] == "false"  # drivers' telemetry
    # what the Neo4j Browser reads: no product analytics, so no consent banner
    assert config["client.allow_telemetry"] == client["client.allow_telemetry"] == "false"
    log = (home / "logs" / "neo4j.log").read_text()
    assert "deprecated setting" not in log


def test_missing_java_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(toolchain, "JVM_FOLDER", tmp_path)
    with pytest.raises(ServerError, match=r"^Neo4j 5.26 needs Java 17 or 21 and none was found"):
        toolchain.find_java()


def test_missing_maven_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ServerError, match=r"^Maven \(mvn\) is needed"):
        toolchain.provision(cache=tmp_path)


def test_status_of_a_stopped_server(tmp_path: Path) -> None:
    result = epmt_graph("server", "--home", str(tmp_path), "status")
    assert result.returncode == 3
    assert result.stdout.startswith("not running")
