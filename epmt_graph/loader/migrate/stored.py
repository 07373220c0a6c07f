"""EPMT's stored processes made into :class:`~epmt_graph.loader.migrate.batches.Run`\\ s, a
chunk of rows at a time.

What EPMT keeps of a process: its ``threads_df``, the papiex rows of its threads as read
(CSV v1: every column of each thread row, the process's own fields in the first; CSV v2:
each thread's metrics, the process's fields and its ``start``/``end`` added to the first),
and its fields as columns (taken from the columns, which EPMT's API may have changed; the
generation, which EPMT's bulk insert leaves empty, from the first thread). Its thread
columns are its first thread's keys less the process's fields (:mod:`.layouts`). A job that
EPMT moved out of PostgreSQL's staging table lost its raw ``start``/``end``: they are its
naive times read in ``server_tz``. JSONB (PostgreSQL) keeps no key order: a CSV v1 job's
thread columns then come in papiex's order (:data:`~.layouts.PAPIEX_V1_ORDER`), a v2 job's
in its ``metric_names``.

A chunk is read in columns (:func:`_fast`): every row's JSON parsed by msgspec (SQLite's
into dicts, whose keys keep the file's order; PostgreSQL's into structs of its layout), the
fields and each run's thread values made numpy columns at once, their types checked by the
arrays numpy makes of them. A chunk with anything else (a value that is not an integer, a
null, JSON msgspec refuses) is read again a process at a time (:func:`_slow`), with the
standard library's JSON, which reports the first bad process by its id.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import msgspec
import numpy as np

from epmt_graph.errors import ArchiveError
from epmt_graph.loader.migrate.batches import Gathered, Run, int64, objects
from epmt_graph.loader.migrate.layouts import (
    FROM_DICT,
    Getters,
    Layout,
    Typed,
    decode,
    decode_dicts,
    layout_of,
)
from epmt_graph.loader.migrate.source import CHUNK, COLUMNS, StoredRow
from epmt_graph.loader.migrate.zones import micros
from epmt_graph.schema import parse_tags, tag_string

__all__ = ["Runs", "staged_runs", "stored_runs"]

#: The fields read from a process's columns as integers (and ``gen``, the generation).
_INT_COLUMNS = ("exitcode", "pid", "ppid", "pgid", "sid")
#: The text fields read from a process's columns as they are (empty if null).
_TEXTS = ("exename", "path", "args")
_PARSED = (AttributeError, KeyError, IndexError, TypeError, ValueError)  # msgspec's: ValueError
#: Processes of one host and layout, in order.
Runs = Iterator[tuple[str, Layout, Run]]


class _Decoded(NamedTuple):
    """A chunk's ``threads_df`` decoded: each process's threads, its first thread, its
    layout and what picks threads' values of the layout's columns; and what reads its
    ``generation``, ``start`` and ``end`` from its first thread."""

    threads: list[Any]
    firsts: list[Any]
    layouts: list[Layout]
    pickers: Sequence[Callable[[Iterable[Any]], list[tuple[Any, ...]]]]
    getters: Getters


class _Reader:
    """What a job's chunks share: the layouts and canonical tags met so far."""

    def __init__(self, metric_names: list[str], ordered: bool, server_tz: dt.tzinfo | None) -> None:
        self.metric_names = metric_names
        self.ordered = ordered
        self.server_tz = server_tz
        self.layouts: dict[tuple[str, ...], Layout] = {}
        self.tags: dict[Any, str] = {}
        self.decoders: dict[Layout, Typed] = {}

    def layout(self, first: StoredRow) -> Layout:
        """The layout of a process whose first thread is ``first``."""
        keys = tuple(first)
        found = self.layouts.get(keys)
        if found is None:
            found = self.layouts[keys] = layout_of(first, self.metric_names, self.ordered)
        return found

    def decoded(self, texts: Sequence[Any]) -> _Decoded:
        """A chunk's ``threads_df`` ``texts`` decoded: SQLite's into dicts, whose keys keep
        the order of the file's header; PostgreSQL's into the structs of the first one's
        layout (JSONB gives one layout's keys in one order).

        Raises
        ------
        ValueError
            A text msgspec refuses (or, into structs, one of another layout).
        """
        if self.ordered:
            threads = list(map(decode_dicts, texts))
            firsts = [t[0] for t in threads]
            keys = list(firsts[0])
            if all(map(keys.__eq__, map(list, firsts))):  # the first's keys, in its order
                layouts = [self.layout(firsts[0])] * len(firsts)
            else:
                layouts = list(map(self.layout, firsts))
            pickers = [layout.picked for layout in layouts]
            return _Decoded(threads, firsts, layouts, pickers, FROM_DICT)
        first = decode(texts[0])[0]
        layout = self.layout(first)
        typed = self.decoders.get(layout)
        if typed is None:
            typed = self.decoders[layout] = Typed(layout, list(first))
        threads = list(map(typed.decode, texts))
        firsts = [t[0] for t in threads]
        n = len(texts)
        return _Decoded(threads, firsts, [layout] * n, [typed.picked] * n, typed.getters)

    def tag(self, value: Any) -> str:
        """The canonical ``"k:v;..."`` string of a stored ``tags`` value (text or dict)."""
        key = value if isinstance(value, str | None) else tuple(value.items())
        if key not in self.tags:
            self.tags[key] = tag_string(parse_tags(_dict(_json(value))))
        return self.tags[key]

    def tag_all(self, values: Sequence[Any]) -> list[str]:
        """:meth:`tag` of each of ``values`` (texts, or None)."""
        for value in set(values).difference(self.tags):
            self.tag(value)
        return list(map(self.tags.__getitem__, values))


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
        column = dict(zip(COLUMNS, zip(*rows, strict=True), strict=True))
        found = reader.decoded(column["threads_df"])
        big = np.zeros(len(rows), dtype=bool)
        ints = _int_fields(column, found, reader, big)
        if ints is None:
            return None
        hosts = [str(host or "") for host in column["host_id"]]
        texts = {
            "tags": objects(reader.tag_all(column["tags"])),
            "hostname": objects(hosts),
            **{name: objects([text or "" for text in column[name]]) for name in _TEXTS},
        }
        lines = np.array(column["id"], dtype=np.int64)
        made = []
        for low, high in _cuts(hosts, found.layouts):
            values = _values(found, ints["numtids"], low, high, big[low:high], reader.ordered)
            if values is None:
                return None
            run = Run(
                lines[low:high],
                {name: of[low:high] for name, of in ints.items()},
                {name: of[low:high] for name, of in texts.items()},
                values.reshape(-1, len(found.layouts[low].columns)),
                ints["numtids"][low:high],
                big[low:high],
            )
            made.append((hosts[low], found.layouts[low], run))
    except _PARSED:
        return None
    return made


def _int_fields(
    column: dict[str, Any], found: _Decoded, reader: _Reader, big: Any
) -> dict[str, Any] | None:
    """A chunk's integer fields as int64 columns (:func:`_ints`); None if a ``start`` or
    ``end`` is not an integer of 64 bits."""
    gens = column["gen"]
    if None in gens:  # EPMT's bulk insert leaves them null: the first thread's
        gens = [
            found.getters.generation(f) if g is None else g
            for g, f in zip(gens, found.firsts, strict=True)
        ]
    ints = {name: _ints(column[name], big) for name in _INT_COLUMNS}
    ints["generation"] = _ints(gens, big)
    ints["numtids"] = np.array(list(map(len, found.threads)), dtype=np.int64)
    for name, times in zip(("start", "end"), _times(found, column, reader), strict=True):
        ints[name] = np.array(times)
        if ints[name].dtype != np.int64:
            return None
    return ints


def _ints(values: Sequence[Any], big: Any) -> Any:
    """A column of integers (as ``int`` makes them) as int64, a value outside 64 bits 0 and
    its process marked in ``big``."""
    made = np.array(values)
    if made.dtype == np.int64:  # Python integers all (booleans among them): as int has them
        return made
    return int64(list(map(int, values)), big)


def _times(found: _Decoded, column: dict[str, Any], reader: _Reader) -> tuple[list[Any], ...]:
    """Each process's ``start`` and ``end``: from its first thread, or, if it has no raw
    (integer) start, its naive columns read in ``server_tz`` (moved from the staging table)."""
    starts = list(map(found.getters.start, found.firsts))
    if set(map(type, starts)) == {int}:
        return starts, list(map(found.getters.end, found.firsts))
    ends = []
    for i, (start, first) in enumerate(zip(starts, found.firsts, strict=True)):
        if isinstance(start, int):
            ends.append(found.getters.end(first))
            continue
        starts[i], end = (micros(_naive(column[k][i]), reader.server_tz) for k in ("start", "end"))
        ends.append(end)
    return starts, ends


def _cuts(hosts: list[str], layouts: list[Layout]) -> Iterator[tuple[int, int]]:
    """The runs of processes of one host and layout, as (first, past the last)."""
    if hosts.count(hosts[0]) == len(hosts) and layouts.count(layouts[0]) == len(layouts):
        yield 0, len(hosts)
        return
    keys = list(zip(hosts, layouts, strict=True))
    cuts = [i for i in range(1, len(keys)) if keys[i] != keys[i - 1]]
    yield from itertools.pairwise([0, *cuts, len(keys)])


def _values(found: _Decoded, counts: Any, low: int, high: int, big: Any, infer: bool) -> Any:
    """The thread values of processes ``low`` to ``high`` as int64, a row a thread: typed
    already (a value outside 64 bits 0, its process marked in ``big``), or of types numpy
    infers (``infer``); None if they are not all integers of 64 bits."""
    if int(counts[low:high].sum()) == high - low:  # one thread each
        picked = found.pickers[low](found.firsts[low:high])
    else:
        picked = found.pickers[low](itertools.chain.from_iterable(found.threads[low:high]))
    if not infer:
        try:  # integers all: one pass, no discovery of types and shape
            flat = itertools.chain.from_iterable(picked)
            return np.fromiter(flat, np.int64, len(picked) * len(picked[0]))
        except OverflowError:
            return int64(picked, big, np.repeat(np.arange(high - low), counts[low:high]))
    values = np.array(picked)
    return values if values.dtype == np.int64 and values.ndim == 2 else None


def _slow(rows: Sequence[Sequence[Any]], reader: _Reader) -> Runs:
    """A chunk's processes a process at a time, in runs of one host and layout."""
    gathered = Gathered()
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
            yield from _triples(gathered.flush())  # those before it go on, as one at a time
            raise ArchiveError(
                f"process {row['id']}: unreadable threads_df or fields ({exc!r})"
            ) from exc
        width = len(layout.columns)
        yield from _triples(gathered.add((host, layout), width, int(row["id"]), fields, values))
    yield from _triples(gathered.flush())


def _triples(runs: list[tuple[Any, Run]]) -> Runs:
    """Runs keyed by (host, layout), as (host, layout, run)."""
    for (host, layout), run in runs:
        yield host, layout, run


def _mapping(row: Sequence[Any]) -> StoredRow:
    return dict(zip(COLUMNS, row, strict=True))


def staged_runs(rows: Iterator[StoredRow], metric_names: list[str]) -> Runs:
    """The processes of PostgreSQL's staging table (CSV v2 rows, metrics flattened), in runs
    of one host."""
    layout = Layout(tuple(metric_names), tsv=True)
    width = len(metric_names)
    gathered = Gathered()
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
            yield from _triples(gathered.flush())
            raise ArchiveError(f"process {row['id']}: unreadable staged row ({exc!r})") from exc
        values = [tuple(flat[t * width : (t + 1) * width]) for t in range(numtids)]
        key = (fields["hostname"], layout)
        yield from _triples(gathered.add(key, width, int(row["id"]), fields, values))
        if len(gathered.lines) >= CHUNK:
            yield from _triples(gathered.flush())
    yield from _triples(gathered.flush())


def _dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _json(value: Any) -> Any:
    """A JSON column's value: parsed from its text (by msgspec; by the standard library if
    msgspec refuses it, which says why in its own words), or as the driver parsed it."""
    if not isinstance(value, str | bytes):
        return value
    try:
        return decode(value)
    except msgspec.DecodeError:
        return json.loads(value)


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
