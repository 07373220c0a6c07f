"""A process row and its Process node: the one conversion between them.

The loader works on *rows*: one dict per process with every field and summed metric as a
key. A Process node keeps the fields of :data:`~epmt_graph.schema.fields.PROCESS_PACKED`
in its lists instead (the metrics in ``metrics``, ...: :func:`node_properties`); the API
turns nodes back into rows (:func:`row_properties`), whatever shape they were written in.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from epmt_graph.schema.fields import PROCESS_PACKED, PROCESS_PROPERTIES

__all__ = ["Row", "node_properties", "row_properties", "thread_rows"]

Row = dict[str, Any]


def node_properties(process: Row) -> Row:
    """The properties a Process node stores for a process row: each list of
    :data:`~epmt_graph.schema.fields.PROCESS_PACKED` packed (unless a field of it is None or
    missing: a list holds no null, and those fields stay properties of their own).

    Examples
    --------
    >>> from epmt_graph.schema.fields import PROCESS_METRICS
    >>> row = {"pid": 7, **{name: 0 for name in PROCESS_METRICS}, "usertime": 5, "cutime": 1}
    >>> node = node_properties(row)
    >>> node["pid"], node["metrics"][0], node["cutime"], "usertime" in node
    (7, 5, 1, False)
    >>> row_properties(node) == row
    True
    >>> node = node_properties({**row, "rchar": None})  # no list holds a null
    >>> "metrics" in node, node["usertime"], node["rchar"]
    (False, 5, None)
    """
    node = dict(process)
    for packed, names in PROCESS_PACKED.items():
        values = [node.get(name) for name in names]
        if None not in values:
            for name in names:
                del node[name]
            node[packed] = values
    return node


def row_properties(node: Mapping[str, Any]) -> Row:
    """A process row from a Process node's properties (:func:`node_properties` undone).

    A node without one of the lists (written before it existed, or with a None field of
    it) has those fields as properties of its own: they come back as they are.

    Examples
    --------
    >>> row_properties({"pid": 7, "metrics": list(range(24))})["rchar"]
    12
    >>> row_properties({"pid": 7, "rchar": 3})
    {'pid': 7, 'rchar': 3}
    """
    row = dict(node)
    for packed, names in PROCESS_PACKED.items():
        values = row.pop(packed, None)
        if values is not None:
            row.update(zip(names, values, strict=True))
    return row


def thread_rows(process: Row) -> list[Row]:
    """The per-thread papiex rows of a process row, from its ``threads_json``.

    ``threads_json`` is a JSON list of thread rows; for a single-threaded process (97% of
    them) it holds only the thread's unsummed columns (``tid``, ``start``, ``end``,
    ``num_threads``, ``starttime``), and its metrics are the process's own.

    Examples
    --------
    >>> thread_rows({"pid": 7, "usertime": 5, "threads_json": '{"tid": 7, "starttime": 1}'})
    [{'tid': 7, 'starttime': 1, 'usertime': 5}]
    >>> thread_rows({"pid": 7, "usertime": 9, "threads_json": '[{"tid": 7}, {"tid": 8}]'})
    [{'tid': 7}, {'tid': 8}]
    """
    threads = json.loads(process["threads_json"])
    if isinstance(threads, list):
        return threads
    metrics = {k: v for k, v in process.items() if k not in PROCESS_PROPERTIES}
    return [{**threads, **metrics}]
