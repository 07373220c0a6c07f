"""What a load says it wrote (``LoadResult``: processes, roots, deepest level) against the
oracle (``oracle.py``, the raw papiex rows and networkx), for every status a write reaches:
``loaded`` and ``replaced`` count the node rows as they are sent (no read after the
publish), ``unchanged`` reads the graph; the content digest, made while the job is written,
is the one ``read_job`` gives; a job written in several transactions, and one
whose transaction is retried, count each process once. The node rows a load sends, made
from the reader's stored values (``ProcessRows.nodes``), are ``schema.node_properties`` of
its rows.
"""

from __future__ import annotations

from pathlib import Path

import neo4j
import pytest
from conftest import stored
from oracle import depths, process_tree, raw_processes, roots

from epmt_graph.db import Graph
from epmt_graph.loader import load_job, read_job
from epmt_graph.loader.spill import ProcessRows, RowSpill
from epmt_graph.schema import PROCESS_METRICS, node_properties
from epmt_graph.store import jobs as store
from epmt_graph.synthetic import write_archive

JOBID = "load-result-job"


def oracle_shape(path: Path) -> tuple[int, int, int]:
    """Processes, roots and deepest level of the archive, from the raw rows."""
    tree = process_tree(raw_processes(path))
    return tree.number_of_nodes(), len(roots(tree)), max(depths(tree).values())


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two archives of ``JOBID`` with other content, and a deep one."""
    folder = tmp_path_factory.mktemp("load-result")
    return {
        "first": write_archive(folder / "first.tgz", 700, seed=41, jobid=JOBID),
        "second": write_archive(folder / "second.tgz", 500, seed=42, jobid=JOBID, max_depth=9),
    }


def digest(path: Path) -> str:
    """The archive's digest as ``read_job`` makes it before it returns."""
    return str(read_job(path).job["digest"])


def shape(result: object) -> tuple[int, int, int | None]:
    return result.processes, result.roots, result.max_depth  # type: ignore[attr-defined]


def test_loaded_replaced_and_unchanged_say_what_the_oracle_counts(
    graph: Graph, archives: dict[str, Path], absent: str
) -> None:
    first, second = oracle_shape(archives["first"]), oracle_shape(archives["second"])
    assert first != second
    loaded = load_job(archives["first"], graph=graph)  # its digest made while it is written
    assert (loaded.status, shape(loaded)) == ("loaded", first)
    assert graph.read("job-digest", jobid=absent)[0]["digest"] == digest(archives["first"])
    again = load_job(archives["first"], graph=graph)
    assert (again.status, shape(again)) == ("unchanged", first)
    replaced = load_job(archives["second"], graph=graph, replace=True)
    assert (replaced.status, shape(replaced)) == ("replaced", second)
    assert stored(graph, absent) == (1, second[0])


def test_parts_and_retried_transactions_count_each_process_once(
    graph: Graph, archives: dict[str, Path], absent: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "TX_PROCESSES", 150)
    monkeypatch.setattr(store, "BATCH", 60)
    run = store.run
    failed: list[str] = []

    def flaky(name: str, tx: neo4j.ManagedTransaction, **params: object) -> None:
        if name == "load-processes" and len(failed) < 2:  # the driver retries the part
            failed.append(name)
            raise neo4j.exceptions.TransientError("injected")
        run(name, tx, **params)

    monkeypatch.setattr(store, "run", flaky)
    result = load_job(archives["first"], graph=graph)
    assert failed and (result.status, shape(result)) == ("loaded", oracle_shape(archives["first"]))
    assert graph.read("job-digest", jobid=absent)[0]["digest"] == digest(archives["first"])


@pytest.mark.parametrize(
    "name", ["query/685000.tgz", "misc/685000.tgz", "tsv/12340", "submit/3455"]
)
def test_node_rows_made_from_the_stored_values_are_node_properties_of_the_rows(
    samples: Path, name: str
) -> None:
    processes = read_job(samples / name).processes
    assert isinstance(processes, ProcessRows)
    n = len(processes)
    assert processes.nodes(0, n) == [node_properties(row) for row in processes[0:n]]
    assert processes.nodes(n // 2, n) == [node_properties(row) for row in processes[n // 2 :]]


def test_a_row_with_a_null_metric_keeps_its_metrics_as_properties() -> None:
    layout = ("pid", "exename", *PROCESS_METRICS)
    full = (7, "sh", *range(len(PROCESS_METRICS)))
    holed = (8, "make", None, *range(1, len(PROCESS_METRICS)))
    short = ("pid", "usertime")  # a layout without every metric: nothing packed
    spill = RowSpill(keep=1)  # on disk past one row, as a large job's
    for row in [(0, full), (0, holed), (1, (9, 5))]:
        spill.append(row)
    spill.seal()
    processes = ProcessRows(
        spill, [layout, short], [2, 0, 1], [None, 0, 0], "j", {"depth": [0, 1, 1]}
    )
    nodes = processes.nodes(0, 3)
    assert nodes == [node_properties(row) for row in processes[0:3]]
    assert nodes[0] == {"pid": 9, "usertime": 5, "jobid": "j", "idx": 0, "uid": "j:0", "depth": 0}
    assert nodes[1]["metrics"] == list(range(len(PROCESS_METRICS))) and "usertime" not in nodes[1]
    assert nodes[2]["usertime"] is None and "metrics" not in nodes[2]
