"""EPMT's ``epmt_stat`` names that outlier callers use (``import epmt.epmt_stat as es``).

The classifiers ``iqr``, ``modified_z_score`` and ``z_score`` are those of
:mod:`epmt_graph.api.stats` (reference models keep what they return). Here also: naming
and sorting classifiers (:func:`get_classifier_name`, :func:`is_classifier_mv`,
:func:`partition_classifiers_uv_mv`, :func:`uvod_classifiers`), root-cause analysis of one
entity against reference rows (:func:`rca`), and EPMT's helpers on vectors
(:func:`check_dist`, :func:`get_modes`, :func:`normalize`, :func:`standardize`); the
multivariate classifiers and PCA of :mod:`~epmt_graph.outliers.mvod` and
:mod:`~epmt_graph.outliers.pca` under EPMT's names. scipy, scikit-learn and pyod are
imported by the functions that use them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from epmt_graph.api.stats import (
    CLASSIFIERS,
    classifier_name,
    iqr,
    modified_z_score,
    settings,
    z_score,
)
from epmt_graph.errors import OutlierError, QueryError
from epmt_graph.outliers.mvod import mvod_classifiers, mvod_scores, mvod_scores_using_model
from epmt_graph.outliers.pca import pca_stat

__all__ = [
    "DISTRIBUTIONS",
    "check_dist",
    "get_classifier_name",
    "get_modes",
    "iqr",
    "is_classifier_mv",
    "modified_z_score",
    "mvod_classifiers",
    "mvod_scores",
    "mvod_scores_using_model",
    "normalize",
    "partition_classifiers_uv_mv",
    "pca_stat",
    "rca",
    "standardize",
    "uvod_classifiers",
    "z_score",
]

#: The distributions :func:`check_dist` tests for.
DISTRIBUTIONS = ("norm", "uniform")


def get_classifier_name(c: Any) -> str:
    """A classifier's name: its ``__name__`` (``'iqr'``), else its module (a pyod model:
    ``'pyod.models.knn'``); a string is a name already.

    Raises
    ------
    QueryError
        For anything without either (EPMT's ValueError).

    Examples
    --------
    >>> get_classifier_name(iqr), get_classifier_name("z_score")
    ('iqr', 'z_score')
    """
    if isinstance(c, str):
        return c
    name = getattr(c, "__name__", None) or getattr(c, "__module__", None)
    if not isinstance(name, str):
        raise QueryError(f"Could not determine classifier name for {c!r}")
    return name


def is_classifier_mv(c: Any) -> bool:
    """Whether ``c`` is a multivariate classifier (a pyod model).

    Examples
    --------
    >>> is_classifier_mv(modified_z_score)
    False
    """
    return get_classifier_name(c).startswith("pyod")


def partition_classifiers_uv_mv(classifiers: Iterable[Any]) -> tuple[set[Any], set[Any]]:
    """Classifiers split into ``(univariate, multivariate)`` sets.

    Examples
    --------
    >>> partition_classifiers_uv_mv([iqr, z_score]) == ({iqr, z_score}, set())
    True
    """
    given = set(classifiers)
    multivariate = {c for c in given if is_classifier_mv(c)}
    return given - multivariate, multivariate


def uvod_classifiers() -> list[Callable[..., tuple[Any, ...]]]:
    """The univariate classifiers EPMT's ``settings.univariate_classifiers`` names, read now.

    Raises
    ------
    QueryError
        If the setting names an unknown classifier.

    Examples
    --------
    >>> [c.__name__ for c in uvod_classifiers()]
    ['iqr', 'modified_z_score', 'z_score']
    """
    return [CLASSIFIERS[classifier_name(name)] for name in settings().univariate_classifiers]


def _numeric_columns(inp: pd.DataFrame, ref: pd.DataFrame) -> list[str]:
    """The columns of ``inp`` holding numbers (not booleans) that ``ref`` has too."""
    return [
        c
        for c in inp.columns
        if c in ref.columns
        and pd.api.types.is_numeric_dtype(inp[c])
        and not pd.api.types.is_bool_dtype(inp[c])
    ]


def rca(
    ref: pd.DataFrame, inp: Any, features: Any, methods: Sequence[Any] | None = None
) -> tuple[bool, pd.DataFrame | None, list[tuple[str, float]] | None]:
    """Root-cause analysis of one entity (``inp``: a one-row DataFrame or a Series) against
    reference rows ``ref`` (EPMT's ``rca``).

    Each classifier (default: ``modified_z_score``) is fitted on each feature of ``ref``
    and scores the input with the fitted values; the ratio of the input's score to the
    highest reference score (``inf`` when that is 0 and the input's is not) ranks the
    features. ``features``: names, or ``'*'``/``[]``/None for every numeric column of both.

    Returns
    -------
    (True, DataFrame, list of (feature, summed ratio))
        The DataFrame has ``ref``'s ``describe()`` rows, ``input``, and per classifier
        ``ref_max_<name>``, ``<name>``, ``<name>_ratio``; its columns, and the list, run
        from the most deviating feature down; features whose ratios tie keep the order of
        ``inp``'s columns (a stable sort, as EPMT's: EPMT's frames hold the metric sums in
        the order of a Python set of their names, which follows the string hash, so its
        order among tied features changes from one process to the next).
        ``(False, None, None)`` if ``ref`` or ``inp`` is empty.

    Raises
    ------
    OutlierError
        A feature named that is not a numeric column of both.

    Examples
    --------
    >>> ref = pd.DataFrame({"cpu_time": [10, 11, 12], "duration": [5, 5, 6]})
    >>> ok, table, ranked = rca(ref, pd.Series({"cpu_time": 20, "duration": 6}), "*")
    >>> ranked
    [('cpu_time', 9.0), ('duration', 1.0000988386459106)]
    >>> table.loc["modified_z_score", "cpu_time"], table.shape
    (np.float64(6.0705), (12, 2))
    """
    if isinstance(inp, pd.Series):
        inp = inp.to_frame().T.infer_objects()
    if ref.empty or inp.empty:
        return False, None, None
    numeric = _numeric_columns(inp, ref)
    if features is None or (isinstance(features, str | list | tuple) and features in ("*", "")):
        chosen = numeric
    else:
        chosen = [features] if isinstance(features, str) else list(features) or numeric
    bad = [f for f in chosen if f not in numeric]
    if bad:
        raise OutlierError(f"features {bad} are not numeric columns of the reference and input")
    table = ref[chosen].astype(float).describe()
    table.loc["input"] = inp[chosen].iloc[0].astype(float)
    totals = dict.fromkeys(chosen, 0.0)
    for method in methods or [modified_z_score]:
        name = classifier_name(method)
        classifier = CLASSIFIERS[name]
        rows: dict[str, dict[str, float]] = {f"ref_max_{name}": {}, name: {}, f"{name}_ratio": {}}
        for feature in chosen:
            fitted = classifier(ref[feature].tolist())
            score = classifier([inp[feature].iloc[0]], fitted[1:])[0][0]
            top = fitted[1]
            ratio = score / top if top != 0 else (score if score == 0 else float("inf"))
            rows[f"ref_max_{name}"][feature] = top
            rows[name][feature] = score
            rows[f"{name}_ratio"][feature] = ratio
            totals[feature] += float(ratio)
        for label, values in rows.items():
            table.loc[label] = pd.Series(values, dtype=float)
    ranked = sorted(totals.items(), key=lambda item: item[1], reverse=True)
    return True, table[[feature for feature, _ in ranked]], ranked


def check_dist(data: Any = None, dist: str = "norm", alpha: float = 0.05) -> tuple[int, int]:
    """How many of scipy's tests find ``data`` drawn from ``dist`` (p above ``alpha``) and
    how many do not: for ``'norm'``, Shapiro-Wilk, Kolmogorov-Smirnov against the data's
    mean and standard deviation, and D'Agostino beyond 20 values; for ``'uniform'``,
    Kolmogorov-Smirnov over the data's range. A test that cannot decide (constant data)
    fails.

    Raises
    ------
    QueryError
        No data (EPMT draws random data then), or another ``dist``.

    Examples
    --------
    >>> check_dist(range(100), "uniform"), check_dist(range(100), "norm")
    ((1, 0), (1, 2))
    """
    from scipy import stats

    if dist not in DISTRIBUTIONS:
        raise QueryError(f"dist must be one of {', '.join(DISTRIBUTIONS)}, not {dist!r}")
    values = np.asarray(list(data) if data is not None else [], dtype=float)
    if values.size == 0:
        raise QueryError("check_dist needs a non-empty vector of numbers")
    low, high, mean, std = values.min(), values.max(), values.mean(), values.std()
    tests: list[Callable[[np.ndarray], Any]]
    if dist == "uniform":
        tests = [lambda v: stats.kstest(v, "uniform", (low, high - low))]
    else:
        tests = [stats.shapiro, lambda v: stats.kstest(v, "norm", (mean, std))]
        if values.size > 20:
            tests.append(stats.normaltest)
    passed = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for test in tests:
            passed += bool(test(values)[1] > alpha)
    return passed, len(tests) - passed


def _elbow(costs: Sequence[float]) -> int | None:
    """The index of the elbow of a decreasing convex curve of ``costs`` (the Kneedle
    method, sensitivity 1), or None if it has none."""
    from scipy.signal import argrelextrema

    y = np.asarray(costs, dtype=float)
    x = np.linspace(0.0, 1.0, y.size)
    gap = (y.max() - y) / (y.max() - y.min()) - x  # the curve made concave increasing
    maxima = argrelextrema(gap, np.greater_equal)[0].tolist()
    minima = set(argrelextrema(gap, np.less_equal)[0].tolist())
    if not maxima:
        return None
    step = np.abs(np.diff(x).mean())
    threshold, candidate, active = 0.0, 0, True
    for i in range(maxima[0], y.size - 1):
        if i in maxima:
            threshold, candidate, active = gap[i] - step, i, True
        if i in minima:
            threshold, active = 0.0, False
        if active and gap[i + 1] < threshold:
            return candidate
    return None


def get_modes(X: Any, max_modes: int = 10) -> np.ndarray:
    """The modes of a 1-D sample (EPMT's ``get_modes``): k-means (``random_state=0``) for
    1 to ``max_modes - 1`` clusters of the min-max scaled values; the number of modes is
    where the clusters' cost curve bends (its elbow), unless the silhouette score prefers
    another number, when it is 1. Returns the cluster centres, in the data's units.

    Examples
    --------
    >>> sample = np.array([1.0, 1.1, 0.9, 5.0, 5.1, 4.9, 9.0, 9.2, 8.8, 9.1])
    >>> sorted(get_modes(sample).round(3).tolist())
    [1.0, 5.0, 9.025]
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import MinMaxScaler

    scaler = MinMaxScaler()
    scaled = scaler.fit_transform(np.asarray(X, dtype=float).reshape(-1, 1))
    costs, silhouettes = [], []
    for k in range(1, max_modes):
        km = KMeans(n_clusters=k, random_state=0).fit(scaled)
        costs.append(-km.score(scaled))
        if k > 1:
            silhouettes.append(silhouette_score(scaled, km.predict(scaled)))
    elbow = _elbow(costs)
    modes = 1 if elbow is None else elbow + 1
    if modes != 1 and modes != int(np.argmax(silhouettes)) + 2:
        modes = 1
    km = KMeans(n_clusters=modes, random_state=0).fit(scaled)
    centres: np.ndarray = scaler.inverse_transform(km.cluster_centers_).reshape(modes)
    return centres


def normalize(v: Any, min_: float = 0, max_: float = 1) -> np.ndarray:
    """Each column of ``v`` scaled linearly to run from ``min_`` to ``max_``.

    Examples
    --------
    >>> normalize(np.array([[0.0, 10.0], [1.0, 30.0], [2.0, 20.0]])).tolist()
    [[0.0, 0.0], [0.5, 1.0], [1.0, 0.5]]
    """
    from sklearn.preprocessing import minmax_scale

    scaled: np.ndarray = minmax_scale(v, feature_range=(min_, max_), axis=0)
    return scaled


def standardize(v: Any) -> np.ndarray:
    """Each column of ``v`` as z-scores (mean 0, standard deviation 1).

    Examples
    --------
    >>> standardize(np.array([[1.0], [2.0], [3.0]])).round(4).tolist()
    [[-1.2247], [0.0], [1.2247]]
    """
    from scipy.stats import zscore

    scores: np.ndarray = zscore(np.asarray(v, dtype=float), axis=0)
    return scores
