"""``analyze_comparable_jobs``: outlier detection on a set of comparable jobs, against the
reference models tagged like them (EPMT 5.0.1's analysis pipeline step)."""

from __future__ import annotations

import logging
from typing import Any

from epmt_graph.api import params
from epmt_graph.api.admin import set_job_analyses
from epmt_graph.api.comparable import COMPARABLE_KEYS, partition_rows
from epmt_graph.api.jobs import get_jobs
from epmt_graph.api.refmodel_state import model_metrics
from epmt_graph.api.refmodels import get_refmodels
from epmt_graph.api.stats import classifiers, features_of, outlier_partitions, settings
from epmt_graph.db import Graph, default_graph
from epmt_graph.errors import ModelError, QueryError

__all__ = ["MIN_JOBS_WITHOUT_MODEL", "analyze_comparable_jobs"]

#: Fewest jobs outlier detection runs on without a reference model (EPMT's rule).
MIN_JOBS_WITHOUT_MODEL = 4

_log = logging.getLogger(__name__)


def analyze_comparable_jobs(
    jobids: Any,
    check_comparable: bool = True,
    keys: Any = COMPARABLE_KEYS,
    *,
    graph: Graph | None = None,
) -> int:
    """Detect outliers among comparable jobs and store the result as each job's analyses.

    The models used are those whose tags hold the first job's values of ``keys``. Each
    enabled model scores the jobs on EPMT's ``settings.outlier_features`` (default
    ``duration``, ``cpu_time``, ``num_procs``; those of its active metrics) with the
    ``settings.univariate_classifiers`` it has and its thresholds; without a model, 4 or
    more jobs are scored with those classifiers at ``settings.outlier_thresholds``
    (:mod:`epmt_graph.outliers.settings`, read at each call). Every job's analyses become
    ``{'outlier_detection': [{'model_id': id or None, 'results': {feature: [inliers,
    outliers]}}, ...]}`` (job ids sorted).

    Parameters
    ----------
    jobids : the jobs (EPMT's ``jobids``), in any form ``get_jobs`` takes
    check_comparable : bool
        Refuse jobs that differ in ``keys``. (EPMT 5.0.1 fails with a TypeError here
        whatever the jobs; pass False for its working path.)
    keys : tuple of str

    Returns
    -------
    int
        The number of analyses run (one per model, or one without a model, or 0).

    Raises
    ------
    QueryError
        No jobs, a job not loaded, or (with ``check_comparable``) jobs not comparable;
        nothing is written.
    ModelError
        A matching model is disabled (EPMT's RuntimeError); nothing is written.

    Examples
    --------
    >>> jobs = ["685016", "692544"]  # comparable, too few for detection without a model
    >>> analyze_comparable_jobs(jobs)
    0
    >>> eq.get_job_analyses("692544")
    {'outlier_detection': []}
    >>> [eq.remove_job_analyses(job) for job in jobs]  # as they were
    [{}, {}]
    """
    graph = graph or default_graph()
    keys = tuple(keys)
    ids = params.jobids(graph, jobids)
    frame = get_jobs(ids, fmt="pandas", graph=graph)
    loaded = set() if frame.empty else set(frame["jobid"])
    missing = [j for j in ids if j not in loaded]
    if missing:
        raise QueryError(f"jobs not loaded: {missing}; nothing was analysed")
    tags = {r["jobid"]: r["tags"] for r in get_jobs(ids, fmt="orm", graph=graph).summaries()}
    rows = [{"jobid": j, "tags": tags[j], "duration": 0} for j in ids]
    if check_comparable and len(partition_rows(rows, keys)) > 1:
        raise QueryError(f"the jobs {ids} differ in their {list(keys)} tags; nothing analysed")
    model_tag = {k: tags[ids[0]].get(k, "") for k in keys}
    models = get_refmodels(tag=model_tag, merge_nested_fields=False, graph=graph)
    disabled = [m["id"] for m in models if not m["enabled"]]
    if disabled:
        raise ModelError(f"Trained model(s) {disabled} disabled: enable with refmodel_set_enabled")
    wanted, methods = settings().outlier_features, classifiers(None)
    results = []
    for model in models:
        used = [name for name in methods if name in model["computed"]]
        if not used:
            _log.warning("model %s has no job-level classifier; skipped", model["id"])
            continue
        active = model_metrics(model, active_only=True)
        features = features_of(wanted, frame, allowed=active)
        parts = outlier_partitions(frame, features, used, model["computed"])
        results.append({"model_id": model["id"], "results": parts})
    if not models and len(ids) >= MIN_JOBS_WITHOUT_MODEL:
        parts = outlier_partitions(frame, features_of(wanted, frame), methods)
        results.append({"model_id": None, "results": parts})
    if not models and len(ids) < MIN_JOBS_WITHOUT_MODEL:
        _log.warning("%s: no trained model, and too few jobs for outlier detection (need 4)", ids)
    for job in ids:
        set_job_analyses(job, {"outlier_detection": results}, replace=True, graph=graph)
    return len(results)
