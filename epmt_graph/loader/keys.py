"""The few numbers per process that order a job, find its duplicates and link its tree.

The reader keeps, for each process in file order, its host (a number), ``pid``, ``ppid``,
``start``, ``end``, ``cpu_time``, and where it was read (file number and line): eight
bytes each, in :class:`ProcessKeys`. Everything that needs all of a job's processes at once works on
these arrays with numpy, never on the rows themselves:

* :func:`sort_order`: the ``(start, pid, host)`` order that numbers processes (``idx``);
* :func:`first_duplicate`: two processes with the same host, ``pid`` and ``start``;
* :func:`link_parents`: EPMT's parent rule. Among the processes of the child's host whose
  ``pid`` is its ``ppid``, the earliest-starting one that ends after the child starts;
  none means a root;
* :func:`first_cycle`: a process whose ancestors never reach a root;
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from typing import overload

import numpy as np

from epmt_graph.schema.trees import Ints

__all__ = [
    "Parents",
    "ProcessKeys",
    "first_cycle",
    "first_duplicate",
    "link_parents",
    "sort_order",
]

_COLUMNS = ("host", "pid", "ppid", "start", "end", "cpu", "file", "line")
#: Children looked up at a time when linking parents (bounds the temporary arrays).
_CHUNK = 1 << 16


class ProcessKeys:
    """Columns of 64-bit integers, one entry per process, in the order they were read.

    Examples
    --------
    >>> keys = ProcessKeys()
    >>> keys.add(host=0, pid=7, ppid=1, start=10, end=20, cpu=4, file=0, line=2)
    >>> len(keys), keys.column("pid").tolist()
    (1, [7])
    """

    def __init__(self) -> None:
        self._columns = {name: array("q") for name in _COLUMNS}
        self._appends = [self._columns[name].append for name in _COLUMNS]

    def add(
        self,
        *,
        host: int,
        pid: int,
        ppid: int,
        start: int,
        end: int,
        cpu: int,
        file: int,
        line: int,
    ) -> None:
        """Append one process.

        Raises
        ------
        OverflowError
            If a value does not fit 64 bits.
        """
        values = (host, pid, ppid, start, end, cpu, file, line)
        for append, value in zip(self._appends, values, strict=True):
            append(value)

    def extend(self, **columns: Ints) -> None:
        """Append many processes: one array of int64 per column, all of one length.

        >>> keys = ProcessKeys()
        >>> ones = np.ones(2, dtype=np.int64)
        >>> keys.extend(**{name: ones for name in ("host", "pid", "ppid", "start", "end")},
        ...             cpu=ones, file=ones, line=np.array([2, 3]))
        >>> keys.column("line").tolist()
        [2, 3]
        """
        for name in _COLUMNS:
            self._columns[name].frombytes(np.ascontiguousarray(columns[name], np.int64).tobytes())

    def __len__(self) -> int:
        return len(self._columns["pid"])

    def column(self, name: str) -> Ints:
        """One column as a numpy array (a view: no copy)."""
        return np.frombuffer(self._columns[name], dtype=np.int64)


def sort_order(keys: ProcessKeys, host_rank: Sequence[int]) -> Ints:
    """Positions (in reading order) of the processes sorted by ``(start, pid, host)``.

    ``host_rank[h]`` is host number ``h``'s place among the host names, sorted.

    Examples
    --------
    >>> keys = ProcessKeys()
    >>> for host, pid, start in [(0, 9, 5), (1, 3, 5), (0, 3, 5), (0, 1, 7)]:
    ...     keys.add(host=host, pid=pid, ppid=0, start=start, end=9, cpu=0, file=0, line=1)
    >>> sort_order(keys, [1, 0]).tolist()
    [1, 2, 0, 3]
    """
    ranks = np.asarray(host_rank, dtype=np.int64)[keys.column("host")]
    return np.lexsort((ranks, keys.column("pid"), keys.column("start")))


def first_duplicate(keys: ProcessKeys, file_rank: Sequence[int]) -> tuple[int, int] | None:
    """The first process (by file name, then line) with the host, ``pid`` and ``start`` of
    an earlier one, and that earlier one, as positions in reading order; None if none.

    Examples
    --------
    >>> keys = ProcessKeys()
    >>> for pid, line in [(5, 2), (6, 3), (5, 4), (5, 5)]:
    ...     keys.add(host=0, pid=pid, ppid=1, start=10, end=20, cpu=0, file=0, line=line)
    >>> first_duplicate(keys, [0])
    (0, 2)
    """
    files = np.asarray(file_rank, dtype=np.int64)[keys.column("file")]
    host, pid, start = keys.column("host"), keys.column("pid"), keys.column("start")
    order = np.lexsort((keys.column("line"), files, start, pid, host))
    same = (host[order][1:] == host[order][:-1]) & (pid[order][1:] == pid[order][:-1])
    same &= start[order][1:] == start[order][:-1]
    if not same.any():
        return None
    seconds = np.flatnonzero(same) + 1  # the later one of each equal pair
    second = seconds[np.lexsort((keys.column("line")[order[seconds]], files[order[seconds]]))[0]]
    first = second - 1
    while first > 0 and same[first - 1]:
        first -= 1
    return int(order[first]), int(order[second])


def link_parents(keys: ProcessKeys, order: Ints) -> Ints:
    """EPMT's parent of each process, for processes taken in ``order`` (by start); -1 for
    a root. Positions are in ``order``.

    Examples
    --------
    >>> keys = ProcessKeys()
    >>> for pid, ppid, start, end in [(1, 0, 0, 9), (2, 1, 1, 4), (2, 1, 5, 8), (3, 2, 6, 7)]:
    ...     keys.add(host=0, pid=pid, ppid=ppid, start=start, end=end, cpu=0, file=0, line=1)
    >>> link_parents(keys, np.arange(4)).tolist()
    [-1, 0, 0, 2]
    """
    n = len(order)
    own, wanted = _group_keys(*(keys.column(c)[order] for c in ("host", "pid", "ppid")))
    by_group = np.argsort(own, kind="stable")  # start order within a group
    own = own[by_group]
    new = np.ones(n, dtype=bool)
    np.not_equal(own[1:], own[:-1], out=new[1:])
    firsts = own[new]  # each group's key, sorted
    del own
    group = np.cumsum(new) - 1
    del new
    end = keys.column("end")[order]
    ends = np.unique(end)
    bounds = len(ends) + 1
    # group * bounds + the rank of the latest end so far in the group: nondecreasing
    running = group * bounds
    running += np.searchsorted(ends, end[by_group])
    del end
    np.maximum.accumulate(running, out=running)
    start = keys.column("start")
    parents = np.full(n, -1, dtype=np.int64)
    for lo in range(0, n, _CHUNK):
        want = wanted[lo : lo + _CHUNK]
        g = np.minimum(np.searchsorted(firsts, want), len(firsts) - 1)
        after = np.searchsorted(ends, start[order[lo : lo + _CHUNK]], side="right")
        at = np.searchsorted(running, g * bounds + after)
        inside = np.minimum(at, n - 1)
        found = (firsts[g] == want) & (at < n) & (group[inside] == g)
        parents[lo : lo + _CHUNK][found] = by_group[inside[found]]
    return parents


def _group_keys(host: Ints, pid: Ints, ppid: Ints) -> tuple[Ints, Ints]:
    """``(host, pid)`` and ``(host, ppid)`` as one integer each, equal when the pairs are."""
    if min(pid.min(), ppid.min()) >= 0 and max(pid.max(), ppid.max()) < 2**32:
        base = host << 32  # a job has far fewer than 2**31 hosts
        return base | pid, base | ppid
    codes = np.unique(np.concatenate([pid, ppid]), return_inverse=True)[1].reshape(-1)
    width = 2 * len(pid) + 1
    return host * width + codes[: len(pid)], host * width + codes[len(pid) :]


def first_cycle(parents: Ints) -> int | None:
    """A process on a cycle of parent links, reached from the first process whose
    ancestors never reach a root (by walking up from it); None if the links form a forest.

    Examples
    --------
    >>> first_cycle(np.array([-1, 0, 3, 4, 2], dtype=np.int64))
    2
    >>> first_cycle(np.array([-1, 0, 1], dtype=np.int64)) is None
    True
    """
    n = len(parents)
    top = parents.copy()
    for _ in range(max(n, 1).bit_length()):  # 2**k >= n steps up: a forest ends at -1
        top = np.where(top < 0, -1, top[np.maximum(top, 0)])
    stuck = np.flatnonzero(top >= 0)
    if not len(stuck):
        return None
    seen, node = set(), int(stuck[0])
    while node not in seen:
        seen.add(node)
        node = int(parents[node])
    return node


class Parents(Sequence[int | None]):
    """Each process's parent (an ``idx``) or None for a root, over an array of 8-byte ints
    (-1 for a root) instead of a list of Python ints five times the size.

    Examples
    --------
    >>> parents = Parents(np.array([-1, 0, 0, 2], dtype=np.int64))
    >>> parents[1], parents[-4], list(parents), parents.count(None)
    (0, None, [None, 0, 0, 2], 1)
    >>> parents == [None, 0, 0, 2]
    True
    """

    def __init__(self, links: Ints) -> None:
        self._links = links

    def __len__(self) -> int:
        return len(self._links)

    @overload
    def __getitem__(self, at: int) -> int | None: ...

    @overload
    def __getitem__(self, at: slice) -> list[int | None]: ...

    def __getitem__(self, at: int | slice) -> int | list[int | None] | None:
        if isinstance(at, slice):
            return [None if p < 0 else p for p in self._links[at].tolist()]
        parent = int(self._links[at])
        return None if parent < 0 else parent

    def __iter__(self) -> Iterator[int | None]:
        for start in range(0, len(self), 1 << 16):
            yield from self[start : start + (1 << 16)]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(other) == len(self) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def count(self, value: object) -> int:
        """How many processes have ``value`` as parent (None: how many roots)."""
        if value is None:
            return int((self._links < 0).sum())
        return super().count(value)
