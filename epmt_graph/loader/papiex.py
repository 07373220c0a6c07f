"""Parse papiex output (CSV format v1 and TSV format v2) into typed per-thread rows.

Format v1 (``*-papiex-*.csv``) has one header row and one row per thread. A process
starts with a row whose ``numtids`` is set and spans that many consecutive rows; in
collated files the rows of threads after the first leave the per-process columns empty.
The dialect is EPMT's: ``,``-separated, ``\\`` escapes, ``"`` quotes.

Format v2 (``*-papiex.tsv`` with ``*-papiex-header.tsv``) has one tab-separated row per
process and no header row; the header file names the columns, one of which is a
``{metric,...}`` list naming the values packed, thread after thread, into that column's
``{v,v,...}`` array. Its ``end`` column is sometimes called ``finish``.

Both parsers read lines (of any size of file: nothing but the current row is held) and
return the same shape: the columns, read at once, and an iterator of one
:class:`ThreadRow` per thread, in file order, the first row of each process carrying the
per-process fields; :func:`process_blocks` groups them into processes. Every error names the
file and the 1-based line.
"""

from __future__ import annotations

import csv
import operator
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from epmt_graph.errors import ArchiveError
from epmt_graph.schema import PAPIEX_PROCESS_COLUMNS, PROCESS_METRICS

__all__ = [
    "PER_PROCESS_FIELDS",
    "REQUIRED_PROCESS_FIELDS",
    "PapiexFile",
    "ThreadRow",
    "papiex_file",
    "parse_csv",
    "parse_tsv",
    "process_blocks",
]

#: EPMT's ``settings.per_process_fields``: columns that describe the process, not a thread.
PER_PROCESS_FIELDS: frozenset[str] = frozenset(
    {
        "tags",
        "hostname",
        "exename",
        "path",
        "args",
        "exitcode",
        "pid",
        "generation",
        "ppid",
        "pgid",
        "sid",
        "numtids",
        "mpinumranks",
        "mpirank",
        "exitsignal",
    }
)
#: Per-process columns a papiex file must have (``hostname`` may be empty in a row).
REQUIRED_PROCESS_FIELDS: tuple[str, ...] = tuple(PAPIEX_PROCESS_COLUMNS)
#: EPMT's ``settings.skip_for_thread_sums``: thread columns that are never summed.
_SKIP_FOR_SUMS = frozenset({"tid", "start", "end", "num_threads", "starttime"})
_TEXT_FIELDS = ("tags", "hostname", "exename", "path", "args")
_INT_PROCESS_FIELDS = tuple(f for f in REQUIRED_PROCESS_FIELDS if f not in _TEXT_FIELDS)


@dataclass(slots=True)
class ThreadRow:
    """One thread of one process, as read from a papiex file.

    Attributes
    ----------
    line : int
        1-based line of the row in its file.
    process : dict or None
        For the first thread of a process: the per-process fields (text fields as str,
        ``exitcode``, ``pid``, ``generation``, ``ppid``, ``pgid``, ``sid``, ``numtids``,
        ``start``, ``end`` as int). ``None`` for the other threads.
    values : tuple of int
        The thread's own columns, named by :attr:`PapiexFile.columns`.
    """

    line: int
    process: dict[str, Any] | None
    values: tuple[int, ...]


@dataclass(frozen=True)
class PapiexFile:
    """A parsed papiex file.

    Attributes
    ----------
    source : str
        The file's label in error messages (archive path joined with the file name).
    metric_names : str
        The per-thread metric names as EPMT records them in ``info_dict['metric_names']``.
    columns : tuple of str
        Names of :attr:`ThreadRow.values`: every metric, plus ``tid``, ``start`` and
        ``end`` in v1 (all columns but the per-process ones).
    summed : tuple of str
        The metrics a process sums over its threads (EPMT's ``threads_sums`` keys): every
        column but ``tid``, ``start``, ``end``, ``num_threads`` and ``starttime``. Always
        includes :data:`~epmt_graph.schema.PROCESS_METRICS`.
    rows : iterator of ThreadRow
        Every thread, in file order, parsed as it is iterated (which raises on a
        malformed row).
    """

    source: str
    metric_names: str
    columns: tuple[str, ...]
    summed: tuple[str, ...]
    rows: Iterator[ThreadRow]


def papiex_file(
    source: str, columns: tuple[str, ...], rows: Iterator[ThreadRow], *, tsv: bool
) -> PapiexFile:
    """A :class:`PapiexFile` of thread ``rows`` with these thread ``columns``, its summed
    metrics and metric names made by the rules of its format: v1 (CSV) sums every column but
    ``tid``, ``start``, ``end``, ``num_threads`` and ``starttime``, sorted, and names them;
    v2 (TSV, ``tsv=True``) sums them in the header's order and names every column.

    Examples
    --------
    >>> papiex_file("f", ("tid", "start", "end", "wchar", "rchar"), iter([]), tsv=False).summed
    ('rchar', 'wchar')
    >>> papiex_file("f", ("wchar", "starttime", "rchar"), iter([]), tsv=True).metric_names
    'wchar,starttime,rchar'
    """
    if tsv:
        summed = tuple(m for m in columns if m not in _SKIP_FOR_SUMS)
        return PapiexFile(source, ",".join(columns), columns, summed, rows)
    summed = tuple(sorted(n for n in columns if n not in _SKIP_FOR_SUMS))
    return PapiexFile(source, ",".join(summed), columns, summed, rows)


def _fail(source: str, line: int, message: str) -> ArchiveError:
    return ArchiveError(f"{source}, line {line}: {message}")


def _check_columns(names: list[str], required: tuple[str, ...], source: str, line: int = 1) -> None:
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise _fail(source, line, f"duplicated columns {', '.join(duplicated)}")
    missing = [n for n in required if n not in names]
    if missing:
        raise _fail(source, line, f"missing columns {', '.join(missing)}")


def _records(
    lines: Iterable[str], source: str, delimiter: str = ",", escapechar: str | None = None
) -> Iterator[tuple[int, list[str]]]:
    """``(line, fields)`` of each non-blank record; a CSV syntax error names its line."""
    reader = csv.reader(lines, delimiter=delimiter, escapechar=escapechar)
    try:
        for row in reader:
            if row:
                yield reader.line_num, row
    except csv.Error as exc:
        raise _fail(source, reader.line_num, f"unreadable record: {exc}") from exc


def _int_error(
    row: list[str], columns: list[tuple[str, int]], source: str, line: int
) -> ArchiveError:
    """Return the error naming the first of ``columns`` in ``row`` that is not an integer."""
    for name, i in columns:
        try:
            int(row[i])
        except ValueError:
            return _fail(source, line, f"non-numeric value {row[i]!r} in column {name}")
    return _fail(source, line, "non-numeric value")


class _ProcessFields:
    """Reads the per-process fields of a row (the columns are found once per file)."""

    def __init__(self, index: dict[str, int]) -> None:
        self._text = operator.itemgetter(*(index[n] for n in _TEXT_FIELDS))
        self._int_columns = [(n, index[n]) for n in _INT_PROCESS_FIELDS]
        self._ints = operator.itemgetter(*(i for _, i in self._int_columns))

    def read(self, row: list[str], source: str, line: int) -> dict[str, Any]:
        """The typed per-process fields of ``row``."""
        fields: dict[str, Any] = dict(zip(_TEXT_FIELDS, self._text(row), strict=True))
        try:
            fields.update(zip(_INT_PROCESS_FIELDS, map(int, self._ints(row)), strict=True))
        except ValueError:
            raise _int_error(row, self._int_columns, source, line) from None
        if fields["numtids"] < 1:
            raise _fail(source, line, f"numtids is {fields['numtids']}, must be at least 1")
        return fields


def parse_csv(lines: Iterable[str], *, source: str) -> PapiexFile:
    """Parse a papiex CSV (format v1) file.

    Parameters
    ----------
    lines : iterable of str
        The file's lines with their endings (a file opened with ``newline=""``).
    source : str
        Label used in error messages.

    Returns
    -------
    PapiexFile
        One row per thread. Repeated copies of the header row (left by concatenating
        files) and blank lines are skipped.

    Raises
    ------
    ArchiveError
        On missing or duplicated columns (here), a row with the wrong number of fields, a
        non-numeric metric or id, or ``numtids < 1`` (while iterating the rows); the
        message names file and line.

    Examples
    --------
    >>> lines = ["tags,hostname,exename,path,args,exitcode,pid,generation,ppid,pgid,sid,"
    ...          "numtids,tid,start,end," + ",".join(PROCESS_METRICS) + "\\n",
    ...          ",h1,sh,/bin/sh,-c,0,7,0,1,7,7,1,7,10,20," + ",".join(["1"] * 24) + "\\n"]
    >>> parsed = parse_csv(lines, source="h1-papiex-7-0.csv")
    >>> [(row.line, row.process["pid"], row.process["end"]) for row in parsed.rows]
    [(2, 7, 20)]
    """
    records = _records(lines, source, escapechar="\\")
    header_line, header = next(records, (1, []))
    if not header:
        raise _fail(source, 1, "empty file, expected a header row")
    required = (*REQUIRED_PROCESS_FIELDS, "tid", "start", "end", *PROCESS_METRICS)
    _check_columns(header, required, source, header_line)
    index = {name: i for i, name in enumerate(header)}
    thread_columns = [(n, i) for i, n in enumerate(header) if n not in PER_PROCESS_FIELDS]
    columns = tuple(n for n, _ in thread_columns)
    pick = operator.itemgetter(*(i for _, i in thread_columns))
    start_at, end_at = columns.index("start"), columns.index("end")
    numtids_at, ncols = index["numtids"], len(header)
    process_fields = _ProcessFields(index)

    def rows() -> Iterator[ThreadRow]:
        for line, row in records:
            if len(row) != ncols:
                raise _fail(source, line, f"{len(row)} fields, expected {ncols} as in the header")
            if row == header:
                continue
            try:
                values = tuple(map(int, pick(row)))
            except ValueError:
                raise _int_error(row, thread_columns, source, line) from None
            process = None
            if row[numtids_at]:
                process = process_fields.read(row, source, line)
                process["start"], process["end"] = values[start_at], values[end_at]
            yield ThreadRow(line, process, values)

    return papiex_file(source, columns, rows(), tsv=False)


def _tsv_header(header_text: str, header_source: str) -> tuple[list[str], int, list[str]]:
    """Return the column names, the index of the metrics column and the metric names."""
    names = [h.strip() for h in header_text.strip("\r\n").split("\t")]
    packed = [i for i, n in enumerate(names) if n.startswith("{") and n.endswith("}")]
    if len(packed) != 1:
        raise _fail(header_source, 1, "expected exactly one {metric,...} column")
    at = packed[0]
    metrics = [m.strip() for m in names[at][1:-1].split(",")]
    names = ["end" if n == "finish" else n for n in names]
    _check_columns(names, (*REQUIRED_PROCESS_FIELDS, "start", "end"), header_source)
    _check_columns(metrics, PROCESS_METRICS, header_source)
    return names, at, metrics


def parse_tsv(
    lines: Iterable[str], header_text: str, *, source: str, header_source: str
) -> PapiexFile:
    """Parse a papiex TSV (format v2) file with its header file.

    Parameters
    ----------
    lines : iterable of str
        The ``*-papiex.tsv`` lines: one row per process, no header row.
    header_text : str
        The ``*-papiex-header.tsv`` content: the tab-separated column names.
    source, header_source : str
        Labels of the two files in error messages.

    Returns
    -------
    PapiexFile
        One row per thread (the packed thread array expanded), in file order.

    Raises
    ------
    ArchiveError
        On a malformed header (here), a row with the wrong number of fields, a
        non-numeric value, or a thread array whose length is not ``numtids`` times the
        number of metrics (while iterating the rows); the message names file and line.
    """
    names, packed_at, metrics = _tsv_header(header_text, header_source)
    index = {name: i for i, name in enumerate(names)}
    time_columns = [("start", index["start"]), ("end", index["end"])]
    nmetrics, ncols = len(metrics), len(names)
    process_fields = _ProcessFields(index)

    def rows() -> Iterator[ThreadRow]:
        for line, row in _records(lines, source, delimiter="\t"):
            if len(row) != ncols:
                raise _fail(source, line, f"{len(row)} fields, expected {ncols} as in the header")
            process = process_fields.read(row, source, line)
            try:
                process["start"], process["end"] = (int(row[i]) for _, i in time_columns)
            except ValueError:
                raise _int_error(row, time_columns, source, line) from None
            packed = row[packed_at].strip("{}").split(",")
            try:
                flat = [int(v) for v in packed]
            except ValueError:
                bad = _int_error(
                    packed, [("the metrics array", i) for i in range(len(packed))], source, line
                )
                raise bad from None
            numtids = process["numtids"]
            if len(flat) != numtids * nmetrics:
                raise _fail(
                    source,
                    line,
                    f"{len(flat)} metric values, expected numtids ({numtids}) x {nmetrics} metrics",
                )
            for t in range(numtids):
                values = tuple(flat[t * nmetrics : (t + 1) * nmetrics])
                yield ThreadRow(line, process if t == 0 else None, values)

    return papiex_file(source, tuple(metrics), rows(), tsv=True)


def process_blocks(papiex: PapiexFile) -> Iterator[list[ThreadRow]]:
    """Split a file's thread rows into processes: runs of ``numtids`` rows.

    The first row of a run must carry the per-process fields; the other rows may leave
    them empty (collated files) or repeat them for the same ``pid``.
    """
    block: list[ThreadRow] = []
    numtids = 0
    for row in papiex.rows:
        if not block:
            if row.process is None:
                raise ArchiveError(
                    f"{papiex.source}, line {row.line}: thread row without a process"
                )
            numtids = row.process["numtids"]
        elif row.process is not None and row.process["pid"] != block[0].process["pid"]:  # type: ignore[index]
            first = block[0]
            raise ArchiveError(
                f"{papiex.source}, line {row.line}: pid {row.process['pid']} inside the "
                f"{numtids} thread rows of pid {first.process['pid']} (line {first.line})"  # type: ignore[index]
            )
        block.append(row)
        if len(block) == numtids:
            yield block
            block = []
    if block:
        first = block[0]
        raise ArchiveError(
            f"{papiex.source}, line {first.line}: process {first.process['pid']} declares "  # type: ignore[index]
            f"numtids={numtids} but the file ends after {len(block)} thread rows"
        )
