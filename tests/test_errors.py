"""One error boundary: API arguments are checked before any query runs, driver and server
errors become the project's at ``db.Graph`` (naming the URI), and the CLI prints them as one
line.

The argument checks run against a graph on a closed port: any query there raises
:class:`ServerUnavailableError`, so a :class:`QueryError` proves the check came first.
"""

from __future__ import annotations

import inspect
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import neo4j
import pytest
from conftest import free_port, run_cli
from oracle import SAMPLES, raw_processes

import epmt_graph.api as eq
from epmt_graph.config import Connection
from epmt_graph.db import Graph
from epmt_graph.errors import (
    DatabaseError,
    DuplicateJobError,
    EpmtGraphError,
    QueryError,
    ServerError,
    ServerUnavailableError,
)

JOB, OTHER = "685000", "685016"
#: Each public API function taking ``fmt``, ``limit`` or ``offset``, called with otherwise
#: valid arguments and ``**bad``.
CALLS: dict[str, Callable[..., Any]] = {
    "ancestry": lambda g, **bad: eq.ancestry(f"{JOB}:0", graph=g, **bad),
    "conv_jobs": lambda g, **bad: eq.conv_jobs(JOB, graph=g, **bad),
    "conv_procs": lambda g, **bad: eq.conv_procs([f"{JOB}:0"], graph=g, **bad),
    "create_refmodel": lambda g, **bad: eq.create_refmodel([JOB, OTHER, "685003"], graph=g, **bad),
    "critical_path": lambda g, **bad: eq.critical_path(JOB, graph=g, **bad),
    "delete_jobs": lambda g, **bad: eq.delete_jobs(JOB, dry_run=True, graph=g, **bad),
    "get_jobs": lambda g, **bad: eq.get_jobs(JOB, graph=g, **bad),
    "get_op_metrics": lambda g, **bad: eq.get_op_metrics(JOB, graph=g, **bad),
    "get_ops": lambda g, **bad: eq.get_ops(JOB, graph=g, **bad),
    "get_procs": lambda g, **bad: eq.get_procs(JOB, graph=g, **bad),
    "get_refmodels": lambda g, **bad: eq.get_refmodels(graph=g, **bad),
    "get_roots": lambda g, **bad: eq.get_roots(JOB, graph=g, **bad),
    "get_unanalyzed_jobs": lambda g, **bad: eq.get_unanalyzed_jobs(JOB, graph=g, **bad),
    "op_roots": lambda g, **bad: eq.op_roots(JOB, "op:hsmget", graph=g, **bad),
    "root": lambda g, **bad: eq.root(JOB, graph=g, **bad),
    "timeline": lambda g, **bad: eq.timeline(JOB, graph=g, **bad),
    "tree_diff": lambda g, **bad: eq.tree_diff(JOB, OTHER, graph=g, **bad),
}
BAD = {
    "limit": [-1, "3", True, 2.5],
    "offset": [-1, "3", True, 2.5],
    "fmt": ["xml", None, "DICT"],
}


def _takes(argument: str) -> list[str]:
    return sorted(
        name
        for name in eq.__all__
        if inspect.isfunction(getattr(eq, name))
        and argument in inspect.signature(getattr(eq, name)).parameters
    )


@pytest.fixture(scope="module")
def closed_uri() -> str:
    return f"bolt://127.0.0.1:{free_port()}"


@pytest.fixture
def nowhere(closed_uri: str) -> Iterator[Graph]:
    """A graph on a port nothing listens on."""
    with Graph(Connection(closed_uri)) as handle:
        yield handle


def test_every_function_taking_paging_or_fmt_is_checked_here() -> None:
    for argument in BAD:
        assert set(_takes(argument)) <= set(CALLS), argument
    assert set(CALLS) == {name for argument in BAD for name in _takes(argument)}


@pytest.mark.parametrize(
    ("function", "argument", "value"),
    [
        (function, argument, value)
        for argument, values in BAD.items()
        for function in _takes(argument)
        for value in values
    ],
)
def test_bad_arguments_are_query_errors_before_any_query(
    nowhere: Graph, function: str, argument: str, value: Any
) -> None:
    with pytest.raises(QueryError, match=rf"\b{argument}\b.*{re.escape(repr(value))}") as info:
        CALLS[function](nowhere, **{argument: value})
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(("limit", "offset"), [(0, 0), (None, None), (3, 2)])
def test_good_paging_passes_the_checks(nowhere: Graph, limit: Any, offset: Any) -> None:
    """Valid values get past the checks to the (unreachable) server."""
    with pytest.raises(ServerUnavailableError):
        eq.get_procs(JOB, limit=limit, offset=offset, graph=nowhere)


def test_negative_limit_on_a_live_server_is_a_query_error(loaded_graph: Graph) -> None:
    with pytest.raises(QueryError, match="limit must be a non-negative integer or None, not -1"):
        eq.get_procs(JOB, limit=-1)


def test_limit_zero_means_no_limit_as_in_epmt(loaded_graph: Graph) -> None:
    everything = len(raw_processes(SAMPLES / "query" / f"{JOB}.tgz"))
    assert len(eq.get_procs(JOB, limit=0, fmt="terse")) == everything
    assert len(eq.get_procs(JOB, limit=0, offset=everything - 2, fmt="terse")) == 2


@pytest.mark.parametrize("call", ["read", "execute_read", "execute_write", "ensure_schema"])
def test_an_unreachable_server_is_one_clear_error_at_once(
    nowhere: Graph, closed_uri: str, call: str
) -> None:
    runs = {
        "read": lambda: nowhere.read("job-ids"),
        "execute_read": lambda: nowhere.execute_read(lambda tx: None),
        "execute_write": lambda: nowhere.execute_write(lambda tx: None),
        "ensure_schema": nowhere.ensure_schema,
    }
    started = time.monotonic()
    with pytest.raises(ServerUnavailableError) as info:
        runs[call]()
    assert time.monotonic() - started < 5  # not after the driver's 30 s of retries
    message = str(info.value)
    assert f"cannot reach Neo4j at {closed_uri} " in message
    assert "epmt-graph server start" in message and "NEO4J_URI" in message
    assert "\n" not in message
    assert isinstance(info.value, ServerError)
    assert isinstance(info.value.__cause__, neo4j.exceptions.ServiceUnavailable)


def test_refused_credentials_name_the_uri(
    nowhere: Graph, closed_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = neo4j.exceptions.Neo4jError._hydrate_neo4j(
        code="Neo.ClientError.Security.Unauthorized",
        message="The client is unauthorized due to authentication failure.",
    )
    assert isinstance(refused, neo4j.exceptions.AuthError)

    def verify_connectivity() -> None:
        raise refused

    monkeypatch.setattr(nowhere.driver, "verify_connectivity", verify_connectivity)
    with pytest.raises(ServerUnavailableError) as info:
        nowhere.read("job-ids")
    assert str(info.value) == (
        f"Neo4j at {closed_uri} refused the user name or password (The client is unauthorized "
        "due to authentication failure.); check NEO4J_USER and NEO4J_PASSWORD"
    )
    assert info.value.__cause__ is refused


def test_a_server_error_is_a_database_error_with_its_code(graph: Graph) -> None:
    here = graph.connection
    with (
        Graph(Connection(here.uri, here.user, here.password, "nosuchdb")) as other,
        pytest.raises(DatabaseError) as info,
    ):
        other.read("job-ids")
    message = str(info.value)
    assert message.startswith(f"Neo4j at {graph.connection.uri} failed query 'job-ids': ")
    assert "Neo.ClientError.Database.DatabaseNotFound" in message
    assert isinstance(info.value.__cause__, neo4j.exceptions.ClientError)


@pytest.mark.parametrize(
    "raised",
    [DuplicateJobError("ours"), OSError(5, "a spill file failed"), KeyError("x")],
    ids=["project-error", "os-error", "other"],
)
@pytest.mark.parametrize("method", ["execute_read", "execute_write"])
def test_errors_raised_by_our_own_transaction_functions_pass_through(
    graph: Graph, method: str, raised: Exception
) -> None:
    def work(tx: neo4j.ManagedTransaction) -> None:
        raise raised

    with pytest.raises(type(raised)) as info:
        getattr(graph, method)(work)
    assert info.value is raised


def test_the_error_tree() -> None:
    assert issubclass(ServerUnavailableError, ServerError)
    assert issubclass(ServerError, EpmtGraphError)
    assert issubclass(DatabaseError, EpmtGraphError)
    assert issubclass(QueryError, EpmtGraphError) and issubclass(QueryError, ValueError)


@pytest.mark.parametrize(
    "args",
    [
        ("list",),
        ("show", JOB),
        ("load", str(SAMPLES / "query" / f"{JOB}.tgz"), str(SAMPLES / "query" / f"{OTHER}.tgz")),
    ],
    ids=["list", "show", "load"],
)
def test_the_cli_against_a_closed_port_prints_one_line(
    nowhere: Graph, closed_uri: str, args: tuple[str]
) -> None:
    result = run_cli(nowhere, *args, timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"epmt-graph: error: cannot reach Neo4j at {closed_uri} ")
    assert result.stdout == ""


def test_the_cli_modules_leave_driver_errors_to_db() -> None:
    cli = Path(eq.__file__).parents[1] / "cli"
    for module in cli.glob("*.py"):
        assert not re.search(r"^(import|from) neo4j\b", module.read_text(), re.M), module.name
