"""critical_path, ancestry and tree_diff against networkx and pandas over the raw papiex rows
(``oracle.py``), independent of the loader and of the stored tree values."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import networkx as nx
import pandas as pd
import pytest
from oracle import SAMPLES, Key, inclusive_cpu, process_tree, raw_processes

import epmt_graph.api as eq
from epmt_graph.api.insights import DIFF_COLUMNS
from epmt_graph.db import Graph, default_graph
from epmt_graph.errors import QueryError

QUERY_JOBS = ["685000", "685003", "685016"]


@cache
def tree(jobid: str) -> nx.DiGraph:
    return process_tree(raw_processes(SAMPLES / "query" / f"{jobid}.tgz"))


@cache
def zone(jobid: str) -> ZoneInfo:
    (record,) = default_graph().read("jobs-by-id", jobids=[jobid])
    return ZoneInfo(record["j"]["tz"])


def key(process: dict[str, Any] | eq.Process) -> Key:
    """(host, pid, start in microseconds): the oracle's key, from an API process."""
    row = process if isinstance(process, dict) else process.to_dict()
    start = row["start"].replace(tzinfo=zone(row["jobid"]))
    micros = (start - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
    return (row["host"], row["pid"], micros)


def ids_by_key(jobid: str) -> dict[Key, str]:
    return {key(p): p["id"] for p in eq.get_procs(jobid, fmt="dict")}


def greedy_path(graph: nx.DiGraph) -> list[Key]:
    """From the root with the most inclusive CPU, always to the child with the most."""
    inclusive = inclusive_cpu(graph)

    def best(nodes: Any) -> Key:
        return min(nodes, key=lambda n: (-inclusive[n], n[2], n[1]))

    path = [best(n for n in graph if graph.in_degree(n) == 0)]
    while graph.out_degree(path[-1]):
        path.append(best(graph.successors(path[-1])))
    return path


@pytest.mark.parametrize("jobid", QUERY_JOBS)
def test_critical_path_is_the_greedy_walk(loaded_graph: Graph, jobid: str) -> None:
    graph = tree(jobid)
    inclusive = inclusive_cpu(graph)
    expected = greedy_path(graph)
    got = eq.critical_path(jobid)
    assert [key(p) for p in got] == expected
    assert [p["inclusive_cpu_time"] for p in got] == [inclusive[n] for n in expected]
    assert [p["step"] for p in got] == list(range(len(expected)))
    root_cpu = inclusive[expected[0]]
    shares = [1.0] + [inclusive[b] / inclusive[a] for a, b in itertools.pairwise(expected)]
    assert [p["share"] for p in got] == pytest.approx(shares)
    assert [p["share_of_root"] for p in got] == pytest.approx(
        [inclusive[n] / root_cpu for n in expected]
    )
    assert got[0]["parent"] is None
    assert [p["parent"] for p in got[1:]] == [p["id"] for p in got[:-1]]


def test_critical_path_formats(loaded_graph: Graph) -> None:
    ids = [p["id"] for p in eq.critical_path("685000")]
    assert eq.critical_path("685000", fmt="terse") == ids
    frame = eq.critical_path("685000", fmt="pandas")
    assert list(frame["id"]) == ids
    assert {"pid", "exename", "inclusive_cpu_time", "share", "share_of_root"} <= set(frame)
    records = eq.critical_path({"jobid": "685000"}, fmt="orm")
    assert [p.id for p in records] == ids
    assert records[0].share == 1.0
    assert records[-1].children.count() == 0


def test_ancestry_is_the_root_to_process_path(loaded_graph: Graph) -> None:
    jobid = "685016"
    graph = tree(jobid)
    ids = ids_by_key(jobid)
    deepest = eq.get_procs(jobid, order=eq.desc(eq.Process.depth), limit=1, fmt="orm")[0]
    tagged = sorted(n for n, data in graph.nodes(data=True) if data["tags"])
    picks = [key(deepest), *random.Random(5).sample(tagged, 3), greedy_path(graph)[0]]
    for node in picks:
        (root,) = [a for a in nx.ancestors(graph, node) | {node} if graph.in_degree(a) == 0]
        expected = nx.shortest_path(graph, root, node)
        frame = eq.ancestry(ids[node])
        assert [key(row) for row in frame.to_dict("records")] == expected
        assert list(frame["depth"]) == list(range(len(expected)))
        assert list(frame["exename"]) == [graph.nodes[n]["exename"] for n in expected]
        assert list(frame["id"]) == [ids[n] for n in expected]
        assert {"pid", "args", "tags"} <= set(frame)
    assert eq.ancestry(deepest, fmt="terse") == eq.ancestry(deepest.to_dict(), fmt="terse")
    assert eq.ancestry(deepest, fmt="orm")[-1] == deepest
    chain = eq.ancestry(deepest.id, fmt="dict")
    assert [p["id"] for p in chain[:-1]] == [a.id for a in deepest.ancestors]
    assert chain[-1]["tags"] == deepest.tags


def oracle_subtrees(jobid: str) -> pd.DataFrame:
    """Per process: its subtree's tag and the exename path to the subtree's root."""
    graph = tree(jobid)
    top: dict[Key, Key] = {}
    names: dict[Key, tuple[str, ...]] = {}
    rows = []
    for node in nx.topological_sort(graph):
        data = graph.nodes[node]
        tag = canonical(data["tags"])
        (parent,) = list(graph.predecessors(node)) or [None]
        names[node] = (*(names[parent] if parent else ()), data["exename"])
        same = parent is not None and canonical(graph.nodes[parent]["tags"]) == tag
        top[node] = top[parent] if same else node
        path = "/".join(names[top[node]])
        rows.append({"tag": tag, "path": path, "cpu_time": data["cpu_time"]})
    return pd.DataFrame(rows)


def canonical(tags: str) -> str:
    return ";".join(sorted(pair for pair in (tags or "").split(";") if pair))


def test_tree_diff_matches_a_groupby_over_raw_rows(loaded_graph: Graph) -> None:
    sums = [
        oracle_subtrees(jobid).groupby(["tag", "path"])["cpu_time"].agg(["size", "sum"])
        for jobid in ("685000", "685016")
    ]
    both = sums[0].merge(sums[1], "outer", left_index=True, right_index=True, suffixes=("_a", "_b"))
    both = both.fillna(0)
    expected = {
        (tag, path): (int(r.size_a), int(r.size_b), int(r.sum_a), int(r.sum_b))
        for (tag, path), r in both.iterrows()
        if (r.size_a, r.sum_a) != (r.size_b, r.sum_b)
    }
    got = eq.tree_diff("685000", "685016", limit=None)
    assert list(got.columns) == DIFF_COLUMNS
    assert {
        (r.tag, r.path): (r.count_a, r.count_b, r.cpu_a, r.cpu_b) for r in got.itertuples()
    } == expected
    assert (got["delta"] == got["cpu_b"] - got["cpu_a"]).all()
    assert (got["delta_count"] == got["count_b"] - got["count_a"]).all()
    assert list(got["delta"].abs()) == sorted(got["delta"].abs(), reverse=True)
    assert list(got["key"]) == [f"{r.path} [{r.tag}]" for r in got.itertuples()]
    top = eq.tree_diff("685000", "685016")
    assert top.equals(got.head(20))


def test_tree_diff_of_a_job_with_itself_and_across_workflows(loaded_graph: Graph) -> None:
    assert eq.tree_diff("685000", "685000").empty
    assert list(eq.tree_diff("685000", "685000").columns) == DIFF_COLUMNS
    other = eq.tree_diff("685000", "685003", limit=5)
    assert len(other) == 5
    for no_limit in (None, 0):  # 0 is no limit, as in every function's paging
        total = eq.tree_diff("685000", "685003", limit=no_limit)
        assert total["count_a"].sum() - total["count_b"].sum() == 3480 - 3785


def test_bad_arguments_are_clear_errors(loaded_graph: Graph) -> None:
    with pytest.raises(QueryError, match="not loaded"):
        eq.critical_path("no-such-job")
    with pytest.raises(QueryError, match="takes one job"):
        eq.critical_path(["685000", "685003"])
    with pytest.raises(QueryError, match="fmt must be one of"):
        eq.critical_path("685000", fmt="xml")
    with pytest.raises(QueryError, match="no process"):
        eq.ancestry("685000:999999")
    for bad in (42, None, "", {"pid": 6098}):
        with pytest.raises(QueryError, match="name a process"):
            eq.ancestry(bad)
    with pytest.raises(QueryError, match="not loaded"):
        eq.tree_diff("685000", "no-such-job")
    with pytest.raises(QueryError, match="takes one job"):
        eq.tree_diff("685000,685003", "685016")
    for limit in (-1, 2.5, True, "3"):
        with pytest.raises(QueryError, match="limit must be"):
            eq.tree_diff("685000", "685016", limit=limit)  # type: ignore[arg-type]
