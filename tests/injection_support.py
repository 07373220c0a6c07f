"""Hostile text, shared by the injection tests: the hostile strings, a job whose archive
holds them (:func:`write_hostile_job`), and fingerprints of the database to show it unchanged.
"""

from __future__ import annotations

import csv
import io
import pickle
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import networkx as nx
from constants import HOSTILE
from oracle import SAMPLES, Key, process_tree, raw_processes

from epmt_graph.db import Graph
from epmt_graph.synthetic import generate_job

#: Hostile strings that survive EPMT's tag syntax (``k:v;k2:v2``, stripped) unchanged.
TAG_SAFE = [s for s in HOSTILE if s and s == s.strip() and not {";", ":"} & set(s)]
#: Sample jobs whose every process the filter and tag questions scan: a CSV and two TSV jobs.
SCANNED = {"685016": "query/685016.tgz", "12340": "tsv/12340", "2220": "tsv/collated-tsv-2220.tgz"}
S = list(SCANNED)
#: What a question about a job that is not loaded may answer instead of nothing.
NOT_LOADED = re.compile(
    r"is not loaded|no process|none of the jobs|needs loaded jobs|takes one job|expected one job"
)

# --- the database, before and after ------------------------------------------------------

NODES_BY_LABEL = "MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) AS n ORDER BY label"
EDGES_BY_TYPE = "MATCH ()-[r]->() RETURN type(r) AS type, count(*) AS n ORDER BY type"
JOB_NODES = "MATCH (j:Job) RETURN j {.*} AS j ORDER BY j.jobid"
PROCESS_SUMS = """
MATCH (p:Process)
RETURN p.jobid AS jobid, count(*) AS n, sum(p.pid * (p.idx + 1)) AS pids,
       sum(p.start) AS starts, sum(p.end) AS ends, sum(p.cpu_time) AS cpu,
       sum(p.inclusive_cpu_time) AS inclusive, sum(p.depth) AS depths,
       sum(size(p.exename) + size(p.args) + size(p.host) + size(p.tags)) AS text,
       sum(size(p.threads_json)) AS threads, sum(size(keys(p))) AS properties
ORDER BY jobid
"""
EDGE_SUMS = """
MATCH (a:Process)-[r]->(b)
RETURN a.jobid AS jobid, type(r) AS type, count(*) AS n,
       sum(a.idx * 1000003 + coalesce(b.idx, -1)) AS ends, collect(DISTINCT b.jobid) AS to
ORDER BY jobid, type
"""


def rows_of(graph: Graph, statement: str) -> list[dict[str, Any]]:
    """The records of a constant statement, as dicts."""
    return [dict(r) for r in graph.driver.execute_query(statement).records]


def snapshot(graph: Graph) -> list[list[dict[str, Any]]]:
    """Nodes by label, relationships by type, and every Job node with all its properties."""
    return [rows_of(graph, q) for q in (NODES_BY_LABEL, EDGES_BY_TYPE, JOB_NODES)]


def fingerprint(graph: Graph) -> list[list[dict[str, Any]]]:
    """Per job: sums over every process property and every edge (a change shows)."""
    return [rows_of(graph, q) for q in (PROCESS_SUMS, EDGE_SUMS)]


# --- a job whose archive holds hostile text ----------------------------------------------

JOBID = 'hostile\'}) MATCH (n) DETACH DELETE n // `x` "$jobid" {/*} \\ ünï 🙂'
HOST = "h'}) DETACH DELETE n //"
USER = 'u" OR 1=1 //'
JOBNAME = "MATCH (j:Job) DETACH DELETE j"
JOB_TAGS = {"exp_name": TAG_SAFE[4], TAG_SAFE[0]: TAG_SAFE[1], "`k`": "}"}
ENV = {TAG_SAFE[2]: HOSTILE[0], "PATH": HOSTILE[-1][:1000]}
EXENAMES = [HOSTILE[i] for i in (0, 1, 3, 6, 8, 12, 15, 16, 18, 20)] + ["tcsh"]
ARGS = [HOSTILE[i] for i in (2, 4, 13, 19, 21)] + ["a" * 20_000]
PROC_TAGS: list[dict[str, str]] = [
    {},
    {"op": TAG_SAFE[0]},
    {"op": TAG_SAFE[0], TAG_SAFE[1]: TAG_SAFE[2]},
    {TAG_SAFE[3]: TAG_SAFE[4], "op": TAG_SAFE[5]},
    {TAG_SAFE[6]: TAG_SAFE[-1]},
]
N_PROCS = 150


def tag_text(tag: dict[str, str]) -> str:
    """A tag as papiex writes it (``k:v;k2:v2``)."""
    return ";".join(f"{k}:{v}" for k, v in tag.items())


@dataclass
class HostileJob:
    """A job directory whose id, host, user, name, tags, env, exenames and args are hostile.

    ``procs`` holds what was written for each process, keyed by the oracle's
    ``(host, pid, start)``: ``exename``, ``args`` and ``tags`` (a dict).
    """

    jobid: str
    path: Path
    procs: dict[Key, dict[str, Any]] = field(default_factory=dict)
    tree: nx.DiGraph = field(default_factory=nx.DiGraph)

    def pids(self, keys: Any) -> list[int]:
        """The sorted pids of oracle keys."""
        return sorted(key[1] for key in keys)

    def carrying(self, tag: dict[str, str]) -> list[Key]:
        """The processes whose tags hold every pair of ``tag``."""
        return [k for k, p in self.procs.items() if tag.items() <= p["tags"].items()]

    def op_roots(self, tag: dict[str, str]) -> list[Key]:
        """Processes carrying ``tag`` whose parent does not (or that have no parent)."""
        return [
            k
            for k in self.carrying(tag)
            if not any(tag.items() <= self.procs[p]["tags"].items() for p in self.tree.pred[k])
        ]

    @property
    def root(self) -> Key:
        """EPMT's root: the earliest process, the lowest pid first."""
        return min(self.procs, key=lambda k: (k[2], k[1]))


def write_hostile_job(folder: Path, jobid: str, seed: int) -> HostileJob:
    """A synthetic job rewritten with hostile text, as an unpacked job directory.

    The papiex CSV is read and written with EPMT's dialect (``,``, ``\\`` escapes, ``"``
    quotes); the expectations come from the values written here and from the oracle's
    reading of the written files (``oracle.py``), never from the loader.
    """
    text = io.StringIO()
    job = generate_job(N_PROCS, text, seed=seed, jobid="hostile")
    header, *body = csv.reader(io.StringIO(text.getvalue(), newline=""), escapechar="\\")
    col = {name: i for i, name in enumerate(header)}
    written: dict[tuple[int, int], dict[str, Any]] = {}
    for row in body:
        if not row[col["numtids"]]:
            continue  # a thread row: no per-process fields
        k = len(written)
        tags = PROC_TAGS[k % len(PROC_TAGS)]
        row[col["exename"]] = EXENAMES[k % len(EXENAMES)]
        row[col["args"]] = ARGS[k % len(ARGS)]
        row[col["hostname"]] = HOST
        row[col["tags"]] = tag_text(tags)
        written[(int(row[col["pid"]]), int(row[col["start"]]))] = {
            "exename": row[col["exename"]],
            "args": row[col["args"]],
            "tags": tags,
        }
    folder.mkdir(parents=True)
    with (folder / "pp001-collated-papiex-hostile-0.csv").open("w", newline="") as out:
        csv.writer(out, escapechar="\\", lineterminator="\n").writerows([header, *body])
    meta = {**job.metadata, "job_pl_id": jobid, "job_pl_username": USER, "job_jobname": JOBNAME}
    meta["job_pl_env"] = {**meta["job_pl_env"], **ENV}
    meta["job_el_env"] = {**meta["job_el_env"], **ENV, "EPMT_JOB_TAGS": tag_text(JOB_TAGS)}
    (folder / "job_metadata").write_bytes(pickle.dumps(meta, protocol=4))
    frame = raw_processes(folder)
    assert list(frame["jobid"].unique()) == [jobid] and len(frame) == N_PROCS
    hostile = HostileJob(jobid, folder, tree=process_tree(frame))
    for key in hostile.tree:
        host, pid, start = key
        assert host == HOST
        hostile.procs[key] = written[(pid, start)]
    return hostile


@cache
def sample_tree(path: str) -> nx.DiGraph:
    """The process tree of a sample job, from its raw papiex rows (the oracle)."""
    return process_tree(raw_processes(SAMPLES / path))
