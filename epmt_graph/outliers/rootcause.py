"""Root-cause analysis: which features make a job (``detect_rootcause``) or one of its
operations (``detect_rootcause_op``) an outlier against reference jobs, as EPMT 5.0.1's.

The reference is jobs, or the jobs a reference model was built from (its id). Job
features come from one ``get_jobs(fmt='pandas')`` query; an operation's from one
``get_op_metrics`` call (two queries) for the reference jobs and one for the input job.
The analysis is :func:`epmt_graph.outliers.stat.rca`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from epmt_graph.api.opmetrics import get_op_metrics
from epmt_graph.api.refmodels import RefModel, model_rows
from epmt_graph.api.stats import settings
from epmt_graph.api.tags import tag_list
from epmt_graph.db import Graph, default_graph
from epmt_graph.errors import NotFoundError, QueryError
from epmt_graph.outliers.inputs import job_frame, job_rows
from epmt_graph.outliers.stat import modified_z_score, rca

__all__ = ["detect_rootcause", "detect_rootcause_op"]

Result = tuple[bool, pd.DataFrame | None, list[tuple[str, float]] | None]


def _reference(graph: Graph, jobs: Any) -> Any:
    """The reference jobs: a model's (given by its integer id or as a model), or ``jobs``."""
    is_id = isinstance(jobs, int) and not isinstance(jobs, bool)
    if is_id or isinstance(jobs, RefModel):
        return model_rows(graph, jobs)["jobs"]
    return jobs


def _one(frame: pd.DataFrame) -> pd.DataFrame:
    if len(frame) != 1:
        raise QueryError(f"root-cause analysis is for one job at a time, got {len(frame)}")
    return frame


def detect_rootcause(
    jobs: Any, inp: Any, features: Any = None, methods: Any = None, *, graph: Graph | None = None
) -> Result:
    """Rank the features by how far the job ``inp`` is out of line with the reference
    ``jobs`` (EPMT's ``detect_rootcause``).

    Parameters
    ----------
    jobs : jobs in any form ``get_jobs`` takes, their DataFrame, or a model's integer id
    inp : one job (an id, a record, a one-row DataFrame or a Series)
    features : list of str, or ``'*'`` for every numeric column, optional
        Default: EPMT's ``settings.outlier_features``, read now.
    methods : list of classifiers, optional
        Default: ``modified_z_score``.

    Returns
    -------
    (True, DataFrame, list of (feature, ratio))
        See :func:`~epmt_graph.outliers.stat.rca`: for each feature (columns, the most
        deviating first) the reference's statistics, the input, and per classifier the
        reference's highest score, the input's and their ratio.

    Raises
    ------
    QueryError
        No jobs, more than one ``inp``; ``UnknownJobError`` for a job not loaded,
        ``UnknownModelError`` for an unknown model id.

    Examples
    --------
    >>> ok, table, ranked = detect_rootcause(["685000", "685003"], "685016")
    >>> [(feature, round(ratio, 4)) for feature, ratio in ranked]
    [('cpu_time', 33.0399), ('duration', 6.0243), ('num_procs', 1.446)]
    >>> table.loc[["input", "modified_z_score"], "num_procs"].tolist()
    [3412.0, 0.9753]
    """
    graph = graph or default_graph()
    ref = job_frame(graph, _reference(graph, jobs))
    target = inp if isinstance(inp, pd.Series) else _one(job_frame(graph, inp))
    requested = settings().outlier_features if features is None else features
    return rca(ref, target, requested, methods or [modified_z_score])


def detect_rootcause_op(
    jobs: Any,
    inp: Any,
    tag: Any,
    features: Any = None,
    methods: Any = None,
    *,
    graph: Graph | None = None,
) -> Result:
    """Rank the features by how far the operation ``tag`` of the job ``inp`` is out of line
    with the same operation of the reference ``jobs`` (EPMT's ``detect_rootcause_op``).

    Parameters
    ----------
    jobs, inp, features, methods
        As :func:`detect_rootcause`.
    tag : str or dict
        The operation (``'op_sequence:4'`` or ``{'op': 'build'}``).

    Returns
    -------
    As :func:`detect_rootcause`; ``(False, None, None)`` if the input has no such
    operation (as EPMT).

    Raises
    ------
    NotFoundError
        No process of the reference jobs has the ``tag`` (EPMT fails there with
        ``KeyError: 'tags'``; ours is a ``KeyError`` too).
    QueryError
        An empty or malformed ``tag``, more than one ``inp``, no jobs; ``UnknownJobError``
        for a job not loaded.

    Examples
    --------
    >>> ok, table, ranked = detect_rootcause_op(["685000", "685003"], "685016", "op:hsmget")
    >>> ok, table.shape, [feature for feature, _ in ranked]
    (True, (12, 3), ['cpu_time', 'num_procs', 'duration'])
    >>> detect_rootcause_op(["685000", "685003"], "685016", "op:no_such")
    Traceback (most recent call last):
    ...
    epmt_graph.errors.NotFoundError: no process of the reference jobs has the tag 'op:no_such'
    """
    if not tag or not isinstance(tag, str | Mapping):
        raise QueryError(f"detect_rootcause_op needs one non-empty tag (str or dict), not {tag!r}")
    graph = graph or default_graph()
    ref_ids = [r["jobid"] for r in job_rows(graph, _reference(graph, jobs))]
    inp_ids = [r["jobid"] for r in job_rows(graph, inp)]
    if len(inp_ids) != 1:
        raise QueryError(f"root-cause analysis is for one job at a time, got {inp_ids}")
    wanted = tag_list(tag)
    ref = get_op_metrics(ref_ids, tags=wanted, graph=graph)
    if ref is None or ref.empty:
        raise NotFoundError(f"no process of the reference jobs has the tag {tag!r}")
    target = get_op_metrics(inp_ids, tags=wanted, graph=graph)
    requested = settings().outlier_features if features is None else features
    inp_ops = pd.DataFrame() if target is None else target
    return rca(ref, inp_ops, requested, methods or [modified_z_score])
