"""Wall-clock times in filters, read in each job's zone, as EPMT reads them.

EPMT stores a job's times as naive datetimes in the job's zone, so a naive datetime in a
``fltr`` (``eq.Process.start > datetime(2019, 6, 15, 8)``) is compared with each job's
local times. The graph keeps instants (microseconds since the epoch), so such a value is
kept as it is in the expression (:mod:`epmt_graph.api.expr`) and resolved here, when the
jobs are known: a conjunction holding one is repeated for each zone among the jobs, with
the value as that zone's instant and one more atom keeping it to that zone's jobs. The
result is still plain ``$filter`` data; no query text changes.

Examples
--------
>>> from epmt_graph.api.expr import Field
>>> start = Field("Process", "start", "start")
>>> dnf = (start > dt.datetime(2019, 6, 15, 8)).dnf()
>>> for conjunction in localized(dnf, {"685000": "US/Eastern", "12340": "UTC"}):
...     print([(a["f"], a["op"], a["v"]) for a in conjunction])
[('start', '>', 1560600000000000), ('jobid', 'in', ['685000'])]
[('start', '>', 1560585600000000), ('jobid', 'in', ['12340'])]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from epmt_graph.api.expr import field_value
from epmt_graph.db import Graph

__all__ = ["has_wall_clock", "job_zones", "localized"]

DNF = list[list[dict[str, Any]]]


def job_zones(graph: Graph, ids: list[str]) -> dict[str, str]:
    """The time zone of each of the loaded jobs among ``ids`` (``job-zones.cypher``).

    Examples
    --------
    >>> from epmt_graph.db import default_graph
    >>> job_zones(default_graph(), ["685000", "nope"])
    {'685000': 'US/Eastern'}
    """
    return {r["jobid"]: r["zone"] for r in graph.read("job-zones", jobids=ids)}


def _wall_clock(value: Any) -> bool:
    if isinstance(value, list):
        return any(map(_wall_clock, value))
    return isinstance(value, dt.datetime) and value.tzinfo is None


def has_wall_clock(dnf: DNF) -> bool:
    """Whether any atom of ``dnf`` compares with a naive datetime."""
    return any(_wall_clock(atom["v"]) for conjunction in dnf for atom in conjunction)


def _in_zone(value: Any, zone: ZoneInfo) -> Any:
    if isinstance(value, list):
        return [_in_zone(v, zone) for v in value]
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return field_value(value.replace(tzinfo=zone))
    return value


def localized(dnf: DNF, zones: Mapping[str, str]) -> DNF:
    """``dnf`` with its naive datetimes read in the zone of each job of ``zones``
    (jobid -> zone name); a conjunction without one stays as it is. With no jobs, a
    conjunction holding one matches nothing (it is left out)."""
    by_zone: dict[str, list[str]] = {}
    for jobid, name in zones.items():
        by_zone.setdefault(name, []).append(jobid)
    out = []
    for conjunction in dnf:
        if not any(_wall_clock(atom["v"]) for atom in conjunction):
            out.append(conjunction)
            continue
        for name, ids in sorted(by_zone.items()):
            zone = ZoneInfo(name)
            atoms = [{**atom, "v": _in_zone(atom["v"], zone)} for atom in conjunction]
            out.append([*atoms, {"f": "jobid", "l": None, "i": None, "op": "in", "v": sorted(ids)}])
    return out
