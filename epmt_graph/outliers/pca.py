"""Principal component analysis of job (or operation) features, as EPMT 5.0.1's
``pca_stat`` (``epmt_stat``), ``pca_feature_combine``, ``_pca_weighted_score`` and
``pca_feature_rank`` (``epmt_outliers``), on scikit-learn's ``PCA``.

The features are scaled to zero mean and unit variance (``StandardScaler``) and projected on
their principal components, named ``pca_01``, ``pca_02``, ...; the components' explained
variance ratios weigh them: :func:`pca_weighted_score` sums outlier flags weighted by them
(the ``pca_weighted`` column of ``detect_outlier_jobs(..., pca=True)``) and
:func:`pca_feature_rank` ranks the features by their weighted share of the components.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from epmt_graph.api.jobs import get_jobs
from epmt_graph.api.stats import features_of
from epmt_graph.db import Graph
from epmt_graph.errors import QueryError

__all__ = [
    "_pca_weighted_score",
    "pca_feature_combine",
    "pca_feature_rank",
    "pca_stat",
    "pca_weighted_score",
]

_log = logging.getLogger(__name__)

_Floats = npt.NDArray[np.float64]

#: Below this summed variance ratio the components are a poor summary (EPMT warns).
_LOW_VARIANCE = 0.80


def pca_stat(inp_features: Any, desired: int | float = 2) -> tuple[_Floats, Any]:
    """EPMT's ``pca_stat``: scale the columns of a 2-D array and project them on their
    principal components.

    Parameters
    ----------
    inp_features : 2-D array, one row per job (or operation), one column per feature
    desired : int or float
        A number of components (``>= 1``), or the variance ratio they must explain
        (``< 1``): the fewest components that reach it.

    Returns
    -------
    (ndarray, sklearn.decomposition.PCA)
        The components' values per row, and the fitted transform
        (``explained_variance_ratio_``, ``components_``).

    Raises
    ------
    QueryError
        For a NaN in the input, fewer than two columns, or more components than rows or
        columns.

    Examples
    --------
    >>> data = [[1, 2, 1], [2, 4, 1], [3, 6, 2], [4, 9, 2]]
    >>> values, fitted = pca_stat(data, desired=0.99)  # 2 components reach 99%
    >>> values.round(4).tolist()
    [[-2.0821, 0.1975], [-1.1057, -0.4536], [0.993, 0.5429], [2.1948, -0.2868]]
    >>> fitted.explained_variance_ratio_.round(4).tolist()
    [0.9468, 0.0518]
    """
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    data = np.asarray(inp_features, dtype=float)
    if data.ndim != 2 or data.shape[1] < 2:
        raise QueryError(f"PCA needs a 2-D array of at least 2 features, got shape {data.shape}")
    if np.isnan(data).any():
        raise QueryError("input contains at-least one non-numeric (nan) element")
    fitted = PCA(n_components=desired)
    try:
        values = fitted.fit_transform(StandardScaler().fit_transform(data))
    except ValueError as exc:
        raise QueryError(f"PCA of a {data.shape} array with n_components={desired}: {exc}") from exc
    total = float(fitted.explained_variance_ratio_.sum())
    if total < _LOW_VARIANCE:
        _log.warning("cumulative variance for PCA (%s) < %s", total, _LOW_VARIANCE)
    return values, fitted


def pca_feature_combine(
    inp_df: pd.DataFrame,
    inp_features: Any = None,
    desired: int | float = 2,
    retain_features: bool = False,
) -> tuple[pd.DataFrame, _Floats, list[str], pd.DataFrame]:
    """EPMT's ``pca_feature_combine``: replace a frame's features by their principal
    components.

    Parameters
    ----------
    inp_df : pandas.DataFrame
        One row per job (``get_jobs(..., fmt='pandas')``) or operation; no NaN anywhere.
    inp_features : list of str, optional
        The features (None, ``[]`` or ``'*'``: every numeric column that is a feature).
    desired : int or float
        Components wanted (``>= 1``) or the variance ratio to reach (``< 1``).
    retain_features : bool
        Keep the feature columns in the answer too.

    Returns
    -------
    (out_df, variances, pca_features, features_df)
        ``out_df``: ``jobid`` (if ``inp_df`` has it), the components ``pca_01``, ... and
        the other columns, sorted (the features too with ``retain_features``), on
        ``inp_df``'s index; ``variances``: each component's explained variance ratio;
        ``pca_features``: the components' names; ``features_df``: one row per component,
        one column per feature (sorted), the weights of the features in it.

    Raises
    ------
    QueryError
        If ``inp_df`` is not a DataFrame or has a NaN, or as :func:`pca_stat`.
    ModelError
        If no feature is left (EPMT's RuntimeError).

    Examples
    --------
    >>> frame = pd.DataFrame({"jobid": list("abcd"), "x": [1, 2, 3, 4], "y": [2, 4, 6, 9],
    ...                       "z": [1, 1, 2, 2], "host": ["h1", "h1", "h2", "h2"]})
    >>> out, variances, names, weights = pca_feature_combine(frame, desired=1)
    >>> out.round(4)
      jobid  pca_01 host
    0     a -2.0821   h1
    1     b -1.1057   h1
    2     c  0.9930   h2
    3     d  2.1948   h2
    >>> names, variances.round(4).tolist()
    (['pca_01'], [0.9468])
    >>> weights.round(4)
            x       y       z
    0  0.5877  0.5829  0.5612
    """
    if not isinstance(inp_df, pd.DataFrame):
        raise QueryError(f"PCA input needs to be a pandas DataFrame, not {type(inp_df).__name__}")
    features = features_of([] if inp_features is None else inp_features, inp_df)
    nan_columns = inp_df.columns[inp_df.isna().any()].tolist()
    if nan_columns:
        raise QueryError(f"PCA input dataframe contains nans in columns: {nan_columns}")
    values, fitted = pca_stat(inp_df[features].to_numpy(), desired)
    names = [f"pca_{i + 1:02d}" for i in range(len(fitted.explained_variance_ratio_))]
    weights = pd.DataFrame(fitted.components_, columns=features)
    # a column named like a component (a frame of components given again) is replaced
    kept = [c for c in inp_df.columns if (retain_features or c not in features) and c not in names]
    out = pd.concat([pd.DataFrame(values, columns=names, index=inp_df.index), inp_df[kept]], axis=1)
    if "jobid" in inp_df.columns:
        out = out[["jobid", *names, *sorted(set(kept) - {"jobid"})]]
    return out, fitted.explained_variance_ratio_, names, weights


def pca_weighted_score(
    pca_df: pd.DataFrame, pca_features: list[str], variances: Any, index: int = 1
) -> tuple[pd.DataFrame, _Floats]:
    """EPMT's ``_pca_weighted_score``: a ``pca_weighted`` column summing the components'
    columns, each weighted by its variance ratio over the smallest one (to 2 places); the
    sums to 1 place.

    Parameters
    ----------
    pca_df : pandas.DataFrame
        Has the ``pca_features`` columns (outlier flags, usually).
    pca_features : list of str
    variances : sequence of float
        The components' variance ratios, in the order of ``pca_features``.
    index : int
        Where the new column goes.

    Returns
    -------
    (pandas.DataFrame, numpy.ndarray)
        A copy of ``pca_df`` with the column, and the column's values.

    Examples
    --------
    >>> flags = pd.DataFrame({"jobid": ["a", "b", "c"], "pca_01": [1, 0, 0], "pca_02": [0, 1, 0]})
    >>> out, weighted = pca_weighted_score(flags, ["pca_01", "pca_02"], [0.75, 0.25])
    >>> weighted.tolist(), list(out.columns)
    ([3.0, 1.0, 0.0], ['jobid', 'pca_weighted', 'pca_01', 'pca_02'])
    """
    ratios = np.asarray(variances, dtype=float)
    scale = np.round(ratios * (1 / np.min(ratios)), 2)
    weighted = np.round(np.sum(pca_df[pca_features].to_numpy() * scale, axis=1), 1)
    out = pca_df.copy()
    out.insert(index, "pca_weighted", weighted)
    return out, weighted


#: EPMT's name (``eod._pca_weighted_score``, which EPMT's tests call).
_pca_weighted_score = pca_weighted_score


def pca_feature_rank(
    jobs: Any, inp_features: Any = None, *, graph: Graph | None = None
) -> tuple[pd.DataFrame, list[tuple[str, float]]]:
    """EPMT's ``pca_feature_rank``: the features of jobs ranked by their weight in the first
    two principal components.

    Parameters
    ----------
    jobs : jobs in any form ``get_jobs`` takes (ids, records, a frame)
    inp_features : list of str, optional
        The features (None or ``[]``: every numeric job column that is a feature).

    Returns
    -------
    (pandas.DataFrame, list of (str, float))
        Three rows: the features' weights in the two components and their absolute values
        weighted by the components' variance ratios (summing to 1), columns sorted by that
        last row, highest first (ties by name), to 4 places; and that row as
        ``(feature, score)`` pairs.

    Raises
    ------
    QueryError
        As :func:`pca_feature_combine` (fewer than 2 jobs, for one).

    Examples
    --------
    >>> ranked, scores = pca_feature_rank(["685000", "685003", "685016"],
    ...                                   ["duration", "cpu_time", "num_procs"])
    >>> ranked
       duration  num_procs  cpu_time
    0    0.5864    -0.4904    0.6447
    1    0.5415     0.8292    0.1382
    2    0.5771     0.5608    0.5396
    >>> scores
    [('duration', 0.5771), ('num_procs', 0.5608), ('cpu_time', 0.5396)]
    """
    frame = get_jobs(jobs, fmt="pandas", graph=graph)
    _, variances, _, weights = pca_feature_combine(frame, inp_features)
    shares = variances / variances.sum()
    _log.debug("normalized weights: %s", list(shares))
    total = pd.DataFrame(
        [(weights.abs().to_numpy() * shares[:, None]).sum(axis=0)], columns=weights.columns
    )
    table = pd.concat([weights, total], ignore_index=True)
    last = table.iloc[-1]
    order = sorted(table.columns, key=lambda c: (-last[c], c))
    ranked = table[order].round(4)
    return ranked, [(str(c), float(v)) for c, v in ranked.iloc[-1].round(4).items()]
