"""A database's processes gathered into the loader's batches of whole processes.

The loader's :class:`~epmt_graph.loader.reader.JobBuilder` takes a papiex file as batches of
processes in columns (:class:`~epmt_graph.loader.threads.Processes`), as the archive reader
makes them from a chunk of lines. The migrator reads the processes out of an EPMT database
a chunk of rows at a time, into :class:`Run`\\ s (processes of one host and thread layout, in
numpy columns: a process's fields and its threads' values, its line being its id in the
database); :func:`batches` joins and cuts runs into batches of :data:`BATCH`. A value
outside 64 bits is 0 and marks its process ``big`` (the builder refuses it, naming the
process), as the archive reader does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from epmt_graph.loader.threads import Processes
from epmt_graph.schema.trees import Ints

__all__ = ["BATCH", "INT_FIELDS", "TEXT_FIELDS", "Gathered", "Run", "batches", "int64", "objects"]

#: Processes a batch holds at most.
BATCH = 4096
#: The integer fields of a process, as :class:`~epmt_graph.loader.threads.Processes` has them.
INT_FIELDS = ("exitcode", "pid", "generation", "ppid", "pgid", "sid", "numtids", "start", "end")
#: Its text fields.
TEXT_FIELDS = ("tags", "hostname", "exename", "path", "args")
_INT64 = (-(2**63), 2**63 - 1)

Bools = npt.NDArray[np.bool_]
Texts = npt.NDArray[np.object_]


class Run:
    """Processes in numpy columns: their lines (ids), their integer and text fields by name,
    every thread's values (a row a thread, process after process), each process's count of
    threads, and whether a value of the process lies outside 64 bits (it is 0 then).

    Made by :meth:`of` from Python values, or from columns made already.

    Examples
    --------
    >>> fields = {name: [1, 1] for name in INT_FIELDS} | {"pid": [1, 2**64]}
    >>> texts = {name: ["", ""] for name in TEXT_FIELDS}
    >>> run = Run.of([7, 9], fields, texts, [(1, 2), (3, 4), (5, 6)], [2, 1], 2)
    >>> batch = run.batch()
    >>> batch.first.tolist(), batch.thread_lines.tolist(), batch.ints["pid"].tolist()
    ([0, 2], [7, 7, 9], [1, 0])
    >>> batch.threads.tolist(), batch.big.tolist(), len(run[1:])
    ([[1, 2], [3, 4], [5, 6]], [False, True], 1)
    """

    def __init__(
        self,
        lines: Ints,
        ints: dict[str, Ints],
        texts: dict[str, Texts],
        threads: Ints,
        counts: Ints,
        big: Bools,
    ) -> None:
        self.lines = lines
        self.ints = ints
        self.texts = texts
        self.threads = threads
        self.counts = counts
        self.big = big

    @classmethod
    def of(
        cls,
        lines: Sequence[int],
        ints: Mapping[str, Sequence[Any]],
        texts: Mapping[str, Sequence[str]],
        threads: Sequence[Sequence[Any]],
        counts: Sequence[int],
        width: int,
    ) -> Run:
        """Processes from Python values: ``ints`` (every one of :data:`INT_FIELDS`) and
        ``texts`` (every one of :data:`TEXT_FIELDS`) a list per field, ``threads`` every
        thread's ``width`` integers, ``counts`` each process's threads."""
        counted = np.array(counts, dtype=np.int64)
        owner = np.repeat(np.arange(len(counted)), counted)
        big = np.zeros(len(counted), dtype=bool)
        return cls(
            np.array(lines, dtype=np.int64),
            {name: int64(ints[name], big) for name in INT_FIELDS},
            {name: objects(texts[name]) for name in TEXT_FIELDS},
            int64(threads, big, owner).reshape(-1, width),
            counted,
            big,
        )

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, part: slice) -> Run:
        """Processes ``part`` (a slice without a step)."""
        low, high, _ = part.indices(len(self))
        ends = np.cumsum(self.counts)
        first = int(ends[low - 1]) if low else 0
        last = int(ends[high - 1]) if high > low else first
        return Run(
            self.lines[low:high],
            {name: column[low:high] for name, column in self.ints.items()},
            {name: column[low:high] for name, column in self.texts.items()},
            self.threads[first:last],
            self.counts[low:high],
            self.big[low:high],
        )

    def batch(self) -> Processes:
        """These processes as one batch."""
        return Processes(
            lines=self.lines,
            ends=self.lines,
            ints=self.ints,
            texts=self.texts,
            threads=self.threads,
            first=np.cumsum(self.counts) - self.counts,
            thread_lines=np.repeat(self.lines, self.counts),
            big=self.big,
        )


class Gathered:
    """Processes read one at a time, gathered into a :class:`Run` while their key (their
    host and layout, say) stays the same.

    Examples
    --------
    >>> fields = dict.fromkeys(INT_FIELDS, 1) | dict.fromkeys(TEXT_FIELDS, "")
    >>> gathered = Gathered()
    >>> gathered.add("a", 1, 7, fields, [(1, 2)]), gathered.add("a", 1, 8, fields, [(3, 4)])
    ([], [])
    >>> [(key, len(run)) for key, run in gathered.add("b", 1, 9, fields, [(5, 6)])]
    [('a', 2)]
    >>> [(key, run.lines.tolist()) for key, run in gathered.flush()]
    [('b', [9])]
    """

    def __init__(self) -> None:
        self.key: Any = None
        self._clear()

    def _clear(self) -> None:
        self.lines: list[int] = []
        self.fields: dict[str, list[Any]] = {name: [] for name in (*INT_FIELDS, *TEXT_FIELDS)}
        self.threads: list[Sequence[int]] = []
        self.counts: list[int] = []
        self.width = 0

    def add(
        self, key: Any, width: int, line: int, fields: dict[str, Any], threads: list[Any]
    ) -> list[tuple[Any, Run]]:
        """Add a process (its ``line``, ``fields`` and ``threads`` of ``width`` values);
        the run gathered so far, with its key, if it was another key's."""
        done = self.flush() if key != self.key else []
        self.key, self.width = key, width
        self.lines.append(line)
        for name, column in self.fields.items():
            column.append(fields[name])
        self.threads.extend(threads)
        self.counts.append(len(threads))
        return done

    def flush(self) -> list[tuple[Any, Run]]:
        """The run gathered with its key (none if empty), and a new one begun."""
        if not self.lines:
            return []
        ints = {name: self.fields[name] for name in INT_FIELDS}
        texts = {name: self.fields[name] for name in TEXT_FIELDS}
        run = Run.of(self.lines, ints, texts, self.threads, self.counts, self.width)
        key = self.key
        self._clear()
        return [(key, run)]


def _joined(runs: list[Run]) -> Run:
    """The processes of ``runs``, one after the other."""
    if len(runs) == 1:
        return runs[0]
    return Run(
        np.concatenate([run.lines for run in runs]),
        {name: np.concatenate([run.ints[name] for run in runs]) for name in INT_FIELDS},
        {name: np.concatenate([run.texts[name] for run in runs]) for name in TEXT_FIELDS},
        np.concatenate([run.threads for run in runs]),
        np.concatenate([run.counts for run in runs]),
        np.concatenate([run.big for run in runs]),
    )


def objects(texts: Sequence[str]) -> Texts:
    """``texts`` as a numpy array of Python strings."""
    column = np.empty(len(texts), dtype=object)
    column[:] = texts
    return column


def int64(values: Sequence[Any], big: Bools, owner: Ints | None = None) -> Ints:
    """``values`` (integers, or rows of them) as int64; a value (row) holding one outside 64
    bits is 0 (zeros) and marks its process (``owner[row]``, or the row itself) in ``big``.

    >>> big = np.zeros(2, dtype=bool)
    >>> int64([(1, 2**63), (3, 4)], big).tolist(), big.tolist()
    ([[0, 0], [3, 4]], [True, False])
    """
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


def batches(runs: Iterable[Run]) -> Iterator[Processes]:
    """The processes of ``runs`` in batches of at most :data:`BATCH`.

    >>> fields = {name: [1] * 3000 for name in INT_FIELDS}
    >>> texts = {name: [""] * 3000 for name in TEXT_FIELDS}
    >>> runs = [Run.of(range(3000), fields, texts, [(n,) for n in range(3000)], [1] * 3000, 1)]
    >>> [len(b) for b in batches(runs * 2)]
    [4096, 1904]
    """
    gathered: list[Run] = []
    size = 0
    for run in runs:
        gathered.append(run)
        size += len(run)
        if size < BATCH:
            continue
        whole = _joined(gathered)
        for low in range(0, size - BATCH + 1, BATCH):
            yield whole[low : low + BATCH].batch()
        rest = whole[size - size % BATCH :]
        gathered, size = ([rest] if len(rest) else []), len(rest)
    if size:
        yield _joined(gathered).batch()
