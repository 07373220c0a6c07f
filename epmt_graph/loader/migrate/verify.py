"""``--verify``: every migrated job compared with its source, as a table.

For each job of the source, the rows it makes now (:func:`read_stored_job`) against its
published version in the graph (``migrate-verify``, one query per page of jobs): the number
of processes, of roots (in the graph: processes no PARENT_OF edge reaches), the processes'
CPU time summed (the graph's sum over its stored processes; the source's over its stored
threads), and the content digest (every field of every process). A job missing from the
graph is a mismatch.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from epmt_graph.db import Graph
from epmt_graph.loader.migrate.jobs import read_stored_job
from epmt_graph.loader.migrate.source import PAGE, Source

__all__ = ["HEADER", "Check", "verify_jobs"]

#: The table's header line.
HEADER = f"{'job':<16} {'processes':>21} {'roots':>13} {'cpu_time (us)':>33} {'content':>8}  result"


@dataclass(frozen=True)
class Side:
    """One side's figures for a job."""

    processes: int
    roots: int
    cpu_time: int
    digest: str


@dataclass(frozen=True)
class Check:
    """A job compared: its source's figures and the graph's (None: not in the graph)."""

    jobid: str
    source: Side
    graph: Side | None

    @property
    def equal(self) -> bool:
        """Whether the graph holds the job as its source makes it."""
        return self.graph == self.source

    def line(self) -> str:
        """The job's row of the table.

        Examples
        --------
        >>> side = Side(3480, 32, 420, "ab")
        >>> print(Check("685000", side, side).line())  # doctest: +NORMALIZE_WHITESPACE
        685000  3480 / 3480  32 / 32  420 / 420  same  equal
        """
        graph = self.graph or Side(0, 0, 0, "")
        content = "same" if self.source.digest == graph.digest else "differs"
        result = "equal" if self.equal else ("MISSING" if self.graph is None else "MISMATCH")
        return (
            f"{self.jobid:<16} {self.source.processes:>10} / {graph.processes:<8} "
            f"{self.source.roots:>6} / {graph.roots:<4} "
            f"{self.source.cpu_time:>16} / {graph.cpu_time:<14} {content:>8}  {result}"
        )


def verify_jobs(
    source: Source, graph: Graph, jobids: Iterable[str], server_tz: dt.tzinfo | None = None
) -> Iterator[Check]:
    """Compare each of ``jobids`` of ``source`` with the graph, a page of jobs at a time."""
    ids = iter(jobids)
    while page := list(itertools.islice(ids, PAGE)):
        stored = {
            record["jobid"]: Side(
                record["processes"], record["roots"], int(record["cpuTime"]), record["digest"]
            )
            for record in graph.read("migrate-verify", jobids=page)
        }
        for jobid in page:
            rows = read_stored_job(source, jobid, server_tz)
            expected = Side(
                len(rows.processes),
                rows.parents.count(None),
                int(rows.job["cpu_time"]),
                str(rows.job["digest"]),
            )
            yield Check(jobid, expected, stored.get(jobid))
