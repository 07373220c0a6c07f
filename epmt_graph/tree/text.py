"""The text tree: one line per process, indented by level, with its CPU times.

Each line shows the inclusive and exclusive CPU time in seconds, then the exename and
pid, indented two spaces per level; children follow their parent by start time. Sibling
subtrees below a threshold fold into one line (see :func:`epmt_graph.tree.fold.fold`).

Examples
--------
>>> from epmt_graph.tree.frame import ProcessTree
>>> tree = ProcessTree.from_rows([
...     {"id": "a", "parent": None, "pid": 1, "exename": "sh", "cpu_time": 500_000},
...     {"id": "b", "parent": "a", "pid": 2, "exename": "make", "cpu_time": 1_000_000},
...     {"id": "c", "parent": "b", "pid": 3, "exename": "cc", "cpu_time": 3_000_000},
...     {"id": "d", "parent": "a", "pid": 4, "exename": "ls", "cpu_time": 1_000},
...     {"id": "e", "parent": "a", "pid": 5, "exename": "rm", "cpu_time": 2_000},
... ])
>>> print(render_text(tree, threshold=0.1))
  inclusive   exclusive  process
    4.503 s     0.500 s  sh [1]
    4.000 s     1.000 s    make [2]
    3.000 s     3.000 s      cc [3]
                            … 2 processes, 0.003 s
"""

from __future__ import annotations

from epmt_graph.tree.fold import fold
from epmt_graph.tree.frame import ProcessTree

__all__ = ["HEADER", "render_text"]

#: The first line of every text tree.
HEADER = f"{'inclusive':>11} {'exclusive':>11}  process"
_BLANK = " " * 24


def _seconds(micros: int) -> str:
    return f"{micros / 1e6:9.3f} s"


def render_text(tree: ProcessTree, threshold: float = 0.0) -> str:
    """The tree as indented text, subtrees below ``threshold`` seconds folded.

    Parameters
    ----------
    tree : ProcessTree
    threshold : float
        Seconds of inclusive CPU time; sibling subtrees below it are shown as one line
        "… N processes, X s". 0 (the default) shows every process.

    Returns
    -------
    str
        :data:`HEADER`, then one line per row (no trailing newline).
    """
    exename, pid, cpu = (tree.values(c) for c in ("exename", "pid", "cpu_time"))
    lines = [HEADER]
    for row in fold(tree, threshold):
        indent = "  " * row.level
        if row.proc is None:
            lines.append(f"{_BLANK}  {indent}{row.summary()}")
        else:
            proc = row.proc
            times = f"{_seconds(row.cpu)} {_seconds(cpu[proc])}"
            lines.append(f"{times}  {indent}{exename[proc]} [{pid[proc]}]")
    return "\n".join(lines)
