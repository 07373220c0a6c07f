"""Every notebook in ``notebooks/`` runs end to end (nbclient) against the test server, leaves
the database as it found it, and the query workbook and the outlier notebook show EPMT's
published answers.

The kernel is ``python3`` from a kernel spec made here for the interpreter running the tests
(the project's venv), so the notebooks import the ``epmt_graph`` under test. It reaches the
test server through ``NEO4J_URI`` (and ``NEO4J_PASSWORD`` when the server has one) and the
sample archives through ``EPMT_SAMPLES``.
"""

from __future__ import annotations

import ast
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
OUTLIERS = NOTEBOOKS / "outliers.ipynb"
#: EPMT's answers for the Explore API's calls on the sample jobs (``test_explore.py``).
EXPLORE_ANSWERS = Path(__file__).parent / "fixtures" / "epmt" / "explore.json"
#: EPMT's outlier sample jobs (the wheel's ``test/data/outliers``), by start time.
KERN_REFS = ["kern-6656-20190614-190245", "kern-6656-20190614-191138", "kern-6656-20190614-194024"]
KERN_OUTLIER = "kern-6656-20190614-192044-outlier"
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


def cell_of(notebook: nbformat.NotebookNode, snippet: str) -> nbformat.NotebookNode:
    """The one code cell whose source contains ``snippet``."""
    cells = [c for c in notebook.cells if c.cell_type == "code" and snippet in c.source]
    assert len(cells) == 1, f"{len(cells)} code cells contain {snippet!r}"
    return cells[0]


def output_of(notebook: nbformat.NotebookNode, snippet: str) -> str:
    """The output of the one code cell whose source contains ``snippet``."""
    return text_of(cell_of(notebook, snippet))


def result_of(notebook: nbformat.NotebookNode, snippet: str, kind: str = "text/plain") -> str:
    """The result (``kind``) of the one code cell whose source contains ``snippet``."""
    found = [
        o["data"][kind]
        for o in cell_of(notebook, snippet).get("outputs", [])
        if o["output_type"] in ("execute_result", "display_data") and kind in o["data"]
    ]
    assert len(found) == 1, f"{len(found)} {kind} results of the cell with {snippet!r}"
    return str(found[0])


def printed_of(notebook: nbformat.NotebookNode, snippet: str) -> str:
    """What the one code cell whose source contains ``snippet`` printed on stdout."""
    outputs = cell_of(notebook, snippet).get("outputs", [])
    return "".join(o["text"] for o in outputs if o.get("name") == "stdout")


def frame_rows(text: str) -> list[list[str]]:
    """The lines of a DataFrame's plain text, header first, split at whitespace; pandas
    wraps a wide frame into blocks of columns (blank-line separated, each row's index
    repeated, ending in ``\\``), joined again here."""
    blocks = [block.splitlines() for block in text.strip().split("\n\n")]
    rows = []
    for number, (line, *more) in enumerate(zip(*blocks, strict=True)):
        cells = line.split()
        for rest in more:  # the header has no index
            cells += rest.split()[0 if number == 0 else 1 :]
        rows.append([cell for cell in cells if cell != "\\"])
    return rows


def by_job(text: str) -> tuple[list[str], dict[str, list[float]]]:
    """A printed frame of ``jobid`` and numbers: its columns, and each job's numbers."""
    header, *rows = frame_rows(text)
    return header, {row[1]: [float(v) for v in row[2:]] for row in rows}


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


def test_outliers_notebook_shows_epmt_answers(run_notebook: Callable[[Path], Run]) -> None:
    """EPMT 5.0.1's answers on its kern-6656 jobs, as recorded in its venv (the literals of
    ``test_outliers.py`` and ``test_outliers_pca.py``; ``fixtures/epmt/explore.json`` for the
    Explore API), and the tree explanation as ``test_explain_outlier.py`` checks it against
    networkx on the raw papiex rows, as the outlier notebook shows them."""
    notebook, _, _ = run_notebook(OUTLIERS)
    out, zero = KERN_OUTLIER, [0.0, 0.0, 0.0]
    refs = dict.fromkeys(KERN_REFS, zero)
    # the jobs among themselves, EPMT's default classifiers and features
    assert by_job(result_of(notebook, "(df, _) = eod.detect_outlier_jobs(jobs)")) == (
        ["jobid", "cpu_time", "duration", "num_procs"],
        {**refs, out: [2.0, 2.0, 0.0]},
    )
    columns, scores = by_job(result_of(notebook, 'outlier_jobs(jobs, features="*")'))
    assert printed_of(notebook, 'outlier_jobs(jobs, features="*")') == "29 features\n"
    twice = {"PERF_COUNT_SW_CPU_CLOCK", "cpu_time", "duration", "invol_ctxsw", "usertime"}
    twice |= {"rdtsc_duration", "systemtime", "time_oncpu", "time_waiting", "timeslices"}
    assert set(columns) == {"jobid", "score", "cancelled_write_bytes", "rchar", *twice}
    assert {job: row[-1] for job, row in scores.items()} == {
        KERN_REFS[0]: 1.0,  # rchar
        KERN_REFS[1]: 0.0,
        out: 2.0 * len(twice) + 1,  # and cancelled_write_bytes
        KERN_REFS[2]: 0.0,
    }
    # the reference model of the three normal jobs, and the jobs scored against it
    assert ast.literal_eval(result_of(notebook, 'r["computed"]')) == {
        "iqr": {
            "cpu_time": [0, 449537294.875, 449866128.125],
            "duration": [0, 541891658.25, 551272593.75],
            "num_procs": [0, 10600.0, 10600.0],
        },
        "modified_z_score": {
            "cpu_time": [1.3207, 449914707.0, 444671.0],
            "duration": [1.0287, 542680315.0, 14860060.0],
            "num_procs": [0, 10600.0, 0.0],
        },
        "z_score": {
            "cpu_time": [1.3338, 449772710.0, 546289.0482],
            "duration": [1.3003, 545281522.3333, 15429031.3611],
            "num_procs": [0.0, 10600.0, 0.0],
        },
    }
    trained = result_of(notebook, 'trained_model=r["id"])\ndf')
    assert by_job(trained)[1] == {**refs, out: [3.0, 3.0, 0.0]}
    # multivariate: ABOD, KNN and pyod's PCA cannot score three jobs
    pyod = ["pyod.models.cof", "pyod.models.hbos", "pyod.models.mcd", "pyod.models.ocsvm"]
    assert ast.literal_eval(result_of(notebook, 'sorted(mv["computed"])')) == pyod
    assert ast.literal_eval(printed_of(notebook, "print(per_classifier)")) == {
        "pyod.models.mcd": [0, 0, 1, 0],
        "pyod.models.cof": [0, 0, 1, 0],
        "pyod.models.hbos": [0, 0, 1, 0],
        "pyod.models.ocsvm": [0, 0, 0, 0],
    }
    assert by_job(result_of(notebook, "print(per_classifier)"))[1] == {
        out: [3.0],
        **{job: [0.0] for job in KERN_REFS},
    }
    # partitions and root causes
    split = (set(KERN_REFS), {out})
    parts = ast.literal_eval(result_of(notebook, "eod.partition_jobs("))
    assert parts == {"cpu_time": split, "duration": split}
    ratios = ast.literal_eval(result_of(notebook, "flist  # the features"))
    assert ratios == [
        ("cpu_time", pytest.approx(204.1563564776255, rel=1e-12)),
        ("duration", pytest.approx(27.8397978030524, rel=1e-12)),
        ("num_procs", 0.0),
    ]
    ratios = ast.literal_eval(result_of(notebook, "flist  # the build's"))
    assert ratios == [  # EPMT's, for op_sequence:4: the same processes
        ("cpu_time", pytest.approx(379.350952249517, rel=1e-12)),
        ("duration", pytest.approx(56.09397944199707, rel=1e-12)),
        ("num_procs", 0.0),
    ]
    # operations: every one of the outlier's, the build the most deviating
    flagged = frame_rows(result_of(notebook, "df[df.score > 0]"))[1:]
    assert {row[1] for row in flagged} == {out}
    assert {row[3].strip("'}"): row[4:6] for row in flagged} == {
        "build": ["2", "2"],
        "clean": ["2", "2"],
        "configure": ["2", "2"],
        "extract": ["2", "0"],
        "download": ["2", "0"],
    }
    assert printed_of(notebook, "print(sorted_tags[0]") == (
        "{'op': 'build'} ['cpu_time', 'duration', 'num_procs']\n"
    )
    excess = frame_rows(result_of(notebook, "print(sorted_tags[0]"))[1:]
    assert [(row[2].strip('"}'), [float(v) for v in row[3:]]) for row in excess] == [
        ("build", [262.215, 36.964, 0.0]),
        ("clean", [48.576, 5.064, 0.0]),
        ("configure", [31.575, 1.912, 0.0]),
        ("extract", [11.511, 0.0, 0.0]),
        ("download", [1.418, 0.0, 0.0]),
    ]
    trained_ops = 'print([tag["op"] for tag in sorted_tags])'
    assert printed_of(notebook, trained_ops) == (
        "['clean', 'build', 'configure', 'extract', 'download']\n"
    )
    rows = frame_rows(result_of(notebook, trained_ops))[1:]
    assert [(row[1], row[-3:]) for row in rows] == [(out, ["3", "3", "0"])] * 5
    # PCA
    assert ast.literal_eval(result_of(notebook, "feature_ranks[:8]")) == [
        ("rssmax", 0.2168),
        ("timeslices", 0.2117),
        ("invol_ctxsw", 0.211),
        ("usertime", 0.2101),
        ("rdtsc_duration", 0.2101),
        ("cancelled_write_bytes", 0.21),
        ("cpu_time", 0.2097),
        ("time_oncpu", 0.2097),
    ]
    assert by_job(result_of(notebook, "pca=True)")) == (
        ["jobid", "pca_weighted", "pca_01", "pca_02"],
        {**refs, out: [5.5, 2.0, 0.0]},
    )
    for plot in ("(jobs)", '(jobs, features=["cpu_time", "duration"])'):
        assert result_of(notebook, f"eod.feature_scatter_plot{plot}", "image/png")
    # the tree explanation: the build's sub-make carries the excess
    head, _, first, *rows = printed_of(notebook, "print(why)").splitlines()
    assert head.startswith(f"{out} against 3 reference jobs ({', '.join(KERN_REFS)})")
    assert first.split()[0] == "duration" and first.split()[5:8] == ["+553.490", "s", "+16.69"]
    assert first.endswith("  make/make [op:build]")
    cpu = next(row for row in [first, *rows] if row.startswith("cpu_time"))
    assert cpu.split()[5:7] == ["+156.164", "s"] and cpu.endswith("  make/make [op:build]")
    page = result_of(notebook, ".picture(threshold=10)", "text/html")
    assert page.startswith("<iframe srcdoc=") and page.count("score +16.7") == 28
    # the Explore API on the sample jobs
    epmt = {step["call"]: step for step in json.loads(EXPLORE_ANSWERS.read_text())["steps"]}
    report = epmt["exp.exp_explore(E, 'cpu_time', op=np.mean, limit=3)"]["stdout"]
    assert printed_of(notebook, 'exp.exp_explore(E, "cpu_time"') == report
    components = epmt["exp.exp_component_outliers(E)"]["answer"][:3]
    shown = result_of(notebook, 'exp.exp_component_outliers(E, metric="duration", limit=3)')
    assert [shown.index(repr(c["jobids"])) for c in components] == sorted(
        shown.index(repr(c["jobids"])) for c in components
    )
    stats = result_of(notebook, "exp.exp_time_segment_stats(E)").removeprefix("OrderedDict(")
    assert [list(item) for item in ast.literal_eval(stats.removesuffix(")"))] == (
        epmt["exp.exp_time_segment_stats(E)"]["answer"]
    )
    found = epmt[
        "exp.exp_find_jobs(E, components=['ocean_month_rho2_1x1deg', 'ocean_annual_rho2_1x1deg'])"
    ]
    assert ast.literal_eval(result_of(notebook, "exp.exp_find_jobs(")) == found["answer"]
    missing = epmt[
        "exp.find_missing_time_segments(E, jobs=['685000', '691201', '692544'], "
        "time_segments=[18840101, 18890101])"
    ]
    assert printed_of(notebook, "exp.find_missing_time_segments(") == missing["stdout"]
    answer = ast.literal_eval(result_of(notebook, "exp.find_missing_time_segments("))
    assert answer == missing["answer"]
    assert printed_of(notebook, "eq.delete_refmodels(models)").startswith("models deleted: 4\n")
