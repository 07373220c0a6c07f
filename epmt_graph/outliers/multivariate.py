"""The parts of ``detect_outlier_jobs`` and ``detect_outlier_ops`` that EPMT 5.0.1 runs for
``pca=`` and for multivariate (pyod) classifiers.

* **PCA**: the features are replaced by their principal components
  (:func:`~epmt_graph.outliers.pca.pca_feature_combine`) and each component is scored by
  the univariate classifiers; a ``pca_weighted`` column sums the flags weighted by the
  components' variance ratios (:func:`~epmt_graph.outliers.pca.pca_weighted_score`). With a
  reference model, its jobs are added to the rows (the components are fitted on them too)
  and a row is an outlier where it scores above the model's rows; the added rows are left
  out of the counts (not of the partitions, as EPMT).
* **Multivariate classifiers**: each row is scored against the rows the model kept for its
  features (:func:`~epmt_graph.outliers.mvod.mvod_scores_using_model`); ``outlier`` counts
  the classifiers that call it one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from epmt_graph.api.jobs import get_jobs
from epmt_graph.api.refmodel_scores import pca_desired
from epmt_graph.api.stats import classifier_name, classify
from epmt_graph.db import Graph
from epmt_graph.errors import OutlierError
from epmt_graph.outliers.mvod import mvod_scores_using_model
from epmt_graph.outliers.pca import pca_feature_combine, pca_weighted_score

__all__ = [
    "PcaCounts",
    "added_model_jobs",
    "model_pca",
    "mvod_job_counts",
    "mvod_op_counts",
    "pca_job_counts",
    "pca_op_counts",
]

_log = logging.getLogger(__name__)

Tag = dict[str, Any]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class PcaCounts:
    """Outlier counts per principal component: ``counts`` (``jobid``, [``tags``,] one column
    per component, every row scored), the components' ``names`` and ``variances``, and the
    model's jobs ``added`` to the rows."""

    counts: pd.DataFrame
    names: list[str]
    variances: npt.NDArray[np.float64]
    added: list[str]

    def weighted(self, index: int = 1) -> pd.DataFrame:
        """The counts without the added rows (renumbered), with the ``pca_weighted`` column
        at ``index``."""
        given = self.counts[~self.counts["jobid"].isin(self.added)].reset_index(drop=True)
        return pca_weighted_score(given, self.names, self.variances, index)[0]


def model_pca(model: dict[str, Any] | None, pca: Any) -> Any:
    """``pca``, or True (with a warning, as EPMT) for a model built with PCA.

    Examples
    --------
    >>> model_pca({"id": 1, "info_dict": {"pca": {"out_features": ["pca_01"]}}}, False)
    True
    >>> model_pca(None, 2)
    2
    """
    if model is not None and model["info_dict"].get("pca") and not pca:
        _log.warning(
            "Auto-enabling PCA: model %s was built with PCA (call with pca=True)", model["id"]
        )
        return True
    return pca


def added_model_jobs(model: dict[str, Any] | None, ids: Sequence[str]) -> list[str]:
    """The model's jobs not among ``ids`` (none without a model).

    Examples
    --------
    >>> added_model_jobs({"jobs": ["a", "b", "c"]}, ["b", "x"]), added_model_jobs(None, [])
    (['a', 'c'], [])
    """
    if model is None:
        return []
    return [j for j in model["jobs"] if j not in set(ids)]


def _flags(name: str, values: list[Any], thresholds: Any, reference: Bools | None) -> Bools:
    """One classifier's outlier flags for a component's values: above its threshold, or
    (with a model) above the highest score of the model's rows (``reference``)."""
    verdict = classify(name, values, (), thresholds)
    if reference is None:
        return np.asarray(verdict.flags, dtype=bool)
    scores = np.asarray(verdict.scores, dtype=float)
    return np.asarray(np.abs(scores) > scores[reference].max(), dtype=bool)


def _count(
    frame: pd.DataFrame, names: list[str], methods: list[str], thresholds: Any, model: Any
) -> dict[str, npt.NDArray[np.int64]]:
    """Per component, how many classifiers flag each row of ``frame``."""
    reference = None if model is None else frame["jobid"].isin(model["jobs"]).to_numpy()
    counts = {}
    for name in names:
        values = frame[name].tolist()
        total = np.zeros(len(frame), dtype=np.int64)
        for method in methods:
            total += _flags(method, values, thresholds, reference)
        counts[name] = total
    return counts


def pca_job_counts(
    graph: Graph,
    frame: pd.DataFrame,
    features: list[str],
    methods: list[str],
    thresholds: Any,
    model: dict[str, Any] | None,
    pca: Any,
) -> PcaCounts:
    """``detect_outlier_jobs(..., pca=...)``'s counts: the jobs of ``frame`` (and the
    model's other jobs, one more query) on the components of ``features``."""
    added = added_model_jobs(model, frame["jobid"].tolist())
    if added:
        more = get_jobs(added, fmt="pandas", graph=graph)
        columns = ["jobid", *features]
        frame = pd.concat([frame[columns], more[columns]], ignore_index=True)
    reduced, variances, names, _ = pca_feature_combine(frame, features, pca_desired(pca))
    counts = _count(reduced, names, methods, thresholds, model)
    out = pd.DataFrame({"jobid": reduced["jobid"].to_numpy(), **counts}, index=reduced.index)
    return PcaCounts(out, names, variances, added)


def pca_op_counts(
    ops: pd.DataFrame,
    use: list[Tag],
    features: list[str],
    methods: list[str],
    thresholds: Any,
    model: dict[str, Any] | None,
    pca: Any,
    added: list[str],
) -> PcaCounts:
    """``detect_outlier_ops(..., pca=...)``'s counts: the components are fitted on every
    operation's rows (those of the model's jobs ``added`` to the jobs asked for too), then
    each tag's rows are scored among themselves (against the model's jobs' rows)."""
    reduced, variances, names, _ = pca_feature_combine(ops, features, pca_desired(pca))
    counts = {name: np.zeros(len(reduced), dtype=np.int64) for name in names}
    row_tags = reduced["tags"].tolist()
    for tag in use:
        at = np.flatnonzero([t == tag for t in row_tags])
        if at.size:
            rows = reduced.iloc[at]
            for name, flags in _count(rows, names, methods, thresholds, model).items():
                counts[name][at] += flags
    out = pd.DataFrame({"jobid": reduced["jobid"].to_numpy(), "tags": row_tags, **counts})
    return PcaCounts(out, names, variances, added)


def _label(classifiers: list[Any], features: list[str]) -> str:
    """EPMT's ``name`` of a multivariate answer: the classifiers and the features."""
    return f"{','.join(classifier_name(c) for c in classifiers)} ({','.join(sorted(features))})"


def _vector(rows: Any, kept: dict[str, Any], clf: Any, key: str) -> Any:
    """A classifier's 0/1 outlier vector for ``rows`` against what the model ``kept`` for
    it, or None (with a warning) if the model has nothing for the features or the
    classifier cannot score."""
    name = classifier_name(clf)
    entry = kept.get(name, {}).get(key)
    if entry is None:
        _log.warning("Skipping classifier %s: the model has no score for (%s)", name, key)
        return None
    found = mvod_scores_using_model(rows, np.asarray(entry[1], dtype=float), clf, entry[0])
    if found is False:
        _log.warning("Could not score using %s, skipping it", name)
        return None
    return found


def mvod_job_counts(
    frame: pd.DataFrame, features: list[str], classifiers: list[Any], model: dict[str, Any]
) -> Any:
    """``detect_outlier_jobs`` with multivariate classifiers: a frame of ``jobid`` and
    ``outlier`` (how many classifiers call the job one; its ``name`` says which classifiers
    on which features), and with more than one classifier per classifier its 0/1 vector.

    Raises
    ------
    OutlierError
        If the model has none of the classifiers, or none could score with its rows.
    """
    known = [c for c in classifiers if classifier_name(c) in model["computed"]]
    if len(known) < len(classifiers):
        lacking = [classifier_name(c) for c in classifiers if c not in known]
        _log.warning("Skipping classifiers %s: not in trained model %s", lacking, model["id"])
    key = ",".join(sorted(features))
    rows = frame[sorted(features)].to_numpy(dtype=float)
    vectors = {}
    for clf in known:
        found = _vector(rows, model["computed"], clf, key)
        if found is not None:
            vectors[classifier_name(clf)] = found
    if not vectors:
        raise OutlierError(
            f"model {model['id']} scores none of the classifiers "
            f"{[classifier_name(c) for c in classifiers]} on the features ({key})"
        )
    total = np.sum(list(vectors.values()), axis=0)
    out = pd.DataFrame({"jobid": frame["jobid"].to_numpy(), "outlier": total}, index=frame.index)
    setattr(out, "name", _label(known, features))  # noqa: B010 (EPMT's attribute, not a column)
    return out if len(known) == 1 else (out, {n: v.tolist() for n, v in vectors.items()})


def mvod_op_counts(
    ops: pd.DataFrame,
    use: list[Tag],
    features: list[str],
    classifiers: list[Any],
    model: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, dict[str, list[int]]]]:
    """``detect_outlier_ops`` with multivariate classifiers: ``jobid``, ``tags`` and
    ``outlier`` per operation row, and per tag (its JSON, sorted keys) each classifier's
    0/1 vector over the tag's rows."""
    key = ",".join(sorted(features))
    values = ops[sorted(features)].to_numpy(dtype=float)
    row_tags = ops["tags"].tolist()
    outlier = np.zeros(len(ops), dtype=np.int64)
    vectors: dict[str, dict[str, list[int]]] = {}
    for tag in use:
        tag_key = json.dumps(tag, sort_keys=True)
        at = np.flatnonzero([t == tag for t in row_tags])
        kept = model["computed"].get(tag_key, {})
        vectors[tag_key] = {}
        for clf in classifiers:
            found = _vector(values[at], kept, clf, key)
            if found is not None:
                vectors[tag_key][classifier_name(clf)] = found.tolist()
                outlier[at] += found
    out = pd.DataFrame({"jobid": ops["jobid"].to_numpy(), "tags": row_tags, "outlier": outlier})
    setattr(out, "name", _label(classifiers, features))  # noqa: B010
    return out, vectors
