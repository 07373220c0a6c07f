"""What a tree view shows: the processes at or above a CPU threshold, the rest folded.

Both the text tree and the picture draw the rows of :func:`fold`: a shown process, or one
folded row standing for every sibling subtree whose inclusive CPU time is below the
threshold ("… N processes, X s"), placed after the shown siblings.

Examples
--------
>>> from epmt_graph.tree.frame import ProcessTree
>>> tree = ProcessTree.from_rows([
...     {"id": "a", "parent": None, "pid": 1, "exename": "sh", "cpu_time": 5},
...     {"id": "b", "parent": "a", "pid": 2, "exename": "make", "cpu_time": 10},
...     {"id": "c", "parent": "b", "pid": 3, "exename": "cc", "cpu_time": 30},
...     {"id": "d", "parent": "a", "pid": 4, "exename": "ls", "cpu_time": 1},
... ])
>>> for row in fold(tree, threshold=20e-6):
...     print(row)
Row(level=0, proc='a', processes=4, cpu=46, parent=None)
Row(level=1, proc='b', processes=2, cpu=40, parent=0)
Row(level=2, proc='c', processes=1, cpu=30, parent=1)
Row(level=1, proc=None, processes=1, cpu=1, parent=0)
>>> [row.proc for row in fold(tree, threshold=20e-6, keep={"d"})]  # d stays
['a', 'b', 'c', 'd']
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from epmt_graph.errors import QueryError
from epmt_graph.tree.frame import ProcessTree

__all__ = ["Row", "fold", "subtree_sizes"]


@dataclass(frozen=True)
class Row:
    """One row of a tree view.

    Attributes
    ----------
    level : int
        0 for the top (a root, or the roots' folded row), +1 per step down.
    proc : str or None
        The process shown, or None for a folded row.
    processes : int
        How many processes the row stands for: the process's subtree, or every folded one.
    cpu : int
        Inclusive CPU time in µs: the process's, or the folded subtrees' sum.
    parent : int or None
        The index of the parent row (None at the top).
    """

    level: int
    proc: str | None
    processes: int
    cpu: int
    parent: int | None

    def summary(self) -> str:
        """What a folded row says: "… N processes, X s".

        Examples
        --------
        >>> Row(level=1, proc=None, processes=1, cpu=2500, parent=0).summary()
        '… 1 process, 0.003 s'
        """
        noun = "process" if self.processes == 1 else "processes"
        return f"… {self.processes} {noun}, {self.cpu / 1e6:.3f} s"


def subtree_sizes(tree: ProcessTree) -> dict[str, int]:
    """How many processes each process's subtree holds (itself included)."""
    size: dict[str, int] = {}
    for proc_id, _ in reversed(list(tree.walk())):
        size[proc_id] = 1 + sum(size[c] for c in tree.children(proc_id))
    return size


def fold(tree: ProcessTree, threshold: float = 0.0, keep: Collection[str] = ()) -> list[Row]:
    """The rows of a tree view in depth-first order, siblings by start.

    Parameters
    ----------
    tree : ProcessTree
    threshold : float
        Seconds of inclusive CPU time: sibling subtrees below it fold into one row.
        0 (the default) shows every process.
    keep : collection of str
        Process ids always shown, with their ancestors, whatever their CPU time.

    Raises
    ------
    QueryError
        If ``threshold`` is negative.
    """
    if threshold < 0:
        raise QueryError(f"the fold threshold is seconds of CPU time >= 0, got {threshold}")
    limit = threshold * 1e6
    inclusive = tree.values("inclusive_cpu_time")
    size = subtree_sizes(tree)
    up = tree.values("parent")
    shown: set[str] = set()
    for proc_id in keep:  # each kept process and its ancestors, each walked once
        step: str | None = proc_id
        while step is not None and step in tree and step not in shown:
            shown.add(step)
            step = up[step]
    rows: list[Row] = []
    # each entry: (level, parent row, a process to show or the siblings to fold)
    stack: list[tuple[int, int | None, str | list[str]]] = []

    def push(siblings: list[str], level: int, parent: int | None) -> None:
        small = {s for s in siblings if inclusive[s] < limit and s not in shown}
        if small:
            stack.append((level, parent, [s for s in siblings if s in small]))
        stack.extend((level, parent, s) for s in reversed(siblings) if s not in small)

    push(tree.roots, 0, None)
    while stack:
        level, parent, item = stack.pop()
        if isinstance(item, list):
            count, cpu = sum(size[s] for s in item), sum(inclusive[s] for s in item)
            rows.append(Row(level, None, count, cpu, parent))
        else:
            rows.append(Row(level, item, size[item], inclusive[item], parent))
            push(tree.children(item), level + 1, len(rows) - 1)
    return rows
