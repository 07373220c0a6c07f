"""A fresh server made ready for a fast first load: one synthetic job loaded, asked, deleted.

A freshly started Neo4j plans each statement the first time it meets it and runs it
interpreted until the JVM has compiled its hot paths; the first load on a new server took
six times as long as the next ones. :func:`warm_up` creates the schema, loads a synthetic
job of :data:`PROCESSES` processes the way a load does (``write_job``: nodes in two batches,
the edges between them, commit, publish, summary), asks it the first questions
(``job-roots``, ``job-root``, ``job-op-roots``) and deletes it as ``epmt-graph delete``
does, :data:`ROUNDS` times (the JIT is still compiling the write path after one): the graph
is left as it was (the job, named :data:`JOBID`, is seen only while this runs) and the
server has planned and compiled what a first load and a first look need. A transaction
rolled back instead would leave the commit, the publication and every read of committed
data cold: measured, the first load then still took about twice as long as the next ones.

Two things make those plans the ones a real first load asks for. The local server keys its
query cache by the parameters' types only, not also by their sizes in powers of ten
(``epmt_graph/server/local.py``): else a jobid or a batch of another length than the
warm-up's is planned anew. And the job's deletion leaves the index statistics of its graph
behind until the server samples the indexes again, which would have a first load replan
what the warm-up planned on the empty graph: the warm-up has them resampled at once
(``resample-indexes``). ``epmt-graph server start`` runs it; ``docs/performance.md`` ("A
warm first load") has the measurements.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from epmt_graph.db import Graph
from epmt_graph.loader.reader import read_job
from epmt_graph.loader.writer import write_job
from epmt_graph.store import BATCH, delete_job
from epmt_graph.synthetic import write_archive

__all__ = ["JOBID", "PROCESSES", "ROUNDS", "warm_up"]

#: Processes of the synthetic job: enough rows for the JVM to compile its per-row paths,
#: in two batches of ``load-processes`` so that ``load-parent-edges`` runs too (this job
#: has 138 edges between them), as it does for every job of more than one batch.
PROCESSES = BATCH + 500
#: Its job id (a job left by an interrupted warm-up is deleted by the next one).
JOBID = "epmt-graph-warm-up"
#: Times the job is loaded, asked and deleted (the JIT compiles the write path over rounds:
#: measured on a quiet machine, the first load came at 1.7-2.3x a warm one after one round,
#: 1.4-1.6x after two, 1.0-1.6x after three; a round costs about a second).
ROUNDS = 3


def warm_up(graph: Graph, processes: int = PROCESSES) -> float:
    """Load a synthetic job, ask it the first questions, and delete it, :data:`ROUNDS` times.

    Parameters
    ----------
    graph : Graph
        The server to warm up (its schema is created if missing).
    processes : int
        Size of the synthetic job.

    Returns
    -------
    float
        Seconds taken.

    Examples
    --------
    >>> from epmt_graph.db import default_graph
    >>> graph = default_graph()
    >>> def count():
    ...     return graph.driver.execute_query("MATCH (n) RETURN count(n)").records[0][0]
    >>> before = count()
    >>> warm_up(graph, processes=200) > 0, count() == before
    (True, True)
    """
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="epmt_graph_warm_up_") as folder:
        archive = write_archive(Path(folder) / "job.tgz", processes, seed=1, jobid=JOBID)
        rows = read_job(archive, digest_ahead=True)  # as loader.load reads: set-job-digest runs
    for _ in range(ROUNDS):
        try:
            write_job(graph, rows, replace=True)
            graph.read("job-roots", jobids=[JOBID])
            graph.read("job-root", jobid=JOBID)
            graph.read("job-op-roots", jobids=[JOBID], pairs=["op:hsmget"])
        finally:
            delete_job(graph, JOBID)
            graph.read("resample-indexes")
    return time.perf_counter() - start
