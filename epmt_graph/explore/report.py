"""EPMT's printed drill-down of an experiment, ``exp_explore``: its components by a metric,
each component's jobs by time segment with their outlier marks, then the time segments."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from scipy.stats import variation

from epmt_graph.db import Graph
from epmt_graph.explore.components import (
    Reducer,
    by_component,
    by_time_segment,
    check_limit,
    check_op,
    ranked,
)
from epmt_graph.explore.experiment import experiment_jobs, outlier_counts

__all__ = ["exp_explore"]

#: One mark per classifier that calls a value an outlier.
_MARK = "**"


def exp_explore(
    exp_name: str,
    metric: str | None = "duration",
    op: Reducer = np.sum,
    limit: int | None = 10,
    *,
    graph: Graph | None = None,
) -> bool:
    """Print a drill-down of an experiment by component and time segment (EPMT's
    ``exp_explore``), from one read of its jobs.

    Three tables, as EPMT prints them: the top ``limit`` components by ``op`` of the
    metric over their jobs (the column headed ``sum`` is ``op``'s value, then the
    component's share of the shown components' total, its least and greatest value and
    their coefficient of variation); each of those components' jobs by time segment,
    marked ``**`` once per classifier calling the job an outlier within its component;
    and the metric summed over each time segment of the whole experiment, marked the same
    way among the segments.

    Parameters
    ----------
    exp_name : str
        The experiment (the jobs' ``exp_name`` tag).
    metric : str or None
        A job metric, as for :func:`~epmt_graph.explore.exp_component_outliers`;
        None or ``''``: ``duration``.
    op : callable
        A reduction of a numpy vector to a number (``np.sum``, ``np.mean``, ...).
    limit : int or None
        How many components to show; None or 0: 10.

    Returns
    -------
    bool
        True, once printed.

    Raises
    ------
    UnknownExperimentError
        If no job has that ``exp_name`` (EPMT fails with a ``TypeError``).
    NotFoundError, QueryTypeError, QueryError
        As :func:`~epmt_graph.explore.exp_component_outliers`.

    Examples
    --------
    >>> exp_explore("ESM4_historical_D151", limit=2)  # doctest: +NORMALIZE_WHITESPACE
    <BLANKLINE>
    top 2 components by sum(duration):
           component           sum                  min          max   cv
    ocean_month_rho2:   7714919368 [53.1%]    709300857   7005618511  0.8
    ocean_annual_rho:   6805257441 [46.9%]    345014124   6460243317  0.9
    <BLANKLINE>
    variations across time segments (by component):
           component     exp_time        jobid         duration
    ocean_month_rho2     18840101       685016       7005618511
    ocean_month_rho2     18890101       692544        709300857
    <BLANKLINE>
    ocean_annual_rho     18840101       685000       6460243317
    ocean_annual_rho     18890101       691201        345014124
    <BLANKLINE>
    duration by time segment:
        18590101       6633201379
        18840101      20081387601   ****
        18890101       2718175074
        19090101       6227875368
    True
    """
    metric = metric or "duration"
    limit = limit or 10
    check_op(op)
    check_limit(limit)
    jobs = experiment_jobs(exp_name, metric, graph=graph)
    components = by_component(jobs, exp_name)
    shown = ranked(components, op, limit)
    title = f"top {limit} components by {getattr(op, '__name__', repr(op))}({metric}):"
    for line in [
        "",
        title,
        *_components_table(shown),
        "",
        "variations across time segments (by component):",
        *_jobs_table([c for c, _ in shown], metric),
        *_segments_table(by_time_segment(jobs), metric),
    ]:
        print(line)
    return True


def _components_table(shown: list[tuple[dict[str, Any], Any]]) -> Iterable[str]:
    """Per component: op's value, share of the shown total, least, greatest, variation."""
    yield f"{'component':>16}  {'sum':>12}         {'min':>12} {'max':>12} {'cv':>4}"
    total = np.sum([np.sum(c["metrics"]) for c, _ in shown])
    with np.errstate(divide="ignore", invalid="ignore"):
        for component, key in shown:
            values = component["metrics"]
            share = 100 * np.sum(values) / total
            yield (
                f"{component['exp_component']:>16.16}: {int(key):12d} [{share:4.1f}%] "
                f"{int(np.min(values)):12d} {int(np.max(values)):12d} {variation(values):4.1f}"
            )


def _jobs_table(shown: list[dict[str, Any]], metric: str) -> Iterable[str]:
    """Per job of each component: its segment, id, value and outlier marks; a blank line
    after each component."""
    yield f"{'component':>16} {'exp_time':>12} {'jobid':>12} {metric:>16}"
    for component in shown:
        name = component["exp_component"]
        rows = zip(
            component["exp_times"],
            component["jobids"],
            component["metrics"],
            component["outlier_scores"],
            strict=True,
        )
        for time, jobid, value, score in rows:
            yield f"{name:>16.16} {time:>12} {jobid:>12} {int(value):16d} {_marks(score):>6}"
        yield ""


def _segments_table(segments: dict[str, dict[str, list[Any]]], metric: str) -> Iterable[str]:
    """Per time segment: the metric summed over its jobs, and its outlier marks."""
    yield f"{metric} by time segment:"
    sums = [np.sum(entry["metrics"]) for entry in segments.values()]
    for time, total, score in zip(segments, sums, outlier_counts(sums), strict=True):
        yield f"{time:>12} {int(total):16d} {_marks(score):>6}"


def _marks(score: Any) -> str:
    return _MARK * int(score)
