"""A loaded job on the server: its published version, statements run in parts, deletion.

The sizes every writer of the graph keeps to are here: :data:`BATCH` rows per statement,
:data:`TX_PROCESSES` processes per transaction, :data:`DELETE_TX` processes per deleting
transaction.
"""

from __future__ import annotations

from collections.abc import Callable

import neo4j

from epmt_graph import cypher
from epmt_graph.db import Batch, Graph
from epmt_graph.store import versions

__all__ = [
    "BATCH",
    "DELETE_TX",
    "TX_PROCESSES",
    "delete_job",
    "delete_stale",
    "delete_version",
    "published",
    "run",
]

#: Rows per UNWIND batch: large enough to amortise round trips, small enough for Bolt.
BATCH = 5000
#: Processes (and edges) per write transaction: a larger job is written (and walked) in
#: several transactions, so that none outgrows the server's transaction memory.
TX_PROCESSES = 100_000
#: Processes deleted per transaction (never more than :data:`TX_PROCESSES`). Measured
#: (``benchmarks/bench_delete.py``), the server spends about the same time per deleted
#: process from 5,000 to 40,000 a transaction; 20,000 keeps the transactions few (5 for a
#: 100,000-process job) and each within about 270 MB of the server's heap (14 KB per process
#: deleted), well inside the transaction memory of a 1 GB heap.
DELETE_TX = 20_000


def published(graph: Graph, jobid: str) -> neo4j.Record | None:
    """The published version of ``jobid`` with its ``digest``, ``source`` and ``processes``
    (``job-digest``), or None when the job is not loaded."""
    records = graph.read("job-digest", jobid=jobid)
    return records[0] if records else None


def run(
    name: str,
    tx: neo4j.ManagedTransaction,
    *,
    meanwhile: Callable[[], object] | None = None,
    **params: object,
) -> None:
    """Run the named statement ``name``; then empty its batches, which the driver would keep.

    A transaction keeps its results until it ends, and each result's summary keeps the
    parameters it was run with: a part of :data:`TX_PROCESSES` processes would hold every
    row it sent (3 KB a process). A retried transaction builds its batches anew.
    ``meanwhile`` is called once the statement is sent, before waiting for its end.
    """
    result = tx.run(cypher.query(name), params)
    if meanwhile is not None:
        meanwhile()
    result.consume()
    for value in params.values():
        if isinstance(value, Batch):
            value.clear()


def delete_job(graph: Graph, jobid: str) -> int:
    """Delete one job, its processes and their edges.

    Readers stop seeing the job at once (its JobHead goes first); its nodes are deleted
    once the transactions that were running then have finished. Versions that a load or
    delete left unpublished and whose writer is gone are deleted too.

    Returns
    -------
    int
        How many processes of the loaded job were deleted (0 if it was not loaded).
    """
    writer = versions.new_writer()
    version = versions.unpublish(graph, jobid, writer)
    deleted = 0
    if version is not None:
        graph.wait_for_readers()
        deleted = delete_version(graph, jobid, version, writer)
    delete_stale(graph, jobid, writer)
    return deleted


def delete_version(graph: Graph, jobid: str, version: int, writer: str) -> int:
    """Delete ``writer``'s unpublished version, :data:`DELETE_TX` processes per transaction
    (at most :data:`TX_PROCESSES`); returns how many processes it had."""
    return versions.delete_version(graph, jobid, version, writer, _delete_batch())


def delete_stale(graph: Graph, jobid: str, writer: str) -> int:
    """Delete the unpublished versions of ``jobid`` whose writer is gone
    (:func:`~epmt_graph.store.versions.delete_stale`); how many there were."""
    return versions.delete_stale(graph, jobid, writer, _delete_batch())


def _delete_batch() -> int:
    return min(DELETE_TX, TX_PROCESSES)
