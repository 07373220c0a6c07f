"""One handle on one Neo4j database: a driver, a database name, named queries.

All work goes through ``execute_read``/``execute_write`` transaction functions, which the
driver retries on transient errors; the functions here are idempotent so that is safe.
No driver is made at import time: :func:`default_graph` makes one on first use.

This is where driver and server errors become the project's: what escapes the driver
(after its retries) is re-raised as :class:`~epmt_graph.errors.ServerUnavailableError`
(server unreachable, credentials refused) or :class:`~epmt_graph.errors.DatabaseError`
(anything else the server or driver reports), naming the URI. Exceptions that a
transaction function of ours raises itself pass through unchanged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import neo4j

from epmt_graph import cypher
from epmt_graph.config import Connection, connection_from_env, database_from_env, server_home
from epmt_graph.errors import ConfigError, DatabaseError, EpmtGraphError, ServerUnavailableError
from epmt_graph.server.local import LocalServer

__all__ = ["Batch", "Graph", "default_connection", "default_graph", "set_default_graph"]

T = TypeVar("T")

#: What the driver raises: server answers (``Neo4jError``) and its own failures.
_DRIVER_ERRORS = (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError)
#: Driver errors that mean the server cannot be reached (after the driver's retries).
_UNREACHABLE = (neo4j.exceptions.ServiceUnavailable, neo4j.exceptions.SessionExpired, OSError)


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
        Where to connect; default :func:`default_connection`.

    Raises
    ------
    ConfigError
        If the driver refuses the URI (e.g. query parameters on a ``bolt://`` URI).

    Notes
    -----
    No connection is made here. The first query checks, once, that the server answers
    (:meth:`ensure_reachable`), so an unreachable server fails at once rather than after the
    driver's 30 s of retries.

    Examples
    --------
    >>> from epmt_graph.config import Connection
    >>> graph = Graph(Connection("bolt://127.0.0.1:1"))  # port 1: nothing listens
    >>> graph.read("job-ids")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    epmt_graph.errors.ServerUnavailableError: cannot reach Neo4j at bolt://127.0.0.1:1 ...
    >>> graph.close()
    """

    def __init__(self, connection: Connection | None = None) -> None:
        self.connection = connection or default_connection()
        auth = (
            None
            if self.connection.password is None
            else (self.connection.user, self.connection.password)
        )
        try:
            self.driver = neo4j.GraphDatabase.driver(
                self.connection.uri,
                auth=auth,
                notifications_min_severity=neo4j.NotificationMinimumSeverity.OFF,
            )
        except neo4j.exceptions.ConfigurationError as exc:
            raise ConfigError(f"NEO4J_URI {self.connection.uri!r}: {exc}") from exc
        self._reached = False
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

        Raises
        ------
        ServerUnavailableError
            If the server cannot be reached or refuses the credentials.
        DatabaseError
            If the server fails the query (its code and message are in the message).
        """
        self.ensure_reachable()
        try:
            records: list[neo4j.Record] = self.driver.execute_query(
                cypher.query(name),
                params,
                routing_=neo4j.RoutingControl.READ,
                database_=self.connection.database,
                bookmark_manager_=self._bookmarks,
                result_transformer_=_records,
            )
        except (*_DRIVER_ERRORS, OSError) as exc:
            raise self._translated(exc, f"query {name!r}") from exc
        return records

    def execute_read(self, work: Callable[[neo4j.ManagedTransaction], T]) -> T:
        """Run ``work(tx)`` in a retryable read transaction.

        Driver and server errors that escape the driver's retries are translated as in
        :meth:`read`; whatever else ``work`` raises passes through unchanged, an
        ``OSError`` too (the driver reports socket failures as its own errors, so an
        ``OSError`` here is ``work``'s, e.g. reading a spill file).
        """
        self.ensure_reachable()
        try:
            return self.session().execute_read(work)
        except _DRIVER_ERRORS as exc:
            raise self._translated(exc, "a read transaction") from exc

    def execute_write(self, work: Callable[[neo4j.ManagedTransaction], T]) -> T:
        """Run ``work(tx)`` in a retryable write transaction (all of it commits, or none).

        Errors are translated as in :meth:`execute_read`.
        """
        self.ensure_reachable()
        try:
            return self.session().execute_write(work)
        except _DRIVER_ERRORS as exc:
            raise self._translated(exc, "a write transaction") from exc

    def ensure_schema(self) -> None:
        """Create the constraints and indexes of ``schema.cypher`` (idempotent, once per handle).

        A database that has them all, online, and none of those the file drops, costs one
        read (``schema-state``), not a statement each: every command's first query pays
        this. Jobs written before versions are brought up to date (``migrate-versions``).
        Errors are translated as in :meth:`read`.
        """
        self.ensure_reachable()
        with self._schema_lock:
            if self._schema_ready:
                return
            try:
                with self.driver.session(database=self.connection.database) as session:
                    if not _schema_in_place(session):
                        for statement in cypher.statements("schema"):
                            session.run(statement).consume()
                        session.run("CALL db.awaitIndexes(300)").consume()
                    session.run(cypher.query("migrate-versions")).consume()
            except (*_DRIVER_ERRORS, OSError) as exc:
                raise self._translated(exc, "the schema set-up") from exc
            self._schema_ready = True

    def ensure_reachable(self) -> None:
        """Check, once per handle, that the server answers and accepts the credentials.

        Later calls return at once. A server that goes away after that is retried by the
        driver for up to 30 s, as any transient failure.

        Raises
        ------
        ServerUnavailableError
            If it does not.
        """
        if self._reached:
            return
        try:
            self.driver.verify_connectivity()
        except (*_DRIVER_ERRORS, OSError) as exc:
            raise self._translated(exc, "the connection check") from exc
        self._reached = True

    def _translated(self, exc: Exception, doing: str) -> EpmtGraphError:
        """The project's error for a driver or server error ``exc`` met while ``doing``."""
        uri = self.connection.uri
        if isinstance(exc, neo4j.exceptions.AuthError):
            return ServerUnavailableError(
                f"Neo4j at {uri} refused the user name or password ({_line(exc.message)}); "
                "check NEO4J_USER and NEO4J_PASSWORD"
            )
        if isinstance(exc, _UNREACHABLE):
            return ServerUnavailableError(
                f"cannot reach Neo4j at {uri} ({_line(str(exc))}); start the local server "
                "with `epmt-graph server start`, or set NEO4J_URI (and NEO4J_PASSWORD) to "
                "a running server"
            )
        if isinstance(exc, neo4j.exceptions.Neo4jError):
            return DatabaseError(f"Neo4j at {uri} failed {doing}: {exc.code}: {_line(exc.message)}")
        return DatabaseError(
            f"the Neo4j driver failed {doing} on {uri}: {type(exc).__name__}: {_line(str(exc))}"
        )

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


def _schema_in_place(session: neo4j.Session) -> bool:
    """Whether every index and constraint of ``schema.cypher`` is there and online, and none
    of those it drops."""
    created, dropped = cypher.schema_names()
    states = {row["name"]: row["state"] for row in session.run(cypher.query("schema-state"))}
    return all(states.get(name) == "ONLINE" for name in created) and not dropped & states.keys()


def _records(result: neo4j.Result) -> list[neo4j.Record]:
    """Every record of ``result``: :meth:`Graph.read`'s result transformer, which runs inside
    the transaction (a transient error there makes the driver run it again)."""
    return list(result)


def default_connection() -> Connection:
    """The database ``NEO4J_URI`` names, else the local server's.

    Raises
    ------
    ConfigError
        If ``NEO4J_URI`` is malformed.
    ServerError
        If no URI is set and no local server was started.
    """
    env = connection_from_env()
    if env is not None:
        return env
    return LocalServer(server_home()).connection(database=database_from_env())


def _line(text: str | None) -> str:
    r"""``text`` on one line (a driver message may span several).

    Examples
    --------
    >>> _line("Couldn't connect to a:1:\nFailed  to establish")
    "Couldn't connect to a:1: Failed to establish"
    """
    return " ".join((text or "").split())


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
