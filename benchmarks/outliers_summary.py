"""What an outlier detection answered, as plain JSON, and where two such answers differ.

Shared by both sides of ``bench_outliers.py``: EPMT's script
(``epmt_ref/outliers_timing.py``, in EPMT's venv: pandas 1.5) and ours (pandas 3) summarize
their results with the same functions, so that the comparison is of like with like. It
imports neither EPMT nor ``epmt_graph``.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["compare", "summarize", "summarize_jobs", "summarize_ops"]

#: Relative tolerance of the op tags' scores.
RTOL = 1e-9


def _tag_key(tag: Any) -> str:
    """An op tag (a dict, or EPMT's JSON text of one) as sorted-key JSON."""
    return json.dumps(json.loads(tag) if isinstance(tag, str) else dict(tag), sort_keys=True)


def _num(x: Any) -> Any:
    """A numpy scalar as its Python number."""
    return x.item() if hasattr(x, "item") else x


def summarize_jobs(result: Any) -> dict[str, Any]:
    """``detect_outlier_jobs``' ``(df, parts)``: flags per job and feature, outliers per feature."""
    df, parts = result
    features = [str(c) for c in df.columns if c != "jobid"]
    return {
        "features": features,
        "flags": {
            str(row["jobid"]): {f: int(row[f]) for f in features} for _, row in df.iterrows()
        },
        "outliers": {str(f): sorted(map(str, parts[f][1])) for f in parts},
    }


def summarize_ops(result: Any) -> dict[str, Any]:
    """``detect_outlier_ops``' ``(df, parts, scores, tags, features)``, keyed by sorted-key tags."""
    df, parts, scores, tags, features = result
    features = [str(f) for f in features]
    return {
        "features": features,
        "tags": [_tag_key(t) for t in tags],
        "flags": {
            f"{row['jobid']} {_tag_key(row['tags'])}": {f: int(row[f]) for f in features}
            for _, row in df.iterrows()
        },
        "outliers": {_tag_key(t): sorted(map(str, parts[t][1])) for t in parts},
        "scores": {
            _tag_key(row["tags"]): {f: _num(row[f]) for f in features}
            for _, row in scores.iterrows()
        },
    }


def summarize(call: str, result: Any) -> dict[str, Any]:
    """The summary of call ``call`` (``jobs``, ``ops``, ``jobs_model``, ``ops_model``)."""
    if result is False or result is None:
        return {"error": f"returned {result!r}"}
    return summarize_ops(result) if call.startswith("ops") else summarize_jobs(result)


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=RTOL, abs_tol=0.0) or a == b
    return bool(a == b)


def compare(ours: dict[str, Any], epmt: dict[str, Any]) -> dict[str, Any]:
    """Where two summaries of the same call differ.

    Returns
    -------
    dict
        ``agree`` (bool), ``outliers_agree`` (the outlier jobs per feature or op tag are the
        same), ``outlier_keys`` (how many features or tags), ``outlier_jobs`` (EPMT's
        outlier jobs per key), and ``differences``: up to 10 texts naming what differs.

    Examples
    --------
    >>> a = {"outliers": {"cpu_time": ["1"]}, "flags": {"1": {"cpu_time": 2}}}
    >>> compare(a, a)["agree"]
    True
    >>> b = {"outliers": {"cpu_time": []}, "flags": {"1": {"cpu_time": 0}}}
    >>> compare(b, a)["differences"][0]
    "outliers of cpu_time: ours [], EPMT ['1']"
    """
    diffs: list[str] = []
    if "error" in ours or "error" in epmt:
        diffs.append(f"ours {ours.get('error', 'answered')}, EPMT {epmt.get('error', 'answered')}")
        return {"agree": False, "outliers_agree": False, "differences": diffs}
    for key in sorted(set(ours["outliers"]) | set(epmt["outliers"])):
        mine, theirs = ours["outliers"].get(key), epmt["outliers"].get(key)
        if mine != theirs:
            diffs.append(f"outliers of {key}: ours {mine}, EPMT {theirs}")
    outliers_agree = not diffs
    for name in ("features", "tags"):
        if ours.get(name) != epmt.get(name):
            diffs.append(f"{name} (in order): ours {ours.get(name)}, EPMT {epmt.get(name)}")
    for table in ("flags", "scores"):
        mine, theirs = ours.get(table, {}), epmt.get(table, {})
        for row in sorted(set(mine) | set(theirs)):
            a, b = mine.get(row, {}), theirs.get(row, {})
            if set(a) != set(b) or not all(_close(a[k], b[k]) for k in a):
                diffs.append(f"{table} of {row}: ours {a}, EPMT {b}")
    return {
        "agree": not diffs,
        "outliers_agree": outliers_agree,
        "outlier_keys": len(epmt["outliers"]),
        "outlier_jobs": epmt["outliers"],
        "differences": diffs[:10],
        "n_differences": len(diffs),
    }
