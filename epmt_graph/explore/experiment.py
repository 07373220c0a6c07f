"""An experiment's jobs as the Explore API reads them: one named query for all of them.

:func:`experiment_jobs` runs ``experiment-jobs.cypher`` once and returns, by start time,
each job of the experiment with its tags and one metric; :func:`outlier_counts` is EPMT's
multimode univariate outlier detection (``epmt_stat.outliers_uv``) on the project's
classifiers (:mod:`epmt_graph.api.stats`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np
import numpy.typing as npt

from epmt_graph.api.rows import tags_dict
from epmt_graph.api.stats import CLASSIFIERS, THRESHOLDS
from epmt_graph.db import Graph, default_graph
from epmt_graph.errors import NotFoundError, QueryError, QueryTypeError, UnknownExperimentError
from epmt_graph.schema import JOB_PROPERTIES, PROCESS_METRICS

__all__ = [
    "METRICS",
    "ExpJob",
    "experiment_jobs",
    "outlier_counts",
]

logger = logging.getLogger(__name__)

#: The job metrics every loaded job has: EPMT's numeric ``Job`` columns, then the sums over
#: its processes (EPMT's ``proc_sums``). A further sum kept by a job is a metric too.
METRICS: tuple[str, ...] = (
    "duration",
    "cpu_time",
    "exitcode",
    "num_procs",
    "num_threads",
    *PROCESS_METRICS,
)
#: Job fields (stored, or EPMT's) that are no metric: names, times, maps, bookkeeping.
_NOT_METRICS = (set(JOB_PROPERTIES) - set(METRICS)) | {
    "env_dict",
    "env_changes_dict",
    "info_dict",
    "annotations",
    "analyses",
    "proc_sums",
    "all_proc_tags",
    "user_id",
}


@dataclass(frozen=True)
class ExpJob:
    """One job of an experiment: its id, its tags, and the metric asked for (or None)."""

    jobid: str
    tags: dict[str, str]
    value: int | float | None

    @property
    def component(self) -> str | None:
        """Its ``exp_component`` tag, if any."""
        return self.tags.get("exp_component")

    @property
    def time(self) -> str:
        """Its ``exp_time`` tag (the time segment), ``''`` if none (as EPMT)."""
        return self.tags.get("exp_time", "")


def experiment_jobs(
    exp_name: Any, metric: Any = None, *, graph: Graph | None = None
) -> list[ExpJob]:
    """The jobs tagged ``exp_name:<exp_name>``, by start time, with ``metric`` (if given).

    Parameters
    ----------
    exp_name : str
        The experiment's name (its jobs' ``exp_name`` tag).
    metric : str, optional
        A job metric: ``duration``, ``cpu_time``, ``exitcode`` or a sum over the job's
        processes (``num_procs``, ``num_threads``, ``rchar``, ...; see :data:`METRICS`).

    Raises
    ------
    UnknownExperimentError
        If no loaded job has that ``exp_name`` tag.
    NotFoundError
        If a job of the experiment has no metric of that name.
    QueryTypeError
        If ``metric`` names no number (``jobname``, ``start``, ``tags``, ...).
    QueryError
        If ``exp_name`` or ``metric`` is not a non-empty string.

    Examples
    --------
    >>> jobs = experiment_jobs("ESM4_historical_D151", "num_procs")
    >>> len(jobs), [(j.jobid, j.component, j.time, j.value) for j in jobs[:2]]
    ... # doctest: +NORMALIZE_WHITESPACE
    (9, [('627919', 'ocean_inert_z_1x1deg', '18590101', 7027),
         ('685000', 'ocean_annual_rho2_1x1deg', '18840101', 3480)])
    >>> experiment_jobs("ESM4_historical_D151", "rchars")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    epmt_graph.errors.NotFoundError: no job metric 'rchars' for jobs 627919, 685000, ...
    """
    name = _text(exp_name, "exp_name")
    if metric is not None and _text(metric, "metric") in _NOT_METRICS:
        raise QueryTypeError(f"{metric!r} is not a numeric job metric: use one of {_known()}")
    records = (graph or default_graph()).read(
        "experiment-jobs", pair=f"exp_name:{name}", metric=metric
    )
    if not records:
        raise UnknownExperimentError(f"no loaded job has the tag exp_name:{name}")
    jobs = [ExpJob(r["jobid"], tags_dict(r["tags"]), r["value"]) for r in records]
    logger.info("Experiment %s contains %d jobs: %s", name, len(jobs), [j.jobid for j in jobs])
    if metric is not None:
        _check_values(jobs, metric, name)
    return jobs


def outlier_counts(values: npt.ArrayLike) -> Any:
    """For each value, how many of EPMT's univariate classifiers (``iqr``, ``z_score`` over
    3, ``modified_z_score`` over 3.5) call it an outlier, as EPMT's ``outliers_uv``: an
    array of the values' dtype.

    Examples
    --------
    >>> outlier_counts([10, 11, 12, 10, 11, 12, 11, 10, 100]).tolist()
    [0, 0, 0, 0, 0, 0, 0, 0, 2]
    >>> outlier_counts([5.0]).tolist()
    [0.0]
    """
    vector = np.array(values)
    counts = np.zeros_like(vector)
    if not vector.size:
        return counts
    for name, classifier in CLASSIFIERS.items():
        scores = np.asarray(classifier(vector)[0], dtype=float)
        counts += np.abs(scores) > THRESHOLDS.get(name, 0)
    return counts


def _check_values(jobs: list[ExpJob], metric: str, exp_name: str) -> None:
    missing = [j.jobid for j in jobs if j.value is None]
    if missing:
        named = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        raise NotFoundError(
            f"no job metric {metric!r} for jobs {named} of experiment {exp_name!r}: "
            f"a metric is one of {_known()}"
        )
    if any(isinstance(j.value, bool) or not isinstance(j.value, Real) for j in jobs):
        raise QueryTypeError(f"{metric!r} is not a numeric job metric: use one of {_known()}")


def _known() -> str:
    return ", ".join(METRICS)


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise QueryError(f"{name} must be a non-empty string, not {value!r}")
    return value
