"""Outlier jobs: ``detect_outlier_jobs`` and ``partition_jobs``, as EPMT 5.0.1's.

The jobs' features are their sums over processes, stored on each Job node when it is
loaded: one ``get_jobs(fmt='pandas')`` query for any number of jobs. Each feature is
scored by each univariate classifier (:func:`epmt_graph.api.stats.classify`), among the
jobs or against a reference model; a job's count for a feature is how many classifiers
call it an outlier. With ``pca=`` the features' principal components are scored instead,
and with multivariate (pyod) classifiers the jobs are scored against the rows a model
kept (:mod:`epmt_graph.outliers.multivariate`).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from epmt_graph.api.stats import classify, settings
from epmt_graph.db import Graph, default_graph
from epmt_graph.errors import OutlierError
from epmt_graph.outliers.features import choose_features
from epmt_graph.outliers.inputs import check_enough, job_inputs, refuse_unsupported, split_methods
from epmt_graph.outliers.multivariate import model_pca, mvod_job_counts, pca_job_counts

__all__ = ["detect_outlier_jobs", "partition_jobs", "partitions"]

_log = logging.getLogger(__name__)

Partitions = dict[str, tuple[set[str], set[str]]]


def partitions(counts: pd.DataFrame, features: list[str]) -> Partitions:
    """Per feature, ``(ids of the rows no classifier flagged, ids of the others)`` of a
    frame of counts with a ``jobid`` column.

    Examples
    --------
    >>> counts = pd.DataFrame({"jobid": ["a", "b"], "duration": [0, 2]})
    >>> partitions(counts, ["duration"])
    {'duration': ({'a'}, {'b'})}
    """
    ids = counts["jobid"].to_numpy()
    values = {f: counts[f].to_numpy() for f in features}
    return {f: (set(ids[values[f] == 0]), set(ids[values[f] > 0])) for f in features}


def detect_outlier_jobs(
    jobs: Any,
    trained_model: Any = None,
    features: Any = None,
    methods: Any = None,
    thresholds: Any = None,
    sanity_check: bool = True,
    pca: Any = False,
    *,
    graph: Graph | None = None,
) -> Any:
    """Outlier jobs, feature by feature (EPMT's ``detect_outlier_jobs``).

    Parameters
    ----------
    jobs : job ids, Job records, a query, or a DataFrame of jobs (with ``jobid``)
        At least 4 without ``trained_model``.
    trained_model : int or model, optional
        A reference model (``create_refmodel``): the jobs are scored against the values
        it kept, and a job is an outlier where it scores above the model's jobs.
    features : list of str, or ``'*'``/``[]`` for every feature, optional
        Default: EPMT's ``settings.outlier_features``, read now (duration, cpu_time,
        num_procs). With a model, only those it has scores for (its active metrics).
    methods : list of classifiers (functions or names), optional
        Default: ``settings.univariate_classifiers``. Or multivariate pyod classifiers
        (``mvod_classifiers()``), with a model built with them. With a model, those it
        lacks are skipped (with a warning).
    thresholds : dict, optional
        Per classifier, the score above which a value is an outlier without a model.
        Default: ``settings.outlier_thresholds``, read now.
    sanity_check : bool
        Warn (on stderr) when the jobs are not comparable.
    pca : bool, int or float
        Score the features' principal components instead (``True``: as many as explain
        85% of the variance; an int: that many; a float below 1: that share); best with
        ``features=[]``. A model built with PCA turns it on. With a model, its jobs are
        added to fit the components, and a job is an outlier where it scores above them.

    Returns
    -------
    (DataFrame, dict)
        ``jobid`` and one column per feature (sorted): how many classifiers call the job
        an outlier for it; and per feature ``(inlier ids, outlier ids)`` as sets. With
        ``pca``, the features are the components, after a ``pca_weighted`` column (the
        counts weighted by the components' variance ratios, EPMT's
        :func:`~epmt_graph.outliers.pca.pca_weighted_score`).
    DataFrame, or (DataFrame, dict)
        With multivariate classifiers: ``jobid`` and ``outlier`` (how many classifiers
        call the job one); with more than one classifier, each one's 0/1 vector too.

    Raises
    ------
    OutlierError
        Fewer than 4 jobs without a model (also a RuntimeError, as EPMT), only features
        that are not numeric (others are skipped, as EPMT), a model without the features
        or classifiers asked for; jobs whose rows hold NaN in some column, such as jobs
        recorded with other papiex metrics (also a ValueError, as EPMT).
    UnknownModelError, ModelError
        An unknown or disabled model.
    QueryError
        No jobs, an unknown classifier, a bad ``pca``, multivariate classifiers without a
        model or with ``pca``; ``UnknownJobError`` for a job not loaded.
    MissingDependencyError
        Multivariate classifiers without pyod.

    Examples
    --------
    >>> jobs = ["685000", "685003", "685016", "692544"]
    >>> df, parts = detect_outlier_jobs(jobs, sanity_check=False)
    >>> df
        jobid  cpu_time  duration  num_procs
    0  685000         0         0          0
    1  685003         0         0          2
    2  685016         0         0          0
    3  692544         0         2          0
    >>> parts["duration"][1], parts["cpu_time"][1]
    ({'692544'}, set())
    >>> df, parts = detect_outlier_jobs(jobs, features=[], pca=2, methods=["z_score"],
    ...                                 thresholds={"z_score": 1.5}, sanity_check=False)
    >>> df
        jobid  pca_weighted  pca_01  pca_02
    0  685000           1.0       0       1
    1  685003           0.0       0       0
    2  685016           0.0       0       0
    3  692544           0.0       0       0
    """
    graph = graph or default_graph()
    requested = settings().outlier_features if features is None else features
    frame, model = job_inputs(graph, jobs, trained_model, sanity_check, requested)
    if model is None:
        check_enough(len(frame))
    univariate, multivariate = split_methods(methods)
    if model is not None and model["op_tags"]:
        raise OutlierError(
            f"model {model['id']} was built on operations (op_tags): use detect_outlier_ops"
        )
    if model is not None:
        lacking = [name for name in univariate if name not in model["computed"]]
        if lacking:
            _log.warning("Skipping classifiers %s: not in trained model %s", lacking, model["id"])
        univariate = [name for name in univariate if name not in lacking]
        if not univariate and not multivariate:
            raise OutlierError(
                f"model {model['id']} has scores for the classifiers {sorted(model['computed'])}"
                f", not for {lacking}"
            )
    pca = model_pca(model, pca)
    refuse_unsupported(pca, multivariate, model)
    chosen = choose_features(requested, frame, model)
    if multivariate and model is not None:
        return mvod_job_counts(frame, chosen, multivariate, model)
    if pca:
        found = pca_job_counts(graph, frame, chosen, univariate, thresholds, model, pca)
        return found.weighted(), partitions(found.counts, found.names)
    counts = {f: np.zeros(len(frame), dtype=np.int64) for f in chosen}
    for feature in chosen:
        values = frame[feature].tolist()
        for name in univariate:
            params = model["computed"][name].get(feature, ()) if model else ()
            counts[feature] += classify(name, values, params, thresholds).flags
    out = pd.DataFrame({"jobid": frame["jobid"].to_numpy(), **counts}, index=frame.index)
    return out, partitions(out, chosen)


def partition_jobs(
    jobs: Any,
    features: Any = None,
    methods: Any = None,
    thresholds: Any = None,
    *,
    graph: Graph | None = None,
) -> Partitions:
    """Per feature, the jobs split into ``(reference jobs, outlier jobs)`` sets (EPMT's
    ``partition_jobs``): :func:`detect_outlier_jobs`'s second answer.

    Examples
    --------
    >>> parts = partition_jobs(["685000", "685003", "685016", "692544"],
    ...                        features=["duration"], methods=["iqr"])
    >>> sorted(parts["duration"][0]), parts["duration"][1]
    (['685000', '685003', '685016'], {'692544'})
    """
    parts: Partitions = detect_outlier_jobs(
        jobs, features=features, methods=methods, thresholds=thresholds, graph=graph
    )[1]
    return parts
