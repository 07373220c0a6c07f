"""Every hostile input of the unit tests, fed to ``epmt-graph load`` (issue 7).

Each must be refused with one ``epmt-graph: error:`` line giving the reason the unit test
expects, write nothing, and run no payload. By default the job-shaped inputs go through one
``epmt-graph load`` (which goes on after a refused job); with ``--stress`` each gets its own
command, and the decompression bombs (gigabytes of zeros) are tried too.
``benchmarks/reliability.py`` does the latter and records the figures.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from campaign import run_cli
from hostile import CONTROL_JOBID, BadInput, Outcome, build, control, try_input, try_together

from epmt_graph.db import Graph
from epmt_graph.loader import delete_job

pytestmark = pytest.mark.stress

KINDS = {
    "unsafe tar member",
    "missing part",
    "damaged archive",
    "unsafe job directory",
    "not a job",
    "corrupted sample",
    "malformed rows",
    "bad metadata",
    "hostile pickle",
    "unreadable pickle",
}


@pytest.fixture(scope="module")
def stress(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--stress"))


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory: pytest.TempPathFactory, stress: bool) -> list[BadInput]:
    return build(tmp_path_factory.mktemp("hostile"), bombs=stress)


def test_the_control_job_loads(graph: Graph, tmp_path: Path) -> None:
    """The valid job every bad input is built on loads: the refusals are owed to the rest."""
    directory, archive = control(tmp_path)
    try:
        first = run_cli(graph.connection, "load", str(directory))
        assert first.returncode == 0, first.stderr
        assert first.stdout.startswith(f"job {CONTROL_JOBID}: loaded, 1 processes, 1 roots")
        again = run_cli(graph.connection, "load", str(archive))
        assert again.returncode == 0, again.stderr
        assert again.stdout.startswith(f"job {CONTROL_JOBID}: unchanged, 1 processes")
    finally:
        delete_job(graph, CONTROL_JOBID)


def test_every_bad_input_is_refused(graph: Graph, bad_inputs: list[BadInput], stress: bool) -> None:
    assert {bad.kind for bad in bad_inputs} == KINDS | ({"decompression bomb"} if stress else set())
    outcomes: list[Outcome]
    if stress:
        outcomes = [try_input(graph, bad) for bad in bad_inputs]
    else:
        jobs = [bad for bad in bad_inputs if bad.kind != "not a job"]
        outcomes = try_together(graph, jobs)
        outcomes += [try_input(graph, bad) for bad in bad_inputs if bad.kind == "not a job"]
    assert len(outcomes) == len(bad_inputs)
    assert [o for o in outcomes if not o.rejected] == []
