"""Cut a job's processes into the batches the writer sends, with the edges inside each.

``load-processes`` creates a batch of Process nodes and, in the same statement, the
PARENT_OF edges among them by their positions in the batch: no index lookups. Only the
edges whose two ends fall in different batches are made afterwards, by uid
(``load-parent-edges``). Processes come in start order, so a parent is nearly always in its
child's batch or an earlier one.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Slice", "slices"]


@dataclass(frozen=True)
class Slice:
    """Processes ``start:end`` of a job, with the PARENT_OF edges among them as
    ``[parent, child]`` positions in the slice."""

    start: int
    end: int
    links: list[list[int]]


def slices(parents: list[int | None], size: int) -> tuple[list[Slice], list[tuple[int, int]]]:
    """Cut a job's processes into slices of ``size``, and find the edges between slices.

    Parameters
    ----------
    parents : list of int or None
        ``parents[i]`` is the index of process ``i``'s parent (None for a root).
    size : int
        Processes per slice (at least 1).

    Returns
    -------
    slices : list of Slice
    crossing : list of (int, int)
        The ``(parent, child)`` edges whose ends are in different slices.

    Examples
    --------
    >>> cut, crossing = slices([None, 0, 1, 0, 3], 3)
    >>> [(s.start, s.end, s.links) for s in cut], crossing
    ([(0, 3, [[0, 1], [1, 2]]), (3, 5, [[0, 1]])], [(0, 3)])
    """
    cut, crossing = [], []
    for start in range(0, len(parents), size):
        end = min(start + size, len(parents))
        links = []
        for child in range(start, end):
            parent = parents[child]
            if parent is not None and start <= parent < end:
                links.append([parent - start, child - start])
            elif parent is not None:
                crossing.append((parent, child))
        cut.append(Slice(start, end, links))
    return cut, crossing
