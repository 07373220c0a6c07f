"""``ProcessTree``: one job's process tree as a DataFrame indexed by process id.

The frame has one row per process, in start order, with its ``parent`` id (None for a
root), ``depth``, ``pid``, ``exename``, ``args``, ``tags``, ``cpu_time`` (exclusive, µs)
and ``inclusive_cpu_time`` (the process and everything below it, µs). A job's tree comes
from one named query (``job-tree``); the renderers in :mod:`epmt_graph.tree.text`,
:mod:`~epmt_graph.tree.export` and :mod:`~epmt_graph.tree.picture` take a ``ProcessTree``.

Examples
--------
>>> tree = ProcessTree.from_rows([
...     {"id": "a", "parent": None, "pid": 1, "exename": "sh", "cpu_time": 5},
...     {"id": "b", "parent": "a", "pid": 2, "exename": "make", "cpu_time": 10},
...     {"id": "c", "parent": "b", "pid": 3, "exename": "cc", "cpu_time": 30},
...     {"id": "d", "parent": "a", "pid": 4, "exename": "ls", "cpu_time": 1},
... ])
>>> tree.roots, tree.children("a")
(['a'], ['b', 'd'])
>>> tree.frame[["depth", "cpu_time", "inclusive_cpu_time"]]  # doctest: +NORMALIZE_WHITESPACE
    depth  cpu_time  inclusive_cpu_time
id
a       0         5                  46
b       1        10                  40
c       2        30                  30
d       1         1                   1
>>> tree.critical_path()
['a', 'b', 'c']
>>> sorted(tree.subtree("b").to_networkx().edges)
[('b', 'c')]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from epmt_graph.api.params import single_jobid
from epmt_graph.api.rows import local_time, tags_dict
from epmt_graph.db import Graph, default_graph
from epmt_graph.errors import QueryError
from epmt_graph.schema import tree_values

__all__ = ["REQUIRED", "ProcessTree"]

#: Columns every tree needs (besides its ``id`` index); ``depth`` and
#: ``inclusive_cpu_time`` are computed when missing (:func:`epmt_graph.schema.tree_values`).
REQUIRED = ("parent", "pid", "exename", "cpu_time")
_TREE_VALUES = ("depth", "inclusive_cpu_time")


class ProcessTree:
    """A process tree: a frame indexed by process id, and its parent→children links.

    Parameters
    ----------
    frame : pandas.DataFrame
        Indexed by unique process id, in start order, with at least the columns
        :data:`REQUIRED`. A ``parent`` outside the frame makes that process a root. Missing
        or incomplete ``depth``/``inclusive_cpu_time`` columns are computed (O(processes)).

    Attributes
    ----------
    frame : pandas.DataFrame
        The processes (treat as read-only).

    Raises
    ------
    QueryError
        If a required column is missing, ids repeat, or the parent links form a cycle.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        missing = [c for c in REQUIRED if c not in frame.columns]
        if missing:
            raise QueryError(f"a process tree needs the columns {missing}")
        if not frame.index.is_unique:
            raise QueryError("a process tree needs unique process ids")
        frame = frame.rename_axis("id")
        ids = list(frame.index)
        known = set(ids)
        parents = [p if p in known else None for p in frame["parent"]]
        frame["parent"] = pd.Series(parents, index=frame.index, dtype=object)
        self._children: dict[str, list[str]] = {i: [] for i in ids}
        self.roots: list[str] = []
        for child, parent in zip(ids, parents, strict=True):
            (self.roots if parent is None else self._children[parent]).append(child)
        order = self._top_down()
        if len(order) != len(ids):
            raise QueryError("the parent links of a process tree form a cycle")
        if any(c not in frame.columns or frame[c].isna().any() for c in _TREE_VALUES):
            frame = self._with_tree_values(frame)
        self.frame = frame

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]]) -> ProcessTree:
        """A tree from process dicts (each with ``id`` and the :data:`REQUIRED` keys)."""
        frame = pd.DataFrame(list(rows))
        if "id" not in frame.columns:
            raise QueryError("a process tree needs an 'id' for every process")
        return cls(frame.set_index("id"))

    @classmethod
    def of_job(cls, job: Any, graph: Graph | None = None) -> ProcessTree:
        """The whole process tree of one job, fetched with one query (``job-tree``).

        Times (``start``, ``end``) are naive datetimes in the job's zone, as in the API;
        ``tags`` are dicts. ``depth`` and ``inclusive_cpu_time`` are the ones the loader
        stored (computed here if the job was written without them).

        Parameters
        ----------
        job : one job, in any form ``get_jobs`` accepts
        graph : Graph, optional
            Default: :func:`epmt_graph.db.default_graph`.

        Raises
        ------
        QueryError
            If more than one job is given, or the job is not loaded.

        Examples
        --------
        >>> ProcessTree.of_job("685000").roots[:2]
        ['685000:0', '685000:155']
        """
        graph = graph or default_graph()
        jobid = single_jobid(graph, job, needs="a process tree is of one job")
        records = graph.read("job-tree", jobid=jobid)
        if not records:
            raise QueryError(f"job {jobid} is not loaded or has no processes")
        rows = []
        for record in records:
            row = dict(record)
            zone = row.pop("tz") or "UTC"
            row["tags"] = tags_dict(row["tags"] or [])
            row["start"] = local_time(row["start"], zone)
            row["end"] = local_time(row["end"], zone)
            rows.append(row)
        return cls.from_rows(rows)

    def __len__(self) -> int:
        return len(self.frame)

    def __contains__(self, proc_id: object) -> bool:
        return proc_id in self._children

    def __repr__(self) -> str:
        return f"<ProcessTree {len(self)} processes, {len(self.roots)} roots>"

    def values(self, column: str) -> dict[str, Any]:
        """The column ``column`` as a dict by process id."""
        return dict(zip(self.frame.index, self.frame[column], strict=True))

    def children(self, proc_id: str) -> list[str]:
        """The ids of a process's children, in start order."""
        self._check(proc_id)
        return list(self._children[proc_id])

    def walk(self, start: str | None = None) -> Iterator[tuple[str, int]]:
        """``(id, level)`` in depth-first pre-order, children by start; level 0 at the top.

        From ``start`` (its subtree), or from every root in turn.
        """
        if start is not None:
            self._check(start)
        stack = [(start, 0)] if start is not None else [(r, 0) for r in reversed(self.roots)]
        while stack:
            proc_id, level = stack.pop()
            yield proc_id, level
            stack.extend((c, level + 1) for c in reversed(self._children[proc_id]))

    def subtree(self, proc_id: str) -> ProcessTree:
        """The tree below ``proc_id``, itself its root (``depth`` stays the job's)."""
        ids = [i for i, _ in self.walk(proc_id)]
        return ProcessTree(self.frame.loc[ids])

    def critical_path(self, start: str | None = None) -> list[str]:
        """The chain down which the CPU time is concentrated: ``eq.critical_path``'s rule.

        From ``start`` (default: the root with the largest inclusive CPU time), each step
        goes to the child with the largest ``inclusive_cpu_time``, down to a leaf. Ties go
        to the earlier process in the frame's order (start time, then pid, for a job's
        tree), as the ``critical-path`` query breaks them.

        Returns
        -------
        list of str
            Process ids, ``start`` first.

        Raises
        ------
        QueryError
            If the tree is empty or ``start`` is not in it.
        """
        inclusive = self.frame["inclusive_cpu_time"]
        if start is None:
            if not self.roots:
                raise QueryError("an empty process tree has no critical path")
            start = max(self.roots, key=inclusive.__getitem__)
        self._check(start)
        path = [start]
        while kids := self._children[path[-1]]:
            path.append(max(kids, key=inclusive.__getitem__))
        return path

    def to_networkx(self) -> nx.DiGraph:
        """A ``networkx.DiGraph``: parent→child edges, the frame's columns as node data."""
        graph = nx.DiGraph()
        data = self.frame.drop(columns="parent")
        graph.add_nodes_from(zip(data.index, data.to_dict("records"), strict=True))
        graph.add_edges_from(
            (parent, child) for child, parent in self.frame["parent"].items() if parent is not None
        )
        return graph

    def _check(self, proc_id: str) -> None:
        if proc_id not in self._children:
            raise QueryError(f"no process {proc_id!r} in this tree")

    def _top_down(self) -> list[str]:
        """Every process reachable from a root, parents before children."""
        order = list(self.roots)
        for proc_id in order:  # grows as it goes: breadth first
            order.extend(self._children[proc_id])
        return order

    def _with_tree_values(self, frame: pd.DataFrame) -> pd.DataFrame:
        position = {proc_id: i for i, proc_id in enumerate(frame.index)}
        links = np.array([position.get(p, -1) for p in frame["parent"]], dtype=np.int64)
        depth, inclusive = tree_values(links, frame["cpu_time"].to_numpy(dtype=np.int64))
        return frame.assign(depth=depth, inclusive_cpu_time=inclusive)
