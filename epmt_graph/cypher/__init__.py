"""The named Cypher queries, one question per ``.cypher`` file.

Each file starts with ``//`` comment lines saying what it answers and which ``$parameters``
it takes, and runs as-is in the Neo4j Browser after ``:param``. Values always travel as
parameters; no query text is ever assembled from values.

Examples
--------
>>> "$jobid" in query("job-roots")
True
>>> len(statements("schema")) > 1
True
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from epmt_graph.errors import QueryError

__all__ = ["names", "query", "schema_names", "statements"]


@cache
def query(name: str) -> str:
    """The text of ``<name>.cypher``.

    Raises
    ------
    QueryError
        If there is no such file.
    """
    path = resources.files(__name__).joinpath(f"{name}.cypher")
    if not path.is_file():
        raise QueryError(f"no named query {name!r}; known: {', '.join(names())}")
    return path.read_text()


def statements(name: str) -> list[str]:
    """The ``;``-separated statements of ``<name>.cypher`` (for multi-statement files)."""
    return _statements(query(name))


@cache
def schema_names(name: str = "schema") -> tuple[frozenset[str], frozenset[str]]:
    """The names of the indexes and constraints ``<name>.cypher`` creates, and of those it drops.

    Parameters
    ----------
    name : str
        A schema file: ``CREATE``/``DROP`` ``CONSTRAINT``/``INDEX`` statements, each naming
        what it makes or removes.

    Returns
    -------
    (frozenset of str, frozenset of str)
        Created names, dropped names.

    Raises
    ------
    QueryError
        If a statement of the file names no index or constraint.

    Examples
    --------
    >>> created, dropped = schema_names()
    >>> "jobhead_jobid" in created, "process_uid" in dropped, created & dropped
    (True, True, frozenset())
    """
    found: dict[str, set[str]] = {"CREATE": set(), "DROP": set()}
    for statement in _statements(query(name)):
        named = _SCHEMA_STATEMENT.search(statement)
        if named is None:
            raise QueryError(f"{name}.cypher: not a named index or constraint: {statement!r}")
        found[named["verb"]].add(named["name"])
    return frozenset(found["CREATE"]), frozenset(found["DROP"])


_SCHEMA_STATEMENT = re.compile(
    r"^(?P<verb>CREATE|DROP) (?:CONSTRAINT|INDEX) (?P<name>\w+)", re.MULTILINE
)


def names() -> list[str]:
    """Every named query shipped with the package."""
    files = resources.files(__name__).iterdir()
    return sorted(f.name.removesuffix(".cypher") for f in files if f.name.endswith(".cypher"))


def _statements(text: str) -> list[str]:
    return [part.strip() for part in text.split(";\n") if _has_code(part)]


def _has_code(text: str) -> bool:
    return any(line.strip() and not line.strip().startswith("//") for line in text.splitlines())
