"""Stored nodes as the API's rows: EPMT's field names, job-local times, tag dicts.

The one place a Job or Process node's properties become what a caller sees; the formats
(:mod:`epmt_graph.api.formats`) and the records (:mod:`epmt_graph.api.models`) start
from these rows.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from epmt_graph.schema import PROCESS_METRICS, row_properties

__all__ = ["job_row", "local_time", "process_row", "stamps", "tags_dict"]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
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


def process_row(node: Mapping[str, Any]) -> dict[str, Any]:
    """A Process node's properties (with ``tz``, ``user``, ``parent``) as EPMT's fields."""
    row = row_properties(node)
    zone = row.pop("tz", None) or "UTC"
    row.pop("threads_json", None)
    row.pop("idx", None)
    stamps(row, zone)
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
    stamps(row, zone)
    sums = {name: row.pop(name) for name in _JOB_SUMS if name in row}
    sums["all_proc_tags"] = json.loads(row.pop("all_proc_tags_json", None) or "[]")
    row["proc_sums"] = sums
    for private in ("digest", "source", "tag_pairs", "metric_names"):
        row.pop(private, None)
    return row
