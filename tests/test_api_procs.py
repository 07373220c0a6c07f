"""conv_procs, timeline, procs_histogram, get_thread_metrics, job_proc_tags and
rank_proc_tags_keys against EPMT 5.0.1's answers (``fixtures/epmt/answers.json``) and the
raw papiex rows (``oracle.py``).

EPMT's process durations are floats (``total_seconds() * 1e6``, e.g. 253.00000000000003);
ours are the exact integer microseconds, so durations are compared approximately.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pandas as pd
import pytest
from epmt_answers import answers, key, plain, workbook
from oracle import SAMPLES, raw_processes

import epmt_graph.api as eq
from epmt_graph.db import Graph
from epmt_graph.errors import QueryError
from epmt_graph.schema import PROCESS_METRICS

Q = ["685000", "685003", "685016"]
FORMATS = ("terse", "dict", "pandas", "orm")


@cache
def raw(jobid: str) -> pd.DataFrame:
    return raw_processes(SAMPLES / "query" / f"{jobid}.tgz")


def count(collection: Any) -> int:
    return collection.count() if isinstance(collection, eq.ProcessQuery) else len(collection)


def same(got: Any, expected: Any) -> None:
    """Two process collections of the same format hold the same processes, in order."""
    if isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(got, expected)
    elif isinstance(expected, eq.ProcessQuery):
        assert [p.to_dict() for p in got] == [p.to_dict() for p in expected]
    else:
        assert got == expected


def test_conv_procs_round_trips_685000_through_every_format(loaded_graph: Graph) -> None:
    direct = {fmt: eq.get_procs("685000", order=eq.Process.start, fmt=fmt) for fmt in FORMATS}
    expected = workbook(
        "conv_procs(get_procs('685000', order=Process.start, fmt=IN), fmt=OUT) counts"
    )
    assert len(direct["terse"]) == len(raw("685000")) == 3480
    assert sorted(key(row) for row in direct["dict"]) == sorted(
        f"{r.host}:{r.pid}:{r.start}" for r in raw("685000").itertuples()
    )
    for given in FORMATS:
        assert count(direct[given]) == expected[given]["count"]
        for wanted in FORMATS:
            converted = eq.conv_procs(direct[given], fmt=wanted)
            assert count(converted) == expected[given]["conv_procs counts"][wanted]
            same(converted, direct[wanted])
            back = eq.conv_procs(converted, fmt=given)
            same(back, direct[given])


@pytest.mark.parametrize("jobid", Q)
def test_terse_ids_are_the_raw_processes_in_order(loaded_graph: Graph, jobid: str) -> None:
    # ids alone are fetched without the other fields: "<jobid>:<idx>", idx numbering the
    # job's processes by (start, pid, host)
    df = raw(jobid).sort_values(["start", "pid", "host"], ignore_index=True)
    df["id"] = [f"{jobid}:{i}" for i in range(len(df))]
    assert eq.get_procs(jobid, fmt="terse") == list(df.sort_values(["start", "pid"])["id"])
    df["duration"] = df["end"] - df["start"]
    longest = df[df["duration"] > 1_000_000].sort_values(
        ["duration", "start", "pid"], ascending=[False, True, True]
    )
    got = eq.get_procs(
        jobid,
        fltr=eq.Process.duration > 1_000_000,
        order=eq.desc(eq.Process.duration),
        offset=3,
        limit=25,
        fmt="terse",
    )
    assert got == list(longest["id"][3:28])


def test_conv_procs_orders_and_refuses_the_whole_database(loaded_graph: Graph) -> None:
    every = eq.get_procs("685000", fmt="terse")
    ids = every[::50]
    rows = eq.conv_procs(ids, fmt="dict", order=eq.desc(eq.Process.duration))
    durations = {f"{r.host}:{r.pid}:{r.start}": r.end - r.start for r in raw("685000").itertuples()}
    assert [r["duration"] for r in rows] == sorted((durations[key(r)] for r in rows), reverse=True)
    assert [r["id"] for r in eq.conv_procs(ids[::-1], fmt="dict")] == ids[::-1]
    assert eq.conv_procs(",".join(ids[:3]), fmt="terse") == ids[:3]
    assert eq.conv_procs(eq.get_procs("685000", limit=2, fmt="orm"), fmt="terse") == every[:2]
    for nothing in ("[]", "None"):
        assert "non-empty collection" in workbook(f"conv_procs({nothing})")["error"]
    for nothing in (None, [], ""):
        with pytest.raises(QueryError, match="does not convert the whole database"):
            eq.conv_procs(nothing)
    with pytest.raises(QueryError, match="cannot read a process id"):
        eq.conv_procs([3413])


def test_timeline_matches_epmt(loaded_graph: Graph) -> None:
    call = (
        "timeline(['685000', '685016'], limit=5, hosts=['pp313', 'pp208'], fmt='dict') "
        "[jobid, exename, start, host]"
    )
    rows = eq.timeline(["685000", "685016"], limit=5, hosts=["pp313", "pp208"], fmt="dict")
    assert plain([[r["jobid"], r["exename"], r["start"], r["host"]] for r in rows]) == workbook(
        call
    )
    expected = workbook("timeline(query_jobs, fmt='dict', limit=25)")
    frame = eq.timeline(Q, limit=25)
    assert isinstance(frame, pd.DataFrame)
    assert [key(r) for r in frame.to_dict("records")] == [r["key"] for r in expected]
    columns = ["jobid", "pid", "exename", "tags", "start", "cpu_time", "depth", "exitcode", "args"]
    got = plain(frame[columns].to_dict("records"))
    assert got == [{c: r[c] for c in columns} for r in expected]
    assert list(frame["duration"]) == pytest.approx([r["duration"] for r in expected])
    facts = answers()["facts"]
    fact = facts["get_procs(query_jobs, fltr=Process.duration > 1000000, fmt='orm').count()"]
    long = eq.timeline(Q, fltr=eq.Process.duration > 1000000, fmt="dict")
    assert len(long) == fact["expected"] == 630
    assert [r["start"] for r in long] == sorted(r["start"] for r in long)
    at = eq.timeline("685000", when="06/15/2019 07:53", fmt="orm")
    assert (
        sorted(p.pid for p in at)
        == facts["pids of get_procs('685000', when='06/15/2019 07:53')"]["expected"]
    )
    with pytest.raises(QueryError, match="string filters are not supported"):
        eq.timeline(Q, fltr="p.duration > 1000000")


def test_procs_histogram_matches_epmt_and_the_raw_rows(loaded_graph: Graph) -> None:
    exenames = eq.procs_histogram(["685000"], attr="exename")
    assert exenames == workbook("procs_histogram(['685000'], attr='exename')")
    assert exenames == dict(raw("685000")["exename"].value_counts())
    first_seen = list(dict.fromkeys(raw("685000").sort_values(["start", "pid"])["exename"]))
    assert list(exenames) == first_seen
    threads = eq.procs_histogram(["685000"], attr="numtids")
    assert plain(threads) == workbook("procs_histogram(['685000'], attr='numtids')")
    cpu = eq.procs_histogram(["685000", "685003"], metric="cpu_time")
    assert cpu == workbook("procs_histogram(['685000', '685003'], metric='cpu_time')")
    both = pd.concat([raw("685000"), raw("685003")])
    assert cpu == dict(both.groupby("exename")["cpu_time"].sum())
    hosts = eq.procs_histogram(["685000", "685003"], attr="host_id")
    assert sorted(hosts) == workbook("procs_set(['685000', '685003'], attr='host_id')")
    with pytest.raises(QueryError, match="must be process fields"):
        eq.procs_histogram(["685000"], attr="tags")
    with pytest.raises(QueryError, match="must be process fields"):
        eq.procs_histogram(["685000"], metric="p.cpu_time) RETURN 1 //")


def test_get_thread_metrics_matches_epmt(
    loaded_graph: Graph, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = eq.root("685000", fmt="orm")
    frame = eq.get_thread_metrics(root)
    expected = workbook("get_thread_metrics(root('685000', fmt='orm'))")
    assert root.pid == expected["root.pid"]
    assert sorted(frame.columns) == expected["sorted(columns)"]
    rows = [{k: v for k, v in r.items() if k != "process_pk"} for r in frame.to_dict("records")]
    assert rows == expected["rows"] and list(frame["process_pk"]) == [root.id]
    multi = eq.get_procs("685000", fltr=eq.Process.numtids > 1, limit=3, fmt="orm")[:3]
    names: list[str] = []
    read = loaded_graph.read

    def recording(name: str, **params: Any) -> Any:
        names.append(name)
        return read(name, **params)

    monkeypatch.setattr(loaded_graph, "read", recording)
    threads = eq.get_thread_metrics(*multi)
    assert names == ["process-threads"]
    expected = workbook("get_thread_metrics(*first 3 multi-threaded procs of 685000)")
    assert [key(p.to_dict()) for p in multi] == expected["keys"]
    assert len(threads) == expected["rows"] and list(threads["tid"]) == expected["tids"]
    assert list(threads.index) == [i for p in multi for i in range(p.numtids)]
    assert list(threads["exename"]) == [
        name for p in multi for name in [p.exename] + [""] * (p.numtids - 1)
    ]
    by_id = eq.get_thread_metrics([p.id for p in multi])
    pd.testing.assert_frame_equal(by_id, threads)
    assert eq.get_thread_metrics([]).empty
    with pytest.raises(QueryError, match="no process with id"):
        eq.get_thread_metrics("685000:999999")


def test_job_proc_tags_match_epmt(loaded_graph: Graph) -> None:
    assert eq.job_proc_tags(["685000", "685016"]) == workbook(
        "job_proc_tags(['685000', '685016'], fold=False)"
    )
    fact = answers()["facts"]["len(job_proc_tags(['685000', '685016']))"]
    assert len(eq.job_proc_tags(["685000", "685016"])) == fact["expected"]
    assert eq.job_proc_tags(eq.get_jobs(Q, fmt="orm")) == workbook(
        "job_proc_tags(get_jobs(query_jobs, fmt='orm'))"
    )
    assert eq.job_proc_tags(Q, exclude=["op_instance"]) == workbook(
        "job_proc_tags(query_jobs, exclude=['op_instance'])"
    )
    assert eq.job_proc_tags(Q, tag_filter="op:cp") == workbook(
        "job_proc_tags(query_jobs, tag_filter='op:cp')"
    )
    folded = eq.job_proc_tags(Q, fold=True)
    expected = workbook("job_proc_tags(query_jobs, fold=True)")
    assert {k: sorted(v) for k, v in folded.items()} == {k: sorted(v) for k, v in expected.items()}
    raw_tags = {frozenset(t.split(";")) for jobid in Q for t in raw(jobid)["tags"] if t}
    assert len(eq.job_proc_tags(Q)) == len(raw_tags)
    assert "non-empty collection" in workbook("job_proc_tags([], fold=False)")["error"]
    with pytest.raises(QueryError, match="no jobs given"):
        eq.job_proc_tags([])


def test_rank_proc_tags_keys_matches_epmt(loaded_graph: Graph) -> None:
    assert plain(eq.rank_proc_tags_keys(["685000"])) == workbook("rank_proc_tags_keys(['685000'])")
    assert plain(eq.rank_proc_tags_keys(Q, order="frequency")) == workbook(
        "rank_proc_tags_keys(query_jobs, order='frequency')"
    )
    assert [k for k, _ in eq.rank_proc_tags_keys(Q, exclude=["op"])] == [
        "op_instance",
        "op_sequence",
    ]
    with pytest.raises(QueryError, match="order must be one of"):
        eq.rank_proc_tags_keys(Q, order="size")


def test_metrics_kept_in_a_list_still_filter_order_and_sum(loaded_graph: Graph) -> None:
    # rchar and rssmax sit in each Process node's `metrics` list (writer); the raw rows
    # sum them over threads independently.
    frame = raw("685000")
    top = eq.get_procs("685000", order=eq.desc(eq.Process.rchar), limit=10, fmt="dict")
    assert [p["rchar"] for p in top] == sorted(frame["rchar"], reverse=True)[:10]
    assert top[0]["pid"] == frame.loc[frame["rchar"].idxmax(), "pid"]
    threshold = int(frame["rssmax"].quantile(0.9))
    big = eq.get_procs("685000", fltr=eq.Process.rssmax > threshold, fmt="pandas")
    assert sorted(big["pid"]) == sorted(frame[frame["rssmax"] > threshold]["pid"])
    orm = eq.get_procs("685000", fltr=eq.Process.rssmax > threshold, fmt="orm")
    assert orm.count() == len(big)
    read = eq.procs_histogram(["685000"], metric="rchar")
    assert read == dict(frame.groupby("exename")["rchar"].sum())


def test_a_process_node_keeps_its_metrics_in_the_order_its_job_names(
    loaded_graph: Graph,
) -> None:
    (record,) = loaded_graph.driver.execute_query(
        "MATCH (h:JobHead {jobid: $jobid}) "
        "MATCH (j:Job {jobid: h.jobid, version: h.version}) "
        "MATCH (p:Process {jobid: h.jobid, version: h.version, pid: $pid}) "
        "RETURN j.metric_names AS names, p.metrics AS metrics, p.rchar AS rchar",
        jobid="685000",
        pid=6098,
    ).records
    frame = raw("685000")
    (row,) = frame[frame["pid"] == 6098].to_dict("records")
    assert record["names"] == list(PROCESS_METRICS)
    assert record["rchar"] is None
    named = dict(zip(record["names"], record["metrics"], strict=True))
    assert (named["rchar"], named["rssmax"]) == (row["rchar"], row["rssmax"])
    assert named["usertime"] + named["systemtime"] == row["cpu_time"]


def test_ids_and_texts_filter_order_and_show_as_the_raw_rows(loaded_graph: Graph) -> None:
    """ppid, pgid, path and args (which a node could pack in lists, ``schema.PROCESS_PACKED``):
    filters, orders, records and histograms on them answer as the raw papiex rows say."""
    df = raw("685000")
    keys = {f"{r.host}:{r.pid}:{r.start}": r for r in df.itertuples()}
    seds = eq.get_procs(
        "685000",
        fltr=eq.Process.path.like("%/sed") & (eq.Process.args == "-e s/,/ /g"),
        fmt="dict",
    )
    wanted = df[(df.path == "/bin/sed") & (df.args == "-e s/,/ /g")]
    assert len(seds) == len(wanted) == 396
    assert {key(row) for row in seds} == set(
        wanted.host + ":" + wanted.pid.astype(str) + ":" + wanted.start.astype(str)
    )
    others = eq.get_procs(
        "685000", fltr=eq.Process.pgid != 6089, order=eq.desc(eq.Process.pgid), fmt="dict"
    )
    assert [p["pgid"] for p in others] == sorted(df.pgid[df.pgid != 6089], reverse=True)
    assert len(others) == 19
    for row in others + seds:
        raw_row = keys[key(row)]
        assert (row["ppid"], row["pgid"], row["path"], row["args"]) == (
            raw_row.ppid, raw_row.pgid, raw_row.path, raw_row.args,
        )  # fmt: skip
    by_ppid = eq.get_procs("685000", order=eq.Process.ppid, limit=3, fmt="orm")
    assert [p.ppid for p in by_ppid] == sorted(df.ppid)[:3]
    assert by_ppid[0].path == keys[key(by_ppid[0].to_dict())].path
    assert eq.get_procs("685000", fltr=eq.Process.args.like("%ESM4%"), fmt="orm").count() == (
        df.args.str.contains("ESM4", regex=False).sum()
    )
    assert eq.procs_histogram(["685000"], attr="path") == dict(df.path.value_counts())
