"""Jobs of an experiment by component, time segment and exit status (EPMT's
``exp_find_jobs``), and the time segments a component lacks (``find_missing_time_segments``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from numbers import Integral
from typing import Any

from epmt_graph.api.jobs import get_jobs
from epmt_graph.api.models import Job
from epmt_graph.api.params import jobids
from epmt_graph.db import Graph, default_graph
from epmt_graph.errors import QueryError, QueryTypeError, UnknownExperimentError
from epmt_graph.explore.experiment import ExpJob, experiment_jobs

__all__ = ["exp_find_jobs", "find_missing_time_segments"]

logger = logging.getLogger(__name__)

#: EPMT's default time segments: 1854-01-01 to 2014-01-01, every five years.
DEFAULT_SEGMENTS = range(18540101, 20190101, 50000)


def exp_find_jobs(
    exp_name: str,
    components: Any = None,
    exp_times: Any = None,
    failed: bool | None = None,
    **kwargs: Any,
) -> Any:
    """Jobs of an experiment, of some components, time segments or exit status (EPMT's
    ``exp_find_jobs``): ``get_jobs`` with tags made of those.

    Parameters
    ----------
    exp_name : str
        The experiment (the jobs' ``exp_name`` tag).
    components : list of str, optional
        Only jobs of these components (``exp_component``); a single string is one
        (EPMT would take each of its letters for a component).
    exp_times : list of str or int, optional
        Only jobs of these time segments (``exp_time``); combined with ``components``,
        every pair of the two.
    failed : bool, optional
        Only failed jobs (a non-zero exit code) if True, only successful ones if False.
    **kwargs
        Any other argument of :func:`epmt_graph.api.get_jobs` (``fmt``, default
        ``'terse'``; ``jobs``, ``limit``, ``order``, ``graph``, ...). ``tags`` replaces the
        tags made of ``exp_name``, ``components`` and ``exp_times`` (a warning says so).

    Returns
    -------
    The jobs found (possibly none), in the format ``fmt``.

    Raises
    ------
    UnknownExperimentError
        If no job has that ``exp_name``, or a component named has no job in it (where
        EPMT finds no jobs); not checked when ``tags`` is given.
    QueryError
        If ``failed`` is given with ``fltr`` (EPMT's ``ValueError``), or an argument of
        ``get_jobs`` is malformed.

    Examples
    --------
    >>> exp_find_jobs("ESM4_historical_D151",
    ...               components=["ocean_annual_rho2_1x1deg", "ocean_cobalt_fdet_100"],
    ...               exp_times=["18540101", "18840101"], failed=False)
    ['685000', '685003']
    >>> exp_find_jobs("ESM4_historical_D151", exp_times=[18890101], limit=2)
    ['691201', '692500']
    >>> exp_find_jobs("ESM4_historical_D151", components=["ocean_no_such"])
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    epmt_graph.errors.UnknownExperimentError: experiment 'ESM4_historical_D151' has no ...
    """
    if "tags" in kwargs:
        logger.warning(
            'If you use the "tags" option then "exp_name", "components" and "exp_time" '
            "options will be ignored"
        )
    else:
        names = _strings(components, "components")
        _check_components(experiment_jobs(exp_name, graph=kwargs.get("graph")), names, exp_name)
        alternatives = [{"exp_name": exp_name, "exp_component": c} for c in names] or [
            {"exp_name": exp_name}
        ]
        times = _strings(exp_times, "exp_times")
        if times:
            alternatives = [{**tags, "exp_time": t} for tags in alternatives for t in times]
        kwargs["tags"] = alternatives
    if failed is not None:
        if "fltr" in kwargs:
            raise QueryError("You cannot use the 'fltr' option in conjunction with 'failed'")
        kwargs["fltr"] = (Job.exitcode != 0) if failed else (Job.exitcode == 0)
    kwargs.setdefault("fmt", "terse")
    return get_jobs(**kwargs)


def find_missing_time_segments(
    exp_name: str,
    jobs: Any = None,
    components: Any = None,
    time_segments: Iterable[Any] = DEFAULT_SEGMENTS,
    *,
    graph: Graph | None = None,
) -> dict[str, list[int]]:
    """The time segments each component of an experiment has no job for (EPMT's
    ``find_missing_time_segments``); each component missing some is printed too.

    Parameters
    ----------
    exp_name : str
        The experiment (the jobs' ``exp_name`` tag).
    jobs : job ids, a list, a frame, records or a query, optional
        Only these jobs of the experiment (None or empty: all of them).
    components : list of str, optional
        Only these components (a single string is one); None or empty: all.
    time_segments : iterable of int
        The segments expected (``exp_time`` values, integers or strings of digits).
        Default: 18540101 to 20140101, every 50000 (you really should say which).

    Returns
    -------
    dict
        Component -> its missing segments (sorted ints), for each component, among the
        jobs considered, that misses some; in component order.

    Raises
    ------
    UnknownExperimentError
        If no job has that ``exp_name`` or none of ``jobs`` has (EPMT: a ``KeyError``), or
        a component named has no job in the experiment (EPMT leaves it out).
    QueryError
        If a segment, or a job's ``exp_time`` tag, is not an integer (EPMT's
        ``ValueError``).

    Notes
    -----
    EPMT 5.0.1 fails with a ``KeyError`` when the jobs considered are all of one
    component (it reads that component's name letter by letter); here that component's
    missing segments are returned. Segments given as strings are compared, and
    returned, as integers (EPMT would find none of them).

    Examples
    --------
    >>> d = find_missing_time_segments("ESM4_historical_D151", jobs=["685000", "685003"],
    ...                                time_segments=range(18790101, 18940101, 50000))
    ocean_annual_rho2_1x1deg is missing [18790101, 18890101]
    ocean_cobalt_fdet_100 is missing [18790101, 18890101]
    >>> find_missing_time_segments("ESM4_historical_D151", jobs="685000",
    ...                            time_segments=["18840101", "18890101"])
    ocean_annual_rho2_1x1deg is missing [18890101]
    {'ocean_annual_rho2_1x1deg': [18890101]}
    """
    graph = graph or default_graph()
    expected = {_segment(t, "time segment") for t in _iterable(time_segments)}
    every = experiment_jobs(exp_name, graph=graph)
    names = _strings(components, "components")
    _check_components(every, names, exp_name)
    chosen = every
    if not (jobs is None or (isinstance(jobs, str | list | tuple | set) and not jobs)):
        wanted = set(jobids(graph, jobs))
        chosen = [j for j in every if j.jobid in wanted]
        if not chosen:
            raise UnknownExperimentError(f"none of the jobs given has the tag exp_name:{exp_name}")
    found: dict[str, set[int]] = {}
    for job in chosen:
        if job.component is not None and (not names or job.component in names):
            times = found.setdefault(job.component, set())
            if job.time:
                times.add(_segment(job.time, f"exp_time of job {job.jobid}"))
    missing = {}
    for component in sorted(found):
        lacking = sorted(expected - found[component])
        if lacking:
            print(f"{component} is missing {lacking}")
            missing[component] = lacking
    return missing


def _check_components(jobs: list[ExpJob], names: list[str], exp_name: str) -> None:
    known = sorted({j.component for j in jobs if j.component is not None})
    unknown = [name for name in names if name not in known]
    if unknown:
        raise UnknownExperimentError(
            f"experiment {exp_name!r} has no component {', '.join(map(repr, unknown))}: "
            f"its components are {', '.join(known)}"
        )


def _strings(values: Any, name: str) -> list[str]:
    """A list of tag values: None -> [], one value -> [it], else each one as a string."""
    if values is None:
        return []
    if isinstance(values, str | Integral):
        return [str(values)]
    return [str(v) for v in _iterable(values, name)]


def _iterable(values: Any, name: str = "time_segments") -> Iterable[Any]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise QueryTypeError(f"{name} must be a list, not {values!r}")
    return values


def _segment(value: Any, what: str) -> int:
    """A time segment as an int (from an int or a string of digits)."""
    if isinstance(value, Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise QueryError(f"{what} must be an integer such as 18540101, not {value!r}")
