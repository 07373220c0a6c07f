"""Hostile text is only data on the command line and in the Browser files (the API side is
``test_injection.py``; the shared pieces are in ``injection_support.py``). The database is
checked unchanged after each test and, last, against the fingerprint taken once the hostile
job was loaded.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import pty
import re
import subprocess
import sys
import urllib.request
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from conftest import run_cli
from injection_support import (
    HOSTILE,
    JOBID,
    JOBNAME,
    N_PROCS,
    TAG_SAFE,
    USER,
    HostileJob,
    fingerprint,
    snapshot,
    write_hostile_job,
)
from oracle import roots

import epmt_graph.api as eq
from epmt_graph import cypher
from epmt_graph.browser import GuideServer, GuideSpec, favorite_names, guide_html
from epmt_graph.browser.favorites import favorite_text, write_favorites
from epmt_graph.browser.guide import cypher_literal, param_command, query_body, steps
from epmt_graph.browser.style import style_command
from epmt_graph.cli import main as cli_main
from epmt_graph.db import Graph
from epmt_graph.loader import delete_job

# --- (d) the command line -------------------------------------------------------------------


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``epmt-graph ARGS`` in this process: exit code, stdout, stderr."""
    code = cli_main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_hostile_job_ids_are_a_clear_error(
    capsys: pytest.CaptureFixture[str], unchanged: None
) -> None:
    """``show``, ``tree``, ``export`` and ``delete`` of hostile ids (in this process): the
    error EPMT's id rules give (a string is split on commas and stripped), no traceback."""
    for s in HOSTILE:
        ids = [part.strip() for part in s.split(",") if part.strip()]
        shown = f"job {s} is not loaded"
        assert cli(capsys, "show", s) == (1, "", f"epmt-graph: error: {shown}\n")
        tree = (
            f"job {ids[0]} is not loaded or has no processes"
            if len(ids) == 1
            else f"a process tree is of one job, got {len(ids)}: {ids}"
        )
        assert cli(capsys, "tree", s) == (1, "", f"epmt-graph: error: {tree}\n")
        expected = (1, "", f"epmt-graph: error: {tree}\n")
        assert cli(capsys, "export", s, "--format", "json") == expected
        assert cli(capsys, "delete", s) == (0, "deleted 0 jobs\n", "")
    for s in TAG_SAFE:
        assert cli(capsys, "list", "--tags", f"{s}:{s}") == (0, "", "")


def on_a_terminal(graph: Graph, *args: str) -> tuple[int, str]:
    """``epmt-graph ARGS`` with stdout and stderr on a pseudo-terminal: exit code, output."""
    main, follower = pty.openpty()
    env = {**os.environ, "NEO4J_URI": graph.connection.uri}
    env.pop("NEO4J_PASSWORD", None)
    if graph.connection.password is not None:
        env["NEO4J_PASSWORD"] = graph.connection.password
    try:
        command = [sys.executable, "-m", "epmt_graph.cli", *args]
        done = subprocess.run(command, stdout=follower, stderr=follower, env=env, timeout=300)
    finally:
        os.close(follower)
    chunks = []
    with contextlib.suppress(OSError):  # EIO once the terminal's last writer has gone
        while chunk := os.read(main, 65536):
            chunks.append(chunk)
    os.close(main)
    return done.returncode, b"".join(chunks).decode()


def test_a_terminal_is_shown_control_characters_escaped(graph: Graph, unchanged: None) -> None:
    """An id carrying escape sequences (retitle the window, reverse the text) is shown
    escaped on a terminal; piped, the same characters pass through unchanged."""
    jobid = "job\x1b]0;owned\x07\x1b[2J\u202eevil"
    code, shown = on_a_terminal(graph, "show", jobid)
    assert code == 1
    assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown
    assert (
        shown == "epmt-graph: error: job job\\x1b]0;owned\\x07\\x1b[2J\\u202eevil is not loaded\r\n"
    )
    piped = run_cli(graph, "show", jobid)
    assert (piped.returncode, piped.stderr) == (
        1,
        f"epmt-graph: error: job {jobid} is not loaded\n",
    )


def test_cli_shows_trees_and_exports_the_hostile_job(
    hostile_job: HostileJob,
    loaded_graph: Graph,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    unchanged: None,
) -> None:
    job = hostile_job
    exenames = Counter(p["exename"] for p in job.procs.values())
    code, out, err = cli(capsys, "show", JOBID, "--top", "3")
    assert (code, err) == (0, "")
    assert out.startswith(f"job {JOBID}: {JOBNAME}\n  user {USER}, ")
    assert f"  {N_PROCS} processes, " in out and f", {len(roots(job.tree))} roots\n" in out
    code, out, err = cli(capsys, "tree", JOBID, "--threshold", "0")
    assert (code, err) == (0, "")
    tree, _, path = out.rpartition("\ncritical path: ")
    for name, n in exenames.items():
        assert len(re.findall(re.escape(f"{name} ["), tree)) == n
    assert path.count(" > ") == len(eq.critical_path(JOBID, fmt="terse")) - 1
    code, out, err = cli(capsys, "export", JOBID, "--format", "json")
    assert (code, err) == (0, "")
    exported = json.loads(out)
    assert Counter(node["exename"] for node in exported["nodes"]) == exenames
    assert Counter(node["args"] for node in exported["nodes"]) == Counter(
        p["args"] for p in job.procs.values()
    )
    assert len(exported["edges"]) == job.tree.number_of_edges()
    path = tmp_path / "tree.graphml"
    assert cli(capsys, "export", JOBID, "--format", "graphml", "-o", str(path))[0] == 0
    graphml = nx.read_graphml(path)
    assert Counter(data["exename"] for _, data in graphml.nodes(data=True)) == exenames
    assert graphml.number_of_edges() == job.tree.number_of_edges()
    code, out, err = cli(capsys, "load", str(job.path))
    assert (code, err) == (0, "")
    assert out.startswith(f"job {JOBID}: unchanged, {N_PROCS} processes, ")


def test_cli_loads_and_deletes_a_hostile_job(
    loaded_graph: Graph,
    tmp_path: Path,
    hostile_job: HostileJob,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A second hostile job, loaded by the real command line (a subprocess) and deleted by
    it: its counts are the oracle's, and afterwards the database is as before."""
    jobid = "' OR 1=1 // second }) MATCH (n) DETACH DELETE n"
    job = write_hostile_job(tmp_path / "job", jobid, seed=8)
    before = snapshot(loaded_graph)
    try:
        loaded = run_cli(loaded_graph, "load", str(job.path))
        assert loaded.returncode == 0, loaded.stderr
        n_roots = len(roots(job.tree))
        assert loaded.stdout.startswith(
            f"job {jobid}: loaded, {N_PROCS} processes, {n_roots} roots, max depth "
        )
        assert eq.get_procs({"jobid": jobid}, fmt="orm").count() == N_PROCS
        assert cli(capsys, "delete", jobid) == (0, "deleted 1 job\n", "")
    finally:
        delete_job(loaded_graph, jobid)
    assert snapshot(loaded_graph) == before


# --- (e) the Browser files ---------------------------------------------------------------------


class _Blocks(HTMLParser):
    """The text of each ``<pre>`` block and the number of ``<slide>`` s of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.slides = 0
        self._in_pre = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "pre":
            self._in_pre = True
            self.blocks.append("")
        self.slides += tag == "slide"

    def handle_endtag(self, tag: str) -> None:
        self._in_pre = self._in_pre and tag != "pre"

    def handle_data(self, data: str) -> None:
        if self._in_pre:
            self.blocks[-1] += data


#: The only string literals the read-only named queries hold: operators and defaults.
QUERY_LITERALS = {"=", "<>", "<", "<=", ">", ">=", "in", "not in", "is null", "is not null"}
QUERY_LITERALS |= {"like", "not like"}
QUERY_LITERALS |= {"UTC", "{}"}
#: The separator of a tag pair ("k:v"), which a query splits a stored pair at.
QUERY_LITERALS |= {":"}


def test_favorites_are_the_named_queries_with_parameters_only(tmp_path: Path) -> None:
    """The favorites are the shipped files, whose values all come from ``$parameters``:
    their only string literals are operator names and defaults, and no number is a job id."""
    write_favorites(tmp_path)
    for name in favorite_names():
        text = (tmp_path / f"{name}.cypher").read_text()
        assert text == favorite_text(name) == f"// {name}\n{cypher.query(name)}"
        body = query_body(name)
        literals = set(re.findall(r"'([^']*)'|\"([^\"]*)\"", body))
        assert {a or b for a, b in literals} <= QUERY_LITERALS, name
        assert not re.search(r"\b\d{3,}\b", body), name
    used = set(re.findall(r"\$(\w+)", query_body("job-roots")))
    assert used == {"jobids"}


def test_guide_keeps_hostile_values_inside_literals(graph: Graph, unchanged: None) -> None:
    """A guide for a hostile job, operation and process: each ``:param`` value is one
    literal that Neo4j reads back as exactly the value (no line breaks or control
    characters, which the Browser's ``:param`` parser refuses), and the page's blocks hold
    exactly the style command (the first slide's), then the commands and the shipped queries."""
    for s in TAG_SAFE:
        spec = GuideSpec(jobid=s, op=f"op:{s}", uid=f"{s}:0")
        page = guide_html(spec)
        parsed = _Blocks()
        parsed.feed(page)
        assert parsed.slides == 1 + len(steps(spec))
        assert f"<title>{html.escape(f'Walk the process tree of job {s}')}</title>" in page
        expected_blocks = [style_command()]
        for step in steps(spec):
            expected_blocks += [param_command(step), query_body(step.query)]
        assert parsed.blocks == expected_blocks
    for s in HOSTILE:
        literal = cypher_literal({"jobids": [s], "uid": f"{s}:0", "pairs": [f"op:{s}"]})
        assert not re.search(r"[\x00-\x1f\x7f]", literal), repr(literal[:80])
        (record,) = graph.driver.execute_query(
            "RETURN " + literal + " AS v"  # the literal is what is under test
        ).records
        assert record["v"] == {"jobids": [s], "uid": f"{s}:0", "pairs": [f"op:{s}"]}


def test_guide_server_serves_the_hostile_guide_as_built() -> None:
    s = HOSTILE[4]
    spec = GuideSpec(jobid=s, op=f"op:{s}", uid=f"{s}:0")
    with (
        GuideServer(spec, port=0) as server,
        urllib.request.urlopen(server.url, timeout=10) as answer,
    ):
        page = answer.read().decode()
    assert page == guide_html(spec)


# --- last: nothing above changed the database --------------------------------------------------


def test_the_database_is_unchanged_after_all_of_the_above(
    loaded_graph: Graph, baseline: list[list[dict[str, Any]]]
) -> None:
    assert fingerprint(loaded_graph) == baseline
