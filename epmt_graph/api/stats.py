"""EPMT's univariate outlier classifiers and the scores a reference model keeps.

Each classifier takes a vector of values (one per job or operation) and, for a model,
``params`` (what it returned when the model was built, less the scores) and returns
``(scores, *params)``, exactly as EPMT 5.0.1's ``epmt_stat``:

* :func:`iqr`: ``(mask, 0, Q1, Q3)``; Q1/Q3 are fitted so that the vector's range is just
  within 1.5 IQR (``Q1 = 3*max/8 + 5*min/8``, ``Q3 = 5*max/8 + 3*min/8``), to 4 places;
* :func:`modified_z_score`: ``(scores, max, median, MAD)``, ``0.6745*|y - median|/MAD``
  to 4 places; the mean absolute deviation stands in for a zero MAD, and when both are
  zero a value off the median scores infinity;
* :func:`z_score`: ``(scores, max, mean, std)``, ``|y - mean|/std``, mean and (population)
  standard deviation to 4 places, a zero ``std`` giving 0 (or the largest float).

A value is an outlier when its score exceeds the model's ``max`` (``params[0]``), or
without a model the classifier's threshold (EPMT's ``settings.outlier_thresholds``; 0 for
the ``iqr`` mask): :func:`classify`, the one place of that rule. The default classifiers
and thresholds are read, when a function is called, from
:mod:`epmt_graph.outliers.settings` (:func:`settings`), as EPMT reads ``epmt_settings``.

EPMT's multivariate classifiers are pyod objects (``epmt_graph.outliers.mvod``), named by
their module (``pyod.models.cof``) as EPMT names them: :func:`is_classifier_mv` tells them
apart and :func:`partition_classifiers` splits a list of classifiers into both kinds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType, ModuleType
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from epmt_graph.api.jobs import FEATURES_BLACKLIST
from epmt_graph.errors import ModelError, QueryError

__all__ = [
    "CLASSIFIERS",
    "FEATURES",
    "THRESHOLDS",
    "Verdict",
    "classifier_name",
    "classifiers",
    "classify",
    "features_of",
    "iqr",
    "is_classifier_mv",
    "is_feature",
    "model_scores",
    "modified_z_score",
    "outlier_partitions",
    "partition_classifiers",
    "settings",
    "z_score",
]

#: ``create_refmodel``'s default features (EPMT's, written there, not read from settings).
FEATURES: tuple[str, ...] = ("duration", "cpu_time", "num_procs")
#: EPMT's default thresholds (``epmt_default_settings``), as EPMT's ``outliers_uv`` binds
#: them when imported; outlier detection reads the live ``settings.outlier_thresholds``
#: (:func:`settings`), which start as these.
THRESHOLDS: Mapping[str, float] = MappingProxyType({"modified_z_score": 3.5, "z_score": 3.0})


def iqr(ys: Iterable[float], params: Sequence[float] = ()) -> tuple[Any, ...]:
    """EPMT's 1.5-IQR rule: ``(mask, 0, fitted Q1, fitted Q3)``.

    Examples
    --------
    >>> mask, zero, q1, q3 = iqr([1, 1, 2, 3, 4, 1, 100])
    >>> mask.tolist(), q1, q3
    ([0, 0, 0, 0, 0, 0, 1], 38.125, 62.875)
    """
    values = np.array(list(ys))
    if params:
        _, q1, q3 = params
    else:
        q1, q3 = np.percentile(values, [25, 75])
    spread = q3 - q1
    mask = ((values > q3 + 1.5 * spread) | (values < q1 - 1.5 * spread)) + 0
    fitted_q1 = 3 * values.max() / 8 + 5 * values.min() / 8
    fitted_q3 = 5 * values.max() / 8 + 3 * values.min() / 8
    return mask, 0, _plain(round(fitted_q1, 4)), _plain(round(fitted_q3, 4))


def modified_z_score(ys: Iterable[float], params: Sequence[float] = ()) -> tuple[Any, ...]:
    """EPMT's modified z-score: ``(scores, max, median, MAD)``.

    Examples
    --------
    >>> modified_z_score([10, 11, 12, 100])[1:]
    (59.6932, 11.5, 1.0)
    >>> modified_z_score([5, 5, 6], params=(0, 5, 0))[0]
    [0, 0, inf]
    """
    values = list(ys)
    median = params[1] if params else np.median(values)
    mad: Any
    if params:
        mad = params[2]
    else:
        deviations = np.abs(np.asarray(values, dtype=float) - median)
        mad = np.median(deviations)
        if mad == 0:
            mad = np.mean(deviations)
    if mad > 0:
        scores = _mad_scores(values, median, mad)
    else:
        scores = [float("inf") if abs(y - median) > 0 else 0 for y in values]
    return scores, *(_plain(round(v, 4)) for v in (max(scores), median, mad))


def _mad_scores(values: list[Any], median: Any, mad: Any) -> list[Any]:
    """``round(0.6745 * |y - median| / mad, 4)`` for each value ``y``, as EPMT computes it:
    numpy numbers, rounded by numpy, when a numpy number takes part (vectorised: the same
    operations, value by value), else Python floats rounded by Python."""
    if any(isinstance(x, np.generic) for x in (median, mad, *values)):
        deviations = np.abs(np.asarray(values, dtype=float) - median)
        return list(np.round(0.6745 * deviations / mad, 4))
    return [round(0.6745 * abs(y - median) / mad, 4) for y in values]


def z_score(ys: Iterable[float], params: Sequence[float] = ()) -> tuple[Any, ...]:
    """EPMT's absolute z-score: ``(scores, max, mean, std)``.

    Examples
    --------
    >>> z_score([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1000])[1:]
    (3.1621, 95.9091, 285.9118)
    """
    values = np.array(list(ys))
    if params:
        _, mean, std = params
    else:
        mean, std = np.mean(values).round(4), np.std(values).round(4)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.nan_to_num(np.abs((values - mean) / std).round(4))
    return scores, _plain(scores.max()), _plain(mean), _plain(std)


Classifier = Callable[..., tuple[Any, ...]]
#: The classifiers by name, in EPMT's default order (``settings.univariate_classifiers``).
CLASSIFIERS: dict[str, Classifier] = {
    "iqr": iqr,
    "modified_z_score": modified_z_score,
    "z_score": z_score,
}


def settings() -> ModuleType:
    """EPMT's outlier settings (:mod:`epmt_graph.outliers.settings`), to be read now.

    Examples
    --------
    >>> settings().univariate_classifiers
    ['iqr', 'modified_z_score', 'z_score']
    """
    from epmt_graph.outliers import settings as module  # the package above: read at call time

    return module


def classifier_name(method: Any) -> str:
    """The name of a classifier given as a name or a function (ours or EPMT's), or of a
    multivariate pyod classifier object (its module, ``pyod.models.cof``, as EPMT names it).

    Raises
    ------
    QueryError
        For anything else.

    Examples
    --------
    >>> classifier_name("iqr"), classifier_name(z_score)
    ('iqr', 'z_score')
    """
    if is_classifier_mv(method):
        return str(type(method).__module__)
    name = method if isinstance(method, str) else getattr(method, "__name__", None)
    if name not in CLASSIFIERS:
        raise QueryError(
            f"unknown classifier {method!r}: use one of {', '.join(CLASSIFIERS)} "
            "(as names or functions of epmt_graph.api.stats) or pyod classifier objects "
            "(epmt_graph.outliers.mvod.mvod_classifiers())"
        )
    return str(name)


def is_classifier_mv(method: Any) -> bool:
    """Whether ``method`` is a multivariate classifier: a pyod classifier object (EPMT's rule:
    it has no ``__name__`` and its module is pyod's).

    Examples
    --------
    >>> is_classifier_mv(z_score), is_classifier_mv("iqr")
    (False, False)
    """
    if isinstance(method, str) or hasattr(method, "__name__"):
        return False
    return str(getattr(type(method), "__module__", "")).startswith("pyod")


def classifiers(methods: Any) -> list[str]:
    """Classifier names for ``methods`` (for None or ``[]``: EPMT's
    ``settings.univariate_classifiers``, read now)."""
    if not methods:
        methods = settings().univariate_classifiers
    if isinstance(methods, str) or callable(methods):
        methods = [methods]
    return list(dict.fromkeys(classifier_name(m) for m in methods))


def partition_classifiers(methods: Any) -> tuple[list[str], list[Any]]:
    """EPMT's ``partition_classifiers_uv_mv``, in the order given and without repeats (by
    name): the univariate classifiers' names and the multivariate (pyod) classifier
    objects. None or ``[]``: the default univariate ones (:func:`classifiers`).

    Raises
    ------
    QueryError
        For a classifier that is neither.

    Examples
    --------
    >>> partition_classifiers(["z_score", iqr, "z_score"])
    (['z_score', 'iqr'], [])
    """
    if not methods:
        return classifiers(methods), []
    if isinstance(methods, str) or callable(methods) or is_classifier_mv(methods):
        methods = [methods]
    named: dict[str, Any] = {}
    for method in methods:
        named.setdefault(classifier_name(method), method)
    return (
        [n for n, m in named.items() if not is_classifier_mv(m)],
        [m for m in named.values() if is_classifier_mv(m)],
    )


def features_of(
    features: Any, frame: pd.DataFrame, allowed: Iterable[str] | None = None
) -> list[str]:
    """EPMT's ``sanitize_features``: the requested features (every column for ``'*'``,
    ``[]`` or None) that are numeric columns of ``frame``, not blacklisted, and among
    ``allowed`` if given; sorted.

    Raises
    ------
    ModelError
        If none is left (EPMT's RuntimeError).
    """
    if features in ([], "", "*", None):
        wanted = set(frame.columns)
    elif isinstance(features, str):
        wanted = {features} & set(frame.columns)
    else:
        wanted = set(features) & set(frame.columns)
    if allowed is not None:
        wanted &= set(allowed)
    usable = {c for c in wanted if is_feature(frame, c)}
    if not usable:
        raise ModelError("Need a non-empty list of features for outlier detection")
    return sorted(usable)


def is_feature(frame: pd.DataFrame, column: str) -> bool:
    """Whether a column of ``frame`` can be a feature: numbers (not booleans), and not in
    :data:`~epmt_graph.api.jobs.FEATURES_BLACKLIST`.

    Examples
    --------
    >>> frame = pd.DataFrame({"jobid": ["a"], "duration": [1.5], "ok": [True]})
    >>> [is_feature(frame, c) for c in frame.columns]
    [False, True, False]
    """
    series = frame[column]
    return (
        column not in FEATURES_BLACKLIST
        and pd.api.types.is_numeric_dtype(series)
        and not pd.api.types.is_bool_dtype(series)
    )


class Verdict(NamedTuple):
    """What a classifier says of a vector: ``flags`` (one bool a value), its ``scores`` and
    the ``threshold`` they were held against."""

    flags: np.ndarray
    scores: Sequence[float]
    threshold: float

    @property
    def excess(self) -> Any:
        """How far the highest score passes the threshold (0 if it does not): EPMT's
        measure of how much an operation is out of line. Of the scores' type (a numpy
        number for ``iqr`` and ``z_score``), as EPMT sums and rounds it."""
        return max(max(self.scores) - self.threshold, 0)


def classify(
    name: str,
    values: Iterable[float],
    params: Sequence[float] = (),
    thresholds: Mapping[str, float] | None = None,
) -> Verdict:
    """Score ``values`` with the classifier ``name`` and flag the outliers: a value is one
    when its absolute score exceeds the model's ``params[0]`` (the highest score over the
    model's jobs), or without ``params`` the classifier's threshold in ``thresholds``
    (default: EPMT's settings, read now; 0 for a classifier without one, as ``iqr``).

    Examples
    --------
    >>> verdict = classify("modified_z_score", [10, 11, 12, 100])
    >>> verdict.flags.tolist(), verdict.threshold, float(round(verdict.excess, 4))
    ([False, False, False, True], 3.5, 56.1932)
    >>> classify("z_score", [10, 11, 12, 100], params=(1.0, 11.0, 1.0)).flags.tolist()
    [False, False, False, True]
    """
    scores = CLASSIFIERS[name](list(values), params)[0]
    limits = settings().outlier_thresholds if thresholds is None else thresholds
    threshold = params[0] if params else limits.get(name, 0)
    flags = np.abs(np.asarray(scores, dtype=float)) > threshold
    return Verdict(flags, scores, threshold)


def model_scores(frame: pd.DataFrame, methods: list[str], features: list[str]) -> dict[str, Any]:
    """What a model keeps: per classifier, per feature, the classifier's values less the
    scores (EPMT's ``_refmodel_scores``), a tuple of plain floats (a list once stored)."""
    return {
        name: {
            feature: tuple(_plain(v) for v in CLASSIFIERS[name](frame[feature].tolist())[1:])
            for feature in features
        }
        for name in methods
    }


def outlier_partitions(
    frame: pd.DataFrame,
    features: list[str],
    methods: list[str],
    computed: dict[str, Any] | None = None,
) -> dict[str, list[list[str]]]:
    """Per feature, ``[inliers, outliers]`` (sorted job ids) of the rows of ``frame``: a
    row is an outlier for a feature if any classifier flags it (:func:`classify`, against
    the model's ``computed`` values if given), as EPMT's ``detect_outlier_jobs``."""
    out = {}
    for feature in features:
        hits = np.zeros(len(frame), dtype=int)
        for name in methods:
            params = (computed or {}).get(name, {}).get(feature, ())
            hits += classify(name, frame[feature].tolist(), params).flags
        ids = frame["jobid"].tolist()
        out[feature] = [
            sorted(j for j, h in zip(ids, hits, strict=True) if not h),
            sorted(j for j, h in zip(ids, hits, strict=True) if h),
        ]
    return out


def _plain(value: Any) -> Any:
    """A numpy number as a Python int or float."""
    return value.item() if isinstance(value, np.generic) else value
