"""Job queries: ``get_jobs``, ``conv_jobs``, ``get_job_tags``, ``get_job_status``,
``get_features``, over ``jobs.cypher`` and the lazy :class:`JobQuery`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from epmt_graph.api.expr import orders
from epmt_graph.api.formats import check_fmt, render_query
from epmt_graph.api.jobquery import JobQuery, Moment, Window, moment
from epmt_graph.api.models import Job
from epmt_graph.api.params import condition, hosts_param, jobids, paging, single_jobid, tags_param
from epmt_graph.api.rows import job_row
from epmt_graph.db import Graph, default_graph
from epmt_graph.errors import QueryError, UnknownJobError
from epmt_graph.schema import parse_tags

__all__ = [
    "FEATURES_BLACKLIST",
    "conv_jobs",
    "get_features",
    "get_job_status",
    "get_job_tags",
    "get_jobs",
]

#: Columns that are not features (EPMT's ``outlier_features_blacklist``).
FEATURES_BLACKLIST = frozenset(
    {
        "env_dict",
        "tags",
        "info_dict",
        "env_changes_dict",
        "annotations",
        "analyses",
        "jobid",
        "jobname",
        "user",
        "all_proc_tags",
        "created_at",
        "modified_at",
        "start",
        "end",
    }
)


def _job_ids(graph: Graph, jobs: Any) -> tuple[str, ...] | None:
    """None (every job) for EPMT's "no jobs given"; else the ids named, in order (none for
    an empty DataFrame, as in EPMT)."""
    if jobs is None or (isinstance(jobs, str | list | tuple | set) and len(jobs) == 0):
        return None
    if isinstance(jobs, pd.DataFrame) and jobs.empty:
        return ()
    return tuple(jobids(graph, jobs))


def _when(when: Any) -> Moment | str | None:
    if isinstance(when, Job):
        return str(when.jobid)
    return moment(when, "when")


def _key_values(value: Any, name: str) -> Mapping[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return parse_tags(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise QueryError(f"{name} must be a dict or a 'k:v;k2:v2' string, not {value!r}")


def get_jobs(
    jobs: Any = None,
    tags: Any = None,
    fltr: Any = None,
    order: Any = None,
    limit: Any = None,
    offset: Any = 0,
    when: Any = None,
    before: Any = None,
    after: Any = None,
    hosts: Any = None,
    fmt: str = "dict",
    annotations: Any = None,
    analyses: Any = None,
    merge_proc_sums: bool = True,
    exact_tag_only: bool = False,
    trigger_post_process: bool = True,
    *,
    graph: Graph | None = None,
) -> Any:
    """Jobs selected, ordered and paged as in EPMT's ``get_jobs``.

    Parameters
    ----------
    jobs : job ids, a comma-separated string, a list, a DataFrame, dicts, Job records or
        a query (:class:`JobQuery`, ``ProcessQuery``); None or ``[]`` means every job
    tags : str, dict or list of them, optional
        ``'k:v;k2:v2'`` or a dict: all pairs must match (the job may have more); a list:
        any of them; ``''`` or ``{}``: untagged jobs only. Values compare as strings.
    fltr : condition, optional
        An expression such as ``(eq.Job.exitcode != 0) & (eq.Job.num_procs > 100)``.
        Strings are refused.
    order : field, ``eq.desc(field)`` or a list of up to three, optional
        Default: by start time.
    limit, offset : int, optional
        Paging; ``limit=0`` or None means no limit.
    when : datetime, ``'mm/dd/YYYY HH:MM'`` or a Job record, optional
        Jobs running at that time (read in each job's zone), or overlapping that job.
    before, after : datetime, ``'mm/dd/YYYY HH:MM'``, Unix timestamp or days, optional
        Jobs that ended by / started from that time. Naive datetimes and strings are read
        in each job's zone; zero or a negative number is that many days before now.
    hosts : list of str or a comma-separated string, optional
        Jobs with a process on one of these hosts.
    fmt : {'dict', 'terse', 'pandas', 'orm'}
        ``orm`` gives a lazy :class:`JobQuery`; ``dict`` and ``pandas`` lift the job's
        ``proc_sums`` into top-level fields.
    annotations, analyses : dict or 'k:v;...' string, optional
        Every key must be present with that value (compared as text); ``{}`` selects jobs
        with none.
    merge_proc_sums : bool
        False: ``dict`` and ``pandas`` keep the sums over the job's processes in one
        ``proc_sums`` dict (with ``all_proc_tags``), as EPMT does.
    exact_tag_only : bool
        A tag matches only if the job has no other pairs.
    trigger_post_process : bool
        Accepted and ignored: a loaded job is always post-processed (its sums, tags and
        process tree are written when it is loaded).

    Returns
    -------
    The jobs in the format ``fmt`` (``terse``: job ids).

    Raises
    ------
    QueryError
        For a malformed argument, e.g. a string ``fltr`` (also a ``ValueError``).

    Examples
    --------
    >>> import epmt_graph.api as eq
    >>> eq.get_jobs(["685000", "685003", "685016"], order=eq.desc(eq.Job.start),
    ...             limit=2, offset=1, fmt="terse")
    ['685003', '685000']
    >>> sums = eq.get_jobs("685000", merge_proc_sums=False)[0]["proc_sums"]
    >>> sums["num_procs"], sums["num_threads"]
    (3480, 3668)
    """
    check_fmt(fmt)
    skip, limit = paging(limit, offset)
    graph = graph or default_graph()
    tag_alternatives = tags_param(tags, exact_tag_only=exact_tag_only)
    host_names = hosts_param(hosts)
    query = JobQuery(
        graph=graph,
        job_ids=_job_ids(graph, jobs),
        tags=None if tag_alternatives is None else tuple(tag_alternatives),
        condition=condition(fltr),
        window=Window(
            when=_when(when), before=moment(before, "before"), after=moment(after, "after")
        ),
        hosts=None if host_names is None else tuple(host_names),
        annotations=_key_values(annotations, "annotations"),
        analyses=_key_values(analyses, "analyses"),
        order=orders(order),
        skip=skip,
        limit=limit,
    )
    return render_query(query, "job", fmt, merge_sums=merge_proc_sums)


def conv_jobs(
    jobs: Any,
    fmt: str = "dict",
    merge_sums: bool = True,
    trigger_post_process: bool = True,
    *,
    graph: Graph | None = None,
) -> Any:
    """Jobs given in any form, in the format ``fmt`` (by start time).

    ``merge_sums`` and ``trigger_post_process`` are ``get_jobs``'s ``merge_proc_sums``
    and ``trigger_post_process``.

    Raises
    ------
    QueryError
        If ``jobs`` is empty (EPMT refuses to convert the whole database) or ``fmt`` unknown.
    """
    check_fmt(fmt)
    if jobs is None or (isinstance(jobs, str | list | tuple | set) and len(jobs) == 0):
        raise QueryError("conv_jobs needs a non-empty collection of jobs")
    return get_jobs(jobs, fmt=fmt, merge_proc_sums=merge_sums, graph=graph)


def get_job_tags(
    jobs: Any, tag_filter: Any = "", fold: bool = True, *, graph: Graph | None = None
) -> Any:
    """The distinct tags of jobs (every job for ``[]``), optionally only those matching
    ``tag_filter``.

    Returns
    -------
    dict
        With ``fold=True``: each key with its value, or the set of its values where the
        jobs differ.
    list of dict
        With ``fold=False``: the distinct tags, in job start order.

    Examples
    --------
    >>> tags = get_job_tags(["685000", "685016"])  # a value the jobs differ in: a set
    >>> tags["exp_name"], sorted(tags["exp_component"])
    ('ESM4_historical_D151', ['ocean_annual_rho2_1x1deg', 'ocean_month_rho2_1x1deg'])
    """
    query = get_jobs(jobs, tags=[tag_filter] if tag_filter else None, fmt="orm", graph=graph)
    tags = _unique(row["tags"] for row in query.summaries())
    return _fold(tags) if fold else tags


def _unique(dicts: Iterable[dict[str, str]]) -> list[dict[str, str]]:
    seen: set[frozenset[tuple[str, str]]] = set()
    out = []
    for d in dicts:
        key = frozenset(d.items())
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _fold(dicts: list[dict[str, str]]) -> dict[str, Any]:
    """Each key with its one value, or the set of its values.

    Examples
    --------
    >>> _fold([{"a": "1", "b": "x"}, {"a": "2", "b": "x"}]) == {"a": {"1", "2"}, "b": "x"}
    True
    """
    values: dict[str, set[str]] = {}
    for d in dicts:
        for key, value in d.items():
            values.setdefault(key, set()).add(value)
    return {key: next(iter(v)) if len(v) == 1 else v for key, v in values.items()}


def get_job_status(jobid: Any, *, graph: Graph | None = None) -> dict[str, Any]:
    """A job's status (exit code, exit reason, script name and path), or ``{}``.

    Raises
    ------
    UnknownJobError
        If the job is not loaded (also a ``KeyError``; EPMT fails on ``None`` there).
    QueryError
        If more than one job is named.

    Examples
    --------
    >>> get_job_status("685000")["exit_code"]
    0
    """
    if isinstance(jobid, Job):
        return dict(jobid.info_dict.get("status", {}))
    graph = graph or default_graph()
    ident = single_jobid(graph, jobid)
    records = graph.read("jobs-by-id", jobids=[ident])
    if not records:
        raise UnknownJobError(f"job {ident!r} is not loaded")
    return dict(job_row(records[0]["j"])["info_dict"].get("status", {}))


def get_features(jobs: Any, *, graph: Graph | None = None) -> list[str]:
    """The sorted feature columns of the jobs' ``pandas`` rows (not tags, ids, names, times
    or the other columns of :data:`FEATURES_BLACKLIST`)."""
    frame = get_jobs(jobs, fmt="pandas", graph=graph)
    return sorted(set(frame.columns) - FEATURES_BLACKLIST)
