"""Cut a job's processes into the batches the writer sends, with the edges inside each.

``load-processes`` creates a batch of Process nodes and, in the same statement, the
PARENT_OF edges among them by their positions in the batch: no index lookups. Only the
edges whose two ends fall in different batches are made afterwards, by uid
(``load-parent-edges``). Processes come in start order, so a parent is nearly always in its
child's batch or an earlier one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Pairs", "Slice", "slices"]

#: ``(parent, child)`` index pairs, one per row.
Pairs = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Slice:
    """Processes ``start:end`` of a job."""

    start: int
    end: int

    def links(self, parents: Sequence[int | None]) -> list[list[int]]:
        """The PARENT_OF edges inside the slice, as ``[parent, child]`` positions in it."""
        return [
            [parent - self.start, child - self.start]
            for child, parent in enumerate(parents[self.start : self.end], self.start)
            if parent is not None and self.start <= parent < self.end
        ]


def slices(parents: Sequence[int | None], size: int) -> tuple[list[Slice], Pairs]:
    """Cut a job's processes into slices of ``size``, and find the edges between slices.

    Parameters
    ----------
    parents : sequence of int or None
        ``parents[i]`` is the index of process ``i``'s parent (None for a root).
    size : int
        Processes per slice (at least 1).

    Returns
    -------
    slices : list of Slice
        Their edges inside are found when they are written (:meth:`Slice.links`).
    crossing : numpy array of shape (k, 2)
        The ``(parent, child)`` edges whose ends are in different slices, by child.

    Examples
    --------
    >>> parents = [None, 0, 1, 0, 3]
    >>> cut, crossing = slices(parents, 3)
    >>> [(s.start, s.end, s.links(parents)) for s in cut], crossing.tolist()
    ([(0, 3, [[0, 1], [1, 2]]), (3, 5, [[0, 1]])], [[0, 3]])
    """
    n = len(parents)
    cut = [Slice(start, min(start + size, n)) for start in range(0, n, size)]
    links = np.fromiter((-1 if p is None else p for p in parents), dtype=np.int64, count=n)
    child = np.flatnonzero((links >= 0) & (links // size != np.arange(n) // size))
    return cut, np.column_stack((links[child], child))
