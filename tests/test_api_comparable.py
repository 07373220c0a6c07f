"""Job comparability against EPMT 5.0.1's answers on the sample jobs
(``fixtures/epmt/refmodels.json``): partitions, their order and values, and
``are_jobs_comparable``, on the query jobs and mixes with the submit, daemon and tsv jobs."""

from __future__ import annotations

from typing import Any

import pytest
from epmt_answers import plain, refmodels, workbook

import epmt_graph.api as eq
from epmt_graph.db import Graph
from epmt_graph.errors import QueryError

Q = ["685000", "685003", "685016"]
CASES: list[tuple[str, Any]] = [
    ("query_jobs", Q),
    ("query_jobs + ['692544']", [*Q, "692544"]),
    ("['685016', '692544']", ["685016", "692544"]),
    ("query_jobs + ['692500', '3455']", [*Q, "692500", "3455"]),
    ("untagged", ["3455", "2220", "12340"]),
    ("['nosuch']", ["nosuch"]),
    ("'685000, 691201'", "685000, 691201"),
]


@pytest.mark.parametrize(("label", "jobs"), CASES)
def test_partitions_match_epmt(loaded_graph: Graph, label: str, jobs: Any) -> None:
    ours = eq.comparable_job_partitions(jobs)
    assert plain(ours) == refmodels(f"comparable_job_partitions({label})")
    assert eq.are_jobs_comparable(jobs) is refmodels(f"are_jobs_comparable({label})")


def test_partitions_of_every_job_match_epmt(loaded_graph: Graph) -> None:
    # EPMT lists every job in its database's load order; ours by id: compare as sets
    ours = [[values, sorted(ids)] for values, ids in plain(eq.comparable_job_partitions([]))]
    theirs = [[values, sorted(ids)] for values, ids in refmodels("comparable_job_partitions([])")]
    assert ours == theirs
    assert eq.are_jobs_comparable([]) is refmodels("are_jobs_comparable([])")


@pytest.mark.parametrize("keys", [["exp_name"], ["exp_time"], ["exp_name", "ocn_res", "exp_time"]])
def test_matching_keys_match_epmt(loaded_graph: Graph, keys: list[str]) -> None:
    jobs = [*Q, "691201", "692544"]
    label = f"comparable_job_partitions(query_jobs + ['691201', '692544'], matching_keys={keys})"
    assert plain(eq.comparable_job_partitions(jobs, matching_keys=keys)) == refmodels(label)
    label = f"are_jobs_comparable(query_jobs, matching_keys={keys})"
    assert eq.are_jobs_comparable(Q, matching_keys=keys) is refmodels(label)


def test_workbook_answers(loaded_graph: Graph) -> None:
    key = "comparable_job_partitions(query_jobs)"
    assert plain(eq.comparable_job_partitions(Q)) == workbook(key)
    assert eq.are_jobs_comparable(Q) is workbook("are_jobs_comparable(query_jobs)")


def test_bad_arguments(loaded_graph: Graph) -> None:
    with pytest.raises(QueryError, match="matching_keys"):
        eq.comparable_job_partitions(Q, matching_keys="exp_name")
    with pytest.raises(QueryError, match="no jobs"):
        eq.analyze_comparable_jobs([])
    with pytest.raises(QueryError, match="not loaded"):
        eq.analyze_comparable_jobs(["685016", "nosuch"])
    assert eq.get_job_analyses("685016") == {}


def test_analyze_without_model(loaded_graph: Graph) -> None:
    """Four comparable jobs (here: the untagged ones and a fourth given the same key), no
    model: all three classifiers at their default thresholds, against a hand computation."""
    jobs = ["3455", "2220", "12340", "692500"]
    frame = eq.get_jobs(jobs, fmt="pandas").set_index("jobid")
    try:
        assert eq.analyze_comparable_jobs(jobs, check_comparable=False, keys=("no_such_key",)) == 1
        (run,) = eq.get_job_analyses("3455")["outlier_detection"]
        assert run["model_id"] is None
        for feature in ("cpu_time", "duration", "num_procs"):
            values = frame[feature]
            median = values.median()
            mad = (values - median).abs().median() or (values - median).abs().mean()
            q1, q3 = values.quantile(0.25), values.quantile(0.75)
            z = ((values - round(values.mean(), 4)) / round(values.std(ddof=0), 4)).abs()
            out = (
                (0.6745 * (values - median).abs() / mad > 3.5)
                | (values > q3 + 1.5 * (q3 - q1))
                | (values < q1 - 1.5 * (q3 - q1))
                | (z > 3.0)
            )
            expected = [sorted(values.index[~out]), sorted(values.index[out])]
            assert run["results"][feature] == expected, feature
    finally:
        for job in jobs:
            eq.remove_job_analyses(job)
