"""Run the notebooks of ``notebooks/`` (nbclient) and keep them with their outputs.

``./dev notebooks`` runs this file: it starts a throwaway local server on free loopback
ports, loads the sample jobs the tests load, executes every notebook of ``notebooks/`` in
a fresh kernel and writes it back with its outputs (pictures included), so it reads on
GitHub without running. ``tests/test_notebooks.py`` executes them the same way against the
test session's server and checks the stored outputs are what a run gives now.

A notebook is written in :func:`stored_form`, the same on every run of the same code and
data: no timings, no kernel versions, execution counts from 1 in a fresh kernel, and text
outputs as the notebook prints them (the notebooks print file names, never temporary
paths).
"""

from __future__ import annotations

import copy
import os
import sys
import tempfile
from pathlib import Path

import nbformat
from constants import GOOD_FOLDERS, SAMPLES
from ipykernel.kernelspec import write_kernel_spec
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from epmt_graph.config import Connection

__all__ = ["NOTEBOOKS", "Runner", "kernel_env", "main", "stored_form"]

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
#: Seconds a single cell may take.
CELL_TIMEOUT = 300
#: The notebook metadata kept: which kernel, which language (not its version).
METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def kernel_env(connection: Connection, samples: Path, ipython_dir: Path) -> dict[str, str]:
    """The environment of a notebook kernel: the server at ``connection``, the samples."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    env |= {
        "NEO4J_URI": connection.uri,
        "NEO4J_USER": connection.user,
        "NEO4J_DATABASE": connection.database,
        "EPMT_SAMPLES": str(samples),
        "IPYTHONDIR": str(ipython_dir),
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }
    if connection.password is not None:
        env["NEO4J_PASSWORD"] = connection.password
    return env


class Runner:
    """Executes notebooks in kernels of this interpreter (``python3``, a kernel spec made in
    ``home``), so they import the ``epmt_graph`` under test.

    Parameters
    ----------
    connection : Connection
        The server the notebooks use.
    home : Path
        A scratch folder for the kernel spec and IPython's profile.
    samples : Path
        The sample archives (``EPMT_SAMPLES``).
    """

    def __init__(self, connection: Connection, home: Path, samples: Path = SAMPLES) -> None:
        write_kernel_spec(home / "kernels" / "python3")  # argv: this interpreter
        self.specs = KernelSpecManager(kernel_dirs=[str(home / "kernels")])
        self.env = kernel_env(connection, samples, home / "ipython")
        #: Where the kernels' sockets go: IPC, not TCP (which a kernel warns about).
        self.sockets = home / "kernel"

    def execute(self, path: Path) -> nbformat.NotebookNode:
        """The notebook at ``path``, executed from a fresh kernel; nbclient's
        ``CellExecutionError`` at the first cell in error."""
        notebook = nbformat.read(path, as_version=4)
        kernel = KernelManager(
            kernel_spec_manager=self.specs, transport="ipc", ip=str(self.sockets)
        )
        client = NotebookClient(
            notebook,
            km=kernel,
            kernel_name="python3",
            timeout=CELL_TIMEOUT,
            record_timing=False,
            resources={"metadata": {"path": str(path.parent)}},
        )
        try:
            client.execute(env=self.env)
        finally:
            if kernel.has_kernel:  # nbclient leaves a kernel it was given running
                kernel.shutdown_kernel()
        return notebook


def stored_form(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``notebook`` as it is kept: its metadata reduced to :data:`METADATA`, no cell
    metadata nbclient adds (timings), and the text a cell prints in one output per stream
    (the kernel sends a print's text in one message or two, depending on timing).

    Examples
    --------
    >>> cell = nbformat.v4.new_code_cell("print(1)", execution_count=1)
    >>> cell.outputs = [
    ...     nbformat.v4.new_output("stream", name="stdout", text="one"),
    ...     nbformat.v4.new_output("stream", name="stdout", text="\\n"),
    ... ]
    >>> stored_form(nbformat.v4.new_notebook(cells=[cell])).cells[0].outputs
    [{'output_type': 'stream', 'name': 'stdout', 'text': 'one\\n'}]
    """
    kept = copy.deepcopy(notebook)
    kept.metadata = nbformat.from_dict(METADATA)
    for cell in kept.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = _joined_streams(cell.outputs)
    return kept


def _joined_streams(outputs: list[nbformat.NotebookNode]) -> list[nbformat.NotebookNode]:
    joined: list[nbformat.NotebookNode] = []
    for output in outputs:
        last = joined[-1] if joined else None
        if (
            last is not None
            and output.output_type == last.output_type == "stream"
            and output.name == last.name
        ):
            last.text += output.text
        else:
            joined.append(output)
    return joined


def refresh(runner: Runner, paths: list[Path]) -> None:
    """Execute each notebook of ``paths`` and write it back with its outputs; stops at the
    first notebook with a cell in error, which is left unwritten."""
    for path in paths:
        notebook = stored_form(runner.execute(path))
        nbformat.validate(notebook)
        nbformat.write(notebook, path)
        print(f"refreshed {path.relative_to(NOTEBOOKS.parent)}")


def main() -> int:
    """``./dev notebooks``: refresh every notebook against a server of its own."""
    from graph_fixtures import throwaway_server

    from epmt_graph.db import Graph
    from epmt_graph.loader import find_jobs, load_job

    with tempfile.TemporaryDirectory(prefix="notebooks-") as scratch:
        home = Path(scratch)
        with throwaway_server(home / "server", heap="1g", pagecache="512m") as connection:
            with Graph(connection) as graph:
                graph.ensure_schema()
                for job in find_jobs([SAMPLES / folder for folder in GOOD_FOLDERS]):
                    load_job(job, graph=graph)
            refresh(Runner(connection, home / "jupyter"), sorted(NOTEBOOKS.glob("*.ipynb")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
