"""What every outlier detector checks before it scores, once: the jobs (loaded, enough of
them), the reference model (known, enabled), the classifiers, and EPMT's rules for
multivariate (pyod) classifiers.

Without a reference model, jobs are compared among themselves: at least :data:`MIN_JOBS`
of them (EPMT's rule). With one (``trained_model=``, an id or a model from
``create_refmodel``), each classifier scores against the values the model kept. Bad input
is refused before anything is scored, with a typed error (:mod:`epmt_graph.errors`).
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from epmt_graph.api.comparable import COMPARABLE_KEYS, warn_incomparable
from epmt_graph.api.comparable_analysis import MIN_JOBS_WITHOUT_MODEL
from epmt_graph.api.jobs import get_jobs
from epmt_graph.api.params import jobids
from epmt_graph.api.refmodels import model_id, model_row, model_rows, unknown_model
from epmt_graph.api.stats import classifier_name, settings
from epmt_graph.db import Graph
from epmt_graph.errors import ModelError, OutlierError, QueryError, UnknownJobError
from epmt_graph.outliers.stat import get_classifier_name, is_classifier_mv

__all__ = [
    "LEAN_FEATURES",
    "MIN_JOBS",
    "check_enough",
    "job_frame",
    "job_inputs",
    "job_rows",
    "lean",
    "load_model",
    "named_features",
    "refuse_missing_values",
    "refuse_unsupported",
    "split_methods",
]

#: Fewest jobs outlier detection compares among themselves, without a model (EPMT's rule).
MIN_JOBS = MIN_JOBS_WITHOUT_MODEL

#: The features the light rows carry, of jobs (``JobQuery.summaries``) and of operations
#: (:func:`~epmt_graph.api.opmetrics.op_feature_rows`): EPMT's default features.
LEAN_FEATURES = frozenset({"num_procs", "duration", "cpu_time"})

#: The columns of ``outlier-job-features``' rows that make the lean frame, in their order.
_LEAN_COLUMNS = ("jobid", "duration", "cpu_time", "num_procs")

_log = logging.getLogger(__name__)


def named_features(requested: Any) -> list[str]:
    """The feature names ``requested`` spells out: ``[]`` for every feature (``'*'``,
    ``''``, None or an empty list), a str as one name.

    Examples
    --------
    >>> named_features("*"), named_features("duration"), named_features(("a", "b"))
    ([], ['duration'], ['a', 'b'])
    """
    if isinstance(requested, str):
        return [] if requested in ("", "*") else [requested]
    return [] if requested is None else list(requested)


def lean(requested: Any) -> bool:
    """Whether the features ``requested`` are all among :data:`LEAN_FEATURES`, so that the
    light rows answer as the full ones would (any other name, or every feature, needs the
    full rows).

    Examples
    --------
    >>> lean(["duration", "cpu_time"]), lean(["duration", "rssmax"]), lean("*")
    (True, False, False)
    """
    named = named_features(requested)
    return bool(named) and set(named) <= LEAN_FEATURES


def _missing(ids: list[str], loaded: set[str]) -> None:
    missing = [j for j in ids if j not in loaded]
    if missing:
        raise UnknownJobError(f"jobs not loaded: {missing}")


def job_frame(
    graph: Graph, jobs: Any, sanity_check: bool = False, features: Any = "*"
) -> pd.DataFrame:
    """The jobs as ``get_jobs(fmt='pandas')`` rows (one query), or the DataFrame given
    (it needs a ``jobid`` column); with ``sanity_check``, warn if they are not comparable.
    When the ``features`` to be used are :func:`lean`, only the jobs' light rows
    (``jobid``, ``tags``, ``start`` in µs and :data:`LEAN_FEATURES`) are fetched.

    Raises
    ------
    QueryError
        No jobs, or a DataFrame without ``jobid``.
    UnknownJobError
        A job id names no loaded job.
    """
    if isinstance(jobs, pd.DataFrame):
        if jobs.empty or "jobid" not in jobs.columns:
            raise QueryError("a DataFrame of jobs needs rows and a 'jobid' column")
        frame = jobs
    else:
        ids = jobids(graph, jobs)
        if lean(features):
            frame = pd.DataFrame(get_jobs(ids, fmt="orm", graph=graph).summaries())
        else:
            frame = get_jobs(ids, fmt="pandas", graph=graph)
        _missing(ids, set() if frame.empty else set(frame["jobid"]))
    if sanity_check:
        if {"tags", "duration"} <= set(frame.columns):
            columns = ["jobid", "tags", "duration"]
            warn_incomparable(
                [dict(zip(columns, row, strict=True)) for row in frame[columns].values]
            )
        else:
            warn_incomparable(job_rows(graph, frame))
    return frame


def job_inputs(
    graph: Graph, jobs: Any, trained_model: Any, sanity_check: bool, features: Any
) -> tuple[pd.DataFrame, dict[str, Any] | None]:
    """The jobs' frame (:func:`job_frame`) and the reference model (:func:`load_model`;
    None without one). When the ``features`` are :func:`lean` and the jobs are not a
    DataFrame, both come from one read (``outlier-job-features``): a frame of ``jobid``
    and :data:`LEAN_FEATURES` only, by start. Jobs whose full rows would hold missing
    values are refused (:func:`refuse_missing_values`; that read says when the full rows
    are needed to name the columns).

    Raises
    ------
    QueryError, UnknownJobError, UnknownModelError, ModelError
        As :func:`job_frame` and :func:`load_model`.
    OutlierError
        As :func:`refuse_missing_values`.

    Examples
    --------
    >>> from epmt_graph.db import default_graph
    >>> frame, model = job_inputs(default_graph(), ["685000", "685003"], None, False,
    ...                           ["duration"])
    >>> frame.columns.tolist(), frame["num_procs"].tolist(), model
    (['jobid', 'duration', 'cpu_time', 'num_procs'], [3480, 3785], None)
    """
    if isinstance(jobs, pd.DataFrame) or not lean(features):
        frame = job_frame(graph, jobs, sanity_check, features)
        refuse_missing_values(frame)
        return frame, None if trained_model is None else load_model(graph, trained_model)
    ids = jobids(graph, jobs)
    ident = None if trained_model is None else model_id(trained_model)
    keys = list(COMPARABLE_KEYS)
    found = graph.read("outlier-job-features", jobids=ids, keys=keys, model=ident)[0]
    rows = found["jobs"]
    _missing(ids, {row[0] for row in rows})
    if found["uneven"]:
        refuse_missing_values(get_jobs(ids, fmt="pandas", graph=graph))
    if sanity_check:
        warn_incomparable(
            [{"jobid": row[0], "duration": row[1], "tags": _tags(keys, row[4])} for row in rows]
        )
    model = None
    if ident is not None:
        if found["model"] is None:
            raise unknown_model(ident)
        model = _enabled(model_row(found["model"], found["model_jobs"]))
    frame = pd.DataFrame({c: [row[i] for row in rows] for i, c in enumerate(_LEAN_COLUMNS)})
    return frame, model


def _tags(keys: list[str], values: list[str | None]) -> dict[str, str]:
    return {k: v for k, v in zip(keys, values, strict=True) if v is not None}


def job_rows(graph: Graph, jobs: Any, sanity_check: bool = False) -> list[dict[str, Any]]:
    """The jobs' light rows (``jobid``, ``tags``, ``duration``, ...; one query), in the
    order given; with ``sanity_check``, warn if they are not comparable.

    Raises
    ------
    QueryError
        No jobs.
    UnknownJobError
        A job id names no loaded job.
    """
    ids = jobids(graph, jobs)
    rows = {r["jobid"]: r for r in get_jobs(ids, fmt="orm", graph=graph).summaries()}
    _missing(ids, set(rows))
    if sanity_check:
        warn_incomparable(list(rows.values()))
    return [rows[j] for j in ids]


def check_enough(count: int) -> None:
    """Refuse fewer than :data:`MIN_JOBS` jobs (or operations' rows) without a model."""
    if count < MIN_JOBS:
        raise OutlierError(
            f"Too few jobs to do outlier detection without a trained model: {count}; "
            f"need at least {MIN_JOBS}"
        )


def load_model(graph: Graph, trained_model: Any) -> dict[str, Any]:
    """The reference model's dict (``computed`` nested), by id or as a model.

    Raises
    ------
    UnknownModelError
        No such model (also a ``KeyError``).
    ModelError
        The model is disabled (EPMT's RuntimeError).
    """
    return _enabled(model_rows(graph, trained_model))


def _enabled(model: dict[str, Any]) -> dict[str, Any]:
    if not model["enabled"]:
        raise ModelError(
            f"Trained model {model['id']} is disabled: enable it with "
            f"refmodel_set_enabled({model['id']}, True) and try again"
        )
    return model


def split_methods(methods: Any) -> tuple[list[str], list[Any]]:
    """The classifiers given (default: EPMT's ``settings.univariate_classifiers``, read
    now) as ``(univariate names, multivariate classifiers)``.

    Raises
    ------
    QueryError
        An unknown classifier, or univariate and multivariate ones together (as EPMT).

    Examples
    --------
    >>> from epmt_graph.outliers.stat import iqr
    >>> split_methods([iqr, "z_score"]), split_methods(None)[0]
    ((['iqr', 'z_score'], []), ['iqr', 'modified_z_score', 'z_score'])
    """
    if not methods:
        given = list(settings().univariate_classifiers)
    elif isinstance(methods, str) or callable(methods):
        given = [methods]
    else:
        given = list(methods)
    multivariate = [m for m in given if is_classifier_mv(m)]
    univariate = [classifier_name(get_classifier_name(m)) for m in given if not is_classifier_mv(m)]
    if univariate and multivariate:
        raise QueryError("OD using both UV and MV classifiers together is unsupported")
    return list(dict.fromkeys(univariate)), multivariate


def refuse_unsupported(pca: Any, multivariate: list[Any], model: Any) -> None:
    """Refuse what EPMT refuses of multivariate (pyod) classifiers: they need a reference
    model (they score rows against the rows it kept), and exclude PCA.

    Raises
    ------
    QueryError
        Multivariate classifiers without a model, or with ``pca``.
    """
    if multivariate and model is None:
        raise QueryError("Multivariate classifiers require a trained model for outlier detection")
    if multivariate and pca:
        raise QueryError("Multivariate classifiers use with PCA is neither advisable nor supported")


def refuse_missing_values(frame: pd.DataFrame) -> None:
    """Refuse jobs whose rows hold missing values (NaN) in some column, any column, as
    EPMT's ``detect_outlier_jobs`` does: jobs recorded with different papiex metrics, whose
    frame (``get_jobs(fmt='pandas')`` rows, or the DataFrame given) has no value in the
    metrics some of them lack.

    Raises
    ------
    OutlierError
        Naming the columns (also a ValueError, as EPMT's).

    Examples
    --------
    >>> refuse_missing_values(get_jobs(["685000", "685003"], fmt="pandas"))
    >>> try:
    ...     refuse_missing_values(get_jobs(["685000", "3455"], fmt="pandas"))
    ... except OutlierError as error:
    ...     print(str(error)[:68])
    dataframe columns ['cmajflt', 'cminflt', 'cstime', 'cutime'] contain
    """
    gaps = sorted(frame.columns[frame.isna().any()])
    if gaps:
        raise OutlierError(
            f"dataframe columns {gaps} contain at least one NaN each: some of the jobs lack "
            "these fields (recorded with other metrics?)"
        )
