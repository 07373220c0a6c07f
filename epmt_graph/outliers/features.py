"""Which features outlier detection uses (``sanitize_features``) and how they are
distributed over jobs (``get_feature_distributions``), as EPMT 5.0.1's.

A feature is a numeric column of the jobs' (or operations') rows that is not an id, a
name, a time or a dict (:func:`epmt_graph.api.stats.is_feature`); with a reference model,
only the features it has scores for (its active metrics, if some are set).
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from epmt_graph.api.refmodel_state import model_metrics
from epmt_graph.api.refmodels import model_rows
from epmt_graph.api.stats import features_of, is_feature
from epmt_graph.db import Graph, default_graph
from epmt_graph.errors import ModelError, OutlierError
from epmt_graph.outliers.inputs import job_frame, named_features
from epmt_graph.outliers.stat import DISTRIBUTIONS, check_dist

__all__ = ["choose_features", "get_feature_distributions", "sanitize_features"]

_log = logging.getLogger(__name__)


def choose_features(
    requested: Any, frame: pd.DataFrame, model: dict[str, Any] | None = None
) -> list[str]:
    """The features to use, sorted: those ``requested`` (``'*'``, ``[]`` or None: every
    feature column of ``frame``) that are feature columns of ``frame`` and, with a model
    (its dict), among its active metrics. As EPMT's ``sanitize_features``, names that are
    not columns are left out, and so are columns that are not numeric (``start``,
    ``jobname``), with a warning logged, as long as another feature is left.

    Raises
    ------
    OutlierError
        Only columns that are not numeric requested; no feature left (also a
        RuntimeError, as EPMT); a feature with missing values.

    Examples
    --------
    >>> frame = pd.DataFrame({"jobid": ["a", "b"], "duration": [1, 2], "rssmax": [3, 4]})
    >>> choose_features("*", frame), choose_features(["rssmax", "no_such"], frame)
    (['duration', 'rssmax'], ['rssmax'])
    >>> choose_features(["jobid", "duration"], frame)
    ['duration']
    >>> choose_features(["jobid"], frame)
    Traceback (most recent call last):
    ...
    epmt_graph.errors.OutlierError: features ['jobid'] are not numeric features
    """
    named = named_features(requested)
    bad = [f for f in named if f in frame.columns and not is_feature(frame, f)]
    numeric = [f for f in named if f not in bad]
    if bad and not numeric:
        raise OutlierError(f"features {bad} are not numeric features")
    if bad:
        _log.warning("Skipping features %s: not numeric", bad)
    allowed = None if model is None else model_metrics(model, active_only=True)
    try:
        chosen = features_of(numeric or "*", frame, allowed)
    except ModelError as exc:
        asked = named or "every feature"
        if model is not None:
            raise OutlierError(
                f"model {model['id']} has scores for {sorted(allowed or ())}, none of the "
                f"features asked for ({asked}): it was built on other features"
            ) from exc
        raise OutlierError(f"no numeric feature among {asked}") from exc
    gaps = [f for f in chosen if frame[f].isna().any()]
    if gaps:
        raise OutlierError(f"features {gaps} have missing values (NaN)")
    return chosen


def sanitize_features(
    f: Any, df: pd.DataFrame, model: Any = None, *, graph: Graph | None = None
) -> list[str]:
    """EPMT's ``sanitize_features``: the usable features among ``f`` for the rows ``df``,
    sorted (see :func:`choose_features`); ``model`` (an id or a model) keeps those it has
    scores for.

    Raises
    ------
    OutlierError
        As :func:`choose_features`.
    UnknownModelError
        ``model`` names no model.

    Examples
    --------
    >>> jobs = eq.get_jobs(["685000", "685003"], fmt="pandas")
    >>> sanitize_features(["cpu_time", "duration", "no_such"], jobs)
    ['cpu_time', 'duration']
    >>> len(sanitize_features("*", jobs))
    29
    """
    row = None if model is None else model_rows(graph or default_graph(), model)
    return choose_features(f, df, row)


def get_feature_distributions(
    jobs: Any, features: Any = None, *, graph: Graph | None = None
) -> dict[str, str]:
    """Per feature, the distribution its values over the jobs follow: ``'norm'`` if more
    of scipy's normality tests pass than fail (:func:`~epmt_graph.outliers.stat.check_dist`),
    else ``'uniform'`` if the uniform test passes, else ``'unknown'``.

    Parameters
    ----------
    jobs : jobs in any form ``get_jobs`` takes, or their ``pandas`` DataFrame
    features : list of str, optional
        Default: every feature of the jobs.

    Returns
    -------
    dict
        By feature, in sorted order.

    Raises
    ------
    QueryError
        No jobs; ``UnknownJobError`` for one not loaded; ``OutlierError`` for a feature
        that is not numeric.

    Examples
    --------
    >>> get_feature_distributions(["685000", "685003", "685016"],
    ...                           features=["cpu_time", "num_procs"])
    {'cpu_time': 'norm', 'num_procs': 'norm'}
    """
    graph = graph or default_graph()
    wanted = [] if features is None else features
    frame = job_frame(graph, jobs, sanity_check=True, features=wanted)
    out = {}
    for feature in choose_features(wanted, frame):
        values = frame[feature].to_numpy(dtype=float)
        out[feature] = "unknown"
        for dist in DISTRIBUTIONS:
            passed, failed = check_dist(values, dist)
            if passed > failed:
                out[feature] = dist
                break
    return out
