"""Why is this job an outlier? Its process tree matched against reference jobs' trees.

:func:`explain_outlier` answers where in the process tree an outlier job spends what its
reference jobs do not. Every process has a **path key**: the ``(exename, op tag)`` pairs
from its root down to itself, where an op tag is the process's tags less the operation
counters (:data:`COUNTERS`: ``op:hsmget``, not ``op:hsmget;op_instance:3;op_sequence:9``).
The processes of a job with the same key (siblings, or cousins under ancestors of equal
keys) are taken together, and for each key and job the named query ``outlier-tree-paths``
sums, over the subtrees rooted at those processes (one read for every job, in the server;
each process walks up to its root once: O(processes x depth)):

* ``cpu_time``: their inclusive CPU time (µs);
* ``duration``: their wall spans, each from the subtree's earliest start to its latest
  end (µs);
* ``num_procs``: the processes in them.

A key a job lacks counts 0 for it. The outlier's value is scored against the reference
jobs' values with EPMT's modified z-score (:func:`epmt_graph.api.stats.modified_z_score`):
``0.6745 * (value - median) / scale``, signed (positive: the outlier has more), where
``median`` and the classifier's ``MAD`` (its mean absolute deviation when the MAD is 0) are
those of the references, and ``scale = max(MAD, min_scale * |median|, unit)``
(:data:`UNITS`: 10 ms, 10 ms, 1 process). The floor keeps the score finite and robust when
the references are few or identical: with ``min_scale = 0.05`` a deviation must exceed
about 26 % of the median (``3.5 * 0.05 / 0.6745``) to reach the threshold 3.5.

A key is **significant** for a feature when ``|score| >= threshold``. It is **explained**
by a child key (one more step down) that is significant too and carries at least ``share``
(default 80 %) of its excess (``value - median``), with the same sign: the child then says
more precisely where the excess is. The answer (``.frame``) lists every significant key
not explained by a child, feature by feature: the deepest meaningful nodes, their
ancestors left out; largest first, by their excess as a fraction of the references'
median job total (the feature summed over the job's roots). The answer, its text and its
picture are :class:`~epmt_graph.outliers.explanation.OutlierExplanation`'s.

Examples
--------
Two runs of one post-processing component, a year of model time apart: 691201 spent
6137 s less than 685000 in the ``perl`` of its ``hsmget`` operations (685000 waited for
tape recalls there) and 35.6 s more CPU, spread over its tree.

>>> why = explain_outlier("691201", ["685000"], limit=3)
>>> why.frame[["path", "tag", "feature", "excess", "score"]]
                  path        tag   feature        excess    score
0            tcsh/perl  op:hsmget  duration -6.137215e+09 -12.9882
1  tcsh/perl/make/tcsh  op:hsmget  duration -2.692680e+09 -13.1993
2                 tcsh   op:dmput  cpu_time  3.561164e+07   4.2884
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from epmt_graph.api.params import jobids, paging, single_jobid
from epmt_graph.api.refmodels import model_rows
from epmt_graph.api.stats import THRESHOLDS, modified_z_score
from epmt_graph.db import Graph, default_graph
from epmt_graph.errors import QueryError
from epmt_graph.outliers.explanation import (
    COLUMNS,
    OutlierExplanation,
    counter_prefixes,
    path_key,
)

__all__ = ["COLUMNS", "COUNTERS", "FEATURES", "UNITS", "OutlierExplanation", "explain_outlier"]

#: The features compared, per path key: inclusive CPU time, summed wall span, processes.
FEATURES: tuple[str, ...] = ("cpu_time", "duration", "num_procs")
#: Tag keys left out of a path key's op tags: EPMT's per-run operation counters.
COUNTERS: tuple[str, ...] = ("op_instance", "op_sequence")
#: The smallest scale of each feature's score (µs, µs, processes).
UNITS: dict[str, int] = {"cpu_time": 10_000, "duration": 10_000, "num_procs": 1}


def explain_outlier(
    job: Any,
    reference_jobs: Any = None,
    *,
    trained_model: Any = None,
    features: Any = FEATURES,
    limit: int | None = 10,
    threshold: float = THRESHOLDS["modified_z_score"],
    share: float = 0.8,
    min_scale: float = 0.05,
    ignore_tags: Any = COUNTERS,
    graph: Graph | None = None,
) -> OutlierExplanation:
    """Where in its process tree a job spends what its reference jobs do not.

    Parameters
    ----------
    job : one job, in any form ``get_jobs`` accepts
        The outlier.
    reference_jobs : jobs in any form ``get_jobs`` accepts, optional
        The jobs it is compared with (not the outlier itself).
    trained_model : int, RefModel or model dict, optional
        Instead of ``reference_jobs``: a reference model (``create_refmodel``) whose jobs
        are the references (its stored scores are job-level and not used).
    features : str or sequence of str
        Of :data:`FEATURES` (default: all three).
    limit : int or None
        How many rows of :attr:`~OutlierExplanation.frame` (default 10); None or 0: all.
    threshold : float
        The |score| from which a key is significant (EPMT's 3.5 for the modified z-score).
    share : float
        The part of a key's excess (0 < share <= 1) a child key must carry to be named
        instead of it.
    min_scale : float
        The score's scale is at least this fraction of the references' median.
    ignore_tags : sequence of str
        Tag keys left out of the op tags in path keys (default :data:`COUNTERS`, which
        count operations and differ between runs with more or fewer of them).
    graph : Graph, optional
        Default: :func:`epmt_graph.db.default_graph`.

    Returns
    -------
    OutlierExplanation
        ``.frame`` (the deviating subtrees), ``.paths``, ``.render()``, ``.picture()``.

    Raises
    ------
    UnknownJobError
        If the outlier or a reference job is not loaded.
    UnknownModelError
        If ``trained_model`` names no model.
    QueryError
        If there are no references or both kinds are given, the outlier is among them, a
        feature is unknown, or ``limit``, ``threshold``, ``share`` or ``min_scale`` is out
        of range.

    Examples
    --------
    >>> explain_outlier("691201", "691201")
    Traceback (most recent call last):
    ...
    epmt_graph.errors.QueryError: the outlier 691201 is among its reference jobs
    """
    _, most = paging(limit)
    chosen, counters = _options(features, ignore_tags, threshold, share, min_scale)
    graph = graph or default_graph()
    outlier = single_jobid(graph, job, needs="explain_outlier() explains one job")
    refs = _references(graph, outlier, reference_jobs, trained_model)
    jobids(graph, [outlier, *refs], known=True)
    prefixes = counter_prefixes(counters)
    found = graph.read("outlier-tree-paths", jobids=[outlier, *refs], counters=prefixes)
    long = pd.DataFrame([dict(r) for r in found], columns=["jobid", "key", "instances", *FEATURES])
    if not (long["jobid"] == outlier).any():
        raise QueryError(f"job {outlier} has no processes")
    long["id"] = [json.dumps(k) for k in long["key"]]
    paths = _paths(long, outlier)
    scored = {f: _scores(long, paths, outlier, refs, f, min_scale) for f in chosen}
    rows = _reported(paths, scored, threshold, share)
    for f, table in scored.items():
        paths[[f, f"{f}_reference", f"{f}_score"]] = table[["value", "reference", "score"]]
    paths = paths.sort_values(["path", "id"]).drop(columns="parent")
    paths = paths[[c for c in paths.columns if c != "key"] + ["key"]]
    frame, paths = rows.iloc[:most].reset_index(drop=True), paths.reset_index(drop=True)
    return OutlierExplanation(
        outlier, tuple(refs), tuple(chosen), frame, paths, tuple(counters), graph
    )


def _options(
    features: Any, ignore_tags: Any, threshold: Any, share: Any, min_scale: Any
) -> tuple[list[str], list[str]]:
    """The features and the tag keys to leave out, once every option is checked."""
    chosen = [features] if isinstance(features, str) else list(features or [])
    if not chosen or not set(chosen) <= set(FEATURES):
        raise QueryError(f"explain_outlier() compares {', '.join(FEATURES)}, not {features!r}")
    counters = [ignore_tags] if isinstance(ignore_tags, str) else list(ignore_tags or [])
    if not all(isinstance(k, str) for k in counters):
        raise QueryError(f"ignore_tags must be tag keys (strings), not {ignore_tags!r}")
    given = {"threshold": threshold, "share": share, "min_scale": min_scale}
    for name, value in given.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
            raise QueryError(f"{name} must be a finite number, not {value!r}")
    if threshold <= 0 or not 0 < share <= 1 or min_scale < 0:
        raise QueryError(
            "explain_outlier() needs threshold > 0, 0 < share <= 1 and min_scale >= 0, "
            f"not {threshold}, {share} and {min_scale}"
        )
    return list(dict.fromkeys(chosen)), counters


def _references(graph: Graph, outlier: str, jobs: Any, model: Any) -> list[str]:
    """The reference job ids: ``jobs``, or the jobs of the model ``model``."""
    if (jobs is None) == (model is None):
        raise QueryError("explain_outlier() takes reference_jobs or trained_model (one of them)")
    if model is not None:
        row = model_rows(graph, model)
        refs, where = sorted(row["jobs"]), f"the jobs of model {row['id']}"
    else:
        refs, where = jobids(graph, jobs), "its reference jobs"
    if outlier in refs:
        raise QueryError(f"the outlier {outlier} is among {where}")
    return refs


def _paths(long: pd.DataFrame, outlier: str) -> pd.DataFrame:
    """One row per path key (index: its JSON ``id``): path, tag, depth, parent's id, key,
    and the outlier's instances."""
    first = long.drop_duplicates("id").set_index("id")
    keys = [path_key(k) for k in first["key"]]
    mine = long[long["jobid"] == outlier].set_index("id")["instances"]
    return pd.DataFrame(
        {
            "path": ["/".join(e for e, _ in key) for key in keys],
            "tag": [key[-1][1] for key in keys],
            "depth": [len(key) - 1 for key in keys],
            "instances": mine.reindex(first.index, fill_value=0).astype("int64"),
            "key": keys,
            "parent": [json.dumps(k[:-1]) if len(k) > 1 else None for k in first["key"]],
        },
        index=first.index,
    )


def _scores(
    long: pd.DataFrame,
    paths: pd.DataFrame,
    outlier: str,
    refs: list[str],
    feature: str,
    min_scale: float,
) -> pd.DataFrame:
    """Per path key: the outlier's value, the references' median, excess, signed score
    and excess over the references' median job total (see the module's docstring)."""
    matrix = long.pivot_table(index="id", columns="jobid", values=feature, aggfunc="sum")
    matrix = matrix.reindex(index=paths.index, columns=[outlier, *refs]).fillna(0)
    matrix = matrix.astype("int64")
    unit = UNITS[feature]
    reference, score = [], []
    for value, *others in matrix.to_numpy(dtype=float).tolist():
        _, _, median, spread = modified_z_score(others)
        scale = max(spread, min_scale * abs(median), unit)
        reference.append(median)
        z = modified_z_score([value], params=(0, median, scale))[0][0]
        score.append(z if value >= median else -z)
    table = pd.DataFrame(
        {"value": matrix[outlier], "reference": reference, "score": score}, index=paths.index
    )
    table["excess"] = table["value"] - table["reference"]
    totals = matrix[paths["depth"] == 0][refs].sum()
    table["of_job"] = table["excess"] / max(float(np.median(totals)), unit)
    return table


def _reported(
    paths: pd.DataFrame, scored: Mapping[str, pd.DataFrame], threshold: float, share: float
) -> pd.DataFrame:
    """The significant keys no child key explains, per feature, largest first."""
    frames = []
    for feature, table in scored.items():
        rows = paths.join(table)
        significant = rows["score"].abs() >= threshold
        kids = rows[rows["parent"].notna() & significant]
        above = rows["excess"].reindex(kids["parent"]).to_numpy()
        carries = (kids["excess"].to_numpy() * above > 0) & (
            kids["excess"].abs().to_numpy() >= share * np.abs(above)
        )
        explained = set(kids["parent"][carries])
        chosen = rows[significant & ~rows.index.isin(explained)]
        frames.append(chosen.assign(feature=feature))
    rows = pd.concat(frames)
    rows = rows.assign(_size=rows["of_job"].abs())
    rows = rows.sort_values(["_size", "depth", "path"], ascending=[False, False, True])
    return rows[COLUMNS]
