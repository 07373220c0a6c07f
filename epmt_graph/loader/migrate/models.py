"""EPMT's reference models, migrated after the jobs they were built from.

Each ``refmodels`` row becomes a ``(:RefModel)`` with EPMT's id, name, tags, operation tags,
scores (``computed``, as EPMT computed them: they are not computed again), ``enabled``,
``info_dict`` and stamps (``created_at``/``updated_at``, naive in the zone of EPMT's
machine), linked to its jobs' JobHeads (:func:`epmt_graph.store.refmodels.put_model`). A model
whose jobs are not all loaded waits for a later run.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator, Mapping
from typing import Any

from epmt_graph.db import Graph
from epmt_graph.loader.migrate.source import Source
from epmt_graph.loader.migrate.zones import micros
from epmt_graph.schema import parse_tags, tag_pairs, tag_string
from epmt_graph.store.refmodels import Put, put_model

__all__ = ["migrate_models", "model_props"]


def model_props(
    row: Mapping[str, Any], jobs: list[str], server_tz: dt.tzinfo | None
) -> dict[str, Any]:
    """The ``refmodel-create`` parameters of an EPMT ``refmodels`` row and its jobs' ids.

    Examples
    --------
    >>> row = {"id": 2, "name": None, "tags": {"exp_name": "x"}, "op_tags": [], "enabled": None,
    ...        "computed": {"z_score": {"duration": [1.4, 6.0, 2.0]}}, "info_dict": None,
    ...        "created_at": dt.datetime(2020, 1, 1), "updated_at": None}
    >>> props = model_props(row, ["b", "a"], dt.timezone.utc)
    >>> props["tags"], props["enabled"], props["created"], props["jobids"]
    ('exp_name:x', True, 1577836800000000, ['a', 'b'])
    """
    tags = parse_tags(dict(row["tags"] or {}))
    created = row["created_at"]
    return {
        "id": int(row["id"]),
        "name": row["name"],
        "tags": tag_string(tags),
        "tag_pairs": tag_pairs(tags),
        "op_tags_json": json.dumps(list(row["op_tags"] or [])),
        "computed_json": json.dumps(row["computed"] or {}),
        "info_json": json.dumps(dict(row["info_dict"] or {})),
        "enabled": True if row["enabled"] is None else bool(row["enabled"]),
        "created": time.time_ns() // 1000 if created is None else micros(created, server_tz),
        "jobids": sorted(jobs),
    }


def migrate_models(
    source: Source, graph: Graph, server_tz: dt.tzinfo | None = None, *, dry_run: bool = False
) -> Iterator[tuple[int, str | None, str]]:
    """Migrate every model of ``source``; yields each model's id, name and what was done:
    ``created``, ``unchanged``, ``taken`` (its id or name is another model's in the graph),
    ``jobs missing`` (not all its jobs are loaded yet), or ``validated`` (a dry run)."""
    for row, jobs in source.models():
        props = model_props(row, jobs, server_tz)
        if dry_run:
            yield props["id"], props["name"], "validated"
            continue
        updated = None if row["updated_at"] is None else micros(row["updated_at"], server_tz)
        done: Put = put_model(graph, props, updated)
        yield props["id"], props["name"], done.value
