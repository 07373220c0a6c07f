"""Which zone a stored job's naive times are in, and the instants they name.

EPMT keeps a job's ``start``, ``end`` and ``submit`` naive, in the job's zone, and names the
zone in ``info_dict['tz']``: the zone's name when the archive's times were naive (its
environment's ``TZ``, else ``EPMT_TZ``, else ``US/Eastern``: the loader's own rule), else the
aware times' abbreviation (``IST``). For a name, the zone is that name, and naive times are
read in it as the loader reads them (:func:`~epmt_graph.loader.metadata.localize`). For an
abbreviation, the UTC offset comes from the processes: one whose raw papiex ``start`` (UTC
microseconds) EPMT kept beside its naive ``start`` gives it exactly; else it is the offset of
a zone with that abbreviation at that time, and, when several offsets have it, the one that
puts every process inside the job. The zone is then the loader's for that offset and
abbreviation (:func:`~epmt_graph.loader.metadata.zone_for`: ``Asia/Calcutta`` for IST).

Two times EPMT writes in its own machine's zone, not the job's: ``created_at``, and the times
of processes it moved from PostgreSQL's staging table (CSV v2 files, post-processed). Those
are read in ``server_tz`` (None: this machine's zone).
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Callable
from typing import Any

from epmt_graph.errors import SourceError
from epmt_graph.loader.metadata import localize, zone_for

__all__ = ["JobClock", "micros", "naive_span", "offset_zones"]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_US = dt.timedelta(microseconds=1)


def micros(naive: dt.datetime, zone: dt.tzinfo | None) -> int:
    """Microseconds since the epoch of a naive wall time in ``zone`` (None: this machine's).

    Examples
    --------
    >>> micros(dt.datetime(2019, 6, 15, 7, 52, 4, 73965), zoneinfo.ZoneInfo("US/Eastern"))
    1560599524073965
    """
    aware = naive.astimezone() if zone is None else localize(naive, zone)
    return (aware - _EPOCH) // _US


@functools.cache
def offset_zones(abbreviation: str, year: int) -> tuple[dt.timedelta, ...]:
    """The UTC offsets of the zones whose abbreviation is ``abbreviation`` in ``year``
    (January or July), sorted.

    Examples
    --------
    >>> [str(o) for o in offset_zones("IST", 2020)]
    ['1:00:00', '2:00:00', '5:30:00']
    """
    found = set()
    for name in zoneinfo.available_timezones():
        zone = zoneinfo.ZoneInfo(name)
        for month in (1, 7):
            stamp = dt.datetime(year, month, 15, 12, tzinfo=zone)
            if stamp.tzname() == abbreviation and (offset := stamp.utcoffset()) is not None:
                found.add(offset)
    return tuple(sorted(found))


class JobClock:
    """A stored job's zone: its name for the graph, and its naive times as instants.

    Parameters
    ----------
    jobid : str
    tz_name : str or None
        EPMT's ``info_dict['tz']``.
    start : datetime
        The job's naive start.
    raw_offset : callable
        Returns the offset a process gives exactly (its naive ``start`` less its raw UTC
        one), or None when no process keeps its raw start.
    span : callable
        Returns the job's processes' earliest start and latest end in UTC microseconds, or
        None when it has none.

    Raises
    ------
    SourceError
        The zone is neither a zone name nor an abbreviation whose offset can be found.
    """

    def __init__(
        self,
        jobid: str,
        tz_name: str | None,
        start: dt.datetime,
        raw_offset: Callable[[], dt.timedelta | None],
        span: Callable[[], tuple[int, int] | None],
    ) -> None:
        self.tz_name = tz_name or ""
        self._zone: dt.tzinfo
        if self.tz_name and _is_zone_name(self.tz_name):
            self.name = self.tz_name
            self._zone = zoneinfo.ZoneInfo(self.tz_name)
            return
        offset = raw_offset()
        if offset is None:
            offset = _offset_by_span(jobid, self.tz_name, start, span)
        self._zone = dt.timezone(offset, self.tz_name) if self.tz_name else dt.timezone(offset)
        self.name = zone_for(start.replace(tzinfo=self._zone))

    def micros(self, naive: dt.datetime) -> int:
        """Microseconds since the epoch of a naive time of the job."""
        return micros(naive, self._zone)


def _is_zone_name(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _offset_by_span(
    jobid: str,
    abbreviation: str,
    start: dt.datetime,
    span: Callable[[], tuple[int, int] | None],
) -> dt.timedelta:
    """The offset of ``abbreviation`` at ``start``: the only one, or the smallest that puts
    the job's start before its processes' (a smaller one would start it after some: the
    offsets of one abbreviation lie hours apart)."""
    candidates = offset_zones(abbreviation, start.year) if abbreviation else ()
    if len(candidates) == 1:
        return candidates[0]
    found = span() if candidates else None
    if found is not None:
        naive_start = (start - dt.datetime(1970, 1, 1)) // _US
        fitting = [o for o in candidates if naive_start - o // _US <= found[0]]
        if fitting:
            return fitting[0]  # the smallest offset that starts the job before its processes
    raise SourceError(
        f"job {jobid}: its times are in {abbreviation or 'an unnamed zone'!r}, whose UTC offset "
        "cannot be found"
    )


def naive_span(low: Any, high: Any, zone: dt.tzinfo | None) -> tuple[int, int]:
    """A stored span as microseconds: naive datetimes read in ``zone``, or numbers as they are.

    Examples
    --------
    >>> naive_span(1.5e15, 1.6e15, None)
    (1500000000000000, 1600000000000000)
    """
    if isinstance(low, dt.datetime):
        return micros(low, zone), micros(high, zone)
    return round(low), round(high)
