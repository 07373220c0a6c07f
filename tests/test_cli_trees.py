"""``epmt-graph tree | export`` as subprocesses, checked against the raw-row oracle."""

from __future__ import annotations

import io
import json
from pathlib import Path

import networkx as nx
from conftest import run_cli
from constants import SAMPLES
from oracle import process_tree, raw_processes

import epmt_graph.api as eq
from epmt_graph.db import Graph


def test_tree_prints_every_process_unfolded(loaded_graph: Graph) -> None:
    result = run_cli(loaded_graph, "tree", "685016", "--threshold", "0")
    assert result.returncode == 0, result.stderr
    tree = process_tree(raw_processes(SAMPLES / "query" / "685016.tgz"))
    *lines, last = result.stdout.splitlines()
    assert last.startswith("critical path: ")
    assert len([line for line in lines if "[" in line and "]" in line]) == 3412
    assert tree.number_of_nodes() == 3412


def test_tree_ends_with_the_critical_path(loaded_graph: Graph) -> None:
    result = run_cli(loaded_graph, "tree", "685000", "--threshold", "5")
    assert result.returncode == 0, result.stderr
    *_, last = result.stdout.splitlines()
    path = eq.critical_path("685000", fmt="pandas")  # checked against networkx elsewhere
    expected = " > ".join(f"{e} [{p}]" for e, p in zip(path["exename"], path["pid"], strict=True))
    assert last == f"critical path: {expected}"
    assert last.startswith("critical path: tcsh [6098] > ")
    assert result.stdout.endswith("\n")


def test_tree_folds_below_the_threshold(loaded_graph: Graph) -> None:
    result = run_cli(loaded_graph, "tree", "685016", "--threshold", "5")
    assert result.returncode == 0, result.stderr
    assert "… " in result.stdout
    assert len(result.stdout.splitlines()) < 200


def test_export_graphml_and_json(loaded_graph: Graph, tmp_path: Path) -> None:
    oracle = process_tree(raw_processes(SAMPLES / "query" / "685000.tgz"))
    graphml = run_cli(loaded_graph, "export", "685000", "--format", "graphml")
    assert graphml.returncode == 0, graphml.stderr
    exported = nx.read_graphml(io.BytesIO(graphml.stdout.encode()))
    assert (exported.number_of_nodes(), exported.number_of_edges()) == (
        oracle.number_of_nodes(),
        oracle.number_of_edges(),
    )
    out = tmp_path / "685000.json"
    written = run_cli(loaded_graph, "export", "685000", "--format", "json", "-o", str(out))
    assert written.returncode == 0, written.stderr
    assert written.stdout == f"wrote {out}\n"
    data = json.loads(out.read_text())
    assert (len(data["nodes"]), len(data["edges"])) == (3480, 3448)


def test_unknown_job_is_one_clear_line(loaded_graph: Graph) -> None:
    for command in (["tree", "nope"], ["export", "nope"]):
        result = run_cli(loaded_graph, *command)
        assert result.returncode == 1
        assert result.stderr.startswith("epmt-graph: error: ")
        assert "Traceback" not in result.stderr
        assert len(result.stderr.splitlines()) == 1
