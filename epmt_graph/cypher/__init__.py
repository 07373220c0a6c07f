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

from functools import cache
from importlib import resources

from epmt_graph.errors import QueryError

__all__ = ["names", "query", "statements"]


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
    parts = query(name).split(";\n")
    return [part.strip() for part in parts if _has_code(part)]


def names() -> list[str]:
    """Every named query shipped with the package."""
    files = resources.files(__name__).iterdir()
    return sorted(f.name.removesuffix(".cypher") for f in files if f.name.endswith(".cypher"))


def _has_code(text: str) -> bool:
    return any(line.strip() and not line.strip().startswith("//") for line in text.splitlines())
