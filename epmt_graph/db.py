"""One handle on one Neo4j database: a driver, a database name, named queries.

All work goes through ``execute_read``/``execute_write`` transaction functions, which the
driver retries on transient errors; the functions here are idempotent so that is safe.
No driver is made at import time: :func:`default_graph` makes one on first use.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import neo4j

from epmt_graph import cypher
from epmt_graph.config import Connection, connection_from_env

__all__ = ["Batch", "Graph", "default_graph", "set_default_graph"]

T = TypeVar("T")


class Batch(list[Any]):
    """A list of rows sent as one query parameter, with a short ``repr``.

    The driver formats each RUN message's parameters for its debug log before it knows
    whether that log is on; for a batch of thousands of rows that costs more than packing
    them (about 50 ms per 3,500 processes). The rows are packed as a list all the same.

    Examples
    --------
    >>> Batch([{"pid": 1}, {"pid": 2}])
    Batch(2 rows)
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Batch({len(self)} rows)"


class Graph:
    """A Neo4j database reached through one driver.

    Parameters
    ----------
    connection : Connection, optional
        Where to connect; default :func:`epmt_graph.config.connection_from_env`.
    """

    def __init__(self, connection: Connection | None = None) -> None:
        self.connection = connection or connection_from_env()
        auth = (
            None
            if self.connection.password is None
            else (self.connection.user, self.connection.password)
        )
        self.driver = neo4j.GraphDatabase.driver(
            self.connection.uri,
            auth=auth,
            notifications_min_severity=neo4j.NotificationMinimumSeverity.OFF,
        )
        self._bookmarks = neo4j.GraphDatabase.bookmark_manager()
        self._schema_ready = False
        self._local = threading.local()
        self._sessions: list[neo4j.Session] = []
        self._lock = threading.Lock()
        self._schema_lock = threading.Lock()

    def __enter__(self) -> Graph:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Graph({self.connection!r})"

    def close(self) -> None:
        """Close the sessions, the driver and its connections."""
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
        self.driver.close()

    def session(self) -> neo4j.Session:
        """The calling thread's session, opened on first use.

        Sessions are not thread-safe, so each thread gets its own. All of them, and
        :meth:`read`, share one bookmark manager: on a cluster, a read sees every write
        this handle made before it. A session holds a connection only while a transaction
        runs.
        """
        session: neo4j.Session | None = getattr(self._local, "session", None)
        if session is None or session.closed():
            session = self.driver.session(
                database=self.connection.database, bookmark_manager=self._bookmarks
            )
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def read(self, name: str, **params: Any) -> list[neo4j.Record]:
        """Run the named query ``name`` in a read transaction and return all its records.

        It goes through the driver's ``execute_query``: a managed transaction the driver
        retries, like :meth:`execute_read`, whose BEGIN travels with the query, so it
        takes two round trips to the server instead of three.
        """
        records: list[neo4j.Record] = self.driver.execute_query(
            cypher.query(name),
            params,
            routing_=neo4j.RoutingControl.READ,
            database_=self.connection.database,
            bookmark_manager_=self._bookmarks,
            result_transformer_=_records,
        )
        return records

    def execute_read(self, work: Callable[[neo4j.ManagedTransaction], T]) -> T:
        """Run ``work(tx)`` in a retryable read transaction."""
        return self.session().execute_read(work)

    def execute_write(self, work: Callable[[neo4j.ManagedTransaction], T]) -> T:
        """Run ``work(tx)`` in a retryable write transaction (all of it commits, or none)."""
        return self.session().execute_write(work)

    def ensure_schema(self) -> None:
        """Create the constraints and indexes of ``schema.cypher`` (idempotent, once per handle)."""
        with self._schema_lock:
            if self._schema_ready:
                return
            with self.driver.session(database=self.connection.database) as session:
                for statement in cypher.statements("schema"):
                    session.run(statement).consume()
                session.run("CALL db.awaitIndexes(300)").consume()
                session.run(cypher.query("migrate-versions")).consume()
            self._schema_ready = True

    def wait_for_readers(self, timeout: float = 60.0) -> bool:
        """Wait until every transaction running now has finished (a grace period).

        A writer that has unpublished a version of a job calls this before deleting it:
        transactions that began later cannot see it, and those running now may be reading
        it. Only the server this handle reaches is asked (on a cluster, one member).

        Parameters
        ----------
        timeout : float
            Seconds to wait at most.

        Returns
        -------
        bool
            False if some of them were still running after ``timeout``.
        """
        deadline = time.monotonic() + timeout
        running = self._transactions()
        while running:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
            running &= self._transactions()
        return True

    def _transactions(self) -> set[str]:
        return {record["transactionId"] for record in self.read("running-transactions")}


def _records(result: neo4j.Result) -> list[neo4j.Record]:
    """Every record of ``result``: :meth:`Graph.read`'s result transformer, which runs inside
    the transaction (a transient error there makes the driver run it again)."""
    return list(result)


_default: Graph | None = None
#: Guards ``_default``: threads that ask for the default graph at once get the same one.
_default_lock = threading.Lock()


def default_graph() -> Graph:
    """The process-wide graph used by the API, made on first use from the environment."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Graph()
        return _default


def set_default_graph(graph: Graph | None) -> Graph | None:
    """Make ``graph`` the API's graph (None: back to the environment's); returns the old one."""
    global _default
    with _default_lock:
        old, _default = _default, graph
    return old
