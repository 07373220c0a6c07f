"""EPMT's functions over changeable records: ``tag_job`` and ``verify_jobs``.

Examples
--------
>>> ok, errors = eq.verify_jobs(["685000", "685016"])
>>> ok, list(errors), errors["685000"][0]
(False, ['685000'], 'rdtsc_duration is negative')
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from epmt_graph.api.changes import orm_commit
from epmt_graph.api.formats import threads_nested
from epmt_graph.api.jobs import get_jobs
from epmt_graph.api.models import Job
from epmt_graph.api.params import jobids
from epmt_graph.api.rows import process_rows
from epmt_graph.db import Graph, default_graph
from epmt_graph.errors import FieldTypeError, QueryError, UnknownJobError
from epmt_graph.schema import parse_tags, row_properties, thread_rows

__all__ = ["tag_job", "verify_jobs"]

#: verify_jobs: a time before this is "too old" (EPMT's bound).
OLDEST = dt.datetime(2019, 1, 1)


def tag_job(jobid: Any, tag: Any, replace: bool = False, *, graph: Graph | None = None) -> Any:
    """Tag a job (EPMT's ``tag_job``): merge ``tag`` into its tags, or replace them.

    Parameters
    ----------
    jobid : str
    tag : dict or str
        ``{'k': 'v'}`` or ``'k:v;k2:v2'``; values are kept as strings (EPMT keeps a dict's
        values as given).
    replace : bool
        Replace the job's tags instead of merging into them.

    Returns
    -------
    dict
        The job's tags now, written with any other pending change (``orm_commit``).

    Raises
    ------
    UnknownJobError
        If no job has that id (also a ``KeyError``, as EPMT raises).
    FieldTypeError
        If ``tag`` is neither a dict nor a string.
    CommitError
        If the job is deleted meanwhile (nothing is written).
    """
    graph = graph or default_graph()
    job = Job.lookup(jobid, graph=graph)
    if job is None:
        raise UnknownJobError(f"Job[{jobid}] could not be found")
    if not isinstance(tag, str | Mapping):
        raise FieldTypeError(f"tag_job takes a dict or a 'k:v;k2:v2' string, not {tag!r}")
    job.tags = parse_tags(tag) if replace else {**job.tags, **parse_tags(tag)}
    orm_commit(graph)
    return dict(job.tags)


def _number(value: float) -> str:
    if math.isnan(value):
        return "is Nan"
    if math.isinf(value):
        return "is inf."
    return "is negative" if value < 0 else ""


def _verify(found: Any, prefix: str = "", ignore_empty: bool = True) -> list[str]:
    """EPMT's checks of one job or process dict, recursively: numbers NaN, infinite or
    negative, times before 2019 or in the future, and (``ignore_empty=False``) None."""
    errors = []
    now = dt.datetime.now()
    keys = range(len(found)) if isinstance(found, list) else list(found)
    if "id" in keys:
        prefix += f"Process[{found['id']}] >> "
    for key in keys:
        value, name = found[key], str(key)
        if name.startswith("_"):
            continue
        if not ignore_empty and value is None:
            errors.append(f"{prefix}{name} is empty")
        elif type(value) in (int, float):
            if problem := _number(value):
                errors.append(f"{prefix}{name} {problem}")
        elif isinstance(value, dt.datetime):
            if value < OLDEST:
                errors.append(f"{prefix}{name} contains an invalid timestamp (too old)")
            elif value > now:
                errors.append(f"{prefix}{name} contains an invalid timestamp (in the future)")
        elif type(value) in (dict, list):
            errors += _verify(value, prefix=f"{prefix}{name} >> ")
    return errors


def _process(node: Mapping[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    """A process as EPMT's ``orm_to_dict`` gives it, from its node and its row (the node's
    :func:`process_rows`): its fields, ``threads_sums`` and ``threads_df`` (one dict a
    thread)."""
    found = threads_nested(row)
    stored = {key: value for key, value in node.items() if key not in ("tz", "user")}
    found["threads_df"] = thread_rows(row_properties(stored))
    return found


def verify_jobs(jobs: Any, *, graph: Graph | None = None) -> tuple[bool, dict[str, list[str]]]:
    """Check the stored values of jobs and their processes (EPMT's ``verify_jobs``).

    As EPMT's: every number of a job, of its processes, of their thread sums and of each
    of their threads must be finite and not negative; every time from 2019 on and not in
    the future (times are naive in the job's zone, ``now`` the machine's); no field of a
    job may be empty (None). A process is named ``Process[<id>]`` in its errors.

    Parameters
    ----------
    jobs : job ids, a list, a frame, records or a query (not empty)

    Returns
    -------
    (bool, dict)
        True when nothing is wrong; each job with errors -> its errors, job's first.

    Raises
    ------
    QueryError
        If no loaded job is given (EPMT raises ``ValueError``).
    """
    graph = graph or default_graph()
    rows = get_jobs(jobids(graph, jobs), fmt="dict", graph=graph)
    if not rows:
        raise QueryError("You need to specify a non-empty collection as a parameter")
    errors = {}
    for row in rows:
        found = _verify(row, ignore_empty=False)
        nodes = [record["p"] for record in graph.read("job-processes", jobid=row["jobid"])]
        for node, process in zip(nodes, process_rows(nodes), strict=True):
            found += _verify(_process(node, process))
        if found:
            errors[row["jobid"]] = found
    return not errors, errors
