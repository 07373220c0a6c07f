"""Where things live and how to reach the database.

Connection settings come from ``NEO4J_URI``, ``NEO4J_USER``, ``NEO4J_PASSWORD`` and
``NEO4J_DATABASE``. Without ``NEO4J_URI``, :func:`epmt_graph.db.default_connection` uses
the local server started by ``epmt-graph server start``, with the password from its
credentials file. Any URI scheme the driver knows works: ``bolt://``, ``neo4j://``
(routing: clusters), ``neo4j+s://`` (Aura). This module imports nothing of epmt_graph but
its errors.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from epmt_graph.errors import ConfigError

__all__ = [
    "NEO4J_VERSION",
    "Connection",
    "cache_dir",
    "connection_from_env",
    "database_from_env",
    "server_home",
]

#: The Neo4j server version provisioned from Maven Central.
NEO4J_VERSION = "5.26.30"

_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")


def cache_dir() -> Path:
    """Folder for downloaded Neo4j jars (``EPMT_GRAPH_CACHE``, else ``~/.cache/epmt_graph``)."""
    env = os.environ.get("EPMT_GRAPH_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "epmt_graph"


def server_home() -> Path:
    """Folder of the local server's config, data, logs and credentials.

    ``EPMT_GRAPH_HOME``, else ``~/.local/share/epmt_graph/server``: outside any source tree.
    """
    env = os.environ.get("EPMT_GRAPH_HOME")
    return Path(env) if env else Path.home() / ".local" / "share" / "epmt_graph" / "server"


@dataclass(frozen=True)
class Connection:
    """How to reach a Neo4j database.

    Attributes
    ----------
    uri : str
        A driver URI: ``bolt://``, ``neo4j://``, ``neo4j+s://`` (and the ``+ssc`` forms).
    user : str
        The user name; ignored when ``password`` is None.
    password : str or None
        None means no authentication (a server started with ``--no-auth``).
    database : str
        The database name.
    """

    uri: str
    user: str = "neo4j"
    password: str | None = None
    database: str = "neo4j"

    def __post_init__(self) -> None:
        scheme = self.uri.partition("://")[0]
        if scheme not in _SCHEMES or "://" not in self.uri:
            raise ConfigError(
                f"NEO4J_URI {self.uri!r} is not a Neo4j URI; expected one of "
                + ", ".join(f"{s}://host:port" for s in _SCHEMES)
            )

    def __repr__(self) -> str:
        secret = "None" if self.password is None else "'***'"
        return (
            f"Connection(uri={self.uri!r}, user={self.user!r}, password={secret}, "
            f"database={self.database!r})"
        )


def connection_from_env() -> Connection | None:
    """The connection the environment asks for: ``NEO4J_URI`` and its companions.

    Returns
    -------
    Connection or None
        None when ``NEO4J_URI`` is not set (:func:`epmt_graph.db.default_connection`
        then reaches the local server).

    Raises
    ------
    ConfigError
        If ``NEO4J_URI`` is malformed.

    Examples
    --------
    >>> import os
    >>> os.environ["NEO4J_URI"] = "neo4j://db.example:7687"
    >>> os.environ["NEO4J_PASSWORD"] = "pw"
    >>> connection_from_env()
    Connection(uri='neo4j://db.example:7687', user='neo4j', password='***', database='neo4j')
    >>> del os.environ["NEO4J_URI"], os.environ["NEO4J_PASSWORD"]
    >>> connection_from_env() is None
    True
    """
    uri = os.environ.get("NEO4J_URI")
    if not uri:
        return None
    return Connection(
        uri=uri,
        user=os.environ.get("NEO4J_USER", "neo4j"),
        password=os.environ.get("NEO4J_PASSWORD"),
        database=database_from_env(),
    )


def database_from_env() -> str:
    """The database name: ``NEO4J_DATABASE``, else ``neo4j``."""
    return os.environ.get("NEO4J_DATABASE", "neo4j")
