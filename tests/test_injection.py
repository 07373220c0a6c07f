"""Hostile text is only data: job ids, tag keys and values, exenames and ``fltr`` values
holding quotes, backticks, braces, comments, parameters, Cypher statements, newlines,
unicode and very long strings, through the API, the CLI and the Browser files.

Every answer is checked exactly: an empty answer, a :class:`QueryError` naming the job, or,
for a job whose archive itself holds hostile text (:func:`write_hostile_job`), the values
written into that archive. The database is checked unchanged after each test (nodes by
label, relationships by type, every Job node) and at the end of the module (a fingerprint
of every process and edge, computed by the server).
"""

from __future__ import annotations

import operator
import re
from collections import Counter
from collections.abc import Callable
from functools import reduce
from typing import Any

import pandas as pd
import pytest
from injection_support import (
    ARGS,
    ENV,
    EXENAMES,
    HOST,
    HOSTILE,
    JOB_TAGS,
    JOBID,
    JOBNAME,
    N_PROCS,
    NOT_LOADED,
    PROC_TAGS,
    SCANNED,
    TAG_SAFE,
    USER,
    HostileJob,
    S,
    sample_tree,
    tag_text,
)
from oracle import SAMPLES, descendant_counts, raw_processes, roots

import epmt_graph.api as eq
from epmt_graph.db import Graph
from epmt_graph.errors import QueryError, UnknownJobError

# --- (a) hostile job ids -------------------------------------------------------------------


def test_hostile_job_ids_select_nothing(unchanged: None) -> None:
    """Every API entry point taking several jobs answers nothing for hostile ids, and
    exactly the real job's answer when one real id comes along."""
    named = [{"jobid": s} for s in HOSTILE]
    with_real = [*named, "685000"]
    assert eq.get_jobs(named, fmt="terse") == eq.conv_jobs(named, fmt="terse") == []
    assert eq.get_jobs(with_real, fmt="terse") == ["685000"]
    assert eq.get_jobs(named, fmt="orm").count() == 0
    assert eq.op_roots(named, "op:hsmget") == []
    frame = pd.DataFrame({"jobid": HOSTILE})
    assert eq.get_jobs(frame, fmt="terse") == []
    assert eq.get_op_metrics(named, tags="op:hsmget", fmt="dict") is None
    assert eq.get_op_metrics(named, fmt="dict") is None
    assert eq.job_proc_tags(named) == eq.rank_proc_tags_keys(named) == []
    assert eq.get_job_tags(named) == {}
    assert eq.get_features(named) == eq.compute_process_trees(named) == []
    assert eq.get_unanalyzed_jobs(named) == eq.analyze_jobs(named) == []
    assert eq.analyze_pending_jobs(named) == eq.delete_jobs(named, force=True) == 0
    saving, frame, _, _ = eq.ops_costs(named)
    assert saving == 0.0 and frame.empty
    assert eq.conv_procs([f"{s}:0" for s in HOSTILE], fmt="terse") == []
    assert eq.conv_procs(["685000:0' OR '1'='1", "685000:0}) //"], fmt="terse") == []
    for s in HOSTILE:  # as strings: split on commas and stripped, as EPMT does
        assert eq.delete_jobs(s) == 0
    with pytest.raises(QueryError, match="none of the jobs"):
        eq.get_ops(named)
    # where EPMT raises KeyError for an unknown job, ours is a KeyError naming the ids
    ids_frame = pd.DataFrame({"jobid": HOSTILE})
    for call in (
        lambda jobs: eq.get_procs(jobs, fmt="orm"),
        lambda jobs: eq.timeline(jobs, fmt="dict"),
        eq.get_roots,
        eq.procs_histogram,
    ):
        for jobs in (named, with_real, ids_frame):
            with pytest.raises(UnknownJobError, match=f"^jobs {re.escape(repr(HOSTILE[0]))}, "):
                call(jobs)
        for s in HOSTILE:  # as strings: split on commas and stripped, as EPMT does
            parts = [part.strip() for part in s.split(",") if part.strip()]
            if not parts:
                assert plain_empty(call(s))
                continue
            with pytest.raises(KeyError) as info:
                call(s)
            assert repr(parts[0]) in str(info.value)


def plain_empty(answer: Any) -> bool:
    """Whether an answer holds nothing (a list, dict, frame or query)."""
    return (
        answer.count() == 0
        if hasattr(answer, "count") and not isinstance(answer, list)
        else len(answer) == 0
    )


def test_a_real_job_among_hostile_ids_is_the_real_answer(unchanged: None) -> None:
    tree = sample_tree("query/685000.tgz")
    assert eq.get_procs("685000", fmt="orm").count() == tree.number_of_nodes()
    assert len(eq.get_roots(["685000"], fmt="terse")) == len(roots(tree))


ONE_JOB: dict[str, Callable[[Any], Any]] = {
    "root": lambda job: eq.root(job),
    "get_job_status": lambda job: eq.get_job_status(job),
    "critical_path": lambda job: eq.critical_path(job),
    "tree_diff": lambda job: eq.tree_diff(job, job),
    "get_job_annotations": lambda job: eq.get_job_annotations(job),
    "annotate_job": lambda job: eq.annotate_job(job, {"a": 1}),
    "remove_job_annotations": lambda job: eq.remove_job_annotations(job),
    "get_job_analyses": lambda job: eq.get_job_analyses(job),
    "set_job_analyses": lambda job: eq.set_job_analyses(job, {"a": 1}),
    "remove_job_analyses": lambda job: eq.remove_job_analyses(job),
    "Operation": lambda job: eq.Operation(job, "op:hsmget"),
    "get_ops": lambda job: eq.get_ops(job),
}


@pytest.mark.parametrize("name", ONE_JOB)
def test_hostile_job_id_is_not_loaded(name: str, unchanged: None) -> None:
    """One-job questions and setters refuse a hostile id with a clear error."""
    for s in HOSTILE:
        # a string is split on commas and stripped; a dict names the job exactly
        forms = [s] if s == s.strip() and "," not in s else [s, {"jobid": s}]
        for job in forms:
            with pytest.raises(QueryError, match=NOT_LOADED):
                ONE_JOB[name](job)
    for s in HOSTILE:
        with pytest.raises(QueryError, match="no process"):
            eq.ancestry(f"{s}:0")
        with pytest.raises(QueryError, match="no process"):
            eq.get_thread_metrics(f"{s}:0")


# --- (b) hostile tag keys and values ---------------------------------------------------------


def test_hostile_tags_select_nothing(unchanged: None) -> None:
    """As dicts and as ``k:v;k2:v2`` strings, on the sample jobs: nothing matches (a list
    of tags is "any of them", so one question asks for every hostile tag at once)."""
    alternatives: list[Any] = []
    for s in TAG_SAFE:
        alternatives += [{s: s}, f"op:hsmget;{s}:{s}"]
    small = S[1:]  # every alternative against every process: the small jobs only
    assert eq.get_procs(small, tags=alternatives, fmt="orm").count() == 0
    assert eq.get_procs(small, tags=alternatives, exact_tag_only=True, fmt="terse") == []
    assert eq.get_jobs(S, tags=alternatives, fmt="terse") == []
    assert eq.get_op_metrics(small, tags=alternatives, fmt="dict") == []
    assert eq.get_ops(small, tags=alternatives) == []
    everything = {s: s for s in TAG_SAFE}
    assert eq.get_jobs(S, annotations=everything, analyses=everything, fmt="terse") == []
    for s in TAG_SAFE:
        assert eq.op_roots(S, {s: s}, fmt="terse") == eq.op_roots(S, f"op:{s}") == []
        assert eq.get_job_tags(S, tag_filter={s: s}) == {}
        assert eq.job_proc_tags(S, tag_filter=f"op:{s}") == []
        assert eq.get_jobs(S, annotations={s: s}, fmt="terse") == []
    assert eq.Operation(S, everything).processes.count() == 0


# --- (c) hostile values in fltr ---------------------------------------------------------------


def test_hostile_filter_values_are_compared_as_data(unchanged: None) -> None:
    """``==``, ``!=``, ``in_`` and ``~in_`` with every hostile value (one expression each)
    select exactly the processes whose raw papiex rows hold that value: here none. (Process
    ``args`` and ``tags`` are checked on the hostile job, whose values are known.)"""
    frame = pd.concat([raw_processes(SAMPLES / path) for path in SCANNED.values()])
    holding = frame["exename"].isin(HOSTILE) | frame["host"].isin(HOSTILE)
    fields = (eq.Process.exename, eq.Process.host)
    equal = reduce(operator.or_, (f == s for f in fields for s in HOSTILE))
    member = reduce(operator.or_, (f.in_(HOSTILE) for f in fields))
    assert len(equal.dnf()) == len(fields) * len(HOSTILE)
    assert eq.get_procs(S, fltr=equal, fmt="orm").count() == holding.sum() == 0
    assert eq.get_procs(S, fltr=member | equal, fmt="terse") == []
    assert eq.get_procs(S, fltr=~equal, fmt="orm").count() == len(frame)
    assert eq.get_procs(S, fltr=~member, fmt="orm").count() == len(frame)
    jobs = reduce(operator.or_, (eq.Job.jobname == s for s in HOSTILE))
    jobs = jobs | eq.Job.user.in_(HOSTILE) | eq.Job.jobid.in_(HOSTILE)
    assert eq.get_jobs(S, fltr=jobs, fmt="terse") == []
    assert sorted(eq.get_jobs(S, fltr=~jobs, fmt="terse")) == sorted(S)
    assert eq.get_procs(S, hosts=HOSTILE, fmt="terse") == eq.get_jobs(S, hosts=HOSTILE) == []
    for s in HOSTILE:
        assert eq.get_procs(S, fltr=eq.Process.exename == s, fmt="terse") == []
        with pytest.raises(QueryError, match="must be process fields"):
            eq.procs_histogram(S, attr=s)
        with pytest.raises(QueryError, match="string filters are not supported"):
            eq.get_procs(S, fltr=f"exename = '{s}'")


# --- a job holding hostile text: loaded and read back exactly ----------------------------------


def test_hostile_job_reads_back_exactly(hostile_job: HostileJob, unchanged: None) -> None:
    job = hostile_job
    (row,) = eq.get_jobs({"jobid": JOBID}, fmt="dict")
    assert (row["jobid"], row["user"], row["jobname"], row["tags"]) == (
        JOBID,
        USER,
        JOBNAME,
        JOB_TAGS,
    )
    assert ENV.items() <= row["env_dict"].items()
    assert eq.get_jobs(tags=JOB_TAGS, fmt="terse") == [JOBID]
    assert eq.get_jobs(tags=tag_text(JOB_TAGS), exact_tag_only=True, fmt="terse") == [JOBID]
    assert eq.get_jobs(fltr=eq.Job.jobname == JOBNAME, fmt="terse") == [JOBID]
    assert eq.get_jobs(fltr=eq.Job.user == USER, hosts=[HOST], fmt="terse") == [JOBID]
    procs = eq.get_procs(JOBID, fmt="dict")
    got = sorted(
        (p["pid"], p["host"], p["exename"], p["args"], sorted(p["tags"].items())) for p in procs
    )
    want = sorted(
        (k[1], k[0], p["exename"], p["args"], sorted(p["tags"].items()))
        for k, p in job.procs.items()
    )
    assert got == want
    assert eq.get_procs(JOBID, hosts=HOST, fmt="orm").count() == N_PROCS
    assert eq.procs_histogram(JOBID) == Counter(p["exename"] for p in job.procs.values())


def test_hostile_job_tree_questions(
    hostile_job: HostileJob, loaded_graph: Graph, unchanged: None
) -> None:
    job = hostile_job
    assert sorted(p["pid"] for p in eq.get_roots(JOBID)) == job.pids(roots(job.tree))
    root = eq.root(JOBID)
    assert (root["pid"], root["exename"]) == (job.root[1], job.procs[job.root]["exename"])
    (count,) = loaded_graph.read("process-descendant-count", uid=root["id"])
    assert count["n"] == descendant_counts(job.tree)[job.root]
    for tag in PROC_TAGS[1:]:
        carrying = job.carrying(tag)
        assert eq.get_procs(JOBID, tags=tag, fmt="orm").count() == len(carrying)
        assert eq.get_procs(JOBID, tags=tag_text(tag), fmt="orm").count() == len(carrying)
        exact = eq.get_procs(JOBID, tags=tag, exact_tag_only=True, fmt="orm").count()
        assert exact == sum(job.procs[k]["tags"] == tag for k in carrying)
        opr = eq.op_roots(JOBID, tag)
        assert sorted(p["pid"] for p in opr) == job.pids(job.op_roots(tag))
        (metrics,) = eq.get_op_metrics(JOBID, tags=tag, fmt="dict")
        assert metrics["num_procs"] == len(carrying)
    untagged = [k for k, p in job.procs.items() if not p["tags"]]
    assert eq.get_procs(JOBID, tags="", fmt="orm").count() == len(untagged)
    distinct = {tag_text(dict(sorted(t.items()))) for t in PROC_TAGS[1:]}
    assert {tag_text(t) for t in eq.job_proc_tags(JOBID)} == distinct
    for name in set(EXENAMES):
        wanted = sum(p["exename"] == name for p in job.procs.values())
        assert eq.get_procs(JOBID, fltr=eq.Process.exename == name, fmt="orm").count() == wanted
        others = eq.get_procs(JOBID, fltr=~eq.Process.exename.in_([name]), fmt="orm").count()
        assert others == N_PROCS - wanted
    for args in ARGS:
        wanted = sum(p["args"] == args for p in job.procs.values())
        assert eq.get_procs(JOBID, fltr=eq.Process.args == args, fmt="orm").count() == wanted
    first_args = eq.get_procs(JOBID, fltr=eq.Process.args.in_(ARGS[:2]), fmt="orm").count()
    assert first_args == sum(p["args"] in ARGS[:2] for p in job.procs.values())
    for tag in PROC_TAGS:
        canonical = tag_text(dict(sorted(tag.items())))
        wanted = sum(p["tags"] == tag for p in job.procs.values())
        assert eq.get_procs(JOBID, fltr=eq.Process.tags == canonical, fmt="orm").count() == wanted


def test_hostile_annotations_round_trip(hostile_job: HostileJob, unchanged: None) -> None:
    """Hostile annotation and analysis keys and values are stored and matched as data;
    the job's annotations are put back as they were."""
    original = eq.get_job_annotations(JOBID)
    assert original == {"EPMT_JOB_TAGS": tag_text(dict(sorted(JOB_TAGS.items())))}
    hostile = {s: s for s in HOSTILE}
    try:
        assert eq.annotate_job(JOBID, hostile) == {**original, **hostile}
        assert eq.get_jobs(annotations={HOSTILE[4]: HOSTILE[4]}, fmt="terse") == [JOBID]
        assert eq.annotate_job(JOBID, tag_text(JOB_TAGS), replace=True) == JOB_TAGS
        small = {s: s for s in HOSTILE[:-1]}  # analyses are capped at 64 KiB
        assert eq.set_job_analyses(JOBID, small) == small
        assert eq.get_jobs(analyses={HOSTILE[5]: HOSTILE[5]}, fmt="terse") == [JOBID]
    finally:
        eq.annotate_job(JOBID, original, replace=True)
        eq.remove_job_analyses(JOBID)
    assert eq.get_job_annotations(JOBID) == original
