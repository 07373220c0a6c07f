"""Running one of EPMT 5.0.1's own test files, unmodified, on the graph: what the
conformance tests share.

A file comes from the ``epmt==5.0.1`` wheel (``pip download --no-deps``, never installed:
it pins numpy 1.26, pandas 1.5 and SQLAlchemy 1.4), checked by sha256, with its data and
the ``epmt`` package's own stdlib-only modules (:data:`WHEEL_BASE`), and runs under pytest
in a subprocess with import aliases only (``epmt_aliases.py``), against a Neo4j server of
its own (EPMT's files delete and reload their jobs and count what their database holds).
Each EPMT test is then one test of ours, judged by :func:`judge`: it passes, or it is
listed with the reason as a gap (not done yet: a listed test that passes, or fails
otherwise than listed, fails) or as a deliberate difference, checked by its module.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

import epmt_graph
from epmt_graph.config import Connection
from epmt_graph.samples import epmt_wheel

__all__ = ["WHEEL_BASE", "EpmtFile", "Outcome", "judge", "run_file", "unpack"]

#: The ``epmt`` package's own ``__init__``, ``epmtlib`` and settings (stdlib only), which
#: EPMT's test files import.
WHEEL_BASE = (
    "epmt/__init__.py",
    "epmt/epmtlib.py",
    "epmt/epmt_settings.py",
    "epmt/epmt_default_settings.py",
    "epmt/settings.py",
)


@dataclass(frozen=True)
class EpmtFile:
    """One of EPMT's test files: its path in the wheel, sha256, data folders and tests (in
    the order pytest runs them)."""

    path: str
    sha256: str
    data: tuple[str, ...]
    tests: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    """One EPMT test's result, from the run's JUnit XML."""

    status: str  # passed, failure, error, skipped
    message: str


def unpack(folder: Path, spec: EpmtFile) -> Path:
    """Unpack the file of ``spec``, its data and :data:`WHEEL_BASE` from the wheel into
    ``folder``, checking the file's sha256; returns ``folder``."""
    with zipfile.ZipFile(epmt_wheel()) as wheel:
        names = [
            n for n in wheel.namelist() if n in (*WHEEL_BASE, spec.path) or n.startswith(spec.data)
        ]
        wheel.extractall(folder, names)
    digest = hashlib.sha256((folder / spec.path).read_bytes()).hexdigest()
    assert digest == spec.sha256, f"{spec.path} changed: sha256 {digest}"
    return folder


def _collection_error(text: str) -> str:
    """The error lines (``E   ...``) of a collection failure's report."""
    lines = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    return " ".join(lines) or text.strip().splitlines()[-1]


def run_file(unpacked: Path, spec: EpmtFile, server: Connection) -> dict[str, Outcome]:
    """Run the unmodified file with the aliases against ``server``: each test's outcome,
    by name. If the file cannot be imported, each test's outcome is that error."""
    junit = unpacked / "junit.xml"
    (unpacked / "pytest.ini").write_text("[pytest]\n")
    paths = [unpacked, Path(__file__).parent, Path(epmt_graph.__file__).parents[1]]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "PYTEST_"))}
    env["NEO4J_URI"] = server.uri
    env["PYTHONPATH"] = os.pathsep.join([*map(str, paths), env.get("PYTHONPATH", "")])
    command = [sys.executable, "-m", "pytest", str(unpacked / spec.path)]
    options = ["-c", str(unpacked / "pytest.ini"), "--rootdir", str(unpacked)]
    plugins = ["-p", "no:cacheprovider", "-p", "epmt_aliases", f"--junitxml={junit}", "-q"]
    run = subprocess.run(
        [*command, *options, *plugins],
        cwd=unpacked,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert junit.exists(), f"pytest wrote no report:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    found = {}
    for case in ET.parse(junit).iter("testcase"):
        result = next(iter(case), None)
        if result is not None and result.get("message") == "collection failure":
            failure = Outcome(
                "error", f"collection failure: {_collection_error(result.text or '')}"
            )
            return dict.fromkeys(spec.tests, failure)
        status = "passed" if result is None else result.tag
        found[case.get("name", "")] = Outcome(
            status, "" if result is None else result.get("message", "")
        )
    return found


def judge(
    name: str,
    outcome: Outcome,
    gaps: dict[str, tuple[str, str]],
    setup_gap: str | None = None,
    deliberate: dict[str, tuple[str, str]] | None = None,
) -> None:
    """Pass if EPMT's test ``name`` passed; xfail if it failed as ``setup_gap`` (every test
    errors at setup with it), ``gaps`` (name -> (what is missing, a fragment of the
    failure it causes now)) or ``deliberate`` (name -> (the difference on purpose, the
    fragment)) says; fail otherwise, or if a listed gap or difference no longer holds."""
    if setup_gap is not None:
        assert outcome.status == "error" and setup_gap in outcome.message, (
            f"EPMT's setUpModule no longer fails with {setup_gap!r}: set SETUP_GAP = None "
            f"({name}: {outcome.status} {outcome.message})"
        )
        pytest.xfail(f"not yet: setUpModule: {setup_gap}")
    if name in gaps:
        missing, fragment = gaps[name]
        assert outcome.status != "passed", f"{name} passes now: remove it from EXPECTED_GAPS"
        assert fragment in outcome.message, (
            f"{name} fails otherwise than EXPECTED_GAPS says ({fragment!r}): "
            f"{outcome.status} {outcome.message}"
        )
        pytest.xfail(f"not yet: {missing}")
    if deliberate and name in deliberate:
        why, fragment = deliberate[name]
        assert outcome.status == "failure" and fragment in outcome.message, (
            f"{name} no longer differs as DELIBERATE says ({fragment!r}): "
            f"{outcome.status} {outcome.message}"
        )
        pytest.xfail(f"deliberate: {why}")
    assert outcome.status == "passed", outcome.message
