"""A job's process rows kept in a temporary file instead of memory, read back by number.

The reader builds rows in file order; the writer sends them in ``(start, pid, host)``
order, a batch at a time. A job may have half a million processes, and a row held as a
dict costs about 5 KB, so the reader appends each row, as a tuple, to a
:class:`RowSpill` (past :data:`KEEP` rows, a few hundred bytes each of :mod:`marshal` in
an unnamed temporary file) and hands the writer a :class:`ProcessRows`: a read-only
sequence that rebuilds each row when it is asked for. The loader's memory then stops
growing with the job's size.
"""

from __future__ import annotations

import marshal
import operator
import os
import tempfile
import weakref
from array import array
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, BinaryIO, overload

import numpy as np
import numpy.typing as npt

from epmt_graph.schema import PROCESS_PACKED, Row, node_properties

__all__ = ["KEEP", "ProcessRows", "RowSpill"]

#: Rows kept in memory: a job of more is moved to a temporary file.
KEEP = 20_000
#: Bytes of rows gathered before they are written to the file.
_FLUSH = 1 << 20


class RowSpill:
    """An append-only list of value tuples, moved to a temporary file once it is long.

    The first ``keep`` (default :data:`KEEP`) tuples are kept as they are; when one more
    comes, all of them go to an unnamed temporary file as :mod:`marshal` bytes, and so
    does every later one. A tuple is read back by its number.

    Examples
    --------
    >>> spill = RowSpill(keep=1)
    >>> spill.append((0, ("sh", 7))); spill.append((0, ("make", 8)))
    >>> spill.seal()
    >>> len(spill), spill[1], spill.on_disk
    (2, (0, ('make', 8)), True)
    """

    def __init__(self, keep: int | None = None) -> None:
        self._keep = KEEP if keep is None else keep
        self._kept: list[tuple[Any, ...]] | None = []
        self._file: BinaryIO | None = None
        self._ends = array("q")
        self._buffer = bytearray()
        self._written = 0

    @property
    def on_disk(self) -> bool:
        """Whether the tuples are in the temporary file."""
        return self._kept is None

    def append(self, values: tuple[Any, ...]) -> None:
        """Add one tuple of str, int, list and tuple values."""
        if self._kept is not None:
            self._kept.append(values)
            if len(self._kept) > self._keep:
                self._move_to_disk()
            return
        self._buffer += marshal.dumps(values)
        self._ends.append(self._written + len(self._buffer))
        if len(self._buffer) >= _FLUSH:
            self.seal()

    def _move_to_disk(self) -> None:
        kept, self._kept = self._kept or [], None
        # closed by the finalizer: the file lives as long as the rows read from it
        self._file = tempfile.TemporaryFile(prefix="epmt_graph_rows_", buffering=0)  # noqa: SIM115
        weakref.finalize(self, self._file.close)
        for values in kept:
            self.append(values)

    def seal(self) -> None:
        """Write what is gathered, so that every appended tuple can be read."""
        if self._file is None:
            return
        with memoryview(self._buffer) as view:
            done = 0
            while done < len(view):
                done += os.write(self._file.fileno(), view[done:])
        self._written += len(self._buffer)
        self._buffer.clear()

    def __len__(self) -> int:
        return len(self._ends) if self._kept is None else len(self._kept)

    def __getitem__(self, i: int) -> tuple[Any, ...]:
        if self._kept is not None:
            return self._kept[i]
        assert self._file is not None
        start = self._ends[i - 1] if i else 0
        end = self._ends[i]
        if end > self._written:
            raise RuntimeError("RowSpill read before seal()")
        values: tuple[Any, ...] = marshal.loads(os.pread(self._file.fileno(), end - start, start))
        return values


class ProcessRows(Sequence[Row]):
    """A job's process rows in ``idx`` order, rebuilt from a :class:`RowSpill`.

    Parameters
    ----------
    spill : RowSpill
        ``(layout, values)`` tuples in file order.
    layouts : sequence of tuple of str
        The keys of ``values``, by layout number.
    order : sequence of int or numpy array
        ``order[idx]`` is the spill number of process ``idx``.
    parents : sequence of int or None
        ``parents[idx]``: the ``idx`` of the parent, None for a root.
    jobid : str
    computed : mapping of str to numpy array, optional
        Further values by name, one per process in ``idx`` order (the reader's ``depth``
        and ``inclusive_cpu_time``).

    Each row is a new dict: its ``values`` by their keys, plus ``jobid``, ``idx``, ``uid``
    (``f"{jobid}:{idx}"``), for a child ``parent`` (its parent's ``uid``), and ``computed``.
    """

    def __init__(
        self,
        spill: RowSpill,
        layouts: Sequence[tuple[str, ...]],
        order: Sequence[int] | npt.NDArray[np.int64],
        parents: Sequence[int | None],
        jobid: str,
        computed: Mapping[str, npt.NDArray[np.int64]] | None = None,
    ) -> None:
        self._spill = spill
        self._layouts = layouts
        self._order = _int64s(order)
        self._parents = parents
        self._jobid = jobid
        self._computed = [(name, _int64s(v)) for name, v in (computed or {}).items()]
        self._plans: list[_NodePlan] | None = None

    def __len__(self) -> int:
        return len(self._order)

    @overload
    def __getitem__(self, at: int) -> Row: ...

    @overload
    def __getitem__(self, at: slice) -> list[Row]: ...

    def __getitem__(self, at: int | slice) -> Row | list[Row]:
        if isinstance(at, slice):
            return [self._row(idx) for idx in range(*at.indices(len(self)))]
        idx = operator.index(at)
        if idx < 0:
            idx += len(self)
        if not 0 <= idx < len(self):
            raise IndexError("process index out of range")
        return self._row(idx)

    def values(self, names: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        """Each process's values of ``names`` (None for a name its row lacks, ``parent``
        included), in ``idx`` order: what the rows would give, without making them."""
        extra = ("jobid", "idx", "uid", "parent")
        picks = [
            operator.itemgetter(
                *(
                    layout.index(name)
                    if name in layout
                    else len(layout) + extra.index(name)
                    if name in extra
                    else len(layout) + len(extra)
                    for name in names
                )
            )
            for layout in self._layouts
        ]
        for idx, at in enumerate(self._order):
            layout, values = self._spill[at]
            parent = self._parents[idx]
            ids = (self._jobid, idx, f"{self._jobid}:{idx}")
            yield picks[layout](
                (*values, *ids, None if parent is None else f"{self._jobid}:{parent}", None)
            )

    def nodes(self, start: int, end: int) -> list[Row]:
        """The Process node properties of rows ``start:end``
        (``[schema.node_properties(row) for row in self[start:end]]``), made from the stored
        values without the rows in between: about twice as fast, and what the writer sends.

        Examples
        --------
        >>> import tempfile
        >>> from pathlib import Path
        >>> from epmt_graph.loader import read_job
        >>> from epmt_graph.synthetic import write_archive
        >>> rows = read_job(write_archive(Path(tempfile.mkdtemp()) / "a.tgz", 40, jobid="a"))
        >>> rows.processes.nodes(3, 9) == [node_properties(p) for p in rows.processes[3:9]]
        True
        """
        if self._plans is None:
            self._plans = [_NodePlan(layout) for layout in self._layouts]
        plans, jobid, out = self._plans, self._jobid, []
        for idx in range(start, end):
            layout, values = self._spill[self._order[idx]]
            node = plans[layout].node(values)
            if node is None:  # a packed field is None: the fields stay properties
                out.append(node_properties(self._row(idx)))
                continue
            node["jobid"], node["idx"], node["uid"] = jobid, idx, f"{jobid}:{idx}"
            parent = self._parents[idx]
            if parent is not None:
                node["parent"] = f"{jobid}:{parent}"
            for name, column in self._computed:
                node[name] = column[idx]
            out.append(node)
        return out

    def _row(self, idx: int) -> Row:
        layout, values = self._spill[self._order[idx]]
        row = dict(zip(self._layouts[layout], values))  # noqa: B905 (same length: from the spill)
        row["jobid"], row["idx"], row["uid"] = self._jobid, idx, f"{self._jobid}:{idx}"
        parent = self._parents[idx]
        if parent is not None:
            row["parent"] = f"{self._jobid}:{parent}"
        for name, values in self._computed:
            row[name] = values[idx]
        return row


class _NodePlan:
    """How one layout's values become node properties: the fields kept as they are, and
    each list of ``PROCESS_PACKED`` whose fields the layout has all of."""

    def __init__(self, layout: Sequence[str]) -> None:
        groups = [
            (packed, [layout.index(name) for name in names])
            for packed, names in PROCESS_PACKED.items()
            if all(name in layout for name in names)
        ]
        taken = {i for _, at in groups for i in at}
        self._kept = [name for i, name in enumerate(layout) if i not in taken]
        self._keep = _getter([i for i in range(len(layout)) if i not in taken])
        self._groups = [(packed, _getter(at)) for packed, at in groups]

    def node(self, values: Sequence[Any]) -> Row | None:
        """The node properties of ``values``; None if a packed field is None."""
        node = dict(zip(self._kept, self._keep(values), strict=True))
        for packed, get in self._groups:
            got = list(get(values))
            if None in got:
                return None
            node[packed] = got
        return node


def _getter(at: list[int]) -> Any:
    """A function giving the values at positions ``at``, as a tuple."""
    if len(at) == 1:
        (i,) = at
        return lambda values: (values[i],)
    return operator.itemgetter(*at) if at else lambda values: ()


def _int64s(values: Sequence[int] | npt.NDArray[np.int64]) -> array[int]:
    """``values`` as an array of 8-byte ints: compact, and quick to read one at a time."""
    return array("q", np.asarray(values, dtype=np.int64).tobytes())
