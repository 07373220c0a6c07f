"""Annotations, analyses (outlier detection) and deletion, on copies of the sample jobs
(other job ids), against EPMT 5.0.1's answers (``fixtures/epmt/answers.json``) and
hand-checked values. The shared sample jobs are only read."""

from __future__ import annotations

import json
import threading
from functools import cache
from typing import Any

import pytest
from conftest import Copier, counts
from constants import HOSTILE_VALUES
from epmt_answers import ANSWERS

import epmt_graph.api as eq
from epmt_graph.db import Graph
from epmt_graph.errors import QueryError, UnknownJobError


@cache
def sequence(name: str) -> dict[str, Any]:
    return dict(json.loads(ANSWERS.read_text())["workbook"][name])


def test_annotations_as_epmt(copy_job: Copier) -> None:
    """EPMT's annotation sequence on 685000, replayed on a copy of it."""
    job = copy_job("query/685000.tgz", "t-ann-685000")
    want = sequence("annotations_sequence")
    assert eq.get_job_annotations(job) == want["get_job_annotations('685000')"]
    assert eq.annotate_job(job, {"abc": 100}) == want["annotate_job('685000', {'abc': 100})"]
    assert eq.get_job_annotations(job) == want["get_job_annotations('685000') #2"]
    assert eq.annotate_job(job, {"def": 200}) == want["annotate_job('685000', {'def': 200})"]
    assert eq.get_job_annotations(job) == want["get_job_annotations('685000') #3"]
    assert eq.annotate_job(job, {"abc": 500}) == want["annotate_job('685000', {'abc': 500})"]
    assert eq.get_jobs(annotations={"abc": 500}, fmt="terse") == [job]
    assert eq.get_jobs(annotations="abc:500", fmt="terse") == [job]
    assert eq.get_jobs(annotations={"abc": 100}, fmt="terse") == []
    key = "annotate_job('685000', {'my_key': 'something new'}, replace=True)"
    assert eq.annotate_job(job, {"my_key": "something new"}, replace=True) == want[key]
    assert eq.get_job_annotations(job) == want["get_job_annotations('685000') #4"]
    assert eq.remove_job_annotations(job) == want["remove_job_annotations('685000')"] == {}
    assert eq.get_job_annotations(job) == want["get_job_annotations('685000') #5"]
    assert job in eq.get_jobs(annotations={}, fmt="terse")


def test_annotation_from_a_string_as_epmt(copy_job: Copier) -> None:
    job = copy_job("query/685016.tgz", "t-ann-685016")
    want = sequence("annotations_sequence")
    got = eq.annotate_job(eq.get_jobs(job, fmt="orm").first(), "abc:200;def:bye")
    assert got == want["annotate_job('685016', 'abc:200;def:bye')"]
    assert eq.get_jobs(annotations={"abc": "200"}, fmt="terse") == [job]
    assert eq.get_jobs(annotations={"abc": 200}, fmt="terse") == [job]  # compared as text


def test_concurrent_annotations_lose_nothing(copy_job: Copier) -> None:
    job = copy_job("tsv/collated-tsv-2220.tgz", "t-ann-concurrent")

    def annotate(worker: int) -> None:
        for i in range(10):
            eq.annotate_job(job, {f"w{worker}-{i}": i})

    threads = [threading.Thread(target=annotate, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    got = eq.get_job_annotations(job)
    assert {k: v for k, v in got.items() if k.startswith("w")} == {
        f"w{w}-{i}": i for w in range(4) for i in range(10)
    }


def test_analyses_as_epmt(copy_job: Copier) -> None:
    """EPMT's analyses sequence on the query jobs, replayed on copies of them."""
    jobs = {j: copy_job(f"query/{j}.tgz", f"t-ana-{j}") for j in ("685000", "685003", "685016")}
    copies = list(jobs.values())
    want = sequence("analyses_sequence")

    def ours(ids: list[str]) -> list[str]:
        return [jobs[i] for i in ids]

    assert eq.get_unanalyzed_jobs(copies) == ours(want["get_unanalyzed_jobs(query_jobs)"])
    key = "set_job_analyses('685000', {'outlier_detection': 1})"
    assert eq.set_job_analyses(jobs["685000"], {"outlier_detection": 1}) == want[key]
    assert eq.get_jobs(analyses={"outlier_detection": 1}, fmt="terse") == [jobs["685000"]]
    assert eq.get_unanalyzed_jobs(copies) == ours(want["get_unanalyzed_jobs(query_jobs) #2"])
    assert eq.get_unanalyzed_jobs(copies, {"outlier_detection": 1}) == [jobs["685000"]]
    assert eq.remove_job_analyses(jobs["685000"]) == want["remove_job_analyses('685000')"]
    assert eq.analyze_jobs(copies) == [ours(p) for p in want["analyze_jobs(query_jobs)"]]
    for source, job in jobs.items():
        assert eq.get_job_analyses(job) == want[f"get_job_analyses('{source}')"]
    assert eq.get_unanalyzed_jobs(copies) == want["get_unanalyzed_jobs(query_jobs) #3"] == []
    assert eq.analyze_pending_jobs(copies) == 0


def test_outlier_detection_on_comparable_jobs(copy_job: Copier) -> None:
    """Five comparable jobs: one runs 8x longer. Modified z-scores (hand-checked):
    duration [100, 110, 120, 130, 1000]: median 120, MAD 10, the last scores 59.356 > 3.5;
    cpu_time all equal: MAD and mean deviation 0, every score 0;
    num_procs [1..5]: median 3, MAD 1, the largest score 1.349."""
    tags = {"exp_name": "od-test", "exp_component": "c"}
    jobs = [
        copy_job("tsv/collated-tsv-2220.tgz", f"t-od-{i}", tags, duration=d, num_procs=i + 1)
        for i, d in enumerate([100, 110, 120, 130, 1000])
    ]
    other = copy_job("tsv/collated-tsv-2220.tgz", "t-od-other", {"exp_name": "other"})
    assert eq.analyze_pending_jobs([*jobs, other]) == 1
    expected = {
        "outlier_detection": [
            {
                "model_id": None,
                "results": {
                    "duration": [jobs[:4], jobs[4:]],
                    "cpu_time": [jobs, []],
                    "num_procs": [jobs, []],
                },
            }
        ]
    }
    assert all(eq.get_job_analyses(j) == expected for j in jobs)
    assert eq.get_job_analyses(other) == {"outlier_detection": []}
    assert eq.analyze_pending_jobs([*jobs, other]) == 0
    assert eq.analyze_pending_jobs(jobs[:2], check=False) == 0
    assert eq.get_job_analyses(jobs[0]) == {"outlier_detection": []}


def test_delete_sequence_as_epmt(copy_job: Copier, graph: Graph) -> None:
    jobs = {j: copy_job(f"query/{j}.tgz", f"t-del-{j}") for j in ("685000", "685003", "685016")}
    copies = list(jobs.values())
    want = sequence("delete_sequence")
    assert eq.delete_jobs(jobs["685016"]) == want["delete_jobs('685016')  # single, no force"]
    assert eq.get_jobs(copies, fmt="terse") == [
        jobs[j] for j in want["get_jobs(query_jobs, fmt='terse') after single delete"]
    ]
    assert eq.delete_jobs(jobs["685016"]) == want["delete_jobs('685016') again"] == 0
    before = counts(graph)
    several = want["delete_jobs(['685000', '685003'])  # several, no force"]
    assert eq.delete_jobs(copies) == several == 0  # a warning, as EPMT's
    assert counts(graph) == before
    assert eq.delete_jobs(copies, force=True, after=-7) == 0
    assert eq.delete_jobs(copies, force=True, before="01/21/2018 09:55") == 0
    assert eq.delete_jobs(copies, force=True, before="06/15/2019 09:40") == 1
    assert eq.delete_jobs(copies, force=True, before=-30) == 1
    assert eq.get_jobs(copies, fmt="terse") == []
    with pytest.raises(UnknownJobError):  # EPMT's get_procs raises KeyError: the jobs are gone
        eq.get_procs(copies, fmt="orm")


def tree_answers(graph: Graph, jobid: str) -> Any:
    values = [tuple(r.values()) for r in graph.read("job-tree-values", jobid=jobid)]
    ops = {
        tag: eq.op_roots(jobid, tag, fmt="terse") for tag in ("op:hsmget", "op:cp", "op_sequence:1")
    }
    return eq.get_roots(jobid, fmt="terse"), ops, values


def test_deleting_a_job_leaves_every_other_job_unchanged(
    copy_job: Copier, loaded_graph: Graph
) -> None:
    job = copy_job("query/685016.tgz", "t-del-tree-685016")
    others = [j for j in eq.get_jobs(fmt="terse") if j != job]
    before = {j: tree_answers(loaded_graph, j) for j in others}
    nodes, rels = counts(loaded_graph)
    gone = eq.get_procs(job, fmt="orm").count()
    assert eq.delete_jobs(job) == 1
    assert counts(loaded_graph)[0] == nodes - gone - 2  # and its Job and JobHead
    assert counts(loaded_graph)[1] < rels
    assert {j: tree_answers(loaded_graph, j) for j in others} == before


def test_bad_input_writes_nothing(copy_job: Copier, graph: Graph) -> None:
    job = copy_job("tsv/collated-tsv-2220.tgz", "t-bad-2220")
    annotations = eq.get_job_annotations(job)
    before = counts(graph)
    with pytest.raises(QueryError, match="not loaded"):
        eq.annotate_job("no-such-job", {"a": 1})
    with pytest.raises(QueryError, match="JSON data"):
        eq.annotate_job(job, {"a": {1, 2}})
    with pytest.raises(QueryError, match="must be a dict"):
        eq.annotate_job(job, ["a"])
    with pytest.raises(QueryError, match="exceed"):
        eq.set_job_analyses(job, {"big": "x" * 70_000})
    with pytest.raises(QueryError, match="expected one job"):
        eq.annotate_job([job, "685000"], {"a": 1})
    with pytest.raises(QueryError, match="'mm/dd/YYYY HH:MM'"):
        eq.delete_jobs(job, before="last week")
    assert eq.get_job_annotations(job) == annotations
    assert eq.get_job_analyses(job) == {}
    assert counts(graph) == before


def test_hostile_keys_values_and_ids_are_only_data(copy_job: Copier, graph: Graph) -> None:
    job = copy_job("tsv/collated-tsv-2220.tgz", "t-hostile-2220")
    hostile = {value: value for value in HOSTILE_VALUES}
    before = counts(graph)
    assert eq.annotate_job(job, hostile, replace=True) == hostile
    assert eq.get_job_annotations(job) == hostile
    for value in HOSTILE_VALUES:
        assert eq.get_jobs(annotations={value: value}, fmt="terse") == [job]
        assert eq.get_jobs(analyses={value: value}, fmt="terse") == []
        assert eq.delete_jobs(value) == 0
        assert eq.delete_jobs([value, f"{job}' OR 1=1"], force=True) == 0
        with pytest.raises(QueryError, match="not loaded"):
            eq.annotate_job(value, {"a": 1})
    assert counts(graph) == before
    assert eq.get_job_annotations(job) == hostile
