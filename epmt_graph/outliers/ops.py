"""Outlier operations: ``detect_outlier_ops`` and ``partition_jobs_by_ops``, as EPMT
5.0.1's.

An operation is the processes of a job carrying a tag. Their sums come from one named
query for every job and tag (``ops-metrics``, through ``get_op_metrics``); the jobs'
distinct process tags from another (``proc-tags-by-job``). Each tag's rows (one per job)
are scored feature by feature by each classifier, among the jobs or against the values a
reference model kept for that tag; tags and features are ranked by how far their highest
scores pass the thresholds.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
import pandas as pd

from epmt_graph.api.opmetrics import get_op_metrics, op_feature_rows
from epmt_graph.api.stats import classify, settings
from epmt_graph.api.tags import job_proc_tags, tag_list
from epmt_graph.db import Graph, default_graph
from epmt_graph.errors import OutlierError
from epmt_graph.outliers.features import choose_features
from epmt_graph.outliers.inputs import (
    check_enough,
    job_rows,
    lean,
    load_model,
    refuse_unsupported,
    split_methods,
)
from epmt_graph.outliers.multivariate import added_model_jobs, mvod_op_counts, pca_op_counts
from epmt_graph.outliers.stat import modified_z_score

__all__ = ["detect_outlier_ops", "partition_jobs_by_ops"]

_log = logging.getLogger(__name__)

Tag = dict[str, Any]


def _key(tag: Tag) -> str:
    """A tag as the key a model's ``computed`` has for it."""
    return json.dumps(tag, sort_keys=True)


def _contains_any(tag: Tag, wanted: list[Tag]) -> bool:
    """Whether ``tag`` holds every pair of one of ``wanted`` (EPMT's ``dict_in_list``)."""
    return any(all(tag.get(k) == v for k, v in w.items()) for w in wanted)


def _operations(wanted: list[Tag], job_tags: list[Tag], model: dict[str, Any] | None) -> list[Tag]:
    """The tags to score: those asked for (default: the jobs' process tags); with a model,
    those of its tags that hold one asked for (default: all of its tags)."""
    if model is None:
        return wanted or job_tags
    if not model["op_tags"]:
        raise OutlierError(
            f"model {model['id']} was built on whole jobs: create one with op_tags to "
            "detect outlier operations"
        )
    ours, theirs = {_key(t) for t in job_tags}, {_key(t) for t in model["op_tags"]}
    if ours != theirs:
        _log.warning(
            "Set of unique tags are different from the model: only in the jobs %s, only in "
            "the model %s",
            sorted(ours - theirs),
            sorted(theirs - ours),
        )
    if not wanted or wanted == model["op_tags"]:
        return list(model["op_tags"])
    return [t for t in model["op_tags"] if _contains_any(t, wanted)]


def detect_outlier_ops(
    jobs: Any,
    tags: Any = None,
    trained_model: Any = None,
    features: Any = None,
    methods: Any = None,
    thresholds: Any = None,
    sanity_check: bool = True,
    pca: Any = False,
    *,
    graph: Graph | None = None,
) -> Any:
    """Outlier operations, tag by tag and feature by feature (EPMT's
    ``detect_outlier_ops``).

    Parameters
    ----------
    jobs : job ids, Job records, a query or a DataFrame of jobs
        At least 4 without ``trained_model``.
    tags : str, dict or list of them, optional
        The operations. Default: every process tag of the jobs (with a model: its tags).
    trained_model : int or model, optional
        A reference model built with ``op_tags``: each tag's rows are scored against the
        values it kept for that tag; only its tags (holding one of ``tags``) are scored.
    features, methods, thresholds, sanity_check, pca
        As :func:`~epmt_graph.outliers.jobs.detect_outlier_jobs` (a model built with PCA
        does not turn ``pca`` on here, as in EPMT).

    Returns
    -------
    (DataFrame, dict, DataFrame, list of dict, list of str), or False
        The counts: ``jobid``, ``tags`` and a column per feature, the rows of the most
        deviating tag first; per tag (its JSON) ``(inlier ids, outlier ids)``; per tag
        (JSON, sorted keys) and feature how far the highest scores pass the thresholds,
        summed over the classifiers; the tags, most deviating first; the features, most
        deviating first (the order of the frames' columns). False when no operation of
        the jobs matches the tags (as EPMT).
    DataFrame
        With ``pca``: ``jobid``, ``tags``, ``pca_weighted`` and the components' counts,
        in the operations' order (of the jobs asked for only, with a model).
    (DataFrame, dict)
        With multivariate classifiers: ``jobid``, ``tags`` and ``outlier`` (how many
        classifiers call the row one), in the operations' order; per tag (its JSON,
        sorted keys) each classifier's 0/1 vector over the tag's rows.

    Raises
    ------
    OutlierError
        Fewer than 4 jobs without a model, a model built on whole jobs, a feature that is
        not numeric or not in the model.
    QueryError, UnknownJobError, UnknownModelError, ModelError
        As :func:`~epmt_graph.outliers.jobs.detect_outlier_jobs`.

    Examples
    --------
    >>> jobs = ["685000", "685003", "685016", "692544"]
    >>> df, parts, scores, ranked, features = detect_outlier_ops(
    ...     jobs, tags="op:hsmget", sanity_check=False)
    >>> df
        jobid              tags  num_procs  duration  cpu_time
    0  685000  {'op': 'hsmget'}          2         1         0
    1  685003  {'op': 'hsmget'}          0         0         0
    2  685016  {'op': 'hsmget'}          0         0         0
    3  692544  {'op': 'hsmget'}          0         0         0
    >>> ranked, features, float(scores.loc[0, "num_procs"])
    ([{'op': 'hsmget'}], ['num_procs', 'duration', 'cpu_time'], 42.692)
    >>> detect_outlier_ops(jobs, tags={"op": "missing"}, sanity_check=False)
    False
    >>> detect_outlier_ops(jobs, tags="op:hsmget", features=[], pca=2, sanity_check=False)
        jobid              tags  pca_weighted  pca_01  pca_02
    0  685000  {'op': 'hsmget'}           0.0       0       0
    1  685003  {'op': 'hsmget'}           1.0       0       1
    2  685016  {'op': 'hsmget'}           0.0       0       0
    3  692544  {'op': 'hsmget'}           0.0       0       0
    """
    graph = graph or default_graph()
    ids = [r["jobid"] for r in job_rows(graph, jobs, sanity_check)]
    model = None if trained_model is None else load_model(graph, trained_model)
    if model is None:
        check_enough(len(ids))
    univariate, multivariate = split_methods(methods)
    refuse_unsupported(pca, multivariate, model)
    job_tags = job_proc_tags(ids, fold=False, graph=graph)
    use = _operations(tag_list(tags) if tags else [], job_tags, model)
    added = added_model_jobs(model, ids) if pca else []  # PCA fits on the model's jobs too
    requested = settings().outlier_features if features is None else features
    ops = _op_rows(graph, ids + added, use, requested) if use else None
    if ops is None or ops.empty:
        _log.warning("no matching tags found in the tag set: %s", use)
        return False
    chosen = choose_features(requested, ops, model)
    if multivariate and model is not None:
        return mvod_op_counts(ops, use, chosen, multivariate, model)
    if pca:
        found = pca_op_counts(ops, use, chosen, univariate, thresholds, model, pca, added)
        return found.weighted(index=2)
    return _score(ops, use, chosen, univariate, thresholds, model)


def _op_rows(graph: Graph, ids: list[str], use: list[Tag], requested: Any) -> Any:
    """``get_op_metrics(ids, use)``, or only its lean columns when they hold the features
    ``requested`` (None if no job is loaded, as get_op_metrics)."""
    if lean(requested):
        return op_feature_rows(graph, ids, use)
    return get_op_metrics(ids, tags=use, graph=graph)


def _score(
    ops: pd.DataFrame,
    use: list[Tag],
    features: list[str],
    methods: list[str],
    thresholds: Any,
    model: dict[str, Any] | None,
) -> tuple[pd.DataFrame, dict[str, Any], pd.DataFrame, list[Tag], list[str]]:
    """Score each tag's rows of ``ops``; rank tags and features (see detect_outlier_ops)."""
    counts = {f: np.zeros(len(ops), dtype=np.int64) for f in features}
    row_tags = ops["tags"].tolist()
    positions: dict[str, np.ndarray] = {}
    excess: dict[str, list[float]] = {}
    for tag in use:
        key = _key(tag)
        at = np.flatnonzero([t == tag for t in row_tags])
        if at.size == 0:
            continue
        positions[key] = at
        kept = model["computed"].get(key, {}) if model else {}
        excess[key] = []
        for feature in features:
            values = ops[feature].to_numpy()[at].tolist()
            total: Any = 0  # numpy's type, and rounding, once a classifier gives numpy scores
            for name in methods:
                verdict = classify(name, values, kept.get(name, {}).get(feature, ()), thresholds)
                counts[feature][at[verdict.flags]] += 1
                total += verdict.excess
            with np.errstate(over="ignore"):  # an infinite score (a zero spread) stays inf
                excess[key].append(float(round(total, 3)))
    out = pd.DataFrame({"jobid": ops["jobid"].to_numpy(), "tags": row_tags, **counts})
    ranked = sorted(excess.items(), key=lambda item: max(item[1]), reverse=True)
    scores = pd.DataFrame([[key, *values] for key, values in ranked], columns=["tags", *features])
    order = sorted(features, key=lambda f: scores[f].sum(), reverse=True)
    parts = {}
    for tag in use:
        if _key(tag) in positions:
            rows = out.iloc[positions[_key(tag)]]
            hit = (rows[features] > 0).any(axis=1)
            parts[json.dumps(tag)] = (set(rows.loc[~hit, "jobid"]), set(rows.loc[hit, "jobid"]))
    by_tag = out.iloc[np.concatenate([positions[key] for key, _ in ranked])]
    return (
        by_tag.reset_index(drop=True)[["jobid", "tags", *order]],
        parts,
        scores[["tags", *order]],
        [json.loads(key) for key, _ in ranked],
        order,
    )


def partition_jobs_by_ops(
    jobs: Any,
    tags: Any = None,
    features: Any = None,
    methods: Any = None,
    thresholds: Any = None,
    *,
    graph: Graph | None = None,
) -> dict[str, Any]:
    """Per operation (its tag's JSON), the jobs split into ``(reference jobs, outlier
    jobs)`` sets (EPMT's ``partition_jobs_by_ops``): a job is an outlier for a tag if any
    feature calls it one. Default classifier: ``modified_z_score`` alone. ``{}`` when no
    operation matches.

    Examples
    --------
    >>> parts = partition_jobs_by_ops(["685000", "685003", "685016", "692544"],
    ...                               tags="op:hsmget")
    >>> parts['{"op": "hsmget"}'][1]
    {'685000'}
    """
    found = detect_outlier_ops(
        jobs,
        tags=tags,
        features=features,
        methods=methods or [modified_z_score],
        thresholds=thresholds,
        graph=graph,
    )
    return {} if found is False else dict(found[1])
