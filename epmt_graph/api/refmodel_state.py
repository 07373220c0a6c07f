"""Changing and removing reference models: ``delete_refmodels``, ``retire_refmodels``,
``refmodel_set_enabled``, ``refmodel_is_enabled``, ``refmodel_get_metrics`` and
``refmodel_set_active_metrics`` (EPMT 5.0.1's semantics); the models built from given jobs
(``delete_jobs``'s ``remove_models`` rule)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from typing import Any

import neo4j

from epmt_graph import cypher
from epmt_graph.api.params import jobids
from epmt_graph.api.refmodels import (
    RefModel,
    get_refmodels,
    model_id,
    model_row,
    model_rows,
    unknown_model,
)
from epmt_graph.db import Graph, default_graph
from epmt_graph.errors import QueryError

__all__ = [
    "delete_models",
    "delete_refmodels",
    "model_metrics",
    "models_of_jobs",
    "refmodel_get_metrics",
    "refmodel_is_enabled",
    "refmodel_set_active_metrics",
    "refmodel_set_enabled",
    "remove_models_of_jobs",
    "retire_refmodels",
]

_log = logging.getLogger(__name__)


def delete_refmodels(*ref_ids: Any, graph: Graph | None = None) -> int:
    """Delete models by id (``delete_refmodels(1, 2)`` or ``delete_refmodels([1, 2])``);
    ids without a model are skipped. Returns how many were deleted (0 for no ids).

    Examples
    --------
    >>> delete_refmodels(), delete_refmodels(999)
    (0, 0)
    """
    if not ref_ids:
        _log.warning("You must specify one or more reference model IDs to delete")
        return 0
    ids: Iterable[Any] = ref_ids[0] if isinstance(ref_ids[0], list | tuple | set) else ref_ids
    return delete_models(graph or default_graph(), sorted({model_id(i) for i in ids}))


def retire_refmodels(ndays: int = 0, dry_run: bool = False, *, graph: Graph | None = None) -> int:
    """Delete the models created more than ``ndays`` days ago (none for ``ndays <= 0``,
    EPMT's default ``retire_models_ndays``); returns how many (would be, with ``dry_run``).

    Examples
    --------
    >>> retire_refmodels(), retire_refmodels(ndays=1, dry_run=True)
    (0, 0)
    """
    if ndays <= 0:
        return 0
    graph = graph or default_graph()
    models = get_refmodels(before=-ndays, fmt="terse", graph=graph)
    if dry_run or not models:
        return len(models)
    return delete_models(graph, models)


def _change(graph: Graph, ref_id: Any, change: Any) -> dict[str, Any]:
    """Lock a model, compute ``change(model dict) -> (enabled, info_dict)`` and write it, in
    one write transaction; returns the model now."""
    ident = model_id(ref_id)

    def work(tx: neo4j.ManagedTransaction) -> None:
        record = tx.run(cypher.query("refmodel-lock"), model=ident).single()
        if record is None:
            raise unknown_model(ident)
        enabled, info = change(model_row(record["r"], []))
        tx.run(
            cypher.query("refmodel-set"),
            model=ident,
            enabled=enabled,
            info_json=None if info is None else json.dumps(info),
            updated=time.time_ns() // 1000,
        ).consume()

    graph.execute_write(work)
    return model_rows(graph, ident)


def refmodel_set_enabled(
    ref_id: Any, enabled: bool = False, *, graph: Graph | None = None
) -> RefModel:
    """Enable or disable a model (default: disable); returns the model.

    Raises
    ------
    UnknownModelError
        If there is no such model (EPMT's KeyError); nothing is written.
    """
    graph = graph or default_graph()
    row = _change(graph, ref_id, lambda _: (bool(enabled), None))
    return RefModel(row, graph)


def refmodel_is_enabled(ref_id: Any, *, graph: Graph | None = None) -> bool:
    """Whether a model is enabled.

    Raises
    ------
    UnknownModelError
        If there is no such model (EPMT's KeyError).

    Examples
    --------
    >>> refmodel_is_enabled(999)
    Traceback (most recent call last):
    ...
    epmt_graph.errors.UnknownModelError: ReferenceModel[999] could not be found
    """
    return bool(model_rows(graph or default_graph(), ref_id)["enabled"])


def model_metrics(row: dict[str, Any], active_only: bool) -> set[str]:
    """The features of a model dict (``computed`` nested), as :func:`refmodel_get_metrics`."""
    metrics: set[str] = set()
    for per_method in row["computed"].values():
        nested = [v for v in per_method.values() if isinstance(v, dict)]
        if nested and len(nested) == len(per_method):
            metrics.update(k for v in nested for k in v)
        else:
            metrics.update(per_method)
    metrics.update(row["info_dict"].get("pca", {}).get("inp_features", []))
    active = row["info_dict"].get("active_metrics", [])
    if active_only and active:
        metrics &= set(active)
    return {part for metric in metrics for part in metric.split(",")}


def refmodel_get_metrics(
    model: Any, active_only: bool = False, *, graph: Graph | None = None
) -> set[str]:
    """The features a model has scores for; with ``active_only``, those of them set active
    (all of them when none is set).

    Parameters
    ----------
    model : int, a :class:`RefModel` or a model dict

    Raises
    ------
    UnknownModelError
        If there is no such model (EPMT's KeyError).
    """
    graph = graph or default_graph()
    row = model.__dict__["_row"] if isinstance(model, RefModel) else model_rows(graph, model)
    return model_metrics(row, active_only)


def refmodel_set_active_metrics(
    ref_id: Any, metrics: Any, *, graph: Graph | None = None
) -> list[str]:
    """Make ``metrics`` the model's active features (those it does not have are ignored,
    with a warning); returns the active ones, sorted (``[]``: every feature is active).

    Raises
    ------
    UnknownModelError
        If there is no such model (EPMT's KeyError); nothing is written.
    """
    if isinstance(metrics, str) or not all(isinstance(m, str) for m in metrics):
        raise QueryError(f"metrics must be a list of feature names, not {metrics!r}")
    wanted = set(metrics)
    active: list[str] = []

    def change(row: dict[str, Any]) -> tuple[None, dict[str, Any]]:
        available = model_metrics(row, False)
        if wanted - available:
            _log.warning("Ignoring metrics not in the model: %s", sorted(wanted - available))
        active[:] = sorted(wanted & available)
        return None, {**row["info_dict"], "active_metrics": list(active)}

    _change(graph or default_graph(), ref_id, change)
    return active


def models_of_jobs(jobs: Any, *, graph: Graph | None = None) -> dict[str, list[int]]:
    """The ids of the models built from each of the jobs (jobs without any are left out).

    Examples
    --------
    >>> models_of_jobs(["685000", "685003"])
    {}
    """
    graph = graph or default_graph()
    records = graph.read("refmodels-of-jobs", jobids=jobids(graph, jobs))
    return {r["jobid"]: [int(m) for m in r["models"]] for r in records}


def remove_models_of_jobs(jobs: Any, *, graph: Graph | None = None) -> int:
    """Delete every model built from any of the jobs; returns how many were deleted."""
    graph = graph or default_graph()
    models = sorted({m for ids in models_of_jobs(jobs, graph=graph).values() for m in ids})
    return delete_models(graph, models)


def delete_models(graph: Graph, models: list[int]) -> int:
    """Delete models by id in one transaction; returns how many existed."""
    if not models:
        return 0

    def work(tx: neo4j.ManagedTransaction) -> int:
        return int(tx.run(cypher.query("refmodels-delete"), models=models).single(strict=True)[0])

    return int(graph.execute_write(work))
