"""Job comparability: ``comparable_job_partitions``, ``are_jobs_comparable``.

Jobs are comparable when their tags hold the same values for the matching keys (by
default ``exp_name`` and ``exp_component``; a missing key counts as ``''``), as in EPMT
5.0.1. The jobs come from one light ``jobs.cypher`` query (id, tags, duration).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import Any

from epmt_graph.api.jobs import get_jobs
from epmt_graph.db import Graph, default_graph
from epmt_graph.errors import QueryError

__all__ = [
    "COMPARABLE_KEYS",
    "are_jobs_comparable",
    "comparable_job_partitions",
    "partition_rows",
    "warn_incomparable",
]

#: The tag keys whose values comparable jobs share (EPMT's default ``matching_keys``).
COMPARABLE_KEYS: tuple[str, ...] = ("exp_name", "exp_component")

_log = logging.getLogger(__name__)


def _keys(matching_keys: Any) -> tuple[str, ...]:
    if matching_keys is None:
        return COMPARABLE_KEYS
    if isinstance(matching_keys, str) or not all(isinstance(k, str) for k in matching_keys):
        raise QueryError(f"matching_keys must be a list of tag keys, not {matching_keys!r}")
    return tuple(matching_keys)


def _rows(graph: Graph, jobs: Any) -> list[dict[str, Any]]:
    """The jobs' light rows by job id (every job for None or ``[]``; ids not loaded are
    left out, as in EPMT)."""
    rows = get_jobs(jobs, fmt="orm", graph=graph).summaries()
    return sorted(rows, key=lambda row: str(row["jobid"]))


def partition_rows(
    rows: Sequence[dict[str, Any]], keys: Sequence[str] = COMPARABLE_KEYS
) -> list[tuple[tuple[str, ...], list[dict[str, Any]]]]:
    """Rows (with ``tags`` and ``duration``) grouped by their values of ``keys``, groups in
    order of first appearance, then by decreasing total duration (a stable sort)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row["tags"].get(k, "") for k in keys), []).append(row)
    return sorted(
        groups.items(), key=lambda item: sum(r["duration"] for r in item[1]), reverse=True
    )


def comparable_job_partitions(
    jobs: Any, matching_keys: Any = None, *, graph: Graph | None = None
) -> list[tuple[tuple[str, ...], list[str]]]:
    """Jobs split into sets of comparable jobs (EPMT's ``comparable_job_partitions``).

    Parameters
    ----------
    jobs : any form ``get_jobs`` takes; ``[]`` means every job; ids not loaded are ignored
    matching_keys : list of str, optional
        Tag keys whose values must match (default ``['exp_name', 'exp_component']``).

    Returns
    -------
    list of (tuple of str, list of str)
        ``(values of the keys, job ids)`` per set, sets by decreasing total duration, ids
        sorted (EPMT keeps its database's order: by id for ids given, by load for all jobs).

    Examples
    --------
    >>> for values, ids in comparable_job_partitions(["685000", "685003", "685016", "692544"]):
    ...     print(values[1], ids)
    ocean_month_rho2_1x1deg ['685016', '692544']
    ocean_cobalt_fdet_100 ['685003']
    ocean_annual_rho2_1x1deg ['685000']
    """
    keys = _keys(matching_keys)
    rows = _rows(graph or default_graph(), jobs)
    return [(values, [r["jobid"] for r in group]) for values, group in partition_rows(rows, keys)]


def are_jobs_comparable(
    jobs: Any, matching_keys: Any = None, *, graph: Graph | None = None
) -> bool:
    """Whether all the jobs are comparable: exactly one set (so no loaded job: False).

    Examples
    --------
    >>> are_jobs_comparable(["685000", "685003", "685016"])
    False
    >>> are_jobs_comparable(["685000", "685003", "685016"], matching_keys=["exp_time"])
    True
    """
    return len(comparable_job_partitions(jobs, matching_keys, graph=graph)) == 1


def warn_incomparable(rows: Sequence[dict[str, Any]]) -> bool:
    """Warn (log and stderr, as EPMT) when the rows' jobs are not comparable; returns
    whether they are. Each job is listed with its ``exp_name`` and ``exp_component``."""
    if len(partition_rows(rows)) <= 1:
        return True
    message = 'The jobs do not share identical tag values for "exp_name" and "exp_component"'
    _log.warning(message)
    print("WARNING:", message, file=sys.stderr)
    for row in rows:
        line = "   ".join([row["jobid"], *(row["tags"].get(k, "") for k in COMPARABLE_KEYS)])
        _log.warning(line)
        print("   ", line, file=sys.stderr)
    return False
