"""Every notebook in ``notebooks/`` runs end to end (nbclient) against the test server, leaves
the database as it found it, and is kept with its outputs as a run gives them; the query
workbook shows EPMT's published answers.

The notebooks run as ``./dev notebooks`` runs them (``notebook_runner.py``): in kernels of
the interpreter running the tests (the project's venv), so they import the ``epmt_graph``
under test, reaching the test server through ``NEO4J_URI`` (and ``NEO4J_PASSWORD`` when the
server has one) and the sample archives through ``EPMT_SAMPLES``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import nbformat
import pytest
from constants import GOOD_FOLDERS
from notebook_runner import NOTEBOOKS, Runner, stored_form

from epmt_graph.db import Graph
from epmt_graph.loader import delete_job, find_jobs, load_job
from epmt_graph.tree.picture import BROWSERS

QUERY_API = NOTEBOOKS / "query-api.ipynb"
TREE_WALK = NOTEBOOKS / "process-tree-walk.ipynb"
NOTEBOOK_PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))

Snapshot = dict[str, Any]
Run = tuple[nbformat.NotebookNode, Snapshot, Snapshot]


def snapshot(graph: Graph) -> Snapshot:
    """What a notebook must not change: node and edge counts, each job's metadata."""
    run = graph.driver.execute_query
    nodes = run("MATCH (n) RETURN count(n) AS n").records[0]["n"]
    edges = run("MATCH ()-[r]->() RETURN count(r) AS n").records[0]["n"]
    jobs = run(
        "MATCH (j:Job) RETURN j.jobid AS jobid, j.tags AS tags, "
        "j.annotations_json AS annotations, j.analyses_json AS analyses"
    ).records
    return {
        "nodes": nodes,
        "edges": edges,
        "jobs": {r["jobid"]: (r["tags"], r["annotations"], r["analyses"]) for r in jobs},
    }


@pytest.fixture(scope="module")
def run_notebook(
    loaded_graph: Graph, samples: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[Path], Run]:
    """Executes a notebook once (later calls give the same run): the executed notebook and
    database snapshots before and after. The sample jobs are loaded first (again, if another
    test deleted one); jobs the notebook left behind are deleted."""
    runner = Runner(loaded_graph.connection, tmp_path_factory.mktemp("jupyter"), samples)

    @cache
    def run(path: Path) -> Run:
        for job in find_jobs([samples / folder for folder in GOOD_FOLDERS]):
            load_job(job, graph=loaded_graph)  # "unchanged" when loaded
        before = snapshot(loaded_graph)
        try:
            notebook = runner.execute(path)
        finally:
            after = snapshot(loaded_graph)
            for jobid in sorted(set(after["jobs"]) - set(before["jobs"])):
                delete_job(loaded_graph, jobid)
        return notebook, before, after

    return run


def text_of(cell: nbformat.NotebookNode) -> str:
    """A code cell's printed text and the plain text of its results."""
    parts = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":
            parts.append(output["text"])
        elif output["output_type"] in ("execute_result", "display_data"):
            parts.append(output["data"].get("text/plain", ""))
    return "\n".join(parts).strip()


def output_of(notebook: nbformat.NotebookNode, snippet: str) -> str:
    """The output of the one code cell whose source contains ``snippet``."""
    cells = [c for c in notebook.cells if c.cell_type == "code" and snippet in c.source]
    assert len(cells) == 1, f"{len(cells)} code cells contain {snippet!r}"
    return text_of(cells[0])


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=lambda p: p.name)
def test_notebook_runs_and_leaves_the_database_unchanged(
    path: Path, run_notebook: Callable[[Path], Run]
) -> None:
    notebook, before, after = run_notebook(path)
    counts = [c.execution_count for c in notebook.cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1))  # nbclient stops at a cell in error
    assert after == before


def outline(notebook: nbformat.NotebookNode) -> list[Any]:
    """Each cell's kind, source and execution count, and its outputs' kinds and formats."""
    return [
        (
            cell.cell_type,
            cell.source,
            cell.get("execution_count"),
            [
                (out.output_type, out.get("name"), sorted(out.get("data", {})))
                for out in cell.get("outputs", [])
            ],
        )
        for cell in notebook.cells
    ]


def pictures(notebook: nbformat.NotebookNode) -> list[Any]:
    """The outputs of ``notebook`` that hold a PNG."""
    outputs = [out for cell in notebook.cells for out in cell.get("outputs", [])]
    return [out for out in outputs if "image/png" in out.get("data", {})]


@pytest.fixture
def chromium() -> None:
    """The tree walk's picture is drawn by Chromium; without it, the cell says why."""
    if not any(shutil.which(name) for name in BROWSERS):
        pytest.skip("missing optional tool: Chromium, which draws the tree walk's picture")


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=lambda p: p.name)
def test_notebook_is_stored_with_the_outputs_of_a_run(
    path: Path, run_notebook: Callable[[Path], Run], chromium: None
) -> None:
    """As ``./dev notebooks`` leaves it: the outputs a run gives now, of the same kinds and
    formats (their values may differ: this database holds other tests' jobs too), kept in
    :func:`stored_form` (no timings, no versions)."""
    stored = nbformat.read(path, as_version=4)
    nbformat.validate(stored)
    fresh, _, _ = run_notebook(path)
    assert outline(stored) == outline(stored_form(fresh)), "refresh them: ./dev notebooks"
    assert nbformat.writes(stored) == nbformat.writes(stored_form(stored))
    printed = [out.get("text", "") for cell in stored.cells for out in cell.get("outputs", [])]
    assert not [text for text in printed if "/tmp/" in text]  # file names, not temporary paths


def test_the_tree_walk_is_stored_as_it_runs(
    run_notebook: Callable[[Path], Run], chromium: None
) -> None:
    """The tree walk reads job 685000 only, so a run shows exactly what is stored, its
    picture included (whose bytes depend on the Chromium that drew it)."""
    fresh, _, _ = run_notebook(TREE_WALK)
    stored, fresh = nbformat.read(TREE_WALK, as_version=4), stored_form(fresh)
    assert len(pictures(stored)) == len(pictures(fresh)) == 1
    for picture in pictures(stored) + pictures(fresh):
        picture["data"]["image/png"] = "a PNG"
    assert nbformat.writes(stored) == nbformat.writes(fresh)


def test_query_workbook_shows_epmt_answers(run_notebook: Callable[[Path], Run]) -> None:
    """EPMT 5.0.1's published facts, and its answers for the workbook's calls on these jobs
    (``fixtures/epmt/answers.json``), as the notebook prints them."""
    notebook, _, _ = run_notebook(QUERY_API)

    def out(snippet: str) -> str:
        return output_of(notebook, snippet)

    assert out(";exp_time:18840101") == "['685000', '685003', '685016']"
    assert out("limit=2, offset=1") == "['685003', '685000']"
    partitions = out("eq.comparable_job_partitions(jobs)")
    assert [partitions.index(j) for j in ("685016", "685003", "685000")] == sorted(
        partitions.index(j) for j in ("685016", "685003", "685000")
    )  # EPMT's order: by decreasing total duration
    assert out("eq.are_jobs_comparable(jobs),") == "(False, True)"
    scores = out('model["computed"]["modified_z_score"]')
    assert scores.startswith("{'cpu_time': [10.8055, 113135329")
    assert out("found == [ident]") == "(True, ['cpu_time', 'duration', 'num_procs'], True)"
    assert out("eq.delete_refmodels(model") == "1"
    assert out("hsmget_op_procs.count()") == "5209"
    assert out('print("op_sequence 4:"') == "op_sequence 4: 270 op_sequence 5: 285 either: 555"
    assert out('print("processes over 1 s:"') == "processes over 1 s: 630 longest: 7005558348"
    assert out('print("running at 07:53:"') == "running at 07:53: [6098, 6226]"
    assert out("eq.ops_costs(") == "42.125"
    assert out('ops.loc[0, "num_runs"]') == "(np.int64(27), 5209)"
    assert out("failed_procs.count()") == "106"
    # the process-tree walk on 685016
    assert out("[p.pid for p in procs]") == (
        "[39875, 39642, 149097, 144285, 128840, 186577, 151548, 38022, 38861, 38601]"
    )
    assert out("len(parent.children), len(parent.descendants)").endswith("122181,\n 735,\n 3381)")
    assert out("root_procs.count()") == "32"
    # ours, not EPMT's: the job's shell roots the dmput operation (EPMT finds no root)
    dmput_roots = out('eq.op_roots("685000", "op:dmput"')
    assert "tcsh" in dmput_roots and "6098" in dmput_roots
    # copies only: analysed, then deleted
    assert out("num_filters_executed = eq.analyze_pending_jobs(analyzed)") == "1"
    assert out("# again: nothing is pending") == "0"
    assert out("eq.delete_jobs(annotated)") == "1"
    assert out("eq.delete_jobs(analyzed[:2], force=True)") == "2"
    assert out("eq.delete_jobs(analyzed, force=True, before=-30)") == "2"
