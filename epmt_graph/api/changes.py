"""Records you can change: pending changes, ``orm_commit`` and ``tag_job``, as EPMT's.

Assigning a declared field of a ``Job`` or ``Process`` record (``j.tags = {}``,
``p.start = datetime(...)``) checks the value and records the change as pending, per
graph; ``orm_commit()`` then writes every pending change at once and the records show
the new values (and ``updated_at``). Tags are stored as their canonical string and pairs;
a naive datetime is read in the job's zone (as EPMT shows times), an aware one as the
instant it is; a field a process node packs in a list (a metric in ``metrics``, ...) is
written in its slot there.

The write is copy on write (:mod:`epmt_graph.store.edits`): each changed job is copied
into a new version with its changes, and the copies are published in one transaction, so
readers see every job whole, before or after the commit. A delete or a load of a changed
job meanwhile refuses the whole commit (:class:`~epmt_graph.errors.CommitError`), and a
bad field or value is refused when assigned: nothing is written either way.

Examples
--------
>>> j = eq.Job["685000"]
>>> j.no_such_field = 1
Traceback (most recent call last):
...
epmt_graph.errors.FieldError: Job has no field 'no_such_field' that can be changed
>>> j.start = "noon"
Traceback (most recent call last):
...
epmt_graph.errors.FieldTypeError: Job.start takes a datetime, not str ('noon')
>>> orm_commit()
{}
"""

from __future__ import annotations

import datetime as dt
import time
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from epmt_graph.api.rows import local_time
from epmt_graph.api.zones import job_zones
from epmt_graph.db import Graph, default_graph
from epmt_graph.errors import CommitError, FieldError, FieldTypeError
from epmt_graph.schema import (
    JOB_PROPERTIES,
    PACKED_SLOTS,
    PROCESS_PROPERTIES,
    parse_tags,
    tag_pairs,
    tag_string,
)
from epmt_graph.store.edits import Edit, Refused, commit

__all__ = ["assign", "discard", "orm_commit", "pending"]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
#: Fields that name a record, not a value of it: never changed.
_IDENTITY = frozenset({"id", "jobid", "job"})
_TIMES = frozenset({"start", "end", "submit"})
#: Fields that may be None.
_NULLABLE = frozenset({"exitcode"})


@dataclass
class _Change:
    """The pending changes of one record: its job, its fields (API names) and the record
    objects to update once written."""

    kind: str
    key: str
    jobid: str
    fields: Mapping[str, str]
    values: dict[str, Any] = field(default_factory=dict)
    records: list[Any] = field(default_factory=list)


_PENDING: weakref.WeakKeyDictionary[Graph, dict[tuple[str, str], _Change]] = (
    weakref.WeakKeyDictionary()
)


def _checked(kind: str, name: str, prop: str, value: Any) -> Any:
    """``value`` as the record will show it, or a clear error if ``name`` takes no such."""
    label = f"{kind}.{name}"
    if name == "tags":
        if value is None or isinstance(value, str | Mapping):
            return parse_tags(value)
        raise FieldTypeError(f"{label} takes a dict or a 'k:v;k2:v2' string, not {value!r}")
    if value is None and name in _NULLABLE:
        return None
    if name in _TIMES:
        if isinstance(value, dt.datetime):
            return value
        raise FieldTypeError(
            f"{label} takes a datetime, not {type(value).__name__} ({value!r:.40})"
        )
    stored = (JOB_PROPERTIES if kind == "Job" else PROCESS_PROPERTIES).get(prop, int)
    if stored is str and isinstance(value, str):
        return value
    if stored is int and isinstance(value, int | float) and not isinstance(value, bool):
        return value
    wanted = "a string" if stored is str else "a number"
    raise FieldTypeError(f"{label} takes {wanted}, not {type(value).__name__} ({value!r:.40})")


def assign(record: Any, fields: Mapping[str, str], name: str, value: Any) -> None:
    """Check ``record.name = value`` and make it pending; show it on ``record`` at once.

    ``fields`` maps the record's API fields to stored properties.

    Raises
    ------
    FieldError
        If ``name`` is not a field of the record that can be changed (also an
        ``AttributeError``).
    FieldTypeError
        If ``value`` is of the wrong type for it (also a ``TypeError`` and ``ValueError``).
    """
    kind = type(record).__name__
    if name in _IDENTITY and name in fields:
        raise FieldError(f"{kind}.{name} cannot be changed: it names the record")
    if name not in fields:
        raise FieldError(f"{kind} has no field {name!r} that can be changed")
    shown = _checked(kind, name, fields[name], value)
    row = record._row
    key = str(row["id"] if kind == "Process" else row["jobid"])
    registry = _PENDING.setdefault(record._graph, {})
    change = registry.setdefault((kind, key), _Change(kind, key, str(row["jobid"]), fields))
    change.values[name] = shown
    if all(r is not record for r in change.records):
        change.records.append(record)
    _show(row, kind, name, shown)


def _show(row: dict[str, Any], kind: str, name: str, value: Any) -> None:
    if kind == "Job" and name in row.get("proc_sums", {}):
        row["proc_sums"][name] = value
    else:
        row[name] = value


def pending(graph: Graph | None = None) -> dict[str, dict[str, list[str]]]:
    """The changes not yet committed on ``graph``: job id -> record id -> changed fields.

    Examples
    --------
    >>> pending()
    {}
    """
    return _summary(_PENDING.get(graph or default_graph(), {}).values())


def discard(graph: Graph | None = None) -> None:
    """Drop the changes not yet committed on ``graph`` (the records keep showing them)."""
    _PENDING.pop(graph or default_graph(), None)


def _micros(value: dt.datetime, zone: str) -> int:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=ZoneInfo(zone))
    return (aware - _EPOCH) // dt.timedelta(microseconds=1)


def _stored(change: _Change, zone: str, now: int) -> dict[str, Any]:
    """A record's changes as stored properties, ``{"props": ..., "slots": ...}``."""
    props: dict[str, Any] = {"updated_at": now}
    slots = []
    for name, value in change.values.items():
        if name == "tags":
            props |= {"tags": tag_string(value), "tag_pairs": tag_pairs(value)}
        elif name in _TIMES:
            props[change.fields[name]] = _micros(value, zone)
        elif change.kind == "Process" and change.fields[name] in PACKED_SLOTS:
            prop = change.fields[name]
            slots.append([*PACKED_SLOTS[prop], value, prop])
        else:
            props[change.fields[name]] = value
    return {"props": props, "slots": slots}


def _commit_on(graph: Graph) -> dict[str, dict[str, list[str]]]:
    changes = list(_PENDING.pop(graph, {}).values())
    if not changes:
        return {}
    zones = job_zones(graph, sorted({c.jobid for c in changes}))
    now = time.time_ns() // 1000
    edits: dict[str, Edit] = {}
    for change in changes:
        edit = edits.setdefault(change.jobid, Edit(change.jobid))
        zone = zones.get(change.jobid, "UTC")
        if change.kind == "Job":
            edit.job = _stored(change, zone, now)["props"]
        else:
            edit.processes[change.key] = _stored(change, zone, now)
    missing = sorted(set(edits) - set(zones))
    try:
        if missing:
            raise Refused(missing[0], "it is not loaded (it was deleted)")
        commit(graph, list(edits.values()))
    except Refused as refused:
        raise CommitError(f"orm_commit wrote nothing: {refused}; its changes are dropped") from (
            refused
        )
    for change in changes:
        zone = zones[change.jobid]
        for record in change.records:
            for name, value in change.values.items():
                if name in _TIMES:
                    _show(record._row, change.kind, name, local_time(_micros(value, zone), zone))
            record._row["updated_at"] = local_time(now, zone)
    return _summary(changes)


def _summary(changes: Iterable[_Change]) -> dict[str, dict[str, list[str]]]:
    found: dict[str, dict[str, list[str]]] = {}
    for change in changes:
        found.setdefault(change.jobid, {})[change.key] = sorted(change.values)
    return found


def orm_commit(graph: Graph | None = None) -> dict[str, dict[str, list[str]]]:
    """Write every pending change of records (EPMT's ``orm_commit()``), all at once.

    Parameters
    ----------
    graph : Graph, optional
        Commit the changes of records of this graph only; default: of every graph.

    Returns
    -------
    dict
        What was written: job id -> record id (a job's is its job id) -> changed fields.

    Raises
    ------
    CommitError
        A changed job was deleted, or loaded again, or changed by another commit while
        this one ran (also a ``RuntimeError``): nothing is written, the changes are dropped.
    """
    graphs = [graph] if graph is not None else list(_PENDING.keys())
    written: dict[str, dict[str, list[str]]] = {}
    for each in graphs:
        written |= _commit_on(each)
    return written
