"""EPMT 5.0.1's own Explore-API tests, ``epmt/test/test_explore.py``, unmodified, on the
graph.

Run as ``test_epmt_conformance.py`` runs ``test_query.py`` (``epmt_run.py``), with
``epmt.epmt_exp_explore`` being ``epmt_graph.explore`` (``epmt_aliases.py``). The file
deletes and reloads jobs 685000 and 685003 from the wheel's ``test/data/query/`` and
deletes them at the end, so it runs on a Neo4j server of its own.

Both tests pass on EPMT 5.0.1 itself, in its own venv on SQLite
(``benchmarks/epmt_ref/own_tests.py epmt.test.test_explore``). Each is one test here: it
must pass, unless :data:`EXPECTED_GAPS` lists it (not done yet; a listed test that passes,
or fails otherwise than listed, fails here).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from epmt_run import EpmtFile, Outcome, judge, run_file, unpack
from graph_fixtures import throwaway_server

#: EPMT's tests in test_explore.py (pytest runs them in this, alphabetical, order).
EPMT_TESTS = ("test_exp_find_jobs", "test_missing_segments")
#: ``epmt/test/test_explore.py`` in the epmt 5.0.1 wheel, with its sha256 and data.
TEST_EXPLORE = EpmtFile(
    "epmt/test/test_explore.py",
    "b76dca0254f41ea61eee937b54157f38dd80a203c601cb16bdbd7282fb0cbab1",
    ("epmt/test/data/query/",),
    EPMT_TESTS,
)

#: Not yet: EPMT test -> (what epmt_graph lacks, a fragment of the failure it causes now).
#: Remove an entry when its test passes.
EXPECTED_GAPS: dict[str, tuple[str, str]] = {}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Outcome]]:
    """Run the unmodified file with the aliases on a server of its own; each test's
    outcome, by name."""
    unpacked = unpack(tmp_path_factory.mktemp("epmt-wheel"), TEST_EXPLORE)
    with throwaway_server(tmp_path_factory.mktemp("explore-server")) as server:
        yield run_file(unpacked, TEST_EXPLORE, server)


def test_the_run_has_epmts_2_tests(outcomes: dict[str, Outcome]) -> None:
    assert sorted(outcomes) == sorted(EPMT_TESTS)
    assert set(EXPECTED_GAPS) <= set(EPMT_TESTS)


@pytest.mark.parametrize("name", EPMT_TESTS)
def test_epmt(name: str, outcomes: dict[str, Outcome]) -> None:
    """EPMT's test ``name`` passed, or failed as EXPECTED_GAPS says."""
    judge(name, outcomes[name], EXPECTED_GAPS)
