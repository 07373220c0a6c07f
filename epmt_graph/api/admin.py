"""Changing jobs: annotations and analyses (outlier detection); deleting them is
:mod:`epmt_graph.api.deletes`.

Annotations and analyses are JSON objects on the Job node (``annotations_json``,
``analyses_json``). An update is one write transaction that first write-locks the job
(``job-*-lock``), merges in Python, then writes (``job-*-set``), so concurrent updates do
not lose each other's keys.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

import neo4j
import numpy as np

from epmt_graph import cypher
from epmt_graph.api.jobs import get_jobs
from epmt_graph.api.params import single_jobid
from epmt_graph.db import Graph, default_graph
from epmt_graph.errors import QueryError, UnknownJobError
from epmt_graph.schema import parse_tags

__all__ = [
    "OUTLIER_FEATURES",
    "analyze_jobs",
    "analyze_pending_jobs",
    "annotate_job",
    "get_job_analyses",
    "get_job_annotations",
    "get_unanalyzed_jobs",
    "modified_z_scores",
    "remove_job_analyses",
    "remove_job_annotations",
    "set_job_analyses",
]

#: The job features outlier detection looks at (EPMT's ``outlier_features``).
OUTLIER_FEATURES = ("duration", "cpu_time", "num_procs")
#: A score above this marks an outlier (EPMT's ``outlier_thresholds['modified_z_score']``).
MODIFIED_Z_THRESHOLD = 3.5
#: Fewest comparable jobs outlier detection runs on (without a reference model).
MIN_JOBS = 4
#: Largest analyses object stored, as JSON (EPMT's ``set_job_analyses`` size limit).
ANALYSES_SIZE_LIMIT = 64 * 1024
#: Tag keys whose values comparable jobs share (EPMT's ``comparable_job_partitions``).
COMPARABLE_KEYS = ("exp_name", "exp_component")

#: Per JSON column: the query reading it, the one locking the job, the one writing it.
_QUERIES = {
    "annotations": ("job-annotations", "job-annotations-lock", "job-annotations-set"),
    "analyses": ("job-analyses", "job-analyses-lock", "job-analyses-set"),
}


def _dumps(value: Mapping[str, Any], kind: str) -> str:
    try:
        return json.dumps(value, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise QueryError(f"{kind} must be JSON data (dicts, lists, str, numbers): {exc}") from exc


def _get(graph: Graph | None, job: Any, kind: str) -> dict[str, Any]:
    graph = graph or default_graph()
    jobid = single_jobid(graph, job)
    records = graph.read(_QUERIES[kind][0], jobid=jobid)
    if not records:
        raise UnknownJobError(f"job {jobid!r} is not loaded")
    return dict(json.loads(records[0]["json"]))


def _update(
    graph: Graph | None,
    job: Any,
    kind: str,
    changes: Any,
    replace: bool,
    size_limit: int | None = None,
) -> dict[str, Any]:
    graph = graph or default_graph()
    jobid = single_jobid(graph, job)
    if not isinstance(changes, Mapping):
        raise QueryError(f"{kind} must be a dict, not {changes!r}")
    changes = json.loads(_dumps(changes, kind))  # as stored: JSON keys and values
    _, lock, store = _QUERIES[kind]

    def work(tx: neo4j.ManagedTransaction) -> str:
        record = tx.run(cypher.query(lock), jobid=jobid).single()
        if record is None:
            raise UnknownJobError(f"job {jobid!r} is not loaded")
        merged = {} if replace else json.loads(record["json"])
        merged.update(changes)
        text = _dumps(merged, kind)
        if size_limit is not None and len(text) > size_limit:
            raise QueryError(f"{kind} of {len(text)} bytes exceed {size_limit}; not stored")
        tx.run(cypher.query(store), jobid=jobid, json=text).consume()
        return text

    return dict(json.loads(graph.execute_write(work)))


def annotate_job(
    jobid: Any, annotation: Any, replace: bool = False, *, graph: Graph | None = None
) -> dict[str, Any]:
    """Merge ``annotation`` into a job's annotations (or replace them all).

    Parameters
    ----------
    jobid : a job id or Job record
    annotation : dict or ``'k:v;k2:v2'`` string
        JSON data; merged over the existing keys unless ``replace``.
    replace : bool

    Returns
    -------
    dict
        The job's annotations now.

    Raises
    ------
    UnknownJobError
        If the job is not loaded (also a ``KeyError``, as EPMT raises); nothing is written.
    QueryError
        If the annotation is not JSON data; nothing is written.

    Examples
    --------
    >>> before = get_job_annotations("685000")
    >>> sorted(annotate_job("685000", {"abc": 100}))
    ['EPMT_JOB_TAGS', 'abc', 'papiex-error', 'papiex-error-process-ids']
    >>> annotate_job("685000", before, replace=True) == before  # as it was
    True
    """
    changes = parse_tags(annotation) if isinstance(annotation, str) else annotation
    return _update(graph, jobid, "annotations", changes, replace)


def get_job_annotations(jobid: Any, *, graph: Graph | None = None) -> dict[str, Any]:
    """A job's annotations (``{}`` if it has none)."""
    return _get(graph, jobid, "annotations")


def remove_job_annotations(jobid: Any, *, graph: Graph | None = None) -> dict[str, Any]:
    """Remove all of a job's annotations; returns them now (``{}``)."""
    return _update(graph, jobid, "annotations", {}, True)


def set_job_analyses(
    jobid: Any, analyses: Any, replace: bool = False, *, graph: Graph | None = None
) -> dict[str, Any]:
    """Merge ``analyses`` into a job's analyses (or replace them); returns them now.

    Raises
    ------
    UnknownJobError
        If the job is not loaded (also a ``KeyError``); nothing is written.
    QueryError
        If the result is not JSON data or exceeds 64 KiB.
    """
    return _update(graph, jobid, "analyses", analyses, replace, ANALYSES_SIZE_LIMIT)


def get_job_analyses(jobid: Any, *, graph: Graph | None = None) -> dict[str, Any]:
    """A job's analyses (``{}`` if it has none).

    Examples
    --------
    >>> get_job_analyses("685000")
    {}
    >>> set_job_analyses("685000", {"reviewed": True})
    {'reviewed': True}
    >>> get_job_analyses("685000")
    {'reviewed': True}
    >>> remove_job_analyses("685000")  # as it was
    {}
    """
    return _get(graph, jobid, "analyses")


def remove_job_analyses(jobid: Any, *, graph: Graph | None = None) -> dict[str, Any]:
    """Remove all of a job's analyses; returns them now (``{}``)."""
    return _update(graph, jobid, "analyses", {}, True)


def get_unanalyzed_jobs(
    jobs: Any = None,
    analyses_filter: Any = None,
    fmt: str = "terse",
    *,
    graph: Graph | None = None,
) -> Any:
    """Jobs (every job for None or ``[]``) without analyses, as EPMT selects them.

    ``analyses_filter`` (default ``{}``) is EPMT's ``get_jobs(analyses=...)``: ``{}`` means
    no analyses at all; a non-empty dict selects jobs whose analyses contain it.
    """
    wanted = {} if analyses_filter is None else analyses_filter
    return get_jobs(jobs, analyses=wanted, fmt=fmt, graph=graph)


def modified_z_scores(values: Sequence[float]) -> list[float]:
    """EPMT's modified z-score of each value: ``0.6745 * |v - median| / MAD``, rounded to
    4 places as numpy rounds; the mean absolute deviation stands in for a zero MAD, and
    when both are zero a value off the median scores infinity.

    Examples
    --------
    >>> modified_z_scores([10, 11, 12, 100])
    [1.0118, 0.3372, 0.3372, 59.6932]
    >>> modified_z_scores([5, 5, 5, 6])
    [0.0, 0.0, 0.0, 2.698]
    >>> modified_z_scores([7, 7, 7, 7])
    [0.0, 0.0, 0.0, 0.0]
    """
    deviations = np.abs(np.asarray(values, dtype=float) - np.median(values))
    mad = np.median(deviations) or np.mean(deviations)
    if mad > 0:
        return [float(score) for score in np.round(0.6745 * deviations / mad, 4)]
    return [math.inf if d > 0 else 0.0 for d in deviations]


def _outliers(rows: list[dict[str, Any]]) -> dict[str, list[list[str]]]:
    """Per feature: ``[inliers, outliers]``, each a sorted list of job ids."""
    results = {}
    for feature in OUTLIER_FEATURES:
        scores = modified_z_scores([row[feature] for row in rows])
        flags = [abs(score) > MODIFIED_Z_THRESHOLD for score in scores]
        inliers = sorted(row["jobid"] for row, out in zip(rows, flags, strict=True) if not out)
        outliers = sorted(row["jobid"] for row, out in zip(rows, flags, strict=True) if out)
        results[feature] = [inliers, outliers]
    return results


def _partitions(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Jobs grouped by the values of :data:`COMPARABLE_KEYS` in their tags, the groups by
    decreasing total duration (EPMT's ``comparable_job_partitions``)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        key = tuple(row["tags"].get(k, "") for k in COMPARABLE_KEYS)
        groups.setdefault(key, []).append(row)
    return sorted(groups.values(), key=lambda g: sum(r["duration"] for r in g), reverse=True)


def _store_analyses(graph: Graph, jobids: list[str], analyses: dict[str, Any]) -> None:
    text = _dumps(analyses, "analyses")
    store = cypher.query(_QUERIES["analyses"][2])

    def work(tx: neo4j.ManagedTransaction) -> None:
        for jobid in jobids:
            tx.run(store, jobid=jobid, json=text).consume()

    graph.execute_write(work)


def _analyze(
    jobs: Any, analyses_filter: Any, max_comparable: int, check: bool, graph: Graph | None
) -> list[tuple[list[str], int]]:
    """Outlier detection on each set of comparable jobs; each job's analyses are replaced
    by the result. Returns each set's job ids with the number of analyses run on it."""
    graph = graph or default_graph()
    pending = ({} if analyses_filter is None else analyses_filter) if check else None
    rows = get_jobs(jobs, analyses=pending, fmt="orm", graph=graph).summaries()
    done = []
    for group in _partitions(rows):
        if max_comparable and len(group) > max_comparable:
            group = random.sample(group, max_comparable)
        runs = []
        if len(group) >= MIN_JOBS:
            runs.append({"model_id": None, "results": _outliers(group)})
        jobids = [row["jobid"] for row in group]
        _store_analyses(graph, jobids, {"outlier_detection": runs})
        done.append((jobids, len(runs)))
    return done


def analyze_jobs(
    jobs: Any = None,
    analyses_filter: Any = None,
    max_comparable: int = 50,
    check: bool = True,
    *,
    graph: Graph | None = None,
) -> list[list[str]]:
    """Run outlier detection on the unanalyzed ``jobs`` (every job for None or ``[]``),
    as EPMT 5.0.1's ``analyze_jobs``.

    Jobs are grouped into comparable sets (same ``exp_name`` and ``exp_component`` tags);
    a set of at least 4 jobs (at most ``max_comparable``, picked at random) is scored on
    ``duration``, ``cpu_time`` and ``num_procs`` with the modified z-score (threshold 3.5),
    and every job of the set stores ``{'outlier_detection': [{'model_id': None, 'results':
    {feature: [inliers, outliers]}}]}`` (an empty list for smaller sets).

    Returns
    -------
    list of list of str
        The job ids of each set analysed.
    """
    return [ids for ids, _ in _analyze(jobs, analyses_filter, max_comparable, check, graph)]


def analyze_pending_jobs(
    jobs: Any = None,
    analyses_filter: Any = None,
    max_comparable: int = 50,
    check: bool = True,
    *,
    graph: Graph | None = None,
) -> int:
    """As :func:`analyze_jobs`, returning the number of analyses run (the workbook's call).

    Examples
    --------
    >>> jobs = ["685000", "685003", "685016"]  # no 4 of them comparable: no analysis runs
    >>> analyze_pending_jobs(jobs)
    0
    >>> get_job_analyses("685000")
    {'outlier_detection': []}
    >>> [remove_job_analyses(job) for job in jobs]  # as they were
    [{}, {}, {}]
    """
    return sum(runs for _, runs in _analyze(jobs, analyses_filter, max_comparable, check, graph))
