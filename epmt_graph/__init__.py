"""epmt_graph: EPMT process trees in Neo4j, behind an ``epmt_query``-compatible API."""

__all__ = ["__version__"]

__version__ = "0.1.0"
