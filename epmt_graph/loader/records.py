"""Papiex records into columns, a chunk of lines at a time, by pyarrow's CSV reader.

A papiex file is EPMT's dialect of CSV (v1: ``,``-separated, ``\\`` escapes, ``"``
quotes) or of TSV (v2: tab-separated, ``"`` quotes), as Python's :mod:`csv` reads it. Each
chunk of whole lines (:func:`~epmt_graph.loader.archive.text_chunks`) becomes one
:class:`Records`, its columns as arrow arrays and the line of each record, read one of three
ways, the first that applies:

1. *typed*: pyarrow splits the chunk and converts its integer columns itself. A scan of
   the bytes first makes sure that pyarrow reads them as :mod:`csv` and ``int()`` would:
   no field starts with a quote, no carriage return, NUL or escaped line end, no line
   longer than :func:`csv.field_size_limit`, no ``0x`` (pyarrow reads hexadecimal). Every
   record is then one non-blank line, and pyarrow must find each whole and each integer
   present.
2. *text*: if a value is not a plain integer (or a row is a repeated header), pyarrow
   reads every column as text, and :func:`to_ints` finds the values that are not integers
   with one vectorised check, converting the odd ones (``" 7"``, ``"1_000"``) as
   ``int()`` does.
3. *csv*: from the first chunk the scan refuses (quoted fields, other line ends) or whose
   rows pyarrow cannot split to the end of the file, :mod:`csv` splits the records, in
   batches, into the same text columns; a record it cannot read, or with a wrong count of
   fields, ends the file there with its error (:attr:`Records.error`).

Memory holds one chunk's columns at a time.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from epmt_graph.errors import ArchiveError
from epmt_graph.schema.trees import Ints

__all__ = ["Dialect", "Layout", "Records", "fail", "read_header", "read_records", "to_ints"]

#: Records gathered before a batch of the *csv* way is handed on.
_BATCH = 8192
#: A plain decimal that fits 64 bits (19 digits may not).
_PLAIN_INT = r"^-?[0-9]{1,18}$"
_INT64 = (-(2**63), 2**63 - 1)


def fail(source: str, line: int, message: str) -> ArchiveError:
    """The error for ``message`` at ``line`` of the file ``source``.

    >>> fail("job.tgz/h1-papiex-7-0.csv", 3, "thread row without a process")
    ArchiveError('job.tgz/h1-papiex-7-0.csv, line 3: thread row without a process')
    """
    return ArchiveError(f"{source}, line {line}: {message}")


@dataclass(frozen=True)
class Dialect:
    """How a papiex format separates fields: its delimiter and escape character."""

    delimiter: str
    escapechar: str | None

    def reader(self, lines: Iterable[str]) -> csv.Reader:  # type: ignore[name-defined]
        """A :mod:`csv` reader of ``lines`` in this dialect."""
        return csv.reader(lines, delimiter=self.delimiter, escapechar=self.escapechar)


@dataclass(frozen=True)
class Layout:
    """The columns of a papiex file, by kind.

    Attributes
    ----------
    names : tuple of str
        Every column, in file order.
    ints : tuple of str
        Integer columns that every record fills.
    optional : tuple of str
        Integer columns filled only in records that fill ``key`` (may be empty otherwise).
    key : str or None
        The column that says whether a record fills ``optional``.
    """

    names: tuple[str, ...]
    ints: tuple[str, ...]
    optional: tuple[str, ...] = ()
    key: str | None = None


@dataclass(frozen=True)
class Records:
    """Consecutive records of a papiex file, as columns.

    Attributes
    ----------
    lines : numpy array of int64
        The line each record ends on (1-based).
    columns : dict of str to pyarrow array
        Every column of the layout, by name: integers as ``int64`` (the *typed* way: an
        empty ``optional`` value is null) or all as text.
    error : ArchiveError, optional
        Why the file ends after these records (unreadable record, wrong count of fields).
    """

    lines: Ints
    columns: dict[str, pa.Array]
    error: ArchiveError | None = None

    def __len__(self) -> int:
        return len(self.lines)


def to_ints(column: pa.Array) -> tuple[Ints, Ints, Ints]:
    """A column's values as int64, with the positions of those that are not.

    Returns
    -------
    values : numpy array of int64
        0 where the value is not an integer or does not fit 64 bits.
    bad : numpy array of int64
        Positions of values that ``int()`` refuses.
    big : numpy array of int64
        Positions of integers outside 64 bits.

    Examples
    --------
    >>> values, bad, big = to_ints(pa.array(["7", " 8", "x", "1_0", str(2**64), "0x1"]))
    >>> values.tolist(), bad.tolist(), big.tolist()
    ([7, 8, 0, 10, 0, 0], [2, 5], [4])
    """
    none = np.zeros(0, dtype=np.int64)
    if pa.types.is_integer(column.type):
        return column.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64), none, none
    plain = pc.match_substring_regex(column, _PLAIN_INT).to_numpy(zero_copy_only=False)
    if plain.all():
        return pc.cast(column, pa.int64()).to_numpy(zero_copy_only=False), none, none
    values = pc.cast(pc.if_else(plain, column, "0"), pa.int64()).to_numpy(zero_copy_only=False)
    values = values.copy()
    odd = np.flatnonzero(~plain)
    bad, big = [], []
    for at, text in zip(odd.tolist(), column.take(odd).to_pylist(), strict=True):
        try:
            value = int(text)
        except ValueError:
            bad.append(at)
            continue
        if _INT64[0] <= value <= _INT64[1]:
            values[at] = value
        else:
            big.append(at)
    return values, np.array(bad, dtype=np.int64), np.array(big, dtype=np.int64)


def read_header(
    chunks: Iterator[bytes], dialect: Dialect, source: str
) -> tuple[list[str], int, bytes, int]:
    """The first record of a file: ``(fields, line, rest, lines)``.

    ``rest`` is what follows it in its chunk, ``lines`` how many lines precede ``rest``.
    ``fields`` is empty for a file without a record.

    >>> read_header(iter([b"\\n a,b\\\\,c\\n1,2\\n"]), Dialect(",", "\\\\"), "f.csv")
    ([' a', 'b,c'], 2, b'1,2\\n', 2)
    """
    lines = 0
    for chunk in chunks:
        text = io.StringIO(chunk.decode("utf-8"), newline="")
        reader = dialect.reader(text)
        try:
            for row in reader:
                if row:
                    return (
                        row,
                        lines + reader.line_num,
                        text.read().encode(),
                        lines + reader.line_num,
                    )
        except csv.Error as exc:
            raise fail(source, lines + reader.line_num, f"unreadable record: {exc}") from exc
        lines += reader.line_num
    return [], 1, b"", lines


def read_records(
    chunks: Iterable[bytes], layout: Layout, dialect: Dialect, source: str, lines: int = 0
) -> Iterator[Records]:
    """The records of a papiex file's chunks, as columns (see the module's docstring).

    Parameters
    ----------
    chunks : iterable of bytes
        The file's UTF-8 bytes, each chunk ending at a line end.
    layout : Layout
    dialect : Dialect
    source : str
        The file's label in error messages.
    lines : int
        How many lines of the file precede the first chunk.

    Yields
    ------
    Records
        One per chunk; a chunk without a record yields nothing. Repeated header rows
        (records equal to ``layout.names``) are left out.

    Examples
    --------
    The first chunk repeats its header, so it comes as text; the second typed:

    >>> layout = Layout(("name", "n"), ints=("n",))
    >>> [(r.lines.tolist(), r.columns["n"].to_pylist()) for r in read_records(
    ...     [b"sh,1\\n\\nname,n\\n", b"ls, 2\\n"], layout, Dialect(",", "\\\\"), "f.csv")]
    [([1], ['1']), ([4], [2])]
    """
    chunks = iter(chunks)
    for chunk in chunks:
        breaks = _line_breaks(chunk)
        if not _plain(chunk, breaks, dialect):
            yield from _csv_records(chunk, chunks, layout, dialect, source, lines)
            return
        found = _arrow_records(chunk, breaks, layout, dialect, lines)
        if found is None:
            yield from _csv_records(chunk, chunks, layout, dialect, source, lines)
            return
        if len(found):
            yield found
        lines += len(breaks) - (0 if chunk.endswith(b"\n") else 1)


def _line_breaks(chunk: bytes) -> Ints:
    """Where each line of a chunk ends (its ``\\n``, or the chunk's end for the last)."""
    ends = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == ord("\n"))
    if not chunk.endswith(b"\n"):
        ends = np.append(ends, len(chunk))
    return ends


def _plain(chunk: bytes, breaks: Ints, dialect: Dialect) -> bool:
    """Whether pyarrow splits ``chunk`` into the records :mod:`csv` would: one per non-blank
    line, with no quoted field (see the module's docstring)."""
    if b"\r" in chunk or b"\x00" in chunk:
        return False
    data = np.frombuffer(chunk, dtype=np.uint8)
    quotes = np.flatnonzero(data == ord('"'))
    if len(quotes) and (quotes[0] == 0 or _after(data, quotes, (dialect.delimiter, "\n"))):
        return False
    if dialect.escapechar is not None:
        ends = breaks[(breaks > 0) & (breaks < len(data))]
        if chunk.endswith(dialect.escapechar.encode()) or _after(
            data, ends + 1, (dialect.escapechar,)
        ):
            return False
    longest = int(np.diff(breaks, prepend=-1).max(initial=0)) - 1
    return longest <= csv.field_size_limit()


def _after(data: npt.NDArray[np.uint8], at: Ints, chars: tuple[str, ...]) -> bool:
    """Whether one of the bytes before positions ``at`` (all > 0) is one of ``chars``."""
    before = data[at[at > 0] - 1]
    return bool(np.isin(before, [ord(c) for c in chars]).any())


def _numbers_plain(chunk: bytes) -> bool:
    """Whether ``chunk`` holds no ``0x`` or ``0X``: pyarrow reads hexadecimal numbers."""
    data = np.frombuffer(chunk, dtype=np.uint8)
    return not _after(data, np.flatnonzero((data | 0x20) == ord("x")), ("0",))


def _arrow_records(
    chunk: bytes, breaks: Ints, layout: Layout, dialect: Dialect, lines: int
) -> Records | None:
    """The records of a plain chunk, read by pyarrow: typed if it can, else as text; None if
    pyarrow finds a row it cannot split into the layout's columns."""
    lengths = np.diff(breaks, prepend=-1) - 1
    at = lines + 1 + np.flatnonzero(lengths > 0)
    if _numbers_plain(chunk):
        typed = _read(chunk, layout, dialect, typed=True)
        if typed is not None and _complete(typed, layout, len(at)):
            return Records(at, {n: typed.column(n).combine_chunks() for n in layout.names})
    table = _read(chunk, layout, dialect, typed=False)
    if table is None or table.num_rows != len(at):
        return None
    columns = {n: table.column(n).combine_chunks() for n in layout.names}
    return _without_headers(Records(at, columns), layout)


def _read(chunk: bytes, layout: Layout, dialect: Dialect, *, typed: bool) -> pa.Table | None:
    ints = {*layout.ints, *layout.optional} if typed else set()
    convert = pacsv.ConvertOptions(
        column_types={n: pa.int64() if n in ints else pa.string() for n in layout.names},
        null_values=[""],
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    parse = pacsv.ParseOptions(
        delimiter=dialect.delimiter,
        quote_char=False,
        escape_char=dialect.escapechar or False,
        ignore_empty_lines=True,
    )
    read = pacsv.ReadOptions(column_names=list(layout.names), use_threads=False)
    try:
        return pacsv.read_csv(io.BytesIO(chunk), read, parse, convert)
    except pa.ArrowInvalid:
        return None


def _complete(table: pa.Table, layout: Layout, records: int) -> bool:
    """Whether a typed read has every record and every integer a record must have."""
    if table.num_rows != records or any(table.column(n).null_count for n in layout.ints):
        return False
    if not layout.optional or layout.key is None:
        return True
    key = table.column(layout.key).is_valid()
    return all(
        pc.all(pc.or_(table.column(n).is_valid(), pc.invert(key))).as_py() for n in layout.optional
    )


def _without_headers(records: Records, layout: Layout) -> Records:
    """``records`` without the rows that repeat the header (left by concatenating files)."""
    first = records.columns[layout.names[0]]
    maybe = pc.equal(first, layout.names[0])
    if not pc.any(maybe).as_py():
        return records
    header = np.ones(len(records), dtype=bool)
    for name in layout.names:
        header &= pc.equal(records.columns[name], name).to_numpy(zero_copy_only=False)
    keep = pa.array(~header)
    return Records(
        records.lines[~header],
        {n: c.filter(keep) for n, c in records.columns.items()},
        records.error,
    )


def _csv_records(
    chunk: bytes,
    more: Iterator[bytes],
    layout: Layout,
    dialect: Dialect,
    source: str,
    lines: int,
) -> Iterator[Records]:
    """The records of ``chunk`` and every chunk after it, split by :mod:`csv`."""

    def text() -> Iterator[str]:
        yield from io.StringIO(chunk.decode("utf-8"), newline="")
        for piece in more:
            yield from io.StringIO(piece.decode("utf-8"), newline="")

    reader = dialect.reader(text())
    rows: list[list[str]] = []
    at: list[int] = []
    width = len(layout.names)
    error = None
    try:
        for row in reader:
            if not row:
                continue
            if len(row) != width:
                line = lines + reader.line_num
                error = fail(source, line, f"{len(row)} fields, expected {width} as in the header")
                break
            rows.append(row)
            at.append(lines + reader.line_num)
            if len(rows) == _BATCH:
                yield _text_records(rows, at, layout, None)
                rows, at = [], []
    except csv.Error as exc:
        error = fail(source, lines + reader.line_num, f"unreadable record: {exc}")
    yield _text_records(rows, at, layout, error)


def _text_records(
    rows: list[list[str]], at: list[int], layout: Layout, error: ArchiveError | None
) -> Records:
    columns = {n: pa.array([r[i] for r in rows], pa.string()) for i, n in enumerate(layout.names)}
    records = Records(np.array(at, dtype=np.int64), columns, error)
    return _without_headers(records, layout) if rows else records
