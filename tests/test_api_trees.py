"""The tree API (get_roots, root, op_roots, orm relations, compute_process_trees) against the
oracle built from raw papiex rows (``oracle.py``) and EPMT's published facts."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import networkx as nx
import pytest
from oracle import SAMPLES, Key, depths, inclusive_cpu, process_tree, raw_processes, sample_jobs

import epmt_graph.api as eq
from epmt_graph.db import Graph, default_graph
from epmt_graph.errors import QueryError
from epmt_graph.loader import delete_job, read_job
from epmt_graph.loader.writer import write_job

QUERY_JOBS = ["685000", "685003", "685016"]


@cache
def oracle(job_path: str) -> tuple[str, nx.DiGraph]:
    df = raw_processes(Path(job_path))
    return str(df["jobid"].iloc[0]), process_tree(df)


@cache
def zone(graph: Graph, jobid: str) -> ZoneInfo:
    (record,) = graph.read("jobs-by-id", jobids=[jobid])
    return ZoneInfo(record["j"]["tz"])


def key(process: dict[str, Any] | eq.Process) -> Key:
    """(host, pid, start in microseconds): the oracle's key, from an API process."""
    row = process if isinstance(process, dict) else process.to_dict()
    start = row["start"].replace(tzinfo=zone(default_graph(), row["jobid"]))
    micros = (start - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
    return (row["host"], row["pid"], micros)


def op_values(tree: nx.DiGraph) -> set[str]:
    values = set()
    for _, data in tree.nodes(data=True):
        for pair in (data["tags"] or "").split(";"):
            if pair.startswith("op:"):
                values.add(pair.removeprefix("op:"))
    return values


def carries(data: dict[str, Any], pair: str) -> bool:
    return pair in (data["tags"] or "").split(";")


@pytest.fixture(params=sample_jobs())
def job(request: pytest.FixtureRequest, loaded_graph: Graph) -> tuple[str, nx.DiGraph]:
    return oracle(str(SAMPLES / request.param))


def test_get_roots_are_the_parentless_processes_by_start(job: tuple[str, nx.DiGraph]) -> None:
    jobid, tree = job
    expected = sorted((n for n in tree if tree.in_degree(n) == 0), key=lambda n: (n[2], n[1]))
    got = eq.get_roots(jobid, fmt="dict")
    assert [key(p) for p in got] == expected


def test_op_roots_for_every_op_value(job: tuple[str, nx.DiGraph]) -> None:
    jobid, tree = job
    for value in sorted(op_values(tree)):
        pair = f"op:{value}"
        expected = {
            n
            for n, data in tree.nodes(data=True)
            if carries(data, pair)
            and not any(carries(tree.nodes[p], pair) for p in tree.predecessors(n))
        }
        got = eq.op_roots(jobid, pair, fmt="dict")
        assert {key(p) for p in got} == expected, pair
        assert [p["start"] for p in got] == sorted(p["start"] for p in got)
        # ids alone (fetched without the other fields): "<jobid>:<idx>", idx numbering the
        # job's processes by (start, pid, host); by start, then pid, as the dicts
        idx = {n: i for i, n in enumerate(sorted(tree, key=lambda n: (n[2], n[1], n[0])))}
        ordered = sorted(expected, key=lambda n: (n[2], n[1]))
        assert eq.op_roots(jobid, pair, fmt="terse") == [f"{jobid}:{idx[n]}" for n in ordered]


def test_root_is_the_earliest_process(job: tuple[str, nx.DiGraph]) -> None:
    jobid, tree = job
    first = min(tree, key=lambda n: (n[2], n[1]))
    assert key(eq.root(jobid, fmt="orm")) == first
    assert key(eq.root(jobid, fmt="dict")) == first
    assert eq.root(jobid, fmt="pandas").shape[0] == 1


def test_published_roots_counts(loaded_graph: Graph) -> None:
    assert [len(eq.get_roots(j, fmt="terse")) for j in QUERY_JOBS] == [32, 38, 31]
    assert len(eq.get_roots(QUERY_JOBS, fmt="terse")) == 32 + 38 + 31


def test_orm_lists_answer_epmts_count(loaded_graph: Graph) -> None:
    roots = eq.get_roots(["685000"], fmt="orm")  # the workbook: root_procs.count()
    assert roots.count() == len(roots) == 32
    assert roots[0].pid == 6098
    assert eq.op_roots("685000", "op:hsmget", fmt="orm").count() == 102


def test_published_root_of_685000(loaded_graph: Graph) -> None:
    root = eq.root("685000", fmt="orm")
    assert root.pid == 6098
    assert len(root.children) == 735
    assert len(root.descendants) == 3448
    assert root.descendants.count() == 3448
    assert root.parent is None
    assert root.depth == 0


def test_published_longest_op_sequence_4(loaded_graph: Graph) -> None:
    procs = eq.get_procs(
        QUERY_JOBS,
        tags="op_sequence:4",
        fltr=eq.Process.duration > 10_000_000,
        order=eq.desc(eq.Process.duration),
        fmt="orm",
    )
    first = procs[0]
    assert first.duration == 207384313
    assert len(first.descendants) == 85


def test_orm_relations_match_the_oracle(loaded_graph: Graph) -> None:
    jobid, tree = oracle(str(SAMPLES / "query" / "685016.tgz"))
    deepest = eq.get_procs(jobid, order=eq.desc(eq.Process.depth), fmt="orm")[0]
    node = key(deepest)
    assert [key(a) for a in deepest.ancestors] == nx.shortest_path(
        tree, next(r for r in tree if tree.in_degree(r) == 0 and nx.has_path(tree, r, node)), node
    )[:-1]
    parent = deepest.parent
    assert parent is not None
    assert key(parent) == next(iter(tree.predecessors(node)))
    assert {key(c) for c in parent.children} == set(tree.successors(key(parent)))
    assert {key(d) for d in parent.descendants} == nx.descendants(tree, key(parent))


def test_order_by_inclusive_cpu_and_depth(loaded_graph: Graph) -> None:
    jobid, tree = oracle(str(SAMPLES / "query" / "685003.tgz"))
    inclusive, depth = inclusive_cpu(tree), depths(tree)
    top = eq.get_procs(jobid, order=eq.desc(eq.Process.inclusive_cpu_time), limit=20, fmt="dict")
    assert [p["inclusive_cpu_time"] for p in top] == sorted(inclusive.values(), reverse=True)[:20]
    assert all(p["inclusive_cpu_time"] == inclusive[key(p)] for p in top)
    deep = eq.get_procs(jobid, order=eq.desc(eq.Process.depth), limit=5, fmt="pandas")
    assert list(deep["depth"]) == sorted(depth.values(), reverse=True)[:5]


@pytest.fixture
def copied_job(graph: Graph) -> Iterator[str]:
    """685016 under another jobid, written without tree values (as if loaded elsewhere)."""
    rows = read_job(SAMPLES / "query" / "685016.tgz")
    jobid = "copy-685016"
    processes = [{**p, "jobid": jobid, "uid": f"{jobid}:{p['idx']}"} for p in rows.processes]
    copy = dataclasses.replace(
        rows, job={**rows.job, "jobid": jobid, "digest": "copy"}, processes=processes
    )
    write_job(graph, copy)
    graph.driver.execute_query(
        "MATCH (p:Process {jobid: $jobid}) REMOVE p.depth, p.inclusive_cpu_time", jobid=jobid
    )
    yield jobid
    delete_job(graph, jobid)


def test_compute_process_trees_fills_missing_values(copied_job: str) -> None:
    _, tree = oracle(str(SAMPLES / "query" / "685016.tgz"))
    inclusive, depth = inclusive_cpu(tree), depths(tree)
    root = eq.root(copied_job, fmt="orm")
    assert (root.depth, root.inclusive_cpu_time) == (None, None)
    assert eq.compute_process_trees(copied_job) == [copied_job]
    root = eq.root(copied_job, fmt="orm")
    assert (root.depth, root.inclusive_cpu_time) == (0, inclusive[key(root)])
    child = root.children[0]
    assert child.depth == depth[key(child)] == 1
    assert eq.compute_process_trees(copied_job) == []
    rows = eq.get_procs(copied_job, fmt="dict")
    assert {key(p): p["depth"] for p in rows} == depth
    assert {key(p): p["inclusive_cpu_time"] for p in rows} == inclusive


def test_bad_arguments_are_clear_errors(loaded_graph: Graph) -> None:
    with pytest.raises(QueryError, match="one non-empty tag"):
        eq.op_roots("685000", "")
    with pytest.raises(QueryError, match="root\\(\\) takes one job"):
        eq.root(["685000", "685003"])
    with pytest.raises(QueryError, match="fmt must be one of"):
        eq.get_roots("685000", fmt="xml")
    with pytest.raises(QueryError, match="string filters are not supported"):
        eq.get_procs("685000", fltr="p.duration > 5")
