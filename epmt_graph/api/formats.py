"""The API's rows in its output formats, in one place.

The rows come from :mod:`epmt_graph.api.rows` (EPMT's fields: tags as dicts, times as
naive datetimes in the job's zone, JSON columns decoded). :func:`render` gives ``terse``
(ids), ``dict`` (list of dicts, sums lifted to top-level keys), ``pandas`` (a DataFrame
of those dicts) or ``orm`` (records). With ``merge_sums=False`` (EPMT's ``merge_proc_sums``,
``merge_threads_sums`` and ``merge_sums``), ``dict`` and ``pandas`` keep the sums nested:
a job's in ``proc_sums``, a process's in ``threads_sums``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, Protocol

import pandas as pd

from epmt_graph.api.models import Job, Process, RecordList
from epmt_graph.api.rows import paused_collector
from epmt_graph.db import Graph
from epmt_graph.errors import QueryError
from epmt_graph.schema import METRIC_SLOTS, PROCESS_PROPERTIES

__all__ = [
    "FORMATS",
    "Fmt",
    "check_fmt",
    "ids_only",
    "records",
    "render",
    "render_query",
    "threads_nested",
]

Fmt = Literal["terse", "dict", "pandas", "orm"]
FORMATS: tuple[str, ...] = ("terse", "dict", "pandas", "orm")


def check_fmt(fmt: str) -> Fmt:
    """``fmt`` if it is a known format, else a clear :class:`QueryError`."""
    if fmt not in FORMATS:
        raise QueryError(f"fmt must be one of {', '.join(FORMATS)}; got {fmt!r}")
    return fmt  # type: ignore[return-value]


def ids_only(fmt: str) -> bool:
    """Whether the format ``fmt`` shows only ids (``terse``): its rows need no other field,
    so a query for it need not fetch them.

    Examples
    --------
    >>> ids_only("terse"), ids_only("dict")
    (True, False)
    """
    return check_fmt(fmt) == "terse"


def _lifted(row: dict[str, Any]) -> dict[str, Any]:
    out = {key: value for key, value in row.items() if key != "proc_sums"}
    out.update(row.get("proc_sums", {}))
    return out


#: A process row's own fields (the rest are thread sums: the papiex metrics, and a
#: papiex file's extra ones).
_PROCESS_OWN = (set(PROCESS_PROPERTIES) - set(METRIC_SLOTS)) | {
    "id",
    "job",
    "info_dict",
    "user",
    "created_at",
    "updated_at",
}


def threads_nested(row: dict[str, Any]) -> dict[str, Any]:
    """A process row with its thread sums nested in ``threads_sums`` (EPMT's shape)."""
    out = {key: value for key, value in row.items() if key in _PROCESS_OWN}
    out["threads_sums"] = {key: value for key, value in row.items() if key not in _PROCESS_OWN}
    return out


def _as_is(row: dict[str, Any]) -> dict[str, Any]:
    return row


_Maker = Callable[[dict[str, Any], Graph], Any]
_Shape = Callable[[dict[str, Any]], dict[str, Any]]
#: Per kind: the id field, the record, the dict shape with sums merged, and nested. A
#: process row already has its sums merged: it is given out as it is.
_KINDS: dict[str, tuple[str, _Maker, _Shape, _Shape]] = {
    "process": ("id", Process, _as_is, threads_nested),
    "job": ("jobid", Job, _lifted, dict),
}


def render(
    rows: list[dict[str, Any]],
    kind: Literal["process", "job"],
    fmt: str,
    graph: Graph,
    *,
    merge_sums: bool = True,
) -> Any:
    """Rows (from :func:`process_rows` or :func:`job_row`) in the format ``fmt``; sums
    lifted to top-level keys, or nested with ``merge_sums=False``.

    The rows are the caller's to give away: ``dict`` with sums merged gives process rows
    themselves, and ``orm`` records keep them.
    """
    key, make, merged, nested = _KINDS[kind]
    flatten = merged if merge_sums else nested
    renderers: dict[str, Callable[[], Any]] = {
        "terse": lambda: [row[key] for row in rows],
        "dict": lambda: [flatten(row) for row in rows],
        "pandas": lambda: pd.DataFrame([flatten(row) for row in rows]),
        "orm": lambda: RecordList(make(row, graph) for row in rows),
    }
    render_rows = renderers[check_fmt(fmt)]
    with paused_collector():
        return render_rows()


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

    def rows(self, *, ids_only: bool = False) -> list[dict[str, Any]]: ...


def render_query(
    query: _Lazy, kind: Literal["process", "job"], fmt: str, *, merge_sums: bool = True
) -> Any:
    """A lazy query in the format ``fmt``: the query itself for ``orm``, else its rows
    rendered (see :func:`render` for ``merge_sums``; for ``terse``, rows of ids only)."""
    if check_fmt(fmt) == "orm":
        return query
    rows = query.rows(ids_only=ids_only(fmt))
    return render(rows, kind, fmt, query.graph, merge_sums=merge_sums)
