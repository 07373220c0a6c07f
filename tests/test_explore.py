"""The Explore API (``epmt_graph.explore``) against EPMT 5.0.1's answers
(``fixtures/epmt/explore.json``, recorded by ``benchmarks/epmt_ref/answers.py --only explore``).

EPMT's steps (``benchmarks/epmt_ref/explore_answers.py``) run as written on the session's
graph, where the same sample jobs are loaded; then, with EPMT's nine ``outliers_nb`` jobs
(taken from the wheel) loaded for one test and deleted after it, the steps of a component
with nine time segments, whose outlier scores are not all zero. Each answer must be
EPMT's (numbers to 1e-9 relative: EPMT's durations are floats, ours integers), each
printed table EPMT's, line for line, and each error one of ours that is also every
builtin class of EPMT's. Where we differ on purpose (:data:`UNKNOWN`, :data:`ONE_COMPONENT`),
the test checks exactly how.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import logging
import math
import sys
import zipfile
from collections import OrderedDict
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import epmt_graph.api as eq
import epmt_graph.explore as exp
from epmt_graph.db import Graph
from epmt_graph.errors import (
    EpmtGraphError,
    NotFoundError,
    QueryError,
    QueryTypeError,
    UnknownExperimentError,
)
from epmt_graph.loader import load_job
from epmt_graph.samples import epmt_wheel
from epmt_graph.store.jobs import delete_job

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks" / "epmt_ref"))
import explore_answers as steps  # EPMT's steps, shared with the recorder

FIXTURE = Path(__file__).parent / "fixtures" / "epmt" / "explore.json"
E = steps.EXPERIMENT
#: Steps naming an experiment or component no job has: EPMT answers False, nothing or
#: fails on the empty selection (as recorded); ours is an UnknownExperimentError.
UNKNOWN = {
    "exp.exp_component_outliers('no_such_experiment')": False,
    "exp.exp_time_segment_stats('no_such_experiment')": [],
    "exp.exp_explore('no_such_experiment')": "TypeError",
    "exp.exp_find_jobs('no_such_experiment')": [],
    "exp.exp_find_jobs(E, components=['no_such_component'])": [],
    "exp.find_missing_time_segments('no_such_experiment')": "KeyError",
}
#: EPMT reads the name of the only component of the jobs given letter by letter and fails.
ONE_COMPONENT = (
    "exp.find_missing_time_segments(E, jobs=['685000'], time_segments=[18840101, 18890101])"
)


@cache
def answers() -> dict[str, Any]:
    return dict(json.loads(FIXTURE.read_text()))


def plain(value: Any) -> Any:
    """Our answer as the fixture's JSON data (an OrderedDict as its items, in order)."""
    if isinstance(value, OrderedDict):
        return [[k, plain(v)] for k, v in value.items()]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, eq.JobQuery):
        return [job.jobid for job in value]
    return value


def same(ours: Any, epmt: Any) -> bool:
    """Equal, numbers to 1e-9 relative (an int of ours may be one of EPMT's floats)."""
    if isinstance(epmt, bool) or isinstance(ours, bool):
        return ours is epmt
    if isinstance(epmt, int | float) and isinstance(ours, int | float):
        return math.isclose(ours, epmt, rel_tol=1e-9)
    if isinstance(epmt, dict) and isinstance(ours, dict):
        return ours.keys() == epmt.keys() and all(same(ours[k], epmt[k]) for k in epmt)
    if isinstance(epmt, list) and isinstance(ours, list):
        return len(ours) == len(epmt) and all(map(same, ours, epmt))
    return bool(ours == epmt)


def replay(step: str) -> tuple[Any, str, list[str]]:
    """Run one step on epmt_graph: (its answer or our error, what it printed, warnings)."""
    printed = io.StringIO()
    handler = logging.Handler(logging.WARNING)
    logged: list[str] = []
    handler.emit = lambda record: logged.append(record.getMessage())
    log = logging.getLogger("epmt_graph.explore")
    log.addHandler(handler)
    try:
        with contextlib.redirect_stdout(printed):
            ours: Any = plain(steps.run(step, steps.namespace(exp, np)))
    except EpmtGraphError as error:
        ours = error
    finally:
        log.removeHandler(handler)
    return ours, printed.getvalue(), logged


def check(epmt: dict[str, Any]) -> None:
    """One of EPMT's recorded steps, replayed: EPMT's answer, table and warnings, or an
    error of ours that is every builtin class of EPMT's."""
    call = epmt["call"]
    ours, printed, logged = replay(call)
    if "error" in epmt:
        assert isinstance(ours, EpmtGraphError), (call, ours)
        bases = set(epmt["error_bases"]) - {"BaseException", "Exception", "object"}
        assert all(isinstance(ours, getattr(builtins, b)) for b in bases), (call, ours)
        return
    assert not isinstance(ours, Exception), (call, ours)
    assert same(ours, epmt["answer"]), (call, ours, epmt["answer"])
    assert printed == epmt["stdout"], call
    assert [w for w in logged if "tags" in w] == [w for w in epmt["warnings"] if "tags" in w]


def test_the_fixture_is_epmts_run_of_these_steps(loaded_graph: Graph) -> None:
    about = answers()["_about"]
    assert about["epmt_version"] == "5.0.1" and about["archives"] == steps.ARCHIVES
    assert [s["call"] for s in answers()["steps"]] == steps.STEPS
    assert [s["call"] for s in answers()["nb_steps"]] == steps.NB_STEPS
    assert answers()["refused"] == {}
    assert eq.get_jobs(fmt="terse") == answers()["loaded_jobs"]


def test_steps_as_epmt(loaded_graph: Graph) -> None:
    """Every step on the sample jobs: EPMT's answer, printed tables, warnings and errors."""
    recorded = {s["call"]: s for s in answers()["steps"]}
    for call, epmt in recorded.items():
        if call in UNKNOWN:
            expected = UNKNOWN[call]
            if isinstance(expected, str):
                assert epmt["error"].startswith(expected + ":"), call
            else:
                assert epmt["answer"] == expected and epmt["stdout"] == "", call
            ours, printed, _ = replay(call)
            assert isinstance(ours, UnknownExperimentError) and isinstance(ours, KeyError), call
            assert printed == "", call
        elif call == ONE_COMPONENT:
            assert epmt["error"] == "KeyError: 'exp_time'"
            # 685000's component and time segment, as EPMT answers them
            (component,) = [
                c["exp_component"]
                for c in recorded["exp.exp_component_outliers(E)"]["answer"]
                if "685000" in c["jobids"]
            ]
            (time,) = [
                t
                for t, s in recorded["exp.exp_time_segment_stats(E)"]["answer"]
                if "685000" in s["jobids"]
            ]
            missing = sorted({18840101, 18890101} - {int(time)})
            ours, printed, _ = replay(call)
            assert ours == {component: missing} == {"ocean_annual_rho2_1x1deg": [18890101]}
            assert printed == f"{component} is missing {missing}\n"
        else:
            check(epmt)


@pytest.fixture
def outliers_nb(loaded_graph: Graph, tmp_path: Path) -> Iterator[Graph]:
    """EPMT's nine ``outliers_nb`` jobs (from the wheel) loaded beside the sample jobs, for
    one test; deleted after it."""
    with zipfile.ZipFile(epmt_wheel()) as wheel:
        for archive in steps.NB_ARCHIVES:
            path = tmp_path / Path(archive).name
            path.write_bytes(wheel.read(f"epmt/test/data/{archive}"))
    jobs = [Path(archive).stem for archive in steps.NB_ARCHIVES]
    try:
        for job in jobs:
            load_job(tmp_path / f"{job}.tgz", graph=loaded_graph)
        yield loaded_graph
    finally:
        for job in jobs:
            delete_job(loaded_graph, job)


def test_nb_steps_as_epmt(outliers_nb: Graph) -> None:
    """With a component of nine time segments: EPMT's outlier scores, tables, answers."""
    assert eq.get_jobs(fmt="terse") == answers()["nb_loaded_jobs"]
    scores = answers()["nb_steps"][0]["answer"][0]["outlier_scores"]
    assert scores == [2, 0, 0, 0, 0, 0, 0, 2, 1]  # EPMT's docstring example: not all zero
    for epmt in answers()["nb_steps"]:
        check(epmt)


def test_bad_arguments_are_refused(loaded_graph: Graph) -> None:
    """Clear errors before any answer: EPMT's classes where it has them."""
    with pytest.raises(NotFoundError, match="no job metric 'rchars'"):
        exp.exp_component_outliers(E, "rchars")
    with pytest.raises(QueryTypeError, match="'start' is not a numeric job metric"):
        exp.exp_time_segment_stats(E, "start")
    with pytest.raises(QueryTypeError, match="op must be a reduction"):
        exp.exp_component_outliers(E, op="sum")
    with pytest.raises(QueryTypeError, match="op must reduce a vector to a number"):
        exp.exp_explore(E, op=lambda v: "big")
    with pytest.raises(QueryError, match="limit must be a non-negative integer"):
        exp.exp_component_outliers(E, limit=-1)
    with pytest.raises(QueryError, match="exp_name must be a non-empty string"):
        exp.exp_time_segment_stats(None)
    with pytest.raises(UnknownExperimentError, match="has no component 'nope'"):
        exp.find_missing_time_segments(E, components=["nope"])
    with pytest.raises(UnknownExperimentError, match="none of the jobs given"):
        exp.find_missing_time_segments(E, jobs=["3455"])
    with pytest.raises(QueryError, match="time segment must be an integer"):
        exp.find_missing_time_segments(E, time_segments=["1854-01-01"])
    with pytest.raises(QueryTypeError, match="time_segments must be a list"):
        exp.find_missing_time_segments(E, time_segments=None)


def test_a_single_string_is_one_component(loaded_graph: Graph) -> None:
    """EPMT would read ``components='x'`` letter by letter; here it is the component x:
    its jobs, as EPMT lists them by component."""
    (jobids,) = [
        c["jobids"]
        for c in answers()["steps"][0]["answer"]
        if c["exp_component"] == "ocean_annual_rho2_1x1deg"
    ]
    assert exp.exp_find_jobs(E, components="ocean_annual_rho2_1x1deg") == jobids
    assert exp.exp_find_jobs(E, components=["ocean_annual_rho2_1x1deg"]) == jobids
