"""Turn epmt_query-style arguments into query parameters.

EPMT accepts jobs as ids, comma-separated strings, lists, DataFrames, dicts or ORM
objects; tags as ``"k:v;k2:v2"`` strings, dicts or lists of either; ``when`` as a
datetime, a ``'mm/dd/YYYY HH:MM'`` string (in each job's zone) or a process. Each is
normalised here, once, into plain parameter values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from numbers import Integral
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from epmt_graph.api.expr import Condition, field_value
from epmt_graph.api.models import Job, Process
from epmt_graph.api.zones import job_zones
from epmt_graph.db import Graph
from epmt_graph.errors import QueryError, UnknownJobError
from epmt_graph.schema import parse_tags, tag_pairs, tag_string

__all__ = [
    "condition",
    "hosts_param",
    "jobids",
    "paging",
    "single_jobid",
    "tags_param",
    "when_param",
]

_WHEN_FORMAT = "%m/%d/%Y %H:%M"
#: How many unknown job ids an error names.
_NAMED = 5


def paging(limit: Any, offset: Any = 0) -> tuple[int, int | None]:
    """EPMT's ``limit`` and ``offset`` as ``(skip, limit)``, checked before any query runs.

    Each is None or an integer >= 0 (not a bool, not a string). As in EPMT, a ``limit`` of
    0 or None means no limit (None here) and an ``offset`` of None means 0.

    Raises
    ------
    QueryError
        Naming the argument and its value.

    Examples
    --------
    >>> paging(10, 5), paging(0, None), paging(None)
    ((5, 10), (0, None), (0, None))
    >>> paging(-1)
    Traceback (most recent call last):
    ...
    epmt_graph.errors.QueryError: limit must be a non-negative integer or None, not -1
    """
    return _count(offset, "offset") or 0, _count(limit, "limit") or None


def _count(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
        raise QueryError(f"{name} must be a non-negative integer or None, not {value!r}")
    return int(value)


def jobids(graph: Graph, jobs: Any, *, required: bool = True, known: bool = False) -> list[str]:
    """Job ids from any of EPMT's ways of naming jobs, in the order given, without repeats.

    ``None``, ``""`` or ``[]`` mean every loaded job when ``required`` is False. With
    ``known``, every id given must name a loaded job (one query), as EPMT's ``get_procs``
    requires.

    Raises
    ------
    QueryError
        If no jobs are given and ``required``, or ``jobs`` is malformed.
    UnknownJobError
        With ``known``, if an id names no loaded job (also a ``KeyError``, as EPMT's).

    Examples
    --------
    >>> jobids(None, "685000, 685003")
    ['685000', '685003']
    >>> jobids(None, [685000, {"jobid": "685016"}, "685000"])
    ['685000', '685016']
    >>> from epmt_graph.db import default_graph
    >>> jobids(default_graph(), ["685000", "nope"], known=True)
    Traceback (most recent call last):
    ...
    epmt_graph.errors.UnknownJobError: job 'nope' is not loaded
    """
    if _empty(jobs):
        if required:
            raise QueryError("no jobs given: name one or more jobs (ids, a list, a frame, ...)")
        return [record["jobid"] for record in graph.read("job-ids")]
    found = list(dict.fromkeys(_iter_jobids(jobs)))
    if known:
        loaded = job_zones(graph, found)
        missing = [jobid for jobid in found if jobid not in loaded]
        if len(missing) == 1:
            raise UnknownJobError(f"job {missing[0]!r} is not loaded")
        if missing:
            more = len(missing) - _NAMED
            named = ", ".join(map(repr, missing[:_NAMED])) + (
                f" and {more} more" if more > 0 else ""
            )
            raise UnknownJobError(f"jobs {named} are not loaded")
    return found


def single_jobid(graph: Graph, job: Any, needs: str = "expected one job") -> str:
    """The id of the one job ``job`` names (an id, a Job record, a one-item list, ...).

    Raises
    ------
    QueryError
        If ``job`` names no job or more than one: ``needs``, then how many it named.

    Examples
    --------
    >>> single_jobid(None, ["685000"])
    '685000'
    >>> single_jobid(None, "685000,685003", needs="root() takes one job")
    Traceback (most recent call last):
    ...
    epmt_graph.errors.QueryError: root() takes one job, got 2: ['685000', '685003']
    """
    ids = jobids(graph, job)
    if len(ids) != 1:
        raise QueryError(f"{needs}, got {len(ids)}: {ids}")
    return ids[0]


def _empty(jobs: Any) -> bool:
    if jobs is None:
        return True
    if isinstance(jobs, pd.DataFrame):
        return jobs.empty
    return isinstance(jobs, str | list | tuple | set) and len(jobs) == 0


def _iter_jobids(jobs: Any) -> Iterable[str]:
    if isinstance(jobs, str):
        yield from (part.strip() for part in jobs.split(",") if part.strip())
    elif isinstance(jobs, int):
        yield str(jobs)
    elif isinstance(jobs, Job):
        yield str(jobs.jobid)
    elif isinstance(jobs, Mapping):
        if "jobid" not in jobs:
            raise QueryError(f"a job given as a dict needs a 'jobid' key: {dict(jobs)!r}")
        yield str(jobs["jobid"])
    elif isinstance(jobs, pd.DataFrame):
        if "jobid" not in jobs.columns:
            raise QueryError("a DataFrame of jobs needs a 'jobid' column")
        yield from (str(j) for j in jobs["jobid"])
    elif hasattr(jobs, "jobids"):
        yield from jobs.jobids()
    elif isinstance(jobs, Iterable):
        for item in jobs:
            yield from _iter_jobids(item)
    else:
        raise QueryError(f"cannot read a job from {jobs!r}")


def tags_param(tags: Any, *, exact_tag_only: bool = False) -> list[dict[str, Any]] | None:
    """The ``$tags`` alternatives for EPMT's ``tags`` argument (None: no tag filter).

    A string or dict is one tag whose pairs must all match; a list is any of its tags;
    ``""`` and ``{}`` select untagged processes only; ``exact_tag_only`` allows no extra pairs.

    Examples
    --------
    >>> tags_param("op_sequence:4;op:cp")
    [{'pairs': ['op:cp', 'op_sequence:4'], 'exact': None}]
    >>> tags_param({"op_sequence": 4}, exact_tag_only=True)
    [{'pairs': ['op_sequence:4'], 'exact': 'op_sequence:4'}]
    >>> tags_param("")
    [{'pairs': [], 'exact': ''}]
    """
    if tags is None:
        return None
    alternatives = tags if isinstance(tags, list | tuple) else [tags]
    if not alternatives:
        return None
    out = []
    for tag in alternatives:
        if not isinstance(tag, str | Mapping):
            raise QueryError(f"a tag is a 'k:v;k2:v2' string or a dict, not {tag!r}")
        parsed = parse_tags(tag)
        exact = tag_string(parsed) if (exact_tag_only or not parsed) else None
        out.append({"pairs": tag_pairs(parsed), "exact": exact})
    return out


def hosts_param(hosts: Any) -> list[str] | None:
    """Host names from a list or a comma-separated string (None: any host)."""
    if not hosts:
        return None
    if isinstance(hosts, str):
        return [h.strip() for h in hosts.split(",") if h.strip()]
    return [str(h) for h in hosts]


def when_param(graph: Graph, ids: list[str], when: Any) -> dict[str, dict[str, int]] | None:
    """The ``$when`` map (jobid -> {start, end} microseconds) for EPMT's ``when`` argument.

    A naive datetime or a ``'mm/dd/YYYY HH:MM'`` string is read in each job's zone; an
    aware datetime is an instant; a :class:`Process` means "overlapping that process".
    """
    if when is None or when == "":
        return None
    if isinstance(when, Process):
        span = {
            "start": field_value(_aware(when.start, when)),
            "end": field_value(_aware(when.end, when)),
        }
        return dict.fromkeys(ids, span)
    if isinstance(when, str):
        try:
            when = dt.datetime.strptime(when, _WHEN_FORMAT)
        except ValueError as exc:
            raise QueryError(f"when={when!r} is not of the form 'mm/dd/YYYY HH:MM'") from exc
    if not isinstance(when, dt.datetime):
        raise QueryError(
            f"when must be a datetime, a 'mm/dd/YYYY HH:MM' string or a Process, not {when!r}"
        )
    zones = {r["j"]["jobid"]: r["j"]["tz"] for r in graph.read("jobs-by-id", jobids=ids)}
    out = {}
    for jobid, zone in zones.items():
        instant = field_value(when if when.tzinfo else when.replace(tzinfo=ZoneInfo(zone)))
        out[jobid] = {"start": instant, "end": instant}
    return out


def _aware(local: dt.datetime, process: Process) -> dt.datetime:
    zone = process.job.to_dict().get("tz") or "UTC"
    return local.replace(tzinfo=ZoneInfo(zone))


def condition(fltr: Any) -> Condition | None:
    """EPMT's ``fltr`` as a :class:`Condition`; strings are refused (EPMT ran them as SQL)."""
    if fltr is None or (isinstance(fltr, str) and not fltr):
        return None
    if isinstance(fltr, str):
        raise QueryError(
            f"fltr={fltr!r}: string filters are not supported (EPMT passes them to raw SQL); "
            "use an expression such as fltr=(eq.Process.duration > 1000000) & "
            "(eq.Process.exename == 'tcsh')"
        )
    if not isinstance(fltr, Condition):
        raise QueryError(
            f"fltr must be an expression such as eq.Process.duration > 10, not {fltr!r}"
        )
    return fltr
