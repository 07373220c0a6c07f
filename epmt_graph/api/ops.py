"""Operations: the processes of jobs that share a tag. ``Operation`` and ``get_ops``.

An :class:`Operation` is lazy like EPMT's: its processes are a
:class:`~epmt_graph.api.query.ProcessQuery`, and its extent (start, finish, duration,
intervals) and ``proc_sums`` each come from one aggregating named query the first time
they are needed (``op-spans``, ``ops-metrics``). :func:`get_ops` answers for all its
operations with a fixed number of queries, never one per operation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from epmt_graph.api.durations import Extent, check_method, merged, op_duration, spans_of
from epmt_graph.api.formats import check_fmt, records, render
from epmt_graph.api.models import Process
from epmt_graph.api.opmetrics import (
    JobInfo,
    job_infos,
    metric_groups,
    op_metric_rows,
    op_metrics,
    summed,
)
from epmt_graph.api.params import jobids, tags_param
from epmt_graph.api.query import ProcessQuery
from epmt_graph.api.rows import local_time, process_rows
from epmt_graph.api.tags import jobs_proc_tags, rank_keys, tag_list, tag_values, unique_tags
from epmt_graph.db import Graph, default_graph
from epmt_graph.errors import QueryError
from epmt_graph.schema import parse_tags

__all__ = ["Operation", "get_ops"]

_SUM_KEYS_SKIPPED = ("job", "jobid", "tags")


def _one_tag(tags: Any) -> dict[str, Any] | list[dict[str, Any]] | None:
    """EPMT's ``Operation`` tags: a list stays a list of dicts, one tag becomes a dict."""
    if tags is None or isinstance(tags, list):
        return None if tags is None else tag_list(tags)
    if isinstance(tags, str):
        return dict(parse_tags(tags))
    if isinstance(tags, Mapping):
        return dict(tags)
    raise QueryError(f"an operation's tag is a 'k:v;k2:v2' string, a dict or a list, not {tags!r}")


class Operation:
    """The processes of jobs whose tags hold all the pairs of ``tags`` (any of them, for a
    list), as EPMT's ``Operation``.

    Parameters
    ----------
    jobs : jobs in any form ``get_jobs`` accepts; empty means every loaded job
    tags : str, dict or list of them
        ``{'op': 'hsmget'}`` or ``'op:hsmget'``; a list makes one operation of several tags.
    exact_tag_only : bool
        A process belongs only if it has no other pairs.
    op_duration_method : {'sum', 'sum-minus-overlap', 'finish-minus-start'}
        How :attr:`duration` is computed (see :mod:`epmt_graph.api.opmetrics`).

    Attributes
    ----------
    jobs : list of str
        The loaded jobs among those given, by start time.
    tags : dict or list of dict
    exact_tag_only : bool
    op_duration_method : str

    Raises
    ------
    QueryError
        If none of the jobs is loaded, or a tag or method is malformed.

    Examples
    --------
    >>> op = Operation(["685000"], {"op": "timavg"})
    >>> op.processes.count(), op.duration
    (57, 41388496.0)
    """

    graph: Graph
    jobs: list[str]
    tags: dict[str, Any] | list[dict[str, Any]] | None
    exact_tag_only: bool
    op_duration_method: str
    _zones: dict[str, str]
    _infos: list[JobInfo]
    _extents: list[Extent] | None
    _spanned: bool
    _sums: dict[str, Any] | None
    _process_rows: list[dict[str, Any]] | None

    def __init__(
        self,
        jobs: Any,
        tags: Any,
        exact_tag_only: bool = False,
        op_duration_method: str = "sum",
        *,
        graph: Graph | None = None,
    ) -> None:
        graph = graph or default_graph()
        infos = job_infos(graph, jobids(graph, jobs, required=False))
        if not infos:
            raise QueryError(f"an operation needs loaded jobs; none of {jobs!r} is loaded")
        self._setup(graph, infos, tags, exact_tag_only, op_duration_method)

    def _setup(
        self, graph: Graph, infos: list[JobInfo], tags: Any, exact: bool, method: str
    ) -> None:
        self.graph = graph
        self._infos = infos
        self.jobs = [info.jobid for info in infos]
        self._zones = {info.jobid: info.tz for info in infos}
        self.tags = _one_tag(tags)
        self.exact_tag_only = exact
        self.op_duration_method = check_method(method)
        self._extents, self._spanned, self._sums, self._process_rows = None, False, None, None

    @classmethod
    def _of(
        cls,
        graph: Graph,
        infos: list[JobInfo],
        tags: Any,
        exact: bool,
        method: str,
        known: tuple[list[Extent], bool, dict[str, Any]] | None = None,
    ) -> Operation:
        """An operation of loaded jobs; ``known``: its extents, whether they hold spans,
        and its sums, when fetched together with other operations'."""
        op = cls.__new__(cls)
        op._setup(graph, infos, tags, exact, method)
        if known is not None:
            op._extents, op._spanned, op._sums = known
        return op

    def __repr__(self) -> str:
        return f"<Operation tags={self.tags!r} jobs={self.jobs!r}>"

    def _tags_param(self) -> list[dict[str, Any]] | None:
        if self.tags is None:
            return None
        return tags_param(self.tags, exact_tag_only=self.exact_tag_only)

    def _extents_with(self, spans: bool) -> list[Extent]:
        if self._extents is None or (spans and not self._spanned):
            found = self.graph.read(
                "op-spans", jobids=self.jobs, tags=self._tags_param(), spans=spans
            )
            self._extents = [Extent.of_row(r) for r in found]
            self._spanned = spans
        return self._extents

    def _local(self, micros: int, jobid: str) -> dt.datetime | None:
        return local_time(micros, self._zones[jobid])

    @property
    def processes(self) -> ProcessQuery[Process]:
        """The operation's processes, as a lazy query (by start time); its jobs are loaded."""
        alternatives = self._tags_param()
        return ProcessQuery(
            graph=self.graph,
            job_ids=tuple(self.jobs),
            record=Process,
            tags=None if alternatives is None else tuple(alternatives),
        )

    @property
    def start(self) -> dt.datetime | None:
        """When its first process started (job-local time); None without processes."""
        extents = self._extents_with(spans=False)
        if not extents:
            return None
        first = min(extents, key=lambda e: e.start)
        return self._local(first.start, first.jobid)

    @property
    def finish(self) -> dt.datetime | None:
        """When its last process ended (job-local time); None without processes."""
        extents = self._extents_with(spans=False)
        if not extents:
            return None
        last = max(extents, key=lambda e: e.end)
        return self._local(last.end, last.jobid)

    @property
    def intervals(self) -> tuple[tuple[dt.datetime | None, dt.datetime | None], ...]:
        """The periods it ran: the union of its processes' [start, end], in order."""
        spans = spans_of(self._extents_with(spans=True))
        return tuple(
            (self._local(start, start_job), self._local(end, end_job))
            for start, end, start_job, end_job in merged(spans)
        )

    def contiguous(self) -> bool:
        """Whether it ran in one interval."""
        return len(self.intervals) == 1

    def num_runs(self) -> int:
        """How many intervals it ran in."""
        return len(self.intervals)

    @property
    def duration(self) -> float:
        """Its duration in microseconds, by :attr:`op_duration_method`."""
        spans = self.op_duration_method == "sum-minus-overlap"
        return op_duration(self._extents_with(spans=spans), self.op_duration_method)

    @property
    def proc_sums(self) -> dict[str, Any]:
        """Metrics summed over its processes tag by tag (a process carrying two of the tags
        counts twice, as in EPMT), with ``num_procs``, ``numtids``, ``cpu_time`` and
        :attr:`duration`."""
        if self._sums is None:
            rows = op_metrics(self.graph, self._infos, self.tags, False, True, "sum")
            self._sums = summed(rows or [], ["tags"])
        return {**self._sums, "duration": self.duration}

    def to_dict(self, full: bool = False) -> dict[str, Any]:
        """The operation as EPMT's dict: ``jobs``, ``tags``, ``exact_tag_only``,
        ``op_duration_method``, ``duration``, ``proc_sums``, ``start``, ``finish``; with
        ``full``, also ``intervals``, ``contiguous``, ``num_runs`` and ``processes`` (as
        ``get_procs(fmt='dict')`` rows)."""
        self._extents_with(spans=full or self._spanned)
        out: dict[str, Any] = {
            "jobs": list(self.jobs),
            "tags": self.tags,
            "exact_tag_only": self.exact_tag_only,
            "op_duration_method": self.op_duration_method,
            "duration": self.duration,
            "proc_sums": self.proc_sums,
            "start": self.start,
            "finish": self.finish,
        }
        if full:
            intervals = self.intervals
            rows = self._process_rows
            if rows is None:
                rows = self.processes.rows()
            out |= {
                "intervals": intervals,
                "contiguous": len(intervals) == 1,
                "num_runs": len(intervals),
                "processes": render([dict(r) for r in rows], "process", "dict", self.graph),
            }
        return out


def _expanded(graph: Graph, ids: list[str], tags: Any) -> list[Any]:
    """EPMT's tag expansion: no tags means the lowest-cardinality key; a bare key such as
    ``'op'`` means one tag per value it takes in the jobs."""
    known: list[dict[str, Any]] | None = None

    def job_tags() -> list[dict[str, Any]]:
        nonlocal known
        if known is None:
            known = unique_tags(t for job in jobs_proc_tags(graph, ids) for t in job)
        return known

    if not tags:
        ranked = rank_keys(job_tags())
        tags = ranked[:1]
    out: list[Any] = []
    for tag in tags if isinstance(tags, list) else [tags]:
        if isinstance(tag, str) and ":" not in tag:
            out.extend({tag: value} for value in tag_values(job_tags()).get(tag, []))
        else:
            out.append(tag)
    return out


def _each(
    graph: Graph,
    infos: list[JobInfo],
    tags: list[dict[str, Any]],
    exact: bool,
    method: str,
    full: bool,
) -> list[Operation]:
    """One operation per tag, those with processes, from at most three queries in all."""
    groups = metric_groups(graph, infos, tags, exact)
    sum_groups = metric_groups(graph, infos, tags, False) if exact else groups
    rows: dict[int, list[dict[str, Any]]] = {}
    for group, row in zip(sum_groups, op_metric_rows(sum_groups, tags, "sum"), strict=True):
        rows.setdefault(group.tag, []).append(row)
    ops = []
    for i, tag in enumerate(tags):
        extents = [g.extent for g in groups if g.tag == i]
        if extents:
            sums = summed(rows.get(i, []), _SUM_KEYS_SKIPPED)
            ops.append(Operation._of(graph, infos, tag, exact, method, (extents, True, sums)))
    if full and ops:
        _attach_processes(graph, ops, exact)
    return ops


def _attach_processes(graph: Graph, ops: list[Operation], exact: bool) -> None:
    """Give each operation its processes' rows, all fetched by one query."""
    alternatives = tags_param([op.tags for op in ops], exact_tag_only=exact)
    found: list[list[dict[str, Any]]] = [[] for _ in ops]
    records = graph.read("ops-processes", jobids=ops[0].jobs, tags=alternatives)
    for r, row in zip(records, process_rows([r["p"] for r in records]), strict=True):
        for i in r["ops"]:
            found[i].append(row)
    for op, rows in zip(ops, found, strict=True):
        op._process_rows = rows


def get_ops(
    jobs: Any,
    tags: Any = None,
    exact_tag_only: bool = False,
    combine: bool = False,
    fmt: str = "dict",
    op_duration_method: str = "sum",
    full: bool = False,
    *,
    graph: Graph | None = None,
) -> Any:
    """The operations of jobs, one per tag (EPMT's ``get_ops``).

    Parameters
    ----------
    jobs : one or more jobs, in any form ``get_jobs`` accepts (not empty)
    tags : str, dict or list of them, optional
        A bare key such as ``'op'`` stands for one tag per value it takes in the jobs;
        none: the key with the fewest values (usually ``op``), so expanded.
    exact_tag_only : bool
    combine : bool
        One operation of all the tags together.
    fmt : {'dict', 'pandas', 'orm'}
        ``orm`` gives :class:`Operation` objects; ``terse`` is taken as ``dict``.
    op_duration_method : {'sum', 'sum-minus-overlap', 'finish-minus-start'}
    full : bool
        Also ``intervals``, ``contiguous``, ``num_runs`` and ``processes`` in dicts.

    Returns
    -------
    list of dict, DataFrame or list of Operation
        Tags without processes give no operation (EPMT 5.0.1 fails on them), and so do
        jobs without process tags.

    Raises
    ------
    QueryError
        No jobs given or none loaded; a malformed tag, method or format.

    Examples
    --------
    >>> ops = get_ops(["685000", "685003"], tags=["op:timavg", "op:ncks"])
    >>> [op["duration"] for op in ops]
    [67847274.0, 4787122.0]
    """
    check_fmt(fmt)
    check_method(op_duration_method)
    graph = graph or default_graph()
    ids = jobids(graph, jobs)
    infos = job_infos(graph, ids)
    if not infos:
        raise QueryError(f"none of the jobs {ids} is loaded")
    wanted = _expanded(graph, ids, tags)
    if not wanted:
        ops: list[Operation] = []
    elif combine:
        ops = [Operation._of(graph, infos, wanted, exact_tag_only, op_duration_method)]
    else:
        ops = _each(graph, infos, tag_list(wanted), exact_tag_only, op_duration_method, full)
    if fmt == "orm":
        return ops
    return records([op.to_dict(full=full) for op in ops], fmt)
