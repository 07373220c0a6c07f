"""The server's floor for one job, as a ladder: what writing the data model costs the server
with nothing of ours around it, a step at a time (``bench_archive.py``'s part 3).

Every rung writes the same rows (``schema.node_properties`` of the parsed job, built before
the clock starts, ``version`` included) in the batches our writer sends
(``store.BATCH`` rows per statement, one transaction per ``store.TX_PROCESSES``
processes), on labels of their own, deleted after each rung (untimed):

a. nodes bare on a label nothing indexes (``UNWIND $rows AS row CREATE (p:X) SET p = row``,
   ``bench_ingest.server_floor``'s statement, here in the writer's batches);
b. the same on a label carrying every index and constraint ``schema.cypher`` gives
   ``:Process`` (copied under other names, dropped at the end);
c. ``+`` the ``BELONGS_TO`` edge of each to one Job node (on a label with the Job
   constraints): ``load-job``, then ``load-processes`` with no links;
d. ``+`` the ``PARENT_OF`` edges: ``load-processes`` with the batch's links (by position),
   then ``load-parent-edges`` for the edges across batches: the data model, written bare.

Rungs c and d run our own named statements (``load-job``, ``load-processes``,
``load-parent-edges``), their labels renamed, so the floor follows the writer's statements;
no digest check, lease, publication or summary read, no parsing.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import neo4j
from bench_util import median

from epmt_graph import cypher
from epmt_graph.db import Batch, Graph
from epmt_graph.loader import read_job
from epmt_graph.loader.slices import slices
from epmt_graph.schema import PROCESS_METRICS, node_properties
from epmt_graph.store import jobs as store

__all__ = [
    "RUNGS",
    "FloorRows",
    "bench_schema",
    "floor_rows",
    "ladder",
    "ladder_section",
    "relabel",
]

#: The rungs, in order, and what each adds to the one before.
RUNGS = {
    "a": "nodes bare, unindexed label",
    "b": "+ the indexes and constraints of :Process",
    "c": "+ BELONGS_TO to one Job node",
    "d": "+ PARENT_OF (data model written bare)",
}
#: Labels of the floor's nodes: ``BARE`` has no index; the others carry copies of the
#: schema's :Process and :Job indexes and constraints.
BARE, PROCESS, JOB = "BenchFloor", "BenchFloorProcess", "BenchFloorJob"
#: The schema copies' names start with this.
PREFIX = "bench_floor_"
NODES = "UNWIND $rows AS row CREATE (p:{label}) SET p = row"
#: Nodes deleted per transaction between rungs (their edges with them).
DELETE = "MATCH (n:{label}) WITH n LIMIT 10000 DETACH DELETE n RETURN count(*) AS n"
#: What a rung left: its nodes and the PARENT_OF edges into them.
COUNTS = (
    "MATCH (p:{label}) RETURN count(p) AS nodes, sum(COUNT {{ (p)<-[:PARENT_OF]-() }}) AS edges"
)
_DDL = re.compile(r"CREATE (INDEX|CONSTRAINT) (\w+) IF NOT EXISTS FOR \((\w+):(Process|Job)\)")


def relabel(statement: str) -> str:
    """``statement`` with its ``:Process`` and ``:Job`` labels renamed to the floor's.

    Examples
    --------
    >>> relabel("MATCH (j:Job {jobid: $j}) CREATE (p:Process)-[:BELONGS_TO]->(j:JobHead)")
    'MATCH (j:BenchFloorJob {jobid: $j}) CREATE (p:BenchFloorProcess)-[:BELONGS_TO]->(j:JobHead)'
    """
    renamed = re.sub(r":Process\b", f":{PROCESS}", statement)
    return re.sub(r":Job\b", f":{JOB}", renamed)


def bench_schema() -> list[tuple[str, str, str]]:
    """``schema.cypher``'s indexes and constraints on :Process and :Job, copied onto the
    floor's labels: ``(kind, name, create statement)`` each.

    Examples
    --------
    >>> copies = bench_schema()
    >>> [name for kind, name, _ in copies if kind == "INDEX"][0]
    'bench_floor_process_uid_lookup'
    >>> copies[0][2].startswith("CREATE ") and PROCESS in " ".join(s for *_, s in copies)
    True
    """
    out = []
    for statement in cypher.statements("schema"):
        code = "\n".join(line for line in statement.splitlines() if not line.startswith("//"))
        found = _DDL.search(code)
        if found:
            kind, name = found.group(1), found.group(2)
            copy = relabel(code.replace(f" {name} ", f" {PREFIX}{name} ", 1))
            out.append((kind, PREFIX + name, copy))
    return out


@contextlib.contextmanager
def indexed_labels(graph: Graph) -> Iterator[int]:
    """The schema copies created (and online) for the block, dropped after; yields their
    number."""
    copies = bench_schema()
    with graph.driver.session(database=graph.connection.database) as session:
        try:
            for _, _, create in copies:
                session.run(create).consume()
            session.run("CALL db.awaitIndexes(600)").consume()
            yield len(copies)
        finally:
            for kind, name, _ in copies:
                session.run(f"DROP {kind} {name} IF EXISTS").consume()


@dataclass
class FloorRows:
    """One job's rows as the writer sends them, built once before any rung is timed."""

    jobid: str
    processes: int
    job: dict[str, Any]
    nodes: list[Batch]
    links: list[Batch]
    crossing: list[Batch]

    @property
    def crossing_edges(self) -> int:
        """Edges whose two ends are in different batches."""
        return sum(len(batch) for batch in self.crossing)


def floor_rows(path: Path) -> FloorRows:
    """The job's Job properties, node rows, in-batch links and crossing edges, in the
    writer's batches (``slices`` of ``store.BATCH``)."""
    rows = read_job(path)
    size = min(store.BATCH, store.TX_PROCESSES)
    cut, crossing = slices(rows.parents, size)
    nodes, links = [], []
    for part in cut:
        batch = rows.processes[part.start : part.end]
        nodes.append(Batch({**node_properties(p), "version": 0} for p in batch))
        links.append(Batch(part.links(rows.parents)))
    pairs = crossing.tolist()
    edges = [
        Batch([f"{rows.jobid}:{parent}", f"{rows.jobid}:{child}"] for parent, child in chunk)
        for chunk in (pairs[i : i + store.BATCH] for i in range(0, len(pairs), store.BATCH))
    ]
    job = {
        **rows.job,
        "source": rows.source,
        "version": 0,
        "metric_names": list(PROCESS_METRICS),
    }
    return FloorRows(rows.jobid, len(rows.processes), job, nodes, links, edges)


def _write_rung(graph: Graph, rung: str, job: FloorRows) -> float:
    """Write ``job`` as ``rung`` does, in one transaction per ``TX_PROCESSES`` processes;
    seconds, commits included."""
    per_tx = max(1, store.TX_PROCESSES // store.BATCH)
    nodes = NODES.format(label=BARE if rung == "a" else PROCESS)
    processes, edges = (
        relabel(cypher.query("load-processes")),
        relabel(cypher.query("load-parent-edges")),
    )
    make_job = relabel(cypher.query("load-job"))
    params: dict[str, Any] = {"jobid": job.jobid, "version": 0}

    def part(first: int, tx: neo4j.ManagedTransaction) -> None:
        if first == 0 and rung in "cd":
            tx.run(make_job, job=job.job, writer="floor", lease=600_000).consume()
        for i in range(first, min(first + per_tx, len(job.nodes))):
            if rung in "ab":
                tx.run(nodes, rows=job.nodes[i]).consume()
            else:
                links = job.links[i] if rung == "d" else Batch()
                tx.run(processes, rows=job.nodes[i], links=links, **params).consume()
        if rung == "d" and first + per_tx >= len(job.nodes):
            for batch in job.crossing:
                tx.run(edges, edges=batch, version=0).consume()

    t0 = time.perf_counter()
    for first in range(0, len(job.nodes), per_tx):
        graph.execute_write(lambda tx, first=first: part(first, tx))
    return time.perf_counter() - t0


def _clear(graph: Graph) -> None:
    for label in (BARE, PROCESS, JOB):
        statement = DELETE.format(label=label)
        while graph.execute_write(lambda tx, s=statement: tx.run(s).single(strict=True)["n"]):
            pass


def _check(graph: Graph, rung: str, job: FloorRows) -> None:
    """The rung wrote every node (and for d every edge): a floor that wrote less is no floor."""
    label = BARE if rung == "a" else PROCESS
    counts = COUNTS.format(label=label)
    found = graph.execute_read(lambda tx: tx.run(counts).single(strict=True))
    edges = sum(len(b) for b in job.links) + job.crossing_edges if rung == "d" else 0
    if found["nodes"] != job.processes or found["edges"] != edges:
        raise RuntimeError(f"floor rung {rung} of {job.jobid}: {dict(found)}")


def ladder(graph: Graph, paths: list[Path], repeat: int) -> dict[str, Any]:
    """Each job's rungs a-d, ``repeat`` timed rounds after an untimed one, the rungs' order
    reversed every other round; each rung's nodes deleted after it (untimed).

    Returns
    -------
    dict
        ``schema_copies``: how many indexes and constraints the indexed labels carried;
        ``jobs``: per jobid, ``processes``, ``batches``, ``crossing_edges`` and ``seconds``
        (rung -> list of seconds).
    """
    out: dict[str, Any] = {"jobs": {}}
    _clear(graph)
    with indexed_labels(graph) as copies:
        out["schema_copies"] = copies
        for path in paths:
            job = floor_rows(path)
            seconds: dict[str, list[float]] = {rung: [] for rung in RUNGS}
            for r in range(repeat + 1):
                for rung in RUNGS if r % 2 == 0 else reversed(RUNGS):
                    took = _write_rung(graph, rung, job)
                    if r == 0:
                        _check(graph, rung, job)
                    else:
                        seconds[rung].append(took)
                    _clear(graph)
            out["jobs"][job.jobid] = {
                "processes": job.processes,
                "batches": len(job.nodes),
                "crossing_edges": job.crossing_edges,
                "seconds": seconds,
            }
    return out


def ladder_section(found: dict[str, Any], loads: dict[str, float]) -> list[str]:
    """The RESULTS.md part on the floor: each job's rungs (median seconds and as a multiple
    of rung a), then our ``loader.load`` (its median, ``loads``) against rungs a and d."""
    lines = [
        "### Loading alone against the server's floor",
        "",
        "The floor, a ladder on the same server after the rounds above "
        "(`bench_archive_floor`): the job's Process node rows (`schema.node_properties`, what "
        f"a load writes) built beforehand, sent in our writer's batches ({store.BATCH:,} rows "
        "a statement, one transaction), each rung on labels of its own, its nodes deleted "
        "after it. a: `UNWIND $rows AS row CREATE (p:X) SET p = row` on a label nothing "
        f"indexes; b: the same on a label carrying copies of the {found['schema_copies']} "
        "indexes and constraints `schema.cypher` gives :Process and :Job; c: + the "
        "BELONGS_TO edge of each to one Job node (`load-job`, then `load-processes` with no "
        "links, relabelled); d: + the PARENT_OF edges (`load-processes` with the batch's "
        "links by position, then `load-parent-edges` for those across batches): the data "
        "model written bare, with no digest check, lease, publication, summary or parsing. "
        "Load: `loader.load` of part 1 (parse included). Seconds, medians (the targets' "
        "bounds take each rung's best: every round is listed below); x = multiple of rung a.",
        "",
        "| job | batches (edges across) | a | b | c | d | load | load / a | load / d |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for jobid, job in found["jobs"].items():
        rungs = {rung: median(job["seconds"][rung]) for rung in RUNGS}
        cells = " | ".join(
            f"{rungs[rung]:.2f}" + ("" if rung == "a" else f" ({rungs[rung] / rungs['a']:.2f}x)")
            for rung in RUNGS
        )
        load = loads[jobid]
        lines.append(
            f"| {jobid} | {job['batches']} ({job['crossing_edges']:,}) | {cells} | "
            f"{load:.2f} | {load / rungs['a']:.2f}x | {load / rungs['d']:.2f}x |"
        )
    lines += ["", "Each rung per round (seconds):", ""]
    for jobid, job in found["jobs"].items():
        per = "; ".join(
            f"{rung} " + ", ".join(f"{v:.2f}" for v in job["seconds"][rung]) for rung in RUNGS
        )
        lines.append(f"- {jobid}: {per}")
    return [*lines, ""]
