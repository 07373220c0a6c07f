"""The lazy process query behind ``fmt='orm'``.

A :class:`ProcessQuery` is an immutable description of a selection; nothing runs until
it is counted, indexed, sliced or iterated. ``filter`` and ``order_by`` return new
queries. It can be passed back as ``jobs=`` to other calls (its jobs are used).

Examples
--------
>>> from epmt_graph.api.models import Process
>>> q = ProcessQuery(graph=None, job_ids=("685000",), record=Process)
>>> q2 = q.filter(Process.duration > 10).order_by(Process.rchar.desc())
>>> q.condition is None, q2.params()["filter"]
(True, [[{'f': 'duration', 'l': None, 'i': None, 'op': '>', 'v': 10}]])
>>> q2.params()["order"]  # rchar sits in each node's metrics list, at slot 12
[{'f': 'rchar', 'l': 'metrics', 'i': 12, 'desc': True}]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar, TypeVar

from epmt_graph.api.expr import Condition, Order, orders
from epmt_graph.api.paging import NO_LIMIT, Paged
from epmt_graph.api.rows import read_process_pages
from epmt_graph.api.zones import has_wall_clock, job_zones, localized
from epmt_graph.db import Graph

__all__ = ["ProcessQuery"]

R = TypeVar("R")


@dataclass(frozen=True)
class ProcessQuery(Paged[R]):
    """Processes of some jobs, selected by tags, a condition, time, hosts; ordered; paged.

    Attributes mirror ``get_procs``'s arguments, already normalised
    (see :mod:`epmt_graph.api.params`).
    """

    noun: ClassVar[str] = "process"

    graph: Graph
    job_ids: tuple[str, ...]
    record: Callable[[dict[str, Any], Graph], R]
    tags: tuple[dict[str, Any], ...] | None = None
    condition: Condition | None = None
    when: dict[str, dict[str, int]] | None = None
    hosts: tuple[str, ...] | None = None
    order: tuple[Order, ...] = ()
    skip: int = 0
    limit: int | None = None

    @classmethod
    def of_jobs(
        cls, graph: Graph, jobids: list[str], record: Callable[[dict[str, Any], Graph], R]
    ) -> ProcessQuery[R]:
        """Every process of the given jobs, by start time, as ``record(row, graph)`` each."""
        return cls(graph=graph, job_ids=tuple(jobids), record=record)

    def params(self, *, paged: bool = True) -> dict[str, Any]:
        """The parameters of ``processes.cypher`` and ``processes-pages.cypher`` (but
        ``$pageSize``); without paging, those of ``processes-count.cypher``."""
        params: dict[str, Any] = {
            "jobids": list(self.job_ids),
            "tags": None if self.tags is None else list(self.tags),
            "filter": self._filter(),
            "when": self.when,
            "hosts": None if self.hosts is None else list(self.hosts),
        }
        if paged:
            params["order"] = [o.spec() for o in self.order] or [{"f": "start", "desc": False}]
            params["skip"] = self.skip
            params["limit"] = NO_LIMIT if self.limit is None else self.limit
        return params

    def _filter(self) -> list[list[dict[str, Any]]]:
        """The ``$filter`` parameter: naive datetimes read in each job's zone (one query)."""
        if self.condition is None:
            return [[]]
        dnf = self.condition.dnf()
        if has_wall_clock(dnf):
            dnf = localized(dnf, job_zones(self.graph, list(self.job_ids)))
        return dnf

    def filter(self, condition: Condition) -> ProcessQuery[R]:
        """A new query that also requires ``condition``."""
        both = condition if self.condition is None else self.condition & condition
        return replace(self, condition=both)

    def order_by(self, *order: Order) -> ProcessQuery[R]:
        """A new query ordered by ``order`` (fields or ``eq.desc(field)``)."""
        return replace(self, order=orders(list(order)))

    def jobids(self) -> list[str]:
        """The ids of the jobs this query ranges over (so it can serve as ``jobs=``)."""
        return list(self.job_ids)

    def count(self) -> int:
        """How many processes the query selects (one count query; nothing fetched)."""
        (record,) = self.graph.read("processes-count", **self.params(paged=False))
        total = max(0, int(record["n"]) - self.skip)
        return total if self.limit is None else min(total, self.limit)

    def rows(self, *, ids_only: bool = False) -> list[dict[str, Any]]:
        """The selected processes as EPMT field dicts (fetched now, in one query); with
        ``ids_only``, each only ``{"id": ...}``."""
        return read_process_pages(self.graph, "processes-pages", ids_only=ids_only, **self.params())

    def all(self) -> list[R]:
        """The selected processes as records (``record(row, graph)`` each)."""
        return [self.record(row, self.graph) for row in self.rows()]

    def __repr__(self) -> str:
        return f"<ProcessQuery jobs={list(self.job_ids)} {self.params()}>"
