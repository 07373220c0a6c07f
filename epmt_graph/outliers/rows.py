"""Outlier rows of any frame: ``detect_outliers``, and the processes and threads it is
most used on (``detect_outlier_processes``, ``detect_outlier_threads``), as EPMT 5.0.1's.

The rows are compared among themselves, with univariate classifiers at EPMT's settings'
thresholds (no reference model). Processes not given as a frame are read with
``conv_procs`` (one query), threads with ``get_thread_metrics`` (one query).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from epmt_graph.api.procs import conv_procs, get_thread_metrics
from epmt_graph.api.stats import classify, is_feature
from epmt_graph.db import Graph
from epmt_graph.errors import NotFoundError, OutlierError, QueryError
from epmt_graph.outliers.inputs import refuse_unsupported, split_methods

__all__ = [
    "PROCESS_FEATURES",
    "THREAD_FEATURES",
    "detect_outlier_processes",
    "detect_outlier_threads",
    "detect_outliers",
]

#: Default features of :func:`detect_outlier_processes` and :func:`detect_outlier_threads`.
PROCESS_FEATURES = ("duration", "cpu_time")
THREAD_FEATURES = ("usertime", "systemtime", "rssmax")


def detect_outliers(df: pd.DataFrame, features: Any = None, methods: Any = None) -> pd.DataFrame:
    """For each row of ``df`` and feature, how many classifiers call the row an outlier
    among the rows (EPMT's ``detect_outliers``).

    Parameters
    ----------
    df : DataFrame
    features : list of column names, optional
        Default: every numeric column.
    methods : list of univariate classifiers (functions or names), optional
        Default: EPMT's ``settings.univariate_classifiers``, at
        ``settings.outlier_thresholds`` (read now).

    Returns
    -------
    DataFrame
        One column per feature, ``df``'s index, integer counts.

    Raises
    ------
    QueryError
        ``df`` is not a non-empty DataFrame, an unknown or a multivariate classifier.
    NotFoundError
        A feature is not a column (also a ``KeyError``).
    OutlierError
        A feature is not numeric.

    Examples
    --------
    >>> df = pd.DataFrame({"a": [1.0, 1.1, 0.9, 1.0, 9.0], "b": [5, 5, 6, 5, 5]})
    >>> detect_outliers(df, methods=["iqr", "modified_z_score"])
       a  b
    0  0  0
    1  0  0
    2  0  1
    3  0  0
    4  2  0
    """
    if not isinstance(df, pd.DataFrame) or df.empty:
        raise QueryError("detect_outliers needs a non-empty DataFrame")
    chosen = [c for c in df.columns if is_feature(df, c)] if not features else list(features)
    missing = [c for c in chosen if c not in df.columns]
    if missing:
        raise NotFoundError(f"no column {missing} in the frame")
    bad = [c for c in chosen if not is_feature(df, c)]
    if bad:
        raise OutlierError(f"features {bad} are not numeric features")
    univariate, multivariate = split_methods(methods)
    refuse_unsupported(False, multivariate, None)
    counts = {c: np.zeros(len(df), dtype=np.int64) for c in chosen}
    for column in chosen:
        values = df[column].tolist()
        for name in univariate:
            counts[column] += classify(name, values).flags
    return pd.DataFrame(counts, index=df.index, columns=chosen)


def detect_outlier_processes(
    processes: Any, features: Any = None, methods: Any = None, *, graph: Graph | None = None
) -> pd.DataFrame:
    """Outlier processes among ``processes`` (a ``get_procs(fmt='pandas')`` frame, or
    processes in any form ``conv_procs`` takes): :func:`detect_outliers` on
    ``features`` (default ``duration``, ``cpu_time``).

    Examples
    --------
    >>> procs = eq.get_procs("685000", order=eq.desc(eq.Process.duration), limit=20,
    ...                      fmt="pandas")
    >>> detect_outlier_processes(procs, methods=["modified_z_score"]).sum().to_dict()
    {'duration': 1, 'cpu_time': 9}
    """
    frame = (
        processes
        if isinstance(processes, pd.DataFrame)
        else conv_procs(processes, fmt="pandas", graph=graph)
    )
    return detect_outliers(frame, list(features or PROCESS_FEATURES), methods)


def detect_outlier_threads(
    threads: Any, features: Any = None, methods: Any = None, *, graph: Graph | None = None
) -> pd.DataFrame:
    """Outlier threads among ``threads`` (a ``get_thread_metrics`` frame, or the processes
    whose threads to compare): :func:`detect_outliers` on ``features`` (default
    ``usertime``, ``systemtime``, ``rssmax``).

    Examples
    --------
    >>> procs = eq.get_procs("685000", order=eq.desc(eq.Process.duration), limit=8,
    ...                      fmt="orm")
    >>> detect_outlier_threads(list(procs), methods=["iqr"]).sum().to_dict()
    {'usertime': 1, 'systemtime': 2, 'rssmax': 0}
    """
    frame = (
        threads
        if isinstance(threads, pd.DataFrame)
        else get_thread_metrics(list(threads), graph=graph)
    )
    return detect_outliers(frame, list(features or THREAD_FEATURES), methods)
