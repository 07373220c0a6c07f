"""``epmt-graph demo`` and ``epmt-graph server provision`` as subprocesses."""

from __future__ import annotations

import subprocess
import sys

from conftest import run_cli
from constants import SAMPLES

from epmt_graph.db import Graph


def test_demo_loads_the_samples_and_answers(loaded_graph: Graph) -> None:
    result = run_cli(loaded_graph, "demo", env={"EPMT_SAMPLES": str(SAMPLES)})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert (
        "job   685000:   3480 processes,  32 roots, max depth 7  (query/685000.tgz, unchanged)"
        in out
    )
    assert "refused misc/corrupted-csv.tgz: " in out
    assert "refused corrupted_csv: " in out
    assert "eq.get_roots('685003'): 38 roots" in out
    assert "eq.root('685000'): pid 6098 tcsh, 735 children, 3448 descendants" in out
    assert "processes with duration > 1 s: 630, the longest 7005558348 us" in out
    assert "eq.get_procs(tags=['op_sequence:4', 'op_sequence:5']): 555" in out
    assert "running in 685000 at 06/15/2019 07:53: pids [6098, 6226]" in out


def test_server_provision_reports_the_jars() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "epmt_graph.cli", "server", "provision"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Neo4j 5.26.30 jars in ")
    assert result.stdout.strip().endswith("neo4j-5.26.30/lib")
