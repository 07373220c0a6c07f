"""Every named query is a self-describing, valid, parameters-only Cypher file.

Each file opens with ``//`` lines saying what it answers and naming every ``$parameter``
its body uses (so it can be run in the Neo4j Browser after ``:param``), and the server
accepts it (``EXPLAIN``). Queries about given jobs or processes reach them through an
index, whatever the database holds: their plans never scan a label or a relationship type.
Python never assembles Cypher: no module formats query text.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from epmt_graph import cypher
from epmt_graph.db import Graph

PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
PACKAGE = Path(cypher.__file__).resolve().parents[1]


def split(name: str) -> tuple[str, str]:
    """(header, body) of a file; a header saying "as other.cypher" includes that one's."""
    lines = cypher.query(name).splitlines()
    header = "\n".join(line for line in lines if line.startswith("//"))
    body = "\n".join(line for line in lines if not line.startswith("//"))
    for other in re.findall(r"\bas ([a-z-]+)\.cypher", header):
        header += "\n" + split(other)[0]
    return header, body


@pytest.mark.parametrize("name", cypher.names())
def test_header_documents_every_parameter(name: str) -> None:
    header, body = split(name)
    assert cypher.query(name).startswith("// "), "a header comment comes first"
    assert "Parameters:" in header
    for param in sorted(set(PARAM.findall(body))):
        assert f"${param}" in header, f"{name}.cypher does not document ${param}"


@pytest.mark.parametrize("name", cypher.names())
def test_the_server_accepts_it(graph: Graph, name: str) -> None:
    with graph.driver.session(database=graph.connection.database) as session:
        for statement in cypher.statements(name):
            if statement.startswith(("CREATE CONSTRAINT", "CREATE INDEX")):
                continue
            params = dict.fromkeys(PARAM.findall(statement))
            session.run("EXPLAIN " + statement, params).consume()


#: Operators that read every node of a label, every node, every relationship of a type, or a
#: whole index.
SCANS = ("NodeByLabelScan", "AllNodesScan", "RelationshipTypeScan", "IndexScan")
#: Parameters that name the jobs or processes a query is about.
TARGETS = {"jobid", "jobids", "uid", "ids", "edges"}
#: Queries that take $jobids but read every job when it is null (by design: all jobs).
ALL_JOBS = {"jobs", "jobs-count", "jobs-metadata"}


def operators(plan: dict[str, Any]) -> list[str]:
    """Every operator type in a plan tree (the driver's ``summary.plan`` dict)."""
    return [plan["operatorType"], *(o for c in plan.get("children", []) for o in operators(c))]


@pytest.mark.parametrize(
    "name",
    [
        name
        for name in cypher.names()
        if name != "schema"
        and name not in ALL_JOBS
        and TARGETS & set(PARAM.findall(cypher.query(name)))
    ],
)
def test_plans_seek_through_indexes(graph: Graph, name: str) -> None:
    with graph.driver.session(database=graph.connection.database) as session:
        statement = cypher.query(name)
        params = dict.fromkeys(PARAM.findall(statement))
        plan = session.run("EXPLAIN " + statement, params).consume().plan
    assert plan is not None
    scans = [op for op in operators(plan) if op.split("@")[0].endswith(SCANS)]
    assert scans == [], f"{name}.cypher scans: {scans}"


#: Queries answering in pages of rows (what the API reads), each with the query of one row
#: per process (what the Browser and its guide show) whose selection it repeats.
PAGED = {"job-op-roots-pages": "job-op-roots", "processes-pages": "processes"}


@pytest.mark.parametrize("paged", sorted(PAGED))
def test_pages_select_what_their_one_row_query_selects(paged: str) -> None:
    one_row = split(PAGED[paged])[1]
    selection = one_row[: one_row.index("\nRETURN ")]
    assert split(paged)[1].startswith(selection + "\n")


#: Files that define or write JobHeads rather than read through one.
HEAD_WRITERS = {"schema", "publish-job", "unpublish-job", "migrate-versions"}
#: A read of the head's version that is not its one projection into ``version``.
STRAY_VERSION_READ = re.compile(r"(?<!cache\[)h\.version(?!\]? AS version)")


def details(plan: dict[str, Any]) -> list[str]:
    """Every operator's details line in a plan tree."""
    own = str(plan.get("args", {}).get("Details", ""))
    return [own, *(d for c in plan.get("children", []) for d in details(c))]


@pytest.mark.parametrize(
    "name",
    [
        name
        for name in cypher.names()
        if "(h:JobHead" in cypher.query(name) and name not in HEAD_WRITERS
    ],
)
def test_the_published_version_is_read_once(graph: Graph, name: str) -> None:
    """A query reads ``h.version`` once, into a variable: a read per row could see a
    replace publish half-way through the query and mix the old version with the new."""
    with graph.driver.session(database=graph.connection.database) as session:
        statement = cypher.query(name)
        params = dict.fromkeys(PARAM.findall(statement))
        plan = session.run("EXPLAIN " + statement, params).consume().plan
    assert plan is not None
    stray = [line for line in details(plan) if STRAY_VERSION_READ.search(line)]
    assert stray == [], f"{name}.cypher reads h.version again: {stray}"


def test_no_python_module_formats_cypher() -> None:
    keywords = r"\b(MATCH|MERGE|CREATE|DELETE|WHERE|RETURN|UNWIND|SET)\b"
    formatted = re.compile(
        r"""(f["'][^"']*""" + keywords + r"|" + keywords + r"""[^"']*["']\s*(%|\.format\())"""
    )
    offenders = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in PACKAGE.rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if formatted.search(line)
    ]
    assert offenders == []
