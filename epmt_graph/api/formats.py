"""Graph rows to the API's output formats, in one place.

:func:`process_row` and :func:`job_row` turn a node's stored properties into EPMT's
fields (tags as dicts, times as naive datetimes in the job's zone, JSON columns decoded).
:func:`render` then gives ``terse`` (ids), ``dict`` (list of dicts, sums lifted to
top-level keys), ``pandas`` (a DataFrame of those dicts) or ``orm`` (records).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

import pandas as pd

from epmt_graph.api.models import Job, Process, RecordList
from epmt_graph.db import Graph
from epmt_graph.errors import QueryError
from epmt_graph.loader.model import PROCESS_METRICS, row_properties

__all__ = [
    "FORMATS",
    "Fmt",
    "check_fmt",
    "job_row",
    "local_time",
    "process_row",
    "records",
    "render",
    "render_query",
    "tags_dict",
]

Fmt = Literal["terse", "dict", "pandas", "orm"]
FORMATS: tuple[str, ...] = ("terse", "dict", "pandas", "orm")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_JSON_COLUMNS = {
    "env_json": "env_dict",
    "env_changes_json": "env_changes_dict",
    "info_json": "info_dict",
    "annotations_json": "annotations",
    "analyses_json": "analyses",
}
_JOB_SUMS = (*PROCESS_METRICS, "num_procs", "num_threads")


def check_fmt(fmt: str) -> Fmt:
    """``fmt`` if it is a known format, else a clear :class:`QueryError`."""
    if fmt not in FORMATS:
        raise QueryError(f"fmt must be one of {', '.join(FORMATS)}; got {fmt!r}")
    return fmt  # type: ignore[return-value]


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


def tags_dict(pairs: Iterable[str]) -> dict[str, str]:
    """``["k:v", ...]`` as ``{"k": "v", ...}``.

    Examples
    --------
    >>> tags_dict(["op:hsmget", "op_sequence:2"])
    {'op': 'hsmget', 'op_sequence': '2'}
    """
    return dict(pair.split(":", 1) for pair in pairs)


def process_row(node: Mapping[str, Any]) -> dict[str, Any]:
    """A Process node's properties (with ``tz``, ``user``, ``parent``) as EPMT's fields."""
    row = row_properties(node)
    zone = row.pop("tz", None) or "UTC"
    row.pop("threads_json", None)
    row.pop("idx", None)
    row.pop("version", None)
    row["id"] = row.pop("uid")
    row["job"] = row["jobid"]
    row["tags"] = tags_dict(row.pop("tag_pairs", []))
    row["start"] = local_time(row["start"], zone)
    row["end"] = local_time(row["end"], zone)
    row.setdefault("info_dict", {})
    row.setdefault("depth", None)
    row.setdefault("inclusive_cpu_time", None)
    return row


def job_row(node: Mapping[str, Any]) -> dict[str, Any]:
    """A Job node's properties as EPMT's fields, with ``proc_sums`` as a nested dict."""
    row = dict(node)
    zone = row.pop("tz", None) or "UTC"
    for stored, name in _JSON_COLUMNS.items():
        row[name] = json.loads(row.pop(stored, None) or "{}")
    row["tags"] = tags_dict(row.pop("tag_pairs", []))
    for key in ("start", "end", "submit"):
        row[key] = local_time(row.get(key), zone)
    sums = {name: row.pop(name) for name in _JOB_SUMS if name in row}
    sums["all_proc_tags"] = json.loads(row.pop("all_proc_tags_json", None) or "[]")
    row["proc_sums"] = sums
    for private in ("digest", "source", "tag_pairs", "version", "metric_names"):
        row.pop(private, None)
    return row


def _lifted(row: dict[str, Any]) -> dict[str, Any]:
    out = {key: value for key, value in row.items() if key != "proc_sums"}
    out.update(row.get("proc_sums", {}))
    return out


_Maker = Callable[[dict[str, Any], Graph], Any]
_KINDS: dict[str, tuple[str, _Maker, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "process": ("id", Process, dict),
    "job": ("jobid", Job, _lifted),
}


def render(
    rows: list[dict[str, Any]], kind: Literal["process", "job"], fmt: str, graph: Graph
) -> Any:
    """Rows (from :func:`process_row` or :func:`job_row`) in the format ``fmt``."""
    key, make, flatten = _KINDS[kind]
    renderers: dict[str, Callable[[], Any]] = {
        "terse": lambda: [row[key] for row in rows],
        "dict": lambda: [flatten(row) for row in rows],
        "pandas": lambda: pd.DataFrame([flatten(row) for row in rows]),
        "orm": lambda: RecordList(make(row, graph) for row in rows),
    }
    return renderers[check_fmt(fmt)]()


def records(rows: list[dict[str, Any]], fmt: str) -> Any:
    """Result rows that are not processes or jobs (operations, metrics) in the format ``fmt``.

    They have no ids and no records: ``pandas`` gives a DataFrame, every other format the
    list of dicts itself, as EPMT does for operations.
    """
    renderers: dict[str, Callable[[list[dict[str, Any]]], Any]] = {"pandas": pd.DataFrame}
    return renderers.get(check_fmt(fmt), list)(rows)


class _Lazy(Protocol):
    @property
    def graph(self) -> Graph: ...

    def rows(self) -> list[dict[str, Any]]: ...


def render_query(query: _Lazy, kind: Literal["process", "job"], fmt: str) -> Any:
    """A lazy query in the format ``fmt``: the query itself for ``orm``, else its rows rendered."""
    if check_fmt(fmt) == "orm":
        return query
    return render(query.rows(), kind, fmt, query.graph)
