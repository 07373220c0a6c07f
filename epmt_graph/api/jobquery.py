"""The lazy job query behind ``get_jobs(fmt='orm')``.

A :class:`JobQuery` is an immutable description of a selection of jobs; nothing runs until
it is counted, indexed, sliced or iterated. ``filter`` and ``order_by`` return new queries.
It can be passed back as ``jobs=`` to other calls (:meth:`JobQuery.jobids`).

Times (EPMT's ``when``, ``before``, ``after``) are kept as :data:`Moment` s: an instant, or a
naive wall-clock time that each job reads in its own zone, as EPMT compares naive times
with a job's stored local times.

Examples
--------
>>> from epmt_graph.api.models import Job
>>> q = JobQuery(graph=None, job_ids=("685000", "685003", "685016"))
>>> p = q.order_by(Job.start.desc()).params()
>>> p["jobids"], p["order"], p["skip"]
(['685000', '685003', '685016'], [{'f': 'start', 'l': None, 'i': None, 'desc': True}], 0)
>>> q.filter(Job.exitcode != 0).params()["filter"]
[[{'f': 'exitcode', 'l': None, 'i': None, 'op': '<>', 'v': 0}]]
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from numbers import Real
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from epmt_graph.api.expr import Condition, Order, field_value, orders
from epmt_graph.api.models import Job
from epmt_graph.api.paging import NO_LIMIT, Paged
from epmt_graph.api.rows import job_row, tags_dict
from epmt_graph.api.zones import has_wall_clock, job_zones, localized
from epmt_graph.db import Graph
from epmt_graph.errors import QueryError

__all__ = ["JobQuery", "Moment", "Window", "moment"]

_WALL_CLOCK = "%m/%d/%Y %H:%M"
_JSON_PROPERTY = {"annotations": "annotations_json", "analyses": "analyses_json"}

#: An instant (int microseconds since the epoch, UTC) or a naive wall-clock datetime.
Moment = int | dt.datetime


def moment(value: Any, name: str, *, now: dt.datetime | None = None) -> Moment | None:
    """EPMT's ``before``/``after``/``when`` value as a :data:`Moment` (None: no bound).

    A naive datetime or a ``'mm/dd/YYYY HH:MM'`` string is a wall-clock time (read in each
    job's zone); an aware datetime is an instant; a positive number is a Unix timestamp; zero
    or a negative number is that many days before ``now`` (default: the current time).

    Examples
    --------
    >>> moment("06/15/2019 07:53", "before")
    datetime.datetime(2019, 6, 15, 7, 53)
    >>> moment(1560599580, "after")
    1560599580000000
    >>> moment(-1, "before", now=dt.datetime(2019, 6, 16, tzinfo=dt.UTC))
    1560556800000000
    >>> moment("", "before") is None
    True
    """
    if value is None or (isinstance(value, str) and not value):
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.strptime(value, _WALL_CLOCK)
        except ValueError as exc:
            raise QueryError(f"{name}={value!r} is not of the form 'mm/dd/YYYY HH:MM'") from exc
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is None else int(field_value(value))
    if isinstance(value, Real) and not isinstance(value, bool):
        number = float(value)
        if number > 0:
            return int(number) * 1_000_000
        now = now or dt.datetime.now(dt.UTC)
        return int(field_value(now + dt.timedelta(days=number)))
    raise QueryError(
        f"{name} must be a datetime, a 'mm/dd/YYYY HH:MM' string, a Unix timestamp or a "
        f"negative number of days, not {value!r}"
    )


@dataclass(frozen=True)
class Window:
    """When the selected jobs ran: ``when`` (a moment, or a job id: overlapping that job),
    ``before`` (ended by) and ``after`` (started from)."""

    when: Moment | str | None = None
    before: Moment | None = None
    after: Moment | None = None

    def param(self, graph: Graph) -> dict[str, Any]:
        """The ``$window`` parameter; wall-clock times are resolved per zone (one query)."""
        zones: list[str] = []

        def time(value: Moment | None) -> dict[str, Any] | None:
            if value is None:
                return None
            if isinstance(value, int):
                return {"instant": value, "local": None}
            if not zones:
                zones.extend(record["zone"] for record in graph.read("jobs-zones"))
            local = {z: field_value(value.replace(tzinfo=ZoneInfo(z))) for z in zones}
            return {"instant": None, "local": local}

        start, end = self._span(graph)
        return {
            "whenStart": time(start),
            "whenEnd": time(end),
            "before": time(self.before),
            "after": time(self.after),
        }

    def _span(self, graph: Graph) -> tuple[Moment | None, Moment | None]:
        if not isinstance(self.when, str):
            return self.when, self.when
        records = graph.read("jobs-by-id", jobids=[self.when])
        if not records:
            raise QueryError(f"when={self.when!r}: no such job is loaded")
        return int(records[0]["j"]["start"]), int(records[0]["j"]["end"])


def _text(value: Any) -> str:
    """A JSON value as text: strings as they are, anything else as canonical JSON."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _contains(have: Mapping[str, Any], want: Mapping[Any, Any]) -> bool:
    """Whether ``have`` holds every key of ``want`` with an equal value, compared as text."""
    return all(
        str(key) in have and _text(have[str(key)]) == _text(value) for key, value in want.items()
    )


@dataclass(frozen=True)
class JobQuery(Paged[Job]):
    """Jobs selected by ids, tags, a condition, time, hosts, annotations and analyses;
    ordered; paged. Attributes mirror ``get_jobs``'s arguments, already normalised.

    ``job_ids=None`` ranges over every loaded job. ``annotations``/``analyses``: ``{}``
    selects jobs with none; otherwise every key must be present with the value (as text).
    """

    noun: ClassVar[str] = "job"

    graph: Graph
    job_ids: tuple[str, ...] | None = None
    tags: tuple[dict[str, Any], ...] | None = None
    condition: Condition | None = None
    window: Window = field(default_factory=Window)
    hosts: tuple[str, ...] | None = None
    annotations: Mapping[str, Any] | None = None
    analyses: Mapping[str, Any] | None = None
    order: tuple[Order, ...] = ()
    skip: int = 0
    limit: int | None = None

    def params(self, *, paged: bool = True, full: bool = True) -> dict[str, Any]:
        """The parameters of ``jobs.cypher`` (without paging: of ``jobs-count.cypher``).

        Resolving wall-clock times and annotation/analyses filters may read the graph.
        """
        empty, within = self._metadata_filters()
        params: dict[str, Any] = {
            "jobids": None if self.job_ids is None else list(self.job_ids),
            "tags": None if self.tags is None else list(self.tags),
            "filter": self._filter(),
            "window": self.window.param(self.graph),
            "hosts": None if self.hosts is None else list(self.hosts),
            "emptyJson": empty,
            "within": within,
        }
        if paged:
            params["order"] = [o.spec() for o in self.order] or [{"f": "start", "desc": False}]
            params["skip"] = self.skip
            params["limit"] = NO_LIMIT if self.limit is None else self.limit
            params["full"] = full
        return params

    def _filter(self) -> list[list[dict[str, Any]]]:
        """The ``$filter`` parameter: naive datetimes read in each job's zone (one query;
        two for every job)."""
        if self.condition is None:
            return [[]]
        dnf = self.condition.dnf()
        if has_wall_clock(dnf):
            ids = self.job_ids
            if ids is None:
                ids = tuple(record["jobid"] for record in self.graph.read("job-ids"))
            dnf = localized(dnf, job_zones(self.graph, list(ids)))
        return dnf

    def _metadata_filters(self) -> tuple[list[str], list[str] | None]:
        empty: list[str] = []
        within: set[str] | None = None
        for name, wanted in (("annotations", self.annotations), ("analyses", self.analyses)):
            if wanted is None:
                continue
            prop = _JSON_PROPERTY[name]
            if not wanted:
                empty.append(prop)
                continue
            ids = None if self.job_ids is None else list(self.job_ids)
            records = self.graph.read("jobs-metadata", jobids=ids, prop=prop)
            found = {r["jobid"] for r in records if _contains(json.loads(r["json"]), wanted)}
            within = found if within is None else within & found
        return empty, None if within is None else sorted(within)

    def filter(self, condition: Condition) -> JobQuery:
        """A new query that also requires ``condition``."""
        both = condition if self.condition is None else self.condition & condition
        return replace(self, condition=both)

    def order_by(self, *order: Order) -> JobQuery:
        """A new query ordered by ``order`` (fields or ``eq.desc(field)``)."""
        return replace(self, order=orders(list(order)))

    def count(self) -> int:
        """How many jobs the query selects (one count query; nothing fetched)."""
        (record,) = self.graph.read("jobs-count", **self.params(paged=False))
        total = max(0, int(record["n"]) - self.skip)
        return total if self.limit is None else min(total, self.limit)

    def summaries(self) -> list[dict[str, Any]]:
        """``jobid``, ``tags`` (a dict), ``start`` (µs), ``duration``, ``cpu_time`` and
        ``num_procs`` of the selected jobs, in order: one light query."""
        records = self.graph.read("jobs", **self.params(full=False))
        out = []
        for record in records:
            row = dict(record["j"])
            row["tags"] = tags_dict(row.pop("tag_pairs", None) or [])
            out.append(row)
        return out

    def jobids(self) -> list[str]:
        """The ids of the selected jobs, in order (so the query can serve as ``jobs=``)."""
        return [str(row["jobid"]) for row in self.summaries()]

    def rows(self, *, ids_only: bool = False) -> list[dict[str, Any]]:
        """The selected jobs as EPMT field dicts, ``proc_sums`` nested (one query); with
        ``ids_only``, each only ``{"jobid": ...}`` (from the light query)."""
        if ids_only:
            return [{"jobid": jobid} for jobid in self.jobids()]
        return [job_row(r["j"]) for r in self.graph.read("jobs", **self.params())]

    def all(self) -> list[Job]:
        """The selected jobs as records."""
        return [Job(row, self.graph) for row in self.rows()]

    def __repr__(self) -> str:
        jobs = "all" if self.job_ids is None else list(self.job_ids)
        return f"<JobQuery jobs={jobs} skip={self.skip} limit={self.limit}>"
