"""Write one parsed job into the graph, all of it or nothing.

A job is written in a single write transaction: the Job node, its Process nodes (batched
``UNWIND``), the PARENT_OF edges, then the two tree walks (``tree-depths`` and
``tree-inclusive-cpu``) that put ``depth`` and ``inclusive_cpu_time`` on every process.
Readers therefore see a job whole, with its tree answers, or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import neo4j
from neo4j.exceptions import ConstraintError

from epmt_graph import cypher
from epmt_graph.db import Graph
from epmt_graph.errors import DuplicateJobError, ServerError
from epmt_graph.loader.model import JobRows

__all__ = ["LoadResult", "compute_trees", "delete_job", "write_job"]

#: Rows per UNWIND batch: large enough to amortise round trips, small enough for Bolt.
BATCH = 5000
#: The server's answer when a transaction outgrows ``dbms.memory.transaction.total.max``.
TOO_BIG = "Neo.TransientError.General.MemoryPoolOutOfMemoryError"
#: Levels walked per tree-depths statement before checking whether the walk is complete.
LEVEL_WINDOW = 64

Status = Literal["loaded", "replaced", "unchanged", "validated"]


@dataclass(frozen=True)
class LoadResult:
    """What loading one job did.

    Attributes
    ----------
    jobid : str
    status : {'loaded', 'replaced', 'unchanged', 'validated'}
        ``unchanged``: the same content was already there; nothing was written.
        ``validated``: a dry run; parsed and checked, nothing written.
    processes, roots : int
        Counted in the graph after the write (in the parsed rows for a dry run).
    max_depth : int or None
        Counted in the graph after the write; None for a dry run.
    source : str
        The archive or directory read.
    """

    jobid: str
    status: Status
    processes: int
    roots: int
    max_depth: int | None
    source: str

    def __str__(self) -> str:
        depth = "" if self.max_depth is None else f", max depth {self.max_depth}"
        return (
            f"job {self.jobid}: {self.status}, {self.processes} processes, "
            f"{self.roots} roots{depth} ({self.source})"
        )


def write_job(
    graph: Graph,
    rows: JobRows,
    *,
    replace: bool = False,
    progress: Callable[[int], object] | None = None,
) -> LoadResult:
    """Write ``rows`` as one job.

    Parameters
    ----------
    graph : Graph
    rows : JobRows
        A parsed job (:func:`epmt_graph.loader.reader.read_job`).
    replace : bool
        Swap out a loaded job with the same jobid but other content, in one transaction.
    progress : callable, optional
        Called with the number of processes written after each batch.

    Returns
    -------
    LoadResult

    Raises
    ------
    DuplicateJobError
        The jobid is loaded with other content and ``replace`` is False.
    ServerError
        The job does not fit the server's transaction memory (nothing is written).
    """
    graph.ensure_schema()
    existing = graph.read("job-digest", jobid=rows.jobid)
    if existing and existing[0]["digest"] == rows.job["digest"]:
        return _result(graph, rows, "unchanged")
    if existing and not replace:
        raise DuplicateJobError(
            f"job {rows.jobid} is already loaded from {existing[0]['source']} with other "
            f"content than {rows.source}; pass replace=True (--replace) to swap it"
        )

    def work(tx: neo4j.ManagedTransaction) -> None:
        try:
            write(tx)
        except neo4j.exceptions.TransientError as exc:  # retrying would only fail again
            if exc.code != TOO_BIG:
                raise
            raise ServerError(
                f"job {rows.jobid} ({len(rows.processes):,} processes) does not fit the "
                f"server's transaction memory ({exc.message}); a job is written in one "
                "transaction: give the server more heap (epmt-graph server start --heap) "
                "or raise dbms.memory.transaction.total.max"
            ) from exc

    def write(tx: neo4j.ManagedTransaction) -> None:
        if existing:
            _delete(tx, rows.jobid)
        tx.run(cypher.query("load-job"), job={**rows.job, "source": rows.source}).consume()
        for start in range(0, len(rows.processes), BATCH):
            batch = rows.processes[start : start + BATCH]
            tx.run(cypher.query("load-processes"), jobid=rows.jobid, rows=batch).consume()
            if progress is not None:
                progress(len(batch))
        uids = [process["uid"] for process in rows.processes]
        edges = [[uids[parent], uids[child]] for parent, child in rows.edges]
        for start in range(0, len(edges), BATCH):
            tx.run(cypher.query("load-parent-edges"), edges=edges[start : start + BATCH]).consume()
        _walk_tree(tx, rows.jobid)

    try:
        graph.execute_write(work)
    except ConstraintError as exc:
        raise DuplicateJobError(
            f"job {rows.jobid} was loaded by someone else while {rows.source} was being written"
        ) from exc
    return _result(graph, rows, "replaced" if existing else "loaded")


def compute_trees(graph: Graph, jobid: str) -> None:
    """Re-run the tree walks of one job (idempotent): ``depth`` and ``inclusive_cpu_time``."""
    graph.execute_write(lambda tx: _walk_tree(tx, jobid))


def delete_job(graph: Graph, jobid: str) -> int:
    """Delete one job, its processes and their edges in one transaction.

    Returns
    -------
    int
        How many processes were deleted (0 and nothing done if the job is not loaded).
    """
    return graph.execute_write(lambda tx: _delete(tx, jobid))


def _walk_tree(tx: neo4j.ManagedTransaction, jobid: str) -> None:
    low, high = 0, LEVEL_WINDOW
    while True:
        record = tx.run(
            cypher.query("tree-depths"), jobid=jobid, fromLevel=low, toLevel=high
        ).single()
        if record is None or record["frontier"] == 0:
            break
        low, high = high + 1, 2 * high + 1
    tx.run(cypher.query("tree-inclusive-cpu"), jobid=jobid).consume()


def _delete(tx: neo4j.ManagedTransaction, jobid: str) -> int:
    total = 0
    while True:
        record = tx.run(cypher.query("delete-job-batch"), jobid=jobid, batch=BATCH).single()
        deleted = 0 if record is None else int(record["deleted"])
        total += deleted
        if deleted == 0:
            break
    tx.run(cypher.query("delete-job-node"), jobid=jobid).consume()
    return total


def _result(graph: Graph, rows: JobRows, status: Status) -> LoadResult:
    record = graph.read("job-summary", jobid=rows.jobid)[0]
    return LoadResult(
        jobid=rows.jobid,
        status=status,
        processes=record["processes"],
        roots=record["roots"],
        max_depth=record["maxDepth"],
        source=rows.source,
    )
