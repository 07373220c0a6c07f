"""An experiment by component and by time segment: EPMT's ``exp_component_outliers`` and
``exp_time_segment_stats``, each from one read of the experiment's jobs."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from numbers import Integral, Real
from typing import Any

import numpy as np

from epmt_graph.db import Graph
from epmt_graph.errors import QueryError, QueryTypeError
from epmt_graph.explore.experiment import ExpJob, experiment_jobs, outlier_counts

__all__ = [
    "Reducer",
    "by_component",
    "by_time_segment",
    "check_limit",
    "check_op",
    "exp_component_outliers",
    "exp_time_segment_stats",
    "ranked",
]

#: What ``op`` is: a reduction of a numpy vector to a number (``np.sum``, ``np.mean``, ...).
Reducer = Callable[..., Any]


def exp_component_outliers(
    exp_name: str,
    metric: str = "duration",
    op: Reducer = np.sum,
    limit: int | None = 10,
    *,
    graph: Graph | None = None,
) -> list[dict[str, Any]]:
    """The components of an experiment, by ``op`` of a metric over each one's jobs, with
    each job's outlier score (EPMT's ``exp_component_outliers``).

    Jobs of one component are likely comparable, so a job far from the others of its
    component may bear investigation.

    Parameters
    ----------
    exp_name : str
        The experiment (the jobs' ``exp_name`` tag).
    metric : str
        A job metric: ``duration``, ``cpu_time``, ``exitcode`` or a sum over the job's
        processes such as ``num_procs``, ``num_threads``, ``rchar``.
    op : callable
        A reduction of a numpy vector to a number: ``np.sum``, ``np.mean``, ``np.max``, ...
    limit : int or None
        At most this many components (None: all).

    Returns
    -------
    list of dict
        One dict per component, by decreasing ``op(metrics)`` (ties in the order the
        components' first jobs started): ``exp_component``; ``exp_times``, ``jobids`` and
        ``metrics`` (a numpy array) of its jobs, by start time; ``outlier_scores`` (an
        array): for each job, how many of the classifiers ``iqr``, ``z_score`` (over 3)
        and ``modified_z_score`` (over 3.5) call it an outlier within its component.

    Raises
    ------
    UnknownExperimentError
        If no job has that ``exp_name`` (EPMT logs a warning and returns False).
    NotFoundError
        If there is no such metric (EPMT's ``KeyError``).
    QueryTypeError
        If the metric is not a number (EPMT's ``TypeError``), or ``op`` is not a
        reduction.
    QueryError
        If a job of the experiment has no ``exp_component`` tag (EPMT's ``KeyError``), or
        ``limit`` is not a non-negative integer or None.

    Examples
    --------
    >>> import numpy as np
    >>> top = exp_component_outliers("ESM4_historical_D151", limit=2)
    >>> [(c["exp_component"], c["jobids"], c["metrics"].tolist()) for c in top]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('ocean_month_rho2_1x1deg', ['685016', '692544'], [7005618511, 709300857]),
     ('ocean_annual_rho2_1x1deg', ['685000', '691201'], [6460243317, 345014124])]
    >>> [c["exp_component"] for c in exp_component_outliers(
    ...     "ESM4_historical_D151", "cpu_time", op=np.mean, limit=3)]
    ['ocean_monthly_z_1x1deg', 'ocean_inert_z_1x1deg', 'ocean_month_rho2_1x1deg']
    """
    check_op(op)
    check_limit(limit)
    components = by_component(experiment_jobs(exp_name, metric, graph=graph), exp_name)
    return [component for component, _ in ranked(components, op, limit)]


def exp_time_segment_stats(
    exp_name: str, metric: str = "duration", *, graph: Graph | None = None
) -> OrderedDict[str, dict[str, list[Any]]]:
    """An experiment's jobs by time segment (EPMT's ``exp_time_segment_stats``): does one
    segment take much longer than another?

    Parameters
    ----------
    exp_name : str
        The experiment (the jobs' ``exp_name`` tag).
    metric : str
        A job metric, as for :func:`exp_component_outliers`.

    Returns
    -------
    OrderedDict
        ``exp_time`` -> ``{'jobids': [...], 'metrics': [...]}``, the segments in the order
        their first jobs started, each one's jobs by start time; jobs without an
        ``exp_time`` tag are left out.

    Raises
    ------
    UnknownExperimentError
        If no job has that ``exp_name`` (EPMT returns an empty OrderedDict).
    NotFoundError
        If there is no such metric (EPMT's ``KeyError``).
    QueryTypeError
        If the metric is not a number.

    Examples
    --------
    >>> stats = exp_time_segment_stats("ESM4_historical_D151")
    >>> list(stats), stats["18840101"]["jobids"]
    (['18590101', '18840101', '18890101', '19090101'], ['685000', '685003', '685016'])
    >>> exp_time_segment_stats("ESM4_historical_D151", "num_threads")["19090101"]
    {'jobids': ['804268', '804280'], 'metrics': [7203, 6368]}
    """
    return by_time_segment(experiment_jobs(exp_name, metric, graph=graph))


def by_component(jobs: list[ExpJob], exp_name: str) -> list[dict[str, Any]]:
    """The components of ``jobs`` in the order their first jobs come, as
    :func:`exp_component_outliers` returns them (unsorted, not limited)."""
    untagged = [j.jobid for j in jobs if j.component is None]
    if untagged:
        raise QueryError(
            f"jobs {', '.join(untagged)} of experiment {exp_name!r} have no exp_component tag"
        )
    groups: dict[str, list[ExpJob]] = {}
    for job in jobs:
        groups.setdefault(str(job.component), []).append(job)
    components = []
    for name, members in groups.items():
        metrics = np.array([j.value for j in members])
        components.append(
            {
                "exp_component": name,
                "exp_times": [j.time for j in members],
                "jobids": [j.jobid for j in members],
                "metrics": metrics,
                "outlier_scores": outlier_counts(metrics),
            }
        )
    return components


def by_time_segment(jobs: list[ExpJob]) -> OrderedDict[str, dict[str, list[Any]]]:
    """The jobs with an ``exp_time`` tag, grouped by it, in the order they come."""
    segments: OrderedDict[str, dict[str, list[Any]]] = OrderedDict()
    for job in jobs:
        if job.time:
            entry = segments.setdefault(job.time, {"jobids": [], "metrics": []})
            entry["jobids"].append(job.jobid)
            entry["metrics"].append(job.value)
    return segments


def check_op(op: Any) -> None:
    """Refuse an ``op`` that is not callable.

    Raises
    ------
    QueryTypeError
        Naming it.
    """
    if not callable(op):
        raise QueryTypeError(f"op must be a reduction such as np.sum or np.mean, not {op!r}")


def check_limit(limit: Any) -> None:
    """Refuse a ``limit`` that is not a non-negative integer or None.

    Raises
    ------
    QueryError
        Naming it.
    """
    if limit is None:
        return
    if isinstance(limit, bool) or not isinstance(limit, Integral) or limit < 0:
        raise QueryError(f"limit must be a non-negative integer or None, not {limit!r}")


def ranked(
    components: list[dict[str, Any]], op: Reducer, limit: int | None
) -> list[tuple[dict[str, Any], Any]]:
    """The first ``limit`` components by decreasing ``op(metrics)`` (ties in their order),
    each with that value.

    Raises
    ------
    QueryTypeError
        If ``op`` gives anything but a number.
    """
    keys = []
    for component in components:
        value = op(component["metrics"])
        if isinstance(value, bool | np.bool_) or not isinstance(value, Real):
            raise QueryTypeError(f"op must reduce a vector to a number; {op!r} gave {value!r}")
        keys.append(value)
    order = sorted(range(len(components)), key=lambda i: keys[i], reverse=True)
    return [(components[i], keys[i]) for i in order[:limit]]
