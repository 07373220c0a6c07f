"""Write one parsed job into the graph, all of it or nothing, and swap it in at once.

Every load writes a new *version* of its job, which readers do not see yet: a Job node
and its Process nodes carrying ``version`` (and the ``depth`` and ``inclusive_cpu_time``
the reader computed), and the PARENT_OF edges. That is one write transaction, or for a job
of more than ``TX_PROCESSES`` processes several (nodes and edges in parts of that
size), so that none outgrows the server's transaction memory.
Another transaction publishes the version by pointing the job's JobHead at it (one
property write), and every named query reads through that pointer. Neo4j applies a commit
record by record, so this is what lets a reader see a job whole or not at all, and the old
or the new version of a replaced job, never a mix.

A replaced (or deleted) version is deleted only after the transactions that were running
when it was unpublished have finished (:meth:`epmt_graph.db.Graph.wait_for_readers`).

Loads, replaces and deletes of one job may run at once: each version being written or
deleted is held by its writer on a lease (:mod:`epmt_graph.store.versions`), so none of
them deletes or writes into another's, and a version is published only whole, by the
writer that holds it, over the version that writer expected; the loser of a race is refused
and keeps nothing. Versions left unpublished by an interrupted load or delete are deleted by
the next load or delete of the same job once their lease has run out.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

import neo4j

from epmt_graph.db import Batch, Graph
from epmt_graph.errors import DuplicateJobError, EpmtGraphError, ServerError
from epmt_graph.loader.model import JobRows
from epmt_graph.loader.pipeline import made_ahead
from epmt_graph.loader.slices import Pairs, Slice, slices
from epmt_graph.loader.spill import ProcessRows
from epmt_graph.schema import PROCESS_METRICS, Row, node_properties
from epmt_graph.store import jobs as store
from epmt_graph.store import versions
from epmt_graph.store.versions import Refusal

__all__ = ["LoadResult", "write_job"]

#: The server's answer when a transaction outgrows ``dbms.memory.transaction.total.max``.
TOO_BIG = "Neo.TransientError.General.MemoryPoolOutOfMemoryError"

T = TypeVar("T")
#: One step of a write, run inside a transaction.
Part = Callable[[neo4j.ManagedTransaction], None]

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
        Of the version published: counted in the node rows written (``loaded``,
        ``replaced``), in the graph (``unchanged``), in the parsed rows (a dry run).
    max_depth : int or None
        As ``processes``; None for a dry run.
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


#: Why a written version was not published, by :class:`~epmt_graph.store.versions.Refusal`.
_REFUSED = {
    Refusal.MOVED: "job {jobid} was loaded or deleted by someone else while {source} was "
    "being written; nothing of it was kept",
    Refusal.LOST: "job {jobid}: another load or delete of the job took over the version "
    "written from {source} (its writer had been silent for longer than its lease); nothing "
    "of it was kept",
    Refusal.INCOMPLETE: "job {jobid}: the version written from {source} lacked processes, so "
    "it was not published; nothing of it was kept",
}


def write_job(
    graph: Graph,
    rows: JobRows,
    *,
    replace: bool = False,
    progress: Callable[[int], object] | None = None,
) -> LoadResult:
    """Write ``rows`` as a new version of its job and publish it.

    Parameters
    ----------
    graph : Graph
    rows : JobRows
        A parsed job (:func:`epmt_graph.loader.reader.read_job`).
    replace : bool
        Swap out a loaded job with the same jobid but other content: readers see the old
        job until the new one is published, then the new one.
    progress : callable, optional
        Called with the number of processes written after each batch.

    Returns
    -------
    LoadResult

    Raises
    ------
    DuplicateJobError
        The jobid is loaded with other content and ``replace`` is False, or another load or
        delete of the same jobid came first while this one was written (nothing of it is
        kept; if that load published the same content, the status is ``unchanged``).
    ServerError
        The job does not fit the server's transaction memory (nothing is written).
    """
    graph.ensure_schema()
    existing = store.published(graph, rows.jobid)
    if existing and existing["digest"] == rows.digest():
        return _result(graph, rows, "unchanged")
    if existing and not replace:
        raise DuplicateJobError(
            f"job {rows.jobid} is already loaded from {existing['source']} with other "
            f"content than {rows.source}; pass replace=True (--replace) to swap it"
        )
    writer = versions.new_writer()
    store.delete_stale(graph, rows.jobid, writer)
    version = time.time_ns() // 1000
    expected = existing["version"] if existing else None
    shape = _Shape()
    try:
        _write(graph, rows, version, writer, progress, shape)
        refused = versions.publish(
            graph, rows.jobid, version, writer, len(rows.processes), expected
        )
    except versions.Lost:
        refused = Refusal.LOST
    if refused is not None:
        store.delete_version(graph, rows.jobid, version, writer)
        now = store.published(graph, rows.jobid)
        if refused is Refusal.MOVED and now and now["digest"] == rows.digest():
            return _result(graph, rows, "unchanged")
        raise DuplicateJobError(_REFUSED[refused].format(jobid=rows.jobid, source=rows.source))
    if expected is not None:
        graph.wait_for_readers()
        store.delete_version(graph, rows.jobid, expected, writer)
    return shape.result(rows, "replaced" if existing else "loaded")


class _Shape:
    """The processes, roots and deepest level of the version written, counted from the node
    rows as they are sent (``job-summary`` of the published version would count the same
    nodes: ``publish-job`` checks that all of them are in): per slice, so that a retried
    transaction, which makes its rows again, counts them once."""

    def __init__(self) -> None:
        self._parts: dict[int, tuple[int, int, int]] = {}

    def note(self, part: Slice, nodes: list[Row]) -> None:
        """Count the node rows of ``part`` (``depth`` as ``job-summary`` reads it)."""
        depths = [depth for node in nodes if (depth := node.get("depth")) is not None]
        self._parts[part.start] = (len(nodes), depths.count(0), max(depths, default=0))

    def result(self, rows: JobRows, status: Status) -> LoadResult:
        """The load's result, from the rows counted."""
        counts = self._parts.values()
        return LoadResult(
            jobid=rows.jobid,
            status=status,
            processes=sum(n for n, _, _ in counts),
            roots=sum(roots for _, roots, _ in counts),
            max_depth=max((deepest for *_, deepest in counts), default=0),
            source=rows.source,
        )


def _write(
    graph: Graph,
    rows: JobRows,
    version: int,
    writer: str,
    progress: Callable[[int], object] | None,
    shape: _Shape,
) -> None:
    """Write ``rows`` as an unpublished ``version`` held by ``writer``: one transaction, or
    for a job of more than ``TX_PROCESSES`` processes one per part, each holding the
    version from its start and renewing the lease at its end (a failure leaves only an
    unpublished version, removed here if the server still answers, else by a later load).

    Raises
    ------
    Lost
        The version was taken over by another writer (``versions.hold``).
    """
    steps = _parts(rows, version, writer, progress, shape)
    renew = functools.partial(_hold, rows.jobid, version, writer)

    def guarded(part: Callable[[neo4j.ManagedTransaction], T]) -> Callable[..., T]:
        def work(tx: neo4j.ManagedTransaction) -> T:
            try:
                return part(tx)
            except neo4j.exceptions.TransientError as exc:  # retrying would only fail again
                if exc.code != TOO_BIG:
                    raise
                raise ServerError(
                    f"job {rows.jobid} ({len(rows.processes):,} processes) does not fit the "
                    f"server's transaction memory ({exc.message}); give the server more heap "
                    "(epmt-graph server start --heap) or raise "
                    "dbms.memory.transaction.total.max"
                ) from exc

        return work

    if len(rows.processes) <= store.TX_PROCESSES:
        graph.execute_write(guarded(functools.partial(_run_all, [*steps, renew])))
        return
    first, *rest = steps
    try:
        graph.execute_write(guarded(first))
        for part in rest:
            graph.execute_write(guarded(functools.partial(_run_all, [renew, part, renew])))
    except BaseException:
        with contextlib.suppress(EpmtGraphError, OSError):  # the cleanup may fail too
            store.delete_version(graph, rows.jobid, version, writer)
        raise


def _hold(jobid: str, version: int, writer: str, tx: neo4j.ManagedTransaction) -> None:
    versions.hold(tx, jobid, version, writer)


def _parts(
    rows: JobRows,
    version: int,
    writer: str,
    progress: Callable[[int], object] | None,
    shape: _Shape,
) -> list[Part]:
    """The statements that write a job's nodes and edges, in parts of ``TX_PROCESSES`` rows; the
    first makes the version's Job node, held by ``writer``; the last puts the digest on it
    when the digest was still being made (``JobRows.pending_digest``)."""
    job = {
        **rows.job,
        "source": rows.source,
        "version": version,
        "metric_names": list(PROCESS_METRICS),
    }
    steps: list[Part] = [
        functools.partial(store.run, "load-job", job=job, writer=writer, lease=versions.LEASE_MS)
    ]
    size = min(store.BATCH, store.TX_PROCESSES)
    cut, crossing = slices(rows.parents, size)
    per_part = store.TX_PROCESSES // size
    for first in range(0, len(cut), per_part):
        chunk = cut[first : first + per_part]
        steps.append(functools.partial(_write_processes, rows, version, chunk, progress, shape))
    for start in range(0, len(crossing), store.TX_PROCESSES):
        pairs = crossing[start : start + store.TX_PROCESSES]
        steps.append(functools.partial(_write_edges, rows.jobid, version, pairs))
    if "digest" not in job:  # still being made: written last, the job's rows meanwhile
        steps.append(functools.partial(_write_digest, rows, version))
    return steps


def _run_all(steps: list[Part], tx: neo4j.ManagedTransaction) -> None:
    for step in steps:
        step(tx)


def _write_processes(
    rows: JobRows,
    version: int,
    parts: list[Slice],
    progress: Callable[[int], object] | None,
    shape: _Shape,
    tx: neo4j.ManagedTransaction,
) -> None:
    """Write the processes of ``parts``, each part's rows made (read back, packed as node
    properties, counted in ``shape``) on another thread while the server writes the part
    before; the job's digest, if still to make, from when the first part is sent."""

    def batches() -> Iterator[tuple[Slice, Batch, Batch]]:
        for part in parts:
            nodes = Batch(_nodes(rows.processes, part))
            shape.note(part, nodes)
            yield part, nodes, Batch(part.links(rows.parents))

    with made_ahead(batches()) as ready:
        for part, nodes, links in ready:
            params = {"jobid": rows.jobid, "version": version, "rows": nodes, "links": links}
            # the digest, if still to make, is made while the server writes the first batch
            store.run("load-processes", tx, meanwhile=rows.start_digest, **params)
            if progress is not None:
                progress(part.end - part.start)


def _nodes(processes: Sequence[Row], part: Slice) -> list[Row]:
    """The node properties of the processes of ``part``."""
    if isinstance(processes, ProcessRows):  # made from the stored values: the reader's rows
        return processes.nodes(part.start, part.end)
    return [node_properties(p) for p in processes[part.start : part.end]]


def _write_edges(jobid: str, version: int, pairs: Pairs, tx: neo4j.ManagedTransaction) -> None:
    for start in range(0, len(pairs), store.BATCH):
        edges = Batch(
            [f"{jobid}:{parent}", f"{jobid}:{child}"]
            for parent, child in pairs[start : start + store.BATCH].tolist()
        )
        store.run("load-parent-edges", tx, version=version, edges=edges)


def _write_digest(rows: JobRows, version: int, tx: neo4j.ManagedTransaction) -> None:
    store.run("set-job-digest", tx, jobid=rows.jobid, version=version, digest=rows.digest())


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
