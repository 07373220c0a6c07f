"""Parse papiex output (CSV format v1 and TSV format v2) into columns of whole processes.

Format v1 (``*-papiex-*.csv``) has one header row and one row per thread. A process
starts with a row whose ``numtids`` is set and spans that many consecutive rows; in
collated files the rows of threads after the first leave the per-process columns empty.
The dialect is EPMT's: ``,``-separated, ``\\`` escapes, ``"`` quotes.

Format v2 (``*-papiex.tsv`` with ``*-papiex-header.tsv``) has one tab-separated row per
process and no header row; the header file names the columns, one of which is a
``{metric,...}`` list naming the values packed, thread after thread, into that column's
``{v,v,...}`` array. Its ``end`` column is sometimes called ``finish``.

Both parsers read a chunk of lines at a time into columns (:mod:`~epmt_graph.loader.records`),
check a chunk's values at once, with numpy and pyarrow, and return the same shape: the
columns, read at once, and an iterator of :class:`Processes`, batches of whole processes in
file order. Every error names the file and the 1-based line, the first in the file: a
batch holds the processes whose last row comes before the first bad row, and the
iterator raises after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from epmt_graph.loader.records import (
    Dialect,
    Layout,
    Records,
    fail,
    read_header,
    read_records,
)
from epmt_graph.loader.threads import (
    Processes,
    Table,
    blocks,
    v1_processes,
    v1_table,
    v2_processes,
)
from epmt_graph.schema import PAPIEX_PROCESS_COLUMNS, PROCESS_METRICS

__all__ = [
    "PER_PROCESS_FIELDS",
    "REQUIRED_PROCESS_FIELDS",
    "V1_THREAD_COLUMNS",
    "PapiexFile",
    "Processes",
    "ThreadRow",
    "papiex_file",
    "parse_csv",
    "parse_tsv",
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
#: Thread columns a CSV v1 file must have (a TSV v2 header must list every metric).
V1_THREAD_COLUMNS: tuple[str, ...] = ("tid", "start", "end", *PROCESS_METRICS)
#: EPMT's ``settings.skip_for_thread_sums``: thread columns that are never summed.
_SKIP_FOR_SUMS = frozenset({"tid", "start", "end", "num_threads", "starttime"})
_TEXT_FIELDS = ("tags", "hostname", "exename", "path", "args")
_INT_PROCESS_FIELDS = tuple(f for f in REQUIRED_PROCESS_FIELDS if f not in _TEXT_FIELDS)
_CSV = Dialect(",", "\\")
_TSV = Dialect("\t", None)


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
        Names of the thread values: every metric, plus ``tid``, ``start`` and ``end`` in
        v1 (all columns but the per-process ones).
    summed : tuple of str
        The metrics a process sums over its threads (EPMT's ``threads_sums`` keys): every
        column but ``tid``, ``start``, ``end``, ``num_threads`` and ``starttime``. Always
        includes :data:`~epmt_graph.schema.PROCESS_METRICS`.
    batches : iterator of Processes
        The file's processes, parsed as they are iterated (which raises on a malformed
        row, after the batch of the processes before it).
    """

    source: str
    metric_names: str
    columns: tuple[str, ...]
    summed: tuple[str, ...]
    batches: Iterator[Processes]

    @property
    def rows(self) -> Iterator[ThreadRow]:
        """Every thread as a :class:`ThreadRow`, in file order (iterates :attr:`batches`)."""
        for batch in self.batches:
            first = set(batch.first.tolist())
            process = -1
            for at, (line, values) in enumerate(
                zip(batch.thread_lines.tolist(), map(tuple, batch.threads.tolist()), strict=True)
            ):
                fields = None
                if at in first:
                    process += 1
                    fields = {n: v[process] for n, v in batch.texts.items()}
                    fields.update((n, int(v[process])) for n, v in batch.ints.items())
                yield ThreadRow(line, fields, values)


def papiex_file(
    source: str, columns: tuple[str, ...], batches: Iterator[Processes], *, tsv: bool
) -> PapiexFile:
    """A :class:`PapiexFile` of the processes ``batches`` with these thread ``columns``, its summed
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
        return PapiexFile(source, ",".join(columns), columns, summed, batches)
    summed = tuple(sorted(n for n in columns if n not in _SKIP_FOR_SUMS))
    return PapiexFile(source, ",".join(summed), columns, summed, batches)


def _check_columns(names: list[str], required: tuple[str, ...], source: str, line: int = 1) -> None:
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise fail(source, line, f"duplicated columns {', '.join(duplicated)}")
    missing = [n for n in required if n not in names]
    if missing:
        raise fail(source, line, f"missing columns {', '.join(missing)}")


def _chunks(pieces: Iterable[bytes] | Iterable[str]) -> Iterator[bytes]:
    """UTF-8 chunks of whole lines from pieces that end at line ends (lines or chunks)."""
    gathered: list[bytes] = []
    size = 0
    for piece in pieces:
        data = piece.encode("utf-8") if isinstance(piece, str) else piece
        gathered.append(data)
        size += len(data)
        if size >= 1 << 20:
            yield b"".join(gathered)
            gathered, size = [], 0
    if gathered:
        yield b"".join(gathered)


def parse_csv(lines: Iterable[bytes] | Iterable[str], *, source: str) -> PapiexFile:
    """Parse a papiex CSV (format v1) file.

    Parameters
    ----------
    lines : iterable of str or bytes
        The file's lines with their endings (a file opened with ``newline=""``), or its
        UTF-8 bytes in chunks that end at line ends
        (:func:`~epmt_graph.loader.archive.text_chunks`).
    source : str
        Label used in error messages.

    Returns
    -------
    PapiexFile
        The processes. Repeated copies of the header row (left by concatenating files)
        and blank lines are skipped.

    Raises
    ------
    ArchiveError
        On missing or duplicated columns (here), a row with the wrong number of fields, a
        non-numeric metric or id, ``numtids < 1``, or thread rows that do not make whole
        processes (while iterating the batches); the message names file and line.

    Examples
    --------
    >>> lines = ["tags,hostname,exename,path,args,exitcode,pid,generation,ppid,pgid,sid,"
    ...          "numtids,tid,start,end," + ",".join(PROCESS_METRICS) + "\\n",
    ...          ",h1,sh,/bin/sh,-c,0,7,0,1,7,7,1,7,10,20," + ",".join(["1"] * 24) + "\\n"]
    >>> parsed = parse_csv(lines, source="h1-papiex-7-0.csv")
    >>> [(row.line, row.process["pid"], row.process["end"]) for row in parsed.rows]
    [(2, 7, 20)]
    """
    chunks = _chunks(lines)
    header, header_line, rest, before = read_header(chunks, _CSV, source)
    if not header:
        raise fail(source, 1, "empty file, expected a header row")
    required = (*REQUIRED_PROCESS_FIELDS, *V1_THREAD_COLUMNS)
    _check_columns(header, required, source, header_line)
    columns = tuple(n for n in header if n not in PER_PROCESS_FIELDS)
    layout = Layout(tuple(header), columns, _INT_PROCESS_FIELDS, "numtids")
    records = read_records(_prepend(rest, chunks), layout, _CSV, source, before)
    batches = _v1_batches(records, columns, source)
    return papiex_file(source, columns, batches, tsv=False)


def _prepend(first: bytes, chunks: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from chunks


def _v1_batches(
    records: Iterator[Records], columns: tuple[str, ...], source: str
) -> Iterator[Processes]:
    """Whole processes of v1 records, a batch per chunk; a process whose rows go on in the
    next chunk waits for it."""
    at = (columns.index("start"), columns.index("end"))
    carry: Table | None = None
    for chunk in records:
        table, bad = v1_table(chunk, columns, _INT_PROCESS_FIELDS, _TEXT_FIELDS, source)
        if carry is not None:
            table = carry.concat(table)
            bad = bad.moved(len(carry), table.lines)
        done, carry = blocks(table, bad)
        if len(done.first):
            yield v1_processes(table, done.first, done.count, at)
        if bad.error is not None:
            raise bad.error
        if chunk.error is not None:
            raise chunk.error
    if carry is not None and len(carry):
        numtids = int(carry.ints["numtids"][0])
        raise fail(
            source,
            int(carry.lines[0]),
            f"process {carry.ints['pid'][0]} declares numtids={numtids} but the file ends "
            f"after {len(carry)} thread rows",
        )


def _tsv_header(header_text: str, header_source: str) -> tuple[list[str], int, list[str]]:
    """Return the column names, the index of the metrics column and the metric names."""
    names = [h.strip() for h in header_text.strip("\r\n").split("\t")]
    packed = [i for i, n in enumerate(names) if n.startswith("{") and n.endswith("}")]
    if len(packed) != 1:
        raise fail(header_source, 1, "expected exactly one {metric,...} column")
    at = packed[0]
    metrics = [m.strip() for m in names[at][1:-1].split(",")]
    names = ["end" if n == "finish" else n for n in names]
    _check_columns(names, (*REQUIRED_PROCESS_FIELDS, "start", "end"), header_source)
    _check_columns(metrics, PROCESS_METRICS, header_source)
    return names, at, metrics


def parse_tsv(
    lines: Iterable[bytes] | Iterable[str], header_text: str, *, source: str, header_source: str
) -> PapiexFile:
    """Parse a papiex TSV (format v2) file with its header file.

    Parameters
    ----------
    lines : iterable of str or bytes
        The ``*-papiex.tsv`` lines (one row per process, no header row), or its bytes in
        chunks that end at line ends.
    header_text : str
        The ``*-papiex-header.tsv`` content: the tab-separated column names.
    source, header_source : str
        Labels of the two files in error messages.

    Returns
    -------
    PapiexFile
        The processes, their packed thread arrays unpacked.

    Raises
    ------
    ArchiveError
        On a malformed header (here), a row with the wrong number of fields, a
        non-numeric value, or a thread array whose length is not ``numtids`` times the
        number of metrics (while iterating the batches); the message names file and line.

    Examples
    --------
    >>> header = "{usertime,systemtime}\\ttags\\thostname\\texename\\tpath\\targs\\texitcode\\t" \\
    ...     "pid\\tgeneration\\tppid\\tpgid\\tsid\\tnumtids\\tstart\\tend"
    >>> row = "{1,2,3,4}\\t\\th1\\tsh\\t/bin/sh\\t-c\\t0\\t7\\t0\\t1\\t7\\t7\\t2\\t10\\t20\\n"
    >>> parsed = parse_tsv([row], header.replace("}", "," + ",".join(PROCESS_METRICS[2:]) + "}"),
    ...                    source="h1-papiex.tsv", header_source="h1-papiex-header.tsv")
    >>> parsed.columns[:2]
    ('usertime', 'systemtime')
    """
    names, packed_at, metrics = _tsv_header(header_text, header_source)
    start_end = ("start", "end")
    layout = Layout(tuple(names), (*_INT_PROCESS_FIELDS, *start_end))
    records = read_records(_chunks(lines), layout, _TSV, source)
    batches = _v2_batches(records, names[packed_at], len(metrics), source)
    return papiex_file(source, tuple(metrics), batches, tsv=True)


def _v2_batches(
    records: Iterator[Records], packed: str, nmetrics: int, source: str
) -> Iterator[Processes]:
    for chunk in records:
        batch, error = v2_processes(
            chunk, packed, nmetrics, _INT_PROCESS_FIELDS, _TEXT_FIELDS, source
        )
        if len(batch):
            yield batch
        if error is not None:
            raise error
        if chunk.error is not None:
            raise chunk.error
