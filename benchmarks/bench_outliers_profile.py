"""Where our outlier calls spend their time: the round trips to Neo4j, and the Python.

For each call, once, after the timed rounds: every named query it runs through the graph
(with its seconds, wall clock in the caller: Bolt, server and records fetched), and a
``cProfile`` of the whole call, reduced to the functions of most own time. Nothing here is
part of the timed figures.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import neo4j

from epmt_graph import cypher
from epmt_graph.db import Graph

__all__ = ["TimedGraph", "profile_call"]

#: Functions of most own time kept per call.
TOP = 12


class TimedGraph(Graph):
    """``graph`` seen through a recorder of its round trips: statement and seconds each."""

    def __init__(self, graph: Graph) -> None:  # borrows graph's driver and sessions
        self.connection, self.driver, self._graph = graph.connection, graph.driver, graph
        self.trips: list[tuple[str, float]] = []
        self._names = {cypher.query(n): n for n in cypher.names()}

    def session(self) -> neo4j.Session:
        return self._graph.session()

    def ensure_schema(self) -> None:
        self._graph.ensure_schema()

    def close(self) -> None:
        """Nothing to close: the driver and sessions are ``graph``'s."""

    def read(self, name: str, **params: Any) -> list[neo4j.Record]:
        t0 = time.perf_counter()
        try:
            return self._graph.read(name, **params)
        finally:
            self.trips.append((name, time.perf_counter() - t0))

    def _in_tx(self, run_tx: Callable[[Any], Any], work: Callable[[Any], Any]) -> Any:
        """One transaction as one trip, named by the statements it ran (its work's Python,
        usually fetching the records, is part of it)."""
        ran: list[str] = []

        def noting(tx: neo4j.ManagedTransaction) -> Any:
            def run(query: str, parameters: dict[str, Any] | None = None, **kw: Any) -> Any:
                ran.append(self._names.get(query, f"(unnamed) {query[:60]}"))
                return tx.run(query, parameters, **kw)

            return work(SimpleNamespace(run=run))

        t0 = time.perf_counter()
        try:
            return run_tx(noting)
        finally:
            self.trips.append((" + ".join(ran) or "(no statement)", time.perf_counter() - t0))

    def execute_read(self, work: Callable[[neo4j.ManagedTransaction], Any]) -> Any:
        return self._in_tx(self._graph.execute_read, work)

    def execute_write(self, work: Callable[[neo4j.ManagedTransaction], Any]) -> Any:
        return self._in_tx(self._graph.execute_write, work)


def _top(profile: cProfile.Profile) -> list[dict[str, Any]]:
    stats = pstats.Stats(profile, stream=io.StringIO())
    rows = []
    for (path, line, func), (_cc, calls, own, cum, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append(
            {
                "function": f"{path.split('site-packages/')[-1]}:{line}({func})",
                "calls": calls,
                "own_s": round(own, 4),
                "cum_s": round(cum, 4),
            }
        )
    return sorted(rows, key=lambda r: r["own_s"], reverse=True)[:TOP]


def profile_call(graph: Graph, make: Callable[[Graph], Callable[[], Any]]) -> dict[str, Any]:
    """Run ``make(timed_graph)()`` once, timing its round trips; then once under cProfile.

    Returns
    -------
    dict
        ``seconds`` (the call), ``trips`` (count), ``trip_seconds`` (their sum),
        ``python_seconds`` (the rest), ``by_query`` (name: count and seconds) and ``top``
        (the functions of most own time, from the profiled run).
    """
    timed = TimedGraph(graph)
    call = make(timed)
    t0 = time.perf_counter()
    call()
    seconds = time.perf_counter() - t0
    by_query: dict[str, dict[str, float]] = {}
    for name, took in timed.trips:
        entry = by_query.setdefault(name, {"count": 0, "seconds": 0.0})
        entry["count"] += 1
        entry["seconds"] += took
    trip_seconds = sum(took for _, took in timed.trips)
    profiler = cProfile.Profile()
    plain = make(graph)
    profiler.enable()
    plain()
    profiler.disable()
    return {
        "seconds": seconds,
        "trips": len(timed.trips),
        "trip_seconds": trip_seconds,
        "python_seconds": seconds - trip_seconds,
        "by_query": by_query,
        "top": _top(profiler),
    }
