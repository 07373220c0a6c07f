"""``delete_jobs`` and ``retire_jobs`` against EPMT 5.0.1's answers (``fixtures/epmt/deletes.json``,
recorded by ``benchmarks/epmt_ref/answers.py --only deletes``).

EPMT's steps (``benchmarks/epmt_ref/deletes_answers.py``) run, in order and as written, on a
Neo4j server started for this module alone with the same six jobs loaded: they delete with
``[]`` (every job) and ``retire_jobs`` retires every old job, which the session's shared
graph must never see. After each step the jobs left, the models left and the warnings
logged are EPMT's, the jobs left keep every process and edge they were loaded with, and a
dry run or a refused call changes nothing. Where we differ on purpose, :data:`DELIBERATE`
says how, and the test checks exactly that.
"""

from __future__ import annotations

import builtins
import dataclasses
import datetime as dt
import json
import logging
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from graph_fixtures import throwaway_server
from oracle import SAMPLES

import epmt_graph.api as eq
from epmt_graph.db import Graph, set_default_graph
from epmt_graph.errors import DatabaseError, EpmtGraphError, QueryError
from epmt_graph.loader import delete_job, load, read_job
from epmt_graph.loader.writer import write_job

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks" / "epmt_ref"))
import deletes_answers as steps  # EPMT's steps, shared with the recorder

FIXTURE = Path(__file__).parent / "fixtures" / "epmt" / "deletes.json"
#: What EPMT's warnings say -> what ours say in the same case.
WARNINGS = {
    "set force=True": "set force=True",
    "have models": "reference models were built from them",
    "No jobs matched": "No jobs matched",
}
#: Steps where EPMT deletes or counts on and we refuse: a malformed bound or page (EPMT
#: ignores it), or a string ``fltr`` (EPMT runs it as SQL).
REFUSED = {
    "eq.delete_jobs([], force=True, before='last week', dry_run=True)": "'mm/dd/YYYY HH:MM'",
    "eq.delete_jobs([], force=True, after='2019-06-15', dry_run=True)": "'mm/dd/YYYY HH:MM'",
    "eq.delete_jobs([], force=True, limit=-1, dry_run=True)": "limit must be",
    "eq.delete_jobs([], force=True, offset=-1, dry_run=True)": "offset must be",
    "eq.delete_jobs([], force=True, fltr='duration > 1000000000', dry_run=True)": "string",
}
#: EPMT raises AttributeError on a job id given as an int; ours names the job.
INT_ID = "eq.delete_jobs(685000, dry_run=True)"
#: EPMT's dry run deletes the models all the same; ours changes nothing.
DRY_REMOVE = (
    "eq.delete_jobs(['3455', '685016'], force=True, remove_models=True, dry_run=True)  # model"
)
DELIBERATE = {*REFUSED, INT_ID, DRY_REMOVE}


@cache
def answers() -> dict[str, Any]:
    return dict(json.loads(FIXTURE.read_text()))


@pytest.fixture(scope="module")
def own_graph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Graph]:
    """A server of this module's own, with EPMT's six jobs loaded."""
    with (
        throwaway_server(tmp_path_factory.mktemp("deletes-server")) as connection,
        Graph(connection) as graph,
    ):
        graph.ensure_schema()
        load([SAMPLES / path for path in steps.ARCHIVES], graph=graph)
        yield graph


@pytest.fixture
def as_default(own_graph: Graph) -> Iterator[Graph]:
    """:func:`own_graph` as the API's graph during one test (EPMT's steps name no graph)."""
    old = set_default_graph(own_graph)
    try:
        yield own_graph
    finally:
        set_default_graph(old)


def shape(graph: Graph) -> dict[str, tuple[int, int]]:
    """Per loaded job: its processes and the PARENT_OF edges among them."""
    query = (
        "MATCH (h:JobHead) MATCH (p:Process {jobid: h.jobid}) WHERE p.version = h.version "
        "OPTIONAL MATCH (p)-[e:PARENT_OF]->(:Process) "
        "RETURN h.jobid AS jobid, count(DISTINCT p) AS procs, count(e) AS edges"
    )
    records = graph.driver.execute_query(query).records
    return {r["jobid"]: (r["procs"], r["edges"]) for r in records}


def nodes(graph: Graph) -> int:
    return int(graph.driver.execute_query("MATCH (n) RETURN count(n) AS n").records[0]["n"])


def kinds(messages: list[str], mine: bool) -> set[str]:
    """Which of :data:`WARNINGS` the messages say (EPMT's, or ours with ``mine``)."""
    return {k for k, v in WARNINGS.items() if any((v if mine else k) in m for m in messages)}


def test_the_fixture_is_epmts_run_of_these_steps() -> None:
    about = answers()["_about"]
    assert about["epmt_version"] == "5.0.1" and about["archives"] == steps.ARCHIVES
    assert [s["call"] for s in answers()["steps"]] == steps.STEPS
    assert answers()["loaded_jobs"] == ["685000", "685003", "685016", "2220", "3455", "12340"]


def test_steps_as_epmt(as_default: Graph, caplog: pytest.LogCaptureFixture) -> None:
    """Every step: EPMT's answer or error type, jobs and models left, warnings; the jobs
    left keep their trees; refused calls and dry runs change nothing."""
    own_graph = as_default
    assert eq.get_jobs(fmt="terse") == answers()["loaded_jobs"]
    loaded = shape(own_graph)
    names = steps.namespace(eq, eq.Job, dt.date.today())
    for epmt in answers()["steps"]:
        call = epmt["call"]
        before = (nodes(own_graph), shape(own_graph), eq.get_refmodels(fmt="terse"))
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="epmt_graph.api.deletes"):
            try:
                ours: Any = steps.run(call, names)
            except EpmtGraphError as error:
                ours = error
        logged = [r.getMessage() for r in caplog.records if r.name == "epmt_graph.api.deletes"]
        if call in REFUSED:
            assert isinstance(ours, QueryError) and REFUSED[call] in str(ours), call
            assert "error" not in epmt and epmt["answer"] > 0, call  # EPMT would delete
        elif call == INT_ID:
            assert ours == 1 and epmt["error"].startswith("AttributeError: 'int' object")
        elif "error" in epmt:
            assert isinstance(ours, EpmtGraphError), (call, ours)
            bases = set(epmt["error_bases"]) - {"BaseException", "Exception", "object"}
            assert all(isinstance(ours, getattr(builtins, b)) for b in bases), (call, ours)
        else:
            assert ours == epmt["answer"], call
            assert kinds(logged, True) == kinds(epmt["warnings"], False), (call, logged)
        if "dry_run=True" in call or "error" in epmt or call in DELIBERATE:
            assert (nodes(own_graph), shape(own_graph), eq.get_refmodels(fmt="terse")) == before
        if call == DRY_REMOVE:  # EPMT's dry run removed the models: do so to stay in step
            assert epmt["models_left"] == 0 and eq.delete_refmodels(before[2]) == 1
        assert eq.get_jobs(fmt="terse") == epmt["jobs_left"], call
        assert len(eq.get_refmodels(fmt="terse")) == epmt["models_left"], call
        assert shape(own_graph) == {j: loaded[j] for j in epmt["jobs_left"]}, call
    assert nodes(own_graph) == 0  # every job gone: no process, edge, head or model is left


def test_a_job_a_model_uses_cannot_be_deleted_under_it(loaded_graph: Graph) -> None:
    """Should a model appear between delete_jobs's check and the delete, the server refuses
    to remove the job's head (the model links to it): the job stays whole, the model too.
    Copies of a small sample job, on the shared graph; the shared jobs are only read."""
    rows = read_job(SAMPLES / "tsv/collated-tsv-2220.tgz")
    jobs = [f"t-del-model-{i}" for i in range(3)]
    for jobid in jobs:
        processes = [{**p, "jobid": jobid, "uid": f"{jobid}:{p['idx']}"} for p in rows.processes]
        job = {**rows.job, "jobid": jobid, "digest": f"copy:{jobid}"}
        write_job(loaded_graph, dataclasses.replace(rows, job=job, processes=processes))
    try:
        model = eq.create_refmodel(jobs, graph=loaded_graph)["id"]
        before = shape(loaded_graph)[jobs[0]]
        with pytest.raises(DatabaseError):
            delete_job(loaded_graph, jobs[0])
        assert shape(loaded_graph)[jobs[0]] == before
        assert eq.get_refmodels(fmt="terse", graph=loaded_graph).count(model) == 1
        assert eq.delete_jobs(jobs, force=True, dry_run=True, graph=loaded_graph) == 0
        assert eq.delete_jobs(jobs, force=True, remove_models=True, graph=loaded_graph) == 3
        assert eq.get_refmodels(fmt="terse", graph=loaded_graph).count(model) == 0
    finally:
        for jobid in jobs:
            delete_job(loaded_graph, jobid)
