"""Every notebook in ``notebooks/`` runs end to end (nbclient) against the test server, leaves
the database as it found it, and the query workbook shows EPMT's published answers.

The kernel is ``python3`` from a kernel spec made here for the interpreter running the tests
(the project's venv), so the notebooks import the ``epmt_graph`` under test. It reaches the
test server through ``NEO4J_URI`` (and ``NEO4J_PASSWORD`` when the server has one) and the
sample archives through ``EPMT_SAMPLES``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import nbformat
import pytest
from constants import GOOD_FOLDERS
from ipykernel.kernelspec import write_kernel_spec
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from epmt_graph.db import Graph
from epmt_graph.loader import delete_job, find_jobs, load_job

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
QUERY_API = NOTEBOOKS / "query-api.ipynb"
#: Seconds a single cell may take.
CELL_TIMEOUT = 300

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


def kernel_env(graph: Graph, samples: Path, ipython_dir: Path) -> dict[str, str]:
    """The environment of the notebook kernel: the test server, the samples."""
    conn = graph.connection
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    env |= {
        "NEO4J_URI": conn.uri,
        "NEO4J_USER": conn.user,
        "NEO4J_DATABASE": conn.database,
        "EPMT_SAMPLES": str(samples),
        "IPYTHONDIR": str(ipython_dir),
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }
    if conn.password is not None:
        env["NEO4J_PASSWORD"] = conn.password
    return env


@pytest.fixture(scope="module")
def run_notebook(
    loaded_graph: Graph, samples: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[Path], Run]:
    """Executes a notebook once (later calls give the same run): the executed notebook and
    database snapshots before and after. The sample jobs are loaded first (again, if another
    test deleted one); jobs the notebook left behind are deleted."""
    home = tmp_path_factory.mktemp("jupyter")
    write_kernel_spec(home / "kernels" / "python3")  # argv: this interpreter
    specs = KernelSpecManager(kernel_dirs=[str(home / "kernels")])
    env = kernel_env(loaded_graph, samples, home / "ipython")

    @cache
    def run(path: Path) -> Run:
        notebook = nbformat.read(path, as_version=4)
        client = NotebookClient(
            notebook,
            km=KernelManager(kernel_spec_manager=specs),
            kernel_name="python3",
            timeout=CELL_TIMEOUT,
            resources={"metadata": {"path": str(path.parent)}},
        )
        for job in find_jobs([samples / folder for folder in GOOD_FOLDERS]):
            load_job(job, graph=loaded_graph)  # "unchanged" when loaded
        before = snapshot(loaded_graph)
        try:
            client.execute(env=env)
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


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebook_runs_and_leaves_the_database_unchanged(
    path: Path, run_notebook: Callable[[Path], Run]
) -> None:
    notebook, before, after = run_notebook(path)
    errors = [
        f"cell {i}: {o['ename']}: {o['evalue']}"
        for i, cell in enumerate(notebook.cells)
        for o in cell.get("outputs", [])
        if o["output_type"] == "error"
    ]
    assert errors == []
    assert all(c.get("execution_count") for c in notebook.cells if c.cell_type == "code")
    assert after == before


def test_notebooks_are_stored_without_outputs() -> None:
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        run = [i for i, c in enumerate(cells) if c.get("outputs") or c.get("execution_count")]
        assert run == [], f"{path.name}: clear the outputs of cells {run}"


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
