"""A process tree as GraphML (through networkx) or as JSON ``{nodes, edges}``.

GraphML holds scalars only, so tags become EPMT's canonical ``"k:v;k2:v2"`` string
(sorted by key, ``""`` when untagged), times ISO 8601 strings, and missing values are
left out. JSON keeps tags as an object. :func:`export_text` gives either document as a
string (for a CLI's stdout), :func:`write_export` writes it to a file.

Examples
--------
>>> from epmt_graph.tree.frame import ProcessTree
>>> tree = ProcessTree.from_rows([
...     {"id": "a", "parent": None, "pid": 1, "exename": "sh", "cpu_time": 5, "tags": {}},
...     {"id": "b", "parent": "a", "pid": 2, "exename": "cc", "cpu_time": 7,
...      "tags": {"op": "build", "stage": "1"}},
... ])
>>> doc = to_json(tree)
>>> doc["edges"], doc["nodes"][1]["tags"]
([{'source': 'a', 'target': 'b'}], {'op': 'build', 'stage': '1'})
>>> graphml_graph(tree).nodes["b"]["tags"]
'op:build;stage:1'
>>> "<edge source=\\"a\\" target=\\"b\\"" in export_text(tree, "graphml")
True
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd

from epmt_graph.errors import QueryError
from epmt_graph.tree.frame import ProcessTree

__all__ = ["EXPORT_FORMATS", "export_text", "graphml_graph", "to_json", "write_export"]

#: The formats of :func:`export_text` and :func:`write_export`.
EXPORT_FORMATS = ("graphml", "json")


def _json_value(value: Any) -> Any:
    """A frame value as plain JSON data; None for missing values."""
    if isinstance(value, dt.datetime):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return value


def _graphml_value(value: Any) -> Any:
    """A frame value as a GraphML scalar; None for missing values."""
    if isinstance(value, Mapping):
        return ";".join(f"{k}:{v}" for k, v in sorted(value.items()))
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return _json_value(value)


def graphml_graph(tree: ProcessTree) -> nx.DiGraph:
    """:meth:`ProcessTree.to_networkx` with every node value a GraphML scalar."""
    graph = tree.to_networkx()
    for _, data in graph.nodes(data=True):
        values = {name: _graphml_value(value) for name, value in data.items()}
        data.clear()
        data.update({name: value for name, value in values.items() if value is not None})
    return graph


def to_json(tree: ProcessTree) -> dict[str, list[dict[str, Any]]]:
    """``{"nodes": [{"id", ...columns}], "edges": [{"source", "target"}]}``, in start order.

    Every value is plain JSON data (``json.dumps`` takes it as is).
    """
    frame = tree.frame.drop(columns="parent")
    nodes = [
        {"id": proc_id, **{str(name): _json_value(value) for name, value in row.items()}}
        for proc_id, row in zip(frame.index, frame.to_dict("records"), strict=True)
    ]
    edges = [
        {"source": parent, "target": child}
        for child, parent in tree.frame["parent"].items()
        if parent is not None
    ]
    return {"nodes": nodes, "edges": edges}


def export_text(tree: ProcessTree, fmt: str) -> str:
    """The tree as a GraphML or JSON document.

    Raises
    ------
    QueryError
        If ``fmt`` is not one of :data:`EXPORT_FORMATS`.
    """
    if fmt == "graphml":
        buffer = io.BytesIO()
        nx.write_graphml(graphml_graph(tree), buffer)
        return buffer.getvalue().decode()
    if fmt == "json":
        return json.dumps(to_json(tree), indent=1)
    raise QueryError(f"export format must be one of {', '.join(EXPORT_FORMATS)}; got {fmt!r}")


def write_export(tree: ProcessTree, fmt: str, path: str | Path) -> Path:
    """Write :func:`export_text` to ``path`` (UTF-8) and return the path."""
    path = Path(path)
    path.write_text(export_text(tree, fmt), encoding="utf-8")
    return path
