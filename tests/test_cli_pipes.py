"""``epmt-graph`` writing into a pipe whose reader has gone (``epmt-graph list | head -1``)
ends quietly: no ``BrokenPipeError`` traceback, the exit code of a tool killed by SIGPIPE."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import cli_env

from epmt_graph.cli import BROKEN_PIPE_EXIT
from epmt_graph.db import Graph

COMMAND = [sys.executable, "-m", "epmt_graph.cli"]
#: ``bash -c 'COMMAND... | head -1'``, exiting with the command's status
HEAD_1 = ["bash", "-c", '"$@" | head -1; exit "${PIPESTATUS[0]}"', "bash"]


def test_list_into_a_pipe_nobody_reads(loaded_graph: Graph) -> None:
    read, write = os.pipe()
    os.close(read)  # as `| head -0`, or a `head -1` that has its line already: every write fails
    with subprocess.Popen(
        [*COMMAND, "list"], stdout=write, stderr=subprocess.PIPE, env=cli_env(loaded_graph)
    ) as process:
        os.close(write)
        _, stderr = process.communicate(timeout=300)
    assert stderr == b""
    assert process.returncode == BROKEN_PIPE_EXIT == 141


def test_a_tree_whose_reader_stops_after_one_line(loaded_graph: Graph) -> None:
    # 3412 lines, far more than a pipe holds: the command is still writing when `head` leaves
    with subprocess.Popen(
        [*COMMAND, "tree", "685016", "--threshold", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(loaded_graph),
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()
        process.stdout.close()
        stderr = process.stderr.read()
        process.wait(timeout=300)
    assert first == b"  inclusive   exclusive  process\n"
    assert stderr == b""
    assert process.returncode == BROKEN_PIPE_EXIT


def test_head_in_a_shell_pipeline(loaded_graph: Graph) -> None:
    run = subprocess.run(
        [*HEAD_1, *COMMAND, "tree", "685016", "--threshold", "0"],
        capture_output=True,
        text=True,
        env=cli_env(loaded_graph),
        timeout=300,
        check=False,
    )
    assert (run.returncode, run.stderr) == (BROKEN_PIPE_EXIT, "")
    assert run.stdout == "  inclusive   exclusive  process\n"
