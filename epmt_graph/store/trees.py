"""The server's walk of a stored tree: ``depth`` and ``inclusive_cpu_time`` from the edges.

The loader computes both before it writes (:func:`epmt_graph.schema.tree_values`); these two
level walks, ``tree-depths`` down and ``tree-inclusive-cpu`` up, find them again from the
stored PARENT_OF edges (``eq.compute_process_trees``). Every process is touched once per walk.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import neo4j

from epmt_graph import cypher
from epmt_graph.db import Graph
from epmt_graph.store import jobs

__all__ = ["LEVEL_WINDOW", "compute_trees"]

#: Levels walked per tree-depths statement before checking whether the walk is complete.
LEVEL_WINDOW = 64


def compute_trees(graph: Graph, jobid: str) -> None:
    """Recompute ``depth`` and ``inclusive_cpu_time`` of one job in the server (idempotent).

    One transaction, or for a job of more than :data:`~epmt_graph.store.jobs.TX_PROCESSES`
    processes one per tree level. A job that is not loaded is left alone.
    """
    existing = jobs.published(graph, jobid)
    if not existing:
        return
    version = existing["version"]
    if (existing["processes"] or 0) > jobs.TX_PROCESSES:
        _walk_levels(graph.execute_write, jobid, version)
    else:
        graph.execute_write(lambda tx: _walk_tree(tx, jobid, version))


def _walk_tree(tx: neo4j.ManagedTransaction, jobid: str, version: int) -> None:
    low, high = 0, LEVEL_WINDOW
    while True:
        record = tx.run(
            cypher.query("tree-depths"), jobid=jobid, version=version, fromLevel=low, toLevel=high
        ).single()
        if record is None or record["frontier"] == 0:
            break
        low, high = high + 1, 2 * high + 1
    jobs.run("tree-inclusive-cpu", tx, jobid=jobid, version=version, deepest=None, shallowest=None)


def _walk_levels(
    execute: Callable[[Callable[[neo4j.ManagedTransaction], Any]], Any], jobid: str, version: int
) -> None:
    """The tree walks of :func:`_walk_tree`, one level per ``execute`` (transaction): down
    for ``depth`` (roots and level 1 first), then up for ``inclusive_cpu_time``."""

    def depths(low: int, high: int, tx: neo4j.ManagedTransaction) -> int:
        query = cypher.query("tree-depths")
        params = {"jobid": jobid, "version": version, "fromLevel": low, "toLevel": high}
        return int(tx.run(query, params).single(strict=True)["frontier"])

    level = 1
    while execute(functools.partial(depths, 0 if level == 1 else level, level)):
        level += 1
    for deepest in range(level - 1, -1, -1):
        execute(
            functools.partial(
                jobs.run,
                "tree-inclusive-cpu",
                jobid=jobid,
                version=version,
                deepest=deepest,
                shallowest=deepest,
            )
        )
