"""Process queries: ``get_procs`` and friends, over ``processes.cypher``."""

from __future__ import annotations

from typing import Any

from epmt_graph.api.formats import check_fmt, render
from epmt_graph.api.params import condition, hosts_param, jobids, orders, tags_param, when_param
from epmt_graph.api.query import ProcessQuery
from epmt_graph.db import Graph, default_graph

__all__ = ["get_procs", "process_query"]


def process_query(
    jobs: Any = None,
    tags: Any = None,
    fltr: Any = None,
    order: Any = None,
    offset: int = 0,
    limit: int | None = None,
    when: Any = None,
    hosts: Any = None,
    exact_tag_only: bool = False,
    *,
    graph: Graph | None = None,
) -> ProcessQuery:
    """``get_procs``'s arguments as a lazy :class:`ProcessQuery` (nothing runs yet)."""
    graph = graph or default_graph()
    ids = jobids(graph, jobs, required=False)
    tag_alternatives = tags_param(tags, exact_tag_only=exact_tag_only)
    host_names = hosts_param(hosts)
    return ProcessQuery(
        graph=graph,
        job_ids=tuple(ids),
        tags=None if tag_alternatives is None else tuple(tag_alternatives),
        condition=condition(fltr),
        when=when_param(graph, ids, when),
        hosts=None if host_names is None else tuple(host_names),
        order=orders(order),
        skip=offset,
        limit=limit or None,
    )


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
    exact_tag_only: bool = False,
    *,
    graph: Graph | None = None,
) -> Any:
    """Processes of jobs, selected and ordered as in EPMT's ``get_procs``.

    Parameters
    ----------
    jobs : job ids, a comma-separated string, a list, a DataFrame, dicts, Job records or
        a query; None means every loaded job
    tags : str, dict or list of them, optional
        ``'k:v;k2:v2'`` or a dict: all pairs must match; a list: any of them; ``''`` or
        ``{}``: untagged processes only. Values compare as strings.
    fltr : condition, optional
        An expression such as ``(eq.Process.duration > 1e6) & (eq.Process.numtids > 1)``.
        Strings are refused.
    order : field, ``eq.desc(field)`` or a list of up to three, optional
        Default: by start time.
    offset, limit : int, optional
        Paging; ``limit=0`` or None means no limit.
    when : datetime, ``'mm/dd/YYYY HH:MM'`` (in each job's zone) or a Process, optional
        Processes running at that time (or overlapping that process).
    hosts : list of str or a comma-separated string, optional
    fmt : {'dict', 'terse', 'pandas', 'orm'}
        ``orm`` gives a lazy :class:`ProcessQuery`.
    exact_tag_only : bool
        A tag matches only if the process has no other pairs.

    Examples
    --------
    >>> import epmt_graph.api as eq
    >>> q = eq.get_procs(["685000", "685003", "685016"], fltr=eq.Process.duration > 1000000,
    ...                  order=eq.desc(eq.Process.duration), fmt="orm")  # doctest: +SKIP
    >>> q.count(), q[0].duration  # doctest: +SKIP
    (630, 7005558348)
    """
    check_fmt(fmt)
    query = process_query(
        jobs, tags, fltr, order, offset, limit, when, hosts, exact_tag_only, graph=graph
    )
    if fmt == "orm":
        return query
    return render(query.rows(), "process", fmt, query.graph)
