"""Operations (Operation, get_ops, get_op_metrics, ops_costs) against EPMT 5.0.1's answers on
the same archives (``fixtures/epmt/answers.json``), their query budget, and hostile tags.

Lists EPMT builds from sets (the tags a bare key such as ``'op'`` expands to) have a
hash-dependent order, so those are compared as sets. ``ops_costs(features=[...])`` is the
workbook's spelling, which EPMT 5.0.1 rejects (TypeError); we take it as ``metric``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from constants import HOSTILE_VALUES
from epmt_answers import answers, key, plain, workbook
from oracle import SAMPLES

import epmt_graph.api as eq
from epmt_graph.db import Graph
from epmt_graph.errors import QueryError
from epmt_graph.loader import delete_job, read_job
from epmt_graph.loader.metadata import dumps
from epmt_graph.loader.writer import write_job
from epmt_graph.schema import tag_pairs, tag_string

Q = ["685000", "685003", "685016"]
J2 = ["685000", "685003"]
DM = ["op:hsmget", "op:cp", "op:dmget", "op:gcp", "op:mv", "op:untar", "op:tar", "op:rm"]
DM_OPS = ["op:hsmget", "op:dmput", "op:cp", "op:rm", "op:mv", "op:untar"]
METHODS = ("sum", "sum-minus-overlap", "finish-minus-start")
HOSTILE_KEY = "k'`}\\ //"


def ops_view(ops: list[dict[str, Any]], keys: bool) -> list[dict[str, Any]]:
    """As answers.py records full operations: processes as count, sha256 (and keys)."""
    out = []
    for op in ops:
        view = dict(op)
        found = [key(row) for row in view.pop("processes")]
        view["processes.count"] = len(found)
        digest = hashlib.sha256("\n".join(sorted(found)).encode()).hexdigest()
        view["processes.sorted_keys_sha256"] = digest
        if keys:
            view["processes.keys"] = found
        out.append(view)
    return out


def by_tag(ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(ops, key=lambda op: json.dumps(op["tags"], sort_keys=True))


def tags_as_set(ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A combined operation's tag list, compared as a set (EPMT's order is hash order)."""
    return [{**op, "tags": sorted(op["tags"], key=json.dumps)} for op in ops]


class Reads:
    """Records the named queries a piece of code runs."""

    def __init__(self, graph: Graph, monkeypatch: pytest.MonkeyPatch) -> None:
        self.names: list[str] = []
        read = graph.read

        def recording(name: str, **params: Any) -> Any:
            self.names.append(name)
            return read(name, **params)

        monkeypatch.setattr(graph, "read", recording)


def metric_calls() -> dict[str, Any]:
    calls: dict[str, Any] = {
        "get_op_metrics(query_jobs, fmt='dict')": lambda: eq.get_op_metrics(Q, fmt="dict"),
        "get_op_metrics(query_jobs, group_by_tag=True, fmt='dict')": lambda: eq.get_op_metrics(
            Q, group_by_tag=True, fmt="dict"
        ),
        "get_op_metrics(query_jobs, tags=['op:hsmget', 'op:mv'], fmt='dict')": lambda: (
            eq.get_op_metrics(Q, tags=["op:hsmget", "op:mv"], fmt="dict")
        ),
        "get_op_metrics(query_jobs, tags=['op:hsmget', 'op:mv'], group_by_tag=True, fmt='dict')": (
            lambda: eq.get_op_metrics(Q, tags=["op:hsmget", "op:mv"], group_by_tag=True, fmt="dict")
        ),
        "get_op_metrics(jobs='685000', fmt='dict')": lambda: eq.get_op_metrics(
            "685000", fmt="dict"
        ),
        "get_op_metrics(['685000', '685016'], fmt='dict', op_duration_method='sum')": lambda: (
            eq.get_op_metrics(["685000", "685016"], fmt="dict", op_duration_method="sum")
        ),
    }
    for m in METHODS:
        calls[
            f"get_op_metrics(['685000', '685016'], tags='op_sequence:89', fmt='dict', "
            f"op_duration_method='{m}')"
        ] = lambda m=m: eq.get_op_metrics(
            ["685000", "685016"], tags="op_sequence:89", fmt="dict", op_duration_method=m
        )
        calls[f"get_op_metrics(query_jobs, tags={DM}, fmt='dict', op_duration_method='{m}')"] = (
            lambda m=m: eq.get_op_metrics(Q, tags=DM, fmt="dict", op_duration_method=m)
        )
        calls[
            f"get_op_metrics(query_jobs, tags={DM}, group_by_tag=True, fmt='dict', "
            f"op_duration_method='{m}')"
        ] = lambda m=m: eq.get_op_metrics(
            Q, tags=DM, group_by_tag=True, fmt="dict", op_duration_method=m
        )
    return calls


@pytest.mark.parametrize("call", sorted(metric_calls()))
def test_get_op_metrics_matches_epmt(loaded_graph: Graph, call: str) -> None:
    assert plain(metric_calls()[call]()) == workbook(call)


@pytest.mark.parametrize("method", ["sum-minus-overlap", "finish-minus-start"])
def test_op_metrics_durations_of_every_tag(loaded_graph: Graph, method: str) -> None:
    rows = eq.get_op_metrics(["685000", "685016"], fmt="dict", op_duration_method=method)
    expected = workbook(
        f"get_op_metrics(['685000', '685016'], fmt='dict', op_duration_method='{method}') "
        "[jobid, tags, duration]"
    )
    assert plain([[r["jobid"], r["tags"], r["duration"]] for r in rows]) == expected


def test_op_metrics_shapes_and_refusals(loaded_graph: Graph) -> None:
    facts = answers()["facts"]
    for call, jobs, grouped in [
        ("get_op_metrics(['685000', '685016']) shape", ["685000", "685016"], False),
        ("get_op_metrics(query_jobs) shape", Q, False),
        ("get_op_metrics(query_jobs, group_by_tag=True) shape", Q, True),
    ]:
        frame = eq.get_op_metrics(jobs, group_by_tag=grouped)
        assert list(frame.shape) == facts[call]["expected"]
    assert "ValueError" in workbook("get_op_metrics([])")["error"]
    with pytest.raises(QueryError, match="no jobs given"):
        eq.get_op_metrics([])
    assert (
        "op_duration_method must be one of"
        in workbook("get_op_metrics(query_jobs, op_duration_method='bogus')")["error"]
    )
    with pytest.raises(QueryError, match="op_duration_method must be one of"):
        eq.get_op_metrics(Q, op_duration_method="bogus")
    with pytest.raises(QueryError, match="fmt must be one of"):
        eq.get_op_metrics(Q, fmt="xml")
    assert eq.get_op_metrics("no-such-job") is None


def test_operation_matches_epmt(loaded_graph: Graph) -> None:
    op = eq.Operation(Q, {"op": "hsmget"})
    got = {
        "tags": op.tags,
        "processes.count()": op.processes.count(),
        "proc_sums": op.proc_sums,
        "duration": op.duration,
        "start": op.start,
        "finish": op.finish,
        "num_runs()": op.num_runs(),
        "contiguous()": op.contiguous(),
    }
    assert plain(got) == workbook("Operation(query_jobs, {'op': 'hsmget'})")
    for jobs in (["685000"], J2):
        op = eq.Operation(jobs, {"op": "timavg"})
        got = {"tags": op.tags, "duration": op.duration, "proc_sums": op.proc_sums}
        call = f"Operation({jobs}, {{'op': 'timavg'}}) [tags, duration, proc_sums]"
        assert plain(got) == workbook(call)
    timavg = eq.Operation(["685000"], "op:timavg")
    fact = answers()["facts"]["Operation(['685000'], {'op': 'timavg'}).duration"]
    assert timavg.duration == fact["expected"]
    assert sorted(timavg.to_dict()) == workbook(
        "sorted(Operation(['685000'], {'op': 'timavg'}).to_dict().keys())"
    )


def test_operation_is_lazy(loaded_graph: Graph, monkeypatch: pytest.MonkeyPatch) -> None:
    reads = Reads(loaded_graph, monkeypatch)
    op = eq.Operation(Q, {"op": "hsmget"}, op_duration_method="sum-minus-overlap")
    assert reads.names == ["ops-jobs"]
    query = op.processes
    assert isinstance(query, eq.ProcessQuery) and reads.names == ["ops-jobs"]
    assert op.num_runs() == workbook("Operation(query_jobs, {'op': 'hsmget'})")["num_runs()"]
    assert op.start is not None and op.duration > 0
    assert reads.names == ["ops-jobs", "op-spans"]
    assert op.proc_sums["num_procs"] == 5209
    assert reads.names == ["ops-jobs", "op-spans", "ops-metrics"]


def test_get_ops_matches_epmt(loaded_graph: Graph) -> None:
    assert plain(eq.get_ops(Q, tags=DM_OPS, fmt="dict")) == workbook(
        f"get_ops(query_jobs, tags={DM_OPS}, fmt='dict')"
    )
    full = eq.get_ops(Q, tags=["op:hsmget"], full=True, fmt="dict")
    assert plain(ops_view(full, keys=True)) == workbook(
        "get_ops(query_jobs, tags=['op:hsmget'], full=True, fmt='dict') [processes as keys]"
    )
    for m in METHODS:
        call = (
            "get_ops(['685000', '685003'], tags=['op:timavg', 'op:ncks'], "
            f"op_duration_method='{m}')"
        )
        assert plain(eq.get_ops(J2, tags=["op:timavg", "op:ncks"], op_duration_method=m)) == (
            workbook(call)
        )
    combined = eq.get_ops(J2, tags=["op:timavg", "op:ncks"], combine=True, fmt="orm")
    assert all(isinstance(op, eq.Operation) for op in combined)
    assert plain([op.to_dict() for op in combined]) == workbook(
        "get_ops(['685000', '685003'], tags=['op:timavg', 'op:ncks'], combine=True, fmt='orm') "
        "[to_dict()]"
    )
    frame = eq.get_ops(J2, tags=["op:timavg", "op:ncks"], op_duration_method=m, fmt="pandas")
    assert list(frame["duration"]) == [op["duration"] for op in workbook(call)]


def test_get_ops_expands_a_bare_key(loaded_graph: Graph) -> None:
    """'op' (or no tags: the key with the fewest values) means one operation per value."""
    each = eq.get_ops(Q, "op", full=True, fmt="dict")
    expected = workbook(
        "get_ops(query_jobs, 'op', full=True, fmt='dict') "
        "[processes: count + sha256 of sorted keys]"
    )
    assert by_tag(plain(ops_view(each, keys=False))) == by_tag(expected)
    assert by_tag(plain(eq.get_ops(Q, "", fmt="dict"))) == by_tag(
        workbook("get_ops(query_jobs, '', fmt='dict')")
    )
    assert tags_as_set(plain(eq.get_ops(Q, "op", combine=True, fmt="dict"))) == tags_as_set(
        workbook("get_ops(query_jobs, 'op', combine=True, fmt='dict')")
    )
    assert tags_as_set(plain(eq.get_ops(J2, tags="op", combine=True))) == tags_as_set(
        workbook("get_ops(['685000', '685003'], tags='op', combine=True)")
    )
    full = ops_view(eq.get_ops(Q, "op", combine=True, full=True, fmt="dict"), keys=False)
    assert tags_as_set(plain(full)) == tags_as_set(
        workbook(
            "get_ops(query_jobs, 'op', combine=True, full=True, fmt='dict') "
            "[processes: count + sha256 of sorted keys]"
        )
    )
    fact = "get_ops(['685000','685003'], tags='op', combine=True)[0] proc_sums [num_procs, numtids]"
    sums = eq.get_ops(J2, tags="op", combine=True)[0]["proc_sums"]
    assert [sums["num_procs"], sums["numtids"]] == answers()["facts"][fact]["expected"]


def test_get_ops_runs_a_fixed_number_of_queries(
    loaded_graph: Graph, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = Reads(loaded_graph, monkeypatch)
    ops = eq.get_ops(Q, "op", full=True, fmt="dict")
    assert len(ops) == 12
    assert reads.names == ["ops-jobs", "proc-tags-by-job", "ops-metrics", "ops-processes"]
    reads.names.clear()
    tags = eq.job_proc_tags(Q)[:40]
    reads.names.clear()
    assert len(eq.get_ops(Q, tags=tags, exact_tag_only=True, fmt="orm")) == 40
    assert reads.names == ["ops-jobs", "ops-metrics", "ops-metrics"]
    reads.names.clear()
    eq.get_op_metrics(Q, op_duration_method="sum-minus-overlap")
    assert reads.names == ["ops-jobs", "proc-tags-by-job", "ops-metrics"]


@pytest.mark.parametrize(
    "call, kwargs",
    [
        (f"ops_costs(query_jobs, tags={DM}, metric='cpu_time')", {"tags": DM}),
        (
            f"ops_costs(query_jobs, tags={DM}, metric='duration')",
            {"tags": DM, "metric": "duration"},
        ),
        ("ops_costs(query_jobs) [default tags, metric='cpu_time']", {}),
    ],
)
def test_ops_costs_matches_epmt(loaded_graph: Graph, call: str, kwargs: dict[str, Any]) -> None:
    percent, ops, total, by_job = eq.ops_costs(Q, **kwargs)
    assert plain([percent, ops, total, by_job]) == workbook(call)
    metric = kwargs.get("metric", "cpu_time")
    assert list(ops.columns[:3]) == ["jobid", "tags", metric]


def test_ops_costs_takes_the_workbooks_features_spelling(loaded_graph: Graph) -> None:
    spelled = f"ops_costs(query_jobs, tags={DM}, features=['cpu_time'])  # workbook's spelling"
    assert "unexpected keyword argument 'features'" in workbook(spelled)["error"]
    got = eq.ops_costs(Q, tags=DM, features=["cpu_time"])
    assert plain(list(got)) == workbook(f"ops_costs(query_jobs, tags={DM}, metric='cpu_time')")
    with pytest.raises(QueryError, match="metric must be one of"):
        eq.ops_costs(Q, metric="rchar")


# --- hostile tags and exenames: data only -----------------------------------------------


def _counts(graph: Graph) -> tuple[int, int]:
    nodes = graph.driver.execute_query("MATCH (n) RETURN count(n) AS n").records[0]["n"]
    rels = graph.driver.execute_query("MATCH ()-[r]->() RETURN count(r) AS n").records[0]["n"]
    return int(nodes), int(rels)


def _hostile_tag(i: int) -> dict[str, str]:
    tag = {"op": HOSTILE_VALUES[i % len(HOSTILE_VALUES)]}
    if i % 2:
        tag[HOSTILE_KEY] = HOSTILE_VALUES[-1]
    return tag


@pytest.fixture
def hostile_job(graph: Graph, loaded_graph: Graph) -> Iterator[tuple[str, pd.DataFrame]]:
    """tsv/12340's 18 processes as another job whose tags and exenames are hostile."""
    rows = read_job(SAMPLES / "tsv" / "12340")
    jobid = "hostile-'}) //"
    processes = []
    for p in rows.processes:
        tag = _hostile_tag(p["idx"])
        processes.append(
            {
                **p,
                "jobid": jobid,
                "uid": f"{jobid}:{p['idx']}",
                "exename": HOSTILE_VALUES[p["idx"] % len(HOSTILE_VALUES)],
                "tags": tag_string(tag),
                "tag_pairs": tag_pairs(tag),
            }
        )
    distinct = sorted({dumps(_hostile_tag(p["idx"])) for p in processes})
    job = {**rows.job, "jobid": jobid, "digest": "hostile"}
    job["all_proc_tags_json"] = dumps([json.loads(t) for t in distinct])
    write_job(graph, dataclasses.replace(rows, job=job, processes=processes))
    frame = pd.DataFrame(processes)
    frame["op"] = [_hostile_tag(i)["op"] for i in frame["idx"]]
    yield jobid, frame
    delete_job(graph, jobid)


def test_hostile_tags_are_only_data(graph: Graph, hostile_job: tuple[str, pd.DataFrame]) -> None:
    jobid, frame = hostile_job
    before = _counts(graph)
    tags = eq.job_proc_tags(jobid)
    assert tags == [json.loads(t) for t in sorted({dumps(_hostile_tag(i)) for i in range(18)})]
    assert dict(eq.rank_proc_tags_keys(jobid)) == {
        "op": set(HOSTILE_VALUES),
        HOSTILE_KEY: {HOSTILE_VALUES[-1]},
    }
    rows = eq.get_op_metrics(jobid, tags=[{"op": h} for h in HOSTILE_VALUES], fmt="dict")
    assert [r["jobid"] for r in rows] == [jobid] * len(HOSTILE_VALUES)
    for row in rows:
        mine = frame[frame["op"] == row["tags"]["op"]]
        assert (row["num_procs"], row["cpu_time"]) == (len(mine), mine["cpu_time"].sum())
        assert row["cutime"] == mine["cutime"].sum()  # a v2 metric beyond the usual 24
    exact = eq.get_op_metrics(jobid, tags=[_hostile_tag(1)], exact_tags_only=True, fmt="dict")
    assert [r["num_procs"] for r in exact] == [len(frame[frame["tags"] == frame["tags"][1]])]
    ops = eq.get_ops(jobid, tags="op", fmt="dict")
    assert {op["tags"]["op"]: op["proc_sums"]["num_procs"] for op in ops} == dict(
        frame["op"].value_counts()
    )
    keyed = eq.Operation(jobid, {HOSTILE_KEY: HOSTILE_VALUES[-1]})
    assert keyed.processes.count() == keyed.proc_sums["num_procs"] == (frame["idx"] % 2).sum()
    assert eq.procs_histogram(jobid) == dict(frame["exename"].value_counts())
    assert eq.get_ops(jobid, tags=[{"op": "x' OR 1=1 //"}, {"op": "}) MATCH (n) RETURN n"}]) == []
    assert eq.get_op_metrics(jobid, tags="op:MATCH (n) RETURN n", fmt="dict") == []
    assert eq.conv_procs([f"{jobid}:0' OR '1'='1", "685000:0}) //"], fmt="terse") == []
    with pytest.raises(QueryError, match="no process with id"):
        eq.get_thread_metrics(f"{jobid}:0' //")
    assert _counts(graph) == before
