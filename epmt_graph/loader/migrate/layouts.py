"""What a stored process's threads look like, and the decoders of its ``threads_df``.

A process's thread columns are its first thread's keys less the process's own fields
(:func:`layout_of`): in the order of its file's header (CSV v1), or of the job's
``metric_names`` (CSV v2). SQLite keeps the keys of EPMT's JSON in the order written, so its
``threads_df`` is decoded into dicts (:data:`decode_dicts`), whose keys keep it; PostgreSQL's
JSONB keeps one order of its own, so there a process is decoded into structs of its layout
(:class:`Typed`), which msgspec fills faster than dicts and checks to be integers.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import msgspec
from msgspec.structs import astuple

from epmt_graph.loader.papiex import PER_PROCESS_FIELDS, V1_THREAD_COLUMNS
from epmt_graph.schema import PROCESS_METRICS

__all__ = [
    "FROM_DICT",
    "PAPIEX_V1_ORDER",
    "Getters",
    "Layout",
    "Typed",
    "decode",
    "decode_dicts",
    "layout_of",
]

#: papiex's CSV v1 thread columns in its header's order (JSONB forgets the order of keys).
PAPIEX_V1_ORDER: tuple[str, ...] = (
    *("tid", "start", "end", "usertime", "systemtime", "rssmax", "minflt", "majflt"),
    *("inblock", "outblock", "vol_ctxsw", "invol_ctxsw", "num_threads", "starttime"),
    *("processor", "delayacct_blkio_time", "guest_time", "rchar", "wchar", "syscr", "syscw"),
    *("read_bytes", "write_bytes", "cancelled_write_bytes", "time_oncpu", "time_waiting"),
    *("timeslices", "rdtsc_duration", "PERF_COUNT_SW_CPU_CLOCK"),
)
_V1_RANK = {name: rank for rank, name in enumerate(PAPIEX_V1_ORDER)}
_OWN = frozenset(PER_PROCESS_FIELDS | {"start", "end", "finish"})

#: A JSON text decoded (msgspec, any JSON).
decode: Callable[[Any], Any] = msgspec.json.Decoder().decode
#: A ``threads_df`` decoded as a list of dicts, whose values may be anything JSON has but a
#: boolean (papiex never writes one, and numpy would take it for an integer): a
#: ``msgspec.ValidationError``, a ValueError, refuses one.
decode_dicts: Callable[[Any], list[dict[str, Any]]] = msgspec.json.Decoder(
    list[dict[str, int | float | str | list[Any] | dict[str, Any] | None]]
).decode


class Layout:
    """The thread columns of a process, whether its file was CSV v2, and ``pick``, which
    takes a thread's values of the columns from its dict, as a tuple (:meth:`picked`: of
    each of many threads).

    Examples
    --------
    >>> layout = Layout(("tid", "rchar"), tsv=False)
    >>> layout.pick({"pid": 7, "tid": 7, "rchar": 10})
    (7, 10)
    >>> layout.picked([{"tid": 7, "rchar": 10}, {"tid": 8, "rchar": 0}])
    [(7, 10), (8, 0)]
    >>> layout == Layout(("tid", "rchar"), tsv=True)
    False
    """

    def __init__(self, columns: tuple[str, ...], *, tsv: bool) -> None:
        self.columns = columns
        self.tsv = tsv
        self.pick: Callable[[Mapping[str, Any]], tuple[Any, ...]] = operator.itemgetter(*columns)

    def picked(self, threads: Iterable[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        """:attr:`pick` of each of ``threads`` (dicts)."""
        return list(map(self.pick, threads))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Layout) and (self.columns, self.tsv) == (other.columns, other.tsv)

    def __hash__(self) -> int:
        return hash((self.columns, self.tsv))


class Getters(NamedTuple):
    """What reads a process's ``generation``, ``start`` and ``end`` from its first thread
    (None for one it lacks)."""

    generation: Callable[[Any], Any]
    start: Callable[[Any], Any]
    end: Callable[[Any], Any]


#: :class:`Getters` of a thread decoded as a dict.
FROM_DICT = Getters(
    *(operator.methodcaller("get", name) for name in ("generation", "start", "end"))
)


class Typed:
    """A decoder of a ``threads_df`` into structs (threads) whose fields are a layout's
    columns, integers, and the process's own fields, nothing else: a process it accepts has
    that layout, if its keys come in a fixed order (JSONB's); :meth:`picked` (each thread's
    values of the columns, as a tuple) and ``getters`` read structs. ``keys``: the order a
    thread's keys come in, if known (msgspec decodes them fastest in its fields' order).

    Examples
    --------
    >>> typed = Typed(Layout(("tid", "rchar"), tsv=False), ["rchar", "tid", "generation"])
    >>> [thread] = typed.decode('[{"rchar": 10, "tid": 7, "generation": 0}]')
    >>> typed.picked([thread]), typed.getters.generation(thread), typed.getters.start(thread)
    ([(7, 10)], 0, None)
    >>> typed.decode('[{"rchar": 10, "tid": 7, "wchar": 3}]')
    Traceback (most recent call last):
    ...
    msgspec.ValidationError: Object contains unknown field `wchar` - at `$[0]`
    """

    def __init__(self, layout: Layout, keys: Sequence[str] = ()) -> None:
        columns = set(layout.columns)
        order = [*keys, *sorted((columns | _OWN).difference(keys))]
        names = {f"f{i}": name for i, name in enumerate(order)}
        fields = [(f, int) if name in columns else (f, Any, None) for f, name in names.items()]
        thread = msgspec.defstruct(
            "Thread", fields, rename=names, forbid_unknown_fields=True, kw_only=True, gc=False
        )
        self.decode = msgspec.json.Decoder(list[thread]).decode  # type: ignore[valid-type]
        self._columns = operator.itemgetter(*map(order.index, layout.columns))
        where = {name: field for field, name in names.items()}
        self.getters = Getters(
            *(operator.attrgetter(where[name]) for name in ("generation", "start", "end"))
        )

    def picked(self, threads: Iterable[Any]) -> list[tuple[Any, ...]]:
        """Each of ``threads``' (structs') values of the layout's columns, as a tuple."""
        return list(map(self._columns, map(astuple, threads)))


def layout_of(first: Mapping[str, Any], metric_names: list[str], ordered: bool) -> Layout:
    """The thread columns of a process whose first thread is ``first`` (its keys in their
    order if ``ordered``, else in papiex's or ``metric_names``'s).

    Raises
    ------
    ValueError
        The thread lacks a column its archive's header must have had (the loader's rule:
        every metric, and ``tid``, ``start``, ``end`` in CSV v1).

    Examples
    --------
    >>> layout_of({"rchar": 1, "tid": 2}, [], ordered=True)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: its threads lack the columns start, end, usertime, systemtime, ...
    """
    if "tid" in first:  # CSV v1: tid, start, end and the metrics, in the header's order
        columns = [k for k in first if k not in PER_PROCESS_FIELDS]
        if not ordered:
            columns.sort(key=lambda name: (_V1_RANK.get(name, len(_V1_RANK)), name))
        layout = Layout(tuple(columns), tsv=False)
        required: tuple[str, ...] = V1_THREAD_COLUMNS
    else:
        columns = [k for k in first if k not in _OWN]
        if set(columns) == set(metric_names):
            columns = metric_names  # CSV v2: the metrics, in the header's order
        layout, required = Layout(tuple(columns), tsv=True), PROCESS_METRICS
    missing = [name for name in required if name not in first]
    if missing:
        raise ValueError(f"its threads lack the columns {', '.join(missing)}")
    return layout
