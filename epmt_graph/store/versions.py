"""Who may change a job's unpublished versions: each is held by one writer, on a lease.

Several loads, replaces and deletes of one job id may run at once (in threads, or in
processes on other machines). Each ``write_job`` or ``delete_job`` call is a *writer* with
a random token. A version it writes is its own from the start (``load-job``); the version a
replace or delete unpublishes is handed to it in the same transaction (``publish-job``,
``unpublish-job``). Its Job node carries the token (``writer``) and a lease on the server's
clock (``lease_until``, :data:`LEASE_MS` ahead), renewed by every transaction the writer
runs on it (``lock-version``), which also write-locks the Job node first and rolls back if
the version is no longer the writer's. So nobody else deletes, or writes into, a version
that is being written or deleted, and a writer never publishes a version it lost.

A version whose writer is gone (killed, or silent for :data:`LEASE_MS`) and which is not
published is *stale*: the next load or delete of the job takes it over (``claim-version``,
which checks both under the same lock) and deletes it. Publishing checks, in its one
transaction, that the version is still the writer's, that it has every process written,
and that the head still shows the version the writer expected (:func:`publish`).
"""

from __future__ import annotations

import contextlib
import enum
import uuid
from typing import NamedTuple

import neo4j

from epmt_graph import cypher
from epmt_graph.db import Graph

__all__ = [
    "LEASE_MS",
    "Lost",
    "Publication",
    "Refusal",
    "claim",
    "delete_stale",
    "delete_version",
    "hold",
    "new_writer",
    "publish",
    "publish_all",
    "unpublish",
]

#: How long a version stays its writer's after the writer's last transaction on it, in
#: milliseconds of the server's clock: longer than the driver retries one transaction
#: (30 s), so a live writer keeps its version. A killed writer's version is removed by the
#: first load or delete of the job after that.
LEASE_MS = 60_000


class Lost(Exception):
    """The version is no longer this writer's (its lease ran out and another writer took
    it over, or it is gone): the transaction is rolled back."""


class Refusal(enum.Enum):
    """Why :func:`publish` did not publish (and rolled back)."""

    #: The version is no longer the writer's (see :class:`Lost`).
    LOST = "lost"
    #: The version has another count of processes than the writer wrote.
    INCOMPLETE = "incomplete"
    #: The head shows another version than the writer expected: another load or delete of
    #: the job came first.
    MOVED = "moved"


class _Rollback(Exception):
    """Raised inside a transaction function to roll it back, carrying why."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal
        self.item: Publication | None = None


def new_writer() -> str:
    """A token for one writer: random, so that no two writers share one.

    Examples
    --------
    >>> len(new_writer()), new_writer() != new_writer()
    (32, True)
    """
    return uuid.uuid4().hex


def hold(tx: neo4j.ManagedTransaction, jobid: str, version: int, writer: str) -> int:
    """Write-lock ``version`` and renew ``writer``'s lease on it, in ``tx``; its processes.

    Raises
    ------
    Lost
        If the version is gone or is another writer's (``tx`` must then be rolled back:
        raising from the transaction function does that).
    """
    params = {"jobid": jobid, "version": version, "writer": writer, "lease": LEASE_MS}
    record = tx.run(cypher.query("lock-version"), params).single()
    if record is None or not record["held"]:
        raise Lost(f"version {version} of job {jobid} is no longer this writer's")
    return int(record["processes"])


def publish(
    graph: Graph, jobid: str, version: int, writer: str, processes: int, expected: int | None
) -> Refusal | None:
    """Point the job's head at ``version`` if the version is still ``writer``'s, has
    ``processes`` processes and the head still shows ``expected`` (None: no version). The
    version it replaces is then ``writer``'s to delete. Returns None once published, else
    why not (and nothing changed)."""

    refused = publish_all(graph, [Publication(jobid, version, processes, expected)], writer)
    return None if refused is None else refused[1]


class Publication(NamedTuple):
    """One version to publish: ``processes`` is its count of processes, ``expected`` the
    version the head must still show (None: no version)."""

    jobid: str
    version: int
    processes: int
    expected: int | None


def _publish_one(tx: neo4j.ManagedTransaction, item: Publication, writer: str) -> None:
    params = {"jobid": item.jobid, "version": item.version, "writer": writer, "lease": LEASE_MS}
    record = tx.run(cypher.query("publish-job"), params).single()
    if record is None or not record["held"]:
        raise _Rollback(Refusal.LOST)
    if record["processes"] != item.processes:
        raise _Rollback(Refusal.INCOMPLETE)
    if record["previous"] != item.expected or not record["published"]:
        raise _Rollback(Refusal.MOVED)


def publish_all(
    graph: Graph, items: list[Publication], writer: str
) -> tuple[Publication, Refusal] | None:
    """Publish several versions, all ``writer``'s, in one transaction: each as
    :func:`publish` checks it, and none if any is refused. Returns None once all are
    published, else the first refused and why (and nothing changed)."""

    def work(tx: neo4j.ManagedTransaction) -> None:
        for item in items:
            try:
                _publish_one(tx, item, writer)
            except _Rollback as refused:
                refused.item = item
                raise

    try:
        graph.execute_write(work)
    except _Rollback as refused:
        assert refused.item is not None
        return refused.item, refused.refusal
    return None


def unpublish(graph: Graph, jobid: str, writer: str) -> int | None:
    """Hide job ``jobid`` from readers; its published version, now ``writer``'s to delete
    (None if the job was not loaded)."""

    def work(tx: neo4j.ManagedTransaction) -> int | None:
        params = {"jobid": jobid, "writer": writer, "lease": LEASE_MS}
        record = tx.run(cypher.query("unpublish-job"), params).single()
        return None if record is None else int(record["version"])

    return graph.execute_write(work)


def claim(graph: Graph, jobid: str, version: int, writer: str) -> bool:
    """Make a stale ``version`` (unpublished, its lease over) ``writer``'s; whether it was."""

    def work(tx: neo4j.ManagedTransaction) -> None:
        params = {"jobid": jobid, "version": version, "writer": writer, "lease": LEASE_MS}
        record = tx.run(cypher.query("claim-version"), params).single()
        if record is None or not record["taken"]:
            raise _Rollback(Refusal.LOST)

    try:
        graph.execute_write(work)
    except _Rollback:
        return False
    return True


def delete_version(graph: Graph, jobid: str, version: int, writer: str, batch: int) -> int:
    """Delete ``writer``'s unpublished ``version``, ``batch`` processes per transaction, the
    Job node with the last of them; returns how many processes it deleted. Stops if the
    version stops being ``writer``'s (then the writer that took it over deletes the rest).

    Each transaction is one statement (``delete-job-batch``): it holds the version as
    :func:`hold` does, then deletes processes reached from the version's Job node (none of
    another version's, whatever else the job id holds).
    """
    params = {"jobid": jobid, "version": version, "writer": writer, "lease": LEASE_MS}

    def some(tx: neo4j.ManagedTransaction) -> tuple[int, bool]:
        record = tx.run(cypher.query("delete-job-batch"), params, batch=batch).single()
        if record is None or not record["held"]:
            raise Lost(f"version {version} of job {jobid} is no longer this writer's")
        return int(record["deleted"]), bool(record["done"])

    total, done = 0, False
    with contextlib.suppress(Lost):
        while not done:
            deleted, done = graph.execute_write(some)
            total += deleted
    return total


def delete_stale(graph: Graph, jobid: str, writer: str, batch: int) -> int:
    """Take over and delete every stale version of ``jobid`` (``job-versions``), once the
    transactions running then have finished: one a writer was deleting after unpublishing
    it, then left (or held past its lease, waiting for readers), may still be read.
    Returns how many versions were taken over."""
    found = [record["version"] for record in graph.read("job-versions", jobid=jobid)]
    taken = [version for version in found if claim(graph, jobid, version, writer)]
    if taken:
        graph.wait_for_readers()
    for version in taken:
        delete_version(graph, jobid, version, writer, batch)
    return len(taken)
