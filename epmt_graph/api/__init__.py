"""The epmt_query API on the graph: ``import epmt_graph.api as eq``.

Functions keep EPMT's names, arguments and ``fmt`` values (``terse``, ``dict``,
``pandas``, ``orm``); each answers through named Cypher queries. Every function also
takes a keyword-only ``graph=`` (default: the database the environment names).
"""

from epmt_graph.api.expr import asc, desc
from epmt_graph.api.models import Job, Process
from epmt_graph.api.procs import get_procs
from epmt_graph.api.query import ProcessQuery
from epmt_graph.api.trees import compute_process_trees, get_roots, op_roots, root

__all__ = [
    "Job",
    "Process",
    "ProcessQuery",
    "asc",
    "compute_process_trees",
    "desc",
    "get_procs",
    "get_roots",
    "op_roots",
    "root",
]
