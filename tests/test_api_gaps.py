"""The rest of EPMT's API (issue 16): ``version``, the keywords EPMT takes that we refused
(``merge_proc_sums``, ``merge_threads_sums``, ``merge_sums``, ``trigger_post_process``),
``procs_set``, ``add_features_df``, ``get_job_proc_tags``, the error types EPMT users catch,
EPMT's empty job lists, and naive datetimes in ``fltr``: each checked against the answers
of EPMT 5.0.1 itself on the query jobs (``fixtures/epmt/api_gaps.json``, recorded by
``benchmarks/epmt_ref/answers.py --only api_gaps``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import free_port
from epmt_answers import EASTERN, key, plain
from injection_support import snapshot
from oracle import SAMPLES, raw_processes

import epmt_graph.api as eq
from epmt_graph.config import Connection
from epmt_graph.db import Graph
from epmt_graph.errors import (
    NotFoundError,
    QueryError,
    ServerUnavailableError,
    UnknownJobError,
    UnknownProcessError,
)

FIXTURE = Path(__file__).parent / "fixtures" / "epmt" / "api_gaps.json"
Q = ["685000", "685003", "685016"]
#: Row fields whose values are when the row was loaded or changed: compared by presence.
STAMPS = {"created_at", "updated_at"}


@cache
def epmt() -> dict[str, Any]:
    """EPMT's answers for this section."""
    return dict(json.loads(FIXTURE.read_text()))


def without_stamps(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in STAMPS}


# --- version ------------------------------------------------------------------------------


def test_version_is_the_epmt_api_it_provides() -> None:
    assert eq.version() == tuple(epmt()["version()"]) == (5, 0, 1)


# --- the keywords -------------------------------------------------------------------------


def test_get_jobs_merge_proc_sums_false_keeps_the_sums_nested_as_epmt(
    loaded_graph: Graph,
) -> None:
    expected = [without_stamps(j) for j in epmt()["get_jobs(query_jobs, merge_proc_sums=False)"]]
    ours = [without_stamps(j) for j in plain(eq.get_jobs(Q, merge_proc_sums=False))]
    assert [j["jobid"] for j in ours] == [j["jobid"] for j in expected] == Q
    assert ours == expected
    assert ours[0]["proc_sums"]["num_procs"] == len(raw_processes(SAMPLES / "query/685000.tgz"))
    columns = epmt()["get_jobs(query_jobs, fmt='pandas', merge_proc_sums=False) columns"]
    frame = eq.get_jobs(Q, fmt="pandas", merge_proc_sums=False)
    assert sorted(frame.columns) == sorted(columns)


def test_merge_proc_sums_true_is_the_default_and_lifts_the_sums(loaded_graph: Graph) -> None:
    nested = eq.get_jobs(Q, merge_proc_sums=False)
    lifted = eq.get_jobs(Q)
    for n, flat in zip(nested, lifted, strict=True):
        assert "proc_sums" not in flat
        assert flat == {**{k: v for k, v in n.items() if k != "proc_sums"}, **n["proc_sums"]}


def test_conv_jobs_merge_sums_and_trigger_post_process(loaded_graph: Graph) -> None:
    key_ = "conv_jobs(query_jobs, merge_sums=False, trigger_post_process=False)"
    expected = [without_stamps(j) for j in epmt()[key_]]
    ours = plain(eq.conv_jobs(Q, merge_sums=False, trigger_post_process=False))
    assert [without_stamps(j) for j in ours] == expected
    assert (
        eq.get_jobs(Q, fmt="terse", trigger_post_process=False)
        == epmt()["get_jobs(query_jobs, fmt='terse', trigger_post_process=False)"]
    )
    for fmt in ("terse", "orm"):  # ignored there, as in EPMT
        a, b = eq.conv_jobs(Q, fmt=fmt, merge_sums=False), eq.conv_jobs(Q, fmt=fmt)
        assert (a == b) if fmt == "terse" else (a.jobids() == b.jobids())


def test_get_procs_merge_threads_sums_false_nests_the_thread_sums_as_epmt(
    loaded_graph: Graph,
) -> None:
    expected = epmt()["get_procs(query_jobs, merge_threads_sums=False, limit=20)"]
    ours = eq.get_procs(Q, merge_threads_sums=False, limit=20)
    assert [key(p) for p in ours] == [p["key"] for p in expected]
    for mine, theirs in zip(ours, expected, strict=True):
        assert set(mine) == set(theirs) - {"key"}
        assert mine["threads_sums"] == theirs["threads_sums"]
        same = ("pid", "ppid", "exename", "args", "host", "job", "jobid", "depth", "start", "end")
        assert plain({k: mine[k] for k in same}) == {k: theirs[k] for k in same}
        for column in ("duration", "cpu_time", "inclusive_cpu_time"):  # EPMT's are floats
            assert mine[column] == pytest.approx(theirs[column], abs=1e-6)
    columns = epmt()[
        "get_procs(query_jobs, fmt='pandas', merge_threads_sums=False, limit=3) columns"
    ]
    frame = eq.get_procs(Q, fmt="pandas", merge_threads_sums=False, limit=3)
    assert sorted(frame.columns) == sorted(columns)
    merged = eq.get_procs(Q, limit=20)
    for flat, nested in zip(merged, ours, strict=True):
        assert flat == {
            **{k: v for k, v in nested.items() if k != "threads_sums"},
            **nested["threads_sums"],
        }


# --- the small calls ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "run"),
    [
        ("procs_set('685000')", lambda: eq.procs_set("685000")),
        ("procs_set(query_jobs)", lambda: eq.procs_set(Q)),
        ("procs_set(query_jobs, attr='host_id')", lambda: eq.procs_set(Q, attr="host_id")),
        ("procs_set('685016', attr='numtids')", lambda: eq.procs_set("685016", attr="numtids")),
    ],
)
def test_procs_set_matches_epmt(loaded_graph: Graph, call: str, run: Callable[[], Any]) -> None:
    assert run() == epmt()[call]


def test_procs_set_is_the_sorted_distinct_values_of_the_raw_rows(loaded_graph: Graph) -> None:
    raw = raw_processes(SAMPLES / "query/685000.tgz")
    assert eq.procs_set("685000") == sorted(set(raw["exename"]))


def test_add_features_df_matches_epmt_and_leaves_its_input_alone(loaded_graph: Graph) -> None:
    jobs = eq.get_jobs(Q, fmt="pandas")
    before = jobs.copy()
    frame, added = eq.add_features_df(jobs)
    expected = epmt()["add_features_df(get_jobs(query_jobs, fmt='pandas'))"]
    assert added == expected["added"] == ["procs_histogram", "procs_set"]
    assert plain(frame[["jobid", *added]]) == expected["rows"]
    assert len(frame.columns) - len(jobs.columns) == expected["columns_added"]
    pd.testing.assert_frame_equal(jobs, before)
    assert list(frame.columns[: len(jobs.columns)]) == list(jobs.columns)
    frame, added = eq.add_features_df(jobs, features=[eq.procs_set])
    expected = epmt()["add_features_df(get_jobs(query_jobs, fmt='pandas'), features=[procs_set])"]
    assert (added, plain(frame[["jobid", *added]])) == (expected["added"], expected["rows"])


def test_add_features_df_takes_any_callable_and_key(loaded_graph: Graph) -> None:
    def pid_count(jobid: str) -> int:
        return len(eq.get_procs(jobid, fmt="terse"))

    jobs = eq.get_jobs(Q, fmt="pandas").rename(columns={"jobid": "job"})
    frame, added = eq.add_features_df(jobs, features=[pid_count], key="job")
    assert added == ["pid_count"]
    assert list(frame["pid_count"]) == [len(raw_processes(SAMPLES / f"query/{j}.tgz")) for j in Q]
    empty, added = eq.add_features_df(jobs.iloc[:0], key="job")
    assert empty.empty and added == ["procs_histogram", "procs_set"]


def test_get_job_proc_tags_is_job_proc_tags(loaded_graph: Graph) -> None:
    assert eq.get_job_proc_tags is eq.job_proc_tags
    assert eq.get_job_proc_tags(Q) == epmt()["get_job_proc_tags(query_jobs)"]
    folded = eq.get_job_proc_tags(Q, fold=True)
    expected = epmt()["get_job_proc_tags(query_jobs, fold=True)"]
    assert {k: sorted(v) if isinstance(v, list) else v for k, v in folded.items()} == {
        k: sorted(v) if isinstance(v, list) else v for k, v in expected.items()
    }


# --- errors -------------------------------------------------------------------------------

#: Our side of each call that fails in EPMT (the fixture's ``errors``), by the same text.
ERRORS: dict[str, Callable[[], Any]] = {
    "root('nope')": lambda: eq.root("nope"),
    "get_roots('nope')": lambda: eq.get_roots("nope"),
    "get_roots(['nope'])": lambda: eq.get_roots(["nope"]),
    "get_procs('nope')": lambda: eq.get_procs("nope"),
    "get_procs(['685000', 'nope'])": lambda: eq.get_procs(["685000", "nope"]),
    "get_procs('nope', fmt='orm')": lambda: eq.get_procs("nope", fmt="orm"),
    "timeline('nope')": lambda: eq.timeline("nope"),
    "procs_histogram('nope')": lambda: eq.procs_histogram("nope"),
    "procs_set('nope')": lambda: eq.procs_set("nope"),
    "annotate_job('nope', {'a': 1})": lambda: eq.annotate_job("nope", {"a": 1}),
    "remove_job_annotations('nope')": lambda: eq.remove_job_annotations("nope"),
    "get_job_annotations('nope')": lambda: eq.get_job_annotations("nope"),
    "get_job_analyses('nope')": lambda: eq.get_job_analyses("nope"),
    "set_job_analyses('nope', {'a': 1})": lambda: eq.set_job_analyses("nope", {"a": 1}),
    "remove_job_analyses('nope')": lambda: eq.remove_job_analyses("nope"),
    "get_job_status('nope')": lambda: eq.get_job_status("nope"),
    "get_ops('nope', 'op:cp')": lambda: eq.get_ops("nope", "op:cp"),
    "get_ops([], 'op:cp')": lambda: eq.get_ops([], "op:cp"),
    "op_roots([], 'op:cp')": lambda: eq.op_roots([], "op:cp"),
    "get_op_metrics([])": lambda: eq.get_op_metrics([]),
    "conv_jobs([])": lambda: eq.conv_jobs([]),
    "conv_procs([])": lambda: eq.conv_procs([]),
    "job_proc_tags([])": lambda: eq.job_proc_tags([]),
    "get_job_proc_tags([])": lambda: eq.get_job_proc_tags([]),
    "rank_proc_tags_keys([])": lambda: eq.rank_proc_tags_keys([]),
    "get_op_metrics('685000', op_duration_method='x')": lambda: eq.get_op_metrics(
        "685000", op_duration_method="x"
    ),
    "ops_costs('685000', metric='x')": lambda: eq.ops_costs("685000", metric="x"),
    "add_features_df(<frame without jobid>)": lambda: eq.add_features_df(
        eq.get_jobs(["685000"], fmt="pandas").drop(columns=["jobid"])
    ),
}


def test_every_failing_epmt_call_is_checked() -> None:
    assert set(ERRORS) == set(epmt()["errors"])


@pytest.mark.parametrize("call", sorted(ERRORS))
def test_errors_are_the_builtins_epmt_raises(loaded_graph: Graph, call: str) -> None:
    """Where EPMT raises KeyError ours is also one, where ValueError also one; where EPMT
    fails on None (an AttributeError) for an unknown job, ours is an UnknownJobError (both).
    Nothing is changed."""
    theirs = epmt()["errors"][call]
    before = snapshot(loaded_graph)
    with pytest.raises(QueryError) as info:
        ERRORS[call]()
    assert snapshot(loaded_graph) == before
    error = info.value
    assert isinstance(error, ValueError)  # every QueryError is one
    if theirs["is_key_error"]:
        assert isinstance(error, KeyError), theirs
    if theirs["error"].startswith("AttributeError") or "nope" in theirs["error"]:
        assert isinstance(error, UnknownJobError), theirs
        assert str(error) == "job 'nope' is not loaded"  # not quoted, as a KeyError's would be
    elif theirs["is_key_error"]:
        assert isinstance(error, NotFoundError) and str(error) == "jobs_df has no column 'jobid'"
    else:
        assert theirs["is_value_error"] and not isinstance(error, KeyError), theirs


def test_an_unknown_job_among_known_ones_is_named(loaded_graph: Graph) -> None:
    with pytest.raises(KeyError, match=r"^jobs 'nope', 'gone' are not loaded$"):
        eq.get_procs(["685000", "nope", "gone"], fmt="orm")
    with pytest.raises(UnknownProcessError, match="no process with id '685000:999999'"):
        eq.get_thread_metrics("685000:999999")


#: Our side of each call that answers quietly in EPMT for an unknown job.
QUIET: dict[str, Callable[[], Any]] = {
    "get_jobs('nope')": lambda: eq.get_jobs("nope"),
    "conv_jobs(['nope'])": lambda: eq.conv_jobs(["nope"]),
    "op_roots('nope', 'op:cp')": lambda: eq.op_roots("nope", "op:cp"),
    "get_op_metrics('nope')": lambda: eq.get_op_metrics("nope"),
    "job_proc_tags('nope')": lambda: eq.job_proc_tags("nope"),
    "get_job_tags('nope')": lambda: eq.get_job_tags("nope"),
    "rank_proc_tags_keys('nope')": lambda: eq.rank_proc_tags_keys("nope"),
    "get_features('nope')": lambda: eq.get_features("nope"),
    "compute_process_trees(['nope'])": lambda: eq.compute_process_trees(["nope"]),
    "delete_jobs('nope')": lambda: eq.delete_jobs("nope"),
}


@pytest.mark.parametrize("call", sorted(QUIET))
def test_unknown_jobs_answer_quietly_where_epmt_does(loaded_graph: Graph, call: str) -> None:
    assert set(QUIET) == set(epmt()["quiet"])
    theirs = epmt()["quiet"][call]
    ours = QUIET[call]()
    if call.startswith("compute_process_trees"):  # ours lists the jobs it computed; EPMT: None
        assert (ours, theirs) == ([], None)
    else:
        assert plain(ours) == theirs


def test_string_filters_are_value_errors(loaded_graph: Graph) -> None:
    for call in (eq.get_procs, eq.get_jobs, eq.timeline):
        with pytest.raises(ValueError, match="string filters are not supported"):
            call(Q, fltr="duration > 5")


# --- empty job lists ----------------------------------------------------------------------


def test_get_roots_of_no_jobs_are_every_jobs_roots_as_epmt(loaded_graph: Graph) -> None:
    everything = eq.get_roots([])
    assert eq.get_roots(None) == everything
    ours = sorted(key(p) for p in everything if p["jobid"] in Q)
    assert ours == epmt()["get_roots([])"]
    assert {p["jobid"] for p in everything} == set(eq.get_jobs(fmt="terse"))
    assert len(everything) == sum(
        len(eq.get_roots(j, fmt="terse")) for j in eq.get_jobs(fmt="terse")
    )


def test_compute_process_trees_of_no_jobs_covers_every_job(loaded_graph: Graph) -> None:
    assert epmt()["compute_process_trees([])"] is None
    before = snapshot(loaded_graph)
    assert eq.compute_process_trees([]) == []  # every loaded job's tree is already there
    assert snapshot(loaded_graph) == before


# --- naive datetimes in fltr --------------------------------------------------------------


def _naive() -> dict[str, Any]:
    return dict(epmt()["naive_datetimes"])


def _at(hour: int, minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(2019, 6, 15, hour, minute, second)


def test_naive_datetimes_in_process_filters_are_read_in_the_jobs_zone(
    loaded_graph: Graph,
) -> None:
    starts = [dt.datetime.fromisoformat(s) for s in _naive()["root starts"]]
    P = eq.Process
    filters = {
        "start > 08:30 & start < 08:31": (P.start > _at(8, 30)) & (P.start < _at(8, 31)),
        "end <= 07:52:05": P.end <= _at(7, 52, 5),
        "start == root start of 685000": P.start == starts[0],
        "start in root starts": P.start.in_(starts),
    }
    for name, fltr in filters.items():
        expected = _naive()[f"get_procs(query_jobs, fltr={name})"]
        assert expected, name
        assert sorted(key(p) for p in eq.get_procs(Q, fltr=fltr)) == expected, name
    after_nine = eq.get_procs(Q, fltr=P.start > _at(9, 0), fmt="orm").count()
    assert after_nine == _naive()["get_procs(query_jobs, fltr=start > 09:00).count()"]
    assert after_nine < eq.get_procs(Q, fmt="orm").count()  # as UTC, every process would match
    aware = _at(9, 0).replace(tzinfo=EASTERN).astimezone(dt.UTC)
    assert eq.get_procs(Q, fltr=P.start > aware, fmt="orm").count() == after_nine


def test_naive_datetimes_in_job_filters_are_read_in_the_jobs_zone(loaded_graph: Graph) -> None:
    J = eq.Job
    late = eq.get_jobs(Q, fltr=J.start > _at(7, 52, 30), fmt="terse")
    assert late == _naive()["get_jobs(query_jobs, fltr=Job.start > 07:52:30, fmt='terse')"]
    early = eq.get_jobs(Q, fltr=J.end < _at(9, 40), fmt="terse")
    assert early == _naive()["get_jobs(query_jobs, fltr=Job.end < 09:40, fmt='terse')"]
    assert eq.get_jobs(Q, fltr=J.end < _at(9, 40), fmt="orm").count() == 1


def test_naive_datetimes_over_jobs_of_several_zones(loaded_graph: Graph) -> None:
    """Over every loaded job (the sample jobs have more than one zone), a naive bound
    selects in each job what it selects in that job alone."""
    everyone = eq.get_jobs(fmt="terse")
    assert len(loaded_graph.read("jobs-zones")) > 1
    bound = eq.Process.start > _at(9, 0)
    per_job = sum(eq.get_procs(j, fltr=bound, fmt="orm").count() for j in everyone)
    assert eq.get_procs(None, fltr=bound, fmt="orm").count() == per_job
    jobs_after = [j for j in everyone if eq.get_jobs(j, fltr=eq.Job.start > _at(9, 0), fmt="terse")]
    assert eq.get_jobs(fltr=eq.Job.start > _at(9, 0), fmt="terse") == jobs_after


# --- a server that is down ----------------------------------------------------------------


@pytest.fixture
def nowhere() -> Iterator[Graph]:
    with Graph(Connection(f"bolt://127.0.0.1:{free_port()}")) as handle:
        yield handle


TOUCHED: dict[str, Callable[[Graph], Any]] = {
    "procs_set": lambda g: eq.procs_set(Q, graph=g),
    "add_features_df": lambda g: eq.add_features_df(pd.DataFrame({"jobid": Q}), graph=g),
    "get_job_proc_tags": lambda g: eq.get_job_proc_tags(Q, graph=g),
    "get_procs": lambda g: eq.get_procs(Q, merge_threads_sums=False, graph=g),
    "get_jobs": lambda g: eq.get_jobs(
        Q, merge_proc_sums=False, fltr=eq.Job.start > _at(9, 0), graph=g
    ),
    "conv_jobs": lambda g: eq.conv_jobs(Q, merge_sums=False, graph=g),
    "get_roots": lambda g: eq.get_roots([], graph=g),
    "root": lambda g: eq.root("685000", graph=g),
    "compute_process_trees": lambda g: eq.compute_process_trees([], graph=g),
    "get_thread_metrics": lambda g: eq.get_thread_metrics("685000:0", graph=g),
    "get_job_status": lambda g: eq.get_job_status("685000", graph=g),
}


@pytest.mark.parametrize("name", sorted(TOUCHED))
def test_a_server_that_is_down_is_one_clear_error(nowhere: Graph, name: str) -> None:
    with pytest.raises(ServerUnavailableError) as info:
        TOUCHED[name](nowhere)
    assert f"cannot reach Neo4j at {nowhere.connection.uri} " in str(info.value)
