"""The skip ledger (``skip_ledger.py``) in a pytest run of its own, on a test file made here:
every skip is listed with its reason, and with ``EPMT_GRAPH_STRICT_SKIPS=1`` only skips for a
missing optional tool leave the run green."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

PROBE = """
import pytest


def test_runs():
    pass


@pytest.mark.skipif(True, reason="missing optional tool: a headless Chromium")
def test_tool_missing():
    pass


@pytest.mark.xfail(reason="an expected failure is no skip")
def test_xfail():
    raise AssertionError


def test_skips_for_another_reason():
    pytest.skip("the server's HTTP address is unknown")
"""

ALLOWED = "test_probe.py::test_tool_missing: missing optional tool: a headless Chromium"
OTHER = (
    "test_probe.py::test_skips_for_another_reason: the server's HTTP address is unknown"
    "  <- not a missing optional tool"
)
MODULE_SKIP = "import pytest\npytest.skip('no data here', allow_module_level=True)\n"


def run(folder: Path, strict: bool) -> subprocess.CompletedProcess[str]:
    """``pytest -p skip_ledger`` in ``folder``, strict or not."""
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    env.pop("EPMT_GRAPH_STRICT_SKIPS", None)
    if strict:
        env["EPMT_GRAPH_STRICT_SKIPS"] = "1"
    command = [sys.executable, "-m", "pytest", "-p", "skip_ledger", "-p", "no:cacheprovider"]
    return subprocess.run(
        [*command, "-q"], cwd=folder, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_probe.py").write_text(PROBE)
    return tmp_path


def listed(output: str) -> list[str]:
    """The lines of the ledger's section."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if "skipped, and why" in line)
    return lines[start + 1 : start + 3]


def test_strict_fails_on_a_skip_for_another_reason(folder: Path) -> None:
    result = run(folder, strict=True)
    assert result.returncode == 1, result.stdout
    assert "2 skipped, and why" in result.stdout and "1 xfailed" in result.stdout
    assert listed(result.stdout) == [ALLOWED, OTHER]
    assert "EPMT_GRAPH_STRICT_SKIPS=1: 1 skipped for a reason other than" in result.stdout


def test_not_strict_lists_the_skips_and_passes(folder: Path) -> None:
    result = run(folder, strict=False)
    assert result.returncode == 0, result.stdout
    assert listed(result.stdout) == [ALLOWED, OTHER]
    assert "EPMT_GRAPH_STRICT_SKIPS=1" not in result.stdout


def test_strict_passes_with_only_missing_tools(folder: Path) -> None:
    reworded = PROBE.replace("the server's HTTP address is unknown", "missing optional tool: y")
    (folder / "test_probe.py").write_text(reworded)
    result = run(folder, strict=True)
    assert result.returncode == 0, result.stdout
    assert "test_probe.py::test_skips_for_another_reason: missing optional tool: y" in (
        result.stdout
    )


def test_strict_counts_a_skipped_module(folder: Path) -> None:
    (folder / "test_probe.py").write_text("def test_runs():\n    pass\n")
    (folder / "test_module.py").write_text(MODULE_SKIP)
    result = run(folder, strict=True)
    assert result.returncode == 1, result.stdout
    assert "test_module.py: no data here  <- not a missing optional tool" in result.stdout
