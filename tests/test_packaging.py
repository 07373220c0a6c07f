"""``pip install -e .``, as ``./dev`` runs it, prints no warning, and the installed metadata
names the license as an SPDX expression with its text.

Setuptools before 77 knew only ``license = {text = ...}``, which setuptools 77 and later
deprecate with a page of warning at every install; and setuptools' import-hook editable
install, its default for a flat layout, prints a warning of its own. The install goes into a
scratch venv (``venv --without-pip``, pip run from this one with ``--python``), with build
isolation, so the build requirements of ``pyproject.toml`` are the ones used.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from email.parser import Parser
from pathlib import Path

import epmt_graph

ROOT = Path(epmt_graph.__file__).parent.parent


def test_editable_install_is_quiet_and_declares_the_license(tmp_path: Path) -> None:
    scratch = tmp_path / "venv"
    venv.create(scratch, with_pip=False)
    python = scratch / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check"]
    run = subprocess.run(
        [*pip, "install", "-q", "--no-deps", "--no-input", "-e", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout + run.stderr == ""
    info = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.metadata('epmt-graph'))"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    metadata = Parser().parsestr(info.stdout)
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata.get_all("License-File") == ["LICENSE"]
    (dist_info,) = scratch.glob("lib/python*/site-packages/epmt_graph-*.dist-info")
    assert (dist_info / "licenses" / "LICENSE").read_text() == (ROOT / "LICENSE").read_text()
