"""``epmt_graph.outliers`` against EPMT 5.0.1's answers (``fixtures/epmt/outliers.json``,
recorded by ``benchmarks/epmt_ref/answers.py --only outliers``).

Each of EPMT's steps (``benchmarks/epmt_ref/outliers_answers.py``) is one test here: the
same call text, run on epmt_graph (``eod`` = ``epmt_graph.outliers``, ``es`` = its
``stat``), must give EPMT's answer: the same rows, columns and index, the same outlier
flags per job (or operation) and feature, the same partitions, and every score to 1e-9
relative (1e-12 absolute, for values that are zero up to rounding). Where EPMT raised on
bad input, ours must raise a typed error (an ``EpmtGraphError``), also of EPMT's builtin
class when EPMT raised it on purpose (``RuntimeError``, ``ValueError``: code written for
EPMT catches those); where EPMT crashed (``AttributeError``, ``KeyError``, ``TypeError``
from inside it), ours must be a clear error instead; where EPMT printed a refusal and
returned ``(False, None, None)``, ours may return the same or raise a typed error. A
root-cause ranking is EPMT's up to the order of features whose ratios tie: EPMT's order
among them follows Python's string hash (see
:func:`test_epmts_order_of_tied_features_is_the_string_hash_order`), so each run of tied
features is compared as a set, at its place in the ranking (:func:`in_epmts_tie_order`).

The sample jobs are the session's (``loaded_graph``); EPMT's four kern-6656 jobs, from
the wheel, are loaded into it with ``EPMT_TZ=Asia/Kolkata`` through ``epmt_submit`` (as
EPMT's own test loads them) and deleted at the end, with every model made here. Until
``epmt_graph.outliers`` exists, every step that names it fails with its ImportError.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import importlib
import json
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import epmt_graph.api as eq
from epmt_graph.compat import epmt_submit
from epmt_graph.db import Graph
from epmt_graph.errors import EpmtGraphError
from epmt_graph.samples import epmt_wheel
from epmt_graph.schema import PROCESS_METRICS

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks" / "epmt_ref"))
import outliers_answers as steps  # EPMT's steps, shared with the recorder

FIXTURE = Path(__file__).parent / "fixtures" / "epmt" / "outliers.json"
KERN_DATA = "epmt/test/data/outliers/"
#: The steps that bind a reference model's id to a name (``name = eq.create_refmodel(...)``).
MODEL_STEPS = {s.partition(" = ")[0]: s for s in steps.STEPS if " = " in s}
#: Steps whose text names the outlier modules or a model made with them.
NEEDS_OUTLIERS = re.compile(r"\b(eod|es)\.|_model")
#: EPMT's errors raised on purpose: ours must be of the same builtin class too.
EPMT_REFUSALS = {"RuntimeError", "ValueError"}
#: EPMT crashes where ours behaves as another step: step -> (its twin, why).
AS_TWIN = {
    "eod.detect_outlier_jobs(samples)": (
        "eod.detect_outlier_jobs(samples, sanity_check=False)",
        "EPMT's warning that the jobs are not comparable raises KeyError('exp_name') on job "
        "3455, which has no exp_name tag; ours warns and goes on, as without the check",
    ),
}
REL, ABS = 1e-9, 1e-12


@cache
def answers() -> dict[str, Any]:
    return dict(json.loads(FIXTURE.read_text()))


def recorded(call: str) -> dict[str, Any]:
    """EPMT's entry for one step."""
    return next(s for s in answers()["steps"] if s["call"] == call)


def outlier_modules() -> dict[str, Any]:
    """``eod`` and ``es`` for the steps (an ImportError while they are not built)."""
    return {
        "eod": importlib.import_module("epmt_graph.outliers"),
        "es": importlib.import_module("epmt_graph.outliers.stat"),
    }


@pytest.fixture(scope="module")
def kern_jobs(loaded_graph: Graph, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """EPMT's kern jobs loaded into the session's graph in EPMT's way (``EPMT_TZ`` set,
    ``epmt_submit``); deleted at the end if they were not there before."""
    folder = tmp_path_factory.mktemp("kern")
    with zipfile.ZipFile(epmt_wheel()) as wheel:
        wheel.extractall(folder, [f"{KERN_DATA}{name}.tgz" for name in steps.KERN])
    paths = [folder / KERN_DATA / f"{name}.tgz" for name in steps.KERN]
    digests = {p.name[:-4]: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}
    assert digests == answers()["_about"]["kern_sha256"]
    with pytest.MonkeyPatch.context() as env:
        env.setenv("EPMT_TZ", steps.KERN_TZ)
        results = epmt_submit(paths, dry_run=False)
    loaded = [r.jobid for r in results if r.status == "loaded"]
    yield
    if loaded:
        eq.delete_jobs(loaded, force=True, remove_models=True)


@pytest.fixture(scope="module")
def names(kern_jobs: None) -> Iterator[dict[str, Any]]:
    """The steps' namespace on epmt_graph; the models its steps made are deleted at the end."""
    space: dict[str, Any] = steps.namespace(eq, None, None, eq.Job, eq.Process)
    yield space
    made = [space[name] for name in MODEL_STEPS if name in space]
    if made:
        eq.delete_refmodels(*made)


def with_models(space: dict[str, Any]) -> dict[str, Any]:
    """``space`` with the outlier modules and every model its steps name (made once)."""
    space.update(outlier_modules())
    for name, step in MODEL_STEPS.items():
        if name not in space:
            steps.run(step, space)
    return space


def _key(k: str) -> str:
    """A dict key; a JSON object's text (an op's tags) in one canonical order."""
    if k.startswith("{"):
        return json.dumps(json.loads(k), sort_keys=True)
    return k


def same(ours: Any, theirs: Any, path: str = "") -> None:
    """Assert that ``ours`` (encoded) is EPMT's answer ``theirs`` (see the module's doc)."""
    if isinstance(theirs, dict) and set(theirs) == {"frame"}:
        assert isinstance(ours, dict) and set(ours) == {"frame"}, (path, ours)
        mine, frame = ours["frame"], theirs["frame"]
        assert mine["columns"] == frame["columns"], (path, mine["columns"], frame["columns"])
        assert mine["index"] == frame["index"], (path, mine["index"], frame["index"])
        numeric = [[k != "other" for k in f["kinds"]] for f in (mine, frame)]
        assert numeric[0] == numeric[1], (path, mine["kinds"], frame["kinds"])
        same(mine["rows"], frame["rows"], f"{path}.rows")
    elif isinstance(theirs, dict) and set(theirs) in ({"set"}, {"series"}):
        assert isinstance(ours, dict) and set(ours) == set(theirs), (path, ours, theirs)
        same(next(iter(ours.values())), next(iter(theirs.values())), path)
    elif isinstance(theirs, dict):
        assert isinstance(ours, dict), (path, ours)
        mine = {_key(k): v for k, v in ours.items()}
        assert sorted(mine) == sorted(_key(k) for k in theirs), (path, sorted(mine), theirs)
        for k, v in theirs.items():
            same(mine[_key(k)], v, f"{path}[{k}]")
    elif isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), (path, ours, theirs)
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            same(a, b, f"{path}[{i}]")
    elif isinstance(theirs, int | float) and not isinstance(theirs, bool):
        assert isinstance(ours, int | float) and not isinstance(ours, bool), (path, ours, theirs)
        assert abs(ours - theirs) <= REL * max(abs(ours), abs(theirs)) + ABS, (path, ours, theirs)
    else:
        assert ours == theirs, (path, ours, theirs)


def outcome(call: str, space: dict[str, Any]) -> Any:
    """Our answer to ``call``, encoded as EPMT's, or the typed error it raised."""
    try:
        return steps.encode(steps.run(call, space))
    except EpmtGraphError as error:
        return error


def test_the_fixture_is_epmts_run_of_these_steps() -> None:
    about = answers()["_about"]
    assert about["epmt_version"] == "5.0.1" and about["archives"] == steps.ARCHIVES
    assert about["kern"] == steps.KERN and about["kern_tz"] == steps.KERN_TZ
    assert [s["call"] for s in answers()["steps"]] == steps.STEPS
    assert answers()["loaded_jobs"] == [*steps.KERN, *steps.ESM, "3455"]
    assert answers()["refused"] == {}


def test_kern_jobs_load_in_epmts_zone(kern_jobs: None) -> None:
    """Loaded with EPMT_TZ set, the kern jobs start and end at EPMT's times (naive, in
    Asia/Kolkata): epmt_submit honours EPMT_TZ as EPMT's does."""
    rows = eq.get_jobs(steps.KERN, fmt="dict")
    ours = {r["jobid"]: [r["start"].isoformat(), r["end"].isoformat()] for r in rows}
    assert ours == answers()["kern_start_end"]


def test_jobs_whose_frame_holds_nan_are_refused_whatever_the_features(
    names: dict[str, Any],
) -> None:
    """EPMT refuses jobs whose frame has NaN in some column (3455 has four metrics the
    others lack) before it picks the features: ours too, naming the same columns, whether
    it reads the jobs' light rows (EPMT's default features) or their full rows."""
    epmt = recorded("eod.detect_outlier_jobs(samples, sanity_check=False)")["error"]
    columns = re.fullmatch(r"ValueError: dataframe columns \((\[.*\])\) contain .*", epmt)
    assert columns is not None, epmt
    eod = outlier_modules()["eod"]
    for features in (None, ["duration"], "*", ["rssmax"]):
        with pytest.raises(ValueError) as refused:
            eod.detect_outlier_jobs(names["samples"], features=features, sanity_check=False)
        assert isinstance(refused.value, EpmtGraphError)
        ours = re.search(r"\[.*?\]", str(refused.value))
        assert ours is not None and sorted(ast.literal_eval(ours[0])) == sorted(
            ast.literal_eval(columns[1])
        )


#: Steps where epmt_graph's answer still differs from EPMT's (issue 17): each must fail
#: until it is fixed, then be removed from here.
EXPECTED_GAPS: dict[str, str] = {}


def _step(call: str) -> Any:
    """A step as a test case, an expected failure if :data:`EXPECTED_GAPS` lists it."""
    gap = EXPECTED_GAPS.get(call)
    if gap is None:
        return call
    return pytest.param(call, marks=pytest.mark.xfail(strict=True, reason=f"not yet: {gap}"))


@pytest.mark.parametrize("call", [_step(call) for call in steps.STEPS], ids=steps.STEPS)
def test_step_as_epmt(call: str, names: dict[str, Any]) -> None:
    """One of EPMT's steps, run on epmt_graph, gives EPMT's answer (see the module's doc)."""
    space = with_models(names) if NEEDS_OUTLIERS.search(call) else names
    epmt = recorded(call)
    name = call.partition(" = ")[0]
    if name in MODEL_STEPS:
        assert isinstance(space[name], int), (call, space[name])
        return
    ours = outcome(call, space)
    if call in AS_TWIN:
        twin = outcome(AS_TWIN[call][0], space)
        if isinstance(twin, EpmtGraphError):
            assert type(ours) is type(twin) and str(ours) == str(twin), (call, ours, twin)
        else:
            same(ours, twin, call)
    elif "error" in epmt:
        assert isinstance(ours, EpmtGraphError), (call, ours, epmt["error"])
        kind = epmt["error"].partition(":")[0]
        if kind in EPMT_REFUSALS:
            assert isinstance(ours, getattr(builtins, kind)), (call, ours)
    elif isinstance(epmt["answer"], list) and epmt["answer"][:1] == [False] and "stdout" in epmt:
        assert isinstance(ours, EpmtGraphError) or ours == epmt["answer"], (call, ours)
    else:
        assert not isinstance(ours, Exception), (call, ours)
        same(in_epmts_tie_order(ours, epmt["answer"]), epmt["answer"], call)


def _ranked(answer: Any) -> bool:
    """Whether an encoded answer is a root-cause analysis's ``[True, frame, ranking]``."""
    return isinstance(answer, list) and len(answer) == 3 and answer[0] is True


def _ties(ranking: list[list[Any]]) -> list[range]:
    """The places of each run of features with equal ratios in a ranking (runs of one
    feature too)."""
    runs: list[range] = []
    for i, (_, ratio) in enumerate(ranking):
        if runs and ranking[runs[-1].start][1] == ratio:
            runs[-1] = range(runs[-1].start, i + 1)
        else:
            runs.append(range(i, i + 1))
    return runs


def in_epmts_tie_order(ours: Any, theirs: Any) -> Any:
    """Our root-cause answer with its features in EPMT's order, once each run of features
    tied in EPMT's ranking is checked to hold the same features at the same places in ours
    (the frame's columns follow the ranking); any other answer as it is."""
    if not (_ranked(ours) and _ranked(theirs)):
        return ours
    mine, epmts = [f for f, _ in ours[2]], [f for f, _ in theirs[2]]
    for run in _ties(theirs[2]):
        tied = (mine[run.start : run.stop], epmts[run.start : run.stop])
        assert sorted(tied[0]) == sorted(tied[1]), (run, mine, epmts)
    frame = ours[1]["frame"]
    at = [frame["columns"].index(f) for f in epmts]
    reordered = {
        **frame,
        "columns": epmts,
        "kinds": [frame["kinds"][i] for i in at],
        "rows": [[row[i] for i in at] for row in frame["rows"]],
    }
    place = {f: i for i, f in enumerate(mine)}
    return [True, {"frame": reordered}, [ours[2][place[f]] for f in epmts]]


#: Run with a hash seed, Python prints the names given in the order of a dict built as
#: EPMT sums metrics over a job's (or an operation's) processes: ``epmtlib.sum_dicts``
#: keys its sum by ``set(x) | set(y)``, process after process.
SET_ORDER = """import sys
names, summed = sys.argv[1:], {}
for _ in range(3):
    summed = dict.fromkeys(set(summed) | set(names))
print(" ".join(summed))
"""


def set_order(seed: int) -> list[str]:
    """The papiex metrics in the order EPMT's sums hold them under ``PYTHONHASHSEED=seed``."""
    done = subprocess.run(
        [sys.executable, "-c", SET_ORDER, *PROCESS_METRICS],
        env={**os.environ, "PYTHONHASHSEED": str(seed)},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.split()


def test_epmts_order_of_tied_features_is_the_string_hash_order() -> None:
    """Why tied features are compared as a set: EPMT ranks features with a stable sort
    over its frame's columns, and its job and operation frames hold the metric sums in the
    order of a Python set of their names, which follows the string hash: random in each
    process unless ``PYTHONHASHSEED`` is set (the recorder sets 0). With seed 0, the
    metrics of every tie in EPMT's recorded rankings come in that order; with seed 1, not."""
    rankings = [s["answer"][2] for s in answers()["steps"] if _ranked(s.get("answer"))]
    ties = [
        [f for f, _ in ranking[run.start : run.stop] if f in PROCESS_METRICS]
        for ranking in rankings
        for run in _ties(ranking)
    ]
    ties = [tie for tie in ties if len(tie) > 1]
    assert len(ties) >= 5, ties

    def follows(order: list[str]) -> bool:
        return all(sorted(tie, key=order.index) == tie for tie in ties)

    assert follows(set_order(0)), (set_order(0), ties)
    assert not follows(set_order(1)), (set_order(1), ties)
