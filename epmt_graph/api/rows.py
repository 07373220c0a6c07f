"""Stored nodes as the API's rows: EPMT's field names, job-local times, tag dicts.

The one place a Job or Process node's properties become what a caller sees; the formats
(:mod:`epmt_graph.api.formats`) and the records (:mod:`epmt_graph.api.models`) start
from these rows. Processes come by the thousand, so they are converted many at once
(:func:`process_rows`): times a column at a time, each tag list parsed once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from epmt_graph.db import Graph
from epmt_graph.schema import PROCESS_METRICS, row_properties

__all__ = [
    "PAGE_SIZE",
    "job_row",
    "local_time",
    "local_times",
    "paused_collector",
    "process_rows",
    "read_process_pages",
    "stamps",
    "tags_dict",
]

#: Processes per record of a ``*-pages`` query (its ``$pageSize``): a record per page costs
#: the driver far less than a record per process (benchmarks/bench_records.py).
PAGE_SIZE = 2000

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_HOUR = 3_600_000_000
_MICROSECOND = dt.timedelta(microseconds=1)
#: The naive datetimes numpy can give back as ``datetime`` (as microseconds since 1970).
_NAIVE_RANGE = (
    (dt.datetime.min - _EPOCH.replace(tzinfo=None)) // _MICROSECOND,
    (dt.datetime.max - _EPOCH.replace(tzinfo=None)) // _MICROSECOND,
)
_JSON_COLUMNS = {
    "env_json": "env_dict",
    "env_changes_json": "env_changes_dict",
    "info_json": "info_dict",
    "annotations_json": "annotations",
    "analyses_json": "analyses",
}
_JOB_SUMS = (*PROCESS_METRICS, "num_procs", "num_threads")


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_time(micros: int | None, zone: str) -> dt.datetime | None:
    """Microseconds since the epoch as a naive datetime in ``zone`` (EPMT shows job-local times).

    Examples
    --------
    >>> local_time(1560599524126892, "US/Eastern")
    datetime.datetime(2019, 6, 15, 7, 52, 4, 126892)
    """
    if micros is None:
        return None
    utc = _EPOCH + dt.timedelta(microseconds=micros)
    return utc.astimezone(_zone(zone)).replace(tzinfo=None)


def _offset(zone: ZoneInfo, micros: int) -> int:
    """``zone``'s UTC offset at an instant, in microseconds."""
    utc = _EPOCH + dt.timedelta(microseconds=micros)
    return utc.astimezone(zone).utcoffset() // _MICROSECOND  # type: ignore[operator]


def _zone_offsets(zone: ZoneInfo, instants: np.ndarray) -> np.ndarray:
    """``zone``'s UTC offset at each instant: looked up once for each hour the instants
    fall in, where the offset is the same at both ends of the hour (a zone changes its
    offset at most once in an hour), and for each instant of any other hour."""
    hours, inverse = np.unique(instants // _HOUR, return_inverse=True)
    first = [_offset(zone, hour * _HOUR) for hour in hours.tolist()]
    last = [_offset(zone, hour * _HOUR + _HOUR - 1) for hour in hours.tolist()]
    offsets = np.array(first, dtype=np.int64)[inverse]
    for i in np.flatnonzero((np.array(first) != np.array(last))[inverse]).tolist():
        offsets[i] = _offset(zone, int(instants[i]))
    return offsets


def local_times(micros: Sequence[int | None], zones: Sequence[str]) -> list[dt.datetime | None]:
    """:func:`local_time` of each ``micros[i]`` in ``zones[i]``, converted as columns.

    Examples
    --------
    >>> local_times([1560599524126892, None], ["US/Eastern", "UTC"])
    [datetime.datetime(2019, 6, 15, 7, 52, 4, 126892), None]
    >>> local_times([1572753600000000, 1572756300000000], ["America/St_Johns"] * 2)  # at 4:30
    [datetime.datetime(2019, 11, 3, 1, 30), datetime.datetime(2019, 11, 3, 1, 15)]
    """
    try:
        instants = np.array(micros, dtype=np.int64)
    except (TypeError, OverflowError):  # a missing time among them, or one out of range
        return [local_time(m, zone) for m, zone in zip(micros, zones, strict=True)]
    names = np.array(zones, dtype=object)
    offsets = np.empty(len(instants), dtype=np.int64)
    for name in dict.fromkeys(zones):
        where = np.flatnonzero(names == name)
        offsets[where] = _zone_offsets(_zone(name), instants[where])
    local = instants + offsets
    if len(local) and (local.min() < _NAIVE_RANGE[0] or local.max() > _NAIVE_RANGE[1]):
        return [local_time(m, zone) for m, zone in zip(micros, zones, strict=True)]
    times: list[dt.datetime | None] = local.astype("datetime64[us]").tolist()
    return times


def tags_dict(pairs: Iterable[str]) -> dict[str, str]:
    """``["k:v", ...]`` as ``{"k": "v", ...}``.

    Examples
    --------
    >>> tags_dict(["op:hsmget", "op_sequence:2"])
    {'op': 'hsmget', 'op_sequence': '2'}
    """
    return dict(pair.split(":", 1) for pair in pairs)


def stamps(row: dict[str, Any], zone: str) -> None:
    """Replace a node's ``version``, ``created_at`` and ``updated_at`` in ``row`` by EPMT's
    ``created_at`` (when loaded: the stored one, else the version's load time) and
    ``updated_at`` (when last changed, else ``created_at``; EPMT's is set by its own
    post-processing and tree building), naive in ``zone`` as the job's other times.

    Examples
    --------
    >>> row = {"version": 1560599524126892}
    >>> stamps(row, "US/Eastern")
    >>> row["created_at"], row["updated_at"] == row["created_at"]
    (datetime.datetime(2019, 6, 15, 7, 52, 4, 126892), True)
    """
    version = row.pop("version", None)
    created = row.pop("created_at", None) or version
    updated = row.pop("updated_at", None) or created
    row["created_at"] = local_time(created, zone)
    row["updated_at"] = local_time(updated, zone)


@contextlib.contextmanager
def paused_collector() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while records are made by the thousand.

    Every new dict or list counts towards the next collection, and each collection walks
    the rows already made: a third to half of the time of building them. They are not
    garbage, so nothing is lost by waiting; the collector runs again afterwards (unless
    it was off already, e.g. paused by another thread, which then turns it back on).

    Examples
    --------
    >>> with paused_collector():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()


def process_rows(nodes: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Process nodes' properties (each with ``tz``, ``user``, ``parent``) as EPMT's fields.

    A row holds, in this order: the node's properties (metrics unpacked by
    :func:`~epmt_graph.schema.row_properties`; ``tz``, ``threads_json``, ``idx``,
    ``version`` and ``uid`` left out), ``created_at`` and ``updated_at`` (as
    :func:`stamps` gives them), ``id`` (the ``uid``), ``job``, and ``info_dict``, ``depth``,
    ``inclusive_cpu_time`` where the node has none; ``start`` and ``end`` are naive
    datetimes in the job's zone (converted a column at a time, :func:`local_times`), and
    ``tags`` a dict (each distinct tag list parsed once; every row has its own dict).

    Examples
    --------
    >>> node = {"uid": "7:0", "jobid": "7", "start": 0, "end": 1, "version": 0,
    ...         "tag_pairs": ["op:cp"], "tz": "UTC", "threads_json": "{}", "idx": 0}
    >>> (row,) = process_rows([node])
    >>> list(row)
    ['jobid', 'start', 'end', 'created_at', 'updated_at', 'id', 'job', 'tags', 'info_dict', \
'depth', 'inclusive_cpu_time']
    >>> row["end"], row["tags"]
    (datetime.datetime(1970, 1, 1, 0, 0, 0, 1), {'op': 'cp'})
    """
    with paused_collector():
        return _rows(nodes)


def _rows(nodes: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    rows = [row_properties(node) for node in nodes]
    zones, created, updated = [], [], []
    for row in rows:
        zones.append(row.pop("tz", None) or "UTC")
        row.pop("threads_json", None)
        row.pop("idx", None)
        version = row.pop("version", None)
        made = row.pop("created_at", None) or version
        created.append(made)
        updated.append(row.pop("updated_at", None) or made)
    columns = zip(
        local_times(created, zones),
        local_times(updated, zones),
        local_times([row["start"] for row in rows], zones),
        local_times([row["end"] for row in rows], zones),
        strict=True,
    )
    parsed: dict[tuple[str, ...], dict[str, str]] = {}
    for row, (made_at, changed_at, start, end) in zip(rows, columns, strict=True):
        row["created_at"] = made_at
        row["updated_at"] = changed_at
        row["id"] = row.pop("uid")
        row["job"] = row["jobid"]
        pairs = tuple(row.pop("tag_pairs", ()))
        tags = parsed.get(pairs)
        if tags is None:
            tags = parsed[pairs] = tags_dict(pairs)
        row["tags"] = dict(tags)
        row["start"] = start
        row["end"] = end
        row.setdefault("info_dict", {})
        row.setdefault("depth", None)
        row.setdefault("inclusive_cpu_time", None)
    return rows


def read_process_pages(
    graph: Graph, name: str, *, ids_only: bool = False, **params: Any
) -> list[dict[str, Any]]:
    """The processes a ``*-pages`` named query returns, as :func:`process_rows`: its records
    each hold a page of process maps (``processes``), pages in order.

    With ``ids_only``, the query sends only each process's uid (``$full`` false), and each
    row is ``{"id": uid}``: all that ids are made from, for a fraction of the work.

    Examples
    --------
    >>> from epmt_graph.db import default_graph
    >>> rows = read_process_pages(default_graph(), "job-op-roots-pages", jobids=["685000"],
    ...                           pairs=["op:hsmget"])
    >>> len(rows), rows[0]["exename"], rows[0]["tags"]["op"]
    (102, 'perl', 'hsmget')
    >>> read_process_pages(default_graph(), "job-op-roots-pages", ids_only=True,
    ...                    jobids=["685000"], pairs=["op:hsmget"])[0]
    {'id': '685000:78'}
    """
    with paused_collector():
        pages = graph.read(name, **params, pageSize=PAGE_SIZE, full=not ids_only)
        nodes = [node for page in pages for node in page["processes"]]
        if ids_only:
            return [{"id": node["uid"]} for node in nodes]
        return process_rows(nodes)


def job_row(node: Mapping[str, Any]) -> dict[str, Any]:
    """A Job node's properties as EPMT's fields, with ``proc_sums`` as a nested dict."""
    row = dict(node)
    zone = row.pop("tz", None) or "UTC"
    for stored, name in _JSON_COLUMNS.items():
        row[name] = json.loads(row.pop(stored, None) or "{}")
    row["tags"] = tags_dict(row.pop("tag_pairs", []))
    for key in ("start", "end", "submit"):
        row[key] = local_time(row.get(key), zone)
    stamps(row, zone)
    sums = {name: row.pop(name) for name in _JOB_SUMS if name in row}
    sums["all_proc_tags"] = json.loads(row.pop("all_proc_tags_json", None) or "[]")
    row["proc_sums"] = sums
    for private in ("digest", "source", "tag_pairs", "metric_names"):
        row.pop(private, None)
    return row
