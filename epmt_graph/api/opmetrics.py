"""Operation metrics: ``get_op_metrics`` and ``ops_costs``.

One named query (``ops-metrics``) sums every requested tag's processes job by job, in the
database; durations come from :mod:`epmt_graph.api.durations`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from epmt_graph.api.durations import ROW_DURATIONS, Extent, check_method
from epmt_graph.api.formats import check_fmt, records
from epmt_graph.api.params import jobids, tags_param
from epmt_graph.api.tags import jobs_proc_tags, tag_list, unique_tags
from epmt_graph.db import Graph, default_graph
from epmt_graph.errors import QueryError
from epmt_graph.schema import METRIC_SLOTS, PROCESS_METRICS

__all__ = [
    "Group",
    "JobInfo",
    "get_op_metrics",
    "job_infos",
    "metric_groups",
    "op_feature_rows",
    "op_metric_rows",
    "op_metrics",
    "ops_costs",
    "summed",
]

#: EPMT's default data-movement operations (``ops_costs``).
DM_TAGS = ("op:hsmput", "op:dmget", "op:untar", "op:mv", "op:dmput", "op:hsmget", "op:rm", "op:cp")
#: Papiex columns EPMT never sums over threads (``settings.skip_for_thread_sums``).
_NOT_SUMMED = frozenset({"tid", "start", "end", "num_threads", "starttime"})
_COSTS = ("cpu_time", "duration")


@dataclass(frozen=True)
class JobInfo:
    """What operation questions need of a job: zone, totals, summed metric names."""

    jobid: str
    tz: str
    duration: int
    cpu_time: int
    metrics: tuple[str, ...]


@dataclass(frozen=True)
class Group:
    """The processes of one job carrying the ``tag``-th tag, with their sums."""

    tag: int
    extent: Extent
    cpu_time: int
    numtids: int
    metrics: dict[str, int]


def job_infos(graph: Graph, ids: list[str]) -> list[JobInfo]:
    """The loaded jobs among ``ids``, by start time (one query)."""
    out = []
    for r in graph.read("ops-jobs", jobids=ids):
        names = json.loads(r["info"] or "{}").get("metric_names", "")
        extra = sorted({n for n in names.split(",") if n} - _NOT_SUMMED - set(PROCESS_METRICS))
        metrics = (*PROCESS_METRICS, *extra)
        out.append(JobInfo(r["jobid"], r["tz"] or "UTC", r["duration"], r["cpu_time"], metrics))
    return out


def metric_groups(
    graph: Graph, jobs: list[JobInfo], tags: list[dict[str, Any]], exact: bool
) -> list[Group]:
    """For each tag and job, the sums over the job's processes carrying it, with their
    spans (one query).

    Ordered by tag, then jobid; a (tag, job) without processes has no group.
    """
    metrics = list(dict.fromkeys(m for job in jobs for m in job.metrics))
    alternatives = tags_param(tags, exact_tag_only=exact) if tags else None
    if not jobs or alternatives is None:
        return []
    extras = [name for name in metrics if name not in METRIC_SLOTS]
    metrics = [*PROCESS_METRICS, *extras]  # the order of the query's sums
    found = graph.read(
        "ops-metrics",
        jobids=[job.jobid for job in jobs],
        tags=alternatives,
        listed=list(PROCESS_METRICS),
        extras=extras,
    )
    return [
        Group(
            tag=r["op"],
            extent=Extent.of_row(r),
            cpu_time=r["cpu_time"],
            numtids=r["numtids"],
            metrics={m: s for m, s, n in zip(metrics, r["sums"], r["present"], strict=True) if n},
        )
        for r in found
    ]


def op_feature_rows(graph: Graph, ids: list[str], tags: list[dict[str, Any]]) -> pd.DataFrame:
    """The ``jobid``, ``tags``, ``num_procs``, ``duration`` and ``cpu_time`` of the rows
    ``get_op_metrics(ids, tags)`` gives (its default ``op_duration_method='sum'``), in its
    order, summed in the database (one query, ``outlier-op-features``): no other metric
    and no process span is fetched. Empty if no loaded job has processes with the tags.

    Examples
    --------
    >>> op_feature_rows(default_graph(), ["685000", "685016"], [{"op": "hsmget"}])
        jobid              tags  num_procs      duration     cpu_time
    0  685000  {'op': 'hsmget'}       1781  1.811621e+10   53934101.0
    1  685016  {'op': 'hsmget'}       1713  7.585973e+09  123305670.0
    """
    alternatives = tags_param(tags) if tags else None
    found = (
        []
        if alternatives is None
        else graph.read("outlier-op-features", jobids=ids, tags=alternatives)
    )
    return pd.DataFrame(
        [
            {
                "jobid": r["jobid"],
                "tags": dict(tags[r["op"]]),
                "num_procs": r["num_procs"],
                "duration": r["duration"],
                "cpu_time": float(r["cpu_time"]),
            }
            for r in found
        ]
    )


def op_metric_rows(
    groups: list[Group], tags: list[dict[str, Any]], method: str
) -> list[dict[str, Any]]:
    """EPMT's ``get_op_metrics`` rows: one per (tag, job) with processes, metrics summed."""
    return [
        {
            **g.metrics,
            "job": g.extent.jobid,
            "jobid": g.extent.jobid,
            "tags": dict(tags[g.tag]),
            "num_procs": g.extent.num_procs,
            "numtids": g.numtids,
            "cpu_time": float(g.cpu_time),
            "duration": ROW_DURATIONS[method](g.extent),
        }
        for g in groups
    ]


def summed(rows: Sequence[Mapping[str, Any]], exclude: Iterable[str]) -> dict[str, Any]:
    """EPMT's ``sum_dicts_list``: every key but ``exclude`` summed over ``rows``, in order."""
    skip = set(exclude)
    keys = dict.fromkeys(k for row in rows for k in row if k not in skip)
    out: dict[str, Any] = {}
    for key in keys:
        total: Any = 0
        for row in rows:
            total += row.get(key, 0)
        out[key] = total
    return out


def _by_tag(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """EPMT's ``group_dicts_by_key(rows, 'tags', exclude=['job', 'jobid'])``."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(json.dumps(row["tags"], sort_keys=True), []).append(row)
    return [
        {**summed(groups[key], ("job", "jobid", "tags")), "tags": json.loads(key)}
        for key in sorted(groups)
    ]


def _tags_or_all(graph: Graph, jobs: list[JobInfo], tags: Any) -> list[dict[str, Any]]:
    """``tags`` as a list of dicts; none: every distinct process tag of the jobs, as EPMT."""
    if tags:
        return tag_list(tags)
    stored = jobs_proc_tags(graph, [job.jobid for job in jobs])
    return unique_tags(tag for job_tags in stored for tag in job_tags)


def op_metrics(
    graph: Graph,
    jobs: list[JobInfo],
    tags: Any,
    exact: bool,
    group_by_tag: bool,
    method: str,
) -> list[dict[str, Any]] | None:
    """``get_op_metrics`` rows over loaded jobs; None if no jobs or no tags, as EPMT."""
    wanted = _tags_or_all(graph, jobs, tags)
    if not jobs or not wanted:
        return None
    groups = metric_groups(graph, jobs, wanted, exact)
    rows = op_metric_rows(groups, wanted, method)
    return _by_tag(rows) if group_by_tag else rows


def get_op_metrics(
    jobs: Any,
    tags: Any = None,
    exact_tags_only: bool = False,
    group_by_tag: bool = False,
    fmt: str = "pandas",
    op_duration_method: str = "sum",
    *,
    graph: Graph | None = None,
) -> Any:
    """Metrics summed over the processes of operations, job by job (EPMT's ``get_op_metrics``).

    Parameters
    ----------
    jobs : one or more jobs, in any form ``get_jobs`` accepts (not empty)
    tags : str, dict or list of them, optional
        The operations; default: every distinct process tag of the jobs.
    exact_tags_only : bool
        A process belongs to a tag only if it has no other pairs.
    group_by_tag : bool
        Add up each tag's rows across jobs (no ``job``/``jobid`` columns then), ordered by
        the tag's JSON.
    fmt : {'pandas', 'dict'}
    op_duration_method : {'sum', 'sum-minus-overlap', 'finish-minus-start'}

    Returns
    -------
    DataFrame or list of dict, or None
        One row per (tag, job) with processes, by tag then jobid: the thread metrics
        summed, ``job``, ``jobid``, ``tags``, ``num_procs``, ``numtids``, ``cpu_time`` and
        ``duration``. None if no job is loaded or the jobs have no process tags (as EPMT).

    Raises
    ------
    QueryError
        No jobs given, an unknown ``op_duration_method`` or ``fmt``.

    Examples
    --------
    >>> df = get_op_metrics(["685000", "685016"])
    >>> df.shape
    (178, 31)
    """
    check_fmt(fmt)
    check_method(op_duration_method)
    graph = graph or default_graph()
    jobs_found = job_infos(graph, jobids(graph, jobs))
    rows = op_metrics(graph, jobs_found, tags, exact_tags_only, group_by_tag, op_duration_method)
    return None if rows is None else records(rows, fmt)


def ops_costs(
    jobs: Any = None,
    tags: Any = None,
    metric: str = "cpu_time",
    *,
    features: list[str] | None = None,
    graph: Graph | None = None,
) -> tuple[float, pd.DataFrame, float, pd.DataFrame]:
    """What operations cost as a share of their jobs' total ``cpu_time`` or ``duration``.

    ``duration`` is taken without double-counting overlapping processes
    (``sum-minus-overlap``); ``cpu_time`` is a plain sum.

    Parameters
    ----------
    jobs : jobs in any form ``get_jobs`` accepts, optional
        Default: every loaded job.
    tags : list of str or dict, optional
        Default: EPMT's data-movement operations (hsmput, dmget, untar, mv, dmput, hsmget,
        rm, cp); ``[]``: every distinct process tag of the jobs.
    metric : {'cpu_time', 'duration'}
    features : list of one str, optional
        The workbook's spelling of ``metric`` (``features=['cpu_time']``); EPMT 5.0.1
        rejects it.

    Returns
    -------
    (percent, ops, jobs_total, by_job)
        ``percent``: the operations' share of the jobs' total, in percent (3 decimals);
        ``ops``: per job and tag, the ``get_op_metrics(group_by_tag=True)`` row, with
        ``jobid``, ``tags`` and the metric first; ``jobs_total``: the jobs' summed metric;
        ``by_job``: per job ``jobid``, ``dm_<metric>``, ``job_<metric>``, ``dm_<metric>%``.
        A job with none of the operations contributes no ``ops`` row and 0 (EPMT fails).

    Raises
    ------
    QueryError
        An unknown metric, or ``features`` not naming exactly one.

    Examples
    --------
    >>> percent, ops, total, by_job = ops_costs(["685000", "685003", "685016"])
    >>> percent
    43.157
    """
    if features is not None:
        if len(features) != 1:
            raise QueryError(f"features must name one metric (cpu_time or duration): {features!r}")
        metric = features[0]
    if metric not in _COSTS:
        raise QueryError(f"metric must be one of {', '.join(_COSTS)}; got {metric!r}")
    graph = graph or default_graph()
    found = job_infos(graph, jobids(graph, jobs, required=False))
    method = "sum-minus-overlap" if metric == "duration" else "sum"
    wanted = _tags_or_all(graph, found, list(DM_TAGS) if tags is None else tags)
    groups = metric_groups(graph, found, wanted, exact=False)
    per_job: dict[str, list[dict[str, Any]]] = {}
    for row in op_metric_rows(groups, wanted, method):
        per_job.setdefault(row["jobid"], []).append(row)
    jobs_total, op_rows, by_job = 0.0, [], []
    for job in found:
        total = float(getattr(job, metric))
        jobs_total += total
        rows = [{"jobid": job.jobid, **row} for row in _by_tag(per_job.get(job.jobid, []))]
        op_rows.extend(rows)
        spent = float(sum(row[metric] for row in rows))
        share = {f"dm_{metric}%": round(100 * spent / total)} if total else {}
        by_job.append({"jobid": job.jobid, f"dm_{metric}": spent, f"job_{metric}": total, **share})
    ops = pd.DataFrame(op_rows)
    if op_rows:
        first = ["jobid", "tags", metric]
        ops = ops[first + [c for c in ops.columns if c not in first]]
    spent_all = float(sum(row[metric] for row in op_rows))
    percent = round(100 * spent_all / jobs_total, 3) if jobs_total else 0.0
    return percent, ops, jobs_total, pd.DataFrame(by_job)
