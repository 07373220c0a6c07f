"""Per-job features from the jobs' processes: ``procs_set`` and ``add_features_df``, as
EPMT's (both over :func:`~epmt_graph.api.procs.procs_histogram`, one named query a call)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from epmt_graph.api.procs import procs_histogram
from epmt_graph.db import Graph
from epmt_graph.errors import NotFoundError, QueryError

__all__ = ["add_features_df", "procs_set"]


def procs_set(jobs: Any, attr: str = "exename", *, graph: Graph | None = None) -> list[Any]:
    """The distinct values of a process attribute across the processes of jobs, sorted
    (EPMT's ``procs_set``: the keys of :func:`procs_histogram`).

    Parameters
    ----------
    jobs : jobs in any form ``get_jobs`` accepts; empty means every loaded job
    attr : str
        A process field, e.g. ``'exename'``, ``'host'`` (or EPMT's ``'host_id'``).

    Returns
    -------
    list
        Sorted; a missing value (None), where there is one, comes first.

    Raises
    ------
    QueryError
        If ``attr`` is not a process field.
    UnknownJobError
        If a job id given names no loaded job (also a ``KeyError``, as EPMT raises).

    Examples
    --------
    >>> eq.procs_set("685000")[:5]
    ['TAVG.exe', 'arch', 'basename', 'bash', 'cat']
    >>> eq.procs_set(["685000", "685003"], attr="host_id")
    ['pp208', 'pp212']
    """
    values = procs_histogram(jobs, attr, graph=graph)
    return sorted(values, key=lambda value: (value is not None, value))


def _bound(feature: Callable[..., Any], graph: Graph | None) -> Callable[[Any], Any]:
    """``feature`` with ``graph`` given, under the same name (the name of its column)."""

    def bound(jobid: Any) -> Any:
        return feature(jobid, graph=graph)

    bound.__name__ = feature.__name__
    return bound


def add_features_df(
    jobs_df: pd.DataFrame,
    features: Iterable[Callable[[Any], Any]] | None = None,
    key: str = "jobid",
    *,
    graph: Graph | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """A copy of a jobs DataFrame with one more column per feature (EPMT's
    ``add_features_df``).

    Parameters
    ----------
    jobs_df : DataFrame
        Jobs, e.g. ``get_jobs(..., fmt='pandas')``; it is not changed.
    features : callables, optional
        Each is called with the ``key`` value of every row; its column is named after it
        (``__name__``). Default: :func:`~epmt_graph.api.procs.procs_histogram` and
        :func:`procs_set` (of ``exename``) on ``graph``.
    key : str
        The column whose values the features are given.

    Returns
    -------
    (DataFrame, list of str)
        The new frame and the names of the columns added.

    Raises
    ------
    NotFoundError
        If ``jobs_df`` has no column ``key`` (also a ``KeyError``, as EPMT raises).
    QueryError
        If ``jobs_df`` is not a DataFrame.

    Examples
    --------
    >>> frame, added = eq.add_features_df(eq.get_jobs(["685000", "685003"], fmt="pandas"))
    >>> added, len(frame)
    (['procs_histogram', 'procs_set'], 2)
    >>> frame.loc[0, "procs_histogram"]["tcsh"], frame.loc[1, "procs_set"][:2]
    (1112, ['TAVG.exe', 'arch'])
    """
    if not isinstance(jobs_df, pd.DataFrame):
        raise QueryError(f"jobs_df must be a DataFrame of jobs, not {type(jobs_df).__name__}")
    if key not in jobs_df.columns:
        raise NotFoundError(f"jobs_df has no column {key!r}")
    chosen = (
        [_bound(procs_histogram, graph), _bound(procs_set, graph)]
        if features is None
        else list(features)
    )
    out = jobs_df.copy()
    keys = list(jobs_df[key])
    added = []
    for feature in chosen:
        name = feature.__name__
        out[name] = pd.Series([feature(k) for k in keys], index=out.index, dtype=object)
        added.append(name)
    return out, added
