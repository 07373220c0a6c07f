"""Job queries (get_jobs, conv_jobs, get_job_tags, get_job_status, get_features, the orm
JobQuery) against EPMT 5.0.1's answers on the same archives (``fixtures/epmt/answers.json``).

EPMT's database also holds ``failed-exitcode``, which our loader refuses in the default time
zone (its naive times are Indian: read as US/Eastern, its process falls outside the job's
interval); answers over "every job" are compared on the jobs both databases hold, and its own
answers with it loaded as ``EPMT_TZ=Asia/Kolkata`` reads it. EPMT's ``created_at`` and
``updated_at`` (ingest bookkeeping) do not exist here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest
from conftest import counts
from constants import HOSTILE_VALUES
from epmt_answers import answers, plain, workbook
from oracle import SAMPLES

import epmt_graph.api as eq
from epmt_graph.db import Graph
from epmt_graph.errors import QueryError
from epmt_graph.loader import delete_job, load_job

Q = ["685000", "685003", "685016"]
#: EPMT's ingest bookkeeping columns: when this run loaded or changed a row, so their
#: values differ run to run (tests/test_api_records.py checks ours).
BOOKKEEPING = {"created_at", "updated_at"}


def both(ids: list[str]) -> list[str]:
    """The ids of jobs EPMT's database held, in order (to compare "every job" answers)."""
    epmt = set(answers()["loaded_jobs"])
    return [i for i in ids if i in epmt]


def loaded(ids: list[str]) -> list[str]:
    """EPMT's ids, without the one archive our loader refuses."""
    return [i for i in ids if i != "failed-exitcode"]


TERSE_CALLS: dict[str, Callable[[], list[str]]] = {
    "get_jobs('685016, 685000', fmt='terse')": lambda: eq.get_jobs("685016, 685000", fmt="terse"),
    "conv_jobs(['685000', '685003'], fmt='terse')": lambda: eq.conv_jobs(Q[:2], fmt="terse"),
    "get_jobs(get_jobs(query_jobs, fmt='orm'), fltr=(Job.exitcode != 0), fmt='terse')": (
        lambda: eq.get_jobs(eq.get_jobs(Q, fmt="orm"), fltr=eq.Job.exitcode != 0, fmt="terse")
    ),
    "get_jobs(query_jobs, fltr=(Job.jobid != '685000'), fmt='terse')": (
        lambda: eq.get_jobs(Q, fltr=eq.Job.jobid != "685000", fmt="terse")
    ),
    "get_jobs(query_jobs, order=desc(Job.duration), limit=1, fmt='terse')": (
        lambda: eq.get_jobs(Q, order=eq.desc(eq.Job.duration), limit=1, fmt="terse")
    ),
    "get_jobs(query_jobs, tags='exp_component:ocean_month_rho2_1x1deg', fmt='terse')": (
        lambda: eq.get_jobs(Q, tags="exp_component:ocean_month_rho2_1x1deg", fmt="terse")
    ),
    "get_jobs(query_jobs, tags=['ocn_res:0.5l75;exp_component:ocean_cobalt_fdet_100', "
    "'ocn_res:0.5l75;exp_component:ocean_annual_rho2_1x1deg'], fmt='terse')": lambda: eq.get_jobs(
        Q,
        tags=[
            "ocn_res:0.5l75;exp_component:ocean_cobalt_fdet_100",
            "ocn_res:0.5l75;exp_component:ocean_annual_rho2_1x1deg",
        ],
        fmt="terse",
    ),
    **{
        f"get_jobs(query_jobs, when='{w}', fmt='terse')": (
            lambda w=w: eq.get_jobs(Q, when=w, fmt="terse")  # type: ignore[misc]
        )
        for w in ("06/15/2019 07:00", "06/15/2019 08:00", "06/15/2019 09:00", "06/15/2019 10:00")
    },
    **{
        f"get_jobs(query_jobs, {side}={value!r}, fmt='terse')": (
            lambda side=side, value=value: eq.get_jobs(  # type: ignore[misc]
                Q, fmt="terse", **{side: value}
            )
        )
        for side in ("before", "after")
        for value in (0, -30, "06/15/2019 00:00")
    },
    "get_jobs(query_jobs, hosts='pp208', when='06/15/2019 08:00', fmt='terse')": (
        lambda: eq.get_jobs(Q, hosts="pp208", when="06/15/2019 08:00", fmt="terse")
    ),
    "get_jobs(query_jobs, hosts=['pp208', 'pp212'], fmt='terse')": (
        lambda: eq.get_jobs(Q, hosts=["pp208", "pp212"], fmt="terse")
    ),
    "get_jobs(query_jobs, hosts=['pp208', 'pp313', 'pp212'], fmt='terse')": (
        lambda: eq.get_jobs(Q, hosts=["pp208", "pp313", "pp212"], fmt="terse")
    ),
    "get_jobs(query_jobs, when='06/15/2019 08:00', hosts=['pp208', 'pp212'], fmt='terse')": (
        lambda: eq.get_jobs(Q, when="06/15/2019 08:00", hosts=["pp208", "pp212"], fmt="terse")
    ),
}

#: Answers over every loaded job: compared on the jobs both databases hold.
ALL_JOBS_CALLS: dict[str, Callable[[], list[str]]] = {
    "get_jobs(fmt='terse')": lambda: eq.get_jobs(fmt="terse"),
    "get_jobs(fltr=(Job.exitcode != 0), fmt='terse')": (
        lambda: eq.get_jobs(fltr=eq.Job.exitcode != 0, fmt="terse")
    ),
    "get_jobs(tags='exp_name:ESM4_historical_D151', fmt='terse')": (
        lambda: eq.get_jobs(tags="exp_name:ESM4_historical_D151", fmt="terse")
    ),
    "get_jobs(tags='exp_name:ESM4_historical_D151;exp_component:ocean_month_rho2_1x1deg', "
    "fmt='terse')": lambda: eq.get_jobs(
        tags="exp_name:ESM4_historical_D151;exp_component:ocean_month_rho2_1x1deg", fmt="terse"
    ),
}


@pytest.mark.parametrize("key", sorted(TERSE_CALLS))
def test_terse_answers_match_epmt(loaded_graph: Graph, key: str) -> None:
    assert TERSE_CALLS[key]() == workbook(key)


@pytest.mark.parametrize("key", sorted(ALL_JOBS_CALLS))
def test_answers_over_every_job_match_epmt(loaded_graph: Graph, key: str) -> None:
    assert both(ALL_JOBS_CALLS[key]()) == loaded(workbook(key))


def test_published_order_limit_offset(loaded_graph: Graph) -> None:
    got = eq.get_jobs(Q, order=eq.desc(eq.Job.start), limit=2, offset=1, fmt="terse")
    assert got == ["685003", "685000"]
    fact = "get_jobs(query_jobs, order=desc(Job.start), limit=2, offset=1, fmt='terse')"
    assert answers()["facts"][fact]["expected"] == got


@pytest.fixture
def failed_exitcode(loaded_graph: Graph, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """EPMT's ``failed-exitcode`` job, loaded in the zone it was recorded in; deleted after."""
    monkeypatch.setenv("EPMT_TZ", "Asia/Kolkata")
    result = load_job(SAMPLES / "misc/failed-exitcode.tgz", graph=loaded_graph)
    yield result.jobid
    delete_job(loaded_graph, result.jobid)


@pytest.mark.parametrize("jobid", sorted(answers()["jobs"]))
def test_dict_rows_match_epmt(
    request: pytest.FixtureRequest, loaded_graph: Graph, jobid: str
) -> None:
    if jobid == "failed-exitcode":  # not among the shared jobs: loaded for this test only
        assert request.getfixturevalue("failed_exitcode") == jobid
    expected = answers()["jobs"][jobid]
    (row,) = eq.get_jobs(jobid, fmt="dict")
    want = {k: v for k, v in expected["get_jobs_dict"].items() if k not in BOOKKEEPING}
    assert set(row) >= BOOKKEEPING
    assert plain({k: v for k, v in row.items() if k not in BOOKKEEPING}) == want
    assert eq.get_job_status(jobid) == expected["get_job_status"]
    assert plain(eq.get_job_tags(jobid)) == expected["get_job_tags"]
    assert eq.get_job_tags(jobid, fold=False) == expected["get_job_tags_fold_false"]


def test_dict_order_and_pandas_columns(loaded_graph: Graph) -> None:
    rows = eq.get_jobs(Q, order=eq.desc(eq.Job.duration), fmt="dict")
    assert [[r["jobid"], r["duration"], r["exitcode"]] for r in rows] == workbook(
        "get_jobs(query_jobs, order=desc(Job.duration), fmt='dict') [jobid, duration, exitcode]"
    )
    frame = eq.conv_jobs(Q, fmt="pandas")
    columns, nrows = workbook("conv_jobs(query_jobs, fmt='pandas') [sorted columns, rows]")
    assert isinstance(frame, pd.DataFrame)
    assert sorted(frame.columns) == columns
    assert len(frame) == nrows
    assert "proc_sums" not in frame.columns
    assert eq.get_features(Q) == workbook("get_features(query_jobs)")


def test_job_tags_match_epmt(loaded_graph: Graph) -> None:
    assert plain(eq.get_job_tags(Q)) == workbook("get_job_tags(query_jobs)")
    assert eq.get_job_tags(Q, fold=False) == workbook("get_job_tags(query_jobs, fold=False)")
    key = "get_job_tags(query_jobs, tag_filter='exp_name:ESM4_historical_D151;exp_time:18840101')"
    got = eq.get_job_tags(Q, tag_filter="exp_name:ESM4_historical_D151;exp_time:18840101")
    assert plain(got) == workbook(key)
    orm = eq.get_jobs(tags="exp_name:ESM4_historical_D151", fmt="orm")
    expected = workbook("get_job_tags(get_jobs(tags='exp_name:ESM4_historical_D151', fmt='orm'))")
    assert plain(eq.get_job_tags(orm)) == expected
    pairs = "[(j.jobid, j.tags) for j in get_jobs(tags='exp_name:ESM4_historical_D151', fmt='orm')]"
    assert [[j.jobid, j.tags] for j in orm] == loaded(workbook(pairs))


def test_orm_is_lazy_and_fetches_only_what_is_asked(
    loaded_graph: Graph, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    read = loaded_graph.read

    def recording(name: str, **params: Any) -> Any:
        calls.append((name, params))
        return read(name, **params)

    monkeypatch.setattr(loaded_graph, "read", recording)
    query = eq.get_jobs(Q, fmt="orm")
    assert isinstance(query, eq.JobQuery) and calls == []
    assert query.count() == workbook("get_jobs(query_jobs, fmt='orm').count()")
    assert [name for name, _ in calls] == ["jobs-count"]
    first = query.first()
    assert calls[-1][0] == "jobs" and calls[-1][1]["limit"] == 1
    assert first is not None
    key = "get_jobs('685000', fmt='orm').first() [duration, cpu_time, exitcode, tags]"
    assert [first.duration, first.cpu_time, first.exitcode, first.tags] == workbook(key)
    assert sorted(first.proc_sums) == workbook(
        "sorted(get_jobs(query_jobs, fmt='orm').first().proc_sums.keys())"
    )
    assert [j.jobid for j in query[1:3]] == ["685003", "685016"]
    assert calls[-1][1]["skip"] == 1 and calls[-1][1]["limit"] == 2
    assert query[2].jobid == "685016"
    with pytest.raises(IndexError):
        query[3]


def test_orm_queries_are_immutable_and_usable_as_jobs(loaded_graph: Graph) -> None:
    query = eq.get_jobs(Q, fmt="orm")
    newest = query.order_by(eq.desc(eq.Job.start))
    failed = query.filter(eq.Job.exitcode != 0)
    assert [j.jobid for j in query] == Q
    assert [j.jobid for j in newest] == Q[::-1]
    assert failed.count() == 0 and query.count() == 3
    assert sum(j.cpu_time for j in query) == workbook(
        "sum(j.cpu_time for j in get_jobs(query_jobs, fmt='orm'))"
    )
    assert sum(j.duration for j in query) == workbook(
        "sum(j.duration for j in get_jobs(query_jobs, fmt='orm'))"
    )
    record = query.first()
    key = "sorted(get_jobs(get_jobs(query_jobs, fmt='orm').first(), fmt='pandas').columns)"
    assert sorted(eq.get_jobs(record, fmt="pandas").columns) == workbook(key)
    assert eq.get_jobs(newest[:2], fmt="terse") == ["685003", "685016"]
    assert eq.get_procs(query, fmt="orm").count() == sum(j.num_procs for j in query)
    assert eq.get_jobs(query, when=record, fmt="terse") == Q


def test_jobs_in_every_form(loaded_graph: Graph) -> None:
    frame = eq.get_jobs(Q, fmt="pandas")
    for jobs in (
        Q,
        tuple(Q),
        set(Q),
        ",".join(Q),
        frame,
        eq.get_jobs(Q),
        eq.get_jobs(Q, fmt="orm"),
    ):
        assert eq.get_jobs(jobs, fmt="terse") == Q
    assert eq.get_jobs([eq.get_jobs("685003", fmt="orm").first(), 685000], fmt="terse") == Q[:2]
    assert eq.get_jobs(eq.get_procs("685016", fmt="orm"), fmt="terse") == ["685016"]
    assert eq.get_jobs(frame[:0], fmt="terse") == []
    assert len(eq.get_jobs(None, fmt="terse")) == len(eq.get_jobs([], fmt="terse")) > 3


def test_tags_exactly_as_epmt(loaded_graph: Graph) -> None:
    tags = eq.get_job_tags("685016")
    assert eq.get_jobs(Q, tags=tags, exact_tag_only=True, fmt="terse") == ["685016"]
    assert eq.get_jobs(Q, tags={"exp_time": 18840101}, fmt="terse") == Q
    assert eq.get_jobs(Q, tags={"exp_time": 18840101}, exact_tag_only=True, fmt="terse") == []
    assert eq.get_jobs(Q, tags="", fmt="terse") == eq.get_jobs(Q, tags={}, fmt="terse") == []
    untagged = eq.get_jobs(tags="", fmt="terse")
    assert untagged and all(eq.get_job_tags(j) == {} for j in untagged)
    assert eq.get_jobs(Q, tags=[], fmt="terse") == Q


def test_time_windows(loaded_graph: Graph) -> None:
    start = eq.get_jobs("685000", fmt="orm").first().start  # naive, in the job's zone
    assert eq.get_jobs(Q, when=start, fmt="terse") == ["685000"]
    aware = start.replace(tzinfo=dt.timezone(dt.timedelta(hours=-4)))  # EDT
    assert eq.get_jobs(Q, when=aware, fmt="terse") == ["685000"]
    epoch = int(aware.timestamp())  # whole seconds, as EPMT reads a timestamp
    assert eq.get_jobs(Q, after=epoch, fmt="terse") == Q
    assert eq.get_jobs(Q, after=epoch + 1, fmt="terse") == ["685003", "685016"]
    assert eq.get_jobs(Q, after=start, before=dt.datetime(2019, 6, 15, 9, 43), fmt="terse") == [
        "685000",
        "685003",
    ]


def test_bad_arguments_are_clear_errors(loaded_graph: Graph) -> None:
    with pytest.raises(QueryError, match="string filters are not supported"):
        eq.get_jobs(Q, fltr="j.duration > 5")
    with pytest.raises(AttributeError):
        _ = eq.Job.no_such_field  # type: ignore[attr-defined]
    with pytest.raises(QueryError, match="'mm/dd/YYYY HH:MM'"):
        eq.get_jobs(Q, before="yesterday")
    with pytest.raises(QueryError, match="limit must be a non-negative integer"):
        eq.get_jobs(Q, limit=-1)
    with pytest.raises(QueryError, match="fmt must be one of"):
        eq.get_jobs(Q, fmt="xml")
    with pytest.raises(QueryError, match="non-empty collection"):
        eq.conv_jobs([])
    with pytest.raises(QueryError, match="not loaded"):
        eq.get_job_status("no-such-job")
    with pytest.raises(QueryError, match="expected one job"):
        eq.get_job_status(Q)
    with pytest.raises(QueryError, match="no such job"):
        eq.get_jobs(Q, when=eq.Job({"jobid": "no-such-job"}, loaded_graph), fmt="terse")


def test_hostile_values_are_only_data(loaded_graph: Graph) -> None:
    before = counts(loaded_graph)
    for value in HOSTILE_VALUES:
        assert eq.get_jobs(value, fmt="terse") == []
        assert eq.get_jobs([value, "685000"], fmt="terse") == ["685000"]
        assert eq.get_jobs(Q, tags={value: value}, fmt="terse") == []
        assert eq.get_jobs(Q, tags=f"exp_name:{value}", exact_tag_only=True, fmt="terse") == []
        assert eq.get_jobs(Q, hosts=[value], fmt="terse") == []
        assert eq.get_jobs(Q, fltr=eq.Job.jobname == value, fmt="terse") == []
        assert eq.get_jobs(Q, fltr=eq.Job.jobname.like(f"%{value}%"), fmt="terse") == []
        everyone = eq.get_jobs(Q, fmt="terse")
        assert eq.get_jobs(Q, fltr=~eq.Job.jobid.like(value), fmt="terse") == everyone
        assert eq.get_jobs(Q, annotations={value: value}, fmt="terse") == []
        assert eq.get_job_tags(Q, tag_filter={value: "1"}) == {}
    assert counts(loaded_graph) == before
