"""Changing published jobs: copy on write, then publish every changed job at once.

Readers see whole jobs (docs/architecture.md): a Neo4j commit is applied record by record
and read-committed readers do not wait for it, so property writes on a published version
could be seen half-done by a query reading several of its nodes. A change is therefore
written as a load is: :func:`commit` copies each changed job's published version into a
new, unseen version held by one writer (``copy-job``, ``copy-processes``,
``copy-parent-edges``, with the changes set on the copies), then publishes every copy in
*one* transaction (:func:`~epmt_graph.store.versions.publish_all`), which checks that each
head still shows the version copied: a delete or a load of one of the jobs meanwhile
refuses the whole commit, and the copies are deleted. The copied versions are deleted once
the transactions running at publication have ended.

Cost (measured on the shared 2-core test machine, load 3): on the 3,480-process sample job
685000 a ``tag_job`` takes 1 to 1.5 s, of which the copy is 0.4 to 0.9 s and the rest the
wait for readers and the old version's delete; the same property writes in place take 3 to
10 ms. Chosen anyway: in place, a reader could see a commit half-applied (a job's new
``start`` with a process's old one), and a commit racing a delete could write into a version
being deleted; here either is impossible by construction (tests/test_api_records.py).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from typing import Any

import neo4j

from epmt_graph import cypher
from epmt_graph.db import Graph
from epmt_graph.store import jobs, versions

__all__ = ["Edit", "Refused", "commit"]


@dataclass
class Edit:
    """The changes to one job: properties of its Job node and of processes (by uid), each
    ``{"props": {...}, "slots": [[list, slot, value, property], ...]}`` (``slots`` write
    the fields a node packs in its lists: ``copy-processes.cypher``)."""

    jobid: str
    job: dict[str, Any] = field(default_factory=dict)
    processes: dict[str, dict[str, Any]] = field(default_factory=dict)


class Refused(Exception):
    """A commit was refused (nothing written): ``jobid`` was deleted, or loaded again, or
    changed by another commit, while its copy was made."""

    def __init__(self, jobid: str, why: str) -> None:
        super().__init__(f"job {jobid}: {why}")
        self.jobid = jobid


@dataclass
class _Copy:
    edit: Edit
    source: int
    version: int
    processes: int = 0


def _head(graph: Graph, jobid: str) -> int:
    found = jobs.published(graph, jobid)
    if found is None:
        raise Refused(jobid, "it is not loaded (it was deleted)")
    return int(found["version"])


def _copy(graph: Graph, copy: _Copy, writer: str) -> None:
    """Write ``copy`` as an unpublished version held by ``writer``: one transaction per
    :data:`~epmt_graph.store.jobs.TX_PROCESSES` processes, then the edges."""
    edit, base = copy.edit, {"jobid": copy.edit.jobid, "from": copy.source, "version": copy.version}
    step = jobs.TX_PROCESSES

    def first(tx: neo4j.ManagedTransaction) -> int:
        job = {**base, "props": edit.job, "writer": writer, "lease": versions.LEASE_MS}
        if tx.run(cypher.query("copy-job"), job).single() is None:
            raise versions.Lost(f"version {copy.source} of job {edit.jobid} is gone")
        return nodes(tx, 0)

    def nodes(tx: neo4j.ManagedTransaction, low: int) -> int:
        versions.hold(tx, edit.jobid, copy.version, writer)
        params = {**base, "low": low, "high": low + step, "changes": edit.processes}
        return int(tx.run(cypher.query("copy-processes"), params).single(strict=True)[0])

    def edges(tx: neo4j.ManagedTransaction, low: int) -> None:
        versions.hold(tx, edit.jobid, copy.version, writer)
        params = {**base, "low": low, "high": low + step}
        tx.run(cypher.query("copy-parent-edges"), params).consume()

    copied = graph.execute_write(first)
    low = step
    while copied == low:  # a full part: there may be more
        copied += graph.execute_write(functools.partial(nodes, low=low))
        low += step
    copy.processes = copied
    for start in range(0, max(copied, 1), step):
        graph.execute_write(functools.partial(edges, low=start))


def commit(graph: Graph, edits: list[Edit]) -> dict[str, int]:
    """Write ``edits`` as new versions of their jobs, published in one transaction.

    Returns
    -------
    dict
        Each job id with the version now published for it.

    Raises
    ------
    Refused
        A job is not loaded, or was deleted or loaded again (or changed by another commit)
        meanwhile: nothing is published, the copies are deleted.
    """
    writer = versions.new_writer()
    copies: list[_Copy] = []
    try:
        for edit in edits:
            version = max([time.time_ns() // 1000, *(c.version + 1 for c in copies)])
            copies.append(_Copy(edit, _head(graph, edit.jobid), version))
            _copy(graph, copies[-1], writer)
        items = [
            versions.Publication(c.edit.jobid, c.version, c.processes, c.source) for c in copies
        ]
        refused = versions.publish_all(graph, items, writer)
    except BaseException as exc:
        _drop(graph, copies, writer)
        if isinstance(exc, versions.Lost):
            raise Refused(copies[-1].edit.jobid, "it was deleted while it was changed") from exc
        raise
    if refused is not None:
        _drop(graph, copies, writer)
        raise Refused(refused[0].jobid, f"another writer came first ({refused[1].value})")
    graph.wait_for_readers()
    for c in copies:
        jobs.delete_version(graph, c.edit.jobid, c.source, writer)
    return {c.edit.jobid: c.version for c in copies}


def _drop(graph: Graph, copies: list[_Copy], writer: str) -> None:
    for c in copies:
        jobs.delete_version(graph, c.edit.jobid, c.version, writer)
