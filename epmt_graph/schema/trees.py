"""The two stored tree values, ``depth`` and ``inclusive_cpu_time``, from parent links.

This is the one client-side definition: the loader computes them before a write and
:class:`~epmt_graph.tree.ProcessTree` for rows that lack them. The server finds them
again from the stored edges with the ``tree-depths`` and ``tree-inclusive-cpu`` walks
(``epmt_graph.api.compute_process_trees``); the tests check both against networkx.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["Ints", "tree_values"]

Ints = npt.NDArray[np.int64]


def tree_values(parents: Ints, cpu: Ints) -> tuple[Ints, Ints]:
    """Each process's depth (0 for a root) and inclusive CPU time (its own ``cpu`` plus its
    descendants'), for ``parents`` that form a forest (-1 for a root).

    Depths come from pointer jumping: every process adds its ancestor's distance and
    jumps to that ancestor's ancestor, so ``log2(max depth)`` whole-array steps suffice.
    Inclusive times are then summed level by level, deepest first.

    Parameters
    ----------
    parents : numpy array of int64
        ``parents[i]`` is the position of process ``i``'s parent, -1 for a root.
    cpu : numpy array of int64
        Each process's own CPU time.

    Returns
    -------
    depth, inclusive : numpy arrays of int64

    Examples
    --------
    >>> a = lambda *v: np.array(v, dtype=np.int64)
    >>> depth, inclusive = tree_values(a(-1, 0, 0, 2, -1), a(1, 10, 100, 1000, 5))
    >>> depth.tolist(), inclusive.tolist()
    ([0, 1, 1, 2, 0], [1111, 10, 1100, 1000, 5])
    """
    up = parents.copy()
    depth = (up >= 0).astype(np.int64)
    while (moving := np.flatnonzero(up >= 0)).size:
        ancestors = up[moving]
        depth[moving] += depth[ancestors]
        up[moving] = up[ancestors]
    inclusive = cpu.copy()
    by_depth = np.argsort(depth, kind="stable")
    bounds = np.searchsorted(depth[by_depth], np.arange(int(depth.max(initial=0)) + 2))
    for level in range(len(bounds) - 2, 0, -1):
        members = by_depth[bounds[level] : bounds[level + 1]]
        np.add.at(inclusive, parents[members], inclusive[members])
    return depth, inclusive
