"""Papiex thread rows, checked a chunk at a time, and grouped into whole processes.

Every check runs on a chunk's columns at once, and :class:`FirstBad` keeps the first row
that fails, so that the error reported is the one a reader going row by row would meet
first: of two bad rows the earlier, and of two faults of one row the one such a reader
checks first (its integers, then its per-process fields, then ``numtids``, then where it
falls among the processes). The processes before the first bad row are still handed on
(:func:`blocks`), so that what they fail later (a process outside the job, say) is
reported first when it comes first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from epmt_graph.errors import ArchiveError
from epmt_graph.loader.records import Records, fail, to_ints
from epmt_graph.schema.trees import Ints

__all__ = [
    "Blocks",
    "FirstBad",
    "Processes",
    "Table",
    "blocks",
    "int_columns",
    "v1_processes",
    "v1_table",
    "v2_processes",
]

Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Processes:
    """Whole processes of a papiex file, in file order, as columns.

    Attributes
    ----------
    lines, ends : numpy array of int64
        The line of each process's first and last thread row.
    ints : dict of str to numpy array of int64
        ``exitcode``, ``pid``, ``generation``, ``ppid``, ``pgid``, ``sid``, ``numtids``,
        ``start``, ``end`` of each process.
    texts : dict of str to numpy array of str
        ``tags``, ``hostname``, ``exename``, ``path``, ``args`` of each process.
    threads : numpy array of int64, shape (threads, columns)
        Every thread's values, named by :attr:`PapiexFile.columns`, process after process.
    first : numpy array of int64
        The row in ``threads`` of each process's first thread (it has ``numtids``).
    thread_lines : numpy array of int64
        The line of each thread.
    big : numpy array of bool
        Whether a value of the process does not fit 64 bits (it is 0 in the arrays).
    """

    lines: Ints
    ends: Ints
    ints: dict[str, Ints]
    texts: dict[str, npt.NDArray[np.object_]]
    threads: Ints
    first: Ints
    thread_lines: Ints
    big: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.lines)


class FirstBad:
    """The first bad row of a run of ``rows`` rows (whose lines are ``lines``) and its error.

    Examples
    --------
    >>> bad = FirstBad(4, np.array([2, 3, 5, 6]), "f.csv")
    >>> bad.check(np.array([False, False, True, True]), lambda i: f"row {i} is odd")
    >>> bad.at(2, "checked later: not reported")
    >>> bad.row, bad.error
    (2, ArchiveError('f.csv, line 5: row 2 is odd'))
    """

    def __init__(self, rows: int, lines: Ints, source: str) -> None:
        self.row = rows
        self.error: ArchiveError | None = None
        self.lines = lines
        self.source = source

    def at(self, row: int, message: str) -> None:
        """Row ``row`` fails with ``message``, if no earlier row failed (or the same row an
        earlier check)."""
        if row < self.row:
            self.row = row
            self.error = fail(self.source, int(self.lines[row]), message)

    def check(self, bad: Bools, message: Callable[[int], str]) -> None:
        """The first row where ``bad`` is true fails with ``message(row)``."""
        rows = np.flatnonzero(bad[: self.row])
        if len(rows):
            self.at(int(rows[0]), message(int(rows[0])))

    def moved(self, by: int, lines: Ints) -> FirstBad:
        """The same, for rows preceded by ``by`` more (whose lines are ``lines``)."""
        moved = FirstBad(self.row + by, lines, self.source)
        moved.error = self.error
        return moved


def int_columns(
    records: Records, names: Sequence[str], where: Bools | None, bad: FirstBad
) -> tuple[dict[str, Ints], Bools]:
    """The integer columns ``names`` of ``records`` (only in the rows ``where`` is true; 0
    elsewhere), and the rows with a value outside 64 bits. A value that is not an integer
    fails its row in ``bad``, naming the first such column of the row."""
    n = len(records)
    rows = np.arange(n) if where is None else np.flatnonzero(where)
    mask = None if where is None else pa.array(where)
    values: dict[str, Ints] = {}
    big = np.zeros(n, dtype=bool)
    for name in names:
        column = records.columns[name]
        if mask is not None:
            column = column.filter(mask)
        got, wrong, too_big = to_ints(column)
        if where is None:
            values[name] = got
        else:
            values[name] = np.zeros(n, dtype=np.int64)
            values[name][rows] = got
        big[rows[too_big]] = True
        if len(wrong):
            text = column[int(wrong[0])].as_py()
            bad.at(int(rows[wrong[0]]), f"non-numeric value {text!r} in column {name}")
    return values, big


@dataclass(frozen=True)
class Table:
    """Consecutive v1 thread rows, converted.

    Attributes
    ----------
    lines : numpy array of int64
    values : numpy array of int64, shape (rows, thread columns)
    has : numpy array of bool
        Whether the row fills the per-process fields (``numtids``).
    ints, texts : dict of str to numpy array
        The per-process integer (0 where not ``has``) and text fields.
    big_values, big_fields : numpy array of bool
        Whether a thread value, or a per-process field, does not fit 64 bits.
    """

    lines: Ints
    values: Ints
    has: Bools
    ints: dict[str, Ints]
    texts: dict[str, npt.NDArray[np.object_]]
    big_values: Bools
    big_fields: Bools

    def __len__(self) -> int:
        return len(self.lines)

    def concat(self, other: Table) -> Table:
        """This table's rows, then ``other``'s."""
        return Table(
            np.concatenate([self.lines, other.lines]),
            np.concatenate([self.values, other.values]),
            np.concatenate([self.has, other.has]),
            {n: np.concatenate([v, other.ints[n]]) for n, v in self.ints.items()},
            {n: np.concatenate([v, other.texts[n]]) for n, v in self.texts.items()},
            np.concatenate([self.big_values, other.big_values]),
            np.concatenate([self.big_fields, other.big_fields]),
        )

    def tail(self, start: int) -> Table:
        """The rows from ``start`` on."""
        return Table(
            self.lines[start:],
            self.values[start:],
            self.has[start:],
            {n: v[start:] for n, v in self.ints.items()},
            {n: v[start:] for n, v in self.texts.items()},
            self.big_values[start:],
            self.big_fields[start:],
        )


def v1_table(
    records: Records,
    columns: Sequence[str],
    process_ints: Sequence[str],
    process_texts: Sequence[str],
    source: str,
) -> tuple[Table, FirstBad]:
    """Convert v1 records: the thread ``columns``, then the per-process fields where
    ``numtids`` is filled, then ``numtids >= 1``; with the first row that fails."""
    bad = FirstBad(len(records), records.lines, source)
    values, big_values = int_columns(records, columns, None, bad)
    key = records.columns["numtids"]
    filled = key.is_valid() if pa.types.is_integer(key.type) else pc.not_equal(key, "")
    has = filled.to_numpy(zero_copy_only=False).astype(bool)
    ints, big_fields = int_columns(records, process_ints, has, bad)
    numtids = ints["numtids"]
    bad.check(has & (numtids < 1), lambda i: f"numtids is {numtids[i]}, must be at least 1")
    table = Table(
        records.lines,
        np.column_stack([values[c] for c in columns]) if len(records) else _empty(columns),
        has,
        ints,
        {n: records.columns[n].to_numpy(zero_copy_only=False) for n in process_texts},
        big_values,
        big_fields,
    )
    return table, bad


def _empty(columns: Sequence[str]) -> Ints:
    return np.zeros((0, len(columns)), dtype=np.int64)


@dataclass(frozen=True)
class Blocks:
    """The whole processes found in a :class:`Table`: the row of each one's first thread
    and its count of threads."""

    first: Ints
    count: Ints


def blocks(table: Table, bad: FirstBad) -> tuple[Blocks, Table | None]:
    """Group ``table``'s rows into processes: runs of ``numtids`` rows, the first filling
    the per-process fields, the others leaving them empty or repeating its ``pid``.

    Returns the processes that end before ``bad``'s row (marking in ``bad`` the first row
    that breaks the grouping) and, when there is no bad row, the rows of a last process
    whose rows go on after the table.
    """
    n = bad.row
    starts, broken = _chain(table.has[:n], table.ints["numtids"][:n])
    if broken is not None:
        bad.at(broken, "thread row without a process")
    count = table.ints["numtids"][starts]
    if len(starts):
        inside = np.minimum(count, n - starts)
        owner = np.repeat(starts, inside)
        seen = len(owner)
        pid = table.ints["pid"]
        foreign = table.has[:seen] & (pid[:seen] != pid[owner])

        def message(row: int) -> str:
            first = int(owner[row])
            return (
                f"pid {pid[row]} inside the {table.ints['numtids'][first]} thread rows of pid "
                f"{pid[first]} (line {table.lines[first]})"
            )

        bad.check(foreign, message)
    whole = starts + count <= bad.row
    carry = None
    if bad.error is None and len(starts) and not whole[-1]:
        carry = table.tail(int(starts[-1]))
    return Blocks(starts[whole], count[whole]), carry


def _chain(has: Bools, numtids: Ints) -> tuple[Ints, int | None]:
    """Where each process starts (following ``numtids`` from row 0), and the row where a
    process should start but the row fills no per-process fields (None if none)."""
    n = len(has)
    found = np.flatnonzero(has)
    if len(found) and found[0] == 0 and np.array_equal(found[1:], found[:-1] + numtids[found[:-1]]):
        end = int(found[-1] + numtids[found[-1]])
        return found, (end if end < n else None)
    starts: list[int] = []
    filled, counts = has.tolist(), numtids.tolist()
    row = 0
    while row < n:
        if not filled[row]:
            return np.array(starts, dtype=np.int64), row
        starts.append(row)
        row += counts[row]
    return np.array(starts, dtype=np.int64), None


def v1_processes(table: Table, first: Ints, count: Ints, at: tuple[int, int]) -> Processes:
    """The processes of ``table`` that start at rows ``first`` and have ``count`` rows; the
    thread columns ``at`` are their start and end."""
    end = int(first[-1] + count[-1])
    ints = {n: v[first] for n, v in table.ints.items()}
    ints["start"], ints["end"] = table.values[first, at[0]], table.values[first, at[1]]
    big = np.logical_or.reduceat(table.big_values[:end], first) | table.big_fields[first]
    return Processes(
        lines=table.lines[first],
        ends=table.lines[first + count - 1],
        ints=ints,
        texts={n: v[first] for n, v in table.texts.items()},
        threads=table.values[:end],
        first=first,
        thread_lines=table.lines[:end],
        big=big,
    )


def v2_processes(
    chunk: Records,
    packed: str,
    nmetrics: int,
    ints_of: Sequence[str],
    texts_of: Sequence[str],
    source: str,
) -> tuple[Processes, ArchiveError | None]:
    """The processes of v2 records (one a record) before the first bad one, and its error:
    per-process integers, ``numtids``, times, then the packed thread array."""
    bad = FirstBad(len(chunk), chunk.lines, source)
    ints, big = int_columns(chunk, ints_of, None, bad)
    numtids = ints["numtids"]
    bad.check(numtids < 1, lambda i: f"numtids is {numtids[i]}, must be at least 1")
    times, big_times = int_columns(chunk, ("start", "end"), None, bad)
    ints.update(times)
    arrays = pc.split_pattern(pc.utf8_trim(chunk.columns[packed], "{}"), ",")
    texts = arrays.flatten()
    offsets = arrays.offsets.to_numpy() - arrays.offsets[0].as_py()
    flat, wrong, too_big = to_ints(texts)
    if len(wrong):
        row = int(np.searchsorted(offsets, wrong[0], side="right") - 1)
        text = texts[int(wrong[0])].as_py()
        bad.at(row, f"non-numeric value {text!r} in column the metrics array")
    big |= big_times
    big[np.searchsorted(offsets, too_big, side="right") - 1] = True
    lengths = np.diff(offsets)
    bad.check(
        lengths != numtids * nmetrics,
        lambda i: (
            f"{lengths[i]} metric values, expected numtids ({numtids[i]}) x {nmetrics} metrics"
        ),
    )
    n = bad.row
    counts = numtids[:n]
    lines = chunk.lines[:n]
    batch = Processes(
        lines=lines,
        ends=lines,
        ints={name: values[:n] for name, values in ints.items()},
        texts={f: chunk.columns[f].to_numpy(zero_copy_only=False)[:n] for f in texts_of},
        threads=flat[: int(offsets[n])].reshape(-1, nmetrics),
        first=np.cumsum(counts) - counts,
        thread_lines=np.repeat(lines, counts),
        big=big[:n],
    )
    return batch, bad.error
