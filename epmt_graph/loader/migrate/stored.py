"""EPMT's stored processes made into :class:`~epmt_graph.loader.migrate.batches.Run`\\ s, a
chunk of rows at a time.

What EPMT keeps of a process: its ``threads_df``, the papiex rows of its threads as read
(CSV v1: every column of each thread row, the process's own fields in the first; CSV v2:
each thread's metrics, the process's fields and its ``start``/``end`` added to the first),
and its fields as columns (taken from the columns, which EPMT's API may have changed; the
generation, which EPMT's bulk insert leaves empty, from the first thread). Its thread
columns are its first thread's keys less the process's fields (:class:`Layout`). A job that
EPMT moved out of PostgreSQL's staging table lost its raw ``start``/``end``: they are its
naive times read in ``server_tz``. JSONB (PostgreSQL) keeps no key order: a CSV v1 job's
thread columns then come in papiex's order (:data:`PAPIEX_V1_ORDER`), a v2 job's in its
``metric_names``.

A chunk is read in columns (:func:`_fast`): every row's JSON parsed by msgspec, the fields
converted a column at a time, the thread values checked at once. A chunk with anything
else (a value that is not an integer, a null, JSON msgspec refuses, a process whose start
is not papiex's) is read again a process at a time (:func:`_slow`), with the standard
library's JSON, which reports the first bad process by its id.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import msgspec

from epmt_graph.errors import ArchiveError
from epmt_graph.loader.migrate.batches import Run
from epmt_graph.loader.migrate.source import REQUIRED, StoredRow
from epmt_graph.loader.migrate.zones import micros
from epmt_graph.loader.papiex import PER_PROCESS_FIELDS, V1_THREAD_COLUMNS
from epmt_graph.schema import PROCESS_METRICS, parse_tags, tag_string

__all__ = ["PAPIEX_V1_ORDER", "Layout", "Runs", "staged_runs", "stored_runs"]

#: papiex's CSV v1 thread columns in its header's order (JSONB forgets the order of keys).
PAPIEX_V1_ORDER: tuple[str, ...] = (
    *("tid", "start", "end", "usertime", "systemtime", "rssmax", "minflt", "majflt"),
    *("inblock", "outblock", "vol_ctxsw", "invol_ctxsw", "num_threads", "starttime"),
    *("processor", "delayacct_blkio_time", "guest_time", "rchar", "wchar", "syscr", "syscw"),
    *("read_bytes", "write_bytes", "cancelled_write_bytes", "time_oncpu", "time_waiting"),
    *("timeslices", "rdtsc_duration", "PERF_COUNT_SW_CPU_CLOCK"),
)
_V1_RANK = {name: rank for rank, name in enumerate(PAPIEX_V1_ORDER)}
_NOT_THREAD_COLUMNS = frozenset(PER_PROCESS_FIELDS | {"start", "end", "finish"})
#: The fields read from a process's columns as integers (and ``gen``, the generation).
_INT_COLUMNS = ("exitcode", "pid", "ppid", "pgid", "sid")
_PARSED = (AttributeError, KeyError, IndexError, TypeError, ValueError)
_decode = msgspec.json.Decoder().decode


class Layout:
    """The thread columns of a process, whether its file was CSV v2, and ``pick``, which
    takes a thread's values of the columns from its dict, as a tuple."""

    def __init__(self, columns: tuple[str, ...], *, tsv: bool) -> None:
        self.columns = columns
        self.tsv = tsv
        self.pick: Callable[[StoredRow], tuple[Any, ...]] = operator.itemgetter(*columns)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Layout) and (self.columns, self.tsv) == (other.columns, other.tsv)

    def __hash__(self) -> int:
        return hash((self.columns, self.tsv))


class _Getters(NamedTuple):
    """What reads a process's ``generation``, ``start`` and ``end`` from its first thread."""

    generation: Callable[[Any], Any]
    start: Callable[[Any], Any]
    end: Callable[[Any], Any]


_FROM_DICT = _Getters(*map(operator.itemgetter, ("generation", "start", "end")))


class _Typed:
    """A decoder of a ``threads_df`` into structs (threads) whose fields are a layout's
    columns, integers, and the process's own fields, nothing else: a process it accepts
    has that layout, if keys come in a fixed order (JSONB's); ``pick`` and ``getters`` read
    a struct."""

    def __init__(self, layout: Layout) -> None:
        own = sorted(PER_PROCESS_FIELDS | {"start", "end", "finish"} - set(layout.columns))
        names = {f"c{i}": name for i, name in enumerate(layout.columns)}
        names |= {f"x{i}": name for i, name in enumerate(own)}
        fields: list[Any] = [(f"c{i}", int) for i in range(len(layout.columns))]
        fields += [(f"x{i}", Any, None) for i in range(len(own))]
        thread = msgspec.defstruct(
            "Thread", fields, rename=names, forbid_unknown_fields=True, gc=False
        )
        self.decode = msgspec.json.Decoder(list[thread]).decode  # type: ignore[valid-type]
        where = {name: attr for attr, name in names.items()}
        self.pick = operator.attrgetter(*(where[name] for name in layout.columns))
        self.getters = _Getters(
            *(operator.attrgetter(where[name]) for name in ("generation", "start", "end"))
        )


#: Processes of one host and layout, in order.
Runs = Iterator[tuple[str, Layout, Run]]


class _Reader:
    """What a job's chunks share: the layouts and canonical tags met so far."""

    def __init__(self, metric_names: list[str], ordered: bool, server_tz: dt.tzinfo | None):
        self.metric_names = metric_names
        self.ordered = ordered
        self.server_tz = server_tz
        self.layouts: dict[tuple[str, ...], Layout] = {}
        self.tags: dict[Any, str] = {}
        self.decoders: dict[Layout, _Typed] = {}

    def layout(self, first: StoredRow) -> Layout:
        """The layout of a process whose first thread is ``first``."""
        keys = tuple(first)
        found = self.layouts.get(keys)
        if found is None:
            found = self.layouts[keys] = _layout(first, self.metric_names, self.ordered)
        return found

    def typed(self, text: Any) -> tuple[Layout, _Typed]:
        """The layout of the process whose ``threads_df`` is ``text``, and a decoder of the
        processes with the same (:class:`_Typed`)."""
        layout = self.layout(_decode(text)[0])
        found = self.decoders.get(layout)
        if found is None:
            found = self.decoders[layout] = _Typed(layout)
        return layout, found

    def tag(self, value: Any) -> str:
        """The canonical ``"k:v;..."`` string of a stored ``tags`` value (text or dict)."""
        key = value if isinstance(value, str | None) else tuple(value.items())
        if key not in self.tags:
            self.tags[key] = tag_string(parse_tags(_dict(_json(value))))
        return self.tags[key]


def stored_runs(
    chunks: Iterable[Sequence[Sequence[Any]]],
    metric_names: list[str],
    ordered: bool,
    server_tz: dt.tzinfo | None,
) -> Runs:
    """The processes of ``chunks`` of :meth:`~.source.Source.processes` rows, as runs.

    Raises
    ------
    ArchiveError
        A process whose ``threads_df`` or fields cannot be read (named by its id).
    """
    reader = _Reader(metric_names, ordered, server_tz)
    for rows in chunks:
        made = _fast(rows, reader)
        yield from _slow(rows, reader) if made is None else made


def _fast(rows: Sequence[Sequence[Any]], reader: _Reader) -> list[tuple[str, Layout, Run]] | None:
    """A chunk's runs, read in columns; None if anything in it is not as EPMT writes it."""
    try:
        column = dict(zip(REQUIRED["processes"], zip(*rows, strict=True), strict=True))
        texts = column["threads_df"]
        if reader.ordered:
            threads = list(map(_decode, texts))
            firsts = [t[0] for t in threads]
            layouts = list(map(reader.layout, firsts))
            one = layouts.count(layouts[0]) == len(layouts)
            pick, getters = layouts[0].pick if one else None, _FROM_DICT
        else:  # a layout's keys always come in one order (JSONB's): decoded into its structs
            layout, typed = reader.typed(texts[0])
            threads = list(map(typed.decode, texts))
            firsts = [t[0] for t in threads]
            layouts = [layout] * len(rows)
            pick, getters = typed.pick, typed.getters
        run = Run()
        run.lines = list(map(int, column["id"]))
        tags = list(map(reader.tag, column["tags"]))
        for name in _INT_COLUMNS:
            run.ints[name] = list(map(int, column[name]))
        gens = column["gen"]
        if None in gens:
            gens = tuple(
                _get(getters.generation, f) if g is None else g
                for g, f in zip(gens, firsts, strict=True)
            )
        run.ints["generation"] = list(map(int, gens))
        run.counts = list(map(len, threads))
        run.ints["numtids"] = list(run.counts)
        run.ints["start"] = list(map(getters.start, firsts))
        run.ints["end"] = list(map(getters.end, firsts))
        if pick is None:
            run.threads = [
                v for lay, t in zip(layouts, threads, strict=True) for v in map(lay.pick, t)
            ]
        elif sum(run.counts) == len(rows):  # one thread each
            run.threads = list(map(pick, firsts))
        else:
            run.threads = [v for t in threads for v in map(pick, t)]
        numbers = [] if getters is not _FROM_DICT else itertools.chain.from_iterable(run.threads)
        if set(map(type, itertools.chain(numbers, run.ints["start"], run.ints["end"]))) != {int}:
            return None  # (a struct's columns are integers already)
    except _PARSED:
        return None
    hosts = [str(host or "") for host in column["host_id"]]
    run.texts = {
        "tags": tags,
        "hostname": hosts,
        **{name: [text or "" for text in column[name]] for name in ("exename", "path", "args")},
    }
    keys = list(zip(hosts, layouts, strict=True))
    cuts = [i for i in range(1, len(keys)) if keys[i] != keys[i - 1]]
    return [
        (*keys[low], _part(run, low, high))
        for low, high in itertools.pairwise([0, *cuts, len(keys)])
    ]


def _get(getter: Callable[[Any], Any], first: Any) -> Any:
    """A field of a process's first thread (a dict or a struct), None if it has none."""
    try:
        return getter(first)
    except KeyError:
        return None


def _part(run: Run, low: int, high: int) -> Run:
    """Processes ``low`` to ``high`` of ``run``."""
    if (low, high) == (0, len(run)):
        return run
    part = Run()
    part.lines = run.lines[low:high]
    part.ints = {name: column[low:high] for name, column in run.ints.items()}
    part.texts = {name: column[low:high] for name, column in run.texts.items()}
    part.counts = run.counts[low:high]
    first = sum(run.counts[:low])
    part.threads = run.threads[first : first + sum(part.counts)]
    return part


def _slow(rows: Sequence[Sequence[Any]], reader: _Reader) -> Runs:
    """A chunk's processes a process at a time, each a run."""
    for row in map(_mapping, rows):
        try:
            threads = _json(row["threads_df"])
            first = threads[0]
            layout = reader.layout(first)
            host = str(row["host_id"] or "")
            fields = _fields(row, first, host, len(threads), reader.tag(row["tags"]))
            if isinstance(first.get("start"), int):
                fields["start"], fields["end"] = first["start"], first["end"]
            else:  # moved from PostgreSQL's staging table: naive, in EPMT's machine's zone
                fields["start"], fields["end"] = (
                    micros(_naive(row[k]), reader.server_tz) for k in ("start", "end")
                )
            values = [layout.pick(t) for t in threads]
            if {type(v) for thread in values for v in thread} != {int}:
                raise ValueError("a thread value is not an integer")
        except _PARSED as exc:
            raise ArchiveError(
                f"process {row['id']}: unreadable threads_df or fields ({exc!r})"
            ) from exc
        run = Run()
        run.add(int(row["id"]), fields, values)
        yield host, layout, run


def _mapping(row: Sequence[Any]) -> StoredRow:
    return dict(zip(REQUIRED["processes"], row, strict=True))


def staged_runs(rows: Iterator[StoredRow], metric_names: list[str]) -> Runs:
    """Each process of PostgreSQL's staging table (CSV v2 rows, metrics flattened), a run."""
    layout = Layout(tuple(metric_names), tsv=True)
    width = len(metric_names)
    for row in rows:
        try:
            flat = [round(v) for v in row["threads_df"]]
            numtids = int(row["numtids"])
            if len(flat) != numtids * width:
                raise ValueError(f"{len(flat)} metric values for {numtids} threads of {width}")
            fields = _fields(
                {**row, "gen": row["generation"]},
                {},
                str(row["hostname"] or ""),
                numtids,
                tag_string(parse_tags(row["tags"])),
            )
            fields["start"], fields["end"] = round(row["start"]), round(row["finish"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ArchiveError(f"process {row['id']}: unreadable staged row ({exc!r})") from exc
        run = Run()
        run.add(
            int(row["id"]),
            fields,
            [tuple(flat[t * width : (t + 1) * width]) for t in range(numtids)],
        )
        yield fields["hostname"], layout, run


def _layout(first: StoredRow, metric_names: list[str], ordered: bool) -> Layout:
    """The thread columns of a process whose first thread is ``first``.

    Raises
    ------
    ValueError
        The thread lacks a column its archive's header must have had (the loader's rule:
        every metric, and ``tid``, ``start``, ``end`` in CSV v1).
    """
    if "tid" in first:  # CSV v1: tid, start, end and the metrics, in the header's order
        columns = [k for k in first if k not in PER_PROCESS_FIELDS]
        if not ordered:
            columns.sort(key=lambda name: (_V1_RANK.get(name, len(_V1_RANK)), name))
        layout = Layout(tuple(columns), tsv=False)
        required: tuple[str, ...] = V1_THREAD_COLUMNS
    else:
        columns = [k for k in first if k not in _NOT_THREAD_COLUMNS]
        if set(columns) == set(metric_names):
            columns = metric_names  # CSV v2: the metrics, in the header's order
        layout, required = Layout(tuple(columns), tsv=True), PROCESS_METRICS
    missing = [name for name in required if name not in first]
    if missing:
        raise ValueError(f"its threads lack the columns {', '.join(missing)}")
    return layout


def _dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _json(value: Any) -> Any:
    """A JSON column's value: parsed from its text, or as the driver parsed it."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def _naive(value: Any) -> dt.datetime:
    """A time column's naive datetime: from its text (SQLite), or as the driver made it."""
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def _fields(row: StoredRow, first: StoredRow, host: str, numtids: int, tags: str) -> dict[str, Any]:
    """The per-process fields the loader reads from a process's first papiex row."""
    generation = row["gen"] if row["gen"] is not None else first.get("generation")
    fields = {
        "tags": tags,
        "hostname": host,
        "exename": row["exename"] or "",
        "path": row["path"] or "",
        "args": row["args"] or "",
        "numtids": numtids,
    }
    for name, value in (
        ("exitcode", row["exitcode"]),
        ("pid", row["pid"]),
        ("generation", generation),
        ("ppid", row["ppid"]),
        ("pgid", row["pgid"]),
        ("sid", row["sid"]),
    ):
        fields[name] = int(value)  # type: ignore[arg-type]  # None: a TypeError, reported
    return fields
