"""A database's processes gathered into the loader's batches of whole processes.

The loader's :class:`~epmt_graph.loader.reader.JobBuilder` takes a papiex file as batches of
processes in columns (:class:`~epmt_graph.loader.threads.Processes`), as the archive reader
makes them from a chunk of lines. The migrator reads the processes out of an EPMT database
a chunk of rows at a time, into :class:`Run`\\ s (processes of one host and thread layout, in
columns: a process's fields and its threads' values, its line being its id in the
database); :func:`batches` cuts runs into batches of :data:`BATCH`. A value outside 64 bits
is 0 and marks its process ``big`` (the builder refuses it, naming the process), as the
archive reader does.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from epmt_graph.loader.threads import Processes
from epmt_graph.schema.trees import Ints

__all__ = ["BATCH", "INT_FIELDS", "TEXT_FIELDS", "Run", "batches"]

#: Processes a batch holds at most.
BATCH = 4096
#: The integer fields of a process, as :class:`~epmt_graph.loader.threads.Processes` has them.
INT_FIELDS = ("exitcode", "pid", "generation", "ppid", "pgid", "sid", "numtids", "start", "end")
#: Its text fields.
TEXT_FIELDS = ("tags", "hostname", "exename", "path", "args")
_INT64 = (-(2**63), 2**63 - 1)


class Run:
    """Processes in columns: their lines (ids), their fields by name (lists), every thread's
    values (process after process) and each process's count of threads.

    Examples
    --------
    >>> run = Run()
    >>> fields = dict.fromkeys(INT_FIELDS, 1) | dict.fromkeys(TEXT_FIELDS, "")
    >>> run.add(7, fields | {"numtids": 2}, [(1, 2), (3, 4)])
    >>> run.add(9, fields | {"pid": 2**64}, [(5, 6)])
    >>> batch = run.take(2, 2)
    >>> batch.first.tolist(), batch.thread_lines.tolist(), batch.ints["pid"].tolist()
    ([0, 2], [7, 7, 9], [1, 0])
    >>> batch.threads.tolist(), batch.big.tolist(), len(run)
    ([[1, 2], [3, 4], [5, 6]], [False, True], 0)
    """

    def __init__(self) -> None:
        self.lines: list[int] = []
        self.ints: dict[str, list[Any]] = {name: [] for name in INT_FIELDS}
        self.texts: dict[str, list[str]] = {name: [] for name in TEXT_FIELDS}
        self.threads: list[Sequence[Any]] = []
        self.counts: list[int] = []

    def __len__(self) -> int:
        return len(self.lines)

    def add(self, line: int, fields: dict[str, Any], threads: Sequence[Sequence[int]]) -> None:
        """Add a process: its ``line``, its ``fields`` (every one of :data:`INT_FIELDS` and
        :data:`TEXT_FIELDS`) and its ``threads`` (each as many integers as every other's)."""
        self.lines.append(line)
        for name, column in self.ints.items():
            column.append(fields[name])
        for name, texts in self.texts.items():
            texts.append(fields[name])
        self.threads.extend(threads)
        self.counts.append(len(threads))

    def extend(self, other: Run) -> None:
        """Add the processes of ``other`` after these."""
        self.lines += other.lines
        for name, column in self.ints.items():
            column += other.ints[name]
        for name, texts in self.texts.items():
            texts += other.texts[name]
        self.threads += other.threads
        self.counts += other.counts

    def take(self, size: int, width: int) -> Processes:
        """The first ``size`` processes, removed, as one batch of ``width`` thread columns."""
        rows = sum(self.counts[:size])
        lines = np.array(self.lines[:size], dtype=np.int64)
        counts = np.array(self.counts[:size], dtype=np.int64)
        owner = np.repeat(np.arange(len(counts)), counts)
        big = np.zeros(len(lines), dtype=bool)
        ints = {name: _int64(values[:size], big, None) for name, values in self.ints.items()}
        threads = _int64(self.threads[:rows], big, owner).reshape(-1, width)
        batch = Processes(
            lines=lines,
            ends=lines,
            ints=ints,
            texts={name: _objects(texts[:size]) for name, texts in self.texts.items()},
            threads=threads,
            first=np.cumsum(counts) - counts,
            thread_lines=lines[owner],
            big=big,
        )
        del self.lines[:size], self.threads[:rows], self.counts[:size]
        for column in itertools.chain(self.ints.values(), self.texts.values()):
            del column[:size]
        return batch


def _objects(texts: list[str]) -> Any:
    column = np.empty(len(texts), dtype=object)
    column[:] = texts
    return column


def _int64(values: Sequence[Any], big: Any, owner: Ints | None) -> Ints:
    """``values`` (numbers, or rows of them) as int64; a value outside 64 bits is 0 and
    marks its process (``owner[row]``, or the row itself) in ``big``."""
    try:
        return np.array(values, dtype=np.int64)
    except OverflowError:
        exact = np.array(values, dtype=object)
        outside = np.array(
            [any(not _INT64[0] <= v <= _INT64[1] for v in row) for row in _rows(exact)],
            dtype=bool,
        )
        exact[outside] = 0
        big[outside if owner is None else np.unique(owner[outside])] = True
        return exact.astype(np.int64)


def _rows(exact: Any) -> list[list[Any]]:
    return exact.reshape(len(exact), -1).tolist()  # type: ignore[no-any-return]


def batches(runs: Iterable[Run], width: int) -> Iterator[Processes]:
    """The processes of ``runs`` (``width`` thread columns) in batches of at most
    :data:`BATCH`.

    >>> fields = dict.fromkeys(INT_FIELDS, 1) | dict.fromkeys(TEXT_FIELDS, "")
    >>> runs = [Run() for _ in range(2)]
    >>> for n in range(5000):
    ...     runs[n // 3000].add(n, fields, [(n,)])
    >>> [len(b) for b in batches(runs, 1)]
    [4096, 904]
    """
    gathered = Run()
    for run in runs:
        gathered.extend(run)
        while len(gathered) >= BATCH:
            yield gathered.take(BATCH, width)
    if len(gathered):
        yield gathered.take(len(gathered), width)
