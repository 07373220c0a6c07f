"""Atomic loads under SIGKILL (issue 7): kill the loader, or the Neo4j server, mid-load; and
concurrent writers of one job id, one of them killed (issue 15).

After every kill the job is absent or whole (the oracle's process and PARENT_OF counts,
roots and depth), nothing is orphaned, a load acknowledged before the fault survives it, and
re-running the load completes the job; what a killed writer left is removed by one delete
once its lease has run out. By default a reduced campaign runs (4 loader kills, 1 server
kill, a 5,000-process synthetic job, 3 races); ``--stress`` runs the full one (20 loader
kills, 5 server kills, 20,000 processes, 27 races). ``benchmarks/reliability.py`` runs the
full one and records its figures in ``docs/reliability.md``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from campaign import (
    FULL,
    REDUCED,
    SEED,
    Archive,
    Expected,
    Observed,
    Sizes,
    Window,
    archive_paths,
    expect,
    observe,
    orphans,
    plans,
    prepare,
)
from kills import (
    Trial,
    loader_campaign,
    loader_target,
    server_campaign,
    summarize,
)
from leases import sweep
from racing import JOBID, make_contents, race_campaign, race_plan

from epmt_graph.db import Graph
from epmt_graph.loader import delete_job, load_job

pytestmark = pytest.mark.stress

PARTIAL_JOB = "kill-campaign-partial"
EMPTY_JOB = "kill-campaign-empty"
_MAKE_PARTIAL = """
CREATE (:JobHead {jobid: $jobid, version: 1})
CREATE (j:Job {jobid: $jobid, version: 1})
WITH j
UNWIND range(0, $n - 1) AS i
CREATE (p:Process {jobid: $jobid, version: 1, uid: $jobid + ':' + toString(i), idx: i,
                   depth: 0, inclusive_cpu_time: 0})-[:BELONGS_TO]->(j)
"""
_MAKE_STRAY = "CREATE (:Process {jobid: $jobid, version: 1, uid: $jobid + ':stray', idx: -1})"
_MAKE_EMPTY = "CREATE (:Job {jobid: $jobid, version: 1})"


@pytest.fixture(scope="module")
def sizes(request: pytest.FixtureRequest) -> Sizes:
    """The full campaign with ``--stress``, else the reduced one."""
    return FULL if request.config.getoption("--stress") else REDUCED


@pytest.fixture(scope="module")
def archives(
    graph: Graph, sizes: Sizes, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Archive]]:
    """Every archive of the campaign with its oracle counts and load window.

    Sample jobs already loaded (shared by other tests) are deleted for the campaign and
    loaded again afterwards.
    """
    paths = archive_paths(sizes, tmp_path_factory.mktemp("synthetic"))
    expected = {name: expect(path) for name, path in paths.items()}
    present = [n for n, e in expected.items() if observe(graph, e.jobid).state(e) != "absent"]
    for name in present:
        delete_job(graph, expected[name].jobid)
    try:
        yield prepare(graph, paths, expected)
    finally:
        for name in present:
            delete_job(graph, expected[name].jobid)
            load_job(paths[name], graph=graph)


def _failures(trials: list[Trial]) -> list[Trial]:
    print(summarize(trials))
    for trial in trials:
        print(trial)
    return [t for t in trials if not t.ok]


@pytest.mark.parametrize(
    ("observed", "state"),
    [
        (Observed(0, 0, 0, 0, 0, 0, 0, -1), "absent"),
        (Observed(1, 5, 5, 3, 3, 5, 2, 2), "whole"),
        (Observed(1, 0, 0, 0, 0, 0, 0, -1), "partial"),  # the Job node alone
        (Observed(0, 5, 0, 3, 3, 5, 2, 2), "partial"),  # processes without their Job
        (Observed(1, 4, 4, 3, 3, 4, 2, 2), "partial"),  # a process missing
        (Observed(1, 5, 5, 2, 2, 5, 2, 2), "partial"),  # a PARENT_OF edge missing
        (Observed(1, 5, 4, 3, 3, 5, 2, 2), "partial"),  # a process not BELONGS_TO its Job
        (Observed(1, 5, 5, 3, 4, 5, 2, 2), "partial"),  # an edge in from another job
        (Observed(1, 5, 5, 3, 3, 4, 2, 2), "partial"),  # tree walks not done
        (Observed(1, 5, 5, 3, 3, 5, 3, 2), "partial"),  # wrong roots
        (Observed(1, 5, 5, 3, 3, 5, 2, 1), "partial"),  # wrong depth
    ],
)
def test_states(observed: Observed, state: str) -> None:
    expected = Expected("x", processes=5, edges=3, roots=2, max_depth=2)
    assert observed.state(expected) == state


@pytest.mark.parametrize(
    ("fraction", "target"), [(0.0, 0.0), (0.125, 2.0), (0.25, 4.0), (0.625, 7.0), (1.0, 10.0)]
)
def test_a_quarter_of_the_loader_kills_go_to_the_parse(fraction: float, target: float) -> None:
    assert loader_target(Window(total=10.0, write_start=4.0), fraction) == pytest.approx(target)


def test_the_checks_see_a_partial_job_and_orphans(graph: Graph) -> None:
    """A campaign proves something only if its checks can fail: build what they must catch."""
    expected = Expected(PARTIAL_JOB, processes=5, edges=0, roots=5, max_depth=0)
    assert observe(graph, PARTIAL_JOB).state(expected) == "absent"
    before = orphans(graph)
    try:
        graph.driver.execute_query(_MAKE_PARTIAL, jobid=PARTIAL_JOB, n=3)
        assert observe(graph, PARTIAL_JOB).state(expected) == "partial"
        graph.driver.execute_query(_MAKE_EMPTY, jobid=EMPTY_JOB)
        graph.driver.execute_query(_MAKE_STRAY, jobid=PARTIAL_JOB)
        assert orphans(graph) == {
            "processes_without_job": before["processes_without_job"] + 1,
            "jobs_without_processes": before["jobs_without_processes"] + 1,
        }
        assert observe(graph, PARTIAL_JOB).processes == 4
    finally:
        delete_job(graph, PARTIAL_JOB)
        delete_job(graph, EMPTY_JOB)
    assert observe(graph, PARTIAL_JOB).state(expected) == "absent"
    assert orphans(graph) == before


def test_loader_kills_leave_jobs_whole_or_absent(
    graph: Graph, archives: dict[str, Archive], sizes: Sizes
) -> None:
    trials = loader_campaign(graph, plans(sizes)[0], archives)
    swept = sweep(graph, {archive.expected.jobid for archive in archives.values()})
    print(swept)
    assert len(trials) == sizes.loader_kills
    assert _failures(trials) == []
    assert summarize(trials).faults >= 1
    assert swept.removed


def test_server_kills_leave_jobs_whole_or_absent(
    archives: dict[str, Archive], sizes: Sizes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = tmp_path_factory.mktemp("killed-server")
    trials, swept = server_campaign(home, plans(sizes)[1], archives)
    print(swept)
    assert len(trials) == sizes.server_kills
    assert _failures(trials) == []
    assert swept.removed


def test_concurrent_writers_leave_jobs_whole_or_absent(
    graph: Graph, sizes: Sizes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Two ``load --replace`` and a ``delete`` of one job id at once, one of them killed."""
    paths = make_contents(tmp_path_factory.mktemp("racing"))
    races, windows = race_campaign(graph, paths, race_plan(sizes.writers, SEED))
    swept = sweep(graph, [JOBID])
    print(windows, swept, *races, sep="\n")
    assert len(races) == sizes.writers
    assert [str(race) for race in races if not race.ok] == []
    assert sum(race.injected for race in races) >= 1
    assert swept.removed
