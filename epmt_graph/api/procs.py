"""Process queries: ``get_procs`` and friends, over ``processes.cypher``.

Also ``conv_procs`` (any collection of processes in any format), ``timeline``,
``procs_histogram`` (``procs-histogram.cypher``) and ``get_thread_metrics``
(``process-threads.cypher``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from epmt_graph.api.expr import Field, orders
from epmt_graph.api.formats import check_fmt, ids_only, render, render_query
from epmt_graph.api.models import PROCESS_FIELDS, Process
from epmt_graph.api.params import condition, hosts_param, jobids, paging, tags_param, when_param
from epmt_graph.api.query import ProcessQuery
from epmt_graph.db import Graph, default_graph
from epmt_graph.errors import QueryError, UnknownProcessError
from epmt_graph.schema import (
    PACKED_SLOTS,
    PAPIEX_PROCESS_COLUMNS,
    row_properties,
    thread_rows,
)

__all__ = [
    "conv_procs",
    "get_procs",
    "get_thread_metrics",
    "procs_histogram",
    "timeline",
]

#: Attributes a histogram may group by or sum: the process fields (EPMT's ``host_id``
#: too), except the tags, which are dicts.
_HISTOGRAM_FIELDS = {
    **{name: prop for name, prop in PROCESS_FIELDS.items() if name != "tags"},
    "host_id": "host",
}
#: The papiex per-process columns EPMT's thread frames carry, and where a node keeps them.
_THREAD_PROCESS_COLUMNS = PAPIEX_PROCESS_COLUMNS
#: Typed handles on two process fields (the class attributes are set dynamically).
_START = Field("Process", "start", PROCESS_FIELDS["start"])
_ID = Field("Process", "id", PROCESS_FIELDS["id"])


def get_procs(
    jobs: Any = None,
    tags: Any = None,
    fltr: Any = None,
    order: Any = None,
    offset: int = 0,
    limit: int | None = None,
    when: Any = None,
    hosts: Any = None,
    fmt: str = "dict",
    merge_threads_sums: bool = True,
    exact_tag_only: bool = False,
    *,
    graph: Graph | None = None,
) -> Any:
    """Processes of jobs, selected and ordered as in EPMT's ``get_procs``.

    Parameters
    ----------
    jobs : job ids, a comma-separated string, a list, a DataFrame, dicts, Job records or
        a query; None or ``[]`` means every loaded job
    tags : str, dict or list of them, optional
        ``'k:v;k2:v2'`` or a dict: all pairs must match; a list: any of them; ``''`` or
        ``{}``: untagged processes only. Values compare as strings.
    fltr : condition, optional
        An expression such as ``(eq.Process.duration > 1e6) & (eq.Process.numtids > 1)``.
        Strings are refused. A naive datetime is read in each job's zone, as EPMT reads
        it (``eq.Process.start > datetime(2019, 6, 15, 8)``); an aware one is an instant.
    order : field, ``eq.desc(field)`` or a list of up to three, optional
        Default: by start time.
    offset, limit : int, optional
        Paging; ``limit=0`` or None means no limit. Negative or non-integer values are
        refused (:class:`QueryError`) before any query runs.
    when : datetime, ``'mm/dd/YYYY HH:MM'`` (in each job's zone) or a Process, optional
        Processes running at that time (or overlapping that process).
    hosts : list of str or a comma-separated string, optional
    fmt : {'dict', 'terse', 'pandas', 'orm'}
        ``orm`` gives a lazy :class:`ProcessQuery`.
    merge_threads_sums : bool
        False: ``dict`` and ``pandas`` keep the sums over each process's threads (the
        papiex metrics) in one ``threads_sums`` dict, as EPMT does.
    exact_tag_only : bool
        A tag matches only if the process has no other pairs.

    Raises
    ------
    UnknownJobError
        If a job id given names no loaded job (also a ``KeyError``, as EPMT raises).
    QueryError
        For a malformed argument, e.g. a string ``fltr`` (also a ``ValueError``).

    Examples
    --------
    >>> import epmt_graph.api as eq
    >>> q = eq.get_procs(["685000", "685003", "685016"], fltr=eq.Process.duration > 1000000,
    ...                  order=eq.desc(eq.Process.duration), fmt="orm")
    >>> q.count(), q[0].duration
    (630, 7005558348)
    """
    check_fmt(fmt)
    skip, limit = paging(limit, offset)
    graph = graph or default_graph()
    ids = jobids(graph, jobs, required=False, known=True)
    tag_alternatives = tags_param(tags, exact_tag_only=exact_tag_only)
    host_names = hosts_param(hosts)
    query = ProcessQuery(
        graph=graph,
        job_ids=tuple(ids),
        record=Process,
        tags=None if tag_alternatives is None else tuple(tag_alternatives),
        condition=condition(fltr),
        when=when_param(graph, ids, when),
        hosts=None if host_names is None else tuple(host_names),
        order=orders(order),
        skip=skip,
        limit=limit,
    )
    return render_query(query, "process", fmt, merge_sums=merge_threads_sums)


def timeline(
    jobs: Any,
    limit: int = 0,
    fltr: Any = None,
    when: Any = None,
    hosts: Any = None,
    fmt: str = "pandas",
    *,
    graph: Graph | None = None,
) -> Any:
    """Processes of jobs in the order they started (``get_procs`` by ``Process.start``).

    Examples
    --------
    >>> eq.timeline(["685000", "685016"], limit=3)[["jobid", "exename", "pid"]]
        jobid exename   pid
    0  685000    tcsh  6098
    1  685000    tcsh  6099
    2  685000   mkdir  6100
    """
    return get_procs(
        jobs,
        fltr=fltr,
        order=_START,
        limit=limit,
        when=when,
        hosts=hosts,
        fmt=fmt,
        graph=graph,
    )


def _process_ids(procs: Any) -> list[str]:
    """Process ids from ids, a comma-separated string, dicts, records or a DataFrame."""
    if isinstance(procs, pd.DataFrame):
        if procs.empty:
            return []
        if "id" not in procs.columns:
            raise QueryError("a DataFrame of processes needs an 'id' column")
        return [str(i) for i in procs["id"]]
    if isinstance(procs, str):
        return [part.strip() for part in procs.split(",") if part.strip()]
    items = procs if isinstance(procs, Iterable) and not isinstance(procs, Mapping) else [procs]
    out = []
    for item in items:
        if isinstance(item, Process):
            out.append(str(item.id))
        elif isinstance(item, Mapping) and "id" in item:
            out.append(str(item["id"]))
        elif isinstance(item, str):
            out.append(item)
        else:
            raise QueryError(f"cannot read a process id from {item!r} (ids look like '685000:12')")
    return out


def conv_procs(
    procs: Any, fmt: str = "pandas", order: Any = None, *, graph: Graph | None = None
) -> Any:
    """Processes given in any form, in the format ``fmt`` (EPMT's ``conv_procs``).

    Parameters
    ----------
    procs : a process query (``fmt='orm'``), a DataFrame with an ``id`` column, dicts
        with ``id``, Process records, process ids or a comma-separated string of them
    fmt : {'pandas', 'dict', 'terse', 'orm'}
    order : field, ``eq.desc(field)`` or a list of them, optional
        Without it, a query keeps its order and a collection its own order (``orm``:
        by start time).

    Raises
    ------
    QueryError
        If ``procs`` is None or empty: as EPMT, converting the whole database is refused.

    Examples
    --------
    >>> ids = eq.get_procs("685000", fmt="terse")
    >>> eq.conv_procs(ids, fmt="dict")[0]["exename"]
    'tcsh'
    """
    check_fmt(fmt)
    if procs is None or (isinstance(procs, str | list | tuple | set) and not procs):
        raise QueryError(
            "conv_procs needs a non-empty collection of processes (it does not convert "
            "the whole database); select them with get_procs(jobs, ..., fmt='orm')"
        )
    if isinstance(procs, ProcessQuery):
        query, given = (procs.order_by(*orders(order)) if order else procs), None
    else:
        given = list(dict.fromkeys(_process_ids(procs)))
        in_jobs = list(dict.fromkeys(uid.rpartition(":")[0] for uid in given))
        query = ProcessQuery(  # ids of no loaded process select nothing, as in EPMT
            graph=graph or default_graph(),
            job_ids=tuple(in_jobs),
            record=Process,
            condition=_ID.in_(given),
            order=orders(order),
        )
    if fmt == "orm":
        return query
    rows = query.rows(ids_only=ids_only(fmt))
    if given is not None and order is None:
        rank = {uid: i for i, uid in enumerate(given)}
        rows.sort(key=lambda row: rank[row["id"]])
    return render(rows, "process", fmt, query.graph)


def procs_histogram(
    jobs: Any, attr: str = "exename", metric: str = "", *, graph: Graph | None = None
) -> dict[Any, Any]:
    """How often each value of a process attribute occurs (or, with ``metric``, the sum of
    that metric per value) across the processes of jobs (EPMT's ``procs_histogram``).

    Parameters
    ----------
    jobs : jobs in any form ``get_jobs`` accepts; empty means every loaded job
    attr : str
        A process field, e.g. ``'exename'``, ``'path'``, ``'numtids'``, ``'host'``.
    metric : str, optional
        A numeric process field, e.g. ``'cpu_time'``.

    Returns
    -------
    dict
        Values in the order they first occur by start time.

    Raises
    ------
    QueryError
        If ``attr`` or ``metric`` is not a process field (or is ``tags``).
    UnknownJobError
        If a job id given names no loaded job (also a ``KeyError``, as EPMT raises).

    Examples
    --------
    >>> eq.procs_histogram(["685000"], attr="numtids")
    {1: 3410, 4: 59, 2: 11}
    """
    known = ", ".join(sorted(_HISTOGRAM_FIELDS))
    if attr not in _HISTOGRAM_FIELDS or (metric and metric not in _HISTOGRAM_FIELDS):
        raise QueryError(
            f"attr and metric must be process fields ({known}); got {attr!r}, {metric!r}"
        )
    graph = graph or default_graph()
    records = graph.read(
        "procs-histogram",
        jobids=jobids(graph, jobs, required=False, known=True),
        attr=_HISTOGRAM_FIELDS[attr],
        metric=_HISTOGRAM_FIELDS[metric] if metric else None,
        attrAt=PACKED_SLOTS.get(_HISTOGRAM_FIELDS[attr]),
        metricAt=PACKED_SLOTS.get(_HISTOGRAM_FIELDS[metric]) if metric else None,
    )
    return {r["value"]: r["total"] if metric else r["n"] for r in records}


def get_thread_metrics(*processes: Any, graph: Graph | None = None) -> pd.DataFrame:
    """The threads of processes, one row per thread (EPMT's ``get_thread_metrics``).

    Parameters
    ----------
    *processes : Process records or process ids (or one list of them)

    Returns
    -------
    DataFrame
        Each process's papiex thread rows, in the order given: the per-process columns
        (``tags``, ``hostname``, ``exename``, ... , ``numtids``) on its first thread and
        ``''`` on the others (as collated papiex CSV has them), the thread columns
        (``tid``, ``start``, ``end``, ``usertime``, ...), and ``process_pk`` (the process
        id). Indexes restart at 0 for each process, as EPMT concatenates. No processes:
        an empty DataFrame.

    Raises
    ------
    UnknownProcessError
        If a process id names no loaded process (also a ``KeyError`` and a ``ValueError``).

    Examples
    --------
    >>> eq.get_thread_metrics(eq.root("685000", fmt="orm"))[["tid", "usertime"]]
        tid  usertime
    0  6098    315951
    """
    items = processes[0] if processes and isinstance(processes[0], list | tuple) else processes
    ids = _process_ids(items)
    if not ids:
        return pd.DataFrame()
    graph = graph or default_graph()
    records = graph.read("process-threads", ids=ids)
    found = {r["p"]["uid"] for r in records}
    missing = [uid for uid in ids if uid not in found]
    if missing:
        raise UnknownProcessError(f"no process with id {', '.join(map(repr, missing))}")
    frames = []
    blank = dict.fromkeys(_THREAD_PROCESS_COLUMNS, "")
    for r in records:
        node = row_properties(r["p"])
        first = {name: node.get(prop) for name, prop in _THREAD_PROCESS_COLUMNS.items()}
        rows = [{**(blank if i else first), **t} for i, t in enumerate(thread_rows(node))]
        frames.append(pd.DataFrame(rows).assign(process_pk=node["uid"]))
    return pd.concat(frames) if len(frames) > 1 else frames[0]
