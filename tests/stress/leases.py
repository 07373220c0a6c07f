"""Versions a killed writer leaves: held on its lease, then removed by the next delete.

A load or delete killed mid-way may leave an unpublished version of its job, held by the dead
writer until its lease runs out (``epmt_graph.store.versions.LEASE_MS``): no load or delete
touches it before then, and the first one after removes it. The campaigns accept such a
version after a trial and check at their end that one delete removes it (:func:`sweep`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from campaign import stored

from epmt_graph.db import Graph
from epmt_graph.loader import delete_job

__all__ = ["Sweep", "only_held", "sweep", "unpublished"]

# Literal Cypher, parameters only.
_UNPUBLISHED = (
    "MATCH (j:Job {jobid: $jobid}) "
    "WHERE NOT EXISTS { (:JobHead {jobid: $jobid, version: j.version}) } "
    "RETURN collect(j.version) AS versions, "
    "coalesce(max(j.lease_until) - timestamp(), 0) AS held_ms"
)
_HELD = (
    "OPTIONAL MATCH (j:Job {jobid: $jobid}) "
    "RETURN count(j) AS jobs, count(CASE WHEN j.lease_until > timestamp() "
    "AND NOT EXISTS { (:JobHead {jobid: $jobid}) } THEN 1 END) AS held"
)


def unpublished(graph: Graph, jobid: str) -> tuple[set[int], float]:
    """The unpublished versions of ``jobid``, and seconds until the last lease on them ends."""
    record = graph.driver.execute_query(_UNPUBLISHED, jobid=jobid).records[0]
    return set(record["versions"]), max(0.0, record["held_ms"] / 1000)


def only_held(graph: Graph, jobid: str) -> bool:
    """Whether all that is stored of ``jobid`` (if anything) is versions a writer still
    holds, the job being unpublished."""
    record = graph.driver.execute_query(_HELD, jobid=jobid).records[0]
    return bool(record["jobs"] == record["held"])


@dataclass(frozen=True)
class Sweep:
    """The end of a campaign: versions the killed writers left, how long their leases still
    ran, and whether one delete per job then removed everything."""

    left: int
    waited: float
    removed: bool


def sweep(graph: Graph, jobids: Iterable[str]) -> Sweep:
    """Wait until every lease on an unpublished version of ``jobids`` has run out, delete
    each job once, and check that nothing of them remains."""
    jobids = list(jobids)
    found = [unpublished(graph, jobid) for jobid in jobids]
    left = sum(len(versions) for versions, _ in found)
    wait = max((seconds for _, seconds in found), default=0.0)
    time.sleep(wait + 1.0 if left else 0.0)
    for jobid in jobids:
        delete_job(graph, jobid)
    return Sweep(left, wait, all(stored(graph, jobid) == 0 for jobid in jobids))
