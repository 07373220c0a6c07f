"""Records you can change (issue 16): ``j.tags = ...``, ``p.start = ...``, ``orm_commit()``,
``tag_job``, ``verify_jobs``, ``created_at``/``updated_at``, against EPMT 5.0.1's answers
(``fixtures/epmt/records.json``, recorded by ``benchmarks/epmt_ref/answers.py --only
records``). Every change is made on copies of the sample jobs under other ids; the shared
sample jobs are only read.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from conftest import Copier, counts, sample
from epmt_answers import key

import epmt_graph.api as eq
from epmt_graph import compat
from epmt_graph.api import changes
from epmt_graph.db import Graph
from epmt_graph.errors import CommitError, FieldError, FieldTypeError, UnknownJobError
from epmt_graph.loader import delete_job
from epmt_graph.store import edits

FIXTURE = Path(__file__).parent / "fixtures" / "epmt" / "records.json"
Q = ["685000", "685003", "685016"]


@cache
def epmt() -> dict[str, Any]:
    """EPMT's answers for this section."""
    return dict(json.loads(FIXTURE.read_text()))


@pytest.fixture(autouse=True)
def _no_pending_changes(loaded_graph: Graph) -> Iterator[None]:
    """Pending record changes a test leaves are dropped after it."""
    yield
    changes.discard(loaded_graph)


def keyed(errors: dict[str, list[str]], jobid: str, keys: dict[str, str]) -> list[str]:
    """Our verify_jobs errors of ``jobid`` with processes named by EPMT's key, sorted."""
    return sorted(
        re.sub(r"Process\[([^\]]+)\]", lambda m: f"Process[{keys[m[1]]}]", e) for e in errors[jobid]
    )


def process_keys(jobid: str) -> dict[str, str]:
    return {p["id"]: key(p) for p in eq.get_procs(jobid, fmt="dict")}


# --- columns and stamps --------------------------------------------------------------------


def test_columns_and_features_are_epmts(loaded_graph: Graph) -> None:
    jobs = eq.get_jobs(Q, fmt="pandas")
    procs = eq.get_procs(Q, fmt="pandas", limit=10)
    assert jobs.shape == (3, 44) and procs.shape == (10, 50)
    assert sorted(jobs.columns) == epmt()["get_jobs(query_jobs, fmt='pandas') columns"]
    assert sorted(procs.columns) == epmt()["get_procs(query_jobs, fmt='pandas', limit=10) columns"]
    assert eq.get_features(Q) == epmt()["get_features(query_jobs)"]


def test_stamps_are_datetimes_of_the_load(loaded_graph: Graph) -> None:
    assert epmt()["stamps: get_jobs(query_jobs, fmt='dict')"][0] == {
        "created_at": "datetime",
        "updated_at": "datetime",
    }
    for row in [*eq.get_jobs(Q, fmt="dict"), *eq.get_procs(Q, fmt="dict", limit=3)]:
        assert isinstance(row["created_at"], dt.datetime) and row["created_at"].tzinfo is None
        assert row["updated_at"] == row["created_at"]  # never changed
        assert dt.datetime(2020, 1, 1) < row["created_at"] < dt.datetime.now() + dt.timedelta(1)


# --- changes --------------------------------------------------------------------------------


def test_empty_job_tag_as_epmts_test_job_advanced(copy_job: Copier) -> None:
    job = copy_job("query/685016.tgz", "t-rec-tags")
    j = compat.orm_get(compat.Job, job)
    saved = j.tags
    j.tags = {}
    assert changes.pending() == {job: {job: ["tags"]}}
    assert compat.orm_commit() == {job: {job: ["tags"]}}
    assert epmt()["j.tags = {}: get_jobs(query_jobs, tags='', fmt='terse')"] == ["685016"]
    assert eq.get_jobs([*Q, job], tags="", fmt="terse") == [job]
    assert eq.get_jobs([*Q, job], tags={}, fmt="terse") == [job]
    assert j.tags == {} and eq.Job[job].tags == {}
    j.tags = saved
    compat.orm_commit()
    assert eq.Job[job].tags == saved == epmt()["Job['685016'].tags"]
    assert eq.get_jobs([*Q, job], tags="", fmt="terse") == []


def test_empty_process_tag_as_epmts_test_procs_advanced(copy_job: Copier) -> None:
    job = copy_job("query/685000.tgz", "t-rec-ptags")
    before = len(eq.get_procs(job, tags={}, fmt="terse"))
    p = eq.get_procs(job, tags="op_sequence:1", limit=1, fmt="orm")[0]
    assert key(p.to_dict()) == epmt()["get_procs(tags='op_sequence:1', limit=1)[0]"]
    p.tags = {}
    eq.orm_commit()
    assert len(eq.get_procs(job, tags={}, fmt="terse")) == before + 1
    (row,) = eq.get_procs(job, fltr=eq.Process.id == p.id, fmt="dict")
    assert row["tags"] == {} and row["updated_at"] > row["created_at"]
    others = eq.get_procs(job, fltr=eq.Process.id != p.id, fmt="dict", limit=5)
    assert all(o["updated_at"] == o["created_at"] == row["created_at"] for o in others)


def test_tag_job_as_epmt(copy_job: Copier) -> None:
    job = copy_job("query/685016.tgz", "t-rec-tag-job")
    want = epmt()
    first = eq.Job[job].tags
    created = eq.get_jobs(job, fmt="dict")[0]["created_at"]
    assert (
        eq.tag_job(job, "color:red;size:2")
        == want["tag_job('685016', 'color:red;size:2')"]["answer"]
    )
    assert eq.Job[job].tags == want["Job['685016'].tags #2"]
    assert eq.get_jobs([*Q, job], tags="color:red", fmt="terse") == [job]
    # EPMT keeps a dict's values as given (3); ours are strings, as every stored tag
    merged = want["tag_job('685016', {'size': 3})"]["answer"]
    assert eq.tag_job(job, {"size": 3}) == {**merged, "size": "3"}
    assert (
        eq.tag_job(job, "only:1", replace=True)
        == want["tag_job('685016', 'only:1', replace=True)"]["answer"]
    )
    assert eq.Job[job].tags == want["Job['685016'].tags #3"]
    (row,) = eq.get_jobs(job, fmt="dict")
    assert row["created_at"] == created < row["updated_at"]
    assert want["tag_job('nope', 'a:1')"] == {"error": "KeyError: 'Job[nope] could not be found'"}
    with pytest.raises(KeyError, match=r"Job\[nope\] could not be found") as raised:
        eq.tag_job("nope", "a:1")
    assert isinstance(raised.value, UnknownJobError)
    eq.tag_job(job, first, replace=True)
    assert eq.Job[job].tags == first


def test_times_and_metrics_are_written_where_they_are_stored(copy_job: Copier) -> None:
    job = copy_job("query/685003.tgz", "t-rec-values")
    p = eq.Process[f"{job}:5"]
    old = p.to_dict()
    p.start = dt.datetime(2019, 6, 15, 8, 0, 1)  # naive: the job's zone (US/Eastern)
    p.usertime = 12345
    p.exename = "renamed"
    p.args, p.pgid = "--changed", 99
    j = eq.Job[job]
    j.end = dt.datetime(2019, 6, 15, 14, 0, tzinfo=dt.UTC)  # aware: the instant
    j.num_procs = 7
    eq.orm_commit()
    assert j.end == dt.datetime(2019, 6, 15, 10, 0)  # shown in the job's zone
    new = eq.Process[f"{job}:5"].to_dict()
    assert new["start"] == dt.datetime(2019, 6, 15, 8, 0, 1)
    assert (new["usertime"], new["exename"]) == (12345, "renamed")
    assert (new["args"], new["pgid"]) == ("--changed", 99) != (old["args"], old["pgid"])
    assert eq.get_procs(job, fltr=eq.Process.pgid == 99, fmt="terse") == [f"{job}:5"]
    changed = {"start", "usertime", "exename", "args", "pgid", "updated_at"}
    same = {k for k in old if k not in changed}
    assert {k: new[k] for k in same} == {k: old[k] for k in same}
    row = eq.get_jobs(job, fmt="dict")[0]
    assert (row["end"], row["num_procs"]) == (dt.datetime(2019, 6, 15, 10, 0), 7)
    assert eq.get_procs(job, fmt="orm").count() == len(sample("query/685003.tgz").processes)
    assert len(eq.Process[f"{job}:5"].children) == len(eq.Process["685003:5"].children)


# --- verify_jobs ----------------------------------------------------------------------------


def test_verify_jobs_as_loaded_is_epmts(loaded_graph: Graph) -> None:
    ok, errors = eq.verify_jobs(Q)
    want_ok, want = epmt()["verify_jobs(query_jobs) keyed"]
    assert (ok, sorted(errors)) == (want_ok, sorted(want))
    assert keyed(errors, "685000", process_keys("685000")) == sorted(want["685000"])


def test_verify_jobs_after_epmts_test_verify_jobs_changes(copy_job: Copier) -> None:
    job = copy_job("query/685000.tgz", "t-rec-verify")
    keys = process_keys(job)
    j = eq.Job[job]
    p = eq.get_procs(job, limit=1, fmt="orm")[0]
    assert keys[p.id] == epmt()["get_procs('685000', limit=1)[0]"]
    j.start = dt.datetime(1970, 1, 1)
    j.end = dt.datetime.now() + dt.timedelta(days=1)
    p.start = dt.datetime(1970, 1, 1)
    eq.orm_commit()
    ok, errors = eq.verify_jobs([job])
    want_ok, want = epmt()["verify_jobs(['685000']) after test_verify_jobs's changes"]
    assert (ok, list(errors)) == (want_ok, [job])
    assert keyed(errors, job, keys) == sorted(want["685000"])
    assert len(errors[job]) == 12  # EPMT's test_verify_jobs counts
    with pytest.raises(ValueError, match="non-empty collection"):
        eq.verify_jobs(["nope"])


# --- bad input, races, readers -------------------------------------------------------------


def test_bad_input_is_refused_and_writes_nothing(copy_job: Copier, loaded_graph: Graph) -> None:
    job = copy_job("query/685016.tgz", "t-rec-bad")
    before = counts(loaded_graph)
    j, p = eq.Job[job], eq.Process[f"{job}:0"]
    assert epmt()["j.no_such_field = 1; orm_commit()"] == {"answer": None}  # EPMT drops it
    for record, name, value, error in [
        (j, "no_such_field", 1, FieldError),
        (j, "jobid", "other", FieldError),
        (p, "id", "x:1", FieldError),
        (p, "job", "other", FieldError),
        (j, "start", "not a time", FieldTypeError),
        (j, "start", 1560599524, FieldTypeError),
        (p, "pid", "12", FieldTypeError),
        (p, "exename", 3, FieldTypeError),
        (p, "tags", ["a"], FieldTypeError),
        (j, "duration", True, FieldTypeError),
    ]:
        with pytest.raises(error):
            setattr(record, name, value)
    assert isinstance(FieldError("x"), AttributeError) and isinstance(
        FieldTypeError("x"), TypeError
    )
    assert changes.pending(loaded_graph) == {} and eq.orm_commit() == {}
    assert counts(loaded_graph) == before
    with pytest.raises(FieldTypeError):
        eq.tag_job(job, 5)


def test_a_commit_racing_a_delete_is_refused_whole(
    copy_job: Copier, loaded_graph: Graph, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = copy_job("query/685016.tgz", "t-rec-kept")
    gone = copy_job("query/685016.tgz", "t-rec-gone")
    eq.Job[kept].jobname = "changed"
    eq.Job[gone].jobname = "changed"
    real = edits._copy

    def copy_then_delete(graph: Graph, copy: Any, writer: str) -> None:
        real(graph, copy, writer)
        if copy.edit.jobid == gone:  # the delete lands between the copy and the publish
            delete_job(graph, gone)

    monkeypatch.setattr(edits, "_copy", copy_then_delete)
    before = counts(loaded_graph)
    with pytest.raises(CommitError, match="t-rec-gone") as raised:
        eq.orm_commit()
    assert isinstance(raised.value, RuntimeError)
    assert eq.Job[kept].jobname == sample("query/685016.tgz").job["jobname"]
    assert eq.Job.lookup(gone) is None and changes.pending(loaded_graph) == {}
    job_nodes = len(sample("query/685016.tgz").processes) + 2  # processes, Job, JobHead
    edges = 2 * len(sample("query/685016.tgz").processes) - len(eq.get_roots(kept, fmt="terse"))
    assert counts(loaded_graph) == (before[0] - job_nodes, before[1] - edges)
    eq.Job[kept].jobname = "again"  # a deleted job's pending change: refused at once
    delete_job(loaded_graph, kept)
    with pytest.raises(CommitError, match="t-rec-kept"):
        eq.orm_commit()


def test_readers_see_a_changed_job_whole(copy_job: Copier, loaded_graph: Graph) -> None:
    job = copy_job("query/685003.tgz", "t-rec-readers")
    ids = [p.id for p in eq.get_procs(job, limit=200, fmt="orm")]
    seen: list[set[str]] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            rows = eq.get_procs(job, fltr=eq.Process.id.in_(ids), fmt="dict", graph=loaded_graph)
            seen.append({r["exename"] for r in rows} | {str(len(rows))})

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(4):
            for p in eq.get_procs(job, fltr=eq.Process.id.in_(ids), fmt="orm"):
                p.exename = f"v{n}"
            eq.orm_commit()
    finally:
        done.set()
        reader.join()
    later = [s for s in seen if s & {"v0", "v1", "v2", "v3"}]
    assert later and all(len(s) == 2 and "200" in s for s in later), seen[-5:]


def test_a_commit_copies_the_job_once_and_publishes_all_jobs_at_once(
    copy_job: Copier, loaded_graph: Graph
) -> None:
    a = copy_job("query/685000.tgz", "t-rec-a")
    b = copy_job("query/685003.tgz", "t-rec-b")
    before = counts(loaded_graph)
    eq.Job[a].jobname = "a"
    eq.Process[f"{b}:3"].exename = "b"
    written = eq.orm_commit()
    assert written == {a: {a: ["jobname"]}, b: {f"{b}:3": ["exename"]}}
    assert counts(loaded_graph) == before  # the copied versions are gone
    versions = loaded_graph.driver.execute_query(
        "MATCH (j:Job) WHERE j.jobid IN $ids RETURN j.jobid AS id, count(*) AS n", ids=[a, b]
    ).records
    assert sorted((r["id"], r["n"]) for r in versions) == [(a, 1), (b, 1)]
