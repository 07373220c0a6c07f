"""Operation durations from process intervals, with EPMT's arithmetic.

Interval merging is EPMT's ``merge_intervals``; durations follow EPMT's three
``op_duration_method`` s, in EPMT's float arithmetic so that answers match to the last bit:

``sum``
    the processes' durations added up (a parent waiting for its child counts twice);
``sum-minus-overlap``
    the length of the union of the processes' [start, end] intervals;
``finish-minus-start``
    last end minus first start.

Examples
--------
>>> merged([(5, 9, "j"), (1, 3, "j"), (3, 4, "j"), (10, 12, "j")])
[[1, 4, 'j', 'j'], [5, 9, 'j', 'j'], [10, 12, 'j', 'j']]
>>> op_duration([Extent("j", 2, 0, 10, 14, ((0, 7), (3, 10)))], "sum-minus-overlap")
10.0
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from epmt_graph.errors import QueryError

__all__ = [
    "METHODS",
    "ROW_DURATIONS",
    "Extent",
    "Span",
    "check_method",
    "merged",
    "op_duration",
    "spans_of",
]

#: EPMT's ways of giving an operation a duration.
METHODS: tuple[str, ...] = ("sum", "sum-minus-overlap", "finish-minus-start")
Span = tuple[int, int, str]  # start, end (microseconds), jobid


@dataclass(frozen=True)
class Extent:
    """Processes of one job: how many, first start, last end, summed duration (µs), and
    each one's (start, end) if fetched."""

    jobid: str
    num_procs: int
    start: int
    end: int
    duration: int
    spans: tuple[tuple[int, int], ...] = ()

    @classmethod
    def of_row(cls, row: Mapping[str, Any]) -> Extent:
        """The extent in a query row with these fields (``spans``: [start, end] pairs).

        Examples
        --------
        >>> row = {"jobid": "j", "num_procs": 2, "start": 0, "end": 10, "duration": 14,
        ...        "spans": [[0, 7], [3, 10]]}
        >>> Extent.of_row(row).spans
        ((0, 7), (3, 10))
        """
        return cls(
            row["jobid"],
            row["num_procs"],
            row["start"],
            row["end"],
            row["duration"],
            tuple((start, end) for start, end in row["spans"]),
        )


def check_method(method: str) -> str:
    """``method`` if it is one of :data:`METHODS`, else a clear :class:`QueryError`."""
    if method not in METHODS:
        raise QueryError(f"op_duration_method must be one of {', '.join(METHODS)}; got {method!r}")
    return method


def _seconds(micros: int) -> float:
    """EPMT's ``timedelta.total_seconds()``, so that the float arithmetic matches."""
    return dt.timedelta(microseconds=micros).total_seconds()


def merged(spans: Iterable[Span]) -> list[list[Any]]:
    """EPMT's ``merge_intervals``: the union of spans as sorted disjoint intervals.

    Spans that touch merge. Each interval is ``[start, end, start_job, end_job]``, the
    jobs saying whose zone each end is shown in.
    """
    out: list[list[Any]] = []
    for start, end, job in sorted(spans, key=lambda span: span[0]):
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1][1], out[-1][3] = end, job
        else:
            out.append([start, end, job, job])
    return out


def spans_of(extents: Iterable[Extent]) -> list[Span]:
    """Every process span of ``extents``, with its job."""
    return [(s, e, extent.jobid) for extent in extents for s, e in extent.spans]


def _sum(extents: list[Extent]) -> float:
    return round(_seconds(sum(e.duration for e in extents)) * 1e6, 1)


def _finish_minus_start(extents: list[Extent]) -> float:
    return round(_seconds(max(e.end for e in extents) - min(e.start for e in extents)) * 1e6, 1)


def _sum_minus_overlap(extents: list[Extent]) -> float:
    return round(sum(_seconds(i[1] - i[0]) for i in merged(spans_of(extents))) * 1e6, 1)


_DURATIONS: dict[str, Callable[[list[Extent]], float]] = {
    "sum": _sum,
    "sum-minus-overlap": _sum_minus_overlap,
    "finish-minus-start": _finish_minus_start,
}


def _float_sum(extent: Extent) -> float:
    """EPMT's SQL sum of its per-process float durations (``total_seconds() * 1e6``, not
    always whole), added one by one in start order, so that even the last bit matches."""
    total = 0.0
    for start, end in sorted(extent.spans):
        total += _seconds(end - start) * 1e6
    return total


#: get_op_metrics' per-row durations: EPMT sums floats in SQL, does not round finish-start.
ROW_DURATIONS: dict[str, Callable[[Extent], float]] = {
    "sum": _float_sum,
    "sum-minus-overlap": lambda e: _sum_minus_overlap([e]),
    "finish-minus-start": lambda e: _seconds(e.end - e.start) * 1e6,
}


def op_duration(extents: list[Extent], method: str) -> float:
    """An operation's duration in microseconds, as EPMT's ``Operation.duration``.

    ``extents`` must carry spans for ``sum-minus-overlap``; no processes give 0.0.
    """
    return _DURATIONS[method](extents) if extents else 0.0
