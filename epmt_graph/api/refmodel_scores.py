"""What a reference model keeps (EPMT 5.0.1's ``create_refmodel`` and ``_refmodel_scores``):
per classifier, what it returned over the model's jobs, or over each operation's rows.

* a univariate classifier: per feature, its values less the scores
  (:func:`epmt_graph.api.stats.model_scores`);
* a multivariate (pyod) classifier: under the features joined by commas, its highest score
  and the rows it scored (``[max, [[...], ...]]``), which outlier detection scores new rows
  against; a classifier that cannot score the rows is left out, as EPMT leaves it;
* with ``pca``, the classifiers see the features' principal components (``pca_01``, ...)
  instead, and the model's ``info_dict`` names both:
  ``{'pca': {'inp_features': [...], 'out_features': ['pca_01', ...]}}``.

PCA and the multivariate classifiers are :mod:`epmt_graph.outliers`'s, imported when a
model asks for them: that package is built on this API (EPMT's ``create_refmodel`` imports
``epmt_outliers`` the same way).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from epmt_graph.api.opmetrics import get_op_metrics
from epmt_graph.api.stats import classifier_name, model_scores
from epmt_graph.db import Graph
from epmt_graph.errors import ModelError, QueryError

__all__ = ["PCA_VARIANCE", "ModelSpec", "model_contents", "pca_desired"]

#: The explained variance ratio the components must reach for ``pca=True`` (EPMT's 0.85).
PCA_VARIANCE = 0.85


def pca_desired(pca: Any) -> int | float:
    """What a ``pca=`` argument asks for: ``True`` is :data:`PCA_VARIANCE`; an int ``>= 1``
    a number of components; a float in ``(0, 1)`` the variance ratio to reach.

    Raises
    ------
    QueryError
        For anything else (``False`` included: no PCA is asked for).

    Examples
    --------
    >>> pca_desired(True), pca_desired(2), pca_desired(0.9)
    (0.85, 2, 0.9)
    """
    if pca is True:
        return PCA_VARIANCE
    if isinstance(pca, int | np.integer) and not isinstance(pca, bool) and pca >= 1:
        return int(pca)
    if isinstance(pca, float | np.floating) and 0 < pca < 1:
        return float(pca)
    raise QueryError(
        f"pca={pca!r}: give True, a number of components (an int >= 1) or a variance "
        "ratio to reach (a float between 0 and 1)"
    )


@dataclass(frozen=True)
class ModelSpec:
    """What to build a model of: the jobs' frame (``get_jobs(..., fmt='pandas')``), the
    operations (tag dicts; none: whole jobs), the classifiers (univariate names, pyod
    objects), the features, and the PCA asked for (None: none)."""

    ids: list[str]
    frame: pd.DataFrame
    ops: list[dict[str, Any]]
    univariate: list[str]
    multivariate: list[Any]
    features: list[str]
    exact_tag_only: bool
    pca: int | float | None


def model_contents(graph: Graph, spec: ModelSpec) -> tuple[dict[str, Any], dict[str, Any]]:
    """The model's ``computed`` and ``info_dict``.

    Raises
    ------
    QueryError
        If an operation has no rows, or (without PCA) a feature is not an operation metric.
    ModelError
        If no classifier could score the rows.
    """
    frame = spec.frame if not spec.ops else _op_rows(graph, spec)
    features = spec.features
    info: dict[str, Any] = {}
    if spec.pca is not None:
        from epmt_graph.outliers.pca import pca_feature_combine

        frame, _, features, _ = pca_feature_combine(frame, spec.features, desired=spec.pca)
        info["pca"] = {"inp_features": spec.features, "out_features": features}
    if not spec.ops:
        return _scores(frame, spec, features), info
    computed = {}
    for tag in spec.ops:
        selected = frame[[row == tag for row in frame["tags"]]]
        if selected.empty:
            raise QueryError(f"no process of the jobs has the op tag {tag}")
        computed[json.dumps(tag, sort_keys=True)] = _scores(selected, spec, features)
    return computed, info


def _op_rows(graph: Graph, spec: ModelSpec) -> pd.DataFrame:
    """The ``get_op_metrics`` rows of the model's operations."""
    rows: pd.DataFrame | None = get_op_metrics(
        spec.ids, tags=spec.ops, exact_tags_only=spec.exact_tag_only, fmt="pandas", graph=graph
    )
    if rows is None or rows.empty:
        raise QueryError(f"the jobs {spec.ids} have no processes with the op_tags given")
    missing = sorted(set(spec.features) - set(rows.columns))
    if missing and spec.pca is None:
        raise QueryError(f"features {missing} are not operation metrics")
    return rows


def _scores(frame: pd.DataFrame, spec: ModelSpec, features: list[str]) -> dict[str, Any]:
    """Per classifier, what it keeps of the rows of ``frame``."""
    computed = model_scores(frame, spec.univariate, features)
    if spec.multivariate:
        from epmt_graph.outliers.mvod import mvod_model_scores

        scored = mvod_model_scores(frame, spec.multivariate, features)
        if not scored and not computed:
            names = [classifier_name(c) for c in spec.multivariate]
            raise ModelError(f"none of the classifiers {names} could score the model's rows")
        computed |= scored
    return computed
