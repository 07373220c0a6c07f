"""The loaded graph against the oracle (``oracle.py``, computed from the raw papiex rows) and
against EPMT's published numbers, for every good sample job.

Processes are matched by (host, pid, start), which the oracle checks is unique in a job.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from oracle import (
    SAMPLES,
    Key,
    depths,
    descendant_counts,
    inclusive_cpu,
    process_tree,
    raw_processes,
    roots,
    sample_jobs,
)

from epmt_graph.db import Graph

JOBS = sample_jobs()

#: One row per process of a job, with its parents (expected: at most one) and the number
#: of its descendants.
PROCESSES = """
MATCH (p:Process {jobid: $jobid})
RETURN p.host AS host, p.pid AS pid, p.start AS start,
       p.cpu_time AS cpu_time, p.depth AS depth, p.inclusive_cpu_time AS incl,
       p.numtids AS numtids,
       COLLECT { MATCH (q:Process)-[:PARENT_OF]->(p)
                 RETURN [q.jobid, q.host, q.pid, q.start] } AS parents,
       COUNT { (p)-[:BELONGS_TO]->(:Job {jobid: $jobid}) } AS belongs,
       COUNT { (p)-[:PARENT_OF]->+(:Process) } AS descendants
"""


class Oracle:
    def __init__(self, rel: str) -> None:
        self.df = raw_processes(SAMPLES / rel)
        self.jobid = str(self.df["jobid"].iloc[0])
        self.tree = process_tree(self.df)
        self.roots = roots(self.tree)
        self.depth = depths(self.tree)
        self.descendants = descendant_counts(self.tree)
        self.incl = inclusive_cpu(self.tree)
        self.edges = set(self.tree.edges)


@cache
def oracle(rel: str) -> Oracle:
    return Oracle(rel)


_graph_rows: dict[str, dict[Key, dict[str, Any]]] = {}


def graph_rows(graph: Graph, jobid: str) -> dict[Key, dict[str, Any]]:
    """The job's processes in the graph, by (host, pid, start); read once per job."""
    if jobid not in _graph_rows:
        records, _, _ = graph.driver.execute_query(
            PROCESSES, {"jobid": jobid}, database_=graph.connection.database
        )
        rows: dict[Key, dict[str, Any]] = {}
        for r in records:
            key = (r["host"], r["pid"], r["start"])
            assert key not in rows, f"job {jobid}: two graph processes {key}"
            rows[key] = r.data()
        _graph_rows[jobid] = rows
    return _graph_rows[jobid]


def query(graph: Graph, cypher: str, **params: Any) -> list[dict[str, Any]]:
    records, _, _ = graph.driver.execute_query(cypher, params, database_=graph.connection.database)
    return [r.data() for r in records]


def assert_same(what: str, jobid: str, expected: dict[Key, Any], got: dict[Key, Any]) -> None:
    bad = sorted(
        (k, expected.get(k, "<missing>"), got.get(k, "<missing>"))
        for k in expected.keys() | got.keys()
        if expected.get(k, "<missing>") != got.get(k, "<missing>")
    )
    assert not bad, (
        f"job {jobid}: {len(bad)} processes differ in {what}; (key, oracle, graph): "
        + ("; ".join(map(str, bad[:5])))
    )


@pytest.fixture(params=JOBS)
def job(request: pytest.FixtureRequest, loaded_graph: Graph) -> tuple[Oracle, dict[Key, Any]]:
    expected = oracle(request.param)
    return expected, graph_rows(loaded_graph, expected.jobid)


def test_process_count(job: tuple[Oracle, dict[Key, Any]], loaded_graph: Graph) -> None:
    expected, got = job
    assert set(got) == set(expected.tree.nodes), f"job {expected.jobid}: process sets differ"
    assert len(got) == len(expected.df)
    (row,) = query(
        loaded_graph,
        "MATCH (j:Job {jobid: $jobid}) RETURN count { (:Process)-[:BELONGS_TO]->(j) } AS n",
        jobid=expected.jobid,
    )
    assert row["n"] == len(expected.df)
    assert all(r["belongs"] == 1 for r in got.values())


def test_own_cpu_and_threads(job: tuple[Oracle, dict[Key, Any]]) -> None:
    expected, got = job
    tree = expected.tree
    assert_same(
        "cpu_time", expected.jobid, dict(tree.nodes(data="cpu_time")), _col(got, "cpu_time")
    )
    assert_same("numtids", expected.jobid, dict(tree.nodes(data="numtids")), _col(got, "numtids"))


def test_parent_edges(job: tuple[Oracle, dict[Key, Any]]) -> None:
    expected, got = job
    edges = set()
    for child, r in got.items():
        for jobid, host, pid, start in r["parents"]:
            assert jobid == expected.jobid, f"{child} has a parent in job {jobid}"
            edges.add(((host, pid, start), child))
    assert sum(len(r["parents"]) for r in got.values()) == len(edges)
    missing, extra = expected.edges - edges, edges - expected.edges
    assert not missing and not extra, (
        f"job {expected.jobid}: PARENT_OF missing {sorted(missing)[:5]} ({len(missing)}), "
        f"extra {sorted(extra)[:5]} ({len(extra)})"
    )


def test_roots(job: tuple[Oracle, dict[Key, Any]]) -> None:
    expected, got = job
    assert {k for k, r in got.items() if not r["parents"]} == expected.roots


def test_depth(job: tuple[Oracle, dict[Key, Any]]) -> None:
    expected, got = job
    assert_same("depth", expected.jobid, expected.depth, _col(got, "depth"))


def test_inclusive_cpu(job: tuple[Oracle, dict[Key, Any]]) -> None:
    expected, got = job
    assert all(type(r["incl"]) is int for r in got.values())
    assert_same("inclusive_cpu_time", expected.jobid, expected.incl, _col(got, "incl"))


def test_descendant_counts(job: tuple[Oracle, dict[Key, Any]]) -> None:
    expected, got = job
    assert_same("descendants", expected.jobid, expected.descendants, _col(got, "descendants"))


def _col(rows: dict[Key, dict[str, Any]], name: str) -> dict[Key, Any]:
    return {k: r[name] for k, r in rows.items()}


# EPMT's published numbers (its test_query.py), against the oracle and the graph.


@pytest.mark.parametrize(("jobid", "n"), [("685016", 3412), ("685000", 3480), ("685003", 3785)])
def test_published_process_counts(loaded_graph: Graph, jobid: str, n: int) -> None:
    assert len(oracle(f"query/{jobid}.tgz").df) == n
    (row,) = query(
        loaded_graph, "MATCH (p:Process {jobid: $jobid}) RETURN count(p) AS n", jobid=jobid
    )
    assert row["n"] == n


def test_published_count_by_hosts(loaded_graph: Graph) -> None:
    jobs, hosts = ["685000", "685003"], ["pp208", "pp212"]
    dfs = [oracle(f"query/{j}.tgz").df for j in jobs]
    assert sum(df["host"].isin(hosts).sum() for df in dfs) == 7265
    (row,) = query(
        loaded_graph,
        "MATCH (p:Process) WHERE p.jobid IN $jobs AND p.host IN $hosts RETURN count(p) AS n",
        jobs=jobs,
        hosts=hosts,
    )
    assert row["n"] == 7265


@pytest.mark.parametrize(("jobid", "n"), [("685000", 32), ("685003", 38), ("685016", 31)])
def test_published_root_counts(loaded_graph: Graph, jobid: str, n: int) -> None:
    assert len(oracle(f"query/{jobid}.tgz").roots) == n
    (row,) = query(
        loaded_graph,
        "MATCH (p:Process {jobid: $jobid}) WHERE NOT EXISTS { (:Process)-[:PARENT_OF]->(p) } "
        "RETURN count(p) AS n, sum(CASE p.depth WHEN 0 THEN 1 ELSE 0 END) AS zero",
        jobid=jobid,
    )
    assert row == {"n": n, "zero": n}


def test_published_root_6098(loaded_graph: Graph) -> None:
    expected = oracle("query/685000.tgz")
    (root,) = [k for k in expected.roots if k[1] == 6098]
    assert expected.tree.out_degree(root) == 735
    assert expected.descendants[root] == 3448
    rows = query(
        loaded_graph,
        "MATCH (p:Process {jobid: $jobid, pid: $pid}) "
        "RETURN p.depth AS depth, COUNT { (p)-[:PARENT_OF]->(:Process) } AS children, "
        "COUNT { (p)-[:PARENT_OF]->+(:Process) } AS descendants",
        jobid="685000",
        pid=6098,
    )
    assert rows == [{"depth": 0, "children": 735, "descendants": 3448}]
